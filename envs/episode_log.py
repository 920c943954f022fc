"""Episode logs: one append-only, tamper-evident, crash-safe JSONL file per episode.

Why this exists: an evaluation is only as good as its record. Every action an agent
takes, what the world answered, and what the sandbox saw happen (processes, HTTP
requests, DNS look-ups, blocked egress) is written here *before* ``step`` returns, so
that a run can be audited, re-run, forked and exported later.

The format in one paragraph (the full, versioned description is ``docs/episode-log.md``;
the machine-checkable one is ``schemas/episode-log.schema.json``):

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

What the chain does *not* do: there is no secret key, so someone who rewrites the
whole file and recomputes every hash is not detected by the file alone. Store the
``head`` hash (returned by :meth:`EpisodeLog.close` and by :func:`verify`) somewhere
else, e.g. in a results table, and compare. Deleting trailing events (including the
``end`` event) is indistinguishable from a crash and reads as ``"truncated"``.

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

import base64
import contextlib
import contextvars
import dataclasses
import datetime as _dt
import functools
import hashlib
import json
import math
import os
import re
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import rfc8785

__all__ = [
    "SCHEMA_VERSION",
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

#: Bumped whenever a reader written for the old version could misread a new log.
SCHEMA_VERSION = 1

#: The event types Airgap itself writes. Other types are allowed (lower-case, dotted)
#: so that new components can log without a schema change; readers skip what they do
#: not know.
EVENT_TYPES = (
    "header",
    "reset",
    "model",
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
_SCHEMA_PATH = Path(__file__).with_name("schemas") / "episode-log.schema.json"
REDACTED = "[REDACTED]"


class LogError(Exception):
    """A log file that cannot be read as an episode log (the message says why and what to do)."""


_CONTEXT: contextvars.ContextVar[tuple[dict, list] | None] = contextvars.ContextVar("airgap_episode_log_context", default=None)


@contextlib.contextmanager
def log_context(**header: Any) -> Iterator[list["EpisodeLog"]]:
    """Every :class:`EpisodeLog` opened inside the block gets these header members (they win
    over the writer's own) and is appended to the yielded list.

    Why: ``airgap replay fork`` must make the env's *own* log (with its sandbox events,
    validation and rewards) name its parent log, without the env knowing about forks::

        with log_context(parent={"log": p, "head": h, "at_step": 3}) as opened:
            env.reset(...)                  # the env opens its EpisodeLog here
        opened[0].append("model", ...)      # and the caller can add to the same log

    Scoped by ``contextvars``: other threads and async tasks are not affected.
    """
    opened: list[EpisodeLog] = []
    token = _CONTEXT.set((dict(header), opened))
    try:
        yield opened
    finally:
        _CONTEXT.reset(token)


# --------------------------------------------------------------------------- helpers


def _now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


# ---- canonical JSON (RFC 8785) -------------------------------------------------------
#
# The reference implementation (the `rfc8785` package) is pure Python and spends most of
# its time escaping strings one regex match at a time; on a typical step it made logging
# cost about a millisecond. The encoder below produces the same bytes for every value the
# log writes (checked against `rfc8785.dumps` in tests/logs/test_canonical.py) using the C
# string escaper of the standard `json` module, which escapes exactly what RFC 8785 does
# (", \, and U+0000..U+001F, with \b \t \n \f \r short forms and lower-case \u00xx).
# Anything unusual (a float, a non-ASCII key) takes the careful path.

_encode_str = json.encoder.encode_basestring  # C version when available; ensure_ascii=False semantics
_FAST_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, check_circular=False,
                              allow_nan=False)


def _es_number(x: float) -> str:
    """ECMAScript Number::toString of a finite float, which RFC 8785 prescribes for numbers.

    Python's ``repr`` gives the same shortest round-trip digits; only the layout differs
    (ES switches to exponent form below 1e-6 and from 1e21, writes "1e+21", never "1.0").
    """
    if x == 0:
        return "0"
    if x < 0:
        return "-" + _es_number(-x)
    r = repr(x)
    mant, _, exp = r.partition("e")
    e = int(exp) if exp else 0
    intpart, _, frac = mant.partition(".")
    digits = (intpart + frac).lstrip("0")
    n = len(intpart) + e - ((len(intpart + frac) - len((intpart + frac).lstrip("0"))))  # decimal exponent
    digits = digits.rstrip("0") or "0"
    k = len(digits)
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    sign = "+" if n - 1 >= 0 else "-"
    if k == 1:
        return f"{digits}e{sign}{abs(n - 1)}"
    return f"{digits[0]}.{digits[1:]}e{sign}{abs(n - 1)}"


def _utf16_key(k: str) -> bytes:
    return k.encode("utf-16-be", "surrogatepass")


def _jcs(obj: Any, out: list) -> None:
    """Append the RFC 8785 serialisation of ``obj`` to ``out`` (a list of str parts)."""
    t = type(obj)
    if t is str:
        out.append(_encode_str(obj))
    elif t is dict:
        keys = list(obj)
        if all(k.isascii() for k in keys):  # ASCII: code-point order == UTF-16 order
            keys.sort()
        else:
            keys.sort(key=_utf16_key)
        out.append("{")
        first = True
        for k in keys:
            if not first:
                out.append(",")
            first = False
            out.append(_encode_str(k))
            out.append(":")
            _jcs(obj[k], out)
        out.append("}")
    elif t is list:
        out.append("[")
        for i, v in enumerate(obj):
            if i:
                out.append(",")
            _jcs(v, out)
        out.append("]")
    elif obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif t is int:
        if -(2**53) < obj < 2**53:
            out.append(str(obj))
        else:  # RFC 8785 numbers are IEEE doubles: json.loads reads a big float such as 1.5e20 back as an int
            out.append(_es_number(float(obj)))
    elif t is float:
        if not math.isfinite(obj):
            raise ValueError(f"{obj} is not representable in RFC 8785 JSON")
        out.append(_es_number(obj))
    else:  # subclasses and anything odd: the reference implementation decides
        out.append(rfc8785.dumps(obj).decode("utf-8"))


def _join_members(parts: dict[str, str]) -> bytes:
    """``{"k":v,...}`` from already-serialised member values, keys in RFC 8785 order."""
    keys = sorted(parts) if all(k.isascii() for k in parts) else sorted(parts, key=_utf16_key)
    return ("{" + ",".join(f"{_encode_str(k)}:{parts[k]}" for k in keys) + "}").encode("utf-8")


def _canonical(obj: Any) -> bytes:
    """RFC 8785 canonical JSON of ``obj`` as UTF-8 bytes (same output as ``rfc8785.dumps``)."""
    out: list = []
    _jcs(obj, out)
    return "".join(out).encode("utf-8")


def event_hash(event: Mapping[str, Any]) -> str:
    """sha256 hex of the event's RFC 8785 canonical JSON, leaving out its own ``hash`` member.

    This is the whole hashing rule; any language with a JCS library can recompute it.
    """
    body = {k: v for k, v in event.items() if k != "hash"}
    return hashlib.sha256(_canonical(body)).hexdigest()


def blob_dir_for(path: str | os.PathLike) -> Path:
    """The default side folder for a log's large payloads: ``<log>.blobs``."""
    return Path(str(path) + ".blobs")


