"""A stock Inspect agent (`react` with Inspect's own `bash()` and `python()` tools) runs an Inspect task in an Airgap
sandbox, offline, driven by Inspect's `mockllm` model with scripted outputs (the one stand-in: no model can run here).

Everything else is real: the `inspect eval` command (which finds the provider through its entry point), its log read
back with `read_eval_log`, Docker, the gateway, the offline web. The eval runs with tiktoken's cache in an empty
folder and every HTTP(S) proxy pointed at a closed loopback port, so a download of o200k_base (which mockllm's token
counts need) would fail: the counts come from the file the bridge builds. The outside `curl` targets `outside.example` (a reserved name; nothing is reached).
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("inspect_ai", reason="the inspect extra is not installed: pip install 'airgap[inspect]'")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when we return: a connection there is refused at once


TASK = Path(__file__).with_name("react_task.py")


@pytest.fixture(scope="module")
def react_run(sandbox_image, default_snapshot, tmp_path_factory):
    """`inspect eval react_task.py --sandbox airgap` in a fresh process, offline: tiktoken's cache an empty folder and
    every HTTP(S) proxy a closed loopback port (a download of o200k_base would fail at once)."""
    from inspect_ai.log import read_eval_log

    cache = tmp_path_factory.mktemp("tiktoken-cache")
    log_dir = tmp_path_factory.mktemp("inspect-logs")
    dead = f"http://127.0.0.1:{_closed_port()}"
    env = {k: v for k, v in os.environ.items() if k.lower() != "no_proxy"}
    env.update(TIKTOKEN_CACHE_DIR=str(cache), HTTP_PROXY=dead, HTTPS_PROXY=dead, http_proxy=dead, https_proxy=dead)
    inspect = Path(sys.executable).with_name("inspect")
    t0 = time.monotonic()
    out = subprocess.run([str(inspect), "eval", TASK.name, "--sandbox", "airgap", "--log-dir", str(log_dir),
                          "--log-format", "json", "--display", "none"], env=env, cwd=TASK.parent, capture_output=True,
                         text=True, timeout=600)
    elapsed = time.monotonic() - t0
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    [path] = list(log_dir.glob("*.json"))
    print(f"inspect eval react_task.py --sandbox airgap: {elapsed:.1f} s")
    return read_eval_log(str(path), resolve_attachments=True), cache


def _tool_results(sample) -> list[tuple[str, str]]:
    return [(e.function, str(e.result)) for e in sample.events if e.event == "tool"]


def test_the_agent_runs_commands_in_the_airgap_sandbox_offline(react_run):
    log, cache = react_run
    assert log.status == "success", log.error
    assert log.eval.sandbox.type == "airgap"
    [sample] = log.samples
    results = _tool_results(sample)
    assert [f for f, _ in results] == ["bash", "bash", "python", "submit"]
    assert results[0][1].startswith("<title>3.11") and "Documentation" in results[0][1]  # the offline web answered
    assert "exit=6" in results[1][1]  # outside: the name does not resolve
    assert "/workspace 42" in results[2][1]
    assert sample.scores["includes"].value == "C"
    # the token counts mockllm made came from the file the bridge put in the (empty) cache, not from a download
    assert [p.name for p in cache.iterdir()] == ["fb374d419588a4632f3f557e76b4b70aebbca790"]
    assert sample.model_usage["mockllm/model"].input_tokens > 0


def test_the_outside_curl_shows_in_the_transcript_and_the_signed_log_is_linked(react_run):
    from airgap.envs.logs import verify
    from airgap.envs.logs.signing import check_log_signature, public_key_pem

    log, _ = react_run
    [sample] = log.samples
    infos = [e.data for e in sample.events if e.event == "info" and e.source == "airgap"]
    dns = [d for d in infos if d.get("type") == "sandbox.dns" and d.get("name", "").startswith("outside.example")]
    assert dns and all(d.get("known") is False for d in dns)
    web = [d for d in infos if d.get("type") == "sandbox.http" and d.get("host") == "docs.python.org"]
    assert web and web[0]["status"] == 200
    flags = [d for d in infos if d.get("type") == "flag"]
    assert any(f["name"] == "egress" and "outside.example" in f["message"] for f in flags)

    record = sample.store["airgap"]
    assert record["dns_lookups"] >= len(dns) and record["gateway_requests"] >= 1
    path = Path(record["log"])
    assert path.parent == Path(str(log.location) + ".airgap")  # beside the Inspect log
    assert verify(path).status == "ok"
    ok, why = check_log_signature(path, record["signature"]["head"], public_key_pem())
    assert ok, why
    # the episode log holds the same events: the agent's commands, the refused name, the flag
    events = [json.loads(line) for line in path.read_text().splitlines()]
    assert any(e["type"] == "sandbox.exec" and "outside.example" in json.dumps(e.get("cmd")) for e in events)
    assert any(e["type"] == "flag" and e["name"] == "egress" for e in events)
