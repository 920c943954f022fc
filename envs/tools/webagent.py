"""Browser tools over a real Chromium in the sandbox: BrowserGym's action set over element ids (``bid``).

:class:`PageBrowser` wraps a :class:`airgap.sandbox.browser.BrowserSession` (Playwright over the sandbox's DevTools
pipe). Before each observation every element of the page gets a ``bid`` attribute (as BrowserGym's injected script
does; numbers stay stable on a page, new elements get new ones), then the accessibility tree is read over CDP
(``Accessibility.getFullAXTree``) and each node that is an element is shown with its ``[bid]``, mapped through
``DOMSnapshot.captureSnapshot`` (backend node id -> the element's ``bid`` attribute). The observation text is the URL,
the open tabs and that tree; :meth:`PageBrowser.screenshot` gives a PNG.

The actions, with BrowserGym's names and arguments: ``goto(url)``, ``click(bid)``, ``fill(bid, value)``,
``select_option(bid, options)``, ``press(bid, key_comb)``, ``scroll(delta_x, delta_y)``, ``go_back()``,
``go_forward()``, ``new_tab()``, ``tab_focus(index)``, ``tab_close()``, ``send_msg_to_user(text)``. They live in
their own table, :data:`BROWSER_TOOLS` (``click`` is also the text browser's tool in :data:`TOOLS`), and read the page
browser from ``ctx.chromium``. Main-frame content only: elements inside iframes get no bid.
"""
from __future__ import annotations

import time
from typing import Any

from .base import Tool, ToolContext, ToolError, tool

MARK_JS = """() => {
  let n = window.__airgapNextBid || 0;
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (!el.hasAttribute('bid')) el.setAttribute('bid', String(n++));
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document);
  window.__airgapNextBid = n;
  return n;
}"""
SKIP_ROLES = {"none", "InlineTextBox", "LineBreak", "ListMarker"}
PROPS = ("focused", "checked", "selected", "expanded", "disabled", "required", "readonly", "pressed", "level")
SETTLE_MS = 3000  # how long an action waits for the page to finish loading before it observes


class PageBrowser:
    """The episode's real browser: tabs of one browser context, the current tab, messages sent to the user."""

    def __init__(self, session: Any, timeout: float = 20.0):
        self.session = session
        self.context = session.context
        self.timeout_ms = timeout * 1000
        pages = self.context.pages
        self.page = pages[0] if pages else self.context.new_page()
        self.messages: list[str] = []

    # -- observation --------------------------------------------------------------------------------

    def _settle(self) -> None:
        try:
            self.page.wait_for_load_state("load", timeout=SETTLE_MS)
        except Exception:  # noqa: BLE001 - a page still loading is observed as it is
            pass

    def mark(self) -> None:
        """Give every element of the current page a ``bid`` (kept across observations of the same page)."""
        self.page.evaluate(MARK_JS)

    def axtree(self) -> str:
        """The page's accessibility tree as indented text, ``[bid]`` before each element's node."""
        self.mark()
        cdp = self.context.new_cdp_session(self.page)
        try:
            nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
            snap = cdp.send("DOMSnapshot.captureSnapshot", {"computedStyles": []})
        finally:
            cdp.detach()
        bids: dict[int, str] = {}
        strings = snap["strings"]
        for doc in snap["documents"][:1]:  # the main frame's document
            dom = doc["nodes"]
            for backend_id, attrs in zip(dom["backendNodeId"], dom["attributes"], strict=False):
                for i in range(0, len(attrs), 2):
                    if strings[attrs[i]] == "bid":
                        bids[backend_id] = strings[attrs[i + 1]]
        by_id = {n["nodeId"]: n for n in nodes}
        lines: list[str] = []

        def value(n: dict, key: str) -> str:
            v = (n.get(key) or {}).get("value")
            return "" if v is None else str(v)

        def walk(n: dict, depth: int, parent_name: str) -> None:
            role, name = value(n, "role"), value(n, "name").strip()
            shown = not n.get("ignored") and role not in SKIP_ROLES and not (role == "generic" and not name)
            if role == "StaticText" and (not name or name == parent_name):
                shown = False
            if shown:
                bid = bids.get(n.get("backendDOMNodeId"))
                props = []
                for p in n.get("properties") or []:
                    if p.get("name") in PROPS:
                        v = (p.get("value") or {}).get("value")
                        if v not in (False, None, "false"):
                            props.append(p["name"] if v is True or v == "true" else f"{p['name']}={v}")
                val = value(n, "value")
                if val and role not in ("StaticText",):
                    props.append(f"value={val!r}")
                head = f"[{bid}] " if bid is not None and role != "StaticText" else ""
                lines.append("\t" * depth + f"{head}{role} {name!r}" + (", " + ", ".join(props) if props else ""))
            for child in n.get("childIds") or []:
                if child in by_id:
                    walk(by_id[child], depth + 1 if shown else depth, name or parent_name)

        if nodes:
            walk(nodes[0], 0, "")
        return "\n".join(lines)

    def tabs(self) -> list[tuple[str, str]]:
        return [(p.url, _title(p)) for p in self.context.pages]

    def observe(self) -> str:
        """The text observation: URL, tabs (``*`` marks the current one), the accessibility tree."""
        self._settle()
        tabs = "\n".join(f"  [{i}]{'*' if p is self.page else ''} {_title(p)!r} {p.url}"
                         for i, p in enumerate(self.context.pages))
        return f"URL: {self.page.url}\nTabs:\n{tabs}\n\n{self.axtree()}"

    def screenshot(self) -> bytes:
        """A PNG of the current tab's viewport."""
        return self.page.screenshot(type="png", timeout=self.timeout_ms)

    # -- actions ------------------------------------------------------------------------------------

    def element(self, bid: str):
        loc = self.page.locator(f'[bid="{bid}"]')
        if loc.count() == 0:
            raise ToolError(f"no element [{bid}] on this page: use a bid shown in the latest observation", "bad_args")
        return loc.first

    def act(self, fn) -> str:
        """Run an action (Playwright raises on a failed one: the agent reads why), then observe."""
        try:
            fn()
        except ToolError:
            raise
        except Exception as e:  # noqa: BLE001 - Playwright's errors are the agent's to read
            msg = str(e).split("\nCall log:")[0].strip()
            raise ToolError(f"the browser could not do that: {msg}", "browser_error") from None
        return self.observe()

    def close(self) -> None:
        self.session.close()


