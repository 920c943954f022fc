"""`airgap openenv serve` through OpenEnv's own server and OpenEnv's own clients (the `openenv` extra, openenv-core).

One server process (the real CLI command, on a loopback port) for the module. Three sessions at once, each with
OpenEnv's `EnvClient` (the typed `AirgapEnv` client that OpenEnv's discovery names from the shipped manifest), play
three webqa tasks' oracle calls (the suite's data, not hand-written answers): reward 1.0 at submit from Airgap's
graders, each session in its own sandbox (the episode logs' headers say which), each log sealed and its chain intact.
A wrong answer gets 0.0; OpenEnv's untyped `GenericEnvClient`, reached through `AutoEnv.from_env`, plays too; a session
over the server's capacity is refused by OpenEnv's session manager; OpenEnv's own runtime validator (what `openenv
validate --url` runs) passes, and its discovery reads the manifest and finds the client, action and observation classes.
Nothing is mocked: Docker sandboxes, the offline web, the gateway, real sockets on 127.0.0.1.
"""
from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("openenv", reason="the openenv extra is not installed: pip install 'airgap[openenv]'")

SUITE = "webqa"
TASKS = ["webqa-001", "webqa-002", "webqa-003"]
MAX_SESSIONS = 3


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(default_snapshot, tmp_path_factory):
    """`airgap openenv serve --suite webqa` on a free loopback port; (base url, log folder)."""
    import requests

    logs = tmp_path_factory.mktemp("openenv-logs")
    port = _free_port()
    out = open(tmp_path_factory.mktemp("openenv-server") / "server.log", "w+")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "airgap.envs.cli", "openenv", "serve", "--suite", SUITE,
                             "--port", str(port), "--max-sessions", str(MAX_SESSIONS), "--log-dir", str(logs),
                             "--pool-size", "1"], stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "NO_PROXY": "*"})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    try:
        while True:
            try:
                if requests.get(f"{url}/health", timeout=2).json().get("status") == "healthy":
                    break
            except requests.RequestException:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                out.seek(0)
                pytest.fail(f"the server did not come up (exit {proc.poll()}):\n{out.read()[-4000:]}")
            time.sleep(0.5)
        yield url, logs
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        out.close()


def _oracle(task_id: str) -> list[dict]:
    from airgap.envs.tasks import load_suite

    return load_suite(SUITE).task(task_id).oracle


async def _play(url: str, task_id: str, calls: list[dict], all_reset) -> dict:
    """One OpenEnv session: reset to the task, wait until every session has its episode, the calls one step each, the
    state, then close."""
    from airgap.envs.bridges.openenv.client import AirgapAction, AirgapEnv

    async with AirgapEnv(base_url=url, message_timeout_s=240) as env:
        first = await env.reset(seed=0, task_id=task_id)
        await all_reset()  # from here on every session holds a live episode (and its sandbox) at once
        steps = []
        for call in calls:
            steps.append(await env.step(AirgapAction(tool=call["tool"], args=call["args"])))
        state = await env.state()
    return {"reset": first, "steps": steps, "state": state}


def test_concurrent_sessions_play_oracles_each_in_its_own_sandbox(server):
    from airgap.envs.logs import read_log, verify

    url, logs = server

    async def main():
        arrived, everyone = [0], asyncio.Event()

        async def all_reset():
            arrived[0] += 1
            if arrived[0] == len(TASKS):
                everyone.set()
            await asyncio.wait_for(everyone.wait(), timeout=600)

        return await asyncio.gather(*[_play(url, t, _oracle(t), all_reset) for t in TASKS])

    t0 = time.monotonic()
    results = asyncio.run(main())
    wall = time.monotonic() - t0
    for task_id, res in zip(TASKS, results, strict=True):
        reset, steps, state = res["reset"], res["steps"], res["state"]
        assert reset.done is False and reset.reward is None
        assert reset.observation.info["task_id"] == task_id and reset.observation.text.strip()
        assert {t["function"]["name"] for t in reset.observation.info["tools"]} >= {"search", "open", "submit"}
        assert all(s.reward == 0.0 and not s.done for s in steps[:-1])
        last = steps[-1]
        assert last.done is True and last.reward == 1.0 and last.observation.truncated is False
        assert last.observation.info["grades"] and last.observation.info["score"] == 1.0
        assert state.task_id == task_id and state.step_count == len(steps) and state.done and state.reward == 1.0
    # every session's episode went to its own log, sealed when the session closed, each in a sandbox of its own
    paths = sorted(logs.glob("*.jsonl"))
    headers = {}
    for p in paths:
        header, events = read_log(p)
        if header["task_id"] in TASKS:
            assert verify(p).status == "ok"
            assert [e for e in events if e["type"] == "reward"][-1]["reward"] == 1.0
            headers[header["task_id"]] = header
    assert sorted(headers) == TASKS
    # the episodes were live at once (every reset came before any step), so each held a sandbox of its own
    assert len({h["sandbox_id"] for h in headers.values()}) == len(TASKS)
    print(f"{len(TASKS)} concurrent OpenEnv sessions, {sum(len(r['steps']) for r in results)} steps: {wall:.1f}s")


