"""Helpers shared by the sandbox tests (a module, not a conftest, so tests can import it by name)."""
from __future__ import annotations

import time


async def echo_app(scope, receive, send):
    """A tiny ASGI app: answers with what it was asked (method, scheme, host, path, body)."""
    assert scope["type"] == "http"
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    host = dict(scope["headers"]).get(b"host", b"").decode()
    text = f"{scope['method']} {scope['scheme']}://{host}{scope['path']} body={body.decode()}"
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": text.encode()})


def containers(**labels: str) -> list[dict]:
    """The project's containers carrying ``labels`` (e.g. ``**{"airgap.owner_pid": "123"}``), as the engine lists them."""
    from airgap.sandbox.runtime.docker import DockerRuntime

    return [r for r in DockerRuntime().list({"airgap.project": "airgap", **labels}) if r["kind"] == "container"]


def wait_for(predicate, timeout: float = 60.0) -> bool:
    """Poll until ``predicate()`` holds (a bound on waiting, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False
