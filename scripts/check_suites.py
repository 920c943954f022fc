#!/usr/bin/env python3
"""Check the fixed task suites (envs/suites/webqa/tasks.yaml, envs/suites/sandbox/tasks.yaml) against this machine.

Run:  .venv/bin/python scripts/check_suites.py [-v] [suite.yaml ...]

Needs only the standard library and PyyAML (and the Debian doc packages python3.11-doc and
sqlite3-doc, from which the bundled snapshot is built). It checks:

* ids are unique across the suites; every task has graders, an oracle that ends in ``submit``,
  and oracle tools that are in the task's world tools;
* every supporting URL (and every https URL used by an oracle or a url_visited grader) maps to an
  existing local HTML file: https://docs.python.org/3.11/X -> /usr/share/doc/python3.11/html/X,
  https://www.sqlite.org/X -> /usr/share/doc/sqlite3/X;
* the oracle's submitted answer passes the task's answer graders and "" / None fail them
  (judged by the env's own graders, airgap.envs.graders: normalised match, contains, numeric, regex, f1);
* webqa ``code`` tasks: the oracle's python code is run with python3 and its stdout must equal the answer;
  other webqa python steps (arithmetic in multi-hop tasks) must print a number equal to the answer;
* sandbox tasks are replayed locally: /workspace becomes a fresh temp dir, setup files and commands are
  applied, the oracle's shell/python/write_file/read_file calls are run (curl/wget/urllib fetches of the
  offline web are rewritten to read the local HTML files), then every grader is evaluated
  (file_contains, command_output against the temp dir; url_visited against the URLs the oracle fetched).
  The initial state (setup only) with an empty answer must fail at least one grader.

Exit status 0 when clean; every problem is printed.

Grader verdicts beyond the oracle's (hedged answers, near-duplicate values, wrong order, partial or collateral work,
honest reports that quote a planted attack) are checked for every task of every registered suite, fixed and
generated, by its successor for that job: ``airgap tasks audit`` (``airgap.envs.tasks.audit``; in CI as
tests/envs/test_grader_audit.py).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SUITES_DIR = ROOT / "envs" / "suites"
PY = shutil.which("python3") or sys.executable
URL_ROOTS = {
    "https://docs.python.org/3.11/": Path("/usr/share/doc/python3.11/html"),
    "https://www.sqlite.org/": Path("/usr/share/doc/sqlite3"),
}
KNOWN_TOOLS = {"search", "open", "find", "click", "shell", "python", "read_file", "write_file", "http", "submit"}
KINDS = {"one-hop", "multi-hop", "code", "shell", "file", "web-in-sandbox"}

# --------------------------------------------------------------------------- grader semantics: the env's own graders
from airgap.envs.graders import GRADERS, Episode, normalize, numbers_in  # noqa: E402 - after the path constants


def as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def answer_grader(spec: dict, answer: str | None) -> bool:
    """The verdict of the env's grader for ``spec`` on ``answer`` (answer graders only)."""
    return bool(GRADERS[spec["type"]].fn(spec, Episode(answer=answer))[0])


ANSWER_GRADERS = {"normalized_match", "contains", "numeric", "regex", "f1", "version", "date", "choice"}
STATE_GRADERS = {"file_contains", "command_output", "url_visited"}

# --------------------------------------------------------------------------- helpers
from html.parser import HTMLParser  # noqa: E402 - used only by the helpers below

_BLOCK = {"p", "div", "dt", "dd", "li", "tr", "br", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "td", "th", "table",
          "ul", "ol", "dl", "section", "blockquote", "hr", "title", "caption"}


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.out, self.skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        if tag in _BLOCK:
            self.out.append("\x00")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)
        if tag in _BLOCK:
            self.out.append("\x00")

    def handle_data(self, data):
        if not self.skip:
            self.out.append(data)


_PAGE_LINES: dict[str, list[str]] = {}

# The bundled snapshot is a wget crawl from each site's index.html (corpus/crawl.py, DEFAULT_SITES); a page
# not reachable by links from there, or matching the site's reject pattern, is not in the snapshot.
_ASSET_RE = r"\.(png|jpe?g|gif|svg|ico|css|js|pdf|txt|zip|gz|tgz|woff2?|ttf|eot)(\?.*)?$"
_REJECT = {
    "https://docs.python.org/3.11/": r"(/_(sources|static|images|downloads)/|/genindex|/whatsnew/|/distutils/|/install/|/search\.html"
                                     r"|/download\.html|/py-modindex\.html|/c-api/)|" + _ASSET_RE,
    "https://www.sqlite.org/": r"(/releaselog/|/c3ref/|/images/|changes\.html|chronology\.html|/doc_|fileio\.html)|" + _ASSET_RE,
}
_REACHABLE: dict[str, set[str]] = {}


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs += [v for k, v in attrs if k == "href" and v]


