"""The chat web app: channels, threads and direct messages in server-rendered pages, in Slack's spirit.

A side bar lists your channels, the public channels you may join and your direct messages; a channel's page shows its
latest messages (oldest at the top, each with its thread's reply count) and a box to write in; a thread's page shows
the parent and its replies with a reply box. You can join a public channel, create one, start a direct message with a
colleague, and delete your own messages after a confirmation. Every write calls the JSON API's handler in ``api.py``,
so its rows and ``backend_change`` event are the API's (named as that call, ``via: web``)."""
from datetime import datetime, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response

from airgap.envs.backends.chat import ChatBackend, api
from airgap.envs.backends.chat.model import ChannelIn, CreateIn, DeleteIn, OpenIn, PostIn
from airgap.envs.backends.web import PageError, current_backend
from airgap.envs.backends.webapp import WebApp, api_origin, build, call_api, read_form, redirect, text

HISTORY = 100

APP = WebApp(
    brand=lambda b: f"{b.facts.org.name} Chat",
    home="/chat",
    nav=[("/chat", "Home"), ("/chat/new", "New channel"), ("/chat/dm", "New message")],
    accent="#4a154b",
    notices={"posted": "Message sent.", "joined": "You joined the channel.", "created": "The channel was created.",
             "deleted": "The message was deleted."},
)
ChatB = Annotated[ChatBackend, Depends(current_backend)]
WebUser = Annotated[str, Depends(APP.user)]
web = APIRouter(include_in_schema=False)
ChannelPath = Annotated[str, PathParam(min_length=1, max_length=32)]
TsPath = Annotated[str, PathParam(min_length=1, max_length=32, pattern=r"^[0-9]{1,12}\.[0-9]{1,6}$")]
LABELS = {"text": "Message", "name": "Channel name", "users": "Person", "channel": "Channel"}


def _side(b: ChatBackend, db: Any, me: str) -> dict[str, Any]:
    names = {r["id"]: r["real_name"] for r in db.execute("SELECT id, real_name FROM users")}
    mine, others, dms = [], [], []
    for c in b.visible_channels(db, me, {"public_channel", "private_channel", "im"}, False):
        if c["is_im"]:
            row = db.execute("SELECT user FROM members WHERE channel = ? AND user != ?", (c["id"], me)).fetchone()
            dms.append({"id": c["id"], "label": names.get(row[0] if row else me, "?")})
        elif b._is_member(db, c["id"], me):
            mine.append({"id": c["id"], "label": c["name"], "private": bool(c["is_private"])})
        else:
            others.append({"id": c["id"], "label": c["name"], "private": False})
    return {"mine": mine, "others": others, "dms": dms, "names": names}


def _said(db: Any, names: dict[str, str], b: ChatBackend, m: Any) -> dict[str, Any]:
    j = b._message_json(db, m)
    when = datetime.fromtimestamp(float(m["ts"]), timezone.utc).strftime("%d %b %H:%M UTC")
    return {**j, "who": names.get(m["user"], m["user"]), "mine": False, "when": when}


@web.get("/chat", response_class=HTMLResponse)
def home(b: ChatB, request: Request, user: WebUser) -> HTMLResponse:
    """Your channels and direct messages, and the channels you may join."""
    with b.read() as db:
        me = b._me(user)
        side = _side(b, db, me)
    return APP.page(request, "chat/web_home.html.j2", "Channels and messages", user, channel=None, **side)


def _channel_page(request: Request, b: ChatBackend, user: str, channel: str, errors: Any = None, status: int = 200,
                  text_: str = "") -> HTMLResponse:
    with b.read() as db:
        me = b._me(user)
        c = b._channel(db, me, channel)
        side = _side(b, db, me)
        rows = db.execute("SELECT * FROM messages WHERE channel = ? AND thread_ts IS NULL "
                          "ORDER BY CAST(ts AS REAL) DESC, ts DESC LIMIT ?", (c["id"], HISTORY)).fetchall()
        msgs = [{**_said(db, side["names"], b, m), "mine": m["user"] == me} for m in reversed(rows)]
        member = b._is_member(db, c["id"], me)
    label = _label(c, side)
    return APP.page(request, "chat/web_channel.html.j2", label, user, status=status, errors=errors, c=dict(c),
                    msgs=msgs, member=member, text=text_, channel=c["id"], current="/chat", **side)


