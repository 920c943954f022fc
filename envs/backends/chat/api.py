"""The chat backend's HTTP routes (Slack Web API methods under /api), one APIRouter per area.

The chat backend's HTTP routes (Slack Web API methods under /api), one APIRouter per area: ``people_api``
(auth.test, users.*), ``reading_api`` (conversations list, info, members, history, replies), ``posting_api``
(chat.postMessage, update, delete), ``channels_api`` (open a DM, create, join, invite, set a topic), ``reactions_api``,
``search_api`` and ``pages`` (the channel list and a channel's archive). Handlers get the backend serving the request
as ``b`` and the caller as ``user``."""
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from airgap.envs.backends.chat import (
    ChatBackend,
    _cursor,
    _offset,
)
from airgap.envs.backends.chat.ids import sid
from airgap.envs.backends.chat.model import (
    AuthTestOut,
    ChannelIn,
    ChannelInfoOut,
    ChannelsOut,
    CreateIn,
    DeleteIn,
    HistoryOut,
    InviteIn,
    MembersOut,
    OkOut,
    OpenIn,
    PostIn,
    PostOut,
    ReactionIn,
    ReactionsOut,
    SearchOut,
    TopicIn,
    UpdateIn,
    UserInfoOut,
    UsersOut,
)
from airgap.envs.backends.web import ApiError, BearerAuth, current_backend, html_page, page_user

Chat = Annotated[ChatBackend, Depends(current_backend)]
people_api = APIRouter(prefix="/api")
reading_api = APIRouter(prefix="/api")
posting_api = APIRouter(prefix="/api")
channels_api = APIRouter(prefix="/api")
reactions_api = APIRouter(prefix="/api")
search_api = APIRouter(prefix="/api")
pages = APIRouter(include_in_schema=False)

User = Annotated[str, Depends(BearerAuth("A user token (xoxp-...)."))]
PageUser = Annotated[str, Depends(page_user)]
ChannelId = Annotated[str, Query(min_length=1, max_length=32, description="a channel id (C..., G..., D...) or #name")]
Ts = Annotated[str, Query(min_length=1, max_length=32, pattern=r"^[0-9]{1,12}\.[0-9]{1,6}$")]
Limit = Annotated[int, Query(ge=1, le=1000, description="page size (at most 1000)")]
Cursor = Annotated[str | None, Query(max_length=200, description="response_metadata.next_cursor of the previous page, "
                                     "as given (anything else is 422 invalid_cursor)")]
TYPES = ["public_channel", "private_channel", "im", "mpim"]
Types = Annotated[str, Query(max_length=100, description=f"a comma-separated subset of {', '.join(TYPES)} (anything "
                             "else is 422 invalid_types)", json_schema_extra={"x-airgap-items-enum": TYPES})]


@people_api.get("/auth.test", response_model=AuthTestOut, tags=["auth"])
def auth_test(b: Chat, request: Request, user: User) -> dict:
    """Who the token belongs to."""
    return {"ok": True, "url": f"https://{b.hosts[0]}/", "team": b.facts.org.name,
            "team_id": sid("T", str(b.facts.seed), "team"), "user": user, "user_id": b._me(user)}


@people_api.get("/users.list", response_model=UsersOut, tags=["users"])
def users_list(b: Chat, user: User, limit: Limit = 200, cursor: Cursor = None) -> dict:
    """The user directory."""
    with b.read() as db:
        off = _offset(cursor)
        rows = db.execute("SELECT * FROM users ORDER BY username LIMIT ? OFFSET ?", (limit + 1, off)).fetchall()
    nxt = _cursor(off + limit) if len(rows) > limit else ""
    return {"ok": True, "members": [b._user_json(r) for r in rows[:limit]], "response_metadata": {"next_cursor": nxt}}


@people_api.get("/users.info", response_model=UserInfoOut, tags=["users"])
def users_info(b: Chat, user: User, user_id: Annotated[str, Query(alias="user", min_length=1, max_length=64)]) -> dict:
    """One user, by id (or username)."""
    with b.read() as db:
        return {"ok": True, "user": b._user_json(b._resolve_user(db, user_id))}


