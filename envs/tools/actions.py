"""THE tool-call parser: every shape an action or a model reply may take becomes ``(tool name, args)``.

Used by the env (strict: :func:`parse_action` raises :class:`ActionError` with a message the
agent can act on), by model agents (lenient: :func:`parse_tool_call_text` finds the first
call in generated text) and by replay (:func:`tool_call_of` reads an ``action`` event).

Accepted call objects: ``{"tool": name, "args": {...}}``, ``{"name": name, "arguments": {...} |
"<json>"}`` (also ``"parameters"``), an OpenAI ``tool_calls`` item ``{"type": "function",
"function": {"name", "arguments"}}``, a one-element list of any of these, or a JSON string of
any of these.

Open models write calls in their chat template's own format; :func:`tool_call_format` reads which
from the template and :func:`parse_tool_call_text` takes it as a hint (every format is still tried):

==========  ===============================================================================
``hermes``  Hermes / Qwen: ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>``
``llama3``  Llama 3.x JSON: ``{"name": ..., "parameters": {...}}``, maybe after ``<|python_tag|>``
``mistral`` Mistral: ``[TOOL_CALLS] [{"name": ..., "arguments": {...}, "id": ...}]``, or
            ``[TOOL_CALLS]name[ARGS]{...}`` (newer tokenizers)
``json``    no marker: the first JSON object that names a tool
==========  ===============================================================================
"""
from __future__ import annotations

import json
import re
from typing import Any

from .base import ToolError


class ActionError(ToolError):
    """The action itself could not be read as a tool call."""


def _loads(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ActionError(f"{what} is not valid JSON ({e.msg} at line {e.lineno} column {e.colno})", "bad_json") from None
    except RecursionError:
        raise ActionError(f"{what} is JSON nested too deeply to read", "bad_json") from None


def _name_and_args(obj: dict) -> tuple[Any, Any]:
    """The (name, raw args) members of one call object, unwrapping an OpenAI ``function`` item."""
    if isinstance(obj.get("function"), dict):
        obj = obj["function"]
    return obj.get("tool", obj.get("name")), obj.get("args", obj.get("arguments", obj.get("parameters", {})))


def parse_action(action: Any) -> tuple[str, dict]:
    """Read one tool call from any accepted shape; raise :class:`ActionError` saying what is wrong otherwise."""
    if isinstance(action, (bytes, bytearray)):
        action = action.decode("utf-8", errors="replace")
    if isinstance(action, str):
        action = _loads(action.strip(), "the action")
    if isinstance(action, list):
        if len(action) != 1:
            raise ActionError(f"send exactly one tool call per step, got a list of {len(action)}", "bad_action")
        action = action[0]
    if not isinstance(action, dict):
        raise ActionError(f"a tool call is a JSON object, got {type(action).__name__}", "bad_action")
    name, args = _name_and_args(action)
    if not isinstance(name, str) or not name:
        raise ActionError('the tool call has no tool name: use the key "tool" (or "name")', "bad_action")
    if args is None:
        args = {}
    if isinstance(args, str):
        args = _loads(args, f"the arguments of {name!r}") if args.strip() else {}
    if not isinstance(args, dict):
        raise ActionError(f"the arguments of {name!r} must be a JSON object, got {type(args).__name__}", "bad_args")
    return name, args


_TOOL_CALL_TAG = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.S)
_MISTRAL_ARGS = re.compile(r"\s*([A-Za-z0-9_.:-]+)\s*\[ARGS\]\s*")
TOOL_CALL_FORMATS = ("hermes", "llama3", "mistral", "json")


def tool_call_format(chat_template: Any) -> str:
    """The format a model writes tool calls in, read from its chat template (a string, or a dict of named templates)."""
    if isinstance(chat_template, dict):
        chat_template = "\n".join(str(v) for v in chat_template.values())
    t = chat_template or ""
    if "[TOOL_CALLS]" in t:
        return "mistral"
    if "<tool_call>" in t:
        return "hermes"
    if "<|python_tag|>" in t or ("<|start_header_id|>" in t and "parameters" in t):
        return "llama3"
    return "json"


def _first_call(blob: str) -> dict | None:
    """The first JSON object (or the first object of a JSON list) in ``blob`` that names a tool."""
    decoder = json.JSONDecoder()
    for i, ch in enumerate(blob):
        if ch not in "{[":
            continue
        try:
            obj, _ = decoder.raw_decode(blob, i)
        except ValueError:
            continue
        if isinstance(obj, list) and obj and isinstance(obj[0], dict):
            obj = obj[0]
        if not isinstance(obj, dict):
            continue
        name, args = _name_and_args(obj)
        if isinstance(name, str):
            return _call(name, args)
    return None


def _call(name: str, args: Any) -> dict:
    try:
        _, args = parse_action({"tool": name, "args": args})
    except ActionError:
        pass  # keep what the model wrote; the env's validation says what is wrong with it
    return {"tool": name, "args": args}


def _hermes(text: str) -> dict | None:
    for m in _TOOL_CALL_TAG.finditer(text):
        call = _first_call(m.group(1))
        if call:
            return call
    return None


def _mistral(text: str) -> dict | None:
    for part in text.split("[TOOL_CALLS]")[1:]:
        m = _MISTRAL_ARGS.match(part)
        if m:  # [TOOL_CALLS]name[ARGS]{...}
            try:
                args, _ = json.JSONDecoder().raw_decode(part, m.end())
            except ValueError:
                args = part[m.end():].strip()
            return _call(m.group(1), args)
        call = _first_call(part)
        if call:
            return call
    return None


def _llama3(text: str) -> dict | None:
    if "<|python_tag|>" in text:
        return _first_call(text.split("<|python_tag|>", 1)[1])
    return None


_FORMAT_PARSERS = {"hermes": _hermes, "mistral": _mistral, "llama3": _llama3}


def parse_tool_call_text(text: str, fmt: str | None = None) -> dict | None:
    """The first tool call in generated text, in any format of :data:`TOOL_CALL_FORMATS`.

    ``fmt`` (from :func:`tool_call_format`) is tried first, then the other marked formats, then
    a bare JSON object. Returns ``{"tool": name, "args": ...}`` (args as the model wrote them,
    parsed when it is a JSON string) or None when the text holds no readable call; the env then
    tells the model how to call a tool.
    """
    if fmt is not None and fmt not in TOOL_CALL_FORMATS:
        raise ValueError(f"unknown tool-call format {fmt!r}; use one of {TOOL_CALL_FORMATS}")
    order = ([fmt] if fmt in _FORMAT_PARSERS else []) + [f for f in _FORMAT_PARSERS if f != fmt]
    for name in order:
        call = _FORMAT_PARSERS[name](text)
        if call:
            return call
    return _first_call(text)


def tool_call_of(action_event: dict | None) -> tuple[str | None, Any]:
    """``(tool, args)`` of a logged ``action`` event: the members the env wrote, else parsed from the raw action."""
    if not action_event:
        return None, None
    if action_event.get("tool") is not None:
        return action_event.get("tool"), action_event.get("args")
    raw = action_event.get("action")
    try:
        return parse_action(raw)
    except ActionError:
        if isinstance(raw, dict):
            name, args = _name_and_args(raw)
            return (str(name) if name is not None else None), args
        return None, raw
