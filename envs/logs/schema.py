"""The episode-log format as data: event types, reserved members, header fields, and the JSON Schema."""
from __future__ import annotations

import contextvars
import functools
import json
import re
from pathlib import Path

#: Bumped whenever a reader written for the old version could misread a new log.
SCHEMA_VERSION = 1

#: The event types Airgap itself writes. Other types are allowed (lower-case, dotted)
#: so that new components can log without a schema change; readers skip what they do
#: not know.
EVENT_TYPES = (
    "header",
    "reset",
    "model",
    "model_retry",
    "program_start",
    "program_exit",
    "action",
    "validation",
    "observation",
    "sandbox.exec",
    "sandbox.http",
    "sandbox.dns",
    "sandbox.egress_attempt",
    "sandbox.file_read",
    "sandbox.file_write",
    "sandbox.sandbox_start",
    "sandbox.sandbox_stop",
    "backend_change",
    "reward",
    "evidence",
    "security",
    "side_task",
    "flag",
    "end",
)

#: Members every event has, set by the log itself; ``append`` refuses them as data.
RESERVED_KEYS = frozenset({"seq", "type", "t_wall", "t_mono", "prev", "hash"})

ZERO_HASH = "0" * 64

#: Header members. Missing ones are written as null so that every header has the
#: same shape ("not known" is explicit, never silently absent).
HEADER_FIELDS = (
    "env_id",
    "task_id",
    "task_version",
    "seed",
    "env_kwargs",
    "package_version",
    "git_revision",
    "snapshot_manifest_hash",
    "image_digest",
    "backend_fixture_hash",
    "agent",
    "started_at",
    "parent",
)

_TYPE_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
_SCHEMA_PATH = Path(__file__).with_name("episode-log.schema.json")


class LogError(Exception):
    """A log file that cannot be read as an episode log (the message says why and what to do)."""


_CONTEXT: contextvars.ContextVar[tuple[dict, list] | None] = contextvars.ContextVar("airgap_episode_log_context", default=None)


@functools.lru_cache(maxsize=1)
def schema() -> dict:
    """The JSON Schema (draft 2020-12) that every event of a log validates against."""
    return json.loads(_SCHEMA_PATH.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def _validator():
    import jsonschema

    cls = jsonschema.validators.validator_for(schema())
    return cls(schema())


@functools.lru_cache(maxsize=256)
def _type_validator(etype: str):
    """A validator for events of one type: the schema with its ``allOf`` if/then clauses already
    decided for that type. Same verdicts as the full schema (the clauses only test ``type``),
    several times faster, which is what makes ``verify`` with schema checks usable on big logs."""
    import jsonschema

    full = schema()
    clauses = []
    for clause in full.get("allOf", []):
        cond = ((clause.get("if") or {}).get("properties") or {}).get("type") or {}
        if set(clause) - {"if", "then", "else"} or set(cond) - {"const", "pattern"} or not cond:
            clauses.append(clause)  # not a plain test of the type: keep it as written
            continue
        match = etype == cond["const"] if "const" in cond else re.search(cond["pattern"], etype) is not None
        picked = clause.get("then") if match else clause.get("else")
        if picked is not None:
            clauses.append(picked)
    sub = {k: v for k, v in full.items() if k != "allOf"}
    sub["allOf"] = clauses
    cls = jsonschema.validators.validator_for(full)
    return cls(sub)


