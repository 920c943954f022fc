"""The bundled default snapshot: where it lives, how it is built, its routes.

The WARC files under ``data/`` (Python 3.11 docs and SQLite docs, crawled from Debian's
doc packages on loopback, URLs rewritten to the real sites; see data/README.md) are
built into a snapshot at `default_snapshot_path()` by `airgap corpus build-default`.
"""
from __future__ import annotations

import glob
import os

import platformdirs

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def cache_dir() -> str:
    """Airgap's cache folder: ``platformdirs.user_cache_dir("airgap")`` (``$XDG_CACHE_HOME/airgap`` or
    ``~/.cache/airgap`` on Linux)."""
    return platformdirs.user_cache_dir("airgap")


def default_warcs() -> list[str]:
    paths = sorted(glob.glob(os.path.join(DATA_DIR, "*.warc.gz")))
    if not paths:
        raise FileNotFoundError(f"no WARC files in {DATA_DIR}: regenerate them with `airgap corpus make-default-warc`")
    return paths


def default_snapshot_path() -> str:
    """``$AIRGAP_SNAPSHOT_DIR/default``, else ``snapshots/default`` in the cache folder (`cache_dir`)."""
    from .cache import snapshots_root

    return str(snapshots_root() / "default")


def build_default(out: str | None = None, *, progress: bool = True, dense_model: str | None = None, **kw):
    """Build the default snapshot from the shipped WARCs into ``out`` (default: `default_snapshot_path`) unless it
    is already there, built from these WARCs with these options (BM25 only unless a dense model is given); returns it
    opened. Concurrent callers build it once (`cache.ensure_snapshot`)."""
    from .cache import ensure_snapshot
    from .snapshot import Snapshot

    if dense_model:
        kw["dense_model"] = dense_model
    target = os.path.abspath(out or default_snapshot_path())
    path = ensure_snapshot(default_warcs(), os.path.basename(target), root=os.path.dirname(target), progress=progress,
                           **kw)
    return Snapshot.open(str(path))


def ensure_default_snapshot(progress: bool = False) -> str:
    """Path of the default snapshot, building it first if it is missing or older than the shipped WARCs."""
    from .cache import ensure_snapshot, read_stamp, sources_stamp

    warcs = default_warcs()
    path = default_snapshot_path()
    have = read_stamp(path)
    if have and have.get("sources") == sources_stamp(warcs)["sources"]:  # any build of these WARCs (a dense one too)
        return path
    return str(ensure_snapshot(warcs, "default", progress=progress))


def default_routes() -> dict:
    """hostname -> ASGI app for the bundled snapshot (built first if needed): what `--routes` of the sandbox CLI takes."""
    from .snapshot import Snapshot
    from .web.routes import world_routes

    return world_routes(Snapshot.open(ensure_default_snapshot()))
