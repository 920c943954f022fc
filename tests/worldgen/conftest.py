"""Fixtures for the generated-world tests: the real Docker engine and base image (for env episodes), and wget."""
from __future__ import annotations

import shutil

import pytest


@pytest.fixture(scope="session")
def sandbox_image() -> str:
    """Build (or confirm up to date) the base image exactly as `airgap sandbox build` does."""
    import docker

    try:
        docker.from_env().ping()
    except Exception as e:  # noqa: BLE001 - any failure to reach the engine means the same thing here
        pytest.fail(f"no Docker engine reachable ({e}); start dockerd (scripts/setup.sh does), or deselect: -m \"not docker\"")
    from airgap.sandbox.image import DEFAULT_IMAGE, build

    build(tag=DEFAULT_IMAGE, log=lambda line: None)
    return DEFAULT_IMAGE


@pytest.fixture(scope="session")
def wget() -> str:
    path = shutil.which("wget")
    if path is None:
        pytest.fail("wget not installed: apt-get install wget (scripts/setup.sh does)")
    return path


@pytest.fixture(autouse=True)
def _no_pools_left(request):
    """Every docker test ends with the process's shared sandbox pools closed, so leaks are attributable."""
    yield
    if request.node.get_closest_marker("docker"):
        from airgap.sandbox import close_shared_pools

        close_shared_pools()