@functools.lru_cache(maxsize=1)
def _package_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("airgap")
    except Exception:  # not installed (running from a bare checkout)
        return None


@functools.lru_cache(maxsize=1)
def _git_revision() -> str | None:
    """The git commit the code runs from, when it runs from a checkout (cached: one subprocess per process)."""
    here = Path(__file__).resolve().parent
    if not any((p / ".git").exists() for p in (here, *here.parents)):
        return None
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5
        )
        rev = out.stdout.strip()
        return rev if out.returncode == 0 and re.fullmatch(r"[0-9a-f]{40,64}", rev) else None
    except Exception:
        return None


def redact_patterns(patterns: Iterable[str | re.Pattern] | None) -> list[re.Pattern]:
    """Compile redaction patterns, with a message that names the bad one if one does not compile."""
    out = []
    for p in patterns or ():
        if isinstance(p, re.Pattern):
            out.append(p)
            continue
        try:
            out.append(re.compile(p))
        except re.error as e:
            raise ValueError(f"redaction pattern {p!r} is not a valid Python regex: {e}") from None
    return out


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


# --------------------------------------------------------------------------- writer


class EpisodeLog:
    """Writer for one episode's log. Thread-safe: the sandbox's sink may call from its own threads.

    Parameters
    ----------
    path:
        The ``.jsonl`` file to create. It must not exist yet (a log is never appended to
        by a second writer: that would interleave two chains).
    header:
        Header members (see ``HEADER_FIELDS``); unknown extra members are kept.
        ``package_version``, ``git_revision`` and ``started_at`` are filled in when absent.
    blob_dir:
        Side folder for large payloads; default ``<path>.blobs`` (created on first use).
    redact:
        Regex patterns (strings or compiled); every match in every string or bytes value,
        header included, is replaced by ``[REDACTED]`` before anything is written or
        hashed. The patterns themselves are recorded in the header, so use patterns
        that describe a secret's *shape* (``sk-[A-Za-z0-9]{20,}``), not literal secrets.
    inline_limit:
        Strings/bytes whose UTF-8 size is above this many bytes go to the blob folder.
    fsync:
        ``os.fsync`` after every event (survives a machine crash, not only a process
        kill; costs about a disk flush per event). The file is always fsynced on close.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        header: Mapping[str, Any] | None = None,
        *,
        blob_dir: str | os.PathLike | None = None,
        redact: Sequence[str | re.Pattern] | None = None,
        inline_limit: int = 4096,
        fsync: bool = False,
    ) -> None:
        self.path = Path(path)
        self.blob_dir = Path(blob_dir) if blob_dir is not None else blob_dir_for(self.path)
        self.inline_limit = int(inline_limit)
        self.fsync = fsync
        self._patterns = redact_patterns(redact)
        self._bpatterns = [re.compile(p.pattern.encode(), p.flags & ~re.UNICODE) for p in self._patterns]
        self._lock = threading.Lock()
        self._seq = 0
        self._head = ZERO_HASH
        self._t0 = time.monotonic()
        self._step: int | None = None
        self._known_blobs: set[str] = set()
        self.n_redactions = 0
        self.n_blobs = 0
        self._slow = False  # set by _prepare when an event needs the careful RFC 8785 encoder
        self.closed = False
        self.end_event: dict | None = None

        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        except FileExistsError:
            raise FileExistsError(
                f"episode log {self.path} already exists; a log is written once by one writer. "
                "Pick a new file name (e.g. add the episode number) or delete the old log."
            ) from None

        h: dict[str, Any] = {k: None for k in HEADER_FIELDS}
        h.update(dict(header or {}))
        ctx = _CONTEXT.get()
        if ctx is not None:
            h.update(ctx[0])
            ctx[1].append(self)
        bad = RESERVED_KEYS & h.keys()
        if bad:
            raise ValueError(f"header must not set {sorted(bad)}: the log sets those itself")
        h["schema_version"] = SCHEMA_VERSION
        if h.get("env_kwargs") is None:
            h["env_kwargs"] = {}
        if h.get("package_version") is None:
            h["package_version"] = _package_version()
        if h.get("git_revision") is None:
            h["git_revision"] = _git_revision()
        if h.get("started_at") is None:
            h["started_at"] = _now_iso()
        h["inline_limit"] = self.inline_limit
        h["blob_dir"] = self.blob_dir.name if self.blob_dir.parent == self.path.parent else str(self.blob_dir)
        self._slow = False
        data = self._prepare(h)
        # recorded after redaction so the record of the patterns is not itself redacted away
        data["redaction"] = (
            {"patterns": [p.pattern for p in self._patterns], "replacement": REDACTED} if self._patterns else None
        )
        self.header = self._write("header", data, self._slow)

    # -- public API -----------------------------------------------------------------

    @property
    def head(self) -> str:
        """The hash of the last event written: it commits to the whole log so far."""
        return self._head

    @property
    def n_events(self) -> int:
        return self._seq

    def append(self, type: str, **data: Any) -> dict:
        """Append one event and return it as written (after redaction and blob substitution).

        ``data`` members become members of the event. A ``step`` member also becomes the
        log's current step, which sandbox events from :meth:`sink` are tagged with.
        """
        if not isinstance(type, str) or not _TYPE_RE.match(type):
            raise ValueError(
                f"event type {type!r} is not valid: use lower-case words with '_' and '.', e.g. 'observation' or 'sandbox.exec'"
            )
        if type == "header":
            raise ValueError("the header is written by EpisodeLog(...) itself; pass its members there")
        bad = RESERVED_KEYS & data.keys()
        if bad:
            raise ValueError(f"event data must not use the reserved member(s) {sorted(bad)}; rename them")
        with self._lock:
            if self.closed:
                raise RuntimeError(f"episode log {self.path} is closed; open a new EpisodeLog for a new episode")
            if type == "end":
                return self._close_locked(data)
            step = data.get("step")
            if isinstance(step, int) and not isinstance(step, bool):
                self._step = step
            self._slow = False
            prepared = self._prepare(data)
            return self._write(type, prepared, self._slow)

    def sink(self, event: Mapping[str, Any]) -> None:
        """Adapter for the sandbox's event sink: ``sandbox.set_sink(log.sink)``.

        The sandbox event ``{"type": "exec", "sandbox": id, ...}`` is logged as type
        ``"sandbox.exec"`` with its other members; it is tagged with the current step
        when it has none. Members that collide with the log's own (``seq``, ``hash``...)
        are kept under ``sandbox_<name>``. Never raises: a logging failure must not take
        the sandbox down, so a failure is itself logged as a ``log_error`` event.
        """
        try:
            kind = str(event.get("type") or "event")
            kind = re.sub(r"[^a-z0-9_]+", "_", kind.lower()).strip("_") or "event"
            data = {}
            for k, v in event.items():
                if k == "type":
                    continue
                data[f"sandbox_{k}" if k in RESERVED_KEYS else str(k)] = v
            if "step" not in data and self._step is not None:
                data["step"] = self._step
            if self.closed:
                return  # the sandbox may report its own stop after the episode ended
            self.append("sandbox." + kind, **data)
        except Exception as e:  # pragma: no cover - defensive
            try:
                self.append("log_error", error=f"{type(e).__name__}: {e}", source="sink")
            except Exception:
                pass

    def close(self, **outcome: Any) -> dict:
        """Write the ``end`` event with the outcome (reward, terminated, answer, ...), fsync, close.

        Returns the ``end`` event; its ``hash`` is the log's head. Calling it again
        returns the same event and writes nothing.
        """
        bad = RESERVED_KEYS & outcome.keys()
        if bad:
            raise ValueError(f"outcome must not use the reserved member(s) {sorted(bad)}; rename them")
        with self._lock:
            if self.closed:
                return self.end_event  # type: ignore[return-value]
            return self._close_locked(outcome)

    def __enter__(self) -> "EpisodeLog":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self.closed:
            if exc is not None:
                self.close(status="error", error=f"{exc_type.__name__}: {exc}")
            else:
                self.close(status="closed")

    def __del__(self) -> None:  # a forgotten close must not leak the fd; it writes nothing
        fd = getattr(self, "_fd", None)
        if fd is not None and not getattr(self, "closed", True):
            try:
                os.close(fd)
            except OSError:
                pass

    def __repr__(self) -> str:
        return f"EpisodeLog({str(self.path)!r}, n_events={self._seq}, closed={self.closed})"

    # -- internals ------------------------------------------------------------------

    def _close_locked(self, outcome: dict) -> dict:
        self._slow = False
        data = self._prepare(dict(outcome))
        data["log"] = {
            "n_events": self._seq + 1,
            "n_blobs": self.n_blobs,
            "n_redactions": self.n_redactions,
        }
        ev = self._write("end", data, self._slow)
        self.end_event = ev
        self.closed = True
        try:
            os.fsync(self._fd)
        except OSError:
            pass
        os.close(self._fd)
        return ev

    def _write(self, type: str, data: dict, slow: bool = True) -> dict:
        """Build the event, hash it, write it with one write(2). Caller holds the lock (or is __init__)."""
        ev = {
            "seq": self._seq,
            "type": type,
            "t_wall": _now_iso(),
            "t_mono": round(time.monotonic() - self._t0, 6),
            "prev": self._head,
        }
        for k, v in data.items():
            ev[k] = v
        t = ev["t_mono"]
        if t.is_integer():
            ev["t_mono"] = int(t)
        elif t < 1e-4:
            slow = True
        if not slow:
            # the common case: the C JSON encoder, sorted keys, no spaces, gives RFC 8785 bytes
            # for this event (_prepare flagged anything it would lay out differently)
            h = hashlib.sha256(_FAST_JSON.encode(ev).encode("utf-8")).hexdigest()
            ev["hash"] = h
            line = _FAST_JSON.encode(ev).encode("utf-8") + b"\n"
        else:
            # each member is serialised once; the hashed body and the written line (the same
            # members plus "hash") are two joins of those parts in RFC 8785 key order
            parts = {}
            for k, v in ev.items():
                buf: list = []
                _jcs(v, buf)
                parts[k] = "".join(buf)
            h = hashlib.sha256(_join_members(parts)).hexdigest()
            ev["hash"] = h
            parts["hash"] = f'"{h}"'
            line = _join_members(parts) + b"\n"
        try:
            n = os.write(self._fd, line)
            while n < len(line):  # short writes are rare (signals, full disks); finish the line
                n += os.write(self._fd, line[n:])
            if self.fsync:
                os.fsync(self._fd)
        except OSError as e:
            # a line may be half written: appending more would merge it with the next one and
            # turn an honest "truncated" log into one that reads as "tampered", so stop here
            self.closed = True
            with contextlib.suppress(OSError):
                os.close(self._fd)
            raise OSError(e.errno, f"episode log {self.path} could not be written ({e.strerror}); "
                                   "the log ends here and verifies as truncated. Free disk space and rerun the episode.") from e
        self._seq += 1
        self._head = h
        return ev

    def _redact_str(self, s: str) -> str:
        for p in self._patterns:
            s, n = p.subn(REDACTED, s)
            self.n_redactions += n
        return s

    def _redact_bytes(self, b: bytes) -> bytes:
        for p in self._bpatterns:
            b, n = p.subn(REDACTED.encode(), b)
            self.n_redactions += n
        return b

    def _store_blob(self, payload: bytes, kind: str) -> dict:
        sha = hashlib.sha256(payload).hexdigest()
        if sha not in self._known_blobs:
            self.blob_dir.mkdir(parents=True, exist_ok=True)
            target = self.blob_dir / sha
            if not target.exists():
                # written completely under a temporary name, then renamed: a blob file
                # either is whole or is absent, and it exists before any event names it
                tmp = self.blob_dir / f".{sha}.{os.getpid()}.{threading.get_ident()}.tmp"
                with open(tmp, "wb") as f:
                    f.write(payload)
                    if self.fsync:
                        f.flush()
                        os.fsync(f.fileno())
                os.replace(tmp, target)
                self.n_blobs += 1
            self._known_blobs.add(sha)
        return {"$blob": sha, "size": len(payload), "kind": kind}

    def _prepare(self, value: Any) -> Any:
        """Turn any value into JSON that RFC 8785 accepts: redacted, large payloads as blob references.

        Why not ``json.dumps(default=...)``: we must see every string (redaction, blobs)
        and RFC 8785 refuses NaN and integers beyond 2**53, which we spell as strings.
        Objects with no JSON form are recorded as ``{"$repr": ..., "$type": ...}`` rather
        than raising, because a logging error must never end an episode.
        """
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, str):
            if self._patterns:
                value = self._redact_str(value)
            if not value.isascii():
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError:  # lone surrogates (e.g. from surrogateescape) have no UTF-8 form
                    value = value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
            if len(value) > self.inline_limit // 4 and len(value.encode("utf-8", "surrogatepass")) > self.inline_limit:
                return self._store_blob(value.encode("utf-8", "surrogatepass"), "text")
            return value
        if isinstance(value, int):
            return value if -(2**53) < value < 2**53 else str(value)
        if isinstance(value, float):
            if not math.isfinite(value):
                return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
            value = float(value)  # numpy.float64 and other subclasses
            if value.is_integer() and abs(value) < 2**53:
                return int(value)  # RFC 8785 writes 1.0 as 1; readers get an int either way
            if not 1e-4 <= abs(value) < 1e16:
                self._slow = True  # Python's float repr and ECMAScript's differ in layout here
            return value
        if isinstance(value, (bytes, bytearray, memoryview)):
            b = bytes(value)
            if self._bpatterns:
                b = self._redact_bytes(b)
            if len(b) > self.inline_limit:
                return self._store_blob(b, "bytes")
            return {"$bytes": base64.b64encode(b).decode("ascii")}
        if isinstance(value, Mapping):
            out = {}
            for k, v in value.items():
                if type(k) is not str:
                    k = str(k)
                if not k.isascii():
                    self._slow = True  # key order must follow UTF-16 code units
                out[k] = self._prepare(v)
            return out
        if isinstance(value, (list, tuple)):
            return [self._prepare(v) for v in value]
        if isinstance(value, (set, frozenset)):
            return [self._prepare(v) for v in sorted(value, key=repr)]
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return self._prepare({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
        if isinstance(value, (_dt.datetime, _dt.date)):
            return value.isoformat()
        if isinstance(value, os.PathLike):
            return self._prepare(os.fspath(value))
        if hasattr(value, "tolist"):  # numpy arrays and scalars
            return self._prepare(value.tolist())
        if hasattr(value, "_asdict"):
            return self._prepare(value._asdict())
        return {"$repr": self._prepare(repr(value)), "$type": f"{type(value).__module__}.{type(value).__qualname__}"}


# --------------------------------------------------------------------------- reading


@dataclasses.dataclass
class VerifyResult:
    """What :func:`verify` found.

    status:
        ``"ok"``        every event intact, chain unbroken, ends with an ``end`` event;
        ``"truncated"`` an intact prefix whose writer stopped early (killed, crashed, or
                        the trailing events were removed: the two look the same);
        ``"tampered"``  an event was changed, removed, inserted or reordered, or a blob's
                        content does not match its hash;
        ``"invalid"``   not an episode log, a schema violation by the writer, or a blob
                        missing (copy the ``.blobs`` folder along with the log).
    n_events:   complete events read (lines that parsed), bad ones included.
    first_bad:  the event number (0-based line / expected ``seq``) of the first problem.
    head:       hash of the last good event in the chain: compare it with a copy kept elsewhere.
    """

    status: str
    n_events: int
    first_bad: int | None = None
    message: str = ""
    head: str | None = None
    path: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def __bool__(self) -> bool:
        return self.ok


def iter_lines(path: str | os.PathLike) -> Iterator[tuple[int, bytes, bool]]:
    """Yield ``(line_number, raw_bytes_without_newline, complete)`` for each line of a log.

    ``complete`` is False only for a last line with no trailing newline: the event that
    was being written when the writer died.
    """
    with open(path, "rb") as f:
        for i, raw in enumerate(f):
            if raw.endswith(b"\n"):
                yield i, raw[:-1], True
            else:
                yield i, raw, False


def _walk_blobs(value: Any) -> Iterator[dict]:
    if isinstance(value, dict):
        if "$blob" in value:
            yield value
            return
        for v in value.values():
            yield from _walk_blobs(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk_blobs(v)


def verify(path: str | os.PathLike, *, check_schema: bool = True, check_blobs: bool = True,
           blob_dir: str | os.PathLike | None = None) -> VerifyResult:
    """Check a log: every line parses, ``seq`` counts 0, 1, 2..., each ``hash`` matches its
    event, each ``prev`` matches the event before, every event validates against the schema,
    and every referenced blob exists with the right sha256 and size.

    Never raises for a bad log; an unreadable path gives status ``"invalid"``.
    """
    path = Path(path)
    p = str(path)
    if not path.is_file():
        return VerifyResult("invalid", 0, 0, f"{path}: no such file", None, p)
    full_validator = _validator() if check_schema else None
    bdir: Path | None = Path(blob_dir) if blob_dir is not None else None
    checked_blobs: dict[str, bool] = {}
    head = ZERO_HASH
    n = 0
    saw_end = False

    def bad(status: str, i: int, msg: str) -> VerifyResult:
        return VerifyResult(status, n, i, msg, None if head == ZERO_HASH and i == 0 else head, p)

    for i, raw, complete in iter_lines(path):
        if not complete:
            # the event in flight when the writer died; nothing after it exists
            if saw_end:
                return bad("tampered", i, f"event {i}: bytes after the end event")
            return VerifyResult("truncated", n, i,
                                f"event {i} is a partial line (writer stopped mid-write); events 0..{i - 1} verify",
                                head if n else None, p)
        try:
            ev = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            if i == 0:
                return VerifyResult("invalid", 0, 0, f"line 0 is not JSON ({e}); is this an Airgap episode log?", None, p)
            return bad("tampered", i, f"event {i}: line is not valid JSON ({e}); it was edited or corrupted")
        n += 1
        if not isinstance(ev, dict):
            return bad("tampered" if i else "invalid", i, f"event {i}: not a JSON object")
        if i == 0 and ev.get("type") != "header":
            return VerifyResult("invalid", n, 0, "event 0 is not a header: not an Airgap episode log (or its first line was removed)", None, p)
        if saw_end:
            return bad("tampered", i, f"event {i}: follows the end event (events were appended after close)")
        if ev.get("seq") != i:
            return bad("tampered", i, f"event {i}: has seq {ev.get('seq')!r}, expected {i} (an event was removed, inserted or moved here)")
        if ev.get("prev") != head:
            return bad("tampered", i, f"event {i}: prev does not match the hash of event {i - 1} (the chain is broken here)")
        try:
            h = event_hash(ev)
        except Exception as e:
            return bad("tampered", i, f"event {i}: cannot be canonicalised ({e})")
        if ev.get("hash") != h:
            return bad("tampered", i, f"event {i}: its content does not match its hash (it was edited)")
        if i == 0:
            sv = ev.get("schema_version")
            if sv != SCHEMA_VERSION:
                return VerifyResult("invalid", n, 0, f"schema_version {sv!r} is not supported by this Airgap (reads {SCHEMA_VERSION}); upgrade airgap", None, p)
            if bdir is None:
                bd = ev.get("blob_dir")
                bdir = (path.parent / bd) if isinstance(bd, str) and bd else blob_dir_for(path)
        if full_validator is not None:
            t = ev.get("type")
            validator = _type_validator(t) if isinstance(t, str) and _TYPE_RE.match(t) else full_validator
            errs = sorted(validator.iter_errors(ev), key=lambda e: list(e.path))
            if errs:
                e0 = errs[0]
                where = "/".join(map(str, e0.path)) or "(event)"
                return bad("invalid", i, f"event {i} ({ev.get('type')}): schema violation at {where}: {e0.message}")
        if check_blobs:
            for ref in _walk_blobs(ev):
                sha = ref.get("$blob")
                if sha in checked_blobs:
                    continue
                f = bdir / str(sha)  # type: ignore[operator]
                if not f.is_file():
                    return bad("invalid", i, f"event {i}: blob {sha} is missing from {bdir}; copy the .blobs folder along with the log")
                data = f.read_bytes()
                if hashlib.sha256(data).hexdigest() != sha or len(data) != ref.get("size"):
                    return bad("tampered", i, f"event {i}: blob {sha} content does not match its hash/size (the blob was edited)")
                checked_blobs[sha] = True
        head = ev["hash"]
        if ev.get("type") == "end":
            saw_end = True
    if n == 0:
        return VerifyResult("invalid", 0, 0, f"{path} is empty: the writer died before the header was written", None, p)
    if not saw_end:
        return VerifyResult("truncated", n, n, f"no end event after event {n - 1}: the episode did not finish (writer killed?) or trailing events were removed", head, p)
    return VerifyResult("ok", n, None, f"{n} events, chain intact", head, p)


def load_blob(ref: Mapping[str, Any], blob_dir: str | os.PathLike) -> str | bytes:
    """Read one ``{"$blob": sha, ...}`` reference back: ``str`` for kind "text", else ``bytes``."""
    f = Path(blob_dir) / str(ref["$blob"])
    try:
        data = f.read_bytes()
    except FileNotFoundError:
        raise LogError(f"blob {ref['$blob']} not found in {blob_dir}; copy the .blobs folder along with the log") from None
    return data.decode("utf-8", "surrogatepass") if ref.get("kind", "text") == "text" else data


def resolve_blobs(value: Any, blob_dir: str | os.PathLike) -> Any:
    """Deep copy of ``value`` with blob references read back and ``{"$bytes": b64}`` decoded."""
    if isinstance(value, dict):
        if "$blob" in value and "size" in value:
            return load_blob(value, blob_dir)
        if len(value) == 1 and "$bytes" in value:
            return base64.b64decode(value["$bytes"])
        return {k: resolve_blobs(v, blob_dir) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_blobs(v, blob_dir) for v in value]
    return value


def read_log(path: str | os.PathLike, *, resolve: bool = True,
             blob_dir: str | os.PathLike | None = None) -> tuple[dict, list[dict]]:
    """Read a log: ``(header, events)`` where ``events`` are the events after the header, in order.

    With ``resolve=True`` (the default) blob references are replaced by their content and
    inline bytes are decoded, so ``events[i]["observation"]`` is the full text. A partial
    last line (a killed writer) is skipped. This does not check the hash chain: call
    :func:`verify` for that.
    """
    path = Path(path)
    if not path.is_file():
        raise LogError(f"{path}: no such episode log")
    events: list[dict] = []
    for i, raw, complete in iter_lines(path):
        if not complete:
            break
        try:
            events.append(json.loads(raw.decode("utf-8")))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise LogError(f"{path}: line {i} is not valid JSON ({e}); run `airgap replay verify {path}`") from None
    if not events or events[0].get("type") != "header":
        raise LogError(f"{path}: first line is not an episode-log header; is this an Airgap episode log?")
    header = events[0]
    if resolve:
        if blob_dir is None:
            bd = header.get("blob_dir")
            blob_dir = (path.parent / bd) if isinstance(bd, str) and bd else blob_dir_for(path)
        header = resolve_blobs(header, blob_dir)
        events = [resolve_blobs(e, blob_dir) for e in events[1:]]
    else:
        events = events[1:]
    return header, events
