"""The offline web as ASGI apps: a search engine, the archived pages, and `corpus serve`.

- `search_app(snap)`: HTML results at ``/`` and ``/search?q=``, JSON at ``/api/search``.
- `pages_app(snap)`: every archived page at its original URL (Host header + path + query),
  with its original status, headers and body; a clear 404 page for anything else.
- `world_routes(snap)`: hostname -> app, for the sandbox gateway.
- `serve_app(snap)`: one app for `airgap corpus serve` on loopback: the search engine at
  ``/``, pages at ``/web/<url>`` (or by Host header), and Search-R1's ``POST /retrieve``.

Nothing here ever makes a network request.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import datetime
from email.utils import format_datetime

import jinja2
from markupsafe import Markup, escape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from .defaults import SEARCH_HOST
from .passages import query_stems, stem
from .snapshot import MODES, Snapshot

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")),
    autoescape=True)
# Headers that describe the archived transfer, not the body we send now.
_HOP = {"content-length", "transfer-encoding", "content-encoding", "connection", "keep-alive", "date", "server"}
MAX_K = 100


def _highlight(snippet: str, stems: set[str]) -> Markup:
    """The snippet as HTML with the words matching the query (by stem) in <b>."""
    out = []
    for part in re.split(r"(\w\w+)", snippet):
        out.append(f"<b>{escape(part)}</b>" if len(part) > 1 and stem(part) in stems else str(escape(part)))
    return Markup("".join(out))


def _search_args(request: Request, default_as_of: str | None):
    q = request.query_params.get("q", "").strip()
    mode = request.query_params.get("mode", "bm25")
    try:
        k = min(MAX_K, max(1, int(request.query_params.get("k", "10"))))
    except ValueError:
        raise ValueError("k must be an integer") from None
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    return q, k, mode, request.query_params.get("as_of") or default_as_of


def search_app(snap: Snapshot, host: str = SEARCH_HOST, as_of: str | None = None,
               page_link: Callable[[str], str] | None = None) -> Starlette:
    """The search engine. `page_link` turns a result URL into the link shown (identity by default)."""
    link = page_link or (lambda url: url)

    def api(request: Request) -> JSONResponse:
        try:
            q, k, mode, when = _search_args(request, as_of)
            hits = snap.search(q, k=k, mode=mode, as_of=when) if q else []
        except ValueError as e:
            return JSONResponse({"error": str(e)}, status_code=400)
        return JSONResponse({"query": q, "hits": [
            {"url": h.url, "title": h.title, "snippet": h.snippet, "score": h.score, "date": h.date,
             "passage_id": h.passage_id} for h in hits]})

    def page(request: Request) -> HTMLResponse:
        error, hits, q, mode = None, [], request.query_params.get("q", ""), "bm25"
        try:
            q, k, mode, when = _search_args(request, as_of)
            hits = snap.search(q, k=k, mode=mode, as_of=when) if q else []
        except ValueError as e:
            error = str(e)
        stems = query_stems(q)
        shown = [dict(url=h.url, href=link(h.url), title=h.title, date=h.date, score=h.score,
                      snippet_html=_highlight(h.snippet, stems)) for h in hits]
        c = snap.manifest["counts"]
        about = f"{c['urls']} pages from {', '.join(snap.hosts())}; archived {snap.manifest['crawl_dates']['last']}."
        html = _TEMPLATES.get_template("search.html").render(
            query=q, hits=shown, mode=mode, modes=_modes(snap), error=error, action=request.url.path, about=about)
        return HTMLResponse(html, status_code=400 if error else 200)

    return Starlette(routes=[Route("/", page), Route("/search", page), Route("/api/search", api)])


def _modes(snap: Snapshot) -> list[str]:
    return list(MODES) if "dense" in snap.manifest["index"] else ["bm25"]


def page_response(snap: Snapshot, url: str, as_of: str | None = None, search_url: str = f"https://{SEARCH_HOST}/",
                  also: tuple[str, ...] = ()):
    """The archived response for `url` (or the first of `also` archived), else a 404 page saying so."""
    page = None
    # a folder URL is answered by its index.html, as the real server would
    for candidate in (url, *also, *((url + "index.html",) if url.endswith("/") else ())):
        page = snap.get(candidate, as_of)
        if page is not None:
            break
    if page is None:
        html = _TEMPLATES.get_template("notfound.html").render(url=url, as_of=as_of, search=search_url)
        return HTMLResponse(html, status_code=404, headers={"X-Airgap-Archive": "miss"})
    headers = {k: v for k, v in page.headers if k.lower() not in _HOP}  # Content-Type exactly as archived
    headers["Memento-Datetime"] = format_datetime(datetime.fromisoformat(page.date.replace("Z", "+00:00")),
                                                  usegmt=True)
    return Response(page.body, status_code=page.status, headers=headers)


def _request_url(request: Request) -> str:
    host = (request.headers.get("host") or "").split(":")[0]
    path = request.url.path
    q = request.url.query
    return f"https://{host}{path}" + (f"?{q}" if q else "")


def pages_app(snap: Snapshot, as_of: str | None = None, search_host: str = SEARCH_HOST):
    """Every archived page at its original URL; the URL comes from the Host header, path and query.

    https and http spellings are both tried, since TLS is terminated before the app.
    """
    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        url = _request_url(request)
        response = page_response(snap, url, as_of, f"https://{search_host}/", also=("http" + url[5:],))
        await response(scope, receive, send)

    return app


def world_routes(snap: Snapshot, as_of: str | None = None) -> dict:
    """hostname -> ASGI app: the search engine at SEARCH_HOST, the pages app at every archived host."""
    pages = pages_app(snap, as_of)
    routes = {host: pages for host in snap.hosts()}
    routes[SEARCH_HOST] = search_app(snap, as_of=as_of)
    return routes


def retrieve_response(snap: Snapshot, body: dict) -> dict:
    """Search-R1's retrieval protocol: {"queries", "topk", "return_scores"} -> {"result": [[...], ...]}."""
    queries = body.get("queries")
    if not isinstance(queries, list) or not all(isinstance(q, str) for q in queries):
        raise ValueError('"queries" must be a list of strings')
    topk = min(MAX_K, max(1, int(body.get("topk", 3))))
    mode = body.get("mode", "bm25")
    result = []
    for hits in snap.retrieve(queries, topk=topk, mode=mode):
        docs = [{"id": h.passage_id, "contents": f'"{h.title}"\n{h.text}', "url": h.url} for h in hits]
        if body.get("return_scores", False):
            result.append([{"document": d, "score": h.score} for d, h in zip(docs, hits, strict=False)])
        else:
            result.append(docs)
    return {"result": result}


def serve_app(snap: Snapshot, as_of: str | None = None) -> Starlette:
    """Everything on one loopback port: search at /, pages at /web/<url> or by Host, POST /retrieve."""
    search = search_app(snap, as_of=as_of, page_link=lambda url: "/web/" + url)
    pages = pages_app(snap, as_of)
    hosts = set(snap.hosts())

    def web(request: Request) -> Response:
        url = request.path_params["url"]
        if request.url.query:
            url += "?" + request.url.query
        url = re.sub(r"^(https?):/(?!/)", r"\1://", url)  # some clients squash // in paths
        return page_response(snap, url, as_of, "/")

    async def retrieve(request: Request) -> JSONResponse:
        try:
            return JSONResponse(retrieve_response(snap, await request.json()))
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