@people_api.get("/users.lookupByEmail", response_model=UserInfoOut, tags=["users"])
def users_by_email(b: Chat, user: User, email: Annotated[str, Query(min_length=3, max_length=200)]) -> dict:
    """One user, by e-mail address."""
    with b.read() as db:
        r = db.execute("SELECT * FROM users WHERE email = lower(?)", (email,)).fetchone()
        if r is None:
            raise ApiError(404, f"no user with e-mail {email}", "users_not_found")
        return {"ok": True, "user": b._user_json(r)}


@reading_api.get("/conversations.list", response_model=ChannelsOut, tags=["conversations"])
def conversations_list(b: Chat, user: User, types: Types = "public_channel",
                       exclude_archived: bool = False, limit: Limit = 100, cursor: Cursor = None) -> dict:
    """Channels you can see: types is a comma-separated subset of public_channel, private_channel, im, mpim."""
    wanted = {t.strip() for t in types.split(",") if t.strip()}
    bad = wanted - set(TYPES)
    if bad or not wanted:
        raise ApiError(422, f"unknown conversation types {sorted(bad) or types!r}", "invalid_types")
    with b.read() as db:
        me = b._me(user)
        rows = b.visible_channels(db, me, wanted, exclude_archived)
        off = _offset(cursor)
        page = rows[off: off + limit]
        nxt = _cursor(off + limit) if off + limit < len(rows) else ""
        return {"ok": True, "channels": [b._channel_json(db, c, me) for c in page],
                "response_metadata": {"next_cursor": nxt}}


@reading_api.get("/conversations.info", response_model=ChannelInfoOut, tags=["conversations"])
def conversations_info(b: Chat, user: User, channel: ChannelId) -> dict:
    """One channel."""
    with b.read() as db:
        me = b._me(user)
        return {"ok": True, "channel": b._channel_json(db, b._channel(db, me, channel), me)}


@reading_api.get("/conversations.members", response_model=MembersOut, tags=["conversations"])
def conversations_members(b: Chat, user: User, channel: ChannelId) -> dict:
    """User ids of a channel's members."""
    with b.read() as db:
        c = b._channel(db, b._me(user), channel)
        ids = [r[0] for r in db.execute("SELECT user FROM members WHERE channel = ? ORDER BY id", (c["id"],))]
        return {"ok": True, "members": ids, "response_metadata": {"next_cursor": ""}}


@reading_api.get("/conversations.history", response_model=HistoryOut, tags=["conversations"])
def history(b: Chat, user: User, channel: ChannelId, limit: Limit = 100, cursor: Cursor = None,
            oldest: Annotated[str | None, Query(max_length=32)] = None,
            latest: Annotated[str | None, Query(max_length=32)] = None) -> dict:
    """Top-level messages of a channel, newest first (thread replies: conversations.replies)."""
    with b.read() as db:
        c = b._channel(db, b._me(user), channel)
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
        return {"ok": True, "messages": [b._message_json(db, m) for m in rows[:limit]], "has_more": more,
                "response_metadata": {"next_cursor": _cursor(off + limit) if more else ""}}


@reading_api.get("/conversations.replies", response_model=HistoryOut, tags=["conversations"])
def replies(b: Chat, user: User, channel: ChannelId, ts: Ts, limit: Limit = 200, cursor: Cursor = None) -> dict:
    """A thread: the parent message first, then its replies, oldest first."""
    with b.read() as db:
        c = b._channel(db, b._me(user), channel)
        parent = b._message(db, c["id"], ts)
        root = parent["thread_ts"] or parent["ts"]
        rows = db.execute("SELECT * FROM messages WHERE channel = ? AND (ts = ? OR thread_ts = ?) "
                          "ORDER BY CAST(ts AS REAL), ts", (c["id"], root, root)).fetchall()
        off = _offset(cursor)
        page = rows[off: off + limit]
        more = off + limit < len(rows)
        return {"ok": True, "messages": [b._message_json(db, m) for m in page], "has_more": more,
                "response_metadata": {"next_cursor": _cursor(off + limit) if more else ""}}


