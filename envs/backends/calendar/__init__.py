"""The calendar backend: events in time zones, invitations with accept/decline, free/busy across people."""
import sqlite3
from datetime import datetime, timedelta, timezone
from typing import Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from airgap.envs.backends.base import register_backend
from airgap.envs.backends.calendar import recurrence
from airgap.envs.backends.sqlstore import SqliteBackend
from airgap.envs.backends.web import ApiError
from airgap.envs.common import iso, parse_iso

MAX_EVENT = timedelta(days=14)
MAX_WINDOW = timedelta(days=92)
EARLIEST, LATEST = datetime(1990, 1, 1, tzinfo=timezone.utc), datetime(2100, 1, 1, tzinfo=timezone.utc)


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
    note = "calendars, JSON API under /api"
    api_description = ("Calendars of the organisation's people. Times are UTC in `start`/`end`; `*_local` fields are in "
                       "?tz= (default: your zone). Invitations are answered with POST /api/events/{id}/respond. The same "
                       "calendars speak CalDAV at /dav/ (discovery: /.well-known/caldav; log in with your user name and "
                       "your calendar token as the password).")

    @classmethod
    def make_token(cls, derive: Callable[..., str]) -> str:
        return "cal_" + derive(32)

    @classmethod
    def hosts_for(cls, facts: Any) -> list[str]:
        return [f"calendar.{facts.org.domain}"]


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

    def _out(self, db: sqlite3.Connection, e: sqlite3.Row, user: str, tz_name: str,
             instance: dict[str, Any] | None = None) -> dict[str, Any]:
        """An event as the API shows it; with ``instance`` (from ``instances``), that one instance of a series."""
        tz = zone(tz_name)
        pdict = lambda r: {"username": r["username"], "name": r["name"], "email": r["email"], "timezone": r["timezone"]}  # noqa: E731
        org = db.execute("SELECT * FROM calendars WHERE username = ?", (e["organizer"],)).fetchone()
        atts = db.execute("SELECT a.status, a.comment, c.* FROM attendees a JOIN calendars c ON c.username = a.username "
                          "WHERE a.event = ? ORDER BY a.id", (e["id"],)).fetchall()
        mine = "organizer" if e["organizer"] == user else next((a["status"] for a in atts if a["username"] == user), "")
        local = lambda s: parse_iso(s).astimezone(tz).isoformat()  # noqa: E731
        out = {"id": e["id"], "uid": e["uid"], "title": e["title"], "description": e["description"],
               "location": e["location"], "status": e["status"], "organizer": pdict(org), "start": e["start"],
               "end": e["end"], "timezone": e["timezone"], "display_timezone": tz_name,
               "my_status": mine, "created": e["created"], "updated": e["updated"],
               "attendees": [{**pdict(a), "status": a["status"], "comment": a["comment"]} for a in atts],
               "recurrence": recurrence.load(e["recurrence"]), "recurring_event_id": None, "instance_id": None,
               "original_start": None}
        if instance is not None:
            out.update({k: v for k, v in instance.items() if v is not None})
            out.update(recurring_event_id=e["id"], instance_id=f"{e['id']}_{recurrence.stamp(parse_iso(instance['original_start']))}")
        out.update(start_local=local(out["start"]), end_local=local(out["end"]))
        return out

    def _span(self, start: datetime, end: datetime, tz: ZoneInfo, limit: timedelta, what: str) -> tuple[str, str]:
        s, e = aware(start, tz, "start"), aware(end, tz, "end")
        if e <= s:
            raise ApiError(422, "end must be after start")
        if e - s > limit:
            raise ApiError(422, f"{what} may span at most {limit.days} days")
        return iso(s), iso(e)

    # -------------------------------------------------------------- recurring events
    def rule(self, e: sqlite3.Row) -> recurrence.Rule | None:
        return None if e["recurrence"] is None else recurrence.parse(recurrence.load(e["recurrence"]), zone(e["timezone"]))

    def dtstart(self, e: sqlite3.Row) -> datetime:
        return parse_iso(e["start"]).astimezone(zone(e["timezone"]))

    def instances(self, db: sqlite3.Connection, e: sqlite3.Row, start: str, end: str,
                  include_cancelled: bool = False) -> list[dict[str, Any]]:
        """The instances of series ``e`` overlapping [start, end), with their exceptions applied: each a dict of
        ``original_start``, ``start``, ``end``, ``status`` and the overridden ``title``/``description``/``location``."""
        rule = self.rule(e)
        assert rule is not None
        length = parse_iso(e["end"]) - parse_iso(e["start"])
        s, t = parse_iso(start), parse_iso(end)
        exc = {r["original_start"]: r for r in db.execute("SELECT * FROM event_exceptions WHERE event = ?", (e["id"],))}
        out: list[dict[str, Any]] = []
        for x in recurrence.starts(rule, self.dtstart(e), s - length + timedelta(seconds=1), t):
            key = iso(x)
            if key not in exc:
                out.append({"original_start": key, "start": key, "end": iso(x + length), "status": e["status"]})
        for key, r in exc.items():  # a changed instance shows where it now is (it may have moved into the window)
            if not recurrence.occurs(rule, self.dtstart(e), parse_iso(key)):
                continue
            inst = {"original_start": key, "start": r["start"] or key, "end": r["end"] or iso(parse_iso(key) + length),
                    "status": "cancelled" if "cancelled" in (r["status"], e["status"]) else "confirmed",
                    "title": r["title"], "description": r["description"], "location": r["location"],
                    "updated": r["updated"]}
            if inst["start"] < end and inst["end"] > start:
                out.append(inst)
        return [i for i in out if include_cancelled or i["status"] == "confirmed"]

    def _series_rows(self, db: sqlite3.Connection, user: str, end: str, include_cancelled: bool) -> list[sqlite3.Row]:
        return db.execute(
            "SELECT * FROM events WHERE recurrence IS NOT NULL AND start < ? AND (organizer = ? OR EXISTS (SELECT 1 FROM "
            "attendees WHERE event = events.id AND username = ?))" + ("" if include_cancelled else " AND status = 'confirmed'")
            + " ORDER BY start, id", (end, user, user)).fetchall()

    def events_between(self, db: sqlite3.Connection, user: str, start: str, end: str, tz: str,
                       include_cancelled: bool = False) -> list[dict]:
        """The user's events overlapping [start, end), each instance of a series on its own (singleEvents)."""
        rows = db.execute(
            "SELECT * FROM events WHERE recurrence IS NULL AND start < ? AND \"end\" > ? AND (organizer = ? OR EXISTS "
            "(SELECT 1 FROM attendees WHERE event = events.id AND username = ?))"
            + ("" if include_cancelled else " AND status = 'confirmed'")
            + " ORDER BY start, id", (end, start, user, user)).fetchall()
        out = [self._out(db, r, user, tz) for r in rows]
        for r in self._series_rows(db, user, end, include_cancelled):
            out += [self._out(db, r, user, tz, i) for i in self.instances(db, r, start, end, include_cancelled)]
        return sorted(out, key=lambda x: (x["start"], x["id"]))

    def busy(self, db: sqlite3.Connection, username: str, start: str, end: str) -> list[tuple[str, str]]:
        who = ("(organizer = ? OR EXISTS (SELECT 1 FROM attendees a WHERE a.event = e.id AND a.username = ? AND "
               "a.status != 'declined'))")
        spans = [tuple(r) for r in db.execute(
            f"SELECT start, \"end\" FROM events e WHERE recurrence IS NULL AND status = 'confirmed' AND start < ? AND "
            f"\"end\" > ? AND {who}", (end, start, username, username))]
        for r in db.execute(f"SELECT * FROM events e WHERE recurrence IS NOT NULL AND status = 'confirmed' AND "
                            f"start < ? AND {who}", (end, username, username)).fetchall():
            spans += [(i["start"], i["end"]) for i in self.instances(db, r, start, end)]
        merged: list[list[str]] = []
        for s, e in sorted(spans):
            s, e = max(s, start), min(e, end)
            if merged and s <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        return [(s, e) for s, e in merged]

    def ends_after(self, db: sqlite3.Connection, e: sqlite3.Row, when: str) -> bool:
        """Whether event ``e`` (a series: any of its instances) ends after ``when``."""
        rule = self.rule(e)
        if rule is None:
            return e["end"] > when
        last = recurrence.last_start(rule, self.dtstart(e))
        length = parse_iso(e["end"]) - parse_iso(e["start"])
        return last is None or iso(last + length) > when or any(
            (r[0] or "") > when for r in db.execute("SELECT \"end\" FROM event_exceptions WHERE event = ? AND "
                                                     "status = 'confirmed'", (e["id"],)))

    # -------------------------------------------------------------- routes
