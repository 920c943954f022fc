"""`--agent hf:PATH --executor ray`: one engine actor per node serves every episode actor of that node (a local Ray with
two sandbox slots, so two episode actors; a tiny random model; real sandboxes). Its death mid-evaluation gives the
node's episodes EngineGone rows (no hang), a resume finishes them through a fresh engine actor, and when the evaluation
ends the engine actor's process and its socket are gone."""
from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest
from tiny_model import make_tiny_model

from airgap.envs.logs import read_log
from airgap.envs.runner import EvalConfig, read_results, run_evaluation

ray = pytest.importorskip("ray", reason="the ray executor's tests need Ray: pip install -e '.[test]'")

SUITE = """suite: ray-engine
version: 1
world: {snapshot: none, tools: [shell, submit], sandbox: {memory: 256m}}
budget: {max_steps: 2, tool_timeout: 10, total_tool_seconds: 30}
tasks:
""" + "".join(f"  - id: t{k}\n    kind: qa\n    instruction: \"Say {k}.\"\n"
              f"    graders: [{{type: normalized_match, expected: ['{k}']}}]\n"
              f"    oracle: [{{tool: submit, args: {{answer: '{k}'}}}}]\n" for k in range(6))


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray, one node with two CPUs and two `sandbox` slots: the executor finds it running and uses it."""
    ray.init(num_cpus=2, resources={"sandbox": 2}, include_dashboard=False, log_to_driver=False,
             object_store_memory=100 * 1024 * 1024)
    yield
    ray.shutdown()


def _engines(out: Path, rows: list[dict]) -> set[tuple]:
    """(id, pid, shared) of the engine named by every `model` event of these rows' episodes."""
    seen = set()
    for r in rows:
        for e in read_log(out / r["log"])[1]:
            if e.get("type") == "model":
                seen.add((e["engine"]["id"], e["engine"]["pid"], e["engine"]["shared"]))
    return seen


def _first_engine_pid(out: Path) -> int | None:
    """The engine pid in the first `model` event written by any episode under way (logs are appended as it plays)."""
    for log in sorted((out / "logs").glob("*.jsonl")) if (out / "logs").is_dir() else []:
        for line in log.read_text(encoding="utf-8").splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("type") == "model" and isinstance(event.get("engine"), dict):
                return int(event["engine"]["pid"])
    return None


def _gone(pid: int, timeout: float = 20.0) -> bool:
    """True once the process is gone and no abstract engine socket is listed any more (polled: ray.kill is asynchronous)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sockets = Path("/proc/net/unix").read_text()
        if not Path(f"/proc/{pid}").exists() and "@airgap-model-engine-" not in sockets:
            return True
        time.sleep(0.2)
    return False


def test_hf_on_ray_one_engine_actor_per_node_its_death_is_an_error_row_and_it_ends_with_the_evaluation(tmp_path, sandbox_image,
                                                                                                         local_ray):
    tiny = make_tiny_model(tmp_path / "tiny", "hermes", context_length=2048)
    suite = tmp_path / "suite.yaml"
    suite.write_text(SUITE)
    out = tmp_path / "run"
    cfg = dict(suite=str(suite), agent=f"hf:{tiny}", out=str(out), workers=2, executor="ray", env_kwargs={"pool_size": 1})

    # 1. the engine actor is SIGKILLed once the first episode has had a reply from it
    failed: list[BaseException] = []

    def evaluate() -> None:
        try:
            run_evaluation(EvalConfig(**cfg))
        except BaseException as e:  # noqa: BLE001 - reported by the assertion below
            failed.append(e)

    runner = threading.Thread(target=evaluate, daemon=True)
    runner.start()
    victim, deadline = None, time.monotonic() + 180
    while victim is None and time.monotonic() < deadline and runner.is_alive():
        victim = _first_engine_pid(out)
        time.sleep(0.2)
    assert victim and victim != os.getpid(), f"no episode got a reply from the engine actor {failed}"
    assert Path(f"/proc/{victim}/cmdline").read_bytes().startswith(b"ray::EngineActor")  # an actor of its own, not a worker
    os.kill(victim, signal.SIGKILL)
    runner.join(timeout=180)
    assert not runner.is_alive(), "the evaluation hung after its engine actor died"
    assert not failed, failed
    lines = read_results(out)
    errors = [r for r in lines if "error" in r]
    assert errors, "every episode finished before the engine actor was killed"
    for r in errors:  # the node's episodes are told who owned the engine, and that resuming is the way on
        assert r["error"].startswith("EngineGone:") and "engine actor on Ray node" in r["error"], r["error"]
        assert "Run the evaluation again" in r["error"]
    before = [r for r in lines if "error" not in r]
    assert all(e[1] == victim for e in _engines(out, before))

    # 2. resume: a fresh engine actor on the node serves both episode actors; the model is in memory once
    rows = run_evaluation(EvalConfig(**cfg))
    assert len(rows) == 6 and not [r for r in rows if "error" in r]
    redone = [r for r in rows if r not in before]
    assert len(redone) == len(errors)
    engines = _engines(out, redone)
    assert len(engines) == 1, engines  # every model call of every re-run episode: one engine, loaded once
    (engine_id, pid, shared), = engines
    assert shared is True and pid not in (victim, os.getpid())

    # 3. the evaluation is over: the engine actor's process and its socket are gone
    assert _gone(pid), f"engine actor pid {pid} or its socket outlived the evaluation"
