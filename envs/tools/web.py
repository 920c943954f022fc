"""Web tools: search the offline web, open and scroll pages, find in a page, follow links, send any HTTP request.

Every request goes through ``sandbox.fetch``: the host-side request takes the same gateway
dispatch and logging as ``curl`` inside the container, so the episode log records both the
same way and ``url_visited`` graders see pages opened either way. Each request is bounded by
the call's timeout (``ctx.timeout``), which the gateway enforces on the site's app.
"""
from __future__ import annotations

import json
import urllib.parse
from typing import Any, Literal

from .base import ToolContext, ToolError, tool

_REDIRECTS = (301, 302, 303, 307, 308)


def _headers(resp) -> dict[str, str]:
    return {k.lower(): v for k, v in dict(resp.headers).items()}


def fetch(ctx: ToolContext, method: str, url: str, headers: dict | None = None, body: bytes | None = None,
          follow: bool = True):
    """``sandbox.fetch`` within the call's timeout, following up to 5 redirects (GET/HEAD). Returns (final_url, response)."""
    from airgap.sandbox import SandboxError, SandboxTimeout

    for _ in range(6):
        try:
            resp = ctx.sandbox.fetch(method, url, headers=headers, body=body, timeout=ctx.timeout)
        except SandboxTimeout:
            raise ToolError(f"{method} {url} timed out: the site did not answer within {ctx.timeout:g}s", "timeout") from None
        except SandboxError as e:
            raise ToolError(f"{method} {url} failed: {e}", "http_error") from None
        location = _headers(resp).get("location")
        if follow and method in ("GET", "HEAD") and resp.status in _REDIRECTS and location:
            url = urllib.parse.urljoin(url, location)
            continue
        return url, resp
    raise ToolError(f"too many redirects from {url}", "http_error")


def _day(as_of: str | None) -> str | None:
    """A YYYY-MM-DD day, or None; anything else is the agent's to fix."""
    if as_of is None or not as_of.strip():
        return None
    import datetime as _dt

    try:
        return _dt.date.fromisoformat(as_of.strip()).isoformat()
    except ValueError:
        raise ToolError(f"as_of {as_of!r} is not a day; give it as YYYY-MM-DD, e.g. 2025-02-07", "bad_args") from None


def archived(url: str, day: str) -> str:
    """The web archive's address of ``url`` as it stood on ``day`` (served by the search engine, as the Wayback Machine)."""
    from airgap.corpus import SEARCH_HOST

    return f"https://{SEARCH_HOST}/web/{day}/{url}"


def check_url(url: str) -> str:
    url = url.strip()
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ToolError(f"{url!r} is not an http(s) URL; give a full URL such as https://docs.python.org/3.11/", "bad_args")
    return url


def _open_url(ctx: ToolContext, url: str, cursor: int) -> str:
    from airgap.corpus import render_page

    url = check_url(url)
    final_url, resp = fetch(ctx, "GET", url)
    if resp.status >= 400:
        raise ToolError(f"{url} answered HTTP {resp.status}: the page is not in this offline web. "
                        "Use search(query) to find pages that are.", "http_error")
    page = render_page(bytes(resp.body), final_url, content_type=_headers(resp).get("content-type") or None)
    if not page.title:
        page.title = final_url
    return ctx.browser.show(page, cursor)


def _current(ctx: ToolContext):
    if ctx.browser.current is None:
        raise ToolError("no page is open yet: call search(query) or open(url) first", "no_page")
    return ctx.browser.current


def _link_url(ctx: ToolContext, link: int) -> str:
    page = _current(ctx)
    url = page.link(link)
    if url is None:
        hint = f"links on this page are numbered 1..{len(page.links)}" if page.links else "this page has no links"
        raise ToolError(f"link [{link}] is not on the current page ({page.url}); {hint}", "bad_args")
    return url


