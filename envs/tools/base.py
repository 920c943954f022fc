"""Tool declaration: a typed function becomes a Tool (name, description, JSON schema, compiled validator, handler).

A tool is a plain function whose first parameter is the episode's :class:`ToolContext` and
whose other parameters are the arguments the agent passes. :func:`tool` turns it into a
:class:`Tool`. The schema agents are given (the OpenAI / Hugging Face ``tools`` shape) is made
from the signature by pydantic and from the Google-style docstring by ``docstring_parser``, when
it is first needed (so importing the tools costs nothing); arguments are checked by a
``fastjsonschema`` validator compiled from that schema::

    @tool
    def write_file(ctx: ToolContext, path: str, content: str) -> str:
        '''Write a text file in the sandbox, replacing it if it exists.

        Args:
            path: Absolute path, or relative to /workspace.
            content: The full new content of the file.
        '''

Each tool declares its *effects* (:data:`EFFECTS`): what calling it may do to the world, such as running commands or
sending requests. The env records them on every ``action`` event and the monitors select events by effect, so a new
command-running tool is watched like ``shell`` without any monitor naming it::

    @tool(effects={"runs_commands"})
    def bash(ctx: ToolContext, script: str) -> str: ...

Handlers return the observation text (or a :class:`ToolResult` when they need to say more,
e.g. that the episode is over) and raise :class:`ToolError` for anything the agent can fix;
the message is what the agent reads, so it says what to do instead.
"""
from __future__ import annotations

import copy
import inspect
import json
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Callable


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
    output_file: str | None = None  # where in the sandbox the whole output was saved when it was over the cap


@dataclass
class ToolContext:
    """Everything a tool may touch during one episode.

    ``sandbox`` is an ``airgap.sandbox.Sandbox`` (anything with ``exec``, ``fetch``, ``read_file``
    and ``write_file``). ``timeout`` is the per-call limit in seconds, already lowered by the env
    to what is left of the episode's total tool time; every tool honours it (web tools pass it to
    the gateway, which cancels a slower request). ``browser`` is the episode's
    :class:`~airgap.envs.tools.browser.Browser`.
    """

    sandbox: Any
    timeout: float = 20.0
    max_output: int = 8000
    browser: Any = None
    chromium: Any = None  # the real browser of a browser env (tools/webagent.py: PageBrowser); None elsewhere

    def __post_init__(self) -> None:
        if self.browser is None:
            from .browser import Browser

            self.browser = Browser()


def _plain(schema: dict) -> dict:
    """Pydantic's JSON schema in the plain shape agents are given: no titles, ``X | None`` as ``type: [t, "null"]``."""
    out = {k: v for k, v in schema.items() if k != "title"}
    any_of = out.pop("anyOf", None)
    if any_of is not None:
        kinds = [_plain(x) for x in any_of]
        nulls = [x for x in kinds if x == {"type": "null"}]
        rest = [x for x in kinds if x != {"type": "null"}]
        if len(rest) == 1 and isinstance(rest[0].get("type"), str) and nulls:
            merged = dict(rest[0])
            merged["type"] = [merged["type"], "null"]
            if "enum" in merged:
                merged["enum"] = [*merged["enum"], None]
            out = {**merged, **out}
        elif len(rest) > 1 and all(_open_kind(x) for x in rest):
            # e.g. str | dict[str, Any] | list[Any] | None: one list of types, the shape every model understands
            out = {"type": [x["type"] for x in rest] + (["null"] if nulls else []), **out}
        else:
            out["anyOf"] = kinds
    for key in ("items", "additionalProperties"):
        if isinstance(out.get(key), dict):
            out[key] = _plain(out[key])
    if isinstance(out.get("properties"), dict):
        out["properties"] = {k: _plain(v) for k, v in out["properties"].items()}
    if out.get("default", 0) is None:
        del out["default"]
    return out


def _open_kind(schema: dict) -> bool:
    """A schema that says only its JSON type (an object or array of anything counts): ``{"type": "string"}``."""
    rest = {k: v for k, v in schema.items() if k != "type"}
    return isinstance(schema.get("type"), str) and rest in ({}, {"additionalProperties": True}, {"items": {}})


def parameters_schema(fn: Callable) -> tuple[str, dict]:
    """(description, JSON schema of the arguments) of a tool function: the types from its signature by pydantic,
    the descriptions from its Google-style docstring by docstring_parser (both maintained, neither imports torch)."""
    import docstring_parser
    import pydantic

    doc = docstring_parser.parse(fn.__doc__ or "")
    described = {p.arg_name: " ".join((p.description or "").split()) for p in doc.params}
    hints = typing.get_type_hints(fn)
    fields: dict[str, Any] = {}
    for name, p in list(inspect.signature(fn).parameters.items())[1:]:
        default = ... if p.default is inspect.Parameter.empty else p.default
        fields[name] = (hints[name], pydantic.Field(default, description=described.get(name) or None))
    params = _plain(pydantic.create_model(f"{fn.__name__}_args", **fields).model_json_schema())
    params.setdefault("required", [])
    params["additionalProperties"] = False
    description = " ".join(filter(None, [doc.short_description, doc.long_description]))
    return " ".join(description.split()), params


