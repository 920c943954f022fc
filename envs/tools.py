"""Tools: declared once as typed Python functions, exposed to the env and to agents.

A tool is a plain function whose first parameter is the episode's :class:`ToolContext`
and whose other parameters are the arguments the agent passes. :func:`tool` reads the
signature and the docstring and builds a :class:`Tool`: its name, a description, a JSON
schema of its parameters (what ``jsonschema`` validates and what agents are given, in
the OpenAI / Hugging Face ``tools`` shape) and whether it changes world state::

    @tool(changes_state=True)
    def write_file(ctx: ToolContext, path: str, content: str) -> str:
        '''Write a text file in the sandbox, replacing it if it exists.

        Args:
            path: Absolute path, or relative to /workspace.
            content: The full new content of the file.
        '''

Handlers return the observation text (or a :class:`ToolResult` when they need to say
more, e.g. that the episode is over) and raise :class:`ToolError` for anything the agent
can fix; the message is what the agent reads, so it says what to do instead.

Web tools (``search``, ``open``, ``click``, ``http``) call ``sandbox.fetch``: the host-side
request goes through the same gateway dispatch and logging as ``curl`` inside the
container, so the episode log records both the same way and ``url_visited`` graders see
pages opened either way.
"""
from __future__ import annotations

import inspect
import json
import re
import types
import typing
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Union

SEARCH_HOST = "search.airgap"  # == airgap.corpus.SEARCH_HOST; duplicated to keep this import light
PAGE_LINES = 60  # lines shown per `open`; the cursor moves in these steps


class ToolError(Exception):
    """A tool call the agent can fix. ``kind`` goes to ``info["error"]``; the message to the agent."""

    def __init__(self, message: str, kind: str = "tool_error"):
        super().__init__(message)
        self.kind = kind


@dataclass
class ToolResult:
    """What a handler may return instead of a plain string."""

    text: str
    ok: bool = True
    error: str | None = None  # an error kind, e.g. "timeout"; None when ok
    done: bool = False  # True ends the episode (submit)
    answer: str | None = None  # the submitted answer
    truncated: bool = False  # the text was cut to the output cap


# ---------------------------------------------------------------------------- the browser


@dataclass
class Page:
    """A rendered page as the agent sees it: numbered lines, numbered links, a cursor."""

    url: str
    title: str
    lines: list[str]
    links: dict[int, str]  # link id -> absolute URL
    cursor: int = 0  # first line shown by the last view

    def view(self, cursor: int, size: int = PAGE_LINES) -> str:
        n = len(self.lines)
        self.cursor = max(0, min(cursor, max(n - 1, 0)))
        end = min(self.cursor + size, n)
        head = [f"[page] {self.title}", f"URL: {self.url}", f"[lines {self.cursor}-{max(end - 1, 0)} of {n}]"]
        body = [f"L{i}: {self.lines[i]}" for i in range(self.cursor, end)]
        tail = []
        if end < n:
            tail.append(f"[{n - end} more lines: open(cursor={end}) shows the next ones]")
        if self.links:
            tail.append("[click(link=N) follows a link shown as [N]; find(pattern) searches this page]")
        return "\n".join(head + body + tail)


@dataclass
class Browser:
    """The pages opened in this episode, by URL, and which one is current."""

    pages: dict[str, Page] = field(default_factory=dict)
    current: Page | None = None

    def show(self, page: Page, cursor: int = 0) -> str:
        self.pages[page.url] = page
        self.current = page
        return page.view(cursor)


# ---------------------------------------------------------------------------- context


@dataclass
class ToolContext:
    """Everything a tool may touch during one episode.

    ``sandbox`` is an ``airgap.sandbox.Sandbox`` (anything with ``exec``, ``fetch``,
    ``read_file`` and ``write_file``). ``timeout`` is the per-call limit in seconds, already
    lowered by the env to what is left of the episode's total tool time.
    """

    sandbox: Any
    timeout: float = 20.0
    max_output: int = 8000
    browser: Browser = field(default_factory=Browser)


# ---------------------------------------------------------------------------- declaration

_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean"}


