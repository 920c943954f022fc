"""hf: a Hugging Face dataset (save_to_disk), one row per episode, in the conversational format."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from airgap.envs.replay import Episode

from .base import register_exporter
from .messages import _agent_str, _dumps, _load_all, episode_messages


def hf_features():
    """Explicit Arrow types: inferring them from the first row breaks on rows with no tool calls."""
    from datasets import Features, List, Value

    tool_call = {"id": Value("string"), "type": Value("string"),
                 "function": {"name": Value("string"), "arguments": Value("string")}}
    message = {"role": Value("string"), "content": Value("string"), "tool_calls": List(tool_call),
               "tool_call_id": Value("string"), "name": Value("string")}
    return Features({
        "episode_id": Value("string"),
        "log": Value("string"),
        "log_head": Value("string"),
        "verify_status": Value("string"),
        "env_id": Value("string"),
        "task_id": Value("string"),
        "seed": Value("int64"),
        "agent": Value("string"),
        "messages": List(message),
        "tools": Value("string"),
        "reward": Value("float64"),
        "terminated": Value("bool"),
        "truncated": Value("bool"),
        "num_steps": Value("int32"),
        "answer": Value("string"),
        "flags": Value("string"),
        "header": Value("string"),
    })


def hf_row(ep: Episode) -> dict:
    """One dataset row for one episode (see :func:`hf_features` for the columns)."""
    msgs = []
    for m in episode_messages(ep):
        msgs.append({"role": m["role"], "content": m.get("content"), "tool_calls": m.get("tool_calls"),
                     "tool_call_id": m.get("tool_call_id"), "name": m.get("name")})
    h = ep.header
    seed = h.get("seed")
    return {
        "episode_id": h.get("hash", "")[:16],
        "log": str(ep.path),
        "log_head": ep.verification.head if ep.verification else None,
        "verify_status": ep.verification.status if ep.verification else None,
        "env_id": h.get("env_id"),
        "task_id": h.get("task_id"),
        "seed": seed if isinstance(seed, int) else None,
        "agent": _agent_str(h.get("agent")),
        "messages": msgs,
        "tools": _dumps(ep.tools),
        "reward": ep.reward,
        "terminated": ep.terminated,
        "truncated": ep.truncated,
        "num_steps": len(ep.steps),
        "answer": ep.answer,
        "flags": _dumps([{k: v for k, v in f.items() if k not in ("prev", "hash")} for f in ep.flags]),
        "header": _dumps({k: v for k, v in h.items() if k not in ("prev",)}),
    }



@register_exporter("hf")
def export_hf(paths: Iterable[str | os.PathLike], out: str | os.PathLike) -> Path:
    """Save a Hugging Face dataset (one row per episode) to ``out``; returns ``out``."""
    from datasets import Dataset

    eps = _load_all(paths)
    ds = Dataset.from_list([hf_row(ep) for ep in eps], features=hf_features())
    out = Path(out)
    ds.save_to_disk(str(out))
    return out


