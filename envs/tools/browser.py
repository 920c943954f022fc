"""The episode's browser: the pages opened (as ``airgap.corpus.RenderedPage``, the one page model), the current one, its cursor."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PAGE_LINES = 60  # lines shown per `open`; the cursor moves in these steps


@dataclass
class Browser:
    """Pages by URL, the current page and where the agent is on it.

    A page is a ``RenderedPage`` (url, title, lines, links as ``(n, text, url)``): the corpus
    renders web pages into it and the search tool builds one for a results list, so ``find``
    and ``click`` work the same on both.
    """

    pages: dict[str, Any] = field(default_factory=dict)
    current: Any = None
    cursor: int = 0

    def keep(self, page: Any) -> None:
        """Make ``page`` current, at its top (for pages the tool shows in a form of its own, like search results)."""
        self.pages[page.url] = page
        self.current = page
        self.cursor = 0

    def show(self, page: Any, cursor: int = 0) -> str:
        """Make ``page`` current and return its view from line ``cursor``."""
        self.keep(page)
        return self.view(cursor)

    def view(self, cursor: int, size: int = PAGE_LINES) -> str:
        """The current page from line ``cursor``: a header, numbered lines, and how to go on."""
        page = self.current
        n = len(page.lines)
        self.cursor = max(0, min(cursor, max(n - 1, 0)))
        end = min(self.cursor + size, n)
        head = [f"[page] {page.title}", f"URL: {page.url}", f"[lines {self.cursor}-{max(end - 1, 0)} of {n}]"]
        body = [f"L{i}: {page.lines[i]}" for i in range(self.cursor, end)]
        tail = []
        if end < n:
            tail.append(f"[{n - end} more lines: open(cursor={end}) shows the next ones]")
        if page.links:
            tail.append("[click(link=N) follows a link shown as [N]; find(pattern) searches this page]")
        return "\n".join(head + body + tail)

    def link_url(self, link: int) -> str | None:
        """The absolute URL of link [link] on the current page, or None."""
        return self.current.link(link) if self.current is not None else None
