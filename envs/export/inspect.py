"""inspect: Inspect AI eval logs (log format version 2), one file per env id, one sample per episode."""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Iterable

from airgap.envs.logs import ZERO_HASH
from airgap.envs.replay import Episode

from .base import register_exporter
from .messages import _agent_str, _assistant_text, _call_id, _jsonable, _load_all

# --------------------------------------------------------------------------- Inspect AI


_GENERATE_CONFIG_KEYS = (
    "max_retries", "timeout", "max_connections", "system_message", "max_tokens", "top_p", "temperature",
    "stop_seqs", "best_of", "frequency_penalty", "presence_penalty", "logit_bias", "seed", "suffix", "top_k",
    "num_choices", "logprobs", "top_logprobs", "parallel_tool_calls", "max_tool_output", "cache_prompt")
_EVAL_CONFIG_KEYS = (
    "limit", "epochs", "epochs_reducer", "trace", "approval", "fail_on_error", "message_limit", "token_limit",
    "time_limit", "max_samples", "max_tasks", "max_subprocesses", "sandbox_cleanup", "log_samples", "log_images",
    "log_buffer")


def _inspect_id(*parts: str) -> str:
    """Inspect uses 22-character shortuuid ids; a stable hash-derived one keeps exports reproducible."""
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    n = int.from_bytes(digest, "big")
    out = []
    for _ in range(22):
        n, r = divmod(n, len(alphabet))
        out.append(alphabet[r])
    return "".join(out)


def _iso(t: str | None) -> str:
    """Inspect wants ISO 8601 with an offset; our logs write ``...Z``."""
    if not t:
        return _dt.datetime.now(_dt.timezone.utc).isoformat()
    return t.replace("Z", "+00:00")


def _inspect_messages(ep: Episode) -> list[dict]:
    msgs: list[dict] = [{"role": "user", "content": ep.instruction, "source": "input"}]
    for s in ep.steps:
        if s.action is None:
            continue
        cid = _call_id(s)
        args = s.args if isinstance(s.args, dict) else {"raw": s.args}
        msgs.append({"role": "assistant", "content": _assistant_text(s), "source": "generate",
                     "tool_calls": [{"id": cid, "function": s.tool or "invalid_action", "arguments": _jsonable(args),
                                     "type": "function", "parse_error": None if s.tool else "action did not parse",
                                     "view": None}]})
        if s.observation is not None:
            err = s.error
            msgs.append({"role": "tool", "content": s.text or "", "source": None, "tool_call_id": cid,
                         "function": s.tool or "invalid_action",
                         "error": {"type": "unknown", "message": err} if err else None})
    return msgs


def _inspect_events(ep: Episode) -> list[dict]:
    """A transcript for Inspect's viewer: one tool event per step, info events for flags and
    sandbox activity, a score event at the end."""
    evs: list[dict] = []
    for s in ep.steps:
        if s.action is None:
            continue
        args = s.args if isinstance(s.args, dict) else {"raw": s.args}
        err = s.error
        evs.append({"timestamp": _iso(s.action.get("t_wall")), "pending": None, "event": "tool", "type": "function",
                    "id": _call_id(s), "function": s.tool or "invalid_action", "arguments": _jsonable(args),
                    "view": None, "result": s.text or "", "truncated": None,
                    "error": {"type": "unknown", "message": err} if err else None, "events": []})
        for e in s.sandbox + s.flags:
            evs.append({"timestamp": _iso(e.get("t_wall")), "pending": None, "event": "info",
                        "data": _jsonable({k: v for k, v in e.items() if k not in ("prev", "hash")})})
    if ep.reward is not None:
        evs.append({"timestamp": _iso((ep.end or {}).get("t_wall")), "pending": None, "event": "score",
                    "score": {"value": ep.reward, "answer": ep.answer, "explanation": None, "metadata": None},
                    "target": None})
    return evs


def _inspect_sample(ep: Episode, epoch: int) -> dict:
    msgs = _inspect_messages(ep)
    last_assistant = next((m for m in reversed(msgs) if m["role"] == "assistant"),
                          {"role": "assistant", "content": "", "source": "generate", "tool_calls": None})
    agent = _agent_str(ep.header.get("agent")) or "unknown"
    usage_in = sum(int((m.get("usage") or {}).get("prompt_tokens") or 0) for s in ep.steps for m in s.model)
    usage_out = sum(int((m.get("usage") or {}).get("completion_tokens") or 0) for s in ep.steps for m in s.model)
    model_usage = {}
    if usage_in or usage_out:
        model_usage[f"airgap/{agent}"] = {"input_tokens": usage_in, "output_tokens": usage_out,
                                         "total_tokens": usage_in + usage_out, "input_tokens_cache_write": None,
                                         "input_tokens_cache_read": None}
    return {
        "id": ep.header.get("task_id") or ep.header.get("hash", "")[:16],
        "epoch": epoch,
        "input": ep.instruction,
        "choices": None,
        "target": "",
        "sandbox": None,
        "files": None,
        "setup": None,
        "messages": msgs,
        "output": {"model": f"airgap/{agent}",
                   "choices": [{"message": last_assistant, "stop_reason": "stop" if ep.terminated else "unknown",
                                "logprobs": None}],
                   "usage": None, "time": ep.duration_s, "metadata": None, "error": None},
        "scores": {"reward": {"value": ep.reward if ep.reward is not None else 0.0, "answer": ep.answer,
                              "explanation": None, "metadata": None}},
        "metadata": _jsonable({"log": str(ep.path), "log_head": ep.verification.head if ep.verification else None,
                               "verify_status": ep.verification.status if ep.verification else None,
                               "seed": ep.header.get("seed"), "env_id": ep.header.get("env_id"),
                               "terminated": ep.terminated, "truncated": ep.truncated,
                               "flags": [{"name": f.get("name"), "severity": f.get("severity"), "step": f.get("step")}
                                         for f in ep.flags]}),
        "store": {},
        "events": _inspect_events(ep),
        "model_usage": model_usage,
        "error": None,
        "attachments": {},
        "limit": None,
    }


