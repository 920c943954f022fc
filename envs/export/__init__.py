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

import os
from pathlib import Path
from typing import Callable, Iterable

from .hf import export_hf, hf_features, hf_row
from .inspect import export_inspect, inspect_log
from .jsonl import export_jsonl
from .messages import episode_messages

#: format name -> exporter(paths, out) -> written paths. A new format is one more entry.
EXPORTERS: dict[str, Callable[[list, str | os.PathLike], list[Path]]] = {
    "hf": lambda paths, out: [export_hf(paths, out)],
    "inspect": export_inspect,
    "jsonl": lambda paths, out: [export_jsonl(paths, out)],
}
FORMATS = tuple(EXPORTERS)


def export(paths: Iterable[str | os.PathLike], format: str, out: str | os.PathLike) -> list[Path]:  # noqa: A002
    """Write ``paths`` in ``format`` (one of :data:`FORMATS`) under ``out``; returns what was written."""
    if format not in EXPORTERS:
        raise ValueError(f"unknown export format {format!r}; choose one of {', '.join(FORMATS)}")
    return EXPORTERS[format](list(paths), out)


__all__ = ["EXPORTERS", "FORMATS", "episode_messages", "hf_row", "hf_features", "export", "export_hf", "export_inspect",
           "export_jsonl", "inspect_log"]
