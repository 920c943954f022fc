"""Every request through the gateway is bounded, and one sandbox's slow app never holds up another sandbox.

No wall-clock assertions: waits are bounded by timeouts and a test fails when one expires."""
from __future__ import annotations

import asyncio
import threading

import pytest
from sandbox_helpers import echo_app

from airgap.sandbox import Sandbox, SandboxConfig, SandboxError, SandboxTimeout
from airgap.sandbox.gateway import Gateway
from airgap.sandbox.runtime.docker import DockerRuntime


def sleepy_app(cancelled: threading.Event):
    """An ASGI app that sleeps (on the loop, as an async app should) far longer than any test's timeout."""

    async def app(scope, receive, send):
        try:
            await asyncio.sleep(600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    return app


@pytest.fixture
def channel(tmp_path):
    gateway = Gateway()
    events: list[dict] = []
    channel = gateway.open_channel("sb-test", tmp_path / "gw.sock", {}, events.append, request_timeout=0.3)
    channel.events = events
    yield gateway, channel
    gateway.close_channel(channel)


def test_harness_fetch_timeout_cancels_the_app_and_logs_504(channel):
    gateway, ch = channel
    cancelled = threading.Event()
    ch.routes = {"slow.example": sleepy_app(cancelled)}
    with pytest.raises(SandboxTimeout, match=r"the request to slow.example took longer than 0.2 s") as err:
        gateway.fetch(ch, "GET", "https://slow.example/page", timeout=0.2)
    assert isinstance(err.value, SandboxError)
    assert cancelled.wait(30), "the app was not cancelled"
    [event] = [e for e in ch.events if e["type"] == "http"]
    assert event["status"] == 504 and event["source"] == "harness" and "took longer than 0.2 s" in event["error"]
    assert event["url"] == "https://slow.example/page" and event["duration_ms"] > 0


def test_harness_fetch_defaults_to_the_channel_request_timeout(channel):
    gateway, ch = channel
    ch.routes = {"slow.example": sleepy_app(threading.Event()), "fast.example": echo_app}
    with pytest.raises(SandboxTimeout, match=r"took longer than 0.3 s"):
        gateway.fetch(ch, "GET", "https://slow.example/")
    assert gateway.fetch(ch, "GET", "https://fast.example/").status == 200  # the gateway carries on


def test_crashing_app_is_a_500_with_the_error_logged(channel):
    gateway, ch = channel

    async def broken(scope, receive, send):
        raise RuntimeError("boom")

    ch.routes = {"broken.example": broken}
    resp = gateway.fetch(ch, "GET", "https://broken.example/")
    assert resp.status == 500 and "boom" in resp.text
    assert "boom" in next(e for e in ch.events if e["type"] == "http")["error"]


# -- through real sandboxes ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quick_sandbox(sandbox_image):
    """A sandbox whose apps get 1 s per request."""
    with Sandbox(SandboxConfig(image=sandbox_image, request_timeout=1.0)) as sb:
        yield sb


@pytest.mark.docker
def test_request_from_inside_gets_504_after_request_timeout(quick_sandbox):
    cancelled = threading.Event()
    events: list[dict] = []
    quick_sandbox.set_sink(events.append)
    quick_sandbox.set_routes({"slow.example": sleepy_app(cancelled)})
    r = quick_sandbox.exec("curl -sS -D /tmp/h -w '\\n%{http_code} %{content_type}' https://slow.example/x; "
                           "echo; head -1 /tmp/h", timeout=120)
    body, status_line = r.stdout.rstrip().rsplit("\n", 1)
    assert status_line.strip() == "HTTP/1.1 504 Gateway Timeout", r.stdout
    assert body == ("504 Gateway Timeout: the request to slow.example took longer than 1 s; the gateway cancelled it\n"
                    "\n504 text/plain; charset=utf-8")
    assert cancelled.wait(30), "the app was not cancelled"
    event = next(e for e in events if e["type"] == "http")
    assert event["status"] == 504 and event["source"] == "sandbox" and "took longer than 1 s" in event["error"]
    assert "duration_ms" in event


@pytest.mark.docker
def test_sandbox_fetch_timeout_raises(quick_sandbox):
    events: list[dict] = []
    quick_sandbox.set_sink(events.append)
    quick_sandbox.set_routes({"slow.example": sleepy_app(threading.Event())})
    with pytest.raises(SandboxTimeout, match="the request to slow.example took longer than 0.5 s"):
        quick_sandbox.fetch("GET", "https://slow.example/", timeout=0.5)
    with pytest.raises(SandboxTimeout, match="took longer than 1 s"):  # default: the config's request_timeout
        quick_sandbox.fetch("GET", "https://slow.example/")
    assert [e["status"] for e in events if e["type"] == "http"] == [504, 504]


@pytest.mark.docker
def test_slow_app_of_one_sandbox_does_not_delay_another(quick_sandbox, events_sandbox):
    """Sandbox A's app waits for an event that is set only once sandbox B's request has completed: if A's
    request held up the shared gateway loop, B's would never complete and the bounded waits would fail."""
    entered, gate = threading.Event(), asyncio.Event()

    async def gated(scope, receive, send):
        entered.set()
        await gate.wait()
        await echo_app(scope, receive, send)

    quick_sandbox.set_routes({"slow.example": gated})
    outcome: dict = {}

    def slow_request():
        try:
            outcome["resp"] = quick_sandbox.fetch("GET", "https://slow.example/a", timeout=300)
        except Exception as e:  # reported below
            outcome["error"] = e

    thread = threading.Thread(target=slow_request)
    thread.start()
    try:
        assert entered.wait(60), "sandbox A's request never reached its app"
        r = events_sandbox.exec("curl -sS --max-time 60 https://docs.python.org/b", timeout=120)
        assert r.exit_code == 0 and r.stdout == "GET https://docs.python.org/b body=", r.stderr
        assert thread.is_alive() and not gate.is_set()  # A was still waiting while B was answered
    finally:
        Gateway.shared().loop.call_soon_threadsafe(gate.set)
        thread.join(60)
    assert not thread.is_alive() and "error" not in outcome, outcome
    assert outcome["resp"].text == "GET https://slow.example/a body="


@pytest.mark.docker
def test_docker_exec_outlives_the_engine_client_timeout(events_sandbox, monkeypatch):
    """The engine's exec has no timeout of its own: a command quiet for longer than the client's read
    timeout must still come back, and one past its own timeout is killed."""
    monkeypatch.setattr(events_sandbox, "_runtime", DockerRuntime(timeout=2))
    r = events_sandbox.exec_docker("sleep 4; echo done", timeout=60)
    assert r.exit_code == 0 and r.stdout == "done\n" and not r.timed_out
    r = events_sandbox.exec_docker("sleep 60", timeout=1)
    assert r.timed_out and r.exit_code == 137
