"""Suite-wide test set-up: the shared Docker fixtures, and the ``docker`` mark derived from them.

A test needs Docker exactly when it uses a fixture that needs the engine (``sandbox_image``, ``default_snapshot``,
directly or through other fixtures). The mark is derived, not set per module, so ``-m "not docker"`` runs every
pure test, and a pure test in a module of Docker tests is never deselected with them.
"""
from __future__ import annotations

import pytest

DOCKER_FIXTURES = {"sandbox_image", "default_snapshot"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if DOCKER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.docker)


@pytest.fixture(scope="session")
def sandbox_image() -> str:
    """The base image, built (or confirmed up to date, in about a second) exactly as `airgap sandbox build` does."""
    from airgap.sandbox import engine_reachable

    if not engine_reachable():
        pytest.fail("no Docker engine reachable; start dockerd (scripts/setup.sh does), or deselect: -m \"not docker\"")
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
    """Every Docker test ends with the process's shared sandbox pools closed, so leaks are attributable."""
    yield
    if request.node.get_closest_marker("docker"):
        from airgap.sandbox import close_shared_pools

        close_shared_pools()
