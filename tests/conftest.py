"""Suite-wide test set-up: a test needs Docker exactly when it uses a fixture that needs the engine.

The ``docker`` mark is derived from the fixtures a test uses (directly or through other
fixtures), not set per module, so ``-m "not docker"`` runs every pure test, and a pure test in
a module of Docker tests is never deselected with them.
"""
from __future__ import annotations

import pytest

DOCKER_FIXTURES = {"sandbox_image", "default_snapshot"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if DOCKER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.docker)
