"""Fixtures for the env tests: the real Docker engine, the base image and the bundled snapshot,
each built by the same code as the `airgap sandbox build` / `airgap corpus build-default` commands."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def sandbox_image() -> str:
    """Build (or confirm up to date, in about a second) the base image exactly as `airgap sandbox build` does."""
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
    """The bundled snapshot (docs.python.org/3.11 + www.sqlite.org), built once if missing or stale."""
    from airgap.corpus import ensure_default_snapshot

    return ensure_default_snapshot(progress=False)


@pytest.fixture(autouse=True)
def _no_pools_left(request):
    """Every docker test ends with the process's shared sandbox pools closed, so leaks are attributable."""
    yield
    if request.node.get_closest_marker("docker"):
        from airgap.sandbox import close_shared_pools

        close_shared_pools()
