"""Fixtures for the backend tests: one world, its six backends, an in-process HTTP client and a real loopback server."""
from __future__ import annotations

from typing import Any

import pytest
from backend_support import NAMES, Api, LiveServer  # noqa: E402

from airgap.envs.backends import Backend, make_backends
from airgap.envs.worldgen import WorldFacts, generate


@pytest.fixture(scope="session")
def facts() -> WorldFacts:
    return generate(0)


@pytest.fixture(scope="session")
def all_backends(facts: WorldFacts) -> dict[str, Backend]:
    return make_backends(NAMES, facts)


@pytest.fixture
def backends(all_backends: dict[str, Backend]) -> dict[str, Backend]:
    """The six backends of world 0, each reset to its fixture, with no change listener."""
    for b in all_backends.values():
        b.reset()
        b.on_change = None
    return all_backends


@pytest.fixture
def api(backends: dict[str, Backend]):
    """``api(name, user)`` -> an in-process client for that backend as that user (``user=None``: anonymous)."""
    made: list[Api] = []

    def make(name: str, user: str | None = None, **kw: Any) -> Api:
        a = Api(backends[name], user, **kw)
        made.append(a)
        return a

    yield make
    for a in made:
        a.close()



@pytest.fixture
def live(backends: dict[str, Backend]):
    """``live(name)`` -> a LiveServer (context manager) for that backend on a real loopback socket."""
    servers: list[LiveServer] = []

    def make(name: str) -> LiveServer:
        s = LiveServer(backends[name].app).__enter__()
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.__exit__(None, None, None)