def inspect_log(eps: list[Episode]) -> dict:
    """One Inspect ``EvalLog`` (as a dict, log format version 2) for episodes of one env."""
    h0 = eps[0].header
    env_id = h0.get("env_id") or "airgap"
    agents = sorted({_agent_str(ep.header.get("agent")) or "unknown" for ep in eps})
    agent = agents[0] if len(agents) == 1 else "mixed"
    started = min(_iso(ep.header.get("started_at")) for ep in eps)
    completed = max(_iso((ep.end or ep.events[-1] if ep.events else ep.header).get("t_wall")) for ep in eps)
    epochs: dict[str, int] = {}
    samples = []
    for ep in eps:
        sid = ep.header.get("task_id") or ep.header.get("hash", "")[:16]
        epochs[sid] = epochs.get(sid, 0) + 1
        samples.append(_inspect_sample(ep, epochs[sid]))
    rewards = [s["scores"]["reward"]["value"] for s in samples]
    tv = h0.get("task_version")
    rev = h0.get("git_revision")
    heads = ",".join(ep.header.get("hash", ZERO_HASH) for ep in eps)
    return {
        "version": 2,
        "status": "success" if all(ep.end is not None for ep in eps) else "error",
        "eval": {
            "eval_id": _inspect_id("eval", heads),
            "run_id": _inspect_id("run", heads),
            "created": started,
            "task": env_id,
            "task_id": _inspect_id("task", env_id),
            "task_version": tv if isinstance(tv, int) else 0,
            "task_file": None,
            "task_attribs": {},
            "task_args": {},
            "solver": agent,
            "solver_args": None,
            "tags": ["airgap"],
            "dataset": {"name": env_id, "location": None, "samples": len(samples),
                        "sample_ids": list(dict.fromkeys(s["id"] for s in samples)), "shuffled": False},
            "sandbox": None,
            "model": f"airgap/{agent}",
            "model_base_url": None,
            "model_args": {},
            "config": {k: None for k in _EVAL_CONFIG_KEYS},
            "revision": {"type": "git", "origin": "", "commit": rev} if rev else None,
            "packages": {"airgap": h0.get("package_version") or "unknown"},
            "metadata": {"exported_by": "airgap export --format inspect", "logs": [str(ep.path) for ep in eps]},
        },
        "plan": {"name": "plan", "steps": [{"solver": agent, "params": {}}], "finish": None,
                 "config": {k: None for k in _GENERATE_CONFIG_KEYS}},
        "results": {"total_samples": len(samples), "completed_samples": sum(ep.end is not None for ep in eps),
                    "scores": [{"name": "reward", "scorer": "reward", "reducer": None, "params": {},
                                "metrics": {"mean": {"name": "mean", "value": sum(rewards) / len(rewards),
                                                     "options": {}, "metadata": None}},
                                "metadata": None}],
                    "metadata": None},
        "stats": {"started_at": started, "completed_at": completed, "model_usage": {}},
        "error": None,
        "samples": samples,
        "reductions": None,
    }


@register_exporter("inspect")
def export_inspect(paths: Iterable[str | os.PathLike], out: str | os.PathLike) -> list[Path]:
    """Write one Inspect eval log (``<created>_<task>_<id>.json``) per env id into ``out``."""
    eps = _load_all(paths)
    groups: dict[str, list[Episode]] = {}
    for ep in eps:
        groups.setdefault(ep.header.get("env_id") or "airgap", []).append(ep)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for env_id, group in groups.items():
        log = inspect_log(group)
        stamp = re.sub(r"[:]", "-", log["eval"]["created"].split(".")[0])
        name = f"{stamp}_{re.sub(r'[^A-Za-z0-9-]+', '-', env_id).strip('-')}_{log['eval']['eval_id']}.json"
        target = out / name
        target.write_text(json.dumps(log, ensure_ascii=False, indent=1), encoding="utf-8")
        written.append(target)
    return written


