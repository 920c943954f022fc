"""The calendar API's request and response bodies (pydantic): what its OpenAPI document describes."""
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PersonOut(BaseModel):
    username: str
    name: str
    email: str
    timezone: str


class AttendeeOut(PersonOut):
    status: Literal["needs-action", "accepted", "declined", "tentative"]
    comment: str | None


class EventOut(BaseModel):
    id: int
    uid: str
    title: str
    description: str
    location: str
    status: Literal["confirmed", "cancelled"]
    organizer: PersonOut
    start: str = Field(description="UTC, ISO 8601")
    end: str
    timezone: str = Field(description="the zone the event was planned in")
    display_timezone: str = Field(description="the zone of start_local / end_local (?tz=, default yours)")
    start_local: str
    end_local: str
    attendees: list[AttendeeOut]
    my_status: str = Field(description="organizer, needs-action, accepted, declined or tentative")
    created: str
    updated: str


class EventIn(Strict):
    title: str = Field(min_length=1, max_length=300)
    start: datetime = Field(description="ISO 8601; without an offset it is read in `timezone`")
    end: datetime
    timezone: str | None = Field(None, max_length=64, description="IANA zone, e.g. Europe/Berlin; default yours")
    description: str = Field("", max_length=20_000)
    location: str = Field("", max_length=300)
    attendees: list[str] = Field(default_factory=list, max_length=50, description="usernames or e-mail addresses")


class EventPatch(Strict):
    title: str | None = Field(None, min_length=1, max_length=300)
    start: datetime | None = None
    end: datetime | None = None
    timezone: str | None = Field(None, max_length=64)
    description: str | None = Field(None, max_length=20_000)
    location: str | None = Field(None, max_length=300)
    add_attendees: list[str] = Field(default_factory=list, max_length=50)
    remove_attendees: list[str] = Field(default_factory=list, max_length=50)


class RespondIn(Strict):
    status: Literal["accepted", "declined", "tentative"]
    comment: str | None = Field(None, max_length=2000)


class FreeBusyIn(Strict):
    users: list[str] = Field(min_length=1, max_length=50, description="usernames or e-mail addresses")
    start: datetime
    end: datetime
    timezone: str | None = Field(None, max_length=64, description="zone for naive times and for the *_local fields")


class Busy(BaseModel):
    start: str
    end: str
    start_local: str
    end_local: str


class FreeBusyOut(BaseModel):
    start: str
    end: str
    timezone: str
    busy: dict[str, list[Busy]] = Field(description="username -> busy intervals (merged), no event details")


class EventList(BaseModel):
    start: str
    end: str
    events: list[EventOut]
