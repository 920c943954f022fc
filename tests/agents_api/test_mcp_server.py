"""`airgap mcp`: an episode's tools over MCP stdio, driven by the mcp package's own client; every call logged and graded.

Everything is real: the server is the `airgap mcp` command in a subprocess, the client is the official
SDK's stdio client, the tools run in a real sandbox, and the log is the env's own.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import anyio

MINI = str(Path(__file__).resolve().parents[1] / "envs" / "fixtures" / "mini.yaml")


async def _session(args: list[str], body):
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(command=sys.executable, args=["-m", "airgap.envs.cli", "mcp", *args],
                                   env={**os.environ})
    with open(os.devnull, "w") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write):
            async with ClientSession(read, write) as session:
                init = await session.initialize()
                return await body(session, init)


def test_mcp_client_lists_the_task_tools_calls_them_and_the_episode_is_logged_and_graded(sandbox_image, tmp_path):
    from airgap.envs.logs import read_log, verify

    async def body(session, init):
        names = [t.name for t in (await session.list_tools()).tools]
        prompt = await session.get_prompt("task")
        bad = await session.call_tool("reset", {})  # reset/step are not tools: an error result, the episode goes on
        wc = await session.call_tool("shell", {"command": "wc -l < /workspace/data.csv"})
        done = await session.call_tool("submit", {"answer": wc.content[0].text.splitlines()[1].strip()})
        after = await session.call_tool("shell", {"command": "true"})
        return init, names, prompt, bad, wc, done, after

    result_file = tmp_path / "result.json"
    init, names, prompt, bad, wc, done, after = anyio.run(_session, [
        "--suite", MINI, "--task", "mini-shell", "--seed", "3", "--log-dir", str(tmp_path / "logs"),
        "--image", sandbox_image, "--result", str(result_file)], body)

    assert names == ["shell", "python", "read_file", "write_file", "submit"]
    assert "reset" not in names and "step" not in names
    assert "How many lines" in init.instructions and "How many lines" in prompt.messages[0].content.text
    assert bad.is_error and "reset and step are not tools" in bad.content[0].text
    assert not wc.is_error and wc.content[0].text.startswith("[exit code 0]")
    assert done.structured_content["done"] and done.structured_content["reward"] == 1.0
    assert after.is_error and "episode is over" in after.content[0].text

    row = json.loads(result_file.read_text())
    assert row["reward"] == 1.0 and row["steps"] == 3 and row["answer"] == "4" and row["seed"] == 3
    log = Path(row["log"])
    assert verify(log).status == "ok"
    header, events = read_log(log)
    assert header["agent"] == "mcp" and header["task_id"] == "mini-shell" and header["seed"] == 3
    assert [e["tool"] for e in events if e["type"] == "action"] == ["reset", "shell", "submit"]
    assert [e["reward"] for e in events if e["type"] == "reward"] == [1.0]
    assert any(e["type"] == "sandbox.exec" and e.get("cmd") == "wc -l < /workspace/data.csv" for e in events)


def test_an_unknown_task_is_a_clear_error(tmp_path):
    import subprocess

    r = subprocess.run([sys.executable, "-m", "airgap.envs.cli", "mcp", "--suite", MINI, "--task", "no-such-task",
                        "--log-dir", str(tmp_path)], input="", capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "no-such-task" in r.stderr and r.stdout == ""
