"""Fixtures for the monitor tests that run real episodes: the Docker engine, the base image and the bundled snapshot
(built by the same code as `airgap sandbox build` / `airgap corpus build-default`)."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def sandbox_image() -> str:
    import docker

    try:
        docker.from_env().ping()
    except Exception as e:  # noqa: BLE001 - any failure to reach the engine means the same thing here
        pytest.fail(f"no Docker engine reachable ({e}); start dockerd (scripts/setup.sh does), or deselect: -m \"not docker\"")
    from airgap.sandbox.image import DEFAULT_IMAGE, build

    build(tag=DEFAULT_IMAGE, log=lambda line: None)
    return DEFAULT_IMAGE


@pytest.fixture(scope="session")
def default_snapshot(sandbox_image) -> str:
    from airgap.corpus import ensure_default_snapshot

    return ensure_default_snapshot(progress=False)


@pytest.fixture(autouse=True)
def _no_pools_left(request):
    yield
    if request.node.get_closest_marker("docker"):
        from airgap.sandbox import close_shared_pools

        close_shared_pools()
