"""Containment: whatever the agent runs, the limits hold, the harness hears about it, the sandbox survives."""
from __future__ import annotations

import hashlib

import pytest

from airgap.sandbox import Sandbox, SandboxConfig

pytestmark = pytest.mark.docker


@pytest.fixture
def small_sandbox(sandbox_image):
    with Sandbox(SandboxConfig(image=sandbox_image, memory="128m", pids=64, workspace_size="16m")) as sb:
        yield sb


def test_fork_bomb_hits_pids_limit(small_sandbox):
    r = small_sandbox.exec("f() { f | f & }; f; sleep 3", timeout=5)
    assert "fork" in r.stderr.lower() or "resource temporarily unavailable" in r.stderr.lower() or r.timed_out
    assert small_sandbox.alive()
    small_sandbox.kill_all()  # the bomb's leftovers may outlive the command; this clears them
    assert small_sandbox.exec("echo still here").stdout == "still here\n"


def test_memory_balloon_is_oom_killed_and_reported(small_sandbox):
    r = small_sandbox.exec(["python3", "-c", "b = bytearray(512 * 2**20); print('survived')"], timeout=60)
    assert r.oom_killed and r.exit_code == 137 and "survived" not in r.stdout
    assert small_sandbox.alive()
    assert not small_sandbox.exec("true").oom_killed  # reported once, for the command that caused it


def test_filling_workspace_gives_enospc(small_sandbox):
    r = small_sandbox.exec("dd if=/dev/zero of=/workspace/big bs=1M count=64")
    assert r.exit_code != 0 and "No space left on device" in r.stderr
    assert small_sandbox.exec("rm /workspace/big && echo ok").stdout == "ok\n"


def test_endless_loop_timeout_kills_whole_group(small_sandbox):
    r = small_sandbox.exec("sleep 1000 & sleep 1000 & while :; do :; done", timeout=2)
    assert r.timed_out and r.exit_code == 137
    left = small_sandbox.exec("cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' ' | grep -c 'slee[p] 1000'")
    assert left.stdout.strip() == "0"


def test_big_output_is_capped_but_fully_hashed(small_sandbox):
    size = 50 * 2**20
    r = small_sandbox.exec(f"head -c {size} /dev/zero | tr '\\0' a", max_output=1 << 20, timeout=120)
    assert r.exit_code == 0 and r.truncated
    assert r.stdout_bytes == size
    assert r.stdout_sha256 == hashlib.sha256(b"a" * size).hexdigest()
    assert r.stdout.startswith("a" * (1 << 20)) and "[airgap: output truncated" in r.stdout
    assert len(r.stdout) < (1 << 20) + 300


def test_stdin_cwd_env(small_sandbox):
    small_sandbox.write_file("/workspace/sub/in.txt", "from a file\n")
    r = small_sandbox.exec("cat in.txt; cat; echo $GREETING", cwd="/workspace/sub", env={"GREETING": "hello"},
                           stdin=b"from stdin\n")
    assert r.stdout == "from a file\nfrom stdin\nhello\n"
    assert small_sandbox.read_file("/workspace/sub/in.txt") == b"from a file\n"
    owner = small_sandbox.exec("stat -c %u:%g /workspace/sub/in.txt").stdout.strip()
    assert owner == "1000:1000"


def test_file_ops_have_agent_permissions(small_sandbox):
    with pytest.raises(PermissionError):  # writable mount, but the init's folder: root only
        small_sandbox.write_file("/run/airgap/ctl/evil", b"x")
    with pytest.raises(OSError, match="Read-only file system"):
        small_sandbox.write_file("/etc/passwd", b"root::0:0::/:/bin/sh\n")
    with pytest.raises(FileNotFoundError):
        small_sandbox.read_file("/workspace/does-not-exist")
    with pytest.raises(PermissionError):
        small_sandbox.read_file("/etc/shadow")


def test_background_jobs_do_not_hold_up_exec(small_sandbox):
    # The command has exited; its background job still holds stdout. Exec must return anyway.
    r = small_sandbox.exec("sleep 60 & echo started", timeout=30)
    assert not r.timed_out and r.exit_code == 0 and r.stdout == "started\n"
    # A daemon in its own session survives a timeout kill of the group, yet cannot stall the exec.
    r = small_sandbox.exec("setsid sleep 60 & while :; do :; done", timeout=2)
    assert r.timed_out
    assert small_sandbox.kill_all() >= 2
    assert small_sandbox.exec("cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' ' | grep -c 'slee[p] 60'").stdout == "0\n"


def test_docker_exec_fallback(small_sandbox):
    r = small_sandbox.exec_docker("id -u; echo hi")
    assert r.exit_code == 0 and r.stdout == "1000\nhi\n"
    r = small_sandbox.exec_docker(["sleep", "30"], timeout=1)
    assert r.timed_out and r.exit_code == 137
