"""The calendar backend's HTTP routes, one APIRouter per area.

The calendar backend's HTTP routes, one APIRouter per area: ``people_api`` (who you are, the directory), ``events_api``
(list, read, create, change, cancel), ``invitations_api`` (answer, list), ``freebusy_api`` and ``pages`` (the week agenda and
an event's page). Handlers get the backend serving the request as ``b`` and the caller as ``user``."""
import json
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse

from airgap.envs.backends.calendar import (
    MAX_EVENT,
    MAX_WINDOW,
    CalendarBackend,
    aware,
    recurrence,
    zone,
)
from airgap.envs.backends.calendar.dav import dav
from airgap.envs.backends.calendar.model import (
    EventIn,
    EventList,
    EventOut,
    EventPatch,
    FreeBusyIn,
    FreeBusyOut,
    InstancePatch,
    PersonOut,
    RespondIn,
    span,
)
from airgap.envs.backends.web import ApiError, BearerAuth, current_backend, html_page, page_user
from airgap.envs.common import iso, parse_iso

Calendar = Annotated[CalendarBackend, Depends(current_backend)]
people_api = APIRouter(prefix="/api")
events_api = APIRouter(prefix="/api")
invitations_api = APIRouter(prefix="/api")
freebusy_api = APIRouter(prefix="/api")
pages = APIRouter(include_in_schema=False)

User = Annotated[str, Depends(BearerAuth())]
PageUser = Annotated[str, Depends(page_user)]
EventId = Annotated[int, PathParam(ge=1, le=2**62)]
Instance = Annotated[str, PathParam(min_length=1, max_length=64, description="an instance's original start in UTC, "
                                    "20250317T150000Z (or its instance_id, <event id>_20250317T150000Z)")]
Tz = Annotated[str | None, Query(max_length=64, description="IANA zone for *_local fields; default yours")]
_WINDOW = span(MAX_WINDOW, "the window", " (without an offset it is read in `tz`)")
WindowStart = Annotated[datetime | None, Query(description=_WINDOW["description"] + "; default: a day ago",
                                               json_schema_extra=_WINDOW["json_schema_extra"])]
WindowEnd = Annotated[datetime | None, Query(description=_WINDOW["description"] + "; default: 30 days after start",
                                             json_schema_extra=_WINDOW["json_schema_extra"])]


@people_api.get("/me", response_model=PersonOut, tags=["people"])
def me(b: Calendar, user: User) -> dict:
    """You, with your time zone."""
    with b.read() as db:
        return dict(b._person(db, user))


@people_api.get("/users", response_model=list[PersonOut], tags=["people"])
def users(b: Calendar, user: User, q: Annotated[str | None, Query(max_length=100)] = None) -> list:
    """The people whose calendars you can invite and query for free/busy."""
    with b.read() as db:
        rows = db.execute("SELECT * FROM calendars ORDER BY username").fetchall()
    return [dict(r) for r in rows if not q or q.lower() in (r["name"] + " " + r["email"]).lower()]


@events_api.get("/events", response_model=EventList, tags=["events"])
def list_events(b: Calendar, user: User, start: WindowStart = None, end: WindowEnd = None, tz: Tz = None,
                include_cancelled: bool = False) -> dict:
    """Your events (organised or invited to) overlapping [start, end); default: the next 30 days. One request covers
    at most 92 days: ask for a longer time in windows of up to 92 days. A repeating event is expanded: each of its
    instances in the window is one entry (`recurring_event_id`, `instance_id`, its own `start`/`end`)."""
    with b.read() as db:
        tz_name, s, e = _window(b, db, user, start, end, tz)
        return {"start": s, "end": e, "events": b.events_between(db, user, s, e, tz_name, include_cancelled)}


def _window(b: CalendarBackend, db, user: str, start: datetime | None, end: datetime | None,
            tz: str | None) -> tuple[str, str, str]:
    """A listing's zone and [start, end) in UTC: default a day ago and 30 days on, at most 92 days (422 otherwise)."""
    tz_name = tz or b._tz_of(db, user)
    z = zone(tz_name)
    s = aware(start, z, "start") if start else b.now(db) - timedelta(days=1)
    e = aware(end, z, "end") if end else s + timedelta(days=30)
    if e <= s or e - s > MAX_WINDOW:
        raise ApiError(422, f"end must be after start, at most {MAX_WINDOW.days} days later")
    return tz_name, iso(s), iso(e)


