"""Bad input, cleanup after crashes, the pool and the CLI: each failure a clear error, no hang, no leak."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from sandbox_helpers import containers, wait_for

from airgap.sandbox import Sandbox, SandboxConfig, SandboxError, SandboxPool
from airgap.sandbox.cleanup import owner_alive
from airgap.sandbox.runtime.docker import DockerRuntime

pytestmark = pytest.mark.docker

AIRGAP = [sys.executable, "-m", "airgap.envs.cli"]


@pytest.fixture
def run_dir(tmp_path, monkeypatch):
    """A private host folder for sandbox sockets, so leak checks see only this test's sandboxes."""
    path = tmp_path / "run"
    path.mkdir()
    monkeypatch.setenv("AIRGAP_RUN_DIR", str(path))
    return path


def test_missing_image_is_a_clear_error_and_leaves_nothing(run_dir):
    with pytest.raises(SandboxError, match="airgap sandbox build"):
        Sandbox(SandboxConfig(image="airgap/no-such-image:test"))
    assert list(run_dir.iterdir()) == []
    assert containers(**{"airgap.owner_pid": str(os.getpid())}) == []


def test_dead_docker_daemon_is_a_clear_error(tmp_path, monkeypatch, run_dir):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/nobody-listens.sock")
    with pytest.raises(SandboxError, match="cannot reach the Docker engine"):
        Sandbox(SandboxConfig())
    assert list(run_dir.iterdir()) == []


def test_nonexistent_binary(sandbox_image):
    with Sandbox(SandboxConfig(image=sandbox_image)) as sb:
        r = sb.exec(["no-such-binary-xyz", "--flag"])
        assert r.exit_code == 127 and "cannot run 'no-such-binary-xyz'" in r.stderr
        r = sb.exec("no-such-binary-xyz")
        assert r.exit_code == 127 and "not found" in r.stderr


def test_container_killed_from_outside_mid_exec(sandbox_image, run_dir):
    sb = Sandbox(SandboxConfig(image=sandbox_image))
    outcome: dict = {}

    def run():
        try:
            outcome["result"] = sb.exec("sleep 60", timeout=120)
        except SandboxError as e:
            outcome["error"] = e

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.5)
    DockerRuntime().client.containers.get(sb.container_id).kill()
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert "died during exec" in str(outcome.get("error")), outcome
    with pytest.raises(SandboxError):
        sb.exec("true")
    sb.close()
    assert containers(**{"airgap.sandbox": sb.id}) == []
    assert list(run_dir.iterdir()) == []


HARNESS = textwrap.dedent("""
    import signal, sys, time
    # SIGINT as a terminal's shell gives it: a parent that ignores SIGINT (the full suite's process, once some library
    # set it so) passes the ignore on to its children, and then SIGINT would not stop this harness at all
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from airgap.sandbox import Sandbox, SandboxConfig
    boxes = [Sandbox(SandboxConfig(image=sys.argv[1])) for _ in range(3)]
    print(" ".join(sb.id for sb in boxes), flush=True)
    time.sleep(600)
""")


def _start_harness(image: str) -> tuple[subprocess.Popen, list[str]]:
    proc = subprocess.Popen([sys.executable, "-c", HARNESS, image], stdout=subprocess.PIPE, text=True)
    ids = proc.stdout.readline().split()
    assert len(ids) == 3, "the harness did not start its sandboxes"
    return proc, ids


def test_sigkilled_harness_is_collected_by_gc(sandbox_image):
    proc, ids = _start_harness(sandbox_image)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    left = [c for c in containers(**{"airgap.owner_pid": str(proc.pid)})]
    assert sorted(c["labels"]["airgap.sandbox"] for c in left) == sorted(ids)  # nothing in-process could run
    assert not any(owner_alive(c["labels"]) for c in left)
    out = subprocess.run([*AIRGAP, "sandbox", "gc"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert containers(**{"airgap.owner_pid": str(proc.pid)}) == []
    dead = [r for r in DockerRuntime().list() if r["labels"].get("airgap.owner_pid") and not owner_alive(r["labels"])]
    assert dead == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signals_clean_up_in_process(sandbox_image, signum):
    proc, ids = _start_harness(sandbox_image)
    proc.send_signal(signum)
    # SIGTERM: our handler closes the sandboxes, then chains to the default action (death by SIGTERM).
    # SIGINT: Python raises KeyboardInterrupt; atexit closes them.
    assert proc.wait(timeout=120) != 0
    assert containers(**{"airgap.owner_pid": str(proc.pid)}) == []
    if signum == signal.SIGTERM:
        assert proc.returncode == -signal.SIGTERM


def test_pool_hands_out_fresh_sandboxes_and_survives_a_death(sandbox_image):
    def live_ids() -> set[str]:
        return {c["labels"]["airgap.sandbox"] for c in containers(**{"airgap.owner_pid": str(os.getpid())})
                if c["status"] == "running"}

    # recycle=False: the behaviour --fresh-containers keeps (test_sandbox_recycle.py covers recycling)
    with SandboxPool(size=2, config=SandboxConfig(image=sandbox_image, recycle=False)) as pool:
        first = pool.acquire()
        first.write_file("/workspace/dirty", b"x")
        pool.release(first)
        assert wait_for(lambda: containers(**{"airgap.sandbox": first.id}) == [])  # destroyed, never reused
        # Two warm ones again; kill one of them from outside. acquire must still hand out a live, clean one.
        assert wait_for(lambda: len(live_ids()) == 2)
        victim = sorted(live_ids())[0]
        DockerRuntime().client.containers.get(containers(**{"airgap.sandbox": victim})[0]["id"]).kill()
        second = pool.acquire()
        assert second.id not in (first.id, victim)
        assert second.exec("ls /workspace").stdout == ""
        pool.release(second)
    assert wait_for(lambda: containers(**{"airgap.owner_pid": str(os.getpid())}) == [])


def test_cli_run_json(sandbox_image, tmp_path):
    log = tmp_path / "ep.jsonl"
    out = subprocess.run([*AIRGAP, "sandbox", "run", "--json", "--timeout", "5", "--memory", "256m", "--log", str(log),
                          "--", "python3", "-c", "print(1)"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["exit_code"] == 0 and result["stdout"] == "1\n"
    assert {"exit_code", "stdout", "stderr", "duration_ms", "timed_out", "oom_killed", "truncated"} <= set(result)
    types = [json.loads(line)["type"] for line in log.read_text().splitlines()]
    assert types == ["sandbox_start", "exec", "sandbox_stop"]


def test_cli_run_passes_exit_code_and_ls_works(sandbox_image):
    out = subprocess.run([*AIRGAP, "sandbox", "run", "--json", "--", "sh", "-c", "exit 3"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 3 and json.loads(out.stdout)["exit_code"] == 3
    ls = subprocess.run([*AIRGAP, "sandbox", "ls"], capture_output=True, text=True, timeout=120)
    assert ls.returncode == 0 and "airgap objects" in ls.stdout


def test_cli_missing_image_message(sandbox_image):
    out = subprocess.run([*AIRGAP, "sandbox", "run", "--image", "airgap/no-such-image:test", "--", "true"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "airgap sandbox build" in out.stderr
