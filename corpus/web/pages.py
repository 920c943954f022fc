"""The pages app: every archived page at its original URL, with its original status, headers and body."""
from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from .. import SEARCH_HOST
from ..snapshot import Snapshot
from .templates import TEMPLATES

# Headers that describe the archived transfer, not the body we send now.
_HOP = {"content-length", "transfer-encoding", "content-encoding", "connection", "keep-alive", "date", "server"}


def page_response(snap: Snapshot, url: str, as_of: str | None = None, search_url: str = f"https://{SEARCH_HOST}/",
                  also: tuple[str, ...] = ()) -> Response:
    """The archived response for `url` (or the first of `also` archived), else a 404 page saying so.

    Blocking (SQLite, a read, zstd): call it from a worker thread, as `pages_app` does.
    """
    page = None
    # a folder URL is answered by its index.html, as the real server would
    for candidate in (url, *also, *((url + "index.html",) if url.endswith("/") else ())):
        page = snap.get(candidate, as_of)
        if page is not None:
            break
    if page is None:
        html = TEMPLATES.get_template("notfound.html").render(url=url, as_of=as_of, search=search_url)
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

    https and http spellings are both tried, since TLS is terminated before the app. The
    look-up runs in a worker thread, so a slow read stalls no other request on the loop.
    """
    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        url = _request_url(Request(scope, receive))
        response = await run_in_threadpool(page_response, snap, url, as_of, f"https://{search_host}/",
                                           also=("http" + url[5:],))
        await response(scope, receive, send)

    return app