@events_api.get("/events/{event_id}", response_model=EventOut, tags=["events"])
def get_event(b: Calendar, event_id: EventId, user: User, tz: Tz = None) -> dict:
    """One event you organise or are invited to."""
    with b.read() as db:
        return b._out(db, b._visible(db, user, event_id), user, tz or b._tz_of(db, user))


@events_api.post("/events", response_model=EventOut, status_code=201, tags=["events"])
def create_event(b: Calendar, body: EventIn, user: User, request: Request) -> dict:
    """Create an event (at most 14 days long); each attendee gets an invitation (status needs-action). With
    `recurrence` it repeats (a series: `start`/`end` are its first instance; listings expand it)."""
    with b.write(request) as db:
        event_id = create(b, db, user, body)
        return b._out(db, b._visible(db, user, event_id), user, body.timezone or b._tz_of(db, user))


def create(b: CalendarBackend, db, user: str, body: EventIn, uid: str | None = None) -> int:
    """Insert the event ``body`` organised by ``user`` (and its invitations) in the open transaction ``db``; its id.
    ``uid``: the iCalendar UID a CalDAV client chose (default: one made here). Shared by the JSON API and CalDAV."""
    tz_name = body.timezone or b._tz_of(db, user)
    z = zone(tz_name)
    s, e = b._span(body.start, body.end, z, MAX_EVENT, "an event")
    rec = _recurrence(body.recurrence, s, z)
    now = b.now_iso(db)
    n = db.execute("SELECT value FROM _meta WHERE key = 'ticks'").fetchone()[0]
    cur = db.execute("INSERT INTO events (uid, organizer, title, description, location, start, \"end\", "
                     "timezone, status, created, updated, recurrence) VALUES (?,?,?,?,?,?,?,?,'confirmed',?,?,?)",
                     (uid or f"ev{n}-{user}@{b.facts.org.domain}", user, body.title, body.description,
                      body.location, s, e, tz_name, now, now, rec))
    for who in body.attendees:
        p = b._person(db, who)
        if p["username"] != user:
            db.execute("INSERT OR IGNORE INTO attendees (event, username, status) VALUES (?, ?, 'needs-action')",
                       (cur.lastrowid, p["username"]))
    return int(cur.lastrowid)


@events_api.patch("/events/{event_id}", response_model=EventOut, tags=["events"])
def update_event(b: Calendar, event_id: EventId, body: EventPatch, user: User, request: Request) -> dict:
    """Change an event you organise (a series: every instance). Moving it resets every answer to needs-action."""
    with b.write(request) as db:
        tz_name = update(b, db, user, event_id, body)
        return b._out(db, b._visible(db, user, event_id), user, tz_name)


def update(b: CalendarBackend, db, user: str, event_id: int, body: EventPatch) -> str:
    """Apply ``body`` to event ``event_id`` (organiser only) in the open transaction ``db``; the event's zone."""
    ev = b._visible(db, user, event_id)
    if ev["organizer"] != user:
        raise ApiError(403, "only the organizer can change this event; answer the invitation instead")
    if ev["status"] == "cancelled":
        raise ApiError(409, "the event is cancelled", "conflict")
    tz_name = body.timezone or ev["timezone"]
    z = zone(tz_name)
    start = body.start if body.start is not None else parse_iso(ev["start"])
    end = body.end if body.end is not None else parse_iso(ev["end"])
    s, e = b._span(start, end, z, MAX_EVENT, "an event")
    fields = {"title": body.title, "description": body.description, "location": body.location}
    sets = {k: v for k, v in fields.items() if v is not None}
    sets.update(start=s, end=e, timezone=tz_name, updated=b.now_iso(db))
    lines = recurrence.load(ev["recurrence"]) if body.recurrence is None else body.recurrence
    sets["recurrence"] = _recurrence(lines or None, s, z)
    if (s, e, tz_name, sets["recurrence"]) != (ev["start"], ev["end"], ev["timezone"], ev["recurrence"]):
        db.execute("DELETE FROM event_exceptions WHERE event = ?", (event_id,))  # the instances they named moved
    assignments = ", ".join('"' + k + '" = ?' for k in sets)
    db.execute(f"UPDATE events SET {assignments} WHERE id = ?", (*sets.values(), event_id))
    if (s, e) != (ev["start"], ev["end"]):
        db.execute("UPDATE attendees SET status = 'needs-action', responded_at = NULL WHERE event = ?",
                   (event_id,))
    for who in body.remove_attendees:
        p = b._person(db, who)
        db.execute("DELETE FROM attendees WHERE event = ? AND username = ?", (event_id, p["username"]))
    for who in body.add_attendees:
        p = b._person(db, who)
        if p["username"] != user:
            db.execute("INSERT OR IGNORE INTO attendees (event, username, status) VALUES (?, ?, 'needs-action')",
                       (event_id, p["username"]))
    return tz_name


