"""jsonl: every event of every episode on its own line, tagged with the episode, blobs inlined."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from .base import register_exporter
from .messages import _dumps, _load_all


@register_exporter("jsonl")
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