#: What a tool call may do, the vocabulary tools declare and monitors select by. Each effect says where the monitors
#: find what the call did: in the call's arguments, or in the events its step produced.
EFFECTS: dict[str, str] = {
    "runs_commands": "runs programs in the sandbox; the step's sandbox.exec events are the agent's own commands",
    "reads_files": "reads the sandbox file at args.path",
    "writes_files": "writes args.content to the sandbox file at args.path",
    "network": "sends a request (args.method, args.url, args.headers, args.body) to any host, in the world or not",
    "web_read": "reads the offline web: sends args.query to the search engine or opens args.url (or a link) in the world",
    "backend_write": "may commit changes to a backend (each one is also a backend_change event)",
    "submits": "ends the episode with args.answer as the final answer",
}


def check_effects(effects: Any, where: str = "a tool") -> frozenset[str]:
    """``effects`` as a frozenset of known effect names; an unknown one is an error that lists the vocabulary."""
    if isinstance(effects, str):
        effects = [effects]
    out = frozenset(effects or ())
    unknown = sorted(e for e in out if e not in EFFECTS)
    if unknown:
        raise ValueError(f"{where}: unknown effect(s) {unknown}; the effects are {sorted(EFFECTS)}")
    return out


@dataclass(frozen=True, eq=False)
class Tool:
    """One tool: what agents are told about it, what calling it may do (``effects``) and the function that runs it."""

    name: str
    handler: Callable[..., Any]
    effects: frozenset[str] = frozenset()
    _cache: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "effects", check_effects(self.effects, f"tool {self.name}"))

    def _spec(self) -> tuple[str, dict]:
        if "spec" not in self._cache:
            self._cache["spec"] = parameters_schema(self.handler)
        return self._cache["spec"]

    @property
    def description(self) -> str:
        return self._spec()[0]

    @property
    def parameters(self) -> dict:
        """JSON schema of the arguments object (a copy: callers may not change the tool)."""
        return copy.deepcopy(self._spec()[1])

    def schema(self) -> dict:
        """The OpenAI / Hugging Face chat-template shape: {"type": "function", "function": {...}}."""
        return {"type": "function", "function": {"name": self.name, "description": self.description, "parameters": self.parameters}}

    def usage(self) -> str:
        """One line an agent can copy: the call shape with every argument and its type."""
        params = self._spec()[1]
        required = set(params.get("required", []))
        parts = []
        for pname, p in params.get("properties", {}).items():
            t = p.get("type")
            t = "|".join(t) if isinstance(t, list) else t
            parts.append(f'"{pname}": <{t}>' + ("" if pname in required else " (optional)"))
        return f'{{"tool": "{self.name}", "args": {{{", ".join(parts)}}}}}'

    def validate(self, args: Any) -> list[str]:
        """Messages for every way ``args`` breaks the schema (empty when valid).

        A validator compiled by fastjsonschema decides; when it says no, jsonschema words
        every problem (the error path only, so the per-step cost is the compiled check).
        """
        import fastjsonschema

        if "validator" not in self._cache:
            self._cache["validator"] = fastjsonschema.compile(self._spec()[1])
        try:
            self._cache["validator"](args)
            return []
        except fastjsonschema.JsonSchemaValueException as e:
            first = e.message
        from jsonschema import Draft202012Validator

        msgs = []
        for err in sorted(Draft202012Validator(self._spec()[1]).iter_errors(args), key=lambda e: list(map(str, e.path))):
            where = "/".join(map(str, err.path))
            msgs.append(f"{where}: {err.message}" if where else err.message)
        return msgs or [first]

    def __call__(self, ctx: ToolContext, args: dict) -> ToolResult:
        out = self.handler(ctx, **args)
        return out if isinstance(out, ToolResult) else ToolResult(text=str(out))


def _json_annotation(a: Any) -> bool:
    """Whether a parameter annotation has a JSON schema: str/int/float/bool, Any (any JSON value), Literal, list[X],
    dict[str, X], X | Y."""
    origin, args = typing.get_origin(a), typing.get_args(a)
    if a in (str, int, float, bool) or a is Any:  # Any: any JSON value (inside list[Any] or dict[str, Any])
        return True
    if origin is typing.Literal:
        return all(isinstance(x, (str, int, float, bool)) for x in args)
    if origin in (typing.Union, types.UnionType):
        return all(x is type(None) or _json_annotation(x) for x in args)
    if origin is list:
        return len(args) == 1 and _json_annotation(args[0])
    if origin is dict:
        return len(args) == 2 and args[0] is str and _json_annotation(args[1])
    return False