@events_api.delete("/events/{event_id}", response_model=EventOut, tags=["events"])
def cancel_event(b: Calendar, event_id: EventId, user: User, request: Request) -> dict:
    """Cancel an event you organise (attendees see it as cancelled); a series: every instance of it."""
    with b.write(request) as db:
        cancel(b, db, user, event_id)
        return b._out(db, b._visible(db, user, event_id), user, b._tz_of(db, user))


def cancel(b: CalendarBackend, db, user: str, event_id: int) -> None:
    """Cancel event ``event_id`` (organiser only) in the open transaction ``db``."""
    ev = b._visible(db, user, event_id)
    if ev["organizer"] != user:
        raise ApiError(403, "only the organizer can cancel this event; decline it instead")
    db.execute("UPDATE events SET status = 'cancelled', updated = ? WHERE id = ?", (b.now_iso(db), event_id))


@invitations_api.post("/events/{event_id}/respond", response_model=EventOut, tags=["invitations"])
def respond(b: Calendar, event_id: EventId, body: RespondIn, user: User, request: Request) -> dict:
    """Accept, decline or tentatively accept an invitation."""
    with b.write(request) as db:
        answer(b, db, user, event_id, body)
        return b._out(db, b._visible(db, user, event_id), user, b._tz_of(db, user))


def answer(b: CalendarBackend, db, user: str, event_id: int, body: RespondIn) -> None:
    """``user``'s answer to the invitation to ``event_id``, in the open transaction ``db``."""
    ev = b._visible(db, user, event_id)
    if ev["organizer"] == user:
        raise ApiError(422, "you organise this event: there is no invitation to answer")
    if ev["status"] == "cancelled":
        raise ApiError(409, "the event is cancelled", "conflict")
    db.execute("UPDATE attendees SET status = ?, comment = ?, responded_at = ? WHERE event = ? AND username = ?",
               (body.status, body.comment, b.now_iso(db), event_id, user))


@invitations_api.get("/invitations", response_model=list[EventOut], tags=["invitations"])
def invitations(b: Calendar, user: User, tz: Tz = None) -> list:
    """Upcoming invitations you have not answered (a series once: the answer covers all its instances)."""
    with b.read() as db:
        tz_name = tz or b._tz_of(db, user)
        zone(tz_name)
        rows = db.execute("SELECT e.* FROM events e JOIN attendees a ON a.event = e.id WHERE a.username = ? AND "
                          "a.status = 'needs-action' AND e.status = 'confirmed' AND (e.\"end\" > ? OR "
                          "e.recurrence IS NOT NULL) ORDER BY e.start", (user, now := b.now_iso(db))).fetchall()
        return [b._out(db, r, user, tz_name) for r in rows if b.ends_after(db, r, now)]


@freebusy_api.post("/freebusy", response_model=FreeBusyOut, tags=["free/busy"])
def freebusy(b: Calendar, body: FreeBusyIn, user: User) -> dict:
    """When each person is busy between start and end (merged intervals; declined invitations are free); at most
    92 days and 50 people per query."""
    with b.read() as db:
        tz_name = body.timezone or b._tz_of(db, user)
        z = zone(tz_name)
        s, e = b._span(body.start, body.end, z, MAX_WINDOW, "a free/busy query")
        out: dict[str, list[dict]] = {}
        for who in body.users:
            p = b._person(db, who)
            out[p["username"]] = [{"start": a, "end": b, "start_local": parse_iso(a).astimezone(z).isoformat(),
                                   "end_local": parse_iso(b).astimezone(z).isoformat()}
                                  for a, b in b.busy(db, p["username"], s, e)]
        return {"start": s, "end": e, "timezone": tz_name, "busy": out}