@posting_api.post("/chat.postMessage", response_model=PostOut, tags=["chat"])
def post_message(b: Chat, body: PostIn, request: Request, user: User) -> dict:
    """Post to a channel or DM you are in; thread_ts makes it a reply in that thread."""
    with b.write(request) as db:
        me = b._me(user)
        c = b._channel(db, me, body.channel, must_be_member=True)
        if c["is_archived"]:
            raise ApiError(409, "the channel is archived", "is_archived")
        parent = None
        if body.thread_ts:
            p = b._message(db, c["id"], body.thread_ts)
            parent = p["thread_ts"] or p["ts"]
        ts = b._new_ts(db)
        db.execute("INSERT INTO messages VALUES (?,?,?,?,?,NULL)", (ts, c["id"], me, body.text, parent))
        b._answer_as_colleague(db, c, me, body.text, parent, ts)
        return {"ok": True, "channel": c["id"], "ts": ts,
                "message": b._message_json(db, b._message(db, c["id"], ts))}


@posting_api.post("/chat.update", response_model=PostOut, tags=["chat"])
def update_message(b: Chat, body: UpdateIn, request: Request, user: User) -> dict:
    """Edit one of your messages."""
    with b.write(request) as db:
        me = b._me(user)
        c = b._channel(db, me, body.channel)
        m = b._message(db, c["id"], body.ts)
        if m["user"] != me:
            raise ApiError(403, "you can only edit your own messages", "cant_update_message")
        db.execute("UPDATE messages SET text = ?, edited_ts = ? WHERE ts = ?", (body.text, b._new_ts(db), m["ts"]))
        return {"ok": True, "channel": c["id"], "ts": m["ts"],
                "message": b._message_json(db, b._message(db, c["id"], m["ts"]))}


@posting_api.post("/chat.delete", response_model=OkOut, tags=["chat"])
def delete_message(b: Chat, body: DeleteIn, request: Request, user: User) -> dict:
    """Delete one of your messages (its thread replies stay)."""
    with b.write(request) as db:
        me = b._me(user)
        c = b._channel(db, me, body.channel)
        m = b._message(db, c["id"], body.ts)
        if m["user"] != me:
            raise ApiError(403, "you can only delete your own messages", "cant_delete_message")
        db.execute("DELETE FROM reactions WHERE message = ?", (m["ts"],))
        db.execute("DELETE FROM messages WHERE ts = ?", (m["ts"],))
        return {"ok": True}


@channels_api.post("/conversations.open", response_model=ChannelInfoOut, tags=["conversations"])
def open_dm(b: Chat, body: OpenIn, request: Request, user: User) -> dict:
    """Open (or find) the direct-message conversation with one other person."""
    with b.write(request) as db:
        me = b._me(user)
        refs = [u for u in body.users.split(",") if u.strip()]
        if len(refs) != 1:
            raise ApiError(422, "give exactly one other user (group DMs are not supported)", "invalid_users")
        other = b._resolve_user(db, refs[0])
        pair = sorted({db.execute("SELECT username FROM users WHERE id = ?", (me,)).fetchone()[0],
                       other["username"]})
        cid = sid("D", str(b.facts.seed), "dm", *pair)
        if not db.execute("SELECT 1 FROM channels WHERE id = ?", (cid,)).fetchone():
            db.execute("INSERT INTO channels VALUES (?,'',0,1,'','',?,?,0)", (cid, me, int(b.now(db).timestamp())))
            for u in {me, other["id"]}:
                db.execute("INSERT INTO members (channel, user) VALUES (?, ?)", (cid, u))
        c = db.execute("SELECT * FROM channels WHERE id = ?", (cid,)).fetchone()
        return {"ok": True, "channel": b._channel_json(db, c, me)}