def _json_schema_of(annotation: Any) -> dict:
    """JSON schema for a parameter annotation: str/int/float/bool, X | None, Literal, list[X], dict[str, X]."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation in _JSON_TYPES:
        return {"type": _JSON_TYPES[annotation]}
    if origin is Literal:
        return {"type": _JSON_TYPES[type(args[0])], "enum": list(args)}
    if origin in (Union, types.UnionType) and type(None) in args:
        inner = [a for a in args if a is not type(None)]
        if len(inner) != 1:
            raise TypeError(f"only `X | None` unions are supported, got {annotation}")
        schema = _json_schema_of(inner[0])
        schema["type"] = [schema["type"], "null"]
        if "enum" in schema:
            schema["enum"] = schema["enum"] + [None]
        return schema
    if origin is list:
        return {"type": "array", "items": _json_schema_of(args[0])}
    if origin is dict:
        if args[0] is not str:
            raise TypeError("dict keys must be str (JSON objects)")
        return {"type": "object", "additionalProperties": _json_schema_of(args[1])}
    raise TypeError(f"no JSON schema for annotation {annotation!r}; use str, int, float, bool, Literal, list, dict or X | None")


def _parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """Split a Google-style docstring into (description, {param: description})."""
    doc = inspect.cleandoc(doc or "")
    desc, _, rest = doc.partition("\nArgs:\n")
    params: dict[str, str] = {}
    name = None
    for line in rest.splitlines():
        m = re.match(r"^\s{2,}(\w+)(?:\s*\([^)]*\))?:\s*(.*)$", line)
        if m and (name is None or len(line) - len(line.lstrip()) <= 4):
            name = m.group(1)
            params[name] = m.group(2).strip()
        elif name and line.strip():
            params[name] += " " + line.strip()
        elif not line.strip() and name:
            continue
    return " ".join(desc.split()), params


@dataclass(frozen=True)
class Tool:
    """One tool: what agents are told about it and the function that runs it."""

    name: str
    description: str
    parameters: dict  # JSON schema of the arguments object
    handler: Callable[..., Any]
    changes_state: bool = False

    def schema(self) -> dict:
        """The OpenAI / Hugging Face chat-template shape: {"type": "function", "function": {...}}."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": json.loads(json.dumps(self.parameters))},
        }

    def usage(self) -> str:
        """One line an agent can copy: the call shape with every argument and its type."""
        props = self.parameters.get("properties", {})
        required = set(self.parameters.get("required", []))
        parts = []
        for pname, p in props.items():
            t = p.get("type")
            t = "|".join(t) if isinstance(t, list) else t
            parts.append(f'"{pname}": <{t}>' + ("" if pname in required else " (optional)"))
        return f'{{"tool": "{self.name}", "args": {{{", ".join(parts)}}}}}'

    def validate(self, args: Any) -> list[str]:
        """Messages for every way ``args`` breaks the schema (empty when valid).

        jsonschema decides and words every error; a call that plainly fits a plain schema
        (the common case, checked by :func:`_surely_valid`) skips it, which keeps validation
        out of the env's per-step overhead.
        """
        if _surely_valid(self.parameters, args):
            return []
        from jsonschema import Draft202012Validator

        validator = _VALIDATORS.get(self.name)
        if validator is None or validator.schema is not self.parameters:
            validator = _VALIDATORS[self.name] = Draft202012Validator(self.parameters)
        msgs = []
        for err in sorted(validator.iter_errors(args), key=lambda e: list(e.path)):
            where = "/".join(map(str, err.path))
            msgs.append(f"{where}: {err.message}" if where else err.message)
        return msgs

    def __call__(self, ctx: ToolContext, args: dict) -> ToolResult:
        out = self.handler(ctx, **args)
        return out if isinstance(out, ToolResult) else ToolResult(text=str(out))


_VALIDATORS: dict[str, Any] = {}

# A fast path for the schemas `tool` generates. It may only ever say "valid" when jsonschema would;
# for anything it is not sure about (other keywords, 1.0 for an integer, NaN) it defers to jsonschema.
_PLAIN_KEYWORDS = {"type", "enum", "items", "additionalProperties", "description", "default"}
_IS_TYPE = {
    "string": lambda v: type(v) is str,
    "integer": lambda v: type(v) is int,
    "number": lambda v: type(v) is int or (type(v) is float and v - v == 0),  # finite floats only
    "boolean": lambda v: type(v) is bool,
    "null": lambda v: v is None,
    "array": lambda v: type(v) is list,
    "object": lambda v: type(v) is dict,
}


