"""Helpers shared by the generated-world tests (imported by name: tests/ folders are not packages)."""
from __future__ import annotations

import re
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

from airgap.envs.suites.worldqa.generator import SEARCH_PAGE
from airgap.envs.tools.browser import PAGE_LINES


def shown(expected, text: str) -> bool:
    """Whether an expected answer value appears in ``text`` (numbers in any usual spelling, strings case-insensitively;
    runs of whitespace, line breaks and the browser's ``L<n>:`` line numbers included, count as one space: pages are
    wrapped where the agent reads them)."""
    text = " ".join(re.sub(r"(?m)^L\d+: ", "", text).split())
    if isinstance(expected, (int, float)):
        forms = {f"{expected:,.2f}", f"{expected:.2f}"} | ({f"{int(expected):,}", str(int(expected))}
                                                            if float(expected).is_integer() else set())
        return any(re.search(rf"(?<![\d.]){re.escape(f)}(?![\d])", text) for f in forms)
    return any(" ".join(e.split()).lower() in text.lower() for e in ([expected] if isinstance(expected, str) else expected))


def unshown_answers(task: dict, text: str) -> list[dict]:
    """The answer graders of ``task`` whose expected value does not appear in ``text``."""
    return [g for g in task["graders"] if g["type"] in ("numeric", "contains", "normalized_match")
            and not shown(g["expected"], text)]


def oracle_view(snap, task: dict) -> str:
    """What the oracle's calls would show, replayed against the snapshot without an env (no Docker): search results,
    the first screen of each opened page, the lines ``find`` matches, and python's output. ``http`` calls are skipped."""
    from airgap.corpus import render_page

    out, page = [], None
    for call in task["oracle"][:-1]:
        tool, args = call["tool"], call["args"]
        if tool == "search":
            out += [f"{h.title} {h.url} {h.snippet}" for h in snap.search(args["query"], k=5)]
        elif tool == "open" and args["url"].startswith(SEARCH_PAGE):
            q = parse_qs(urlsplit(args["url"]).query)
            out += [f"{h.title} {h.url} {h.snippet}" for h in snap.search(q["q"][0], k=10, as_of=q["as_of"][0])]
        elif tool == "open":
            when = args.get("as_of")
            got = snap.get(args["url"], when) or snap.get(args["url"] + "index.html", when)
            assert got is not None, f"{task['id']}: {args['url']} is not in the snapshot"
            page = render_page(got.body, args["url"])
            out += page.lines[:PAGE_LINES]
        elif tool == "find":
            out += [line for _, line in page.find(args["pattern"])]
        elif tool == "python":
            out.append(subprocess.run([sys.executable, "-c", args["code"]], capture_output=True, text=True,
                                      check=True).stdout)
    return "\n".join(out)
