"""airgap.corpus: the offline web. Ingest snapshots, store pages, index passages, search, serve.

    from airgap.corpus import Snapshot, build_snapshot, default_snapshot_path
    snap = Snapshot.open(default_snapshot_path())
    snap.search("json dumps indent", k=5)
    snap.get("https://docs.python.org/3.11/library/json.html").body
"""
from .defaults import SEARCH_HOST, default_routes, default_snapshot_path, ensure_default_snapshot
from .render import RenderedPage, render_page
from .serve import pages_app, search_app, world_routes
from .snapshot import Hit, Snapshot, build_snapshot
from .store import Page

__all__ = [
    "SEARCH_HOST", "Hit", "Page", "RenderedPage", "Snapshot", "build_snapshot", "default_snapshot_path",
    "default_routes", "ensure_default_snapshot", "pages_app", "render_page", "search_app", "world_routes",
]