def _fits(schema: dict, v: Any) -> bool:
    if not _PLAIN_KEYWORDS.issuperset(schema):
        return False
    types = schema.get("type")
    if not any(_IS_TYPE[t](v) for t in (types if isinstance(types, list) else [types]) if t in _IS_TYPE):
        return False
    if "enum" in schema and not (type(v) is str or v is None) or ("enum" in schema and v not in schema["enum"]):
        return False
    if type(v) is list and "items" in schema:
        return all(_fits(schema["items"], x) for x in v)
    if type(v) is dict:
        extra = schema.get("additionalProperties")
        return isinstance(extra, dict) and all(type(k) is str and _fits(extra, x) for k, x in v.items())
    return True


def _surely_valid(params: dict, args: Any) -> bool:
    if type(args) is not dict or params.get("additionalProperties") is not False or set(params) - {"type", "properties", "required", "additionalProperties"}:
        return False
    props = params.get("properties", {})
    return (all(k in props for k in args) and all(r in args for r in params.get("required", ()))
            and all(_fits(props[k], v) for k, v in args.items()))


def tool(fn: Callable | None = None, *, name: str | None = None, changes_state: bool = False):
    """Make a :class:`Tool` from a function ``f(ctx, arg: type = default, ...)`` and its docstring."""

    def build(f: Callable) -> Tool:
        hints = typing.get_type_hints(f)
        description, pdocs = _parse_docstring(f.__doc__ or "")
        if not description:
            raise ValueError(f"tool {f.__name__} needs a docstring: it is what the agent reads")
        props: dict[str, dict] = {}
        required: list[str] = []
        for i, (pname, p) in enumerate(inspect.signature(f).parameters.items()):
            if i == 0:
                continue  # the ToolContext
            schema = _json_schema_of(hints[pname])
            if pname in pdocs:
                schema["description"] = pdocs[pname]
            if p.default is inspect.Parameter.empty:
                required.append(pname)
            elif p.default is not None:
                schema["default"] = p.default
            props[pname] = schema
        params = {"type": "object", "properties": props, "required": required, "additionalProperties": False}
        return Tool(name=name or f.__name__, description=description, parameters=params, handler=f, changes_state=changes_state)

    return build(fn) if fn is not None else build


# ---------------------------------------------------------------------------- parsing actions


class ActionError(ToolError):
    """The action itself could not be read as a tool call."""


def parse_action(action: Any) -> tuple[str, dict]:
    """Read one tool call from any of the accepted shapes; raise :class:`ActionError` otherwise.

    Accepted: ``{"tool": name, "args": {...}}``, ``{"name": name, "arguments": {...} | "<json>"}``,
    an OpenAI ``tool_calls`` item ``{"type": "function", "function": {"name", "arguments"}}``,
    a one-element list of any of these, or a JSON string of any of these.
    """
    if isinstance(action, (bytes, bytearray)):
        action = action.decode("utf-8", errors="replace")
    if isinstance(action, str):
        text = action.strip()
        try:
            action = json.loads(text)
        except json.JSONDecodeError as e:
            raise ActionError(f"the action is not valid JSON ({e.msg} at line {e.lineno} column {e.colno})", "bad_json") from None
        except RecursionError:
            raise ActionError("the action is JSON nested too deeply to read", "bad_json") from None
    if isinstance(action, list):
        if len(action) != 1:
            raise ActionError(f"send exactly one tool call per step, got a list of {len(action)}", "bad_action")
        action = action[0]
    if not isinstance(action, dict):
        raise ActionError(f"a tool call is a JSON object, got {type(action).__name__}", "bad_action")
    if isinstance(action.get("function"), dict):  # OpenAI tool_calls item
        action = action["function"]
    name = action.get("tool", action.get("name"))
    args = action.get("args", action.get("arguments", action.get("parameters", {})))
    if not isinstance(name, str) or not name:
        raise ActionError('the tool call has no tool name: use the key "tool" (or "name")', "bad_action")
    if args is None:
        args = {}
    if isinstance(args, str):
        try:
            args = json.loads(args) if args.strip() else {}
        except json.JSONDecodeError as e:
            raise ActionError(f"the arguments of {name!r} are not valid JSON ({e.msg} at column {e.colno})", "bad_json") from None
        except RecursionError:
            raise ActionError("the arguments are JSON nested too deeply to read", "bad_json") from None
    if not isinstance(args, dict):
        raise ActionError(f"the arguments of {name!r} must be a JSON object, got {type(args).__name__}", "bad_args")
    return name, args


