"""airgap.corpus: the offline web. Ingest snapshots, store pages, index passages, search, serve.

    from airgap.corpus import Snapshot, build_snapshot, default_snapshot_path
    snap = Snapshot.open(default_snapshot_path())
    snap.search("json dumps indent", k=5)
    snap.get("https://docs.python.org/3.11/library/json.html").body
    path = ensure_snapshot(["crawl.warc.gz"], "my-crawl")   # built once into the cache, then reused

Importing this package is cheap: `SEARCH_HOST` is defined here, and every other public
name is imported from its module on first use (PEP 562), so `import airgap.corpus` loads
no numpy, bm25s, torch, faiss or starlette.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

SEARCH_HOST = "search.airgap"  # the search engine's hostname in every world; defined here and nowhere else

# public name -> the module (relative to this package) that defines it
_LAZY = {
    "Hit": ".snapshot",
    "Page": ".store",
    "RenderedPage": ".render",
    "Snapshot": ".snapshot",
    "build_snapshot": ".build",
    "default_routes": ".defaults",
    "default_snapshot_path": ".defaults",
    "ensure_default_snapshot": ".defaults",
    "ensure_snapshot": ".cache",
    "pages_app": ".web.pages",
    "render_page": ".render",
    "search_app": ".web.search",
    "snapshots_root": ".cache",
    "world_routes": ".web.routes",
}

__all__ = [  # SEARCH_HOST and every key of _LAZY (a test keeps the two in step)
    "SEARCH_HOST", "Hit", "Page", "RenderedPage", "Snapshot", "build_snapshot", "default_routes", "default_snapshot_path",
    "ensure_default_snapshot", "ensure_snapshot", "pages_app", "render_page", "search_app", "snapshots_root",
    "world_routes",
]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


if TYPE_CHECKING:  # for type checkers and IDEs; never runs
    from .build import build_snapshot
    from .cache import ensure_snapshot, snapshots_root
    from .defaults import default_routes, default_snapshot_path, ensure_default_snapshot
    from .render import RenderedPage, render_page
    from .snapshot import Hit, Snapshot
    from .store import Page
    from .web.pages import pages_app
    from .web.routes import world_routes
    from .web.search import search_app
