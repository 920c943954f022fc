"""The chat backend: channels, direct messages, threads and the user directory, in Slack Web API shapes."""
import base64
import hashlib
import re
import sqlite3
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from airgap.envs.backends.base import register_backend
from airgap.envs.backends.sqlstore import SqliteBackend
from airgap.envs.backends.web import SLACK, Accounts, ApiError, BearerAuth, Linker, esc, html_response, page_user
from airgap.envs.common import parse_iso
from airgap.envs.worldgen import WorldFacts

SCHEMA = """
CREATE TABLE users (id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE, real_name TEXT NOT NULL, display_name TEXT NOT NULL,
                    email TEXT NOT NULL, title TEXT NOT NULL, tz TEXT NOT NULL, deleted INTEGER NOT NULL);
CREATE TABLE channels (id TEXT PRIMARY KEY, name TEXT NOT NULL, is_private INTEGER NOT NULL, is_im INTEGER NOT NULL,
                       topic TEXT NOT NULL, purpose TEXT NOT NULL, creator TEXT NOT NULL, created INTEGER NOT NULL,
                       is_archived INTEGER NOT NULL);
CREATE TABLE members (id INTEGER PRIMARY KEY, channel TEXT NOT NULL, user TEXT NOT NULL, UNIQUE (channel, user));
CREATE TABLE messages (ts TEXT PRIMARY KEY, channel TEXT NOT NULL, user TEXT NOT NULL, text TEXT NOT NULL, thread_ts TEXT,
                       edited_ts TEXT);
CREATE INDEX messages_channel ON messages (channel, ts);
CREATE TABLE reactions (id INTEGER PRIMARY KEY, message TEXT NOT NULL, name TEXT NOT NULL, user TEXT NOT NULL,
                        UNIQUE (message, name, user));
"""

CHANNEL_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,79}$")
ChannelId = Annotated[str, Query(min_length=1, max_length=32, description="a channel id (C..., G..., D...) or #name")]
Ts = Annotated[str, Query(min_length=1, max_length=32, pattern=r"^[0-9]{1,12}\.[0-9]{1,6}$")]
TsField = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[0-9]{1,12}\.[0-9]{1,6}$")]


def _sid(prefix: str, *parts: str) -> str:
    digest = hashlib.sha256(":".join(parts).encode()).digest()
    return prefix + base64.b32encode(digest).decode()[:10]


def dm_id(seed: int, a: str, b: str) -> str:
    """The conversation id of the direct messages between users ``a`` and ``b`` in world ``seed`` (stable, as Slack's)."""
    return _sid("D", str(seed), "dm", *sorted([a, b]))


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Profile(BaseModel):
    real_name: str
    display_name: str
    email: str
    title: str


class UserOut(BaseModel):
    id: str
    name: str
    real_name: str
    tz: str
    deleted: bool
    is_bot: bool
    profile: Profile


class TopicOut(BaseModel):
    value: str
    creator: str
    last_set: int


class ChannelOut(BaseModel):
    id: str
    name: str | None
    is_channel: bool
    is_group: bool
    is_im: bool
    is_private: bool
    is_archived: bool
    is_member: bool
    created: int
    creator: str
    user: str | None = Field(None, description="for a DM: the other person")
    topic: TopicOut
    purpose: TopicOut
    num_members: int


class Reaction(BaseModel):
    name: str
    users: list[str]
    count: int


class MessageOut(BaseModel):
    type: str
    ts: str
    user: str
    text: str
    thread_ts: str | None = None
    reply_count: int | None = None
    edited: dict[str, str] | None = None
    reactions: list[Reaction] | None = None


class Meta(BaseModel):
    next_cursor: str


class OkOut(BaseModel):
    ok: bool


class AuthTestOut(OkOut):
    url: str
    team: str
    team_id: str
    user: str
    user_id: str


class UsersOut(OkOut):
    members: list[UserOut]
    response_metadata: Meta


class UserInfoOut(OkOut):
    user: UserOut


class ChannelsOut(OkOut):
    channels: list[ChannelOut]
    response_metadata: Meta


class ChannelInfoOut(OkOut):
    channel: ChannelOut


class MembersOut(OkOut):
    members: list[str]
    response_metadata: Meta


class HistoryOut(OkOut):
    messages: list[MessageOut]
    has_more: bool
    response_metadata: Meta


class PostOut(OkOut):
    channel: str
    ts: str
    message: MessageOut