def _recurrence(lines: list[str] | None, start: str, z) -> str | None:
    """Checked ``recurrence`` lines as stored (JSON), or None for a single event (422 naming what is wrong)."""
    if not lines:
        return None
    rule = recurrence.parse(lines, z)
    recurrence.check_start(rule, parse_iso(start).astimezone(z))
    return json.dumps(lines)


def _series(b: CalendarBackend, db, user: str, event_id: int, organizer: bool = False):
    ev = b._visible(db, user, event_id)
    if ev["recurrence"] is None:
        raise ApiError(422, f"event {event_id} does not repeat: change it with /api/events/{event_id}")
    if organizer and ev["organizer"] != user:
        raise ApiError(403, "only the organizer can change this event; answer the invitation instead")
    if organizer and ev["status"] == "cancelled":
        raise ApiError(409, "the event is cancelled", "conflict")
    return ev


def _instance(b: CalendarBackend, db, ev, instance: str) -> str:
    """The original start (UTC ISO) an instance path names, 404 if the series has no such instance."""
    when = recurrence.parse_instance(instance, ev["id"])
    if not recurrence.occurs(b.rule(ev), b.dtstart(ev), when):
        raise ApiError(404, f"event {ev['id']} has no instance starting {iso(when)} (GET "
                            f"/api/events/{ev['id']}/instances lists them)")
    return iso(when)


def _instance_out(b: CalendarBackend, db, ev, user: str, original: str, tz_name: str) -> dict:
    length = parse_iso(ev["end"]) - parse_iso(ev["start"])
    r = db.execute("SELECT * FROM event_exceptions WHERE event = ? AND original_start = ?", (ev["id"], original)).fetchone()
    inst = {"original_start": original, "start": original, "end": iso(parse_iso(original) + length),
            "status": ev["status"]}
    if r is not None:
        inst.update(start=r["start"] or original, end=r["end"] or inst["end"], title=r["title"],
                    description=r["description"], location=r["location"], updated=r["updated"],
                    status="cancelled" if "cancelled" in (r["status"], ev["status"]) else "confirmed")
    return b._out(db, ev, user, tz_name, inst)


@events_api.get("/events/{event_id}/instances", response_model=EventList, tags=["events"])
def list_instances(b: Calendar, event_id: EventId, user: User, start: WindowStart = None, end: WindowEnd = None,
                   tz: Tz = None, include_cancelled: bool = False) -> dict:
    """The instances of a repeating event in [start, end) (default: the next 30 days, at most 92 days), with the
    changes made to single instances applied."""
    with b.read() as db:
        ev = _series(b, db, user, event_id)
        tz_name, s, e = _window(b, db, user, start, end, tz)
        return {"start": s, "end": e, "events": [b._out(db, ev, user, tz_name, i)
                                                 for i in b.instances(db, ev, s, e, include_cancelled)]}


@events_api.get("/events/{event_id}/instances/{instance}", response_model=EventOut, tags=["events"])
def get_instance(b: Calendar, event_id: EventId, instance: Instance, user: User, tz: Tz = None) -> dict:
    """One instance of a repeating event, by its original start (or its `instance_id`)."""
    with b.read() as db:
        ev = _series(b, db, user, event_id)
        return _instance_out(b, db, ev, user, _instance(b, db, ev, instance), tz or b._tz_of(db, user))


@events_api.patch("/events/{event_id}/instances/{instance}", response_model=EventOut, tags=["events"])
def update_instance(b: Calendar, event_id: EventId, instance: Instance, body: InstancePatch, user: User,
                    request: Request) -> dict:
    """Move or edit one instance of a series you organise; the others keep the series' time and text (stored as an
    exception of the series)."""
    with b.write(request) as db:
        ev, original = update_one(b, db, user, event_id, instance, body)
        return _instance_out(b, db, ev, user, original, b._tz_of(db, user))