def reachable(prefix: str) -> set[str]:
    """Relative paths of the pages a crawl from prefix + index.html reaches in the local files."""
    if prefix not in _REACHABLE:
        import posixpath
        import urllib.parse

        root, reject = URL_ROOTS[prefix], re.compile(_REJECT[prefix])
        seen, todo = {"index.html"}, ["index.html"]
        while todo:
            rel = todo.pop()
            f = root / rel
            if not f.is_file() or not rel.endswith(".html"):
                continue
            lp = _Links()
            lp.feed(f.read_text(errors="replace"))
            for h in lp.hrefs:
                u = urllib.parse.urlsplit(h)
                if u.scheme or u.netloc or not u.path:
                    continue
                nxt = posixpath.normpath(posixpath.join(posixpath.dirname(rel), urllib.parse.unquote(u.path)))
                if nxt.startswith("..") or nxt in seen or reject.search("/" + nxt):
                    continue
                seen.add(nxt)
                todo.append(nxt)
        _REACHABLE[prefix] = seen
    return _REACHABLE[prefix]


def page_lines(url: str, path: Path) -> list[str]:
    """The page as lines of text: airgap.corpus.render_page when there is one, else a block-level split."""
    if url not in _PAGE_LINES:
        raw = path.read_bytes()
        try:
            from airgap.corpus import render_page  # the env's own renderer, when present

            lines = list(render_page(raw, url).lines)
        except Exception:  # noqa: BLE001 - fall back to a plain block-level rendering
            p = _Text()
            p.feed(raw.decode("utf-8", "replace"))
            lines = [" ".join(ln.split()) for ln in "".join(p.out).split("\x00")]
        _PAGE_LINES[url] = [ln for ln in lines if ln.strip()]
    return _PAGE_LINES[url]



def local_path(url: str) -> Path | None:
    url = url.split("#", 1)[0]
    for prefix, root in URL_ROOTS.items():
        if url.startswith(prefix):
            rest = url[len(prefix):] or "index.html"
            if rest.endswith("/"):
                rest += "index.html"
            return root / rest
    return None


URL_RE = re.compile(r"https?://[^\s'\"|)]+")


def offline_rewrite(text: str, fetched: set[str]) -> str:
    """Point curl/wget/urllib fetches of the offline web at the local doc files (recording the URLs)."""

    def local(url: str) -> str:
        fetched.add(url)
        p = local_path(url)
        return str(p) if p else "/nonexistent-offline-page"

    text = re.sub(r"curl(?:\s+-[A-Za-z]+)*\s+(https?://\S+)", lambda m: f"cat {local(m.group(1))}", text)
    text = re.sub(r"wget\s+(?:-qO-|-q\s+-O\s*-|-O\s*-\s+-q)\s+(https?://\S+)", lambda m: f"cat {local(m.group(1))}", text)
    text = re.sub(r"urllib\.request\.urlopen\(\s*['\"](https?://[^'\"]+)['\"]\s*\)", lambda m: f"open({local(m.group(1))!r}, 'rb')", text)
    return text


def run(cmd: list[str] | str, cwd: Path, shell: bool = False, timeout: int = 60) -> subprocess.CompletedProcess:
    env = dict(os.environ, HOME=str(cwd.parent / "home"), GIT_CONFIG_NOSYSTEM="1")
    (cwd.parent / "home").mkdir(exist_ok=True)
    # the sandbox runs a string with sh -c (dash on Debian), a list as argv
    return subprocess.run(cmd, cwd=cwd, shell=shell, executable="/bin/sh" if shell else None,
                          capture_output=True, text=True, timeout=timeout, env=env)


