"""Episodes as chat messages (OpenAI shape, with tool_calls and tool turns): what every export format builds on."""
from __future__ import annotations

import json
import os
from typing import Any, Iterable

from airgap.envs.replay import Episode, Step, load_episode


def _jsonable(v: Any) -> Any:
    """Bytes and other leftovers from resolved blobs, made JSON-safe for export."""
    if isinstance(v, bytes):
        try:
            return v.decode("utf-8")
        except UnicodeDecodeError:
            import base64

            return {"$bytes": base64.b64encode(v).decode("ascii")}
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_jsonable(x) for x in v]
    return v


def _dumps(v: Any) -> str:
    return json.dumps(_jsonable(v), ensure_ascii=False, sort_keys=True)


def _call_id(s: Step) -> str:
    """The tool-call id: the model's own when the model event has one, else a stable made-up one."""
    for m in s.model:
        out = m.get("output")
        if isinstance(out, dict):
            for tc in out.get("tool_calls") or []:
                if isinstance(tc, dict) and tc.get("id"):
                    return str(tc["id"])
    raw = (s.action or {}).get("action")
    if isinstance(raw, dict) and raw.get("id"):
        return str(raw["id"])
    return f"call_{s.index}"


def _assistant_text(s: Step) -> str:
    for m in s.model:
        out = m.get("output")
        if isinstance(out, dict) and isinstance(out.get("content"), str):
            return out["content"]
        if isinstance(out, str):
            return out
    return ""


def _arguments_json(args: Any) -> str:
    if isinstance(args, str):
        return args
    return _dumps(args if args is not None else {})


def episode_messages(ep: Episode, *, system: str | None = None) -> list[dict]:
    """The episode as an OpenAI/HF chat: the instruction as the user turn, then for each step
    an assistant turn with one tool call and a tool turn with the full observation."""
    msgs: list[dict] = []
    if system:
        msgs.append({"role": "system", "content": system})
    msgs.append({"role": "user", "content": ep.instruction})
    for s in ep.steps:
        if s.action is None:
            continue
        cid = _call_id(s)
        name = s.tool or "invalid_action"
        msgs.append({
            "role": "assistant",
            "content": _assistant_text(s),
            "tool_calls": [{"id": cid, "type": "function",
                            "function": {"name": name, "arguments": _arguments_json(s.args)}}],
        })
        if s.observation is not None:
            msgs.append({"role": "tool", "tool_call_id": cid, "name": name, "content": s.text or ""})
    return msgs



def _load_all(paths: Iterable[str | os.PathLike]) -> list[Episode]:
    eps = [load_episode(p, check=True) for p in paths]
    if not eps:
        raise ValueError("no logs given: pass one or more episode .jsonl files")
    return eps


def _agent_str(agent: Any) -> str | None:
    if agent is None or isinstance(agent, str):
        return agent
    if isinstance(agent, dict) and isinstance(agent.get("spec"), str):
        return agent["spec"]
    return _dumps(agent)
