"""IMAP4rev1 for the mail backend, on pymap: 993 with implicit TLS, 143 with STARTTLS (LOGIN refused before it).

pymap parses and answers every command (LOGIN, AUTHENTICATE, LIST, LSUB, STATUS, SELECT, EXAMINE, SEARCH, FETCH,
STORE, COPY, MOVE, EXPUNGE, UID ..., APPEND, CREATE); this module is its backend over the mail backend's SQL state,
read fresh at every command, so what the JSON API changes shows at the next command and the reverse:

- the folders of the user's mailbox are its IMAP mailboxes (``INBOX``, ``Sent``, ``Drafts``, ``Archive``,
  ``Trash``, ``Spam`` and any created), a shared mailbox's are under its address (``support@example.com/INBOX``);
- a message's UID is its id in the JSON API (``/api/messages/{id}``); the UID validity is fixed per folder (a
  message moved in by the API keeps its id, so a client that caches UIDs may not see it until it reselects);
- ``\\Seen`` is ``read``, ``\\Flagged`` is ``flagged``, ``\\Draft`` is ``draft`` (read-only); ``\\Deleted`` lasts for
  the session, until EXPUNGE, which deletes the message for good (with its attachments);
- each write is one transaction with the ``backend_change`` of the JSON API call that has the same effect: STORE
  ``\\Seen``/``\\Flagged`` is ``PATCH /api/messages/{id}``, MOVE within a mailbox is ``POST /api/messages/{id}/move``,
  CREATE is ``POST /api/mailboxes/{address}/folders``, EXPUNGE in Trash is ``DELETE /api/messages/{id}``. COPY,
  APPEND and EXPUNGE elsewhere, which the JSON API cannot do, name their IMAP command as ``method`` and the folder
  as ``path``. Every one carries ``via: imap``, ``command`` and ``session``.

Not served: RENAME and DELETE of folders (the JSON API has neither), IDLE, \\Answered and keywords.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import zlib
from argparse import Namespace
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager, closing
from datetime import datetime, timezone
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, getaddresses
from typing import Any

from proxyprotocol.sock import SocketInfoLocal
from pymap.backend.mailbox import MailboxDataInterface, MailboxSetInterface
from pymap.backend.session import BaseSession
from pymap.concurrent import Event, Subsystem
from pymap.config import BackendCapability, IMAPConfig
from pymap.context import connection_exit
from pymap.exceptions import InvalidAuth, NotSupportedError
from pymap.flags import FlagOp
from pymap.imap import IMAPConnection
from pymap.imap.state import ConnectionState
from pymap.interfaces.login import IdentityInterface, LoginInterface
from pymap.interfaces.message import CachedMessage
from pymap.listtree import ListTree
from pymap.mailbox import MailboxSnapshot
from pymap.message import BaseLoadedMessage, BaseMessage
from pymap.mime import MessageContent
from pymap.parsing.message import AppendMessage
from pymap.parsing.specials import FetchRequirement, ObjectId
from pymap.parsing.specials.flag import Deleted, Draft, Flag, Flagged, Seen
from pymap.selected import SelectedMailbox, SelectedSet
from pymap.token import AllTokens
from pymap.user import UserMetadata

from airgap.envs.backends.mail import ADDRESS
from airgap.envs.backends.mail.protocols import authenticate
from airgap.envs.backends.web import ApiError
from airgap.envs.common import parse_iso

FLAGS = frozenset({Seen, Flagged, Deleted, Draft})
COLUMNS = {Seen: "is_read", Flagged: "flagged"}  # what a STORE may change


class Message(BaseMessage):
    """A message's IMAP metadata; its text is made from the backend's row when a command needs it."""

    def __init__(self, folder: Folder, uid: int, date: datetime, flags: Iterable[Flag], *, expunged: bool = False):
        super().__init__(uid, date, flags, expunged=expunged)
        self.folder = folder

    async def load_content(self, requirement: FetchRequirement) -> BaseLoadedMessage:
        raw = await self.folder.call(self.folder.rfc822, self.uid) if not self.expunged else None
        return BaseLoadedMessage(self, requirement, MessageContent.parse(raw) if raw is not None else None)


def rfc822(row: Any, attachments: list[Any]) -> bytes:
    """The message as a client reads it: headers from the row, its body as text/plain, its files attached."""
    m = EmailMessage()
    m["From"] = row["sender"]
    for header, column in (("To", "recipients"), ("Cc", "cc"), ("Bcc", "bcc")):
        if json.loads(row[column]):
            m[header] = ", ".join(json.loads(row[column]))
    m["Subject"] = row["subject"]
    m["Date"] = format_datetime(parse_iso(row["date"]))
    m["Message-ID"] = row["message_id"]
    if row["in_reply_to"]:
        m["In-Reply-To"] = row["in_reply_to"]
    m.set_content(row["body"])
    for a in attachments:
        maintype, _, subtype = a["content_type"].partition("/")
        m.add_attachment(bytes(a["data"]), maintype=maintype or "application", subtype=subtype or "octet-stream",
                         filename=a["filename"])
    return m.as_bytes(policy=policy.SMTP)


class Folder(MailboxDataInterface[Message]):
    """One folder of one mailbox, as an IMAP mailbox (stateless: every call reads the backend)."""

    def __init__(self, account: Account, box: str, folder: str, name: str):
        self.account, self.box, self.folder, self.name = account, box, folder, name
        key = f"{box}/{folder}".encode()
        self._id = ObjectId(b"F" + hashlib.sha256(key).hexdigest()[:24].encode())
        self._validity = zlib.crc32(key) or 1
        self._selected_set = SelectedSet()

    # -- plumbing
    @property
    def backend(self) -> Any:
        return self.account.backend

    async def call(self, fn: Any, *args: Any) -> Any:
        """Run a backend call off the gateway's loop (the backend's lock may be held by an HTTP request)."""
        return await asyncio.to_thread(fn, *args)

    def origin(self, command: str, method: str | None = None, path: str | None = None, status: int = 200) -> dict:
        return {"method": method or command, "path": path or f"/{self.box}/{self.folder}", "status": status,
                "via": "imap", "command": command, "session": self.account.session.id}

    def _flags(self, row: Any) -> frozenset[Flag]:
        flags = {f for f, on in ((Seen, row["is_read"]), (Flagged, row["flagged"]), (Draft, row["draft"])) if on}
        if row["id"] in self.account.deleted:
            flags.add(Deleted)
        return frozenset(flags)

    def _message(self, row: Any) -> Message:
        return Message(self, row["id"], parse_iso(row["date"]), self._flags(row))

    def _rows(self) -> list[Any]:
        with self.backend.read() as db:
            return db.execute("SELECT id, date, is_read, flagged, draft FROM messages WHERE mailbox = ? AND folder = ? "
                              "ORDER BY id", (self.box, self.folder)).fetchall()

    def _row(self, uid: int) -> Any:
        with self.backend.read() as db:
            return db.execute("SELECT id, date, is_read, flagged, draft FROM messages WHERE id = ? AND mailbox = ? "
                              "AND folder = ?", (uid, self.box, self.folder)).fetchone()

    def rfc822(self, uid: int) -> bytes | None:
        with self.backend.read() as db:
            row = db.execute("SELECT * FROM messages WHERE id = ? AND mailbox = ?", (uid, self.box)).fetchone()
            if row is None:
                return None
            atts = db.execute("SELECT filename, content_type, data FROM attachments WHERE message = ? ORDER BY id",
                              (uid,)).fetchall()
            return rfc822(row, atts)

    # -- MailboxDataInterface
    @property
    def mailbox_id(self) -> ObjectId:
        return self._id

    @property
    def readonly(self) -> bool:
        return False

    @property
    def uid_validity(self) -> int:
        return self._validity

    @property
    def permanent_flags(self) -> frozenset[Flag]:
        return FLAGS

    @property
    def selected_set(self) -> SelectedSet:
        return self._selected_set

    async def update_selected(self, selected: SelectedMailbox, *, wait_on: Event | None = None) -> SelectedMailbox:
        rows = await self.call(self._rows)
        selected.set_messages([self._message(r) for r in rows])
        return selected

    async def append(self, append_msg: AppendMessage, *, recent: bool = False) -> Message:
        uid = await self.call(self._append, bytes(append_msg.literal), append_msg.flag_set, append_msg.when)
        row = await self.call(self._row, uid)
        return self._message(row)

    def _append(self, literal: bytes, flags: frozenset[Flag], when: datetime | None) -> int:
        msg = BytesParser(policy=policy.default).parsebytes(literal.replace(b"\r\n", b"\n"))  # IMAP's line ends
        addrs = {h: [a for _, a in getaddresses(msg.get_all(h) or []) if ADDRESS.match(a)] for h in ("to", "cc", "bcc")}
        part = msg.get_body(preferencelist=("plain", "html"))
        body = part.get_content() if part is not None else ""
        body = body[:-1] if body.endswith("\n") else body
        files = [(a.get_filename() or "attachment", a.get_content_type(), a.get_payload(decode=True) or b"")
                 for a in msg.iter_attachments()]
        b = self.backend
        with b.write(origin=self.origin("APPEND", status=201)) as db:
            n = db.execute("SELECT value FROM _meta WHERE key = 'ticks'").fetchone()[0]
            message_id = str(msg.get("message-id") or f"<m{n}.{self.box.split('@')[0]}@{b.facts.org.domain}>")
            sender = str(msg.get("from") or "") or f"{b.facts.person(self.account.user).name} <{self.box}>"
            date = b.now_iso(db) if when is None else when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            cur = db.execute(
                "INSERT INTO messages (mailbox, folder, message_id, thread_id, in_reply_to, sender, recipients, cc, bcc, "
                "subject, body, date, is_read, flagged, draft) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (self.box, self.folder, message_id, f"th_m{n}", msg.get("in-reply-to"), sender, json.dumps(addrs["to"]),
                 json.dumps(addrs["cc"]), json.dumps(addrs["bcc"]), str(msg.get("subject") or ""), body, date,
                 int(Seen in flags), int(Flagged in flags), int(Draft in flags)))
            for filename, ctype, data in files:
                db.execute("INSERT INTO attachments (message, filename, content_type, size, data) VALUES (?,?,?,?,?)",
                           (cur.lastrowid, filename, ctype, len(data), data))
            return cur.lastrowid

    async def copy(self, uid: int, destination: Folder, *, recent: bool = False) -> int | None:
        return await self.call(self._copy, uid, destination)

    def _copy(self, uid: int, dest: Folder) -> int | None:
        b = self.backend
        with b.write(origin=self.origin("COPY", path=f"/{dest.box}/{dest.folder}", status=201)) as db:
            row = db.execute("SELECT * FROM messages WHERE id = ? AND mailbox = ? AND folder = ?",
                             (uid, self.box, self.folder)).fetchone()
            if row is None:
                return None
            cols = [c for c in row.keys() if c not in ("id", "mailbox", "folder")]
            cur = db.execute(f"INSERT INTO messages (mailbox, folder, {', '.join(cols)}) VALUES (?, ?, "
                             f"{', '.join('?' * len(cols))})", (dest.box, dest.folder, *(row[c] for c in cols)))
            db.execute("INSERT INTO attachments (message, filename, content_type, size, data) SELECT ?, filename, "
                       "content_type, size, data FROM attachments WHERE message = ? ORDER BY id", (cur.lastrowid, uid))
            return cur.lastrowid

    async def move(self, uid: int, destination: Folder, *, recent: bool = False) -> int | None:
        if destination.box != self.box:  # another mailbox: a copy there, this one gone
            new = await self.copy(uid, destination)
            if new is not None:
                await self.delete([uid])
            return new
        return await self.call(self._move, uid, destination)

    def _move(self, uid: int, dest: Folder) -> int | None:
        origin = self.origin("MOVE", "POST", f"/api/messages/{uid}/move")
        with self.backend.write(origin=origin) as db:
            cur = db.execute("UPDATE messages SET folder = ? WHERE id = ? AND mailbox = ? AND folder = ?",
                             (dest.folder, uid, self.box, self.folder))
            return uid if cur.rowcount else None

    async def get(self, uid: int, cached_msg: CachedMessage) -> Message:
        row = await self.call(self._row, uid)
        if row is None:
            return Message(self, uid, cached_msg.internal_date, cached_msg.permanent_flags, expunged=True)
        return self._message(row)

    async def update(self, uid: int, cached_msg: CachedMessage, flag_set: frozenset[Flag], mode: FlagOp) -> Message:
        msg = await self.get(uid, cached_msg)
        if msg.expunged:
            return msg
        new = mode.apply(msg.permanent_flags, flag_set)
        if Deleted in new:
            self.account.deleted.add(uid)
        else:
            self.account.deleted.discard(uid)
        changes = {col: int(f in new) for f, col in COLUMNS.items() if (f in new) != (f in msg.permanent_flags)}
        if changes:
            await self.call(self._store, uid, changes)
        return await self.get(uid, cached_msg)

    def _store(self, uid: int, changes: dict[str, int]) -> None:
        with self.backend.write(origin=self.origin("STORE", "PATCH", f"/api/messages/{uid}")) as db:
            for col, value in changes.items():
                db.execute(f"UPDATE messages SET {col} = ? WHERE id = ?", (value, uid))

    async def delete(self, uids: Iterable[int]) -> None:
        for uid in list(uids):
            await self.call(self._expunge, uid)
            self.account.deleted.discard(uid)

    def _expunge(self, uid: int) -> None:
        in_trash = self.folder == "Trash"
        origin = self.origin("EXPUNGE", "DELETE" if in_trash else None, f"/api/messages/{uid}" if in_trash else None)
        with self.backend.write(origin=origin) as db:
            if db.execute("SELECT 1 FROM messages WHERE id = ? AND mailbox = ? AND folder = ?",
                          (uid, self.box, self.folder)).fetchone():
                db.execute("DELETE FROM attachments WHERE message = ?", (uid,))
                db.execute("DELETE FROM messages WHERE id = ?", (uid,))

    async def claim_recent(self, selected: SelectedMailbox) -> None:
        return None  # no \Recent: the backend does not track who saw a message arrive

    async def cleanup(self) -> None:
        return None

    async def messages(self) -> AsyncIterable[Message]:
        for row in await self.call(self._rows):
            yield self._message(row)

    async def snapshot(self) -> MailboxSnapshot:
        rows, top = await self.call(self._snapshot)
        unseen = [i for i, r in enumerate(rows, 1) if not r["is_read"]]
        return MailboxSnapshot(self.mailbox_id, self.readonly, self.uid_validity, self.permanent_flags,
                               self.session_flags, len(rows), 0, len(unseen), unseen[0] if unseen else None, top + 1)

    def _snapshot(self) -> tuple[list[Any], int]:
        rows = self._rows()
        with self.backend.read() as db:
            return rows, db.execute("SELECT coalesce(max(id), 0) FROM messages").fetchone()[0]


class Account(MailboxSetInterface[Folder]):
    """The user's mailboxes' folders, as IMAP mailboxes."""

    def __init__(self, backend: Any, user: str, session: Any):
        self.backend, self.user, self.session = backend, user, session
        self.deleted: set[int] = set()  # \Deleted, until EXPUNGE or the end of the session
        self._folders: dict[tuple[str, str], Folder] = {}

    def _names(self) -> dict[str, tuple[str, str]]:
        """IMAP name -> (mailbox, folder)."""
        b = self.backend
        with b.read() as db:
            own = b._own(self.user).lower()
            out = {}
            for box in b._boxes(db, self.user):
                for (folder,) in db.execute("SELECT name FROM folders WHERE mailbox = ? ORDER BY id", (box,)):
                    out[folder if box == own else f"{box}/{folder}"] = (box, folder)
            return out

    @property
    def delimiter(self) -> str:
        return "/"

    async def set_subscribed(self, name: str, subscribed: bool) -> None:
        return None  # every folder is subscribed

    async def list_subscribed(self) -> ListTree:
        return await self.list_mailboxes()

    async def list_mailboxes(self) -> ListTree:
        names = await asyncio.to_thread(self._names)
        return ListTree(self.delimiter).update("INBOX", *[n for n in names if n != "INBOX"])

    async def get_mailbox(self, name: str) -> Folder:
        names = await asyncio.to_thread(self._names)
        match = next((n for n in names if n == name or n.lower() == name.lower()), None)
        if match is None:
            raise KeyError(name)
        box, folder = names[match]
        if (box, folder) not in self._folders:
            self._folders[(box, folder)] = Folder(self, box, folder, match)
        return self._folders[(box, folder)]

    async def add_mailbox(self, name: str) -> ObjectId:
        box, folder = await asyncio.to_thread(self._create, name)
        return (await self.get_mailbox(name if box == self.backend._own(self.user) else f"{box}/{folder}")).mailbox_id

    def _create(self, name: str) -> tuple[str, str]:
        b = self.backend
        with b.read() as db:
            boxes = b._boxes(db, self.user)
        box, _, folder = name.rpartition("/") if name.rpartition("/")[0] in boxes else ("", "", name)
        box = box or b._own(self.user)
        if not folder or "/" in folder or len(folder) > 64:
            raise NotSupportedError(f"a folder name is 1 to 64 characters without '/' (under a mailbox: ADDRESS/NAME), "
                                    f"not {name!r}")
        origin = {"method": "POST", "path": f"/api/mailboxes/{box}/folders", "status": 201, "via": "imap",
                  "command": "CREATE", "session": self.session.id}
        with b.write(origin=origin) as db:
            if db.execute("SELECT 1 FROM folders WHERE mailbox = ? AND lower(name) = lower(?)", (box, folder)).fetchone():
                raise ValueError(name)
            db.execute("INSERT INTO folders (mailbox, name, system) VALUES (?, ?, 0)", (box, folder))
        return box, folder

    async def delete_mailbox(self, name: str) -> None:
        raise NotSupportedError("folders cannot be deleted here (nor in the webmail)")

    async def rename_mailbox(self, before: str, after: str) -> None:
        raise NotSupportedError("folders cannot be renamed here (nor in the webmail)")


class Session(BaseSession[Message]):
    def __init__(self, account: Account, config: IMAPConfig):
        super().__init__(account.user)
        self._account, self._config = account, config

    @property
    def config(self) -> IMAPConfig:
        return self._config

    @property
    def mailbox_set(self) -> Account:
        return self._account


class Identity(IdentityInterface):
    def __init__(self, login: Login, user: str):
        self.login, self._name = login, user

    @property
    def name(self) -> str:
        return self._name

    @property
    def roles(self) -> frozenset[str]:
        return frozenset()

    @asynccontextmanager
    async def new_session(self) -> AsyncIterator[Session]:
        yield Session(Account(self.login.backend, self._name, self.login.session), self.login.config)

    async def new_token(self, *, expiration: datetime | None = None) -> str | None:
        return None

    async def get(self) -> UserMetadata:
        return UserMetadata(self.login.config, self._name)

    async def set(self, metadata: UserMetadata) -> int | None:
        raise NotSupportedError("accounts are the world's")

    async def delete(self) -> None:
        raise NotSupportedError("accounts are the world's")


class Login(LoginInterface):
    """Signs in with the world's credentials (``protocols.authenticate``)."""

    def __init__(self, backend: Any, session: Any, config: IMAPConfig):
        self.backend, self.session, self.config = backend, session, config
        self._tokens = AllTokens(config)

    @property
    def tokens(self) -> AllTokens:
        return self._tokens

    async def authenticate(self, credentials: Any) -> Identity:
        user = authenticate(self.backend, credentials.authcid, "", verify=credentials.verify)
        if user is None:
            self.session.log(event="auth_failed", login=str(credentials.authcid)[:200])
            raise InvalidAuth()
        self.session.log(event="login", user=user)
        return Identity(self, user)

    async def authorize(self, authenticated: Identity, authzid: str) -> Identity:
        """Only as oneself (SASL's authzid defaults to the login given: the username or the e-mail address)."""
        aliases = self.backend.accounts.aliases
        if authzid and aliases.get(authzid, aliases.get(authzid.lower(), authzid)) != authenticated.name:
            raise InvalidAuth("you may act only as yourself")
        return authenticated


