"""The calendar fixture of a world."""
import sqlite3
from datetime import timedelta
from typing import Any

from airgap.envs.common import iso, parse_iso


def seed(facts: Any, db: sqlite3.Connection) -> None:
    """Fill the empty tables of ``db`` from the world's facts."""
    f = facts
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
