"""The calendar backend: events in time zones, invitations with accept/decline, free/busy across people."""
import sqlite3
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Depends, FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from airgap.envs.backends.base import register_backend
from airgap.envs.backends.sqlstore import SqliteBackend
from airgap.envs.backends.web import Accounts, ApiError, BearerAuth, Linker, esc, html_response, page_user, table
from airgap.envs.common import iso, parse_iso
from airgap.envs.worldgen import WorldFacts

MAX_EVENT = timedelta(days=14)
MAX_WINDOW = timedelta(days=92)
EARLIEST, LATEST = datetime(1990, 1, 1, tzinfo=timezone.utc), datetime(2100, 1, 1, tzinfo=timezone.utc)

SCHEMA = """
CREATE TABLE calendars (username TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL, timezone TEXT NOT NULL);
CREATE TABLE events (id INTEGER PRIMARY KEY, uid TEXT NOT NULL UNIQUE, organizer TEXT NOT NULL, title TEXT NOT NULL,
                     description TEXT NOT NULL, location TEXT NOT NULL, start TEXT NOT NULL, "end" TEXT NOT NULL,
                     timezone TEXT NOT NULL, status TEXT NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL);
CREATE INDEX events_time ON events (start, "end");
CREATE TABLE attendees (id INTEGER PRIMARY KEY, event INTEGER NOT NULL, username TEXT NOT NULL, status TEXT NOT NULL,
                        comment TEXT, responded_at TEXT, UNIQUE (event, username));
CREATE INDEX attendees_user ON attendees (username);
"""


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


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        raise ApiError(422, f"unknown time zone {name!r} (use an IANA name such as America/New_York)") from None


def aware(dt: datetime, tz: ZoneInfo, what: str) -> datetime:
    try:
        out = (dt.replace(tzinfo=tz) if dt.tzinfo is None else dt).astimezone(timezone.utc)
    except (OverflowError, ValueError):
        out = None
    if out is None or not (EARLIEST <= out <= LATEST):
        raise ApiError(422, f"{what} must be between {EARLIEST.year} and {LATEST.year}")
    return out


