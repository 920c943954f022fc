"""Shared fixtures for the episode-log tests: a synthetic but realistic episode, written for real."""
from __future__ import annotations

import pytest

from airgap.envs.logs import EpisodeLog

TOOLS = [
    {"type": "function", "function": {"name": "search", "description": "Search the offline web.",
                                      "parameters": {"type": "object", "properties": {"query": {"type": "string"}},
                                                     "required": ["query"]}}},
    {"type": "function", "function": {"name": "shell", "description": "Run a shell command.",
                                      "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}},
                                                     "required": ["cmd"]}}},
    {"type": "function", "function": {"name": "submit", "description": "Submit the answer.",
                                      "parameters": {"type": "object", "properties": {"answer": {"type": "string"}},
                                                     "required": ["answer"]}}},
]


def write_episode(path, *, steps: int = 3, big: str | None = None, redact=None, close: bool = True, **kw):
    """Write a synthetic episode shaped like the env's: reset, then per step
    model -> action -> validation -> sandbox events -> observation, a flag, a reward, end."""
    big = big if big is not None else "line of output\n" * 600  # ~8.4 KB: goes to a blob
    log = EpisodeLog(path, {"env_id": "airgap/Test-v0", "task_id": "t-001", "task_version": 1, "seed": 7,
                            "agent": "scripted"}, redact=redact, **kw)
    log.append("reset", observation="Find the answer. Secret key sk-ABCDEFGHIJKLMNOPQRSTUV.", info={"task_id": "t-001"},
               seed=7, options={"task_id": "t-001"}, tools=TOOLS)
    for k in range(1, steps + 1):
        tool, args = ("submit", {"answer": "42"}) if k == steps else ("shell", {"cmd": f"echo {k}"})
        call = {"id": f"call_{k}", "type": "function", "function": {"name": tool, "arguments": __import__("json").dumps(args)}}
        log.append("model", step=k, input=[{"role": "user", "content": "go"}],
                   output={"role": "assistant", "content": f"thinking {k}", "tool_calls": [call]},
                   usage={"prompt_tokens": 10 * k, "completion_tokens": 5}, latency_s=0.01)
        log.append("action", step=k, action={"tool": tool, "args": args}, tool=tool, args=args)
        log.append("validation", step=k, ok=True, error=None)
        if tool == "shell":
            log.sink({"type": "exec", "sandbox": "sb-1", "via": "init", "cmd": args["cmd"], "cwd": "/workspace", "exit_code": 0,
                      "stdout": big if k == 1 else f"{k}\n", "stderr": "", "duration_ms": 3.2})
            log.sink({"type": "http", "sandbox": "sb-1", "method": "GET", "url": "https://docs.python.org/3.11/",
                      "host": "docs.python.org", "source": "sandbox", "status": 200, "response_bytes": 1234})
        obs = big if k == 1 else f"output of step {k}"
        log.append("observation", step=k, observation=obs, reward=1.0 if k == steps else 0.0,
                   terminated=k == steps, truncated=False, info={"tool": tool, "ok": True})
    log.append("flag", step=1, name="egress_attempt", severity="warning", detail="tried example.com")
    log.append("reward", step=steps, reward=1.0, grader="exact")
    if close:
        log.close(reward=1.0, terminated=True, truncated=False, steps=steps, answer="42")
    return log


@pytest.fixture
def episode(tmp_path):
    p = tmp_path / "ep.jsonl"
    write_episode(p)
    return p


@pytest.fixture
def make_episode():
    """The episode writer itself, for tests that need variations (redaction, unclosed, sizes)."""
    return write_episode


@pytest.fixture
def tool_schemas():
    """The tool schemas the synthetic episodes were given."""
    return TOOLS
