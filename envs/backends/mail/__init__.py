"""The mail backend: mailboxes (personal and shared), folders, search, send, reply, forward, move, delete, attachments.

The package: ``schema.sql`` (the tables), ``seed.py`` (the fixture from the world's facts), ``documents.py``
(attachment files), ``model.py`` (the API's bodies), ``api.py`` (the routers: mailboxes, messages, send, HTML pages)
and ``pages/`` (the pages' templates). This module holds the backend class: the queries and the delivery rule the
routes share.
"""

import base64
import binascii
import json
import re
import sqlite3
from typing import Any, Callable

from fastapi import Response

from airgap.envs.backends.base import register_backend
from airgap.envs.backends.mail import seed as fixture
from airgap.envs.backends.mail.model import AttachmentIn
from airgap.envs.backends.sqlstore import SqliteBackend
from airgap.envs.backends.web import ApiError

ADDRESS = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")



@register_backend
class MailBackend(SqliteBackend):
    name = "mail"
    title = "Mail"
    note = "webmail, JSON API under /api"
    api_description = ("Webmail of the organisation. JSON API under /api (bearer token), HTML pages at / "
                       "(basic auth or ?token=). Shared mailboxes (support@, accounts@) are visible to their members.")

    @classmethod
    def make_token(cls, derive: Callable[..., str]) -> str:
        return "mlt_" + derive(32)

    @classmethod
    def hosts_for(cls, facts: Any) -> list[str]:
        return [f"mail.{facts.org.domain}"]

    def streams(self) -> dict[tuple[str, int], Any]:
        """SMTP submission (587 and 25 STARTTLS, 465 TLS) and IMAP (143 STARTTLS, 993 TLS) on the mail host (``protocols.py``)."""
        from airgap.envs.backends.mail.protocols import streams

        return streams(self)

    # -------------------------------------------------------------- queries
    def _boxes(self, db: sqlite3.Connection, user: str) -> list[str]:
        return [r[0] for r in db.execute("SELECT mailbox FROM mailbox_access WHERE username = ? ORDER BY id", (user,))]

    def _own(self, user: str) -> str:
        return self.facts.person(user).email

    def _box(self, db: sqlite3.Connection, user: str, address: str | None) -> str:
        address = (address or self._own(user)).lower()
        if address not in self._boxes(db, user):
            raise ApiError(404, f"mailbox {address} not found")
        return address

    def _message_row(self, db: sqlite3.Connection, user: str, mid: int) -> sqlite3.Row:
        return self.visible_row(db, "messages", mid, "mailbox", self._boxes(db, user), "message")

    def _summary(self, db: sqlite3.Connection, r: sqlite3.Row) -> dict[str, Any]:
        has = db.execute("SELECT 1 FROM attachments WHERE message = ? LIMIT 1", (r["id"],)).fetchone() is not None
        snippet = " ".join(r["body"].split())[:140]
        return {"id": r["id"], "mailbox": r["mailbox"], "folder": r["folder"], "thread_id": r["thread_id"],
                "sender": r["sender"], "to": json.loads(r["recipients"]), "subject": r["subject"], "date": r["date"],
                "read": bool(r["is_read"]), "flagged": bool(r["flagged"]), "draft": bool(r["draft"]),
                "has_attachments": has, "snippet": snippet}

    def _full(self, db: sqlite3.Connection, r: sqlite3.Row) -> dict[str, Any]:
        out = self._summary(db, r)
        atts = db.execute("SELECT id, filename, content_type, size FROM attachments WHERE message = ? ORDER BY id",
                          (r["id"],)).fetchall()
        out.update(message_id=r["message_id"], in_reply_to=r["in_reply_to"], cc=json.loads(r["cc"]),
                   bcc=json.loads(r["bcc"]), body=r["body"],
                   attachments=[{"id": a[0], "filename": a[1], "content_type": a[2], "size": a[3],
                                 "url": f"/api/messages/{r['id']}/attachments/{a[0]}"} for a in atts])
        return out

    def _folder(self, db: sqlite3.Connection, box: str, name: str) -> str:
        row = db.execute("SELECT name FROM folders WHERE mailbox = ? AND lower(name) = lower(?)", (box, name)).fetchone()
        if row is None:
            raise ApiError(404, f"folder {name!r} not found in {box}")
        return row[0]

    def search(self, db: sqlite3.Connection, user: str, mailbox: str | None, folder: str | None, q: str | None,
               sender: str | None, unread: bool | None, limit: int, offset: int) -> dict[str, Any]:
        box = self._box(db, user, mailbox)
        where, args = ["mailbox = ?"], [box]
        if folder:
            where.append("folder = ?")
            args.append(self._folder(db, box, folder))
        elif not q and not sender:
            where.append("folder = 'INBOX'")
        for term in (q or "").split():
            like = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append("(subject LIKE ? ESCAPE '\\' OR body LIKE ? ESCAPE '\\' OR sender LIKE ? ESCAPE '\\' "
                         "OR recipients LIKE ? ESCAPE '\\')")
            args += [like] * 4
        if sender:
            where.append("sender LIKE ? ESCAPE '\\'")
            args.append("%" + sender.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
        if unread is not None:
            where.append("is_read = ?")
            args.append(0 if unread else 1)
        cond = " AND ".join(where)
        total = db.execute(f"SELECT count(*) FROM messages WHERE {cond}", args).fetchone()[0]
        rows = db.execute(f"SELECT * FROM messages WHERE {cond} ORDER BY date DESC, id DESC LIMIT ? OFFSET ?",
                          (*args, limit, offset)).fetchall()
        return {"total": total, "offset": offset, "messages": [self._summary(db, r) for r in rows]}

    # -------------------------------------------------------------- writes
    def _attachments_in(self, items: list[AttachmentIn]) -> list[tuple[str, str, bytes]]:
        out = []
        for a in items:
            try:
                data = base64.b64decode(a.content_base64, validate=True)
            except (binascii.Error, ValueError):
                raise ApiError(422, f"attachment {a.filename!r}: content_base64 is not valid base64") from None
            out.append((a.filename, a.content_type, data))
        return out

    def deliver(self, db: sqlite3.Connection, user: str, box: str, to: list[str], cc: list[str], bcc: list[str],
                subject: str, body: str, files: list[tuple[str, str, bytes]], in_reply_to: str | None = None,
                thread_id: str | None = None, draft: bool = False) -> dict[str, Any]:
        """Store the sender's copy (Sent or Drafts) and one INBOX copy per local recipient, in the caller's transaction."""
        for a in [*to, *cc, *bcc]:
            if not ADDRESS.match(a):
                raise ApiError(422, f"invalid e-mail address {a!r}")
        if not draft and not (to or cc or bcc):
            raise ApiError(422, "no recipients: give at least one address in to, cc or bcc")
        now = self.now_iso(db)
        n = db.execute("SELECT value FROM _meta WHERE key = 'ticks'").fetchone()[0]
        message_id = f"<m{n}.{box.split('@')[0]}@{self.facts.org.domain}>"
        thread_id = thread_id or f"th_m{n}"
        person = self.facts.person(user)
        sender = f"{person.name} <{box}>"

        def store(mailbox: str, folder: str, read: bool, bcc_list: list[str]) -> int:
            cur = db.execute(
                "INSERT INTO messages (mailbox, folder, message_id, thread_id, in_reply_to, sender, recipients, cc, bcc, "
                "subject, body, date, is_read, flagged, draft) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,0,?)",
                (mailbox, folder, message_id, thread_id, in_reply_to, sender, json.dumps(to), json.dumps(cc),
                 json.dumps(bcc_list), subject, body, now, int(read), int(draft)))
            for filename, ctype, data in files:
                db.execute("INSERT INTO attachments (message, filename, content_type, size, data) VALUES (?,?,?,?,?)",
                           (cur.lastrowid, filename, ctype, len(data), data))
            return cur.lastrowid

        own_id = store(box, "Drafts" if draft else "Sent", True, bcc)
        delivered, external = [], []
        if not draft:
            domain = "@" + self.facts.org.domain
            for a in [*to, *cc, *bcc]:
                a = a.lower()
                members = db.execute("SELECT members FROM lists WHERE address = ?", (a,)).fetchone()
                targets = json.loads(members[0]) if members else [a]
                for t in targets:
                    if fixture.is_mailbox(db, t):
                        if t not in delivered and t != box:
                            store(t, "INBOX", False, [])
                            delivered.append(t)
                    elif t.endswith(domain):  # our own domain but nobody is there: refused like an SMTP RCPT
                        raise ApiError(422, f"no such mailbox: {t}")
                    elif t not in external:
                        external.append(t)
        row = db.execute("SELECT * FROM messages WHERE id = ?", (own_id,)).fetchone()
        return {"message": self._full(db, row), "delivered_to": delivered, "external": external}

    def _download(self, db: sqlite3.Connection, user: str, mid: int, aid: int) -> Response:
        self._message_row(db, user, mid)
        a = db.execute("SELECT filename, content_type, data FROM attachments WHERE id = ? AND message = ?",
                       (aid, mid)).fetchone()
        if a is None:
            raise ApiError(404, f"attachment {aid} of message {mid} not found")
        safe = re.sub(r'[^\w. -]', "_", a["filename"])
        return Response(a["data"], media_type=a["content_type"],
                        headers={"Content-Disposition": f'attachment; filename="{safe}"'})

    def _mailboxes(self, db: sqlite3.Connection, user: str) -> list[dict]:
        out = []
        for box in self._boxes(db, user):
            name, kind = db.execute("SELECT name, kind FROM mailboxes WHERE address = ?", (box,)).fetchone()
            unread = db.execute("SELECT count(*) FROM messages WHERE mailbox = ? AND folder = 'INBOX' AND is_read = 0",
                                (box,)).fetchone()[0]
            out.append({"address": box, "name": name, "kind": kind, "unread": unread})
        return out

    def _folders(self, db: sqlite3.Connection, box: str) -> list[dict]:
        return [{"name": r[0], "system": bool(r[1]), "total": r[2], "unread": r[3]} for r in db.execute(
            "SELECT f.name, f.system, count(m.id), coalesce(sum(m.is_read = 0), 0) FROM folders f LEFT JOIN messages m "
            "ON m.mailbox = f.mailbox AND m.folder = f.name WHERE f.mailbox = ? GROUP BY f.id ORDER BY f.id", (box,))]

