"""The calendar backend: events in time zones, invitations with accept/decline, free/busy across people."""
import sqlite3
from datetime import datetime, timedelta, timezone
from typing import Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from airgap.envs.backends.base import register_backend
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
                       "?tz= (default: your zone). Invitations are answered with POST /api/events/{id}/respond.")

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