class SearchMatch(MessageOut):
    channel: dict[str, str | None]
    permalink: str


class SearchPaging(BaseModel):
    total: int
    matches: list[SearchMatch]


class SearchOut(OkOut):
    query: str
    messages: SearchPaging


class PostIn(Strict):
    channel: str = Field(min_length=1, max_length=32)
    text: str = Field(min_length=1, max_length=40_000)
    thread_ts: TsField | None = None


class UpdateIn(Strict):
    channel: str = Field(min_length=1, max_length=32)
    ts: TsField
    text: str = Field(min_length=1, max_length=40_000)


class DeleteIn(Strict):
    channel: str = Field(min_length=1, max_length=32)
    ts: TsField


class OpenIn(Strict):
    users: str = Field(min_length=1, max_length=400, description="comma-separated user ids (or usernames)")


class CreateIn(Strict):
    name: str = Field(min_length=1, max_length=80, pattern=CHANNEL_NAME.pattern,
                      description="lower case letters, digits, - and _")
    is_private: bool = False


class ChannelIn(Strict):
    channel: str = Field(min_length=1, max_length=32)


class InviteIn(Strict):
    channel: str = Field(min_length=1, max_length=32)
    users: str = Field(min_length=1, max_length=400)


class TopicIn(Strict):
    channel: str = Field(min_length=1, max_length=32)
    topic: str = Field(max_length=250)


class ReactionIn(Strict):
    channel: str = Field(min_length=1, max_length=32)
    timestamp: TsField
    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_+-]+$")


def _cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        kind, _, n = base64.b64decode(cursor, validate=True).decode().partition(":")
        if kind == "offset" and n.isdigit() and int(n) < 10**9:
            return int(n)
    except (ValueError, UnicodeDecodeError):
        pass
    raise ApiError(422, f"invalid cursor {cursor!r}: pass back a next_cursor you were given", "invalid_cursor")


