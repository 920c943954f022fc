"""EpisodeLog: the append-only, hash-chained, crash-safe writer of one episode's log."""
from __future__ import annotations

import base64
import contextlib
import contextvars
import dataclasses
import datetime as _dt
import functools
import hashlib
import math
import os
import re
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from .canonical import _FAST_JSON, _jcs, _join_members
from .schema import _TYPE_RE, HEADER_FIELDS, RESERVED_KEYS, SCHEMA_VERSION, ZERO_HASH

REDACTED = "[REDACTED]"

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
    defer:
        Create no file yet: events (the header first) are numbered, hashed and time-stamped
        as they come but held in memory, with their blobs, until :meth:`persist` writes them
        and makes the log write-through from then on (a kill then loses at most the event in
        flight), or :meth:`discard` drops them, leaving nothing on disk. :meth:`close` on a
        deferred log persists it first. The env defers until the episode's first step, so a
        ``reset`` followed by no step leaves no log.
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
        defer: bool = False,
    ) -> None:
        self.path = Path(path)
        self.blob_dir = Path(blob_dir) if blob_dir is not None else blob_dir_for(self.path)
        self.inline_limit = int(inline_limit)
        self.fsync = fsync
        self._patterns = redact_patterns(redact)
        self._bpatterns = [re.compile(p.pattern.encode(), p.flags & ~re.UNICODE) for p in self._patterns]
        self._lock = threading.Lock()
        #: Called with every event appended after the header (``seq``, ``type`` and the data as given: before
        #: redaction and blob substitution), from the appending thread, outside the log's lock. Live monitors use it.
        self.observer: Callable[[dict], None] | None = None
        self.observer_errors: list[str] = []
        self._seq = 0
        self._head = ZERO_HASH
        self._t0 = time.monotonic()
        self._step: int | None = None
        self._known_blobs: set[str] = set()
        self.n_redactions = 0
        self.n_blobs = 0
        self._slow = False  # set by _prepare when an event needs the careful RFC 8785 encoder
        self.closed = False
        self.discarded = False
        self.end_event: dict | None = None
        #: Lines and blobs not on disk yet (a deferred log before :meth:`persist`); None once written through.
        self._pending: list[bytes] | None = [] if defer else None
        self._pending_blobs: dict[str, bytes] = {}
        self._fd: int | None = None

        if defer:
            if self.path.exists():
                raise FileExistsError(self._exists_message())
        else:
            self._open_file()

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
    def persisted(self) -> bool:
        """Whether the log is on disk (always, unless it was opened with ``defer=True`` and not persisted yet)."""
        return self._pending is None and not self.discarded

    def persist(self) -> None:
        """Write a deferred log's events (and their blobs) to disk and write every later event as it comes; a no-op
        for a log already on disk."""
        with self._lock:
            if self._pending is None or self.discarded:
                return
            self._persist_locked()

    def discard(self) -> bool:
        """Close a deferred log that was never persisted without writing anything (no file, no blob folder); returns
        True. A log already on disk is not touched (returns False: close it instead)."""
        with self._lock:
            if self._pending is None or self.closed:
                return False
            self._pending, self._pending_blobs = None, {}
            self.closed = self.discarded = True
            return True

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
            written = self._write(type, prepared, self._slow)
        observer = self.observer
        if observer is not None:  # outside the lock: an observer may append (e.g. a flag) itself
            try:
                observer({**data, "seq": written["seq"], "type": type})
            except Exception as e:  # noqa: BLE001 - a monitor bug must not take the log down; it is recorded
                self.observer_errors.append(f"{e.__class__.__name__}: {e}")
        return written

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

    def _exists_message(self) -> str:
        return (f"episode log {self.path} already exists; a log is written once by one writer. "
                "Pick a new file name (e.g. add the episode number) or delete the old log.")

    def _open_file(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        except FileExistsError:
            raise FileExistsError(self._exists_message()) from None

    def _persist_locked(self) -> None:
        """Blobs first (an event never names a blob that is not there), then the held lines in one write."""
        pending, blobs = self._pending or [], self._pending_blobs
        self._pending, self._pending_blobs = None, {}
        for sha, payload in blobs.items():
            self._write_blob(sha, payload)
        self._open_file()
        self._write_line(b"".join(pending))

    def _close_locked(self, outcome: dict) -> dict:
        if self._pending is not None:  # a deferred log that is closed is kept: on disk first
            self._persist_locked()
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
        if self._pending is not None:  # deferred: held until persist()
            self._pending.append(line)
        else:
            self._write_line(line)
        self._seq += 1
        self._head = h
        return ev

    def _write_line(self, line: bytes) -> None:
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
            if self._pending is not None:  # deferred: written by persist(), before the events that name it
                self._pending_blobs[sha] = payload
            else:
                self._write_blob(sha, payload)
            self._known_blobs.add(sha)
        return {"$blob": sha, "size": len(payload), "kind": kind}

    def _write_blob(self, sha: str, payload: bytes) -> None:
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