@register_backend
class CalendarBackend(SqliteBackend):
    name = "calendar"
    title = "Calendar"
    schema = SCHEMA
    api_description = ("Calendars of the organisation's people. Times are UTC in `start`/`end`; `*_local` fields are in "
                       "?tz= (default: your zone). Invitations are answered with POST /api/events/{id}/respond.")

    def hosts_for(self, facts: WorldFacts) -> list[str]:
        return [f"calendar.{facts.org.domain}"]

    def seed(self, db: sqlite3.Connection) -> None:
        f = self.facts
        db.executemany("INSERT INTO calendars VALUES (?, ?, ?, ?)",
                       [(p.username, p.email, p.name, p.timezone) for p in f.people])
        created = iso(parse_iso(f.now) - timedelta(days=30))
        for e in f.events:
            cur = db.execute("INSERT INTO events (uid, organizer, title, description, location, start, \"end\", timezone, "
                             "status, created, updated) VALUES (?,?,?,?,?,?,?,?,'confirmed',?,?)",
                             (e.uid, e.organizer, e.title, e.description, e.location, e.start, e.end, e.timezone,
                              created, created))
            db.executemany("INSERT INTO attendees (event, username, status) VALUES (?, ?, ?)",
                           [(cur.lastrowid, a.username, a.status) for a in e.attendees])

    # -------------------------------------------------------------- helpers
    def _person(self, db: sqlite3.Connection, who: str) -> sqlite3.Row:
        row = db.execute("SELECT * FROM calendars WHERE username = ? OR email = lower(?)", (who, who)).fetchone()
        if row is None:
            raise ApiError(422, f"unknown person {who!r} (give a username or an e-mail address of this organisation)")
        return row

    def _tz_of(self, db: sqlite3.Connection, user: str) -> str:
        return db.execute("SELECT timezone FROM calendars WHERE username = ?", (user,)).fetchone()[0]

    def _visible(self, db: sqlite3.Connection, user: str, eid: int) -> sqlite3.Row:
        row = db.execute("SELECT * FROM events WHERE id = ? AND (organizer = ? OR EXISTS (SELECT 1 FROM attendees "
                         "WHERE event = events.id AND username = ?))", (eid, user, user)).fetchone()
        if row is None:
            raise ApiError(404, f"event {eid} not found")
        return row

    def _out(self, db: sqlite3.Connection, e: sqlite3.Row, user: str, tz_name: str) -> dict[str, Any]:
        tz = zone(tz_name)
        pdict = lambda r: {"username": r["username"], "name": r["name"], "email": r["email"], "timezone": r["timezone"]}  # noqa: E731
        org = db.execute("SELECT * FROM calendars WHERE username = ?", (e["organizer"],)).fetchone()
        atts = db.execute("SELECT a.status, a.comment, c.* FROM attendees a JOIN calendars c ON c.username = a.username "
                          "WHERE a.event = ? ORDER BY a.id", (e["id"],)).fetchall()
        mine = "organizer" if e["organizer"] == user else next((a["status"] for a in atts if a["username"] == user), "")
        local = lambda s: parse_iso(s).astimezone(tz).isoformat()  # noqa: E731
        return {"id": e["id"], "uid": e["uid"], "title": e["title"], "description": e["description"],
                "location": e["location"], "status": e["status"], "organizer": pdict(org), "start": e["start"],
                "end": e["end"], "timezone": e["timezone"], "display_timezone": tz_name, "start_local": local(e["start"]),
                "end_local": local(e["end"]), "my_status": mine, "created": e["created"], "updated": e["updated"],
                "attendees": [{**pdict(a), "status": a["status"], "comment": a["comment"]} for a in atts]}

    def _span(self, start: datetime, end: datetime, tz: ZoneInfo, limit: timedelta, what: str) -> tuple[str, str]:
        s, e = aware(start, tz, "start"), aware(end, tz, "end")
        if e <= s:
            raise ApiError(422, "end must be after start")
        if e - s > limit:
            raise ApiError(422, f"{what} may span at most {limit.days} days")
        return iso(s), iso(e)

    def events_between(self, db: sqlite3.Connection, user: str, start: str, end: str, tz: str,
                       include_cancelled: bool = False) -> list[dict]:
        rows = db.execute(
            "SELECT * FROM events WHERE start < ? AND \"end\" > ? AND (organizer = ? OR EXISTS (SELECT 1 FROM attendees "
            "WHERE event = events.id AND username = ?))" + ("" if include_cancelled else " AND status = 'confirmed'")
            + " ORDER BY start, id", (end, start, user, user)).fetchall()
        return [self._out(db, r, user, tz) for r in rows]

    def busy(self, db: sqlite3.Connection, username: str, start: str, end: str) -> list[tuple[str, str]]:
        rows = db.execute(
            "SELECT start, \"end\" FROM events e WHERE status = 'confirmed' AND start < ? AND \"end\" > ? AND "
            "(organizer = ? OR EXISTS (SELECT 1 FROM attendees a WHERE a.event = e.id AND a.username = ? AND "
            "a.status != 'declined')) ORDER BY start", (end, start, username, username)).fetchall()
        merged: list[list[str]] = []
        for s, e in rows:
            s, e = max(s, start), min(e, end)
            if merged and s <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        return [(s, e) for s, e in merged]

    # -------------------------------------------------------------- routes
    def routes(self, app: FastAPI) -> None:
        aliases = {p.email: p.username for p in self.facts.people}
        accounts = Accounts.for_service(self.facts, self.name, aliases)
        User = Annotated[str, Depends(BearerAuth(accounts))]
        PageUser = Annotated[str, Depends(page_user(accounts))]
        EventId = Annotated[int, PathParam(ge=1, le=2**62)]
        Tz = Annotated[str | None, Query(max_length=64, description="IANA zone for *_local fields; default yours")]

        @app.get("/api/me", response_model=PersonOut, tags=["people"])
        def me(user: User) -> dict:
            """You, with your time zone."""
            with self.read() as db:
                return dict(self._person(db, user))

        @app.get("/api/users", response_model=list[PersonOut], tags=["people"])
        def users(user: User, q: Annotated[str | None, Query(max_length=100)] = None) -> list:
            """The people whose calendars you can invite and query for free/busy."""
            with self.read() as db:
                rows = db.execute("SELECT * FROM calendars ORDER BY username").fetchall()
            return [dict(r) for r in rows if not q or q.lower() in (r["name"] + " " + r["email"]).lower()]

        @app.get("/api/events", response_model=EventList, tags=["events"])
        def list_events(user: User, start: datetime | None = None, end: datetime | None = None, tz: Tz = None,
                        include_cancelled: bool = False) -> dict:
            """Your events (organised or invited to) overlapping [start, end); default: the next 30 days."""
            with self.read() as db:
                tz_name = tz or self._tz_of(db, user)
                z = zone(tz_name)
                now = self.now(db)
                s = aware(start, z, "start") if start else now - timedelta(days=1)
                e = aware(end, z, "end") if end else s + timedelta(days=30)
                if e <= s or e - s > MAX_WINDOW:
                    raise ApiError(422, f"end must be after start, at most {MAX_WINDOW.days} days later")
                return {"start": iso(s), "end": iso(e),
                        "events": self.events_between(db, user, iso(s), iso(e), tz_name, include_cancelled)}

        @app.get("/api/events/{event_id}", response_model=EventOut, tags=["events"])
        def get_event(event_id: EventId, user: User, tz: Tz = None) -> dict:
            """One event you organise or are invited to."""
            with self.read() as db:
                return self._out(db, self._visible(db, user, event_id), user, tz or self._tz_of(db, user))

        @app.post("/api/events", response_model=EventOut, status_code=201, tags=["events"])
        def create_event(body: EventIn, user: User, request: Request) -> dict:
            """Create an event; each attendee gets an invitation (status needs-action)."""
            with self.write(request) as db:
                tz_name = body.timezone or self._tz_of(db, user)
                s, e = self._span(body.start, body.end, zone(tz_name), MAX_EVENT, "an event")
                now = self.now_iso(db)
                n = db.execute("SELECT value FROM _meta WHERE key = 'ticks'").fetchone()[0]
                cur = db.execute("INSERT INTO events (uid, organizer, title, description, location, start, \"end\", "
                                 "timezone, status, created, updated) VALUES (?,?,?,?,?,?,?,?,'confirmed',?,?)",
                                 (f"ev{n}-{user}@{self.facts.org.domain}", user, body.title, body.description,
                                  body.location, s, e, tz_name, now, now))
                for who in body.attendees:
                    p = self._person(db, who)
                    if p["username"] != user:
                        db.execute("INSERT OR IGNORE INTO attendees (event, username, status) VALUES (?, ?, 'needs-action')",
                                   (cur.lastrowid, p["username"]))
                return self._out(db, self._visible(db, user, cur.lastrowid), user, tz_name)

        @app.patch("/api/events/{event_id}", response_model=EventOut, tags=["events"])
        def update_event(event_id: EventId, body: EventPatch, user: User, request: Request) -> dict:
            """Change an event you organise. Moving it resets every answer to needs-action."""
            with self.write(request) as db:
                ev = self._visible(db, user, event_id)
                if ev["organizer"] != user:
                    raise ApiError(403, "only the organizer can change this event; answer the invitation instead")
                if ev["status"] == "cancelled":
                    raise ApiError(409, "the event is cancelled", "conflict")
                tz_name = body.timezone or ev["timezone"]
                z = zone(tz_name)
                start = body.start if body.start is not None else parse_iso(ev["start"])
                end = body.end if body.end is not None else parse_iso(ev["end"])
                s, e = self._span(start, end, z, MAX_EVENT, "an event")
                fields = {"title": body.title, "description": body.description, "location": body.location}
                sets = {k: v for k, v in fields.items() if v is not None}
                sets.update(start=s, end=e, timezone=tz_name, updated=self.now_iso(db))
                assignments = ", ".join('"' + k + '" = ?' for k in sets)
                db.execute(f"UPDATE events SET {assignments} WHERE id = ?", (*sets.values(), event_id))
                if (s, e) != (ev["start"], ev["end"]):
                    db.execute("UPDATE attendees SET status = 'needs-action', responded_at = NULL WHERE event = ?",
                               (event_id,))
                for who in body.remove_attendees:
                    p = self._person(db, who)
                    db.execute("DELETE FROM attendees WHERE event = ? AND username = ?", (event_id, p["username"]))
                for who in body.add_attendees:
                    p = self._person(db, who)
                    if p["username"] != user:
                        db.execute("INSERT OR IGNORE INTO attendees (event, username, status) VALUES (?, ?, 'needs-action')",
                                   (event_id, p["username"]))
                return self._out(db, self._visible(db, user, event_id), user, tz_name)

        @app.delete("/api/events/{event_id}", response_model=EventOut, tags=["events"])
        def cancel_event(event_id: EventId, user: User, request: Request) -> dict:
            """Cancel an event you organise (attendees see it as cancelled)."""
            with self.write(request) as db:
                ev = self._visible(db, user, event_id)
                if ev["organizer"] != user:
                    raise ApiError(403, "only the organizer can cancel this event; decline it instead")
                db.execute("UPDATE events SET status = 'cancelled', updated = ? WHERE id = ?", (self.now_iso(db), event_id))
                return self._out(db, self._visible(db, user, event_id), user, self._tz_of(db, user))

        @app.post("/api/events/{event_id}/respond", response_model=EventOut, tags=["invitations"])
        def respond(event_id: EventId, body: RespondIn, user: User, request: Request) -> dict:
            """Accept, decline or tentatively accept an invitation."""
            with self.write(request) as db:
                ev = self._visible(db, user, event_id)
                if ev["organizer"] == user:
                    raise ApiError(422, "you organise this event: there is no invitation to answer")
                if ev["status"] == "cancelled":
                    raise ApiError(409, "the event is cancelled", "conflict")
                db.execute("UPDATE attendees SET status = ?, comment = ?, responded_at = ? WHERE event = ? AND username = ?",
                           (body.status, body.comment, self.now_iso(db), event_id, user))
                return self._out(db, self._visible(db, user, event_id), user, self._tz_of(db, user))

        @app.get("/api/invitations", response_model=list[EventOut], tags=["invitations"])
        def invitations(user: User, tz: Tz = None) -> list:
            """Upcoming invitations you have not answered."""
            with self.read() as db:
                tz_name = tz or self._tz_of(db, user)
                zone(tz_name)
                rows = db.execute("SELECT e.* FROM events e JOIN attendees a ON a.event = e.id WHERE a.username = ? AND "
                                  "a.status = 'needs-action' AND e.status = 'confirmed' AND e.\"end\" > ? ORDER BY e.start",
                                  (user, self.now_iso(db))).fetchall()
                return [self._out(db, r, user, tz_name) for r in rows]

        @app.post("/api/freebusy", response_model=FreeBusyOut, tags=["free/busy"])
        def freebusy(body: FreeBusyIn, user: User) -> dict:
            """When each person is busy between start and end (merged intervals; declined invitations are free)."""
            with self.read() as db:
                tz_name = body.timezone or self._tz_of(db, user)
                z = zone(tz_name)
                s, e = self._span(body.start, body.end, z, MAX_WINDOW, "a free/busy query")
                out: dict[str, list[dict]] = {}
                for who in body.users:
                    p = self._person(db, who)
                    out[p["username"]] = [{"start": a, "end": b, "start_local": parse_iso(a).astimezone(z).isoformat(),
                                           "end_local": parse_iso(b).astimezone(z).isoformat()}
                                          for a, b in self.busy(db, p["username"], s, e)]
                return {"start": s, "end": e, "timezone": tz_name, "busy": out}

        # ---------------------------------------------------------- HTML
        @app.get("/", response_class=HTMLResponse, include_in_schema=False)
        def agenda(request: Request, user: PageUser, week: Annotated[int, Query(ge=-52, le=52)] = 0,
                   tz: Annotated[str | None, Query(max_length=64)] = None) -> HTMLResponse:
            link = Linker(request)
            with self.read() as db:
                tz_name = tz or self._tz_of(db, user)
                z = zone(tz_name)
                now = self.now(db).astimezone(z)
                monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0) + timedelta(weeks=week)
                evs = self.events_between(db, user, iso(monday), iso(monday + timedelta(days=7)), tz_name)
            rows = [[esc(e["start_local"][:16].replace("T", " ")), esc(e["end_local"][11:16]),
                     link.a(f"/event/{e['id']}", e["title"]), esc(e["organizer"]["name"]), esc(e["my_status"])] for e in evs]
            nav = f"{link.a('/', '< previous week', week=week - 1)} | {link.a('/', 'next week >', week=week + 1)}"
            body = (f"<p>Week of {monday:%A %d %B %Y}, times in {esc(tz_name)}. {nav}</p>"
                    + table(["Start", "End", "Event", "Organizer", "You"], rows))
            return html_response("Calendar", body, request, [("/", "This week")], user)

        @app.get("/event/{event_id}", response_class=HTMLResponse, include_in_schema=False)
        def event_page(event_id: EventId, request: Request, user: PageUser) -> HTMLResponse:
            with self.read() as db:
                e = self._out(db, self._visible(db, user, event_id), user, self._tz_of(db, user))
            people = "".join(f"<li>{esc(a['name'])} &lt;{esc(a['email'])}&gt;: {esc(a['status'])}</li>" for a in e["attendees"])
            body = (f"<p>{esc(e['start_local'])} to {esc(e['end_local'])} ({esc(e['display_timezone'])}; planned in "
                    f"{esc(e['timezone'])})</p><p>Organizer: {esc(e['organizer']['name'])}. Location: {esc(e['location'])}. "
                    f"Status: {esc(e['status'])}.</p><pre>{esc(e['description'])}</pre><h2>Attendees</h2><ul>{people}</ul>")
            return html_response(e["title"], body, request, [("/", "This week")], user)
