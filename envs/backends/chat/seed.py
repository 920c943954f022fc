"""The chat fixture of a world."""
import sqlite3
from typing import Any

from airgap.envs.backends.chat.ids import sid, user_id
from airgap.envs.common import parse_iso


def seed(facts: Any, db: sqlite3.Connection) -> None:
    """Fill the empty tables of ``db`` from the world's facts."""
    f = facts
    uid = {p.username: user_id(f.seed, p.username) for p in f.people}
    db.executemany("INSERT INTO users VALUES (?,?,?,?,?,?,?,0)",
                   [(uid[p.username], p.username, p.name, p.first_name, p.email, p.title, p.timezone)
                    for p in f.people])
    seq = [0]

    def ts_of(when: str) -> str:
        seq[0] += 1
        return f"{int(parse_iso(when).timestamp())}.{seq[0]:06d}"

    def add(channel: str, msgs: list) -> None:
        for m in msgs:
            ts = ts_of(m.ts)
            db.execute("INSERT INTO messages VALUES (?,?,?,?,NULL,NULL)", (ts, channel, uid[m.author], m.text))
            for r in m.replies:
                db.execute("INSERT INTO messages VALUES (?,?,?,?,?,NULL)", (ts_of(r.ts), channel, uid[r.author],
                                                                            r.text, ts))

    for c in f.channels:
        cid = sid("G" if c.private else "C", str(f.seed), "channel", c.name)
        created = int(parse_iso(c.created).timestamp())
        db.execute("INSERT INTO channels VALUES (?,?,?,0,?,?,?,?,0)", (cid, c.name, int(c.private), c.topic, c.purpose,
                                                                       uid[c.members[0]], created))
        db.executemany("INSERT INTO members (channel, user) VALUES (?, ?)", [(cid, uid[m]) for m in c.members])
        add(cid, c.messages)
    for d in f.dms:
        cid = sid("D", str(f.seed), "dm", *d.members)
        if db.execute("SELECT 1 FROM channels WHERE id = ?", (cid,)).fetchone():
            add(cid, d.messages)
            continue
        first = d.messages[0].ts if d.messages else f.now
        db.execute("INSERT INTO channels VALUES (?,'',0,1,'','',?,?,0)", (cid, uid[d.members[0]],
                                                                          int(parse_iso(first).timestamp())))
        db.executemany("INSERT INTO members (channel, user) VALUES (?, ?)", [(cid, uid[m]) for m in d.members])
        add(cid, d.messages)
