"""A stand-in model server for tests: a real HTTP server on loopback speaking the OpenAI chat-completions shape.

No real model can run on the test machine, so this server answers from a script the test gives it: each
request to ``/v1/chat/completions`` takes the next scripted reply (an HTTP status with a JSON body, a delay
longer than the client's timeout, or a function of the request). Everything it received is kept in
``requests`` for the test to check.
"""
from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


def completion(content: str = "", tool_calls: list | None = None, prompt_tokens: int = 11, completion_tokens: int = 7,
               usage: bool = True) -> dict:
    """A chat-completions reply body."""
    msg: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls is not None:
        msg["tool_calls"] = tool_calls
    body: dict[str, Any] = {"id": "cmpl-1", "object": "chat.completion", "created": 0, "model": "standin",
                            "choices": [{"index": 0, "message": msg, "finish_reason": "tool_calls" if tool_calls else "stop"}]}
    if usage:
        body["usage"] = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                         "total_tokens": prompt_tokens + completion_tokens}
    return body


def call(name: str, arguments: Any, call_id: str | None = "call_a", typed: bool = True) -> dict:
    """A tool-call item; ``arguments`` is sent as given (a JSON string as OpenAI does, or an object as llama.cpp can)."""
    item: dict[str, Any] = {"function": {"name": name, "arguments": arguments}}
    if call_id is not None:
        item["id"] = call_id
    if typed:
        item["type"] = "function"
    return item


class StandinModel:
    """``with StandinModel(script) as m: m.url`` -> ``http://127.0.0.1:PORT/v1`` (``m.spec``: ``openai:<url>#standin``). Script items: ``(status, body)``,
    ``(status, body, headers)``, ``("sleep", seconds)`` or a callable ``request_json -> body``."""

    def __init__(self, script: list | None = None):
        self.script: list = list(script or [])
        self.requests: list[dict] = []
        self.times: list[float] = []
        self._lock = threading.Lock()
        app = Starlette(routes=[Route("/v1/chat/completions", self._chat, methods=["POST"])])
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self._sock = sock
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.spec = f"openai:{self.url}#standin"  # the model spec that reaches it

    async def _chat(self, request: Request):
        body = await request.json()
        with self._lock:
            self.requests.append({"body": body, "headers": dict(request.headers)})
            self.times.append(time.monotonic())
            item = self.script.pop(0) if self.script else (500, {"error": {"message": "stand-in script is empty"}})
        if callable(item):
            return JSONResponse(item(body))
        if item[0] == "sleep":
            await asyncio.sleep(item[1])
            return JSONResponse(completion("too late"))
        return JSONResponse(item[1], status_code=item[0], headers=item[2] if len(item) > 2 else None)

    def __enter__(self) -> StandinModel:
        self._thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self._sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=5)
        self._sock.close()


def echo_json(obj: Any) -> Callable[[dict], dict]:
    """A scripted reply that answers with ``obj`` as the message content (for checks on what was sent)."""
    return lambda body: completion(json.dumps(obj))