# ---------------------------------------------------------------------------- helpers


def cap_text(text: str, limit: int) -> tuple[str, bool]:
    """Keep the head and the tail of ``text`` within ``limit`` characters, with a marker between."""
    if len(text) <= limit:
        return text, False
    head = limit * 2 // 3
    tail = limit - head
    cut = len(text) - head - tail
    return f"{text[:head]}\n[... {cut} characters cut: output over {limit} characters ...]\n{text[len(text) - tail:]}", True


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _workspace_path(path: str) -> str:
    return path if path.startswith("/") else "/workspace/" + path


def _fetch(ctx: ToolContext, method: str, url: str, headers: dict | None = None, body: bytes | None = None, follow: bool = True):
    """sandbox.fetch with up to 5 redirects followed (GET/HEAD only). Returns (final_url, response)."""
    from airgap.sandbox import SandboxError

    for _ in range(6):
        try:
            resp = ctx.sandbox.fetch(method, url, headers=headers, body=body)
        except SandboxError as e:
            raise ToolError(f"{method} {url} failed: {e}", "http_error") from None
        location = {k.lower(): v for k, v in dict(resp.headers).items()}.get("location")
        if follow and method in ("GET", "HEAD") and resp.status in (301, 302, 303, 307, 308) and location:
            url = urllib.parse.urljoin(url, location)
            continue
        return url, resp
    raise ToolError(f"too many redirects from {url}", "http_error")


def _check_url(url: str) -> str:
    url = url.strip()
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ToolError(f"{url!r} is not an http(s) URL; give a full URL such as https://docs.python.org/3.11/", "bad_args")
    return url


def _open_url(ctx: ToolContext, url: str, cursor: int) -> str:
    url = _check_url(url)
    final_url, resp = _fetch(ctx, "GET", url)
    if resp.status >= 400:
        raise ToolError(f"{url} answered HTTP {resp.status}: the page is not in this offline web. Use search(query) to find pages that are.", "http_error")
    ctype = {k.lower(): v for k, v in dict(resp.headers).items()}.get("content-type") or None
    from airgap.corpus import render_page

    rp = render_page(bytes(resp.body), final_url, content_type=ctype)
    page = Page(url=final_url, title=rp.title or final_url, lines=list(rp.lines), links={int(i): u for i, _t, u in rp.links})
    return ctx.browser.show(page, cursor)


def _current(ctx: ToolContext) -> Page:
    if ctx.browser.current is None:
        raise ToolError("no page is open yet: call search(query) or open(url) first", "no_page")
    return ctx.browser.current


def _link_url(ctx: ToolContext, link: int) -> str:
    page = _current(ctx)
    if link not in page.links:
        known = sorted(page.links)
        hint = f"links on this page are numbered {known[0]}..{known[-1]}" if known else "this page has no links"
        raise ToolError(f"link [{link}] is not on the current page ({page.url}); {hint}", "bad_args")
    return page.links[link]


def _exec(ctx: ToolContext, cmd: str | list[str], timeout: float | None) -> ToolResult:
    from airgap.sandbox import SandboxError

    limit = ctx.timeout if timeout is None else max(0.1, min(float(timeout), ctx.timeout))
    try:
        # Take up to 1 MiB per stream from the sandbox; the env then shows head and tail within max_output.
        r = ctx.sandbox.exec(cmd, timeout=limit, max_output=1 << 20)
    except SandboxError as e:
        raise ToolError(f"the sandbox could not run the command: {e}", "sandbox_error") from None
    parts = [f"[exit code {r.exit_code}]"]
    stdout, stderr = r.stdout, r.stderr
    stdout = _decode(stdout) if isinstance(stdout, bytes) else stdout
    stderr = _decode(stderr) if isinstance(stderr, bytes) else stderr
    if stdout:
        parts.append(stdout.rstrip("\n"))
    if stderr:
        parts.append("[stderr]\n" + stderr.rstrip("\n"))
    if r.oom_killed:
        parts.append("[killed: out of memory]")
    if r.timed_out:
        parts.append(f"[timed out after {limit:g}s; the command and its children were killed. "
                     f"Make it faster, run it in the background, or pass a timeout up to {ctx.timeout:g}]")
        return ToolResult("\n".join(parts), ok=False, error="timeout")
    return ToolResult("\n".join(parts))


