"""The mail backend: mailboxes (personal and shared), folders, search, send, reply, forward, move, delete, attachments."""

import base64
import binascii
import json
import re
import sqlite3
from email.utils import parseaddr
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request, Response
from fastapi import Path as Path_
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from airgap.envs.backends.base import register_backend
from airgap.envs.backends.sqlstore import SqliteBackend
from airgap.envs.backends.web import Accounts, ApiError, BearerAuth, Linker, esc, html_response, page_user, table
from airgap.envs.worldgen import WorldFacts, render_attachment

SYSTEM_FOLDERS = ("INBOX", "Sent", "Drafts", "Archive", "Trash", "Spam")
ADDRESS = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
MAX_RECIPIENTS = 50

SCHEMA = """
CREATE TABLE mailboxes (address TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL);
CREATE TABLE mailbox_access (id INTEGER PRIMARY KEY, mailbox TEXT NOT NULL, username TEXT NOT NULL,
                             UNIQUE (mailbox, username));
CREATE TABLE lists (address TEXT PRIMARY KEY, members TEXT NOT NULL);
CREATE TABLE folders (id INTEGER PRIMARY KEY, mailbox TEXT NOT NULL, name TEXT NOT NULL, system INTEGER NOT NULL,
                      UNIQUE (mailbox, name));
CREATE TABLE messages (id INTEGER PRIMARY KEY, mailbox TEXT NOT NULL, folder TEXT NOT NULL, message_id TEXT NOT NULL,
                       thread_id TEXT NOT NULL, in_reply_to TEXT, sender TEXT NOT NULL, recipients TEXT NOT NULL,
                       cc TEXT NOT NULL, bcc TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL, date TEXT NOT NULL,
                       is_read INTEGER NOT NULL, flagged INTEGER NOT NULL, draft INTEGER NOT NULL);
CREATE INDEX messages_box ON messages (mailbox, folder, date);
CREATE TABLE attachments (id INTEGER PRIMARY KEY, message INTEGER NOT NULL, filename TEXT NOT NULL,
                          content_type TEXT NOT NULL, size INTEGER NOT NULL, data BLOB NOT NULL);
CREATE INDEX attachments_message ON attachments (message);
"""


# ------------------------------------------------------------------------------------------------ API models
class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MailboxOut(BaseModel):
    address: str
    name: str
    kind: str = Field(description="personal or shared")
    unread: int


class MeOut(BaseModel):
    username: str
    name: str
    email: str
    mailboxes: list[MailboxOut]


class FolderOut(BaseModel):
    name: str
    system: bool
    total: int
    unread: int


class FolderIn(Strict):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[^/\x00-\x1f]+$")


class AttachmentMeta(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    url: str


class MessageSummary(BaseModel):
    id: int
    mailbox: str
    folder: str
    thread_id: str
    sender: str = Field(serialization_alias="from")
    to: list[str]
    subject: str
    date: str
    read: bool
    flagged: bool
    draft: bool
    has_attachments: bool
    snippet: str


class MessageOut(MessageSummary):
    message_id: str
    in_reply_to: str | None
    cc: list[str]
    bcc: list[str]
    body: str
    attachments: list[AttachmentMeta]


class MessageList(BaseModel):
    total: int
    offset: int
    messages: list[MessageSummary]


class AttachmentIn(Strict):
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field("application/octet-stream", max_length=127, pattern=r"^[\w.+-]+/[\w.+-]+$")
    content_base64: str = Field(description="the file, base64-encoded")


Addresses = Annotated[list[str], Field(max_length=MAX_RECIPIENTS)]


class SendIn(Strict):
    from_mailbox: str | None = Field(None, description="a mailbox you may use; default: your own")
    to: Addresses = Field(default_factory=list)
    cc: Addresses = Field(default_factory=list)
    bcc: Addresses = Field(default_factory=list)
    subject: str = Field("", max_length=998)
    body: str = Field("", max_length=200_000)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=10)
    draft: bool = Field(False, description="save to Drafts instead of sending")


class ReplyIn(Strict):
    body: str = Field(max_length=200_000)
    reply_all: bool = False
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=10)


class ForwardIn(Strict):
    to: Addresses = Field(min_length=1)
    cc: Addresses = Field(default_factory=list)
    body: str = Field("", max_length=200_000)


class SentOut(BaseModel):
    message: MessageOut
    delivered_to: list[str] = Field(description="local mailboxes that received a copy")
    external: list[str] = Field(description="recipients outside this mail server (sent, not stored here)")


class PatchIn(Strict):
    read: bool | None = None
    flagged: bool | None = None


class MoveIn(Strict):
    folder: str = Field(min_length=1, max_length=64)


