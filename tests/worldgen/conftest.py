"""Fixtures for the generated-world tests: wget (the Docker fixtures are the suite-wide ones in tests/conftest.py)."""
from __future__ import annotations

import shutil

import pytest


@pytest.fixture(scope="session")
def wget() -> str:
    path = shutil.which("wget")
    if path is None:
        pytest.fail("wget not installed: apt-get install wget (scripts/setup.sh does)")
    return path
