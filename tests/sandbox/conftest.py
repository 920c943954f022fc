"""Fixtures for the sandbox tests: a real Docker engine and the base image, built by the CLI's own code."""
from __future__ import annotations

import pytest
from sandbox_helpers import echo_app

from airgap.sandbox import Sandbox, SandboxConfig

ROUTES = {"docs.python.org": echo_app, "mail.airgap": echo_app}


@pytest.fixture(scope="module")
def shared_sandbox(sandbox_image):
    """One sandbox for the tests that only look around; tests that break things make their own."""
    events: list[dict] = []
    with Sandbox(SandboxConfig(image=sandbox_image), routes=ROUTES, sink=events.append) as sb:
        sb.events = events
        yield sb


@pytest.fixture
def events_sandbox(shared_sandbox):
    """The shared sandbox with a fresh event list and the default routes for this test."""
    events: list[dict] = []
    shared_sandbox.set_sink(events.append)
    shared_sandbox.set_routes(ROUTES)
    shared_sandbox.events = events
    return shared_sandbox