def _label(c: Any, side: dict[str, Any]) -> str:
    if c["is_im"]:
        return "Direct message with " + next((d["label"] for d in side["dms"] if d["id"] == c["id"]), "?")
    return ("🔒 " if c["is_private"] else "#") + c["name"]


@web.get("/chat/c/{channel_id}", response_class=HTMLResponse)
def channel(b: ChatB, channel_id: ChannelPath, request: Request, user: WebUser) -> HTMLResponse:
    """A channel or direct message: its latest 100 messages and a box to write in."""
    return _channel_page(request, b, user, channel_id)


def _thread_page(request: Request, b: ChatBackend, user: str, channel_id: str, ts: str, errors: Any = None,
                 status: int = 200, text_: str = "") -> HTMLResponse:
    with b.read() as db:
        me = b._me(user)
        c = b._channel(db, me, channel_id)
        side = _side(b, db, me)
        parent = b._message(db, c["id"], ts)
        root = parent["thread_ts"] or parent["ts"]
        rows = db.execute("SELECT * FROM messages WHERE channel = ? AND (ts = ? OR thread_ts = ?) "
                          "ORDER BY CAST(ts AS REAL), ts", (c["id"], root, root)).fetchall()
        msgs = [{**_said(db, side["names"], b, m), "mine": m["user"] == me} for m in rows]
        member = b._is_member(db, c["id"], me)
    return APP.page(request, "chat/web_thread.html.j2", f"Thread in {_label(c, side)}", user, status=status,
                    errors=errors, c=dict(c), msgs=msgs, root=root, member=member, text=text_, channel=c["id"],
                    current="/chat", **side)


@web.get("/chat/c/{channel_id}/thread/{ts}", response_class=HTMLResponse)
def thread(b: ChatB, channel_id: ChannelPath, ts: TsPath, request: Request, user: WebUser) -> HTMLResponse:
    """A thread: its first message and the replies, oldest first, with a reply box."""
    return _thread_page(request, b, user, channel_id, ts)


@web.post("/chat/c/{channel_id}/post", response_class=HTMLResponse)
async def post(b: ChatB, channel_id: ChannelPath, request: Request, user: WebUser) -> Response:
    """Post to the channel, or reply in a thread (``thread_ts``): the API's chat.postMessage."""
    form = await read_form(request)
    typed, thread_ts = text(form, "text"), text(form, "thread_ts") or None
    body, errors = build(PostIn, {"channel": channel_id, "text": typed.strip(), "thread_ts": thread_ts}, LABELS)
    if body is None:
        errors = {k: ("Message: write something first" if k == "text" else m) for k, m in errors.items()}
    else:
        api_origin(request, "POST", "/api/chat.postMessage", 200)
        _, refused = await call_api(request, api.post_message, b, body, request, user)
        if not refused:
            return redirect(f"/chat/c/{channel_id}/thread/{thread_ts}" if thread_ts else f"/chat/c/{channel_id}",
                            notice="posted")
        errors = {"form": refused}
    if thread_ts:
        return _thread_page(request, b, user, channel_id, thread_ts, errors, 422, typed)
    return _channel_page(request, b, user, channel_id, errors, 422, typed)


@web.post("/chat/c/{channel_id}/join", response_class=HTMLResponse)
async def join(b: ChatB, channel_id: ChannelPath, request: Request, user: WebUser) -> Response:
    """Join a public channel (the API's conversations.join)."""
    await read_form(request)
    api_origin(request, "POST", "/api/conversations.join", 200)
    _, refused = await call_api(request, api.join, b, ChannelIn(channel=channel_id), request, user)
    if refused:
        return _channel_page(request, b, user, channel_id, [refused], 403)
    return redirect(f"/chat/c/{channel_id}", notice="joined")


