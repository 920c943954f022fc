"""World routes: hostname -> ASGI app, the search engine at SEARCH_HOST and the pages app at every archived host."""
from __future__ import annotations

from .. import SEARCH_HOST
from ..snapshot import Snapshot
from .pages import pages_app
from .search import search_app


def world_routes(snap: Snapshot, as_of: str | None = None) -> dict:
    """hostname -> ASGI app for the sandbox gateway (one pages app shared by every archived host)."""
    pages = pages_app(snap, as_of)
    routes = {host: pages for host in snap.hosts()}
    routes[SEARCH_HOST] = search_app(snap, as_of=as_of)
    return routes
