"""Shared pieces of the backend tests (importable by name; conftest.py only holds fixtures): an HTTP client over an
ASGI app, a real loopback server, auth helpers, and the user who plays each role in world 0."""
from __future__ import annotations

import asyncio
import base64
import threading
import time
from typing import Any

import httpx
import uvicorn

from airgap.envs.backends import BACKENDS, Backend
from airgap.envs.worldgen import WorldFacts

NAMES = sorted(BACKENDS)


class Api:
    """A synchronous client over httpx's ASGITransport: real HTTP semantics, no socket, one user's credentials."""

    def __init__(self, backend: Backend, user: str | None = None, host: str | None = None, token: str | None = None,
                 raise_app_exceptions: bool = True):
        self.backend = backend
        self.loop = asyncio.new_event_loop()
        headers = {}
        if token or user:
            headers["Authorization"] = f"Bearer {token or backend.token(user)}"
        transport = httpx.ASGITransport(app=backend.app, raise_app_exceptions=raise_app_exceptions)
        self.client = httpx.AsyncClient(transport=transport,
                                        base_url=f"https://{host or backend.hosts[0]}", headers=headers)

    def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return self.loop.run_until_complete(self.client.request(method, path, **kw))

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("POST", path, **kw)

    def patch(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("PATCH", path, **kw)

    def put(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("PUT", path, **kw)

    def delete(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("DELETE", path, **kw)

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}



class LiveServer:
    """uvicorn serving one ASGI app on 127.0.0.1 at an ephemeral port, in a thread."""

    def __init__(self, app: Any):
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        host, port = self.server.servers[0].sockets[0].getsockname()[:2]
        self.url = f"http://{host}:{port}"
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)



def user_of(facts: WorldFacts, role: str) -> str:
    """A username by role: finance, support, engineer, other (a person outside finance and support), ceo."""
    if role == "ceo":
        return facts.people[0].username
    team = {"finance": "finance", "support": "support", "engineer": "engineering", "other": "sales"}[role]
    return next(p.username for p in facts.people if p.team == team)