def _title(page: Any) -> str:
    try:
        return page.title()
    except Exception:  # noqa: BLE001 - a tab being navigated has no title yet
        return ""


def _browser(ctx: ToolContext) -> PageBrowser:
    b = getattr(ctx, "chromium", None)
    if b is None:
        raise ToolError("this environment has no browser: use its other tools", "no_browser")
    return b


@tool(effects={"web_read"})
def goto(ctx: ToolContext, url: str) -> str:
    """Navigate the current tab to a URL.

    Args:
        url: The address, e.g. https://www.example.com/path.
    """
    b = _browser(ctx)
    return b.act(lambda: b.page.goto(url, timeout=ctx.timeout * 1000))


@tool(name="click", effects={"web_read", "backend_write"})
def click_bid(ctx: ToolContext, bid: str) -> str:
    """Click an element of the page.

    Args:
        bid: The element's id, shown as [bid] in the observation.
    """
    b = _browser(ctx)
    return b.act(lambda: b.element(bid).click(timeout=ctx.timeout * 1000))


@tool(effects={"web_read"})
def fill(ctx: ToolContext, bid: str, value: str) -> str:
    """Type text into an input field, replacing what it holds.

    Args:
        bid: The field's id, shown as [bid] in the observation.
        value: The text to put in the field.
    """
    b = _browser(ctx)
    return b.act(lambda: b.element(bid).fill(value, timeout=ctx.timeout * 1000))


@tool(effects={"web_read"})
def select_option(ctx: ToolContext, bid: str, options: str | list[str]) -> str:
    """Choose one or more options of a select box, by value or label.

    Args:
        bid: The select box's id, shown as [bid] in the observation.
        options: The option (or list of options) to select.
    """
    b = _browser(ctx)
    return b.act(lambda: b.element(bid).select_option(options, timeout=ctx.timeout * 1000))


@tool(effects={"web_read", "backend_write"})
def press(ctx: ToolContext, bid: str, key_comb: str) -> str:
    """Focus an element and press a key or key combination (Enter submits a form).

    Args:
        bid: The element's id, shown as [bid] in the observation.
        key_comb: e.g. Enter, Tab, ArrowDown, Control+a.
    """
    b = _browser(ctx)
    return b.act(lambda: b.element(bid).press(key_comb, timeout=ctx.timeout * 1000))


@tool(effects={"web_read"})
def scroll(ctx: ToolContext, delta_x: float, delta_y: float) -> str:
    """Scroll the page by a number of pixels (positive delta_y scrolls down).

    Args:
        delta_x: Horizontal pixels.
        delta_y: Vertical pixels.
    """
    b = _browser(ctx)
    return b.act(lambda: (b.page.mouse.wheel(delta_x, delta_y), time.sleep(0.05)))


@tool(effects={"web_read"})
def go_back(ctx: ToolContext) -> str:
    """Go back to the previous page of the current tab's history."""
    b = _browser(ctx)
    return b.act(lambda: b.page.go_back(timeout=ctx.timeout * 1000, wait_until="commit"))


@tool(effects={"web_read"})
def go_forward(ctx: ToolContext) -> str:
    """Go forward to the next page of the current tab's history."""
    b = _browser(ctx)
    return b.act(lambda: b.page.go_forward(timeout=ctx.timeout * 1000, wait_until="commit"))


@tool
def new_tab(ctx: ToolContext) -> str:
    """Open a new, empty tab and make it the current one."""
    b = _browser(ctx)

    def run() -> None:
        b.page = b.context.new_page()
    return b.act(run)


@tool
def tab_focus(ctx: ToolContext, index: int) -> str:
    """Make the tab at this position (from 0, as listed under Tabs) the current one.

    Args:
        index: The tab's position.
    """
    b = _browser(ctx)
    pages = b.context.pages
    if not 0 <= index < len(pages):
        raise ToolError(f"there is no tab {index}: the tabs are 0 to {len(pages) - 1}", "bad_args")

    def run() -> None:
        b.page = pages[index]
        b.page.bring_to_front()
    return b.act(run)


@tool
def tab_close(ctx: ToolContext) -> str:
    """Close the current tab (the last one left is emptied instead)."""
    b = _browser(ctx)

    def run() -> None:
        pages = b.context.pages
        if len(pages) <= 1:
            b.page.goto("about:blank")
            return
        i = pages.index(b.page)
        b.page.close()
        b.page = b.context.pages[max(0, i - 1)]
    return b.act(run)


@tool
def send_msg_to_user(ctx: ToolContext, text: str) -> str:
    """Send a message to the user (e.g. an answer or a question).

    Args:
        text: The message.
    """
    _browser(ctx).messages.append(text)
    return "message sent"


#: BrowserGym's action names -> tools; a browser env offers these (with ``submit``) instead of the text tools.
BROWSER_TOOLS: dict[str, Tool] = {t.name: t for t in (goto, click_bid, fill, select_option, press, scroll, go_back,
                                                      go_forward, new_tab, tab_focus, tab_close, send_msg_to_user)}
