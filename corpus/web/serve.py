"""`airgap corpus serve`: one loopback app with the search engine at ``/``, pages at ``/web/<url>``, POST /retrieve."""
from __future__ import annotations

import re

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..snapshot import Snapshot
from .pages import page_response, pages_app
from .retrieve import retrieve_response
from .search import search_app


def serve_app(snap: Snapshot, as_of: str | None = None):
    """Everything on one port: search at /, pages at /web/<url> or by Host header, Search-R1's POST /retrieve."""
    search = search_app(snap, as_of=as_of, page_link=lambda url: "/web/" + url)
    pages = pages_app(snap, as_of)
    hosts = set(snap.hosts())

    async def web(request: Request) -> Response:
        url = request.path_params["url"]
        if request.url.query:
            url += "?" + request.url.query
        url = re.sub(r"^(https?):/(?!/)", r"\1://", url)  # some clients squash // in paths
        return await run_in_threadpool(page_response, snap, url, as_of, "/")

    async def retrieve(request: Request) -> JSONResponse:
        try:
            return JSONResponse(await run_in_threadpool(retrieve_response, snap, await request.json()))
        except (ValueError, TypeError) as e:
            return JSONResponse({"error": str(e)}, status_code=400)

    inner = Starlette(routes=[Route("/web/{url:path}", web), Route("/retrieve", retrieve, methods=["POST"])])

    async def app(scope, receive, send):
        if scope["type"] == "http":
            host = dict(scope["headers"]).get(b"host", b"").decode("latin-1").split(":")[0]
            if host in hosts:
                return await pages(scope, receive, send)
            path = scope["path"]
            if path.startswith("/web/") or path == "/retrieve":
                return await inner(scope, receive, send)
        return await search(scope, receive, send)

    return app
