"""One Model object behind a chat agent and a sandbox program's in-world endpoint at once: real sockets throughout.

The model is the stand-in server (``standin_model.StandinModel``, a real HTTP server on loopback) reached with the
official ``openai`` client; the program's endpoint (``ProgramBridge``) is served by uvicorn on loopback and called with
the official ``openai`` client too, as a program in the sandbox would. Each caller keeps its own usage and retries.
"""
from __future__ import annotations

import contextlib
import socket
import threading
import time

import pytest
import uvicorn
from standin_model import StandinModel, call, completion

from airgap.envs.agents import ChatAgent, make_agent, make_model
from airgap.envs.tools import parse_action

TOOLS = [{"type": "function", "function": {"name": "shell", "parameters": {"type": "object", "properties": {"command": {"type": "string"}}}}},
         {"type": "function", "function": {"name": "submit", "parameters": {"type": "object", "properties": {"answer": {"type": "string"}}}}}]
INFO = {"tools": TOOLS, "step": 0}


@contextlib.contextmanager
def served(app):
    """``app`` on a loopback port for the block; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()


def test_a_chat_agent_and_a_program_endpoint_take_the_same_model():
    import openai

    script = [(200, completion(tool_calls=[call("shell", {"command": "ls"})], prompt_tokens=5, completion_tokens=3)),
              (429, {"error": {"message": "busy"}}),
              (200, completion("done", prompt_tokens=7, completion_tokens=2))]
    with StandinModel(script) as server:
        model = make_model(server.spec, price_per_mtok="1,2", backoff_s=0.01)
        chat = ChatAgent(model)
        program = make_agent("sandbox:python3 /workspace/agent.py", model=model)
        assert chat.model is model and program.upstream is model

        chat.reset("list the files", INFO)
        assert parse_action(chat.act("list the files", INFO)) == ("shell", {"command": "ls"})

        with served(program.bridge.app) as base:
            client = openai.OpenAI(base_url=base + "/v1", api_key="airgap-in-world", max_retries=0)
            assert [m.id for m in client.models.list().data] == ["standin"]
            reply = client.chat.completions.create(model="anything", temperature=0.5,
                                                   messages=[{"role": "user", "content": "say done"}])
        assert reply.choices[0].message.content == "done" and reply.usage.prompt_tokens == 7

    first, _, third = (r["body"] for r in server.requests)
    assert first["model"] == third["model"] == "standin"  # the model's name, whatever the program asked for
    assert first["tools"] == TOOLS and first["tool_choice"] == "auto" and (first["temperature"], first["max_tokens"]) == (0.0, 512)
    assert third["messages"] == [{"role": "user", "content": "say done"}] and third["temperature"] == 0.5
    assert "tools" not in third and "max_tokens" not in third  # the program's request as it sent it
    # each caller accounts for its own calls, at the model's prices; the retry is the program's alone
    assert chat.usage["prompt_tokens"] == 5 and chat.usage["retries"] == 0 and chat.usage["calls"] == 1
    assert chat.usage["cost_usd"] == pytest.approx((5 * 1 + 3 * 2) / 1e6)
    assert program.usage["prompt_tokens"] == 7 and program.usage["retries"] == 1 and program.usage["calls"] == 1
    assert program.usage["cost_usd"] == pytest.approx((7 * 1 + 2 * 2) / 1e6)
    assert chat.last_call["model"] == "standin" and chat.last_call["retries"] == 0
