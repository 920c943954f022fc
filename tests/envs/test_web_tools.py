"""The web tools (search, open, find, click, http) through a real sandbox's gateway, against a small
ASGI site that the test routes itself: what the agent sees, and that the gateway logs every request."""
from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest

from airgap.envs.graders import Episode, grade
from airgap.envs.tools import TOOLS, ToolContext, ToolError

LONG = "<html><head><title>Long page</title></head><body>" + "".join(f"<p>para {i} text</p>" for i in range(150)) + "</body></html>"
PAGES = {
    "/": '<html><head><title>Home</title></head><body><h1>Welcome</h1><p>See <a href="/json.html">the json page</a> '
         'and <a href="https://other.test/x">elsewhere</a>.</p></body></html>',
    "/json.html": "<html><head><title>json</title></head><body><p>json.dumps(obj, *, indent=None)</p>"
                  "<p>If indent is a non-negative integer, pretty-print.</p></body></html>",
    "/long.html": LONG,
    "/moved": None,  # redirect
}


async def site(scope, receive, send):
    """docs.test: a few pages and a redirect; search.airgap: the JSON search API's shape."""
    host = dict(scope["headers"]).get(b"host", b"").decode().split(":")[0]
    path = scope["path"]
    if host == "search.airgap":
        q = parse_qs(scope["query_string"].decode()).get("q", [""])[0]
        hits = [{"url": "https://docs.test/json.html", "title": "json", "snippet": f"about {q}", "score": 1.0},
                {"url": "https://docs.test/", "title": "Home", "snippet": "welcome", "score": 0.5}]
        body, ctype, status = json.dumps({"query": q, "hits": hits}).encode(), b"application/json", 200
    elif path == "/slow":  # answers after 30 s: longer than any call's timeout in these tests
        import asyncio

        await asyncio.sleep(30)
        body, ctype, status = b"finally", b"text/plain", 200
    elif path == "/moved":
        await send({"type": "http.response.start", "status": 301, "headers": [(b"location", b"/json.html")]})
        await send({"type": "http.response.body", "body": b""})
        return
    elif path in PAGES:
        body, ctype, status = PAGES[path].encode(), b"text/html; charset=utf-8", 200
    else:
        body, ctype, status = b"not here", b"text/plain", 404
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", ctype)]})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def web(sandbox_image):
    from airgap.sandbox import Sandbox, SandboxConfig

    events: list[dict] = []
    with Sandbox(SandboxConfig(image=sandbox_image), routes={"docs.test": site, "search.airgap": site}, sink=events.append) as sb:
        yield sb, events


def call(ctx, name, **args):
    tool = TOOLS[name]
    assert tool.validate(args) == []
    return tool(ctx, args).text


def test_search_then_click_open_find_scroll(web):
    sb, events = web
    ctx = ToolContext(sandbox=sb)
    out = call(ctx, "search", query="indent")
    assert out.splitlines()[0] == 'Search results for "indent": 2'
    assert "[1]json" in out and "https://docs.test/json.html" in out and "about indent" in out
    page = call(ctx, "click", link=1)
    assert page.startswith("[page] json\nURL: https://docs.test/json.html\n[lines 0-")
    assert "L0: json.dumps(obj, *, indent=None)" in page
    found = call(ctx, "find", pattern="INDENT")
    assert found.startswith('2 lines match "INDENT"') and "If indent is a non-negative integer" in found
    home = call(ctx, "open", url="https://docs.test/")
    assert "[1]the json page" in home and "[2]elsewhere" in home
    assert call(ctx, "open", link=1).startswith("[page] json")
    long = call(ctx, "open", url="https://docs.test/long.html")
    assert "L59:" in long and "L60:" not in long and "open(cursor=60)" in long
    more = call(ctx, "open", cursor=60)
    assert "L60:" in more and "L119:" in more
    hit = call(ctx, "find", pattern="para 149").splitlines()[1]
    n = int(hit.split(":")[0][1:])
    assert hit.endswith("para 149 text") and f"L{n}: para 149 text" in call(ctx, "open", cursor=n)
    redirected = call(ctx, "open", url="https://docs.test/moved")
    assert "URL: https://docs.test/json.html" in redirected
    urls = [e["url"] for e in events if e["type"] == "http"]
    assert "https://docs.test/json.html" in urls and any(u.startswith("https://search.airgap/api/search?") for u in urls)
    assert all(e["source"] == "harness" for e in events if e["type"] == "http")
    r = grade([{"type": "url_visited", "url": "https://docs.test/long.html"}], Episode(answer=None, http_events=events))
    assert r.reward == 1.0


def test_web_tool_errors_say_what_to_do(web):
    sb, _ = web
    ctx = ToolContext(sandbox=sb)
    for name, args, needle in [
        ("find", {"pattern": "x"}, "no page is open yet"),
        ("open", {}, "no page is open yet"),
        ("open", {"url": "https://docs.test/missing"}, "HTTP 404"),
        ("open", {"url": "ftp://docs.test/"}, r"not an http\(s\) URL"),
        ("open", {"url": "https://not-routed.example/"}, "HTTP 502"),
        ("search", {"query": "  "}, "the query is empty"),
    ]:
        with pytest.raises(ToolError, match=needle):
            TOOLS[name](ctx, args)
    call(ctx, "open", url="https://docs.test/")
    with pytest.raises(ToolError, match=r"link \[9\] is not on the current page.*numbered 1..2"):
        TOOLS["click"](ctx, {"link": 9})


def test_http_tool_any_method_and_curl_inside_are_logged_alike(web):
    sb, events = web
    ctx = ToolContext(sandbox=sb)
    out = call(ctx, "http", method="POST", url="https://docs.test/json.html", headers={"x-a": "b"}, body="{}")
    assert out.startswith("HTTP 200\ncontent-type: text/html") and "json.dumps" in out
    assert call(ctx, "http", method="GET", url="https://docs.test/moved").startswith("HTTP 301")  # not followed
    n = len(events)
    r = sb.exec("curl -s https://docs.test/json.html", timeout=20)
    assert "json.dumps" in r.stdout
    inside = [e for e in events[n:] if e["type"] == "http"]
    assert inside and inside[0]["url"] == "https://docs.test/json.html" and inside[0]["source"] != "harness"


def test_web_tools_honour_the_call_timeout(web):
    """budget.tool_timeout reaches the gateway: a site slower than the call's limit is cut off, and the agent is told."""
    sb, events = web
    ctx = ToolContext(sandbox=sb, timeout=0.5)
    for name, args in [("http", {"method": "GET", "url": "https://docs.test/slow"}), ("open", {"url": "https://docs.test/slow"})]:
        with pytest.raises(ToolError, match=r"timed out: the site did not answer within 0.5s") as e:
            TOOLS[name](ctx, args)
        assert e.value.kind == "timeout"
    slow = [e for e in events if e["type"] == "http" and e.get("url") == "https://docs.test/slow"]
    assert len(slow) == 2 and all(e.get("status") == 504 for e in slow)  # logged, as a gateway timeout
    assert call(ctx, "open", url="https://docs.test/").startswith("[page] Home")  # the sandbox serves on