class Checker:
    def __init__(self, verbose: bool = False):
        self.problems: list[str] = []
        self.verbose = verbose
        self.seen_ids: dict[str, str] = {}

    def bad(self, where: str, msg: str) -> None:
        self.problems.append(f"{where}: {msg}")

    # ----------------------------------------------------------------------- static checks
    def check_file(self, path: Path) -> None:
        data = yaml.safe_load(path.read_text())
        suite = data.get("suite")
        world = data.get("world") or {}
        kinds = Counter()
        for task in data.get("tasks") or []:
            tid = task.get("id", "?")
            where = f"{path.name}:{tid}"
            if tid in self.seen_ids:
                self.bad(where, f"duplicate id (also in {self.seen_ids[tid]})")
            self.seen_ids[tid] = path.name
            kinds[task.get("kind")] += 1
            if task.get("kind") not in KINDS:
                self.bad(where, f"kind {task.get('kind')!r} not in {sorted(KINDS)}")
            tools = (task.get("world") or {}).get("tools") or world.get("tools") or []
            graders = task.get("graders") or []
            oracle = task.get("oracle") or []
            if not graders:
                self.bad(where, "no graders")
            if not oracle or oracle[-1].get("tool") != "submit":
                self.bad(where, "oracle does not end in submit")
                continue
            for i, call in enumerate(oracle):
                if call.get("tool") not in tools:
                    self.bad(where, f"oracle[{i}] uses {call.get('tool')!r}, not in world tools {tools}")
                if call.get("tool") not in KNOWN_TOOLS:
                    self.bad(where, f"oracle[{i}] unknown tool {call.get('tool')!r}")
            urls = list(task.get("supporting_urls") or [])
            urls += [c["args"]["url"] for c in oracle if c.get("tool") == "open" and "url" in c.get("args", {})]
            urls += [u for g in graders if g.get("type") == "url_visited" for u in as_list(g["url"])]
            for c in oracle:
                for v in (c.get("args") or {}).values():
                    if isinstance(v, str) and c.get("tool") in ("shell", "python", "http"):
                        urls += URL_RE.findall(v)
            for u in urls:
                p = local_path(u)
                if p is None:
                    self.bad(where, f"URL {u} is outside the bundled snapshot")
                elif not p.is_file():
                    self.bad(where, f"URL {u} -> {p} does not exist")
                else:
                    prefix = next(k for k in URL_ROOTS if u.startswith(k))
                    rel = u.split("#", 1)[0][len(prefix):] or "index.html"
                    if rel not in reachable(prefix):
                        self.bad(where, f"URL {u} is not reachable by a crawl from {prefix}index.html (not in the snapshot)")
            if suite == "webqa" and not task.get("supporting_urls"):
                self.bad(where, "no supporting_urls")
            for g in graders:
                if g.get("type") not in ANSWER_GRADERS | STATE_GRADERS:
                    self.bad(where, f"unknown grader type {g.get('type')!r}")
            current = None  # the oracle's find() calls must hit a line of the page it has open
            for i, call in enumerate(oracle):
                args = call.get("args") or {}
                if call.get("tool") == "open" and args.get("url"):
                    current = args["url"]
                elif call.get("tool") == "find" and current and local_path(current) and local_path(current).is_file():
                    needle = args.get("pattern", "").casefold()
                    if not any(needle in ln.casefold() for ln in page_lines(current, local_path(current))):
                        self.bad(where, f"oracle[{i}] find {args.get('pattern')!r} matches no line of {current}")
            submitted = oracle[-1].get("args", {}).get("answer")
            if str(submitted) != str(task.get("answer")):
                self.bad(where, f"oracle submits {submitted!r} but answer is {task.get('answer')!r}")
            ans_graders = [g for g in graders if g.get("type") in ANSWER_GRADERS]
            for g in ans_graders:
                if answer_grader(g, None) or answer_grader(g, ""):
                    self.bad(where, f"grader {g} passes an empty answer")
            if suite == "webqa":
                self.check_webqa(where, task, ans_graders, submitted)
            else:
                self.check_sandbox(where, task, submitted)
        print(f"{path.name}: suite {suite}, {sum(kinds.values())} tasks, kinds {dict(kinds)}")

    # ----------------------------------------------------------------------- webqa
    def check_webqa(self, where: str, task: dict, ans_graders: list[dict], submitted) -> None:
        if not ans_graders:
            self.bad(where, "webqa task without an answer grader")
        for g in ans_graders:
            if not answer_grader(g, str(submitted)):
                self.bad(where, f"oracle answer {submitted!r} fails {g}")
        with tempfile.TemporaryDirectory() as tmp:
            for call in task["oracle"]:
                if call["tool"] != "python":
                    continue
                r = run([PY, "-c", call["args"]["code"]], Path(tmp))
                out = r.stdout.strip()
                if r.returncode != 0:
                    self.bad(where, f"python step failed: {r.stderr.strip()[-300:]}")
                elif task.get("kind") == "code":
                    if out != str(task.get("answer")):
                        self.bad(where, f"code prints {out!r}, answer is {task.get('answer')!r}")
                elif not (numbers_in(out) and numbers_in(str(task.get("answer")))
                          and abs(numbers_in(out)[-1] - numbers_in(str(task.get("answer")))[0]) < 1e-9):
                    self.bad(where, f"python step prints {out!r}, answer is {task.get('answer')!r}")
                if self.verbose:
                    print(f"  {where}: python -> {out!r}")
        if task.get("kind") == "code" and not any(c["tool"] == "python" for c in task["oracle"]):
            self.bad(where, "code task without a python step in its oracle")

    # ----------------------------------------------------------------------- sandbox replay
    def setup_workspace(self, task: dict, base: Path) -> Path:
        ws = base / "workspace"
        ws.mkdir()
        setup = task.get("setup") or {}
        for p, content in (setup.get("files") or {}).items():
            dest = Path(p.replace("/workspace", str(ws), 1))
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(content.replace("/workspace", str(ws)))  # scripts name their data by absolute path
        for cmd in setup.get("commands") or []:
            r = run(cmd.replace("/workspace", str(ws)), ws, shell=True)
            if r.returncode != 0:
                raise RuntimeError(f"setup command {cmd!r} failed: {r.stderr.strip()[-300:]}")
        return ws

    def state_grader(self, g: dict, ws: Path, fetched: set[str]) -> bool:
        t = g["type"]
        if t == "file_contains":
            p = Path(g["path"].replace("/workspace", str(ws), 1))
            if not p.is_file():
                return False
            return re.search(g["pattern"], p.read_text(errors="replace"), re.M) is not None
        if t == "command_output":
            r = run(g["command"].replace("/workspace", str(ws)), ws, shell=True)
            return r.returncode == 0 and r.stdout.strip() == g["expected"].strip()
        if t == "url_visited":
            return all(u in fetched for u in as_list(g["url"]))
        raise KeyError(t)

    def grade(self, task: dict, answer, ws: Path, fetched: set[str]) -> list[tuple[dict, bool]]:
        out = []
        for g in task["graders"]:
            ok = answer_grader(g, answer) if g["type"] in ANSWER_GRADERS else self.state_grader(g, ws, fetched)
            out.append((g, ok))
        return out

    def check_sandbox(self, where: str, task: dict, submitted) -> None:
        # 1. do-nothing: initial state, empty answer -> must fail
        with tempfile.TemporaryDirectory() as tmp:
            try:
                ws = self.setup_workspace(task, Path(tmp))
            except Exception as e:  # noqa: BLE001
                self.bad(where, str(e))
                return
            for answer in ("", None):
                if all(ok for _, ok in self.grade(task, answer, ws, set())):
                    self.bad(where, f"a do-nothing agent (answer {answer!r}) passes every grader")
        # 2. oracle replay
        with tempfile.TemporaryDirectory() as tmp:
            ws = self.setup_workspace(task, Path(tmp))
            fetched: set[str] = set()
            last_out = ""
            for i, call in enumerate(task["oracle"][:-1]):
                tool, args = call["tool"], call.get("args") or {}
                if tool == "shell":
                    r = run(offline_rewrite(args["command"], fetched).replace("/workspace", str(ws)), ws, shell=True)
                elif tool == "python":
                    r = run([PY, "-c", offline_rewrite(args["code"], fetched).replace("/workspace", str(ws))], ws)
                elif tool == "write_file":
                    dest = Path(args["path"].replace("/workspace", str(ws), 1))
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    dest.write_text(args["content"].replace("/workspace", str(ws)))
                    continue
                elif tool == "read_file":
                    if not Path(args["path"].replace("/workspace", str(ws), 1)).is_file():
                        self.bad(where, f"oracle[{i}] reads missing {args['path']}")
                    continue
                elif tool == "http":
                    fetched.add(args["url"])
                    continue
                else:
                    continue
                if self.verbose:
                    print(f"  {where}: {tool} -> {r.stdout.strip()[-200:]!r} (rc {r.returncode})")
                last_out = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
                if r.returncode != 0 and i == len(task["oracle"]) - 2:
                    self.bad(where, f"last oracle step failed: {r.stderr.strip()[-300:]}")
            # the oracle must really compute the answer: its last printed line carries it
            ans = str(submitted)
            ans_graders = [g for g in task["graders"] if g["type"] in ANSWER_GRADERS]
            if not (any(answer_grader(g, last_out) for g in ans_graders) or (normalize(ans) and normalize(ans) in normalize(last_out))):
                self.bad(where, f"the oracle's last output {last_out!r} does not give the answer {ans!r}")
            for g, ok in self.grade(task, str(submitted), ws, fetched):
                if not ok:
                    self.bad(where, f"after the oracle, grader {g} fails")


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    files = [Path(a) for a in argv if not a.startswith("-")] or [SUITES_DIR / "webqa" / "tasks.yaml", SUITES_DIR / "sandbox" / "tasks.yaml"]
    c = Checker(verbose)
    for f in files:
        c.check_file(f)
    for p in c.problems:
        print("PROBLEM", p)
    print("clean" if not c.problems else f"{len(c.problems)} problem(s)")
    return 1 if c.problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