@register_backend
class ChatBackend(SqliteBackend):
    name = "chat"
    title = "Chat"
    schema = SCHEMA
    style = SLACK
    api_description = ("Team chat with Slack Web API shapes: read methods are GET /api/<method>?..., write methods POST "
                       "JSON. Every answer has ok: true|false; failures carry a Slack error code and an HTTP 4xx status.")

    def hosts_for(self, facts: WorldFacts) -> list[str]:
        return [f"chat.{facts.org.domain}"]

    def user_id(self, username: str) -> str:
        return _sid("U", str(self.facts.seed), "user", username)

    def seed(self, db: sqlite3.Connection) -> None:
        f = self.facts
        uid = {p.username: self.user_id(p.username) for p in f.people}
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
            cid = _sid("G" if c.private else "C", str(f.seed), "channel", c.name)
            created = int(parse_iso(c.created).timestamp())
            db.execute("INSERT INTO channels VALUES (?,?,?,0,?,?,?,?,0)", (cid, c.name, int(c.private), c.topic, c.purpose,
                                                                           uid[c.members[0]], created))
            db.executemany("INSERT INTO members (channel, user) VALUES (?, ?)", [(cid, uid[m]) for m in c.members])
            add(cid, c.messages)
        for d in f.dms:
            cid = _sid("D", str(f.seed), "dm", *d.members)
            if db.execute("SELECT 1 FROM channels WHERE id = ?", (cid,)).fetchone():
                add(cid, d.messages)
                continue
            first = d.messages[0].ts if d.messages else f.now
            db.execute("INSERT INTO channels VALUES (?,'',0,1,'','',?,?,0)", (cid, uid[d.members[0]],
                                                                              int(parse_iso(first).timestamp())))
            db.executemany("INSERT INTO members (channel, user) VALUES (?, ?)", [(cid, uid[m]) for m in d.members])
            add(cid, d.messages)

    # -------------------------------------------------------------- helpers
    def _me(self, user: str) -> str:
        return self.user_id(user)

    def _user_json(self, r: sqlite3.Row) -> dict[str, Any]:
        return {"id": r["id"], "name": r["username"], "real_name": r["real_name"], "tz": r["tz"],
                "deleted": bool(r["deleted"]), "is_bot": False,
                "profile": {"real_name": r["real_name"], "display_name": r["display_name"], "email": r["email"],
                            "title": r["title"]}}

    def _resolve_user(self, db: sqlite3.Connection, ref: str) -> sqlite3.Row:
        ref = ref.strip().lstrip("@")
        r = db.execute("SELECT * FROM users WHERE id = ? OR username = ? OR email = lower(?)", (ref, ref, ref)).fetchone()
        if r is None:
            raise ApiError(404, f"no user {ref!r}", "user_not_found")
        return r

    def _channel(self, db: sqlite3.Connection, me: str, ref: str, must_be_member: bool = False) -> sqlite3.Row:
        ref = ref.strip()
        c = db.execute("SELECT * FROM channels WHERE id = ? OR (is_im = 0 AND name = ?)", (ref, ref.lstrip("#"))).fetchone()
        member = c is not None and self._is_member(db, c["id"], me)
        if c is None or ((c["is_private"] or c["is_im"]) and not member):
            raise ApiError(404, f"channel {ref!r} not found", "channel_not_found")
        if must_be_member and not member:
            raise ApiError(403, f"you are not in #{c['name']}: conversations.join first", "not_in_channel")
        return c

    @staticmethod
    def _is_member(db: sqlite3.Connection, cid: str, uid: str) -> bool:
        return db.execute("SELECT 1 FROM members WHERE channel = ? AND user = ?", (cid, uid)).fetchone() is not None

    def _channel_json(self, db: sqlite3.Connection, c: sqlite3.Row, me: str) -> dict[str, Any]:
        n = db.execute("SELECT count(*) FROM members WHERE channel = ?", (c["id"],)).fetchone()[0]
        other = None
        if c["is_im"]:
            row = db.execute("SELECT user FROM members WHERE channel = ? AND user != ? LIMIT 1", (c["id"], me)).fetchone()
            other = row[0] if row else me
        topic = lambda v: {"value": v, "creator": c["creator"] if v else "", "last_set": c["created"] if v else 0}  # noqa: E731
        return {"id": c["id"], "name": None if c["is_im"] else c["name"], "is_channel": not c["is_im"] and not c["is_private"],
                "is_group": bool(c["is_private"]), "is_im": bool(c["is_im"]), "is_private": bool(c["is_private"] or c["is_im"]),
                "is_archived": bool(c["is_archived"]), "is_member": self._is_member(db, c["id"], me),
                "created": c["created"], "creator": c["creator"], "user": other, "topic": topic(c["topic"]),
                "purpose": topic(c["purpose"]), "num_members": n}

    def _message_json(self, db: sqlite3.Connection, m: sqlite3.Row) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "message", "ts": m["ts"], "user": m["user"], "text": m["text"]}
        if m["thread_ts"]:
            out["thread_ts"] = m["thread_ts"]
        else:
            n = db.execute("SELECT count(*) FROM messages WHERE thread_ts = ?", (m["ts"],)).fetchone()[0]
            if n:
                out.update(thread_ts=m["ts"], reply_count=n)
        if m["edited_ts"]:
            out["edited"] = {"user": m["user"], "ts": m["edited_ts"]}
        reacts: dict[str, list[str]] = {}
        for name, u in db.execute("SELECT name, user FROM reactions WHERE message = ? ORDER BY id", (m["ts"],)):
            reacts.setdefault(name, []).append(u)
        if reacts:
            out["reactions"] = [{"name": k, "users": v, "count": len(v)} for k, v in reacts.items()]
        return out

    def _new_ts(self, db: sqlite3.Connection) -> str:
        ticks = db.execute("SELECT value FROM _meta WHERE key = 'ticks'").fetchone()[0]
        base = int(self.now(db).timestamp())
        return f"{base}.{900000 + int(ticks) % 100000:06d}"

    def _message(self, db: sqlite3.Connection, channel: str, ts: str) -> sqlite3.Row:
        m = db.execute("SELECT * FROM messages WHERE channel = ? AND ts = ?", (channel, ts)).fetchone()
        if m is None:
            raise ApiError(404, f"no message {ts} in this channel", "message_not_found")
        return m

    def visible_channels(self, db: sqlite3.Connection, me: str, types: set[str], exclude_archived: bool) -> list[sqlite3.Row]:
        rows = db.execute("SELECT * FROM channels ORDER BY is_im, name, id").fetchall()
        out = []
        for c in rows:
            kind = "im" if c["is_im"] else "private_channel" if c["is_private"] else "public_channel"
            if kind not in types or (exclude_archived and c["is_archived"]):
                continue
            if kind != "public_channel" and not self._is_member(db, c["id"], me):
                continue
            out.append(c)
        return out

    # -------------------------------------------------------------- routes
    def routes(self, app: FastAPI) -> None:
        accounts = Accounts.for_service(self.facts, self.name, {p.email: p.username for p in self.facts.people})
        auth = BearerAuth(accounts, "A user token (xoxp-...).")
        User = Annotated[str, Depends(auth)]
        PageUser = Annotated[str, Depends(page_user(accounts))]
        Limit = Annotated[int, Query(ge=1, le=1000)]
        Cursor = Annotated[str | None, Query(max_length=200)]

        @app.get("/api/auth.test", response_model=AuthTestOut, tags=["auth"])
        def auth_test(request: Request, user: User) -> dict:
            """Who the token belongs to."""
            return {"ok": True, "url": f"https://{self.hosts[0]}/", "team": self.facts.org.name,
                    "team_id": _sid("T", str(self.facts.seed), "team"), "user": user, "user_id": self._me(user)}

        @app.get("/api/users.list", response_model=UsersOut, tags=["users"])
        def users_list(user: User, limit: Limit = 200, cursor: Cursor = None) -> dict:
            """The user directory."""
            with self.read() as db:
                off = _offset(cursor)
                rows = db.execute("SELECT * FROM users ORDER BY username LIMIT ? OFFSET ?", (limit + 1, off)).fetchall()
            nxt = _cursor(off + limit) if len(rows) > limit else ""
            return {"ok": True, "members": [self._user_json(r) for r in rows[:limit]], "response_metadata": {"next_cursor": nxt}}

        @app.get("/api/users.info", response_model=UserInfoOut, tags=["users"])
        def users_info(user: User, user_id: Annotated[str, Query(alias="user", min_length=1, max_length=64)]) -> dict:
            """One user, by id (or username)."""
            with self.read() as db:
                return {"ok": True, "user": self._user_json(self._resolve_user(db, user_id))}

        @app.get("/api/users.lookupByEmail", response_model=UserInfoOut, tags=["users"])
        def users_by_email(user: User, email: Annotated[str, Query(min_length=3, max_length=200)]) -> dict:
            """One user, by e-mail address."""
            with self.read() as db:
                r = db.execute("SELECT * FROM users WHERE email = lower(?)", (email,)).fetchone()
                if r is None:
                    raise ApiError(404, f"no user with e-mail {email}", "users_not_found")
                return {"ok": True, "user": self._user_json(r)}

        @app.get("/api/conversations.list", response_model=ChannelsOut, tags=["conversations"])
        def conversations_list(user: User, types: Annotated[str, Query(max_length=100)] = "public_channel",
                               exclude_archived: bool = False, limit: Limit = 100, cursor: Cursor = None) -> dict:
            """Channels you can see: types is a comma-separated subset of public_channel, private_channel, im."""
            wanted = {t.strip() for t in types.split(",") if t.strip()}
            bad = wanted - {"public_channel", "private_channel", "im", "mpim"}
            if bad or not wanted:
                raise ApiError(422, f"unknown conversation types {sorted(bad) or types!r}", "invalid_types")
            with self.read() as db:
                me = self._me(user)
                rows = self.visible_channels(db, me, wanted, exclude_archived)
                off = _offset(cursor)
                page = rows[off: off + limit]
                nxt = _cursor(off + limit) if off + limit < len(rows) else ""
                return {"ok": True, "channels": [self._channel_json(db, c, me) for c in page],
                        "response_metadata": {"next_cursor": nxt}}

        @app.get("/api/conversations.info", response_model=ChannelInfoOut, tags=["conversations"])
        def conversations_info(user: User, channel: ChannelId) -> dict:
            """One channel."""
            with self.read() as db:
                me = self._me(user)
                return {"ok": True, "channel": self._channel_json(db, self._channel(db, me, channel), me)}

        @app.get("/api/conversations.members", response_model=MembersOut, tags=["conversations"])
        def conversations_members(user: User, channel: ChannelId) -> dict:
            """User ids of a channel's members."""
            with self.read() as db:
                c = self._channel(db, self._me(user), channel)
                ids = [r[0] for r in db.execute("SELECT user FROM members WHERE channel = ? ORDER BY id", (c["id"],))]
                return {"ok": True, "members": ids, "response_metadata": {"next_cursor": ""}}

        @app.get("/api/conversations.history", response_model=HistoryOut, tags=["conversations"])
        def history(user: User, channel: ChannelId, limit: Limit = 100, cursor: Cursor = None,
                    oldest: Annotated[str | None, Query(max_length=32)] = None,
                    latest: Annotated[str | None, Query(max_length=32)] = None) -> dict:
            """Top-level messages of a channel, newest first (thread replies: conversations.replies)."""
            with self.read() as db:
                c = self._channel(db, self._me(user), channel)
                where, args = "channel = ? AND thread_ts IS NULL", [c["id"]]
                if oldest:
                    where += " AND CAST(ts AS REAL) >= CAST(? AS REAL)"
                    args.append(oldest)
                if latest:
                    where += " AND CAST(ts AS REAL) <= CAST(? AS REAL)"
                    args.append(latest)
                off = _offset(cursor)
                rows = db.execute(f"SELECT * FROM messages WHERE {where} ORDER BY CAST(ts AS REAL) DESC, ts DESC "
                                  "LIMIT ? OFFSET ?", (*args, limit + 1, off)).fetchall()
                more = len(rows) > limit
                return {"ok": True, "messages": [self._message_json(db, m) for m in rows[:limit]], "has_more": more,
                        "response_metadata": {"next_cursor": _cursor(off + limit) if more else ""}}

        @app.get("/api/conversations.replies", response_model=HistoryOut, tags=["conversations"])
        def replies(user: User, channel: ChannelId, ts: Ts, limit: Limit = 200, cursor: Cursor = None) -> dict:
            """A thread: the parent message first, then its replies, oldest first."""
            with self.read() as db:
                c = self._channel(db, self._me(user), channel)
                parent = self._message(db, c["id"], ts)
                root = parent["thread_ts"] or parent["ts"]
                rows = db.execute("SELECT * FROM messages WHERE channel = ? AND (ts = ? OR thread_ts = ?) "
                                  "ORDER BY CAST(ts AS REAL), ts", (c["id"], root, root)).fetchall()
                off = _offset(cursor)
                page = rows[off: off + limit]
                more = off + limit < len(rows)
                return {"ok": True, "messages": [self._message_json(db, m) for m in page], "has_more": more,
                        "response_metadata": {"next_cursor": _cursor(off + limit) if more else ""}}

        @app.post("/api/chat.postMessage", response_model=PostOut, tags=["chat"])
        def post_message(body: PostIn, request: Request, user: User) -> dict:
            """Post to a channel or DM you are in; thread_ts makes it a reply in that thread."""
            with self.write(request) as db:
                me = self._me(user)
                c = self._channel(db, me, body.channel, must_be_member=True)
                if c["is_archived"]:
                    raise ApiError(409, "the channel is archived", "is_archived")
                parent = None
                if body.thread_ts:
                    p = self._message(db, c["id"], body.thread_ts)
                    parent = p["thread_ts"] or p["ts"]
                ts = self._new_ts(db)
                db.execute("INSERT INTO messages VALUES (?,?,?,?,?,NULL)", (ts, c["id"], me, body.text, parent))
                return {"ok": True, "channel": c["id"], "ts": ts,
                        "message": self._message_json(db, self._message(db, c["id"], ts))}

        @app.post("/api/chat.update", response_model=PostOut, tags=["chat"])
        def update_message(body: UpdateIn, request: Request, user: User) -> dict:
            """Edit one of your messages."""
            with self.write(request) as db:
                me = self._me(user)
                c = self._channel(db, me, body.channel)
                m = self._message(db, c["id"], body.ts)
                if m["user"] != me:
                    raise ApiError(403, "you can only edit your own messages", "cant_update_message")
                db.execute("UPDATE messages SET text = ?, edited_ts = ? WHERE ts = ?", (body.text, self._new_ts(db), m["ts"]))
                return {"ok": True, "channel": c["id"], "ts": m["ts"],
                        "message": self._message_json(db, self._message(db, c["id"], m["ts"]))}

        @app.post("/api/chat.delete", response_model=OkOut, tags=["chat"])
        def delete_message(body: DeleteIn, request: Request, user: User) -> dict:
            """Delete one of your messages (its thread replies stay)."""
            with self.write(request) as db:
                me = self._me(user)
                c = self._channel(db, me, body.channel)
                m = self._message(db, c["id"], body.ts)
                if m["user"] != me:
                    raise ApiError(403, "you can only delete your own messages", "cant_delete_message")
                db.execute("DELETE FROM reactions WHERE message = ?", (m["ts"],))
                db.execute("DELETE FROM messages WHERE ts = ?", (m["ts"],))
                return {"ok": True}

        @app.post("/api/conversations.open", response_model=ChannelInfoOut, tags=["conversations"])
        def open_dm(body: OpenIn, request: Request, user: User) -> dict:
            """Open (or find) the direct-message conversation with one other person."""
            with self.write(request) as db:
                me = self._me(user)
                refs = [u for u in body.users.split(",") if u.strip()]
                if len(refs) != 1:
                    raise ApiError(422, "give exactly one other user (group DMs are not supported)", "invalid_users")
                other = self._resolve_user(db, refs[0])
                pair = sorted({db.execute("SELECT username FROM users WHERE id = ?", (me,)).fetchone()[0],
                               other["username"]})
                cid = _sid("D", str(self.facts.seed), "dm", *pair)
                if not db.execute("SELECT 1 FROM channels WHERE id = ?", (cid,)).fetchone():
                    db.execute("INSERT INTO channels VALUES (?,'',0,1,'','',?,?,0)", (cid, me, int(self.now(db).timestamp())))
                    for u in {me, other["id"]}:
                        db.execute("INSERT INTO members (channel, user) VALUES (?, ?)", (cid, u))
                c = db.execute("SELECT * FROM channels WHERE id = ?", (cid,)).fetchone()
                return {"ok": True, "channel": self._channel_json(db, c, me)}

        @app.post("/api/conversations.create", response_model=ChannelInfoOut, tags=["conversations"])
        def create_channel(body: CreateIn, request: Request, user: User) -> dict:
            """Create a channel (you become its first member)."""
            with self.write(request) as db:
                me = self._me(user)
                if db.execute("SELECT 1 FROM channels WHERE name = ? AND is_im = 0", (body.name,)).fetchone():
                    raise ApiError(409, f"#{body.name} already exists", "name_taken")
                cid = _sid("G" if body.is_private else "C", str(self.facts.seed), "channel", body.name)
                db.execute("INSERT INTO channels VALUES (?,?,?,0,'','',?,?,0)",
                           (cid, body.name, int(body.is_private), me, int(self.now(db).timestamp())))
                db.execute("INSERT INTO members (channel, user) VALUES (?, ?)", (cid, me))
                return {"ok": True, "channel": self._channel_json(db, self._channel(db, me, cid), me)}

        @app.post("/api/conversations.join", response_model=ChannelInfoOut, tags=["conversations"])
        def join(body: ChannelIn, request: Request, user: User) -> dict:
            """Join a public channel."""
            with self.write(request) as db:
                me = self._me(user)
                c = self._channel(db, me, body.channel)
                if c["is_im"] or c["is_private"]:
                    raise ApiError(403, "only public channels can be joined", "method_not_supported_for_channel_type")
                db.execute("INSERT OR IGNORE INTO members (channel, user) VALUES (?, ?)", (c["id"], me))
                return {"ok": True, "channel": self._channel_json(db, c, me)}

        @app.post("/api/conversations.invite", response_model=ChannelInfoOut, tags=["conversations"])
        def invite(body: InviteIn, request: Request, user: User) -> dict:
            """Add people to a channel you are in."""
            with self.write(request) as db:
                me = self._me(user)
                c = self._channel(db, me, body.channel, must_be_member=True)
                if c["is_im"]:
                    raise ApiError(403, "cannot invite to a direct message", "method_not_supported_for_channel_type")
                for ref in [u for u in body.users.split(",") if u.strip()]:
                    db.execute("INSERT OR IGNORE INTO members (channel, user) VALUES (?, ?)",
                               (c["id"], self._resolve_user(db, ref)["id"]))
                return {"ok": True, "channel": self._channel_json(db, c, me)}

        @app.post("/api/conversations.setTopic", response_model=ChannelInfoOut, tags=["conversations"])
        def set_topic(body: TopicIn, request: Request, user: User) -> dict:
            """Set the topic of a channel you are in."""
            with self.write(request) as db:
                me = self._me(user)
                c = self._channel(db, me, body.channel, must_be_member=True)
                db.execute("UPDATE channels SET topic = ? WHERE id = ?", (body.topic, c["id"]))
                return {"ok": True, "channel": self._channel_json(db, self._channel(db, me, c["id"]), me)}

        @app.post("/api/reactions.add", response_model=OkOut, tags=["chat"])
        def react(body: ReactionIn, request: Request, user: User) -> dict:
            """Add an emoji reaction to a message."""
            with self.write(request) as db:
                me = self._me(user)
                c = self._channel(db, me, body.channel)
                m = self._message(db, c["id"], body.timestamp)
                if db.execute("SELECT 1 FROM reactions WHERE message = ? AND name = ? AND user = ?",
                              (m["ts"], body.name, me)).fetchone():
                    raise ApiError(409, "you already reacted with this emoji", "already_reacted")
                db.execute("INSERT INTO reactions (message, name, user) VALUES (?, ?, ?)", (m["ts"], body.name, me))
                return {"ok": True}

        @app.get("/api/search.messages", response_model=SearchOut, tags=["search"])
        def search(user: User, query: Annotated[str, Query(min_length=1, max_length=200)],
                   count: Annotated[int, Query(ge=1, le=100)] = 20) -> dict:
            """Messages containing every word of the query, in conversations you can read (in:#channel narrows)."""
            with self.read() as db:
                me = self._me(user)
                words, where = [], None
                for w in query.split():
                    if w.startswith("in:"):
                        where = self._channel(db, me, w[3:])["id"]
                    else:
                        words.append(w)
                chans = {c["id"]: c for c in self.visible_channels(db, me, {"public_channel", "private_channel", "im"},
                                                                    False)}
                out = []
                rows = db.execute("SELECT * FROM messages ORDER BY CAST(ts AS REAL) DESC, ts DESC").fetchall()
                for m in rows:
                    if m["channel"] not in chans or (where and m["channel"] != where):
                        continue
                    if all(w.lower() in m["text"].lower() for w in words):
                        c = chans[m["channel"]]
                        out.append({**self._message_json(db, m), "channel": {"id": c["id"], "name": c["name"] or None},
                                    "permalink": f"https://{self.hosts[0]}/archives/{c['id']}/p{m['ts'].replace('.', '')}"})
                return {"ok": True, "query": query, "messages": {"total": len(out), "matches": out[:count]}}

        # ---------------------------------------------------------- HTML
        @app.get("/", response_class=HTMLResponse, include_in_schema=False)
        def home(request: Request, user: PageUser) -> HTMLResponse:
            link = Linker(request)
            with self.read() as db:
                me = self._me(user)
                chans = self.visible_channels(db, me, {"public_channel", "private_channel", "im"}, False)
                names = {r["id"]: r["real_name"] for r in db.execute("SELECT id, real_name FROM users")}
                items = []
                for c in chans:
                    if c["is_im"]:
                        other = db.execute("SELECT user FROM members WHERE channel = ? AND user != ?", (c["id"], me)).fetchone()
                        label = f"DM with {names.get(other[0] if other else me, '?')}"
                    else:
                        label = f"#{c['name']}" + (" (private)" if c["is_private"] else "")
                    items.append(f"<li>{link.a(f'/archives/{c[0]}', label)}: {esc(c['topic'])}</li>")
            return html_response(f"{self.facts.org.name} chat", f"<ul>{''.join(items)}</ul>", request, [("/", "Channels")], user)

        @app.get("/archives/{channel_id}", response_class=HTMLResponse, include_in_schema=False)
        def channel_page(channel_id: str, request: Request, user: PageUser) -> HTMLResponse:
            with self.read() as db:
                me = self._me(user)
                c = self._channel(db, me, channel_id)
                names = {r["id"]: r["real_name"] for r in db.execute("SELECT id, real_name FROM users")}
                rows = db.execute("SELECT * FROM messages WHERE channel = ? ORDER BY CAST(ts AS REAL), ts",
                                  (c["id"],)).fetchall()
            tops = [m for m in rows if not m["thread_ts"]]
            html = []
            for m in tops:
                html.append(f"<li><b>{esc(names.get(m['user'], m['user']))}</b> <small>{esc(m['ts'])}</small>: {esc(m['text'])}")
                reps = [r for r in rows if r["thread_ts"] == m["ts"]]
                if reps:
                    html.append("<ul>" + "".join(f"<li><b>{esc(names.get(r['user'], r['user']))}</b>: {esc(r['text'])}</li>"
                                                 for r in reps) + "</ul>")
                html.append("</li>")
            title = f"#{c['name']}" if not c["is_im"] else "Direct message"
            return html_response(title, f"<p>{esc(c['topic'])}</p><ul>{''.join(html)}</ul>", request,
                                 [("/", "Channels")], user)