def test_wrong_answer_scores_zero_and_generic_client_plays(server):
    from openenv import AutoEnv

    url, _ = server
    calls = _oracle("webqa-001")

    async def main():
        env = AutoEnv.from_env("airgap", base_url=url, skip_install=True, message_timeout_s=240)  # OpenEnv's GenericEnvClient
        async with env:
            r = await env.reset(task_id="webqa-001")
            assert r.observation["info"]["task_id"] == "webqa-001"
            bad = await env.step({"tool": "no_such_tool", "args": {}})
            assert not bad.done and bad.observation["info"]["error"] == "unknown_tool"
            return await env.step({"tool": "submit", "args": {"answer": "not the answer"}})

    assert type(AutoEnv.from_env("airgap", base_url=url, skip_install=True)).__name__ == "GenericEnvClient"
    end = asyncio.run(main())
    assert end.done is True and end.reward == 0.0
    assert end.observation["info"]["score"] < 1.0 and end.observation["info"]["grades"]
    assert calls[-1]["tool"] == "submit" and calls[-1]["args"]["answer"] != "not the answer"


def test_sessions_over_capacity_are_refused(server):
    from websockets.asyncio.client import connect as ws_connect

    from airgap.envs.bridges.openenv.client import AirgapEnv

    url, _ = server

    async def main():
        held = [AirgapEnv(base_url=url, message_timeout_s=240) for _ in range(MAX_SESSIONS)]
        for c in held:
            await c.connect()
            await c.state()  # the session exists once the server answers on it
        # one more: OpenEnv's server answers the connection itself with its capacity error, then closes it (read off
        # the socket: a client that sends first may find the connection closed already)
        try:
            async with ws_connect(url.replace("http://", "ws://") + "/ws", open_timeout=60) as extra:
                refusal = json.loads(await asyncio.wait_for(extra.recv(), timeout=60))
        finally:
            for c in held:
                await c.close()
        assert refusal["type"] == "error" and refusal["data"]["code"] == "CAPACITY_REACHED"
        assert refusal["data"]["max_sessions"] == MAX_SESSIONS
        # closed sessions free their slots
        again = AirgapEnv(base_url=url, message_timeout_s=60)
        for _ in range(50):
            try:
                async with again:
                    return await again.state()
            except RuntimeError:
                again = AirgapEnv(base_url=url, message_timeout_s=60)
                await asyncio.sleep(0.2)

    state = asyncio.run(main())
    assert state is not None and state.suite == SUITE and state.task_id is None


def test_openenv_validator_and_discovery_accept_the_server(server):
    import requests
    from openenv.auto._discovery import _create_env_info_from_package
    from openenv.cli._validation import validate_running_environment

    import airgap.envs.bridges.openenv.client as client
    from airgap.envs.bridges.openenv.server import airgap_version

    url, _ = server
    report = validate_running_environment(url, timeout_s=60)  # what `openenv validate --url URL` prints
    assert report["passed"], report
    assert report["mode"] == "simulation"
    meta = requests.get(f"{url}/metadata", timeout=30).json()
    assert meta["name"] == f"airgap-{SUITE}" and "tool-use tasks" in meta["description"]
    assert "submit" in meta["readme_content"] and meta["version"] == airgap_version()
    schema = requests.get(f"{url}/schema", timeout=30).json()
    assert set(schema["action"]["properties"]) >= {"tool", "args"}
    assert set(schema["observation"]["properties"]) >= {"text", "info", "reward", "done"}
    # OpenEnv's discovery reads the shipped manifest and resolves the classes it names
    info = _create_env_info_from_package("airgap", "airgap.envs.bridges.openenv", airgap_version())
    assert info.env_key == "airgap" and info.manifest["spec_version"] == 1
    assert info.get_client_class() is client.AirgapEnv
    assert info.get_action_class() is client.AirgapAction and info.get_observation_class() is client.AirgapObservation
    assert Path(client.__file__).with_name("openenv.yaml").is_file()
