"""Export episode logs to formats other tools read: Hugging Face ``datasets``, Inspect AI, flat JSONL.

Why: an Airgap log is the audit record, but training and analysis happen elsewhere.

* ``hf``: a :class:`datasets.Dataset` saved with ``save_to_disk``, one row per episode, in the
  conversational format that chat templates and TRL's SFT trainer take: ``messages`` (system?/
  user/assistant-with-``tool_calls``/tool turns, OpenAI shape, arguments as JSON strings) and
  ``tools`` (the tool schemas as one JSON string, because per-row JSON schemas do not fit
  one Arrow type), plus reward, outcome and provenance columns (log file, head hash).
* ``inspect``: Inspect AI eval logs (``.json``, log format version 2), one file per env id,
  one sample per episode, so ``inspect view --log-dir DIR`` can browse Airgap runs next to
  Inspect's own.
* ``jsonl``: every event of every episode on its own line, tagged with the episode, blobs
  inlined: the easiest thing to load into pandas/duckdb.

Load an hf export back with ``datasets.load_from_disk(DIR)``.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Iterable

from .episode_log import ZERO_HASH
from .replay import Episode, Step, load_episode

__all__ = ["FORMATS", "episode_messages", "hf_row", "hf_features", "export", "export_hf", "export_inspect",
           "export_jsonl", "inspect_log"]

FORMATS = ("hf", "inspect", "jsonl")


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


def _agent_str(agent: Any) -> str | None:
    if agent is None or isinstance(agent, str):
        return agent
    if isinstance(agent, dict) and isinstance(agent.get("spec"), str):
        return agent["spec"]
    return _dumps(agent)


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


def _load_all(paths: Iterable[str | os.PathLike]) -> list[Episode]:
    eps = [load_episode(p, check=True) for p in paths]
    if not eps:
        raise ValueError("no logs given: pass one or more episode .jsonl files")
    return eps


def export_hf(paths: Iterable[str | os.PathLike], out: str | os.PathLike) -> Path:
    """Save a Hugging Face dataset (one row per episode) to ``out``; returns ``out``."""
    from datasets import Dataset

    eps = _load_all(paths)
    ds = Dataset.from_list([hf_row(ep) for ep in eps], features=hf_features())
    out = Path(out)
    ds.save_to_disk(str(out))
    return out


def export_jsonl(paths: Iterable[str | os.PathLike], out: str | os.PathLike) -> Path:
    """Write ``out/events.jsonl``: every event of every episode, blobs inlined, each tagged with
    ``episode_id`` (the header hash's first 16 hex digits), ``log_file``, ``env_id``, ``task_id`` and ``seed``."""
    eps = _load_all(paths)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    target = out / "events.jsonl"
    with open(target, "w", encoding="utf-8") as f:
        for ep in eps:
            h = ep.header
            tag = {"episode_id": h.get("hash", "")[:16], "log_file": str(ep.path), "env_id": h.get("env_id"),
                   "task_id": h.get("task_id"), "seed": h.get("seed")}
            for ev in [h, *ep.events]:
                f.write(_dumps({**ev, **tag}) + "\n")
    return target


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


def export(paths: Iterable[str | os.PathLike], format: str, out: str | os.PathLike) -> list[Path]:
    """Dispatch on ``format`` (one of :data:`FORMATS`); returns what was written."""
    paths = list(paths)
    if format == "hf":
        return [export_hf(paths, out)]
    if format == "inspect":
        return export_inspect(paths, out)
    if format == "jsonl":
        return [export_jsonl(paths, out)]
    raise ValueError(f"unknown export format {format!r}; choose one of {', '.join(FORMATS)}")
