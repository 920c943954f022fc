"""The websites of a generated world (public site, intranet, product docs, shop catalogue and help, news), crawled into a
cached two-capture snapshot per world seed.

    from airgap.envs.worldgen.site import ensure_world_snapshot, site_facts, SiteUrls
    path = ensure_world_snapshot(3)          # built once (a few seconds), then read from the cache
"""
from __future__ import annotations

from .content import SITE_VERSION, Capture, Hosts, SiteFacts, site_facts
from .render import write_sites
from .snapshot import build_world, ensure_world_snapshot, world_snapshot_path
from .urls import SiteUrls

__all__ = ["SITE_VERSION", "Capture", "Hosts", "SiteFacts", "SiteUrls", "build_world", "ensure_world_snapshot",
           "site_facts", "world_snapshot_path", "write_sites"]