@channels_api.post("/conversations.create", response_model=ChannelInfoOut, tags=["conversations"])
def create_channel(b: Chat, body: CreateIn, request: Request, user: User) -> dict:
    """Create a channel (you become its first member)."""
    with b.write(request) as db:
        me = b._me(user)
        if db.execute("SELECT 1 FROM channels WHERE name = ? AND is_im = 0", (body.name,)).fetchone():
            raise ApiError(409, f"#{body.name} already exists", "name_taken")
        cid = sid("G" if body.is_private else "C", str(b.facts.seed), "channel", body.name)
        db.execute("INSERT INTO channels VALUES (?,?,?,0,'','',?,?,0)",
                   (cid, body.name, int(body.is_private), me, int(b.now(db).timestamp())))
        db.execute("INSERT INTO members (channel, user) VALUES (?, ?)", (cid, me))
        return {"ok": True, "channel": b._channel_json(db, b._channel(db, me, cid), me)}


@channels_api.post("/conversations.join", response_model=ChannelInfoOut, tags=["conversations"])
def join(b: Chat, body: ChannelIn, request: Request, user: User) -> dict:
    """Join a public channel."""
    with b.write(request) as db:
        me = b._me(user)
        c = b._channel(db, me, body.channel)
        if c["is_im"] or c["is_private"]:
            raise ApiError(403, "only public channels can be joined", "method_not_supported_for_channel_type")
        db.execute("INSERT OR IGNORE INTO members (channel, user) VALUES (?, ?)", (c["id"], me))
        return {"ok": True, "channel": b._channel_json(db, c, me)}


@channels_api.post("/conversations.invite", response_model=ChannelInfoOut, tags=["conversations"])
def invite(b: Chat, body: InviteIn, request: Request, user: User) -> dict:
    """Add people to a channel you are in."""
    with b.write(request) as db:
        me = b._me(user)
        c = b._channel(db, me, body.channel, must_be_member=True)
        if c["is_im"]:
            raise ApiError(403, "cannot invite to a direct message", "method_not_supported_for_channel_type")
        for ref in [u for u in body.users.split(",") if u.strip()]:
            db.execute("INSERT OR IGNORE INTO members (channel, user) VALUES (?, ?)",
                       (c["id"], b._resolve_user(db, ref)["id"]))
        return {"ok": True, "channel": b._channel_json(db, c, me)}


@channels_api.post("/conversations.setTopic", response_model=ChannelInfoOut, tags=["conversations"])
def set_topic(b: Chat, body: TopicIn, request: Request, user: User) -> dict:
    """Set the topic of a channel you are in."""
    with b.write(request) as db:
        me = b._me(user)
        c = b._channel(db, me, body.channel, must_be_member=True)
        db.execute("UPDATE channels SET topic = ? WHERE id = ?", (body.topic, c["id"]))
        return {"ok": True, "channel": b._channel_json(db, b._channel(db, me, c["id"]), me)}


@reactions_api.post("/reactions.add", response_model=OkOut, tags=["chat"])
def react(b: Chat, body: ReactionIn, request: Request, user: User) -> dict:
    """Add an emoji reaction to a message."""
    with b.write(request) as db:
        me = b._me(user)
        c = b._channel(db, me, body.channel)
        m = b._message(db, c["id"], body.timestamp)
        if db.execute("SELECT 1 FROM reactions WHERE message = ? AND name = ? AND user = ?",
                      (m["ts"], body.name, me)).fetchone():
            raise ApiError(409, "you already reacted with this emoji", "already_reacted")
        db.execute("INSERT INTO reactions (message, name, user) VALUES (?, ?, ?)", (m["ts"], body.name, me))
        return {"ok": True}


@reactions_api.post("/reactions.remove", response_model=OkOut, tags=["chat"])
def unreact(b: Chat, body: ReactionIn, request: Request, user: User) -> dict:
    """Remove your emoji reaction from a message."""
    with b.write(request) as db:
        me = b._me(user)
        c = b._channel(db, me, body.channel)
        m = b._message(db, c["id"], body.timestamp)
        if db.execute("DELETE FROM reactions WHERE message = ? AND name = ? AND user = ?",
                      (m["ts"], body.name, me)).rowcount == 0:
            raise ApiError(404, f"you have not reacted with :{body.name}: to this message", "no_reaction")
        return {"ok": True}