# ---------------------------------------------------------------------------- built-in tools


@tool
def search(ctx: ToolContext, query: str, k: int = 5) -> str:
    """Search the web. Returns numbered results (title, URL, snippet); click(link=N) or open(url=...) opens one.

    Args:
        query: Keywords to search for.
        k: How many results to return (1-20).
    """
    if not query.strip():
        raise ToolError('the query is empty; give keywords, e.g. {"tool": "search", "args": {"query": "json dumps indent"}}', "bad_args")
    k = max(1, min(int(k), 20))
    url = f"https://{SEARCH_HOST}/api/search?" + urllib.parse.urlencode({"q": query, "k": k})
    _, resp = _fetch(ctx, "GET", url)
    if resp.status != 200:
        raise ToolError(f"the search engine answered HTTP {resp.status}; try again with other keywords", "http_error")
    try:
        hits = json.loads(bytes(resp.body))["hits"]
    except (ValueError, KeyError, TypeError):
        raise ToolError("the search engine returned an unreadable answer", "http_error") from None
    lines = [f'Search results for "{query}": {len(hits)}']
    links: dict[int, str] = {}
    for i, h in enumerate(hits, 1):
        links[i] = h["url"]
        lines.append(f"[{i}]{h.get('title') or h['url']}")
        lines.append(f"    {h['url']}")
        snippet = " ".join(str(h.get("snippet") or "").split())
        if snippet:
            lines.append(f"    {snippet}")
    if not hits:
        lines.append("(no results: try fewer or different keywords)")
    page = Page(url=url, title=f"search: {query}", lines=lines, links=links)
    ctx.browser.pages[url] = page
    ctx.browser.current = page
    return "\n".join(lines + (["[click(link=N) opens result N]"] if hits else []))


@tool
def open(ctx: ToolContext, url: str | None = None, link: int | None = None, cursor: int = 0) -> str:  # noqa: A001 - the tool's name
    """Open a web page as numbered lines with numbered links, or scroll the current page.

    Give `url` to open a page, `link` to open link [N] of the current page, or neither to scroll
    the current page to line `cursor`.

    Args:
        url: Full URL of a page to open.
        link: Number of a link shown as [N] on the current page.
        cursor: First line to show.
    """
    if url is not None and link is not None:
        raise ToolError("give either url or link, not both", "bad_args")
    cursor = max(0, int(cursor))
    if url is not None:
        return _open_url(ctx, url, cursor)
    if link is not None:
        return _open_url(ctx, _link_url(ctx, link), cursor)
    return _current(ctx).view(cursor)


@tool
def find(ctx: ToolContext, pattern: str) -> str:
    """Find the lines of the current page that contain a text (case-insensitive).

    Args:
        pattern: The text to look for.
    """
    page = _current(ctx)
    if not pattern:
        raise ToolError("the pattern is empty; give the text to look for", "bad_args")
    needle = pattern.casefold()
    hits = [i for i, line in enumerate(page.lines) if needle in line.casefold()]
    out = [f'{len(hits)} lines match "{pattern}" in {page.title} ({page.url})']
    out += [f"L{i}: {page.lines[i]}" for i in hits[:50]]
    if len(hits) > 50:
        out.append(f"[{len(hits) - 50} more matches not shown; use a more specific pattern]")
    if hits:
        out.append("[open(cursor=N) shows the page from line N]")
    return "\n".join(out)


@tool
def click(ctx: ToolContext, link: int) -> str:
    """Open link [N] of the current page (search results are links too).

    Args:
        link: The number shown as [N] before the link text.
    """
    return _open_url(ctx, _link_url(ctx, link), 0)


