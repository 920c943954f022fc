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

Load an hf export back with ``datasets.load_from_disk(DIR)``. A new format is one function with
``@register_exporter("name")`` (:mod:`.base`); ``airgap export --format`` lists what is registered.
"""
from __future__ import annotations

from . import hf as _hf  # noqa: F401 - each built-in format registers itself
from . import inspect as _inspect  # noqa: F401
from . import jsonl as _jsonl  # noqa: F401
from .base import EXPORTERS, export, formats, register_exporter
from .hf import export_hf, hf_features, hf_row
from .inspect import export_inspect, inspect_log
from .jsonl import export_jsonl
from .messages import episode_messages

__all__ = ["EXPORTERS", "episode_messages", "hf_row", "hf_features", "export", "export_hf", "export_inspect",
           "export_jsonl", "formats", "inspect_log", "register_exporter"]