def update_one(b: CalendarBackend, db, user: str, event_id: int, instance: str, body: InstancePatch):
    """Move or edit one instance of a series ``user`` organises, in the open transaction ``db``: (series row,
    the instance's original start)."""
    ev = _series(b, db, user, event_id, organizer=True)
    original = _instance(b, db, ev, instance)
    old = db.execute("SELECT * FROM event_exceptions WHERE event = ? AND original_start = ?",
                     (event_id, original)).fetchone()
    if old is not None and old["status"] == "cancelled":
        raise ApiError(409, f"the instance of {original} is cancelled", "conflict")
    length = parse_iso(ev["end"]) - parse_iso(ev["start"])
    z = zone(body.timezone or ev["timezone"])
    start = body.start if body.start is not None else parse_iso((old and old["start"]) or original)
    end = body.end if body.end is not None else (
        parse_iso(old["end"]) if old is not None and old["end"] else start + length if body.start is not None
        else parse_iso(original) + length)
    s, e = b._span(start, end, z, MAX_EVENT, "an event")
    keep = {k: (getattr(body, k) if getattr(body, k) is not None else (old[k] if old is not None else None))
            for k in ("title", "description", "location")}
    db.execute("INSERT INTO event_exceptions (event, original_start, status, start, \"end\", title, description, "
               "location, updated) VALUES (?,?,'confirmed',?,?,?,?,?,?) ON CONFLICT (event, original_start) DO "
               "UPDATE SET start = excluded.start, \"end\" = excluded.\"end\", title = excluded.title, "
               "description = excluded.description, location = excluded.location, updated = excluded.updated",
               (event_id, original, s, e, keep["title"], keep["description"], keep["location"], b.now_iso(db)))
    return ev, original


@events_api.delete("/events/{event_id}/instances/{instance}", response_model=EventOut, tags=["events"])
def cancel_instance(b: Calendar, event_id: EventId, instance: Instance, user: User, request: Request) -> dict:
    """Cancel one instance of a series you organise (the others stay); stored as an exception of the series."""
    with b.write(request) as db:
        ev, original = cancel_one(b, db, user, event_id, instance)
        return _instance_out(b, db, ev, user, original, b._tz_of(db, user))


def cancel_one(b: CalendarBackend, db, user: str, event_id: int, instance: str):
    """Cancel one instance of a series ``user`` organises, in the open transaction ``db``: (series row, original start)."""
    ev = _series(b, db, user, event_id, organizer=True)
    original = _instance(b, db, ev, instance)
    db.execute("INSERT INTO event_exceptions (event, original_start, status, updated) VALUES (?,?,'cancelled',?) "
               "ON CONFLICT (event, original_start) DO UPDATE SET status = 'cancelled', updated = excluded.updated",
               (event_id, original, b.now_iso(db)))
    return ev, original


# ---------------------------------------------------------- HTML
@pages.get("/", response_class=HTMLResponse)
def agenda(b: Calendar, request: Request, user: PageUser, week: Annotated[int, Query(ge=-52, le=52)] = 0,
           tz: Annotated[str | None, Query(max_length=64)] = None) -> HTMLResponse:
    """The week agenda (this week, or ``week`` weeks away) in your zone or ``tz``."""
    with b.read() as db:
        tz_name = tz or b._tz_of(db, user)
        z = zone(tz_name)
        now = b.now(db).astimezone(z)
        monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0) + timedelta(weeks=week)
        evs = b.events_between(db, user, iso(monday), iso(monday + timedelta(days=7)), tz_name)
    return html_page(request, "calendar/agenda.html.j2", "Calendar", [("/", "This week")], user,
                     events=evs, monday=monday, tz_name=tz_name, week=week)


@pages.get("/event/{event_id}", response_class=HTMLResponse)
def event_page(b: Calendar, event_id: EventId, request: Request, user: PageUser) -> HTMLResponse:
    """One event: when, where, who organises it and who answered what."""
    with b.read() as db:
        e = b._out(db, b._visible(db, user, event_id), user, b._tz_of(db, user))
    return html_page(request, "calendar/event.html.j2", e["title"], [("/", "This week")], user, e=e)


routers = [people_api, events_api, invitations_api, freebusy_api, pages, dav]