@tool(effects={"web_read"})
def search(ctx: ToolContext, query: str, k: int = 5, as_of: str | None = None) -> str:
    """Search the web. Returns numbered results (title, URL, snippet); click(link=N) or open(url=...) opens one.

    Args:
        query: Keywords to search for.
        k: How many results to return (1-20).
        as_of: Search the web as it stood on this day (YYYY-MM-DD) instead of today; its results open as of that day.
    """
    from airgap.corpus import SEARCH_HOST, RenderedPage

    if not query.strip():
        raise ToolError('the query is empty; give keywords, e.g. {"tool": "search", "args": {"query": "json dumps indent"}}',
                        "bad_args")
    k = max(1, min(int(k), 20))
    day = _day(as_of)
    url = f"https://{SEARCH_HOST}/api/search?" + urllib.parse.urlencode({"q": query, "k": k, **({"as_of": day} if day else {})})
    _, resp = fetch(ctx, "GET", url)
    if resp.status != 200:
        raise ToolError(f"the search engine answered HTTP {resp.status}; try again with other keywords", "http_error")
    try:
        hits = json.loads(bytes(resp.body))["hits"]
    except (ValueError, KeyError, TypeError):
        raise ToolError("the search engine returned an unreadable answer", "http_error") from None
    lines = [f'Search results for "{query}"' + (f" as of {day}" if day else "") + f": {len(hits)}"]
    links = []
    for i, h in enumerate(hits, 1):
        title = h.get("title") or h["url"]
        links.append((i, title, archived(h["url"], day) if day else h["url"]))
        lines.append(f"[{i}]{title}")
        lines.append(f"    {h['url']}")
        snippet = " ".join(str(h.get("snippet") or "").split())
        if snippet:
            lines.append(f"    {snippet}")
    if not hits:
        lines.append("(no results: try fewer or different keywords)")
    ctx.browser.keep(RenderedPage(url=url, title=f"search: {query}", lines=lines, links=links))
    return "\n".join(lines + (["[click(link=N) opens result N]"] if hits else []))


@tool(effects={"web_read"})
def open(ctx: ToolContext, url: str | None = None, link: int | None = None, cursor: int = 0,  # noqa: A001
         as_of: str | None = None) -> str:
    """Open a web page as numbered lines with numbered links, or scroll the current page.

    Give `url` to open a page, `link` to open link [N] of the current page, or neither to scroll
    the current page to line `cursor`.

    Args:
        url: Full URL of a page to open.
        link: Number of a link shown as [N] on the current page.
        cursor: First line to show.
        as_of: Open the page as it stood on this day (YYYY-MM-DD), from the web archive, instead of today.
    """
    if url is not None and link is not None:
        raise ToolError("give either url or link, not both", "bad_args")
    cursor = max(0, int(cursor))
    if url is not None:
        day = _day(as_of)
        return _open_url(ctx, archived(check_url(url), day) if day else url, cursor)
    if link is not None:
        return _open_url(ctx, _link_url(ctx, link), cursor)
    _current(ctx)
    return ctx.browser.view(cursor)


@tool
def find(ctx: ToolContext, pattern: str) -> str:
    """Find the lines of the current page that contain a text (case-insensitive).

    Args:
        pattern: The text to look for.
    """
    page = _current(ctx)
    if not pattern:
        raise ToolError("the pattern is empty; give the text to look for", "bad_args")
    hits = [i for i, _ in page.find(pattern)]
    out = [f'{len(hits)} lines match "{pattern}" in {page.title} ({page.url})']
    out += [f"L{i}: {page.lines[i]}" for i in hits[:50]]
    if len(hits) > 50:
        out.append(f"[{len(hits) - 50} more matches not shown; use a more specific pattern]")
    if hits:
        out.append("[open(cursor=N) shows the page from line N]")
    return "\n".join(out)


@tool(effects={"web_read"})
def click(ctx: ToolContext, link: int) -> str:
    """Open link [N] of the current page (search results are links too).

    Args:
        link: The number shown as [N] before the link text.
    """
    return _open_url(ctx, _link_url(ctx, link), 0)


@tool(effects={"network", "backend_write"})
def http(
    ctx: ToolContext,
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
    url: str,
    headers: dict[str, str] | None = None,
    body: str | dict[str, Any] | list[Any] | None = None,
) -> str:
    """Send an HTTP request to a site of this world and show the status, headers and body.

    Args:
        method: The HTTP method.
        url: Full http(s) URL.
        headers: Request headers.
        body: Request body: a JSON object or array (sent as JSON, with Content-Type application/json unless headers
            set one), or a string sent as it is (e.g. form data, or JSON you serialised yourself).
    """
    url = check_url(url)
    data, headers = request_body(body, headers)
    _, resp = fetch(ctx, method, url, headers=headers, body=data, follow=False)
    head = [f"HTTP {resp.status}"] + [f"{k}: {v}" for k, v in dict(resp.headers).items()]
    return "\n".join(head) + "\n\n" + bytes(resp.body).decode("utf-8", errors="replace")


def request_body(body: Any, headers: dict[str, str] | None) -> tuple[bytes | None, dict[str, str] | None]:
    """The bytes of an ``http`` call's body and its headers: a string as it is (UTF-8); an object or array as compact
    JSON, with ``Content-Type: application/json`` added unless the call names a content type itself."""
    if body is None:
        return None, headers
    if isinstance(body, str):
        return body.encode("utf-8", errors="surrogatepass"), headers
    try:
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8", "surrogatepass")
    except ValueError as e:
        raise ToolError(f"the body cannot be sent as JSON ({e}); send numbers as finite values or pass a string",
                        "bad_args") from None
    headers = dict(headers or {})
    if not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = "application/json"
    return data, headers