@reactions_api.get("/reactions.get", response_model=ReactionsOut, tags=["chat"])
def reactions_get(b: Chat, user: User, channel: ChannelId, timestamp: Ts) -> dict:
    """A message with its reactions (who reacted with what)."""
    with b.read() as db:
        c = b._channel(db, b._me(user), channel)
        return {"ok": True, "type": "message", "channel": c["id"],
                "message": b._message_json(db, b._message(db, c["id"], timestamp))}


@search_api.get("/search.messages", response_model=SearchOut, tags=["search"])
def search(b: Chat, user: User, query: Annotated[str, Query(min_length=1, max_length=200)],
           count: Annotated[int, Query(ge=1, le=100)] = 20) -> dict:
    """Messages containing every word of the query, in conversations you can read (in:#channel narrows)."""
    with b.read() as db:
        me = b._me(user)
        words, where = [], None
        for w in query.split():
            if w.startswith("in:"):
                where = b._channel(db, me, w[3:])["id"]
            else:
                words.append(w)
        chans = {c["id"]: c for c in b.visible_channels(db, me, {"public_channel", "private_channel", "im"},
                                                            False)}
        out = []
        rows = db.execute("SELECT * FROM messages ORDER BY CAST(ts AS REAL) DESC, ts DESC").fetchall()
        for m in rows:
            if m["channel"] not in chans or (where and m["channel"] != where):
                continue
            if all(w.lower() in m["text"].lower() for w in words):
                c = chans[m["channel"]]
                out.append({**b._message_json(db, m), "channel": {"id": c["id"], "name": c["name"] or None},
                            "permalink": f"https://{b.hosts[0]}/archives/{c['id']}/p{m['ts'].replace('.', '')}"})
        return {"ok": True, "query": query, "messages": {"total": len(out), "matches": out[:count]}}

# ---------------------------------------------------------- HTML
@pages.get("/", response_class=HTMLResponse)
def home(b: Chat, request: Request, user: PageUser) -> HTMLResponse:
    """The conversations you can read, with their topics."""
    with b.read() as db:
        me = b._me(user)
        chans = b.visible_channels(db, me, {"public_channel", "private_channel", "im"}, False)
        names = {r["id"]: r["real_name"] for r in db.execute("SELECT id, real_name FROM users")}
        items = []
        for c in chans:
            if c["is_im"]:
                other = db.execute("SELECT user FROM members WHERE channel = ? AND user != ?", (c["id"], me)).fetchone()
                label = f"DM with {names.get(other[0] if other else me, '?')}"
            else:
                label = f"#{c['name']}" + (" (private)" if c["is_private"] else "")
            items.append({"id": c[0], "label": label, "topic": c["topic"]})
    return html_page(request, "chat/home.html.j2", f"{b.facts.org.name} chat", [("/", "Channels")], user,
                     conversations=items)


@pages.get("/archives/{channel_id}", response_class=HTMLResponse)
def channel_page(b: Chat, channel_id: str, request: Request, user: PageUser) -> HTMLResponse:
    """One conversation: its topic and its messages, each with its thread's replies."""
    with b.read() as db:
        me = b._me(user)
        c = b._channel(db, me, channel_id)
        names = {r["id"]: r["real_name"] for r in db.execute("SELECT id, real_name FROM users")}
        rows = db.execute("SELECT * FROM messages WHERE channel = ? ORDER BY CAST(ts AS REAL), ts",
                          (c["id"],)).fetchall()
    said = [{"who": names.get(m["user"], m["user"]), "ts": m["ts"], "text": m["text"], "thread_ts": m["thread_ts"]}
            for m in rows]
    threads = [{**m, "replies": [r for r in said if r["thread_ts"] == m["ts"]]} for m in said if not m["thread_ts"]]
    title = f"#{c['name']}" if not c["is_im"] else "Direct message"
    return html_page(request, "chat/channel.html.j2", title, [("/", "Channels")], user, topic=c["topic"],
                     threads=threads)


routers = [people_api, reading_api, posting_api, channels_api, reactions_api, search_api, pages]