@web.get("/chat/c/{channel_id}/delete/{ts}", response_class=HTMLResponse)
def delete_confirm(b: ChatB, channel_id: ChannelPath, ts: TsPath, request: Request, user: WebUser) -> HTMLResponse:
    """The confirmation step before one of your messages is deleted."""
    with b.read() as db:
        me = b._me(user)
        c = b._channel(db, me, channel_id)
        m = b._message(db, c["id"], ts)
        if m["user"] != me:
            raise PageError(403, "You can only delete your own messages.")
        side = _side(b, db, me)
    return APP.page(request, "chat/web_delete.html.j2", "Delete this message?", user, m=dict(m), channel=c["id"],
                    current="/chat", **side)


@web.post("/chat/c/{channel_id}/delete/{ts}", response_class=HTMLResponse)
async def delete(b: ChatB, channel_id: ChannelPath, ts: TsPath, request: Request, user: WebUser) -> Response:
    """Delete one of your messages (the API's chat.delete)."""
    await read_form(request)
    api_origin(request, "POST", "/api/chat.delete", 200)
    _, refused = await call_api(request, api.delete_message, b, DeleteIn(channel=channel_id, ts=ts), request, user)
    if refused:
        return _channel_page(request, b, user, channel_id, [refused], 403)
    return redirect(f"/chat/c/{channel_id}", notice="deleted")


@web.get("/chat/new", response_class=HTMLResponse)
def new_channel_form(b: ChatB, request: Request, user: WebUser) -> HTMLResponse:
    """The form to create a channel."""
    with b.read() as db:
        side = _side(b, db, b._me(user))
    return APP.page(request, "chat/web_new.html.j2", "Create a channel", user, v={}, channel=None, **side)


@web.post("/chat/new", response_class=HTMLResponse)
async def new_channel(b: ChatB, request: Request, user: WebUser) -> Response:
    """Create the channel (the API's conversations.create)."""
    form = await read_form(request)
    v = {"name": text(form, "name").strip(), "is_private": text(form, "is_private") == "on"}
    body, errors = build(CreateIn, v, LABELS)
    if body is not None:
        api_origin(request, "POST", "/api/conversations.create", 200)
        out, refused = await call_api(request, api.create_channel, b, body, request, user)
        if not refused:
            return redirect(f"/chat/c/{out['channel']['id']}", notice="created")
        errors = {"form": refused}
    with b.read() as db:
        side = _side(b, db, b._me(user))
    return APP.page(request, "chat/web_new.html.j2", "Create a channel", user, status=422, errors=errors, v=v,
                    channel=None, **side)


@web.get("/chat/dm", response_class=HTMLResponse)
def dm_form(b: ChatB, request: Request, user: WebUser) -> HTMLResponse:
    """Choose a colleague to write to directly."""
    with b.read() as db:
        me = b._me(user)
        side = _side(b, db, me)
        people = [dict(r) for r in db.execute("SELECT id, username, real_name, title FROM users WHERE id != ? AND "
                                              "deleted = 0 ORDER BY real_name", (me,))]
    return APP.page(request, "chat/web_dm.html.j2", "New direct message", user, people=people, channel=None, **side)


@web.post("/chat/dm", response_class=HTMLResponse)
async def dm(b: ChatB, request: Request, user: WebUser) -> Response:
    """Open (or find) the direct message with that person (the API's conversations.open)."""
    form = await read_form(request)
    body, errors = build(OpenIn, {"users": text(form, "users")}, LABELS)
    if body is None:
        raise PageError(422, "Choose a person to write to.")
    api_origin(request, "POST", "/api/conversations.open", 200)
    out, refused = await call_api(request, api.open_dm, b, body, request, user)
    if refused:
        raise PageError(422, refused)
    return redirect(f"/chat/c/{out['channel']['id']}")


@web.get("/chat/search", response_class=HTMLResponse)
def search(b: ChatB, request: Request, user: WebUser, q: Annotated[str, Query(max_length=200)] = "") -> HTMLResponse:
    """Messages with these words, in the conversations you can read (the API's search.messages)."""
    res = api.search(b, user, q, 50) if q.strip() else {"messages": {"total": 0, "matches": []}}
    with b.read() as db:
        side = _side(b, db, b._me(user))
    return APP.page(request, "chat/web_search.html.j2", f"Search: {q}" if q else "Search", user, q=q, res=res,
                    channel=None, **side)


routers = [APP.login_router("Your chat token (it starts with xoxp-)."), web]