class DeleteOut(BaseModel):
    id: int
    deleted: bool = Field(description="true: purged from Trash; false: moved to Trash")
    folder: str | None


# ------------------------------------------------------------------------------------------------ the backend
@register_backend
class MailBackend(SqliteBackend):
    name = "mail"
    title = "Mail"
    schema = SCHEMA
    api_description = ("Webmail of the organisation. JSON API under /api (bearer token), HTML pages at / "
                       "(basic auth or ?token=). Shared mailboxes (support@, accounts@) are visible to their members.")

    def hosts_for(self, facts: WorldFacts) -> list[str]:
        return [f"mail.{facts.org.domain}"]

    # -------------------------------------------------------------- fixture
    def seed(self, db: sqlite3.Connection) -> None:
        f = self.facts
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
                    if self._is_mailbox(db, sender):
                        copies.append((sender, "Sent", True))
                    for box in self._expand(db, m.to + m.cc):
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

    @staticmethod
    def _is_mailbox(db: sqlite3.Connection, addr: str) -> bool:
        return db.execute("SELECT 1 FROM mailboxes WHERE address = ?", (addr,)).fetchone() is not None

    def _expand(self, db: sqlite3.Connection, addrs: list[str]) -> list[str]:
        """Local mailboxes that receive a copy (mailing lists expanded, duplicates removed, order kept)."""
        out: list[str] = []
        for a in addrs:
            a = parseaddr(a)[1].lower()
            row = db.execute("SELECT members FROM lists WHERE address = ?", (a,)).fetchone()
            for box in (json.loads(row[0]) if row else [a]):
                if box not in out and self._is_mailbox(db, box):
                    out.append(box)
        return out

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
                    if self._is_mailbox(db, t):
                        if t not in delivered and t != box:
                            store(t, "INBOX", False, [])
                            delivered.append(t)
                    elif t.endswith(domain):  # our own domain but nobody is there: refused like an SMTP RCPT
                        raise ApiError(422, f"no such mailbox: {t}")
                    elif t not in external:
                        external.append(t)
        row = db.execute("SELECT * FROM messages WHERE id = ?", (own_id,)).fetchone()
        return {"message": self._full(db, row), "delivered_to": delivered, "external": external}

    # -------------------------------------------------------------- routes
    def routes(self, app: FastAPI) -> None:
        aliases = {p.email: p.username for p in self.facts.people}
        accounts = Accounts.for_service(self.facts, self.name, aliases)
        auth = BearerAuth(accounts)
        User = Annotated[str, Depends(auth)]
        PageUser = Annotated[str, Depends(page_user(accounts))]
        Limit = Annotated[int, Query(ge=1, le=200, description="page size")]
        Offset = Annotated[int, Query(ge=0, le=1_000_000)]
        MsgId = Annotated[int, Path_(ge=1, le=2**62)]

        @app.get("/api/me", response_model=MeOut, tags=["mailboxes"])
        def me(user: User) -> dict:
            """Who you are and which mailboxes you can read."""
            with self.read() as db:
                p = self.facts.person(user)
                return {"username": user, "name": p.name, "email": p.email, "mailboxes": self._mailboxes(db, user)}

        @app.get("/api/mailboxes", response_model=list[MailboxOut], tags=["mailboxes"])
        def mailboxes(user: User) -> list:
            """Your mailbox and the shared mailboxes you are a member of."""
            with self.read() as db:
                return self._mailboxes(db, user)

        @app.get("/api/mailboxes/{address}/folders", response_model=list[FolderOut], tags=["folders"])
        def folders(address: str, user: User) -> list:
            """Folders of one mailbox with message counts."""
            with self.read() as db:
                box = self._box(db, user, address)
                return self._folders(db, box)

        @app.post("/api/mailboxes/{address}/folders", response_model=FolderOut, status_code=201, tags=["folders"])
        def create_folder(address: str, body: FolderIn, user: User, request: Request) -> dict:
            """Create a folder."""
            with self.write(request) as db:
                box = self._box(db, user, address)
                if db.execute("SELECT 1 FROM folders WHERE mailbox = ? AND lower(name) = lower(?)",
                              (box, body.name)).fetchone():
                    raise ApiError(409, f"folder {body.name!r} already exists in {box}", "conflict")
                db.execute("INSERT INTO folders (mailbox, name, system) VALUES (?, ?, 0)", (box, body.name))
                return {"name": body.name, "system": False, "total": 0, "unread": 0}

        @app.get("/api/messages", response_model=MessageList, response_model_by_alias=True, tags=["messages"])
        def list_messages(user: User, mailbox: str | None = None, folder: str | None = None,
                          q: Annotated[str | None, Query(max_length=200, description="words in subject, body, addresses")] = None,
                          sender: Annotated[str | None, Query(alias="from", max_length=200)] = None,
                          unread: bool | None = None, limit: Limit = 50, offset: Offset = 0) -> dict:
            """List or search messages, newest first. Without folder, q or from: the INBOX; with q: every folder."""
            with self.read() as db:
                return self.search(db, user, mailbox, folder, q, sender, unread, limit, offset)

        @app.get("/api/messages/{message_id}", response_model=MessageOut, tags=["messages"])
        def get_message(message_id: MsgId, user: User) -> dict:
            """One message with its body and attachment list (does not mark it read: PATCH does)."""
            with self.read() as db:
                return self._full(db, self._message_row(db, user, message_id))

        @app.patch("/api/messages/{message_id}", response_model=MessageOut, tags=["messages"])
        def patch_message(message_id: MsgId, body: PatchIn, user: User, request: Request) -> dict:
            """Mark read/unread, flag/unflag."""
            with self.write(request) as db:
                r = self._message_row(db, user, message_id)
                if body.read is not None:
                    db.execute("UPDATE messages SET is_read = ? WHERE id = ?", (int(body.read), r["id"]))
                if body.flagged is not None:
                    db.execute("UPDATE messages SET flagged = ? WHERE id = ?", (int(body.flagged), r["id"]))
                return self._full(db, self._message_row(db, user, message_id))

        @app.post("/api/messages/{message_id}/move", response_model=MessageOut, tags=["messages"])
        def move_message(message_id: MsgId, body: MoveIn, user: User, request: Request) -> dict:
            """Move a message to another folder of its mailbox."""
            with self.write(request) as db:
                r = self._message_row(db, user, message_id)
                folder = self._folder(db, r["mailbox"], body.folder)
                db.execute("UPDATE messages SET folder = ? WHERE id = ?", (folder, r["id"]))
                return self._full(db, self._message_row(db, user, message_id))

        @app.delete("/api/messages/{message_id}", response_model=DeleteOut, tags=["messages"])
        def delete_message(message_id: MsgId, user: User, request: Request) -> dict:
            """Move to Trash; a message already in Trash is deleted for good (with its attachments)."""
            with self.write(request) as db:
                r = self._message_row(db, user, message_id)
                if r["folder"] == "Trash":
                    db.execute("DELETE FROM attachments WHERE message = ?", (r["id"],))
                    db.execute("DELETE FROM messages WHERE id = ?", (r["id"],))
                    return {"id": r["id"], "deleted": True, "folder": None}
                db.execute("UPDATE messages SET folder = 'Trash' WHERE id = ?", (r["id"],))
                return {"id": r["id"], "deleted": False, "folder": "Trash"}

        @app.get("/api/messages/{message_id}/attachments/{attachment_id}", tags=["messages"],
                 response_class=Response, responses={200: {"content": {"application/octet-stream": {}},
                                                           "description": "the file"}})
        def download(message_id: MsgId, attachment_id: Annotated[int, Path_(ge=1, le=2**62)], user: User) -> Response:
            """The attachment's bytes, with its content type and file name."""
            with self.read() as db:
                return self._download(db, user, message_id, attachment_id)

        @app.post("/api/messages", response_model=SentOut, status_code=201, tags=["send"])
        def send(body: SendIn, user: User, request: Request) -> dict:
            """Send a message (or save a draft). Local recipients and mailing lists get a copy in their INBOX."""
            files = self._attachments_in(body.attachments)
            with self.write(request) as db:
                box = self._box(db, user, body.from_mailbox)
                return self.deliver(db, user, box, body.to, body.cc, body.bcc, body.subject, body.body, files,
                                    draft=body.draft)

        @app.post("/api/messages/{message_id}/reply", response_model=SentOut, status_code=201, tags=["send"])
        def reply(message_id: MsgId, body: ReplyIn, user: User, request: Request) -> dict:
            """Reply from the mailbox the message is in (to its sender; reply_all adds the other recipients)."""
            files = self._attachments_in(body.attachments)
            with self.write(request) as db:
                r = self._message_row(db, user, message_id)
                box = r["mailbox"]
                orig_from = parseaddr(r["sender"])[1].lower()
                to = [orig_from] if orig_from != box else json.loads(r["recipients"])
                cc: list[str] = []
                if body.reply_all:
                    cc = [a for a in json.loads(r["recipients"]) + json.loads(r["cc"]) if a.lower() not in (box, *to)]
                subject = r["subject"] if r["subject"].lower().startswith("re:") else f"Re: {r['subject']}"
                quoted = "\n".join("> " + line for line in r["body"].splitlines())
                text = f"{body.body}\n\nOn {r['date']}, {r['sender']} wrote:\n{quoted}\n"
                return self.deliver(db, user, box, to, cc, [], subject, text, files, r["message_id"], r["thread_id"])

        @app.post("/api/messages/{message_id}/forward", response_model=SentOut, status_code=201, tags=["send"])
        def forward(message_id: MsgId, body: ForwardIn, user: User, request: Request) -> dict:
            """Forward a message with its attachments."""
            with self.write(request) as db:
                r = self._message_row(db, user, message_id)
                files = [(a[0], a[1], a[2]) for a in db.execute(
                    "SELECT filename, content_type, data FROM attachments WHERE message = ? ORDER BY id", (r["id"],))]
                subject = r["subject"] if r["subject"].lower().startswith("fwd:") else f"Fwd: {r['subject']}"
                text = (f"{body.body}\n\n---------- Forwarded message ---------\nFrom: {r['sender']}\nDate: {r['date']}\n"
                        f"Subject: {r['subject']}\nTo: {', '.join(json.loads(r['recipients']))}\n\n{r['body']}")
                return self.deliver(db, user, r["mailbox"], body.to, body.cc, [], subject, text, files)

        # ---------------------------------------------------------- HTML pages
        @app.get("/", response_class=HTMLResponse, include_in_schema=False)
        def inbox_page(request: Request, user: PageUser, mailbox: str | None = None, folder: str | None = None,
                       q: str | None = None, page: Annotated[int, Query(ge=1, le=10_000)] = 1) -> HTMLResponse:
            link = Linker(request)
            with self.read() as db:
                res = self.search(db, user, mailbox, folder, q, None, None, 50, (page - 1) * 50)
                box = self._box(db, user, mailbox)
                boxes = self._mailboxes(db, user)
                folders = self._folders(db, box)
            side = " | ".join(link.a("/", f"{b['address']} ({b['unread']})", mailbox=b["address"]) for b in boxes)
            fl = " | ".join(link.a("/", f"{f['name']} ({f['unread']}/{f['total']})", mailbox=box, folder=f["name"])
                            for f in folders)
            form = (f'<form action="/" method="get"><input type="hidden" name="mailbox" value="{esc(box)}">'
                    + (f'<input type="hidden" name="token" value="{esc(link.token)}">' if link.token else "")
                    + f'<input name="q" value="{esc(q or "")}"> <button>Search</button></form>')
            rows = [[("" if m["read"] else "<b>new</b>"), esc(m["sender"]), link.a(f"/message/{m['id']}", m["subject"] or
                     "(no subject)"), esc(m["date"]), esc(m["folder"])] for m in res["messages"]]
            body = (f"<p>Mailboxes: {side}</p><p>Folders: {fl}</p>{form}<p>{res['total']} message(s)</p>"
                    + table(["", "From", "Subject", "Date", "Folder"], rows))
            return html_response(f"{box} - {folder or ('search' if q else 'INBOX')}", body, request, [("/", "Inbox")], user)

        @app.get("/message/{message_id}", response_class=HTMLResponse, include_in_schema=False)
        def message_page(message_id: MsgId, request: Request, user: PageUser) -> HTMLResponse:
            link = Linker(request)
            with self.read() as db:
                m = self._full(db, self._message_row(db, user, message_id))
            atts = "".join("<li>" + link.a(f"/attachment/{m['id']}/{a['id']}", a["filename"])
                           + f" ({esc(a['content_type'])}, {a['size']} bytes)</li>" for a in m["attachments"])
            body = (f"<dl><dt>From</dt><dd>{esc(m['sender'])}</dd><dt>To</dt><dd>{esc(', '.join(m['to']))}</dd>"
                    + (f"<dt>Cc</dt><dd>{esc(', '.join(m['cc']))}</dd>" if m["cc"] else "")
                    + f"<dt>Date</dt><dd>{esc(m['date'])}</dd><dt>Folder</dt><dd>{esc(m['mailbox'])} / {esc(m['folder'])}"
                    f"</dd></dl>\n<pre>{esc(m['body'])}</pre>" + (f"<h2>Attachments</h2><ul>{atts}</ul>" if atts else ""))
            return html_response(m["subject"] or "(no subject)", body, request,
                                 [(f"/?mailbox={m['mailbox']}", "Inbox")], user)

        @app.get("/attachment/{message_id}/{attachment_id}", include_in_schema=False)
        def attachment_page(message_id: MsgId, attachment_id: Annotated[int, Path_(ge=1, le=2**62)],
                            user: PageUser) -> Response:
            with self.read() as db:
                return self._download(db, user, message_id, attachment_id)

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

