"""Slack Web API request encodings, so Slack's own clients (``slack_sdk``'s ``WebClient``) work unchanged.

Slack accepts every method as GET with a query string or as POST with a form-encoded or JSON body, and the token as
``Authorization: Bearer`` or as a ``token`` argument. ``slack_sdk`` POSTs nearly everything: reads (``users.list``,
``conversations.history``...) and most writes form-encoded, ``chat.postMessage``/``chat.update`` as JSON. The chat
API's routes keep their documented shapes (reads GET with a query, writes POST JSON; its OpenAPI document, tests and
clients rely on them); this ASGI middleware rewrites the other encodings into those shapes before the app sees them:

- a POST (form or JSON) to a read method becomes the GET with its arguments in the query string;
- a form-encoded POST to a write method becomes its JSON body, each value typed by the route's body model (``true``/
  ``1`` for a bool, a number for an int, a comma-separated list for a list);
- a ``token`` argument (query, form or JSON) becomes the Authorization header when the request has none.

Anything else (JSON to a write method, a GET to a read method, multipart uploads, unknown paths) passes through as is,
and every validation error is the app's own (422 naming the field). Bodies are buffered up to the app's limit only: a
larger one is passed on untouched, so the app's own limit answers 413.
"""
from __future__ import annotations

import json
import typing
from typing import Any, Callable
from urllib.parse import parse_qsl, urlencode

from fastapi.routing import APIRoute
from pydantic import BaseModel

_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off", ""}


def _kind(annotation: Any) -> str:
    """bool, int, list or str: how a form value of a field of this type is read."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)] or [annotation]
    t = args[0]
    origin = typing.get_origin(t) or t
    if origin is bool:
        return "bool"
    if origin is int:
        return "int"
    if origin in (list, tuple):
        return "list"
    return "str"


def _typed(value: str, kind: str) -> Any:
    if kind == "bool":
        low = value.strip().lower()
        return True if low in _TRUE else False if low in _FALSE else value
    if kind == "int":
        return int(value) if value.strip().lstrip("-").isdigit() else value
    if kind == "list":
        return [v.strip() for v in value.split(",") if v.strip()]
    return value


def _as_query_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return ",".join(str(x) for x in v)
    return v if isinstance(v, str) else json.dumps(v)


class SlackWebCompat:
    """ASGI middleware over the chat app (see the module docstring). ``routes``: the routes of the app's routers."""

    def __init__(self, app: Callable, routes: list, max_body: int):
        self.app, self.max_body = app, max_body
        self.reads: set[str] = set()
        self.writes: dict[str, dict[str, str]] = {}   # path -> field (its alias) -> kind
        for r in _flat(routes):
            if not isinstance(r, APIRoute) or not r.path.startswith("/api/"):
                continue
            if "GET" in r.methods:
                self.reads.add(r.path)
            model = _body_model(r.endpoint) if "POST" in r.methods else None
            if model is not None:
                self.writes[r.path] = {(f.alias or n): _kind(f.annotation) for n, f in model.model_fields.items()}

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/api/") or \
                (path not in self.reads and path not in self.writes):
            return await self.app(scope, receive, send)
        headers = list(scope.get("headers", []))
        ctype = next((v.decode("latin-1") for k, v in headers if k == b"content-type"), "").split(";")[0].strip().lower()
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        method = scope["method"]
        if method == "GET" or (method == "POST" and ctype not in ("application/x-www-form-urlencoded",
                                                                  "application/json")):
            if any(k == "token" for k, _ in query):  # ?token= on a GET (or an unparsed POST)
                return await self.app(self._with(scope, headers, query, None), receive, send)
            return await self.app(scope, receive, send)
        if method != "POST":
            return await self.app(scope, receive, send)
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client left
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > self.max_body:
                return await self.app(scope, _replay(chunks, receive, more), send)
        raw = b"".join(chunks)
        fields: dict[str, Any] | None
        if ctype == "application/json":
            try:
                fields = json.loads(raw) if raw.strip() else {}
            except (ValueError, UnicodeDecodeError):
                fields = None  # the app answers malformed JSON itself
            if not isinstance(fields, dict):
                return await self.app(scope, _replay([raw], receive, False), send)
        else:
            try:
                fields = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
            except UnicodeDecodeError:
                return await self.app(scope, _replay([raw], receive, False), send)
        if path in self.writes:
            kinds = self.writes[path]
            token = fields.pop("token", None)
            if ctype != "application/json":
                fields = {k: _typed(v, kinds.get(k, "str")) for k, v in fields.items()}
            else:
                fields = {k: (",".join(map(str, v)) if isinstance(v, list) and kinds.get(k) == "str" else v)
                          for k, v in fields.items()}
            body = json.dumps(fields).encode()
            new = self._with(scope, headers, query + ([("token", str(token))] if token is not None else []),
                             {"content-type": b"application/json", "content-length": str(len(body)).encode()})
            return await self.app(new, _replay([body], receive, False), send)
        # a read method POSTed: the GET with the arguments in the query string
        merged = query + [(k, _as_query_value(v)) for k, v in fields.items()]
        new = self._with(scope, headers, merged, {"content-type": None, "content-length": b"0"})
        new["method"] = "GET"
        return await self.app(new, _replay([b""], receive, False), send)

    @staticmethod
    def _with(scope: dict, headers: list, query: list[tuple[str, str]], replace: dict[str, bytes | None] | None) -> dict:
        """A copy of ``scope`` with ``query`` (a ``token`` in it moved to the Authorization header when there is none)
        and the headers in ``replace`` set (None: removed)."""
        token = next((v for k, v in query if k == "token"), None)
        query = [(k, v) for k, v in query if k != "token"]
        hdrs = [(k, v) for k, v in headers if k not in {h.encode() for h in (replace or {})}]
        hdrs += [(k.encode(), v) for k, v in (replace or {}).items() if v is not None]
        if token and not any(k == b"authorization" for k, _ in hdrs):
            hdrs.append((b"authorization", f"Bearer {token}".encode("latin-1", "replace")))
        new = dict(scope)
        new["headers"] = hdrs
        new["query_string"] = urlencode(query).encode("latin-1", "replace")
        return new


def _body_model(endpoint: Callable) -> type[BaseModel] | None:
    """The pydantic model of a handler's JSON body (its one parameter typed by a model)."""
    hints = typing.get_type_hints(endpoint, include_extras=False)
    return next((t for n, t in hints.items() if n != "return" and isinstance(t, type) and issubclass(t, BaseModel)), None)


def _flat(routes: list) -> list:
    """The routes of a list of routes and routers, routers opened (an included router by its ``original_router``)."""
    out: list = []
    for r in routes:
        inner = getattr(r, "original_router", None) or (r if hasattr(r, "routes") and not isinstance(r, APIRoute) else None)
        out += _flat(list(inner.routes)) if inner is not None else [r]
    return out


def _replay(chunks: list[bytes], receive: Callable, more: bool) -> Callable:
    """A ``receive`` that gives ``chunks`` first, then (if the body was not all read) the rest of the client's."""
    pending = list(chunks)

    async def again() -> dict:
        if pending:
            body = pending.pop(0)
            return {"type": "http.request", "body": body, "more_body": bool(pending) or more}
        return await receive()
    return again