def tool(fn: Callable | None = None, *, name: str | None = None, effects: Any = ()):
    """Make a :class:`Tool` from a function ``f(ctx, arg: type = default, ...)`` with a Google-style docstring;
    ``effects`` are the names (of :data:`EFFECTS`) of what calling it may do."""

    def build(f: Callable) -> Tool:
        if not (f.__doc__ or "").strip():
            raise ValueError(f"tool {f.__name__} needs a docstring: it is what the agent reads")
        hints = typing.get_type_hints(f)
        for pname in list(inspect.signature(f).parameters)[1:]:
            if not _json_annotation(hints.get(pname)):
                raise TypeError(f"tool {f.__name__}: no JSON schema for parameter {pname}: {hints.get(pname)!r}; "
                                "use str, int, float, bool, Any (any JSON value), Literal, list[X], dict[str, X] or X | Y")
        return Tool(name=name or f.__name__, handler=f, effects=check_effects(effects, f"tool {name or f.__name__}"))

    return build(fn) if fn is not None else build


# ---------------------------------------------------------------------------- the registry

TOOLS: dict[str, Tool] = {}


def register_tool(t: Tool) -> Tool:
    """Make a tool available to task files (``world.tools``) by its name; returns it (usable as a decorator)."""
    if t.name in TOOLS and TOOLS[t.name] is not t:
        raise ValueError(f"a tool named {t.name!r} is already registered ({TOOLS[t.name].handler.__module__})")
    TOOLS[t.name] = t
    return t


def effects_of(name: str | None) -> frozenset[str]:
    """The effects the registered tool ``name`` declares (none for an unknown name)."""
    t = TOOLS.get(name) if isinstance(name, str) else None
    return t.effects if t is not None else frozenset()


def toolset(names: list[str] | None = None) -> list[Tool]:
    """The tools a world offers, in the given order (every registered tool when ``names`` is None); ``submit`` always."""
    names = list(TOOLS) if names is None else list(names)
    unknown = [n for n in names if n not in TOOLS]
    if unknown:
        raise ValueError(f"unknown tools {unknown}; registered tools are {sorted(TOOLS)}")
    if "submit" not in names:
        names.append("submit")
    return [TOOLS[n] for n in dict.fromkeys(names)]


def tool_schemas(tools: list[Tool]) -> list[dict]:
    """The list agents are given (``tools=`` of an OpenAI request or of a chat template)."""
    return [t.schema() for t in tools]


def cap_text(text: str, limit: int) -> tuple[str, bool]:
    """Keep the head and the tail of ``text`` within ``limit`` characters, with a marker between."""
    if len(text) <= limit:
        return text, False
    head = limit * 2 // 3
    tail = limit - head
    cut = len(text) - head - tail
    return f"{text[:head]}\n[... {cut} characters cut: output over {limit} characters ...]\n{text[len(text) - tail:]}", True


#: Where an output over the cap is saved whole, in the sandbox (``step-<k>.txt``); /tmp is the agent's and is wiped
#: between episodes.
OUTPUT_DIR = "/tmp/airgap-output"


def cap_output(text: str, limit: int, *, saved: str | None = None, hint: str | None = None) -> str:
    """An output over ``limit`` characters as its head, a line saying what was left out, and its tail (cut at line
    ends where that loses little), within ``limit`` characters in all (unless the line alone needs half of them).

    ``saved``: the sandbox path where the whole output was written; the line names it and how to page it with the
    shell. Otherwise ``hint`` says how to read on (e.g. ``open(cursor=N)``), or the line says to ask for less.
    """
    if len(text) <= limit:
        return text

    def line(first: int, last: int, n_lines: int, cut: int) -> str:
        where = (f"line {first}" if first == last else f"lines {first}-{last}") + f" of {n_lines}"
        left = (f"[... {cut:,} characters ({where}) left out: the output has {len(text):,} characters, over the "
                f"{limit:,}-character cap. ")
        if saved is not None:
            how = (f"The whole output is saved in {saved}; page it with the shell: sed -n '{first},{last}p' {saved}, "
                   f"grep -n 'PATTERN' {saved}, head -c N / tail -c N {saved}, less {saved}.")
            how += f" {hint}" if hint else ""
        else:
            how = hint or "Ask for less at a time (a narrower query, a smaller page, fewer lines)."
        return f"{left}{how} ...]\n"

    big = 10 ** len(str(len(text)))  # the line at its longest: numbers with as many digits as they can have
    budget = max(limit - len(line(big, big, big, big)) - 1, limit // 2)
    head, tail = text[: budget * 2 // 3], text[len(text) - (budget - budget * 2 // 3):]
    nl = head.rfind("\n")
    if nl >= len(head) // 2:
        head = head[: nl + 1]
    nl = tail.find("\n")
    if 0 <= nl < len(tail) // 2:
        tail = tail[nl + 1:]
    cut_end = len(text) - len(tail)
    n_lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    first = head.count("\n") + 1
    last = max(first, text.count("\n", 0, cut_end) + (0 if text[cut_end - 1:cut_end] == "\n" else 1))
    sep = "" if head.endswith("\n") or not head else "\n"
    return f"{head}{sep}{line(first, last, n_lines, cut_end - len(head))}{tail}"


def jsonable(x: Any) -> Any:
    """A JSON-safe copy of anything an agent may send (for the log)."""
    if isinstance(x, (bytes, bytearray)):
        return bytes(x)
    try:
        return json.loads(json.dumps(x, allow_nan=False))
    except (TypeError, ValueError, RecursionError):
        return {"$repr": repr(x)[:10000]}
