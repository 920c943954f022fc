"""The calendar API's request and response bodies (pydantic): what its OpenAPI document describes."""
from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from airgap.envs.backends.calendar import EARLIEST, LATEST, MAX_EVENT, MAX_WINDOW
from airgap.envs.backends.calendar.recurrence import MAX_COUNT, MAX_INTERVAL, MAX_LINES

#: When a time may be, in every request (a 422 outside): the OpenAPI extensions every client can read.
BOUNDS = {"x-airgap-earliest": EARLIEST.isoformat().replace("+00:00", "Z"),
          "x-airgap-latest": LATEST.isoformat().replace("+00:00", "Z")}


def span(limit: timedelta, what: str, extra: str = "") -> dict:
    """Field arguments of either end of a time range (``start``, ``end``): its limits in words and as
    ``x-airgap-max-range-days`` (the most days ``end`` may be after ``start``; ``x-airgap-range`` names the pair) with
    ``x-airgap-earliest``/``x-airgap-latest``."""
    return {"description": f"ISO 8601{extra}; {what}: `end` after `start` and at most {limit.days} days after it "
                           f"(x-airgap-max-range-days), both between {EARLIEST.year} and {LATEST.year} (422 otherwise)",
            "json_schema_extra": {"x-airgap-max-range-days": limit.days, "x-airgap-range": ["start", "end"], **BOUNDS}}


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
    recurrence: list[str] | None = Field(None, description="a series' RRULE/EXDATE lines (null: a single event)")
    recurring_event_id: int | None = Field(None, description="an instance of a series: the series' id (`id` is "
                                           "that id too); null for a single event or the series itself")
    instance_id: str | None = Field(None, description="an instance: `<series id>_<original start, UTC "
                                    "YYYYMMDDTHHMMSSZ>`, usable in /api/events/{id}/instances/{instance}")
    original_start: str | None = Field(None, description="an instance: where the rule put it (UTC), even if moved")


NAIVE = " (without an offset it is read in `timezone`)"
EVENT_SPAN = span(MAX_EVENT, "an event", NAIVE)
WINDOW_SPAN = span(MAX_WINDOW, "a free/busy query", NAIVE)


RecurrenceLine = Annotated[str, Field(min_length=1, max_length=2000)]
RECURRENCE = ("a repeating event, as Google Calendar's API takes it: one `RRULE:` line (RFC 5545; FREQ=DAILY, WEEKLY "
              f"or MONTHLY; INTERVAL up to {MAX_INTERVAL}, COUNT up to {MAX_COUNT} or UNTIL, BYDAY) and any `EXDATE:` "
              "lines (original starts left out: 20250317T150000Z in UTC, or local with ;TZID=), e.g. "
              '["RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=6", "EXDATE:20250317T150000Z"]. The rule runs in `timezone` (the '
              "wall-clock time stays across daylight saving); `start`/`end` are the first instance. 422 otherwise")


class EventIn(Strict):
    title: str = Field(min_length=1, max_length=300)
    start: datetime = Field(**EVENT_SPAN)
    end: datetime = Field(**EVENT_SPAN)
    timezone: str | None = Field(None, max_length=64, description="IANA zone, e.g. Europe/Berlin; default yours")
    description: str = Field("", max_length=20_000)
    location: str = Field("", max_length=300)
    attendees: list[str] = Field(default_factory=list, max_length=50, description="usernames or e-mail addresses")
    recurrence: list[RecurrenceLine] | None = Field(None, max_length=MAX_LINES, description=RECURRENCE)


class EventPatch(Strict):
    title: str | None = Field(None, min_length=1, max_length=300)
    start: datetime | None = Field(None, **EVENT_SPAN)
    end: datetime | None = Field(None, **EVENT_SPAN)
    timezone: str | None = Field(None, max_length=64)
    description: str | None = Field(None, max_length=20_000)
    location: str | None = Field(None, max_length=300)
    add_attendees: list[str] = Field(default_factory=list, max_length=50)
    remove_attendees: list[str] = Field(default_factory=list, max_length=50)
    recurrence: list[RecurrenceLine] | None = Field(None, max_length=MAX_LINES, description=(
        "replace a series' rule ([] makes it a single event); changing the rule or moving the series drops the "
        "changes made to single instances"))


class InstancePatch(Strict):
    """One instance of a series, changed on its own (stored as an exception; the other instances keep the series)."""
    title: str | None = Field(None, min_length=1, max_length=300)
    start: datetime | None = Field(None, **EVENT_SPAN)
    end: datetime | None = Field(None, **EVENT_SPAN)
    timezone: str | None = Field(None, max_length=64, description="zone of naive start/end; default the series'")
    description: str | None = Field(None, max_length=20_000)
    location: str | None = Field(None, max_length=300)


class RespondIn(Strict):
    status: Literal["accepted", "declined", "tentative"]
    comment: str | None = Field(None, max_length=2000)


class FreeBusyIn(Strict):
    users: list[str] = Field(min_length=1, max_length=50, description="usernames or e-mail addresses")
    start: datetime = Field(**WINDOW_SPAN)
    end: datetime = Field(**WINDOW_SPAN)
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