@tool(changes_state=True)
def shell(ctx: ToolContext, command: str, timeout: float | None = None) -> ToolResult:
    """Run a shell command (sh -c) in the sandbox, in /workspace. Returns the exit code, stdout and stderr.

    Args:
        command: The command line.
        timeout: Seconds before the command is killed (at most the task's per-call limit).
    """
    return _exec(ctx, command, timeout)


@tool(changes_state=True)
def python(ctx: ToolContext, code: str, timeout: float | None = None) -> ToolResult:
    """Run a Python 3 program in the sandbox, in /workspace. Print what you want to see.

    Args:
        code: The program's source code.
        timeout: Seconds before it is killed (at most the task's per-call limit).
    """
    return _exec(ctx, ["python3", "-c", code], timeout)


@tool
def read_file(ctx: ToolContext, path: str) -> str:
    """Read a text file in the sandbox.

    Args:
        path: Absolute path, or relative to /workspace.
    """
    from airgap.sandbox import SandboxError

    path = _workspace_path(path)
    try:
        data = ctx.sandbox.read_file(path)
    except (SandboxError, OSError, KeyError) as e:
        raise ToolError(f"cannot read {path}: {e}. shell(command='ls -la {path.rsplit('/', 1)[0] or '/'}') shows what is there.", "file_error") from None
    if b"\x00" in data[:8192]:
        return f"[{path} is a binary file of {len(data)} bytes; inspect it with shell, e.g. `xxd {path} | head`]"
    return _decode(data)


@tool(changes_state=True)
def write_file(ctx: ToolContext, path: str, content: str) -> str:
    """Write a text file in the sandbox, replacing it if it exists.

    Args:
        path: Absolute path, or relative to /workspace.
        content: The full new content of the file.
    """
    from airgap.sandbox import SandboxError

    path = _workspace_path(path)
    data = content.encode("utf-8", errors="surrogatepass")
    try:
        ctx.sandbox.write_file(path, data)
    except (SandboxError, OSError) as e:
        raise ToolError(f"cannot write {path}: {e}. Only /workspace and /tmp are writable.", "file_error") from None
    return f"wrote {len(data)} bytes to {path}"


@tool(changes_state=True)
def http(
    ctx: ToolContext,
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
    url: str,
    headers: dict[str, str] | None = None,
    body: str | None = None,
) -> str:
    """Send an HTTP request to a site of this world and show the status, headers and body.

    Args:
        method: The HTTP method.
        url: Full http(s) URL.
        headers: Request headers.
        body: Request body (text; JSON as a string).
    """
    url = _check_url(url)
    _, resp = _fetch(ctx, method, url, headers=headers, body=None if body is None else body.encode("utf-8", errors="surrogatepass"), follow=False)
    head = [f"HTTP {resp.status}"] + [f"{k}: {v}" for k, v in dict(resp.headers).items()]
    return "\n".join(head) + "\n\n" + _decode(bytes(resp.body))


@tool
def submit(ctx: ToolContext, answer: str) -> ToolResult:
    """Give your final answer and end the episode. Call it once, when you are done.

    Args:
        answer: The answer, as short as the question allows (for tasks that are about changing files, a short summary).
    """
    return ToolResult(text=f"submitted: {answer}", done=True, answer=answer)


BUILTIN_TOOLS: dict[str, Tool] = {t.name: t for t in (search, open, find, click, shell, python, read_file, write_file, http, submit)}


def toolset(names: list[str] | None = None) -> list[Tool]:
    """The tools a world offers, in the given order (all built-ins when ``names`` is None); ``submit`` is always included."""
    names = list(BUILTIN_TOOLS) if names is None else list(names)
    unknown = [n for n in names if n not in BUILTIN_TOOLS]
    if unknown:
        raise ValueError(f"unknown tools {unknown}; built-in tools are {sorted(BUILTIN_TOOLS)}")
    if "submit" not in names:
        names.append("submit")
    return [BUILTIN_TOOLS[n] for n in dict.fromkeys(names)]


def tool_schemas(tools: list[Tool]) -> list[dict]:
    """The list agents are given (``tools=`` of an OpenAI request or of a chat template)."""
    return [t.schema() for t in tools]
