"""Pages as browsing agents read them: plain text lines with numbered links.

`render_page(html, base_url)` walks the DOM once and writes one line per block element
(headings as ``# ...``, list items as ``- ...``, table cells joined by `` | ``, ``<pre>``
kept as is), each link as ``[n]text`` with ``links[n-1] == (n, text, absolute_url)``.
Lines are wrapped at `WIDTH` characters so that a page of `lines_per_page` lines is a
predictable amount of text. Same input, same output: no clock, no randomness.
"""
from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from urllib.parse import urljoin

from resiliparse.parse.html import HTMLTree, NodeType

from .extract import decode_text, is_html

WIDTH = 100
_SKIP = {"script", "style", "noscript", "template", "head", "svg", "iframe", "object", "canvas", "select", "button"}
_BLOCK = {"address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "dialog", "div", "dl",
          "dt", "fieldset", "figcaption", "figure", "footer", "form", "header", "hr", "li", "main", "nav", "ol",
          "p", "pre", "section", "summary", "table", "tbody", "thead", "tfoot", "tr", "ul", "h1", "h2", "h3", "h4",
          "h5", "h6", "br"}
_PARAGRAPH = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "table", "blockquote", "figure", "form"}
_CELL = {"td", "th"}
_SPACE = re.compile(r"\s+")


@dataclass
class RenderedPage:
    url: str
    title: str
    lines: list[str]
    links: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def n_pages(self, lines_per_page: int = 50) -> int:
        return max(1, -(-len(self.lines) // lines_per_page))

    def page(self, n: int = 0, lines_per_page: int = 50) -> str:
        """Lines of page `n` (0-based) with a header saying where you are, for a scrolling agent."""
        total = self.n_pages(lines_per_page)
        n = min(max(0, n), total - 1)
        body = self.lines[n * lines_per_page : (n + 1) * lines_per_page]
        return f"{self.title} ({self.url}) - page {n + 1} of {total}\n" + "\n".join(body)

    def link(self, link_id: int) -> str | None:
        """Absolute URL of link number `link_id`, or None if there is no such link."""
        return self.links[link_id - 1][2] if 1 <= link_id <= len(self.links) else None

    def find(self, term: str, context: int = 0) -> list[tuple[int, str]]:
        """Case-insensitive find-in-page: (line number, the line with `context` lines around it) per match."""
        needle = term.lower().strip()
        if not needle:
            return []
        out = []
        for i, line in enumerate(self.lines):
            if needle in line.lower():
                lo, hi = max(0, i - context), min(len(self.lines), i + context + 1)
                out.append((i, "\n".join(self.lines[lo:hi])))
        return out


class _Writer:
    def __init__(self, base_url: str):
        self.base = base_url
        self.lines: list[str] = []
        self.buf: list[str] = []
        self.links: list[tuple[int, str, str]] = []
        self.prefix = ""

    def text(self, s: str) -> None:
        self.buf.append(s)

    def newline(self, blank: bool = False) -> None:
        """End the current line; with `blank`, also leave one empty line (after paragraphs, lists...)."""
        line = _SPACE.sub(" ", "".join(self.buf)).strip()
        self.buf = []
        if line:
            self.lines.extend(textwrap.wrap(self.prefix + line, WIDTH, break_long_words=False,
                                            break_on_hyphens=False))
        if blank and self.lines and self.lines[-1] != "":
            self.lines.append("")
        self.prefix = ""

    def pre(self, s: str) -> None:
        self.newline()
        self.lines.extend(s.rstrip("\n").split("\n"))
        self.newline(blank=True)


def _inline_text(node) -> str:
    return _SPACE.sub(" ", node.text or "").strip()


def _walk(node, w: _Writer) -> None:
    child = node.first_child
    while child is not None:
        t = child.type
        if t == NodeType.TEXT:
            w.text(child.text or "")
        elif t == NodeType.ELEMENT:
            tag = child.tag
            if tag in _SKIP or child.hasattr("hidden"):
                pass
            elif tag == "a" and child.getattr("href"):
                href = child.getattr("href").strip()
                label = _inline_text(child) or (child.query_selector("img[alt]").getattr("alt")
                                                 if child.query_selector("img[alt]") else "") or "link"
                if href.startswith(("#", "javascript:")):
                    w.text(label)
                else:
                    n = len(w.links) + 1
                    w.links.append((n, label, urljoin(w.base, href)))
                    w.text(f"[{n}]{label}")
            elif tag == "img":
                alt = (child.getattr("alt") or "").strip()
                if alt:
                    w.text(f" [image: {alt}] ")
            elif tag == "pre":
                w.pre(child.text or "")
            elif tag in _CELL:
                w.text(" | ")
                _walk(child, w)
            elif tag in _BLOCK:
                w.newline()
                if tag[0] == "h" and tag[1:].isdigit():
                    w.prefix = "#" * int(tag[1]) + " "
                elif tag == "li":
                    w.prefix = "- "
                _walk(child, w)
                w.newline(blank=tag in _PARAGRAPH)
            else:
                _walk(child, w)
        child = child.next


def render_page(html: bytes | str, base_url: str, content_type: str | None = None) -> RenderedPage:
    """Render an archived page (HTML or plain text) for an agent to read."""
    if isinstance(html, bytes):
        if content_type and not is_html(content_type, html):
            text = decode_text(html, content_type)
            return RenderedPage(base_url, base_url, [ln.rstrip() for ln in text.splitlines()])
        html = decode_text(html, content_type)
    tree = HTMLTree.parse(html)
    title = _SPACE.sub(" ", tree.title or "").strip() or base_url
    w = _Writer(base_url)
    if tree.body is not None:
        _walk(tree.body, w)
    w.newline()
    while w.lines and w.lines[-1] == "":
        w.lines.pop()
    return RenderedPage(base_url, title, w.lines, w.links)
