"""Build a snapshot once into the cache: ``ensure_snapshot(sources, key)``.

Every snapshot Airgap makes for itself (the bundled default, the safety web, each generated world) is an *entry* of
one cache folder, ``snapshots_root()``: ``$AIRGAP_SNAPSHOT_DIR``, else ``snapshots/`` in ``defaults.cache_dir()``.
An entry is the folder ``snapshots_root() / key`` holding a *stamp* file that says what it was made from (by default
the sources' names and sha256, and the build options). It is complete when its stamp equals the one the caller
expects; a complete entry is returned after reading that one small file, with no lock taken.

Otherwise the caller takes an exclusive file lock (``<key>.lock`` beside the entry), looks again (another process may
have built it meanwhile), builds into a temporary folder beside the entry (``.<name>.tmp/``), writes the stamp last
and renames the folder into place with ``os.replace``. So an entry is never half-built: a build that fails or is
killed leaves at most the temporary folder, which the next build removes, and processes that race build once.
"""
from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

STAMP = "stamp.json"
SETTLED_OPTIONS = ("workers", "timings", "on_skip")  # build_snapshot options that do not change what it builds


def snapshots_root() -> Path:
    """The cache folder of built snapshots: ``$AIRGAP_SNAPSHOT_DIR``, else ``snapshots/`` in Airgap's cache folder."""
    from .defaults import cache_dir

    return Path(os.environ.get("AIRGAP_SNAPSHOT_DIR") or os.path.join(cache_dir(), "snapshots"))


@contextlib.contextmanager
def file_lock(path: str | os.PathLike) -> Iterator[None]:
    """An exclusive lock on ``path`` (made if missing) for the block: one holder at a time across processes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@functools.lru_cache(maxsize=64)
def _sha256_unchanged(path: str, mtime_ns: int, size: int) -> str:
    return sha256_file(path)


def file_sha256(path: str | os.PathLike) -> str:
    """`sha256_file`, read once per process while the file's size and mtime are unchanged."""
    st = os.stat(path)
    return _sha256_unchanged(os.path.abspath(path), st.st_mtime_ns, st.st_size)


def source_checksum(path: str | os.PathLike) -> str:
    """SHA-256 of a source file, or of a folder's relative paths and file checksums; "" for a hub name."""
    if os.path.isfile(path):
        return file_sha256(path)
    if os.path.isdir(path):
        h = hashlib.sha256()
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files):
                p = os.path.join(root, name)
                h.update(os.path.relpath(p, path).encode() + b"\0" + file_sha256(p).encode())
        return h.hexdigest()
    return ""  # a hub name: nothing local to hash


def sources_stamp(sources: Sequence[str | os.PathLike], **options) -> dict:
    """The default stamp: each source's name and sha256 (`source_checksum`), and the build options that change what
    is built (``url_map``, ``dense_model``...)."""
    listed = [[os.path.basename(os.path.normpath(os.fspath(s))), source_checksum(s)] for s in sources]
    kept = {k: v for k, v in sorted(options.items()) if k not in SETTLED_OPTIONS}
    return {"sources": listed, **({"options": kept} if kept else {})}


def read_stamp(entry: str | os.PathLike, stamp_name: str = STAMP) -> dict | None:
    """The stamp of the cache entry ``entry``, or None when it has none (missing, or not a complete entry)."""
    try:
        with open(Path(entry) / stamp_name, encoding="utf-8") as f:
            stamp = json.load(f)
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) else None


def is_complete(entry: str | os.PathLike, stamp: dict, stamp_name: str = STAMP) -> bool:
    """Whether the cache entry ``entry`` exists with exactly this stamp."""
    return read_stamp(entry, stamp_name) == stamp


def ensure_snapshot(
    sources: Sequence[str | os.PathLike],
    key: str,
    *,
    build: Callable[[Path], object] | None = None,
    stamp: dict | None = None,
    stamp_name: str = STAMP,
    root: str | os.PathLike | None = None,
    progress: bool = False,
    **build_kw,
) -> Path:
    """The cache entry ``key`` (a relative path such as ``"default"`` or ``"worlds/seed-3"``) under ``root`` (default
    `snapshots_root`), built first if it is missing or its stamp differs; returns its path.

    By default the entry is the snapshot of ``sources`` (``build_snapshot(sources, folder, **build_kw)``) and the
    stamp is `sources_stamp`. A caller whose entry holds more than a snapshot passes ``build(folder)``, which writes
    the whole entry into ``folder`` (an empty temporary folder on the entry's file system), and its own ``stamp``
    (JSON), stored as ``stamp_name`` in the entry. A build that raises leaves no entry (a stale one is kept) and
    the exception propagates.
    """
    if not key or os.path.isabs(key) or ".." in Path(key).parts:
        raise ValueError(f"cache key must be a relative path inside the snapshot cache, got {key!r}")
    entry = Path(root if root is not None else snapshots_root()) / key
    if stamp is None:
        if not sources:
            raise ValueError("no sources given: pass WARC/ZIM/JSONL/Parquet files or dataset folders")
        stamp = sources_stamp(sources, **build_kw)
    stamp = json.loads(json.dumps(stamp, sort_keys=True))  # as it reads back (tuples become lists)
    if is_complete(entry, stamp, stamp_name):  # the common case: one small file read, no lock
        return entry
    entry.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(entry.with_name(entry.name + ".lock")):
        if is_complete(entry, stamp, stamp_name):  # another process built it while we waited
            return entry
        work = entry.with_name(f".{entry.name}.tmp")  # only the lock holder uses it: leftovers are a dead build's
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        try:
            new = Path(tempfile.mkdtemp(prefix="build-", dir=work))
            if build is not None:
                build(new)
            else:
                from .build import build_snapshot

                build_snapshot([os.fspath(s) for s in sources], str(new), overwrite=True, progress=progress, **build_kw)
            with open(new / stamp_name, "w", encoding="utf-8") as f:
                json.dump(stamp, f, indent=2, sort_keys=True)
                f.write("\n")
                f.flush()
                os.fsync(f.fileno())
            if entry.exists():  # stale: set it aside first (a folder cannot be renamed over a non-empty one)
                os.replace(entry, Path(tempfile.mkdtemp(prefix="stale-", dir=work)) / entry.name)
            os.replace(new, entry)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return entry
