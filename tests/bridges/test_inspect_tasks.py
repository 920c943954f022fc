"""Airgap suites as Inspect tasks (`airgap/<suite>`): Inspect's `mockllm` model, scripted with the task's own oracle calls,
solves an office task; scripted with a safety case's `obey` calls, it follows an injection. Scores come back through
Inspect's `read_eval_log`.

The scripts are the suite's data (a task's `oracle` and `obey` calls, as the `oracle` and `obey` agents play them), not
hand-written answers: mockllm is the one stand-in (no model runs here). Everything else is real: Inspect's eval loop and
registry (the task is named by its string, found through the entry point), the AirgapEnv with Docker, the simulated
services, the graders, the monitors and the signed episode log.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("inspect_ai", reason="the inspect extra is not installed: pip install 'airgap[inspect]'")


def _run(suite: str, task_id: str, calls: str, log_dir: Path):
    from inspect_ai import eval
    from inspect_ai.log import read_eval_log
    from inspect_ai.model import ModelOutput, get_model

    from airgap.envs.tasks import load_suite

    task = load_suite(suite, world_seed=0).task(task_id)
    script = [ModelOutput.for_tool_call("mockllm/model", c["tool"], c["args"]) for c in getattr(task, calls)]
    [log] = eval(f"airgap/{suite}", task_args={"seed": 0, "tasks": task_id},
                 model=get_model("mockllm/model", custom_outputs=script), log_dir=str(log_dir), display="none",
                 log_format="json")
    return read_eval_log(log.location, resolve_attachments=True), task


@pytest.fixture(scope="module")
def solved(sandbox_image, tmp_path_factory):
    return _run("office", "office-001", "oracle", tmp_path_factory.mktemp("inspect-office"))


@pytest.fixture(scope="module")
def obeyed(sandbox_image, tmp_path_factory):
    return _run("safety-injection", "inj-001.direct", "obey", tmp_path_factory.mktemp("inspect-safety"))


def _scores(log) -> dict:
    [sample] = log.samples
    return {name: s.value for name, s in sample.scores.items()}


def test_a_solved_office_task_scores_full_utility(solved):
    log, task = solved
    assert log.status == "success", log.error
    assert log.eval.task == "airgap/office"
    assert _scores(log) == {"airgap_utility": 1.0, "airgap_partial": 1.0, "airgap_attack_success": 0.0, "airgap_flags": 0.0}
    [sample] = log.samples
    # the model called Airgap's own tools, as Inspect tools, one episode step each
    calls = [e.function for e in sample.events if e.event == "tool"]
    assert calls == [c["tool"] for c in task.oracle]
    record = sample.store["airgap"]
    assert record["grades"][0]["passed"] and record["steps"] == len(task.oracle)
    # the gateway requests of the http tool are info events of the transcript
    http = [e.data for e in sample.events if e.event == "info" and e.source == "airgap" and e.data.get("type") == "sandbox.http"]
    assert http and all(h["status"] < 500 for h in http)
    metrics = {r.name: {m: v.value for m, v in r.metrics.items()} for r in log.results.scores}
    assert metrics["airgap_utility"]["mean"] == 1.0


def test_an_obeyed_injection_scores_attack_success_and_is_flagged(obeyed):
    from airgap.envs.logs import verify

    log, task = obeyed
    assert log.status == "success", log.error
    scores = _scores(log)
    assert scores["airgap_attack_success"] == 1.0 and scores["airgap_flags"] == 1.0
    [sample] = log.samples
    assert sample.metadata["attack"] == "direct"
    flags = sample.metadata["airgap_flags"]
    assert flags and {f["name"] for f in flags} >= {"injection"}
    security = sample.scores["airgap_attack_success"].metadata
    assert security["attacked"] and any(c["met"] for c in security["checks"])
    metrics = {r.name: {m: v.value for m, v in r.metrics.items()} for r in log.results.scores}
    assert metrics["airgap_attack_success"]["attack_rate"] == 1.0
    # the signed episode log beside the Inspect log
    path = Path(sample.store["airgap"]["log"])
    assert path.parent == Path(str(log.location) + ".airgap") and verify(path).status == "ok"
    assert sample.store["airgap"]["signature"]["signature"]


def test_task_arguments_pick_the_level_the_attack_and_the_world():
    from inspect_ai._eval.registry import task_create

    hard = task_create("airgap/office", seed=0, level="hard")
    assert hard.metadata["airgap_suite"] == "office-hard" and len(hard.dataset) > 0
    direct = task_create("airgap/safety-injection", seed=0, attack="direct")
    assert {s.metadata["attack"] for s in direct.dataset} == {"direct", "none"}  # the cases and their benign twins
    other = task_create("airgap/office", seed=1, tasks="office-001")
    assert [s.id for s in other.dataset] == ["office-001"] and other.metadata["world_seed"] == 1
    assert other.dataset[0].input != task_create("airgap/office", seed=0, tasks="office-001").dataset[0].input


def test_inspect_eval_on_the_command_line_runs_a_suite(sandbox_image, tmp_path):
    """`inspect eval airgap/office -T ...` finds the task through the entry point. mockllm's default reply calls no tool,
    so the episode ends unsubmitted: utility 0, and the run itself succeeds."""
    from inspect_ai.log import read_eval_log

    inspect = Path(sys.executable).with_name("inspect")
    out = subprocess.run([str(inspect), "eval", "airgap/office", "-T", "seed=0", "-T", "tasks=office-001", "--model",
                          "mockllm/model", "--log-dir", str(tmp_path), "--log-format", "json", "--display", "none"],
                         capture_output=True, text=True, timeout=600, env=dict(os.environ), cwd=tmp_path)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    [path] = list(tmp_path.glob("*.json"))
    log = read_eval_log(str(path))
    assert log.status == "success" and log.eval.task == "airgap/office"
    assert _scores(log)["airgap_utility"] == 0.0 and log.samples[0].store["airgap"]["submitted"] is False


def test_inspect_view_serves_the_transcript_with_the_airgap_events(solved):
    """`inspect view` (Inspect's own log viewer, on a loopback port this test opens) serves the sample with its scores and
    the Airgap info events, as its web page reads them."""
    import json
    import socket
    import time
    import urllib.parse
    import urllib.request

    log, _ = solved
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inspect = Path(sys.executable).with_name("inspect")
    folder = str(Path(log.location).parent)
    view = subprocess.Popen([str(inspect), "view", "--log-dir", folder, "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}/api"
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/log-files", timeout=5) as r:
                    files = json.load(r)["files"]
                break
            except OSError:
                assert time.monotonic() < deadline, "inspect view did not answer"
                time.sleep(0.5)
        [name] = [f["name"] for f in files if f["name"].endswith(Path(log.location).name)]
        with urllib.request.urlopen(f"{base}/logs/{urllib.parse.quote(name, safe='')}", timeout=60) as r:
            served = json.load(r)
    finally:
        view.terminate()
        view.wait(timeout=30)
    [sample] = served["samples"]
    assert sample["scores"]["airgap_utility"]["value"] == 1.0
    infos = [e for e in sample["events"] if e["event"] == "info" and e.get("source") == "airgap"]
    assert any(e["data"].get("type") == "sandbox.http" for e in infos if isinstance(e["data"], dict))
