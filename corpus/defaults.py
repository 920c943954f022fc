"""The bundled default snapshot: where it lives, how it is built, its routes.

The WARC files under ``data/`` (Python 3.11 docs and SQLite docs, crawled from Debian's
doc packages on loopback, URLs rewritten to the real sites; see data/README.md) are
built into a snapshot at `default_snapshot_path()` by `airgap corpus build-default`.
"""
from __future__ import annotations

import glob
import json
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
    root = os.environ.get("AIRGAP_SNAPSHOT_DIR") or os.path.join(cache_dir(), "snapshots")
    return os.path.join(root, "default")


def build_default(out: str | None = None, *, progress: bool = True, dense_model: str | None = None, **kw):
    """Build the default snapshot from the shipped WARCs (BM25 only unless a dense model is given)."""
    from .build import build_snapshot

    return build_snapshot(default_warcs(), out or default_snapshot_path(), overwrite=True, progress=progress,
                          dense_model=dense_model, **kw)


def _up_to_date(path: str) -> bool:
    try:
        with open(os.path.join(path, "manifest.json")) as f:
            have = {s["path"]: s["sha256"] for s in json.load(f)["sources"]}
    except (OSError, ValueError, KeyError):
        return False
    from .build import sha256_file

    return have == {os.path.basename(p): sha256_file(p) for p in default_warcs()}


def ensure_default_snapshot(progress: bool = False) -> str:
    """Path of the default snapshot, building it first if it is missing or older than the shipped WARCs."""
    path = default_snapshot_path()
    if not _up_to_date(path):
        build_default(path, progress=progress)
    return path


def default_routes() -> dict:
    """hostname -> ASGI app for the bundled snapshot (built first if needed): what `--routes` of the sandbox CLI takes."""
    from .snapshot import Snapshot
    from .web.routes import world_routes

    return world_routes(Snapshot.open(ensure_default_snapshot()))
