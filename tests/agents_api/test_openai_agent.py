"""openai:URL#MODEL on the official client: bounded retries (logged), usage and cost per episode, server quirks.

The model is a stand-in (``standin_model.StandinModel``, a real HTTP server on loopback speaking the
chat-completions shape): no real model can run on the test machine.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from standin_model import StandinModel, call, completion

from airgap.envs.agents import ChatAgent, make_agent, make_model
from airgap.envs.agents.openai import ModelCallError
from airgap.envs.tools import parse_action

MINI = str(Path(__file__).resolve().parents[1] / "envs" / "fixtures" / "mini.yaml")
TOOLS = [{"type": "function", "function": {"name": "shell", "parameters": {"type": "object", "properties": {"command": {"type": "string"}}}}},
         {"type": "function", "function": {"name": "submit", "parameters": {"type": "object", "properties": {"answer": {"type": "string"}}}}}]
INFO = {"tools": TOOLS, "step": 0}


def test_retries_on_429_and_502_are_logged_and_the_episode_still_scores(sandbox_image, tmp_path, monkeypatch):
    import gymnasium as gym

    import airgap.envs  # noqa: F401 - registers the ids
    from airgap.envs.logs import read_log, verify
    from airgap.envs.runner import play

    monkeypatch.setenv("MY_TEST_KEY", "sk-test-123")
    script = [
        (429, {"error": {"message": "slow down"}}, {"retry-after": "0.3"}),
        (502, {"error": {"message": "bad gateway"}}),
        (200, completion(tool_calls=[call("shell", json.dumps({"command": "wc -l < /workspace/data.csv"}))], prompt_tokens=100, completion_tokens=20)),
        (200, completion(tool_calls=[call("submit", {"answer": "4"}, call_id=None)], prompt_tokens=150, completion_tokens=10)),
    ]
    with StandinModel(script) as server:
        agent = make_agent(f"openai:{server.url}#standin", key_env="MY_TEST_KEY", price_per_mtok="2,10")
        agent.model.client.backoff_s = 0.05
        env = gym.make("airgap/Suite-v0", suite=MINI, log_dir=str(tmp_path), image=sandbox_image, pool_size=1)
        try:
            obs, info = env.reset(seed=0, options={"task_id": "mini-shell"})
            agent.reset(obs, info)
            out = play(env, agent, obs, info)
            log_path = env.unwrapped.log_path
        finally:
            env.close()
    assert out.reward == 1.0 and out.steps == 2
    assert len(server.requests) == 4
    assert all(r["headers"]["authorization"] == "Bearer sk-test-123" for r in server.requests)
    assert server.times[1] - server.times[0] >= 0.3  # the server's Retry-After was honoured
    # the second call carries the first call's result, under the id the server gave it
    tool_msg = server.requests[3]["body"]["messages"][-1]
    assert tool_msg["role"] == "tool" and tool_msg["tool_call_id"] == "call_a" and tool_msg["content"].startswith("[exit code 0]")

    assert verify(log_path).status == "ok", verify(log_path)
    _, events = read_log(log_path)
    retries = [e for e in events if e["type"] == "model_retry"]
    assert [(e["step"], e["attempt"], e["status"]) for e in retries] == [(1, 1, 429), (1, 2, 502)]
    assert retries[0]["delay_s"] >= 0.3 and "slow down" in retries[0]["error"]
    models = [e for e in events if e["type"] == "model"]
    assert [(e["step"], e["retries"]) for e in models] == [(1, 2), (2, 0)]
    assert models[1]["output"]["tool_calls"][0]["function"]["arguments"] == '{"answer": "4"}'  # an object, sent back as a string
    assert agent.usage["prompt_tokens"] == 250 and agent.usage["completion_tokens"] == 30
    assert agent.usage["retries"] == 2 and agent.usage["calls"] == 2
    assert agent.usage["served_models"] == ["standin"]  # what each response said served it (the run's model pin)
    assert agent.usage["cost_usd"] == pytest.approx((250 * 2 + 30 * 10) / 1e6)
    assert agent.usage["latency_s"] >= server.times[2] - server.times[0]
    agent.reset("again", INFO)  # usage is per episode
    assert agent.usage["prompt_tokens"] == 0 and agent.usage["cost_usd"] == 0.0


@pytest.mark.parametrize("item, expected", [
    (call("shell", '{"command": "ls"}'), ("shell", {"command": "ls"})),             # OpenAI, vLLM: a JSON string
    (call("shell", {"command": "ls"}, call_id=None), ("shell", {"command": "ls"})),  # llama.cpp: an object, no id
    (call("shell", {"command": "ls"}, call_id="", typed=False), ("shell", {"command": "ls"})),  # empty id, no type
    (call("submit", None), ("submit", {})),                                          # arguments missing
])
def test_tool_call_quirks_of_compatible_servers(item, expected):
    script = [(200, completion(content=None, tool_calls=[item], usage=False)), (200, completion("thinking..."))]
    with StandinModel(script) as server:
        agent = ChatAgent(make_model(server.spec))
        agent.reset("task", INFO)
        action = agent.act("task", INFO)
        assert parse_action(action) == expected
        assert agent.last_call["usage"] == {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
        agent.act("[exit code 0]", {"step": 1})
    sent = server.requests[1]["body"]["messages"]
    assistant, tool = sent[-2], sent[-1]
    call_id = assistant["tool_calls"][0]["id"]
    assert call_id and tool["tool_call_id"] == call_id  # a made-up id ties the result to the call
    assert isinstance(assistant["tool_calls"][0]["function"]["arguments"], str)
    assert server.requests[0]["body"]["tools"] == TOOLS and server.requests[0]["body"]["model"] == "standin"


def test_text_only_replies_and_timeouts():
    # the first request outlives the client's timeout and is retried; the reply carries its call as text
    script = [("sleep", 3), (200, completion('<tool_call>{"name": "submit", "arguments": {"answer": "x"}}</tool_call>'))]
    with StandinModel(script) as server:
        agent = ChatAgent(make_model(f"openai:{server.url}/chat/completions#standin", timeout=0.5, backoff_s=0.01))
        agent.reset("task", INFO)
        assert parse_action(agent.act("task", INFO)) == ("submit", {"answer": "x"})
        assert agent.usage["retries"] == 1 and agent.last_call["retry_log"][0]["error"].startswith("APITimeoutError")


def test_retries_are_bounded_and_client_errors_are_not_retried(monkeypatch):
    with StandinModel([(503, {"error": {"message": "overloaded"}})] * 3) as server:
        agent = ChatAgent(make_model(server.spec, max_retries=2, backoff_s=0.01))
        agent.reset("task", INFO)
        with pytest.raises(ModelCallError, match="failed 3 times.*503"):
            agent.act("task", INFO)
        assert len(server.requests) == 3
    with StandinModel([(401, {"error": {"message": "bad key"}}), (200, completion("never"))]) as server:
        agent = ChatAgent(make_model(server.spec, backoff_s=0.01))
        agent.reset("task", INFO)
        with pytest.raises(ModelCallError, match="401.*--agent-key-env"):
            agent.act("task", INFO)
        assert len(server.requests) == 1
    monkeypatch.delenv("NOT_SET_KEY", raising=False)
    with pytest.raises(ValueError, match="NOT_SET_KEY is not set"):
        make_agent("openai:http://127.0.0.1:9/v1#m", key_env="NOT_SET_KEY")
    with pytest.raises(ValueError, match="IN,OUT"):
        make_agent("openai:http://127.0.0.1:9/v1#m", price_per_mtok="cheap")
    assert "cost_usd" not in make_agent("openai:http://127.0.0.1:9/v1#m").usage  # no prices, no cost
