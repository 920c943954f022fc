"""The ray executor on a local Ray (``ray.init`` with two sandbox slots, so two worker processes): results, resume, logs
shipped back as from another node, and a worker SIGKILLed mid-episode whose containers `airgap sandbox gc` removes."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from airgap.envs.logs import verify
from airgap.envs.runner import EvalConfig, read_results, run_evaluation

ray = pytest.importorskip("ray", reason="the ray executor's tests need Ray: pip install -e '.[test]'")

MINI = str(Path(__file__).resolve().parents[1] / "envs" / "fixtures" / "mini.yaml")

SLOW = """\
suite: slow
version: 1
world: {snapshot: none, tools: [shell, submit], sandbox: {memory: 256m}}
budget: {max_steps: 4, tool_timeout: 60, total_tool_seconds: 120}
tasks:
  - id: slow-1
    kind: shell
    instruction: "Wait, then answer done."
    graders: [{type: normalized_match, expected: [done]}]
    oracle:
      - {tool: shell, args: {command: "sleep %(sleep)s; echo done"}}
      - {tool: submit, args: {answer: done}}
"""


def test_cli_starts_a_local_ray_of_its_own_when_none_runs(tmp_path, sandbox_image):
    """First in this module, before the shared local Ray exists: `--executor ray` with no address starts one and stops it."""
    out = tmp_path / "cli"
    done = subprocess.run([sys.executable, "-m", "airgap.envs.cli", "evaluate", "--suite", MINI, "--task", "mini-shell",
                           "--trials", "2", "--executor", "ray", "--workers", "2", "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = read_results(out)
    assert sorted(r["trial"] for r in rows) == [0, 1] and all(r["reward"] == 1.0 for r in rows)
    assert not _actor_pids()  # the actors and the Ray it started are gone


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray with two CPUs and two `sandbox` slots: the executor finds it running and uses it."""
    ray.init(num_cpus=2, resources={"sandbox": 2}, include_dashboard=False, log_to_driver=False,
             object_store_memory=100 * 1024 * 1024)  # rows are small; keep the shared-memory store small
    yield
    ray.shutdown()


def test_episodes_run_as_ray_actors_stream_back_and_resume(tmp_path, sandbox_image, local_ray):
    out = tmp_path / "ray"
    cfg = dict(suite=MINI, agent="oracle", out=str(out), workers=2, tasks=["mini-shell", "mini-code", "mini-file"],
               trials=2, executor="ray")
    rows = run_evaluation(EvalConfig(**cfg))
    assert len(rows) == 6 and all(r["reward"] == 1.0 for r in rows)
    assert all(verify(out / r["log"]).status == "ok" and r["signature"] for r in rows)
    assert len({r["log"] for r in rows}) == 6
    lines = read_results(out)
    assert len(lines) == 6
    again = run_evaluation(EvalConfig(**cfg))  # resume: nothing left to run
    assert read_results(out) == lines and len(again) == 6


def test_logs_are_shipped_back_when_the_worker_cannot_write_the_run_folder(tmp_path, sandbox_image, local_ray):
    """As on another node: the actor writes to a folder of its own and the driver lands the bytes in logs/."""
    out = tmp_path / "shipped"
    rows = run_evaluation(EvalConfig(suite=MINI, agent="oracle", out=str(out), workers=2, tasks=["mini-shell", "mini-code"],
                                     executor="ray", executor_options={"ship_logs": True}))
    assert all(r["reward"] == 1.0 for r in rows)
    for r in rows:
        assert r["log"].startswith("logs/") and verify(out / r["log"]).status == "ok" and r["signature"]


def _actor_pids() -> set[str]:
    """Owners of live containers that are Ray actors of the executor (Ray titles them ``ray::EpisodeActor...``);
    other tests on this machine may have containers of their own."""
    from airgap.sandbox.cleanup import list_objects

    pids = set()
    for o in list_objects():
        if o["kind"] == "container" and o["owner_alive"]:
            try:
                title = Path(f"/proc/{o['owner_pid']}/cmdline").read_bytes()
            except OSError:
                continue
            if title.startswith(b"ray::EpisodeActor"):
                pids.add(o["owner_pid"])
    return pids


def test_a_worker_killed_mid_episode_is_an_error_row_its_sandboxes_are_gc_ed_and_resume_finishes(tmp_path, sandbox_image, local_ray):
    from airgap.sandbox.cleanup import gc, list_objects

    suite = tmp_path / "slow.yaml"
    suite.write_text(SLOW % {"sleep": 30})
    out = tmp_path / "killed"
    cfg = dict(suite=str(suite), agent="oracle", out=str(out), workers=2, executor="ray")
    result: dict = {}
    runner = threading.Thread(target=lambda: result.update(rows=run_evaluation(EvalConfig(**cfg))), daemon=True)
    runner.start()
    victim, deadline = None, time.monotonic() + 180
    while time.monotonic() < deadline and victim is None and runner.is_alive():  # the episode is under way once its log has its first action
        logs = list((out / "logs").glob("*.jsonl")) if (out / "logs").is_dir() else []
        if logs and '"type": "action"' in logs[0].read_text().replace('"type":"action"', '"type": "action"'):
            owners = _actor_pids()
            if owners:
                [victim] = owners  # one job, so one actor
        time.sleep(0.3)
    assert victim, "the episode never started"
    os.kill(int(victim), signal.SIGKILL)  # no handler runs: the actor's sandboxes stay behind
    runner.join(timeout=120)
    assert not runner.is_alive()
    [row] = read_results(out)
    assert row["task_id"] == "slow-1" and "Ray worker lost mid-episode" in row["error"]
    assert result["rows"] == []
    left = [o for o in list_objects() if o["owner_pid"] == victim]
    assert left and not any(o["owner_alive"] for o in left)  # nothing ran in the killed worker to remove them
    # what the dead worker left is labelled with its pid; gc (what `airgap sandbox gc` runs) removes exactly that
    removed = gc()
    assert {o["id"] for o in left} <= {o["id"] for o in removed}
    assert not [o for o in list_objects() if o["owner_pid"] == victim]
    # resume: the failed episode runs again and finishes
    suite.write_text(SLOW % {"sleep": 0})
    rows = run_evaluation(EvalConfig(**cfg))
    assert [(r["task_id"], r["reward"]) for r in rows] == [("slow-1", 1.0)]
