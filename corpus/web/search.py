"""The search engine app: HTML results at ``/`` and ``/search?q=``, JSON at ``/api/search``, the archive at ``/web/<date>/<url>``."""
from __future__ import annotations

import re
from collections.abc import Callable

from markupsafe import Markup, escape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from .. import SEARCH_HOST
from ..snapshot import MODES, Snapshot
from ..tokenizer import TOKEN, matches, query_stems
from .pages import page_response
from .templates import TEMPLATES

MAX_K = 100
_SPLIT = re.compile(f"({TOKEN.pattern})")
_DAY = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})$")  # 2025-02-07 or Wayback's 20250207


def highlight(snippet: str, stems: set[str]) -> Markup:
    """The snippet as HTML with the words that match the query's terms in <b>."""
    out = []
    for i, part in enumerate(_SPLIT.split(snippet)):  # odd parts are tokens
        out.append(f"<b>{escape(part)}</b>" if i % 2 and matches(part, stems) else str(escape(part)))
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


def _modes(snap: Snapshot) -> list[str]:
    return list(MODES) if "dense" in snap.manifest["index"] else ["bm25"]


def search_app(snap: Snapshot, host: str = SEARCH_HOST, as_of: str | None = None,
               page_link: Callable[[str], str] | None = None) -> Starlette:
    """The search engine. `page_link` turns a result URL into the link shown (identity by default)."""
    link = page_link or (lambda url: url)

    def api_body(request: Request) -> tuple[dict, int]:
        try:
            q, k, mode, when = _search_args(request, as_of)
            hits = snap.search(q, k=k, mode=mode, as_of=when) if q else []
        except ValueError as e:
            return {"error": str(e)}, 400
        return {"query": q, "hits": [
            {"url": h.url, "title": h.title, "snippet": h.snippet, "score": h.score, "date": h.date,
             "passage_id": h.passage_id} for h in hits]}, 200

    def page_html(request: Request) -> tuple[str, int]:
        error, hits, q, mode = None, [], request.query_params.get("q", ""), "bm25"
        try:
            q, k, mode, when = _search_args(request, as_of)
            hits = snap.search(q, k=k, mode=mode, as_of=when) if q else []
        except ValueError as e:
            error = str(e)
        stems = query_stems(q)
        shown = [dict(url=h.url, href=link(h.url), title=h.title, date=h.date, score=h.score,
                      snippet_html=highlight(h.snippet, stems)) for h in hits]
        c = snap.manifest["counts"]
        about = f"{c['urls']} pages from {', '.join(snap.hosts())}; archived {snap.manifest['crawl_dates']['last']}."
        html = TEMPLATES.get_template("search.html").render(
            query=q, hits=shown, mode=mode, modes=_modes(snap), error=error, action=request.url.path, about=about)
        return html, 400 if error else 200

    async def api(request: Request) -> JSONResponse:
        body, status = await run_in_threadpool(api_body, request)
        return JSONResponse(body, status_code=status)

    async def page(request: Request) -> HTMLResponse:
        html, status = await run_in_threadpool(page_html, request)
        return HTMLResponse(html, status_code=status)

    async def archived(request: Request) -> Response:
        """A page as it stood on a day (the capture current then): /web/2025-02-07/https://host/path, as the Wayback Machine."""
        day = _DAY.match(request.path_params["when"])
        target = request.path_params["target"] + (f"?{request.url.query}" if request.url.query else "")
        if day is None or not target.startswith(("http://", "https://")):
            return HTMLResponse("use /web/YYYY-MM-DD/https://host/path: a day, then the full URL of the page", status_code=400)
        when = "-".join(day.groups())
        return await run_in_threadpool(page_response, snap, target, when, f"https://{host}/")

    return Starlette(routes=[Route("/", page), Route("/search", page), Route("/api/search", api),
                             Route("/web/{when}/{target:path}", archived)])
