"""Reading episode logs: verify the chain (and schema and blobs), iterate lines, load events with blobs resolved."""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterator, Mapping

from .canonical import event_hash
from .schema import (
    _TYPE_RE,
    SCHEMA_VERSION,
    ZERO_HASH,
    LogError,
    _type_validator,
    _validator,
)
from .writer import blob_dir_for

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

