"""Episode logs: one append-only, tamper-evident, crash-safe JSONL file per episode.

Why this exists: an evaluation is only as good as its record. Every action an agent
takes, what the world answered, and what the sandbox saw happen (processes, HTTP
requests, DNS look-ups, blocked egress) is written here *before* ``step`` returns, so
that a run can be audited, re-run, forked and exported later.

The format in one paragraph (the full, versioned description is ``docs/episode-log.md``;
the machine-checkable one is ``logs/episode-log.schema.json``):

* one JSON object per line, UTF-8, serialised as canonical JSON (RFC 8785, "JCS");
* line 0 is the ``header`` event: env id, task, seed, versions, hashes of what the
  world was built from, agent, start time, redaction patterns;
* every event has ``seq`` (0, 1, 2, ...), ``type``, ``t_wall`` (ISO 8601 UTC),
  ``t_mono`` (seconds since the header, monotonic clock), ``prev`` (the previous
  event's ``hash``; 64 zeros for the header), ``hash`` (sha256 of the event's own
  canonical JSON *without* its ``hash`` member), and its data as further members;
* a string or bytes value longer than ``inline_limit`` bytes is stored once in a
  content-addressed side folder ``<log>.blobs/<sha256>`` and replaced in the event by
  ``{"$blob": sha256, "size": n, "kind": "text"|"bytes"}``; small bytes are inlined as
  ``{"$bytes": base64}``. Nothing is ever cut short.

Because each event carries the hash of the one before *and* its own hash, editing any
event, deleting one or swapping two breaks the chain at that exact event, and
``verify`` names it. Each event is written with a single ``write(2)`` to a file opened
``O_APPEND`` with no user-space buffer, so a SIGKILL loses at most the event being
written; ``verify`` then says ``"truncated"`` (an honest, incomplete record), not
``"tampered"``.

What the chain does *not* do: it has no secret, so someone who rewrites the whole file
and recomputes every hash is not detected by the file alone, and deleting trailing
events (including the ``end`` event) is indistinguishable from a crash (``"truncated"``).
:mod:`.signing` closes both: the harness signs each finished log's head with an Ed25519
key kept outside every sandbox (``<log>.sig``, and the row in ``results.jsonl``), and
:mod:`.manifest` signs a run folder's list of logs and checks a folder against it.

Typical use (the env does this; you rarely need to)::

    with EpisodeLog("runs/ep-0001.jsonl", {"env_id": "airgap/WebQA-v0", "seed": 0}) as log:
        log.append("reset", observation=obs, info=info)
        log.append("action", step=1, action=action, tool="search", args={"query": "..."})
        sandbox.set_sink(log.sink)          # sandbox events become "sandbox.exec", ...
        log.append("observation", step=1, observation=text, reward=0.0, terminated=False, truncated=False)
        log.close(reward=1.0, terminated=True, steps=3)

    result = verify("runs/ep-0001.jsonl")   # VerifyResult(status="ok", n_events=..., ...)
    header, events = read_log("runs/ep-0001.jsonl")
"""
from __future__ import annotations

from .canonical import event_hash
from .reader import VerifyResult, iter_lines, load_blob, read_log, resolve_blobs, verify
from .schema import EVENT_TYPES, HEADER_FIELDS, RESERVED_KEYS, SCHEMA_VERSION, ZERO_HASH, LogError, schema
from .writer import REDACTED, EpisodeLog, blob_dir_for, log_context, redact_patterns

__all__ = [
    "SCHEMA_VERSION",
    "HEADER_FIELDS",
    "REDACTED",
    "EVENT_TYPES",
    "RESERVED_KEYS",
    "ZERO_HASH",
    "EpisodeLog",
    "VerifyResult",
    "LogError",
    "verify",
    "read_log",
    "iter_lines",
    "resolve_blobs",
    "load_blob",
    "blob_dir_for",
    "event_hash",
    "schema",
    "redact_patterns",
    "log_context",
]
