"""The chat backend: channels, direct messages, threads and the user directory, in Slack Web API shapes."""
import base64
import re
import sqlite3
from typing import Any, Callable

from airgap.envs.backends.base import register_backend
from airgap.envs.backends.chat.ids import dm_id, user_id
from airgap.envs.backends.sqlstore import SqliteBackend
from airgap.envs.backends.web import SLACK, ApiError

__all__ = ["ChatBackend", "dm_id"]





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
    note = "team chat, Slack Web API shapes under /api"
    style = SLACK
    api_description = ("Team chat with Slack Web API shapes: read methods are GET /api/<method>?..., write methods POST "
                       "JSON. As on Slack, any method also takes a form-encoded or JSON POST and the token as a `token` argument, so Slack's "
                       "own clients (slack_sdk's WebClient with base_url https://<this host>/api/) work unchanged. Every "
                       "answer has ok: true|false; failures carry a Slack error code and an HTTP 4xx status.")

    @classmethod
    def make_token(cls, derive: Callable[..., str]) -> str:
        """A Slack user token: ``xoxp-<number>-<number>-<hex>``."""
        d = derive(40, alphabet="0123456789abcdef")
        return f"xoxp-{int(d[:10], 16) % 10**12}-{int(d[10:20], 16) % 10**12}-{d[20:]}"

    @classmethod
    def hosts_for(cls, facts: Any) -> list[str]:
        return [f"chat.{facts.org.domain}"]

    def _make_app(self) -> Any:
        """The chat app, behind the Slack request encodings Slack's own clients use (``slackweb``)."""
        from airgap.envs.backends.chat.slackweb import SlackWebCompat
        app = super()._make_app()
        app.add_middleware(SlackWebCompat, routes=list(self.routers()), max_body=self.max_body)
        return app

    def user_id(self, username: str) -> str:
        return user_id(self.facts.seed, username)

    # -------------------------------------------------------------- simulated colleagues
    colleagues: dict[str, dict[str, Any]] = {}

    def behave(self, world: dict[str, Any]) -> None:
        """``world.colleagues``: ``{username: {"rules": [{"match": regex, "reply": text}], "default": text}}``.
        A direct message to one of them gets their answer in the same DM, and a channel message that @-mentions them
        gets it as a reply in that message's thread: the reply of the first rule whose regex matches the message
        (case-insensitive), else the default ("no idea"). Deterministic, rule-based: the world's facts decide what
        each colleague knows."""
        self.colleagues = dict(world.get("colleagues") or {})

    def _reply(self, username: str, text: str) -> str:
        who = self.colleagues[username]
        return next((r["reply"] for r in who.get("rules", []) if re.search(r["match"], text, re.I | re.S)),
                    who.get("default", "Sorry, no idea - I don't know that one."))

    def mentioned(self, db: sqlite3.Connection, text: str) -> list[sqlite3.Row]:
        """The users a message mentions, in the order it names them: Slack's ``<@U123>`` (what clients send when
        one picks a name), or typed ``@username``, ``@display name`` or ``@Full Name`` (a name two people share
        mentions neither)."""
        users = db.execute("SELECT * FROM users WHERE deleted = 0").fetchall()
        by_id = {u["id"]: u for u in users}
        names: dict[str, list[sqlite3.Row]] = {}
        for u in users:
            for n in {u["username"], u["display_name"], u["real_name"]}:
                if n:
                    names.setdefault(n.lower(), []).append(u)
        found: list[tuple[int, sqlite3.Row]] = []
        for m in re.finditer(r"<@([A-Z0-9]+)(?:\|[^>]*)?>", text):
            if m.group(1) in by_id:
                found.append((m.start(), by_id[m.group(1)]))
        for m in re.finditer(r"(?<![\w<])@", text):  # the longest name that follows the @ (Full Name before Full)
            rest = text[m.end():].lower()
            for n in sorted(names, key=len, reverse=True):
                if rest.startswith(n) and not (rest[len(n):len(n) + 1].isalnum() or rest[len(n):len(n) + 1] == "_"):
                    if len({u["id"] for u in names[n]}) == 1:
                        found.append((m.start(), names[n][0]))
                    break
        out: list[sqlite3.Row] = []
        for _, u in sorted(found, key=lambda x: x[0]):
            if u["id"] not in {o["id"] for o in out}:
                out.append(u)
        return out

    def _answer_as_colleague(self, db: sqlite3.Connection, channel: sqlite3.Row, me: str, text: str,
                             thread: str | None, ts: str) -> None:
        """Colleagues answer the message ``ts`` just posted by ``me``: in a DM the other person (in the DM); in a
        channel each colleague it @-mentions who can read the channel (public, or a member), in its thread."""
        if not self.colleagues:
            return
        if channel["is_im"]:
            row = db.execute("SELECT u.id, u.username FROM members m JOIN users u ON u.id = m.user "
                             "WHERE m.channel = ? AND m.user != ? LIMIT 1", (channel["id"], me)).fetchone()
            answering, where = ([row] if row is not None else []), thread
        else:
            answering = [u for u in self.mentioned(db, text) if u["id"] != me and (
                not channel["is_private"] or self._is_member(db, channel["id"], u["id"]))]
            where = thread or ts  # a reply in the thread the mention started (or is in)
        for row in answering:
            if row["username"] not in self.colleagues:
                continue
            db.execute("UPDATE _meta SET value = value + 1 WHERE key = 'ticks'")  # they answer a second later
            db.execute("INSERT INTO messages VALUES (?,?,?,?,?,NULL)",
                       (self._new_ts(db), channel["id"], row["id"], self._reply(row["username"], text), where))

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
