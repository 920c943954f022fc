"""The mail fixture of a world: every person's mailbox, the shared mailboxes and mailing lists, and the world's mail
threads delivered as a mail server would have (the sender's copy in Sent or Drafts, one INBOX copy per local
recipient, lists expanded), with their attachments rendered to real files."""
from __future__ import annotations

import json
import sqlite3
from email.utils import parseaddr
from typing import Any

from airgap.envs.backends.mail.documents import render_attachment

SYSTEM_FOLDERS = ("INBOX", "Sent", "Drafts", "Archive", "Trash", "Spam")


def seed(facts: Any, db: sqlite3.Connection) -> None:
    """Fill the empty mail tables of ``db`` from the world's facts (``airgap.envs.worldgen.WorldFacts``)."""
    f = facts
    for p in f.people:
        db.execute("INSERT INTO mailboxes VALUES (?, ?, 'personal')", (p.email, p.name))
        db.execute("INSERT INTO mailbox_access (mailbox, username) VALUES (?, ?)", (p.email, p.username))
    for addr, members in f.org.shared_mailboxes.items():
        db.execute("INSERT INTO mailboxes VALUES (?, ?, 'shared')", (addr, addr.split("@")[0].capitalize()))
        db.executemany("INSERT INTO mailbox_access (mailbox, username) VALUES (?, ?)", [(addr, u) for u in members])
    emails = {p.username: p.email for p in f.people}
    for addr, members in f.org.mailing_lists.items():
        db.execute("INSERT INTO lists VALUES (?, ?)", (addr, json.dumps([emails[u] for u in members])))
    for (box,) in db.execute("SELECT address FROM mailboxes").fetchall():
        db.executemany("INSERT INTO folders (mailbox, name, system) VALUES (?, ?, 1)", [(box, n) for n in SYSTEM_FOLDERS])
    for th in f.mail:
        prev = None
        for i, m in enumerate(th.messages):
            mid = f"<{th.id}.{i}@{f.org.domain}>"
            sender = parseaddr(m.sender)[1].lower()
            copies: list[tuple[str, str, bool]] = []
            if m.draft:
                copies.append((sender, "Drafts", True))
            else:
                if is_mailbox(db, sender):
                    copies.append((sender, "Sent", True))
                for box in _local_recipients(db, m.to + m.cc):
                    if box != sender:
                        copies.append((box, "INBOX", m.read))
            for box, folder, read in copies:
                cur = db.execute(
                    "INSERT INTO messages (mailbox, folder, message_id, thread_id, in_reply_to, sender, recipients, cc, "
                    "bcc, subject, body, date, is_read, flagged, draft) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (box, folder, mid, th.id, prev, m.sender, json.dumps(m.to), json.dumps(m.cc), "[]",
                     th.subject if i == 0 else f"Re: {th.subject}", m.body, m.date, int(read), 0, int(m.draft)))
                for a in m.attachments:
                    data = render_attachment(a)
                    db.execute("INSERT INTO attachments (message, filename, content_type, size, data) VALUES (?,?,?,?,?)",
                               (cur.lastrowid, a.filename, a.content_type, len(data), data))
            prev = mid


def is_mailbox(db: sqlite3.Connection, addr: str) -> bool:
    return db.execute("SELECT 1 FROM mailboxes WHERE address = ?", (addr,)).fetchone() is not None


def _local_recipients(db: sqlite3.Connection, addrs: list[str]) -> list[str]:
    """Local mailboxes that receive a copy (mailing lists expanded, duplicates removed, order kept)."""
    out: list[str] = []
    for a in addrs:
        a = parseaddr(a)[1].lower()
        row = db.execute("SELECT members FROM lists WHERE address = ?", (a,)).fetchone()
        for box in (json.loads(row[0]) if row else [a]):
            if box not in out and is_mailbox(db, box):
                out.append(box)
    return out