class Config(IMAPConfig):
    """pymap's settings for one connection: STARTTLS offered (and required before LOGIN) unless TLS is on already."""

    def __init__(self, session: Any, implicit: bool):
        super().__init__(Namespace(passlib_cfg=None, proxy_protocol=None), host=None, port=session.port,
                         ssl_context=session.tls_context, tls_enabled=not implicit, reject_dnsbl=False,
                         cpu_subsystem=Subsystem.for_asyncio(), invalid_user_sleep=0.0, bad_command_limit=10)
        self._host = session.host

    @property
    def backend_capability(self) -> BackendCapability:
        return BackendCapability(idle=False, object_id=False, multi_append=False)

    @property
    def greeting(self) -> bytes:
        return f"{self._host} Airgap IMAP4rev1 ready".encode()


class _Remote(SocketInfoLocal):
    """The client is in the sandbox, not on this host: pymap must not treat it as local (it would allow LOGIN
    before STARTTLS)."""

    @property
    def from_localhost(self) -> bool:
        return False


class LoggedConnection(IMAPConnection):
    """pymap's connection, with every command (and its tagged result) a ``protocol`` event of the session."""

    __slots__ = ["airgap", "pending"]

    async def read_command(self, state: ConnectionState) -> Any:
        cmd = await super().read_command(state)
        self.pending = cmd
        return cmd

    async def write_response(self, resp: Any) -> None:
        await super().write_response(resp)
        cmd = getattr(self, "pending", None)
        if cmd is not None and getattr(resp, "tag", None) == cmd.tag:
            self.pending = None
            name = cmd.command.decode("ascii", "replace")
            said = {}
            for attr in ("mailbox", "mech_name"):  # never LOGIN's password
                value = getattr(cmd, attr, None)
                if isinstance(value, (str, bytes)):
                    said[attr if attr == "mailbox" else "mechanism"] = value if isinstance(value, str) else value.decode(
                        "utf-8", "replace")
            if name == "LOGIN":
                said["login"] = cmd.userid.decode("utf-8", "replace")[:200]
            self.airgap.log(command=name, tag=cmd.tag.decode("ascii", "replace")[:40],
                            result=resp.condition.decode("ascii", "replace"), **said)

    async def start_tls(self) -> None:
        await super().start_tls()
        self.airgap.tls = True


def imap_protocol(backend: Any, session: Any, implicit: bool) -> asyncio.StreamReaderProtocol:
    """One IMAP connection: pymap's command loop on the relayed stream."""
    config = Config(session, implicit)
    login = Login(backend, session, config)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 16, loop=loop)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session.log(event="connect")
        conn = LoggedConnection(config.commands, config, reader, writer, _Remote(writer))
        conn.airgap = session
        state = ConnectionState(login, config)
        try:
            async with AsyncExitStack() as stack:
                connection_exit.set(stack)
                stack.enter_context(closing(conn))
                await conn.run(state)
        except (ConnectionError, ApiError) as e:
            session.log(event="error", error=repr(e)[:300])
        finally:
            session.log(event="close")

    return asyncio.StreamReaderProtocol(reader, serve, loop=loop)

