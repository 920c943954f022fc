"""Container starts and removals on a local engine are serialised across processes (Docker 20.10 deadlock guard)."""
from __future__ import annotations

import fcntl
import subprocess
import sys
import time

from airgap.sandbox.runtime.docker import engine_lock, lock_path

HOLDER = """
import sys, time
from airgap.sandbox.runtime.docker import engine_lock
with engine_lock("unix:///var/run/docker.sock"):
    print("held", flush=True)
    sys.stdin.readline()
"""


def _try_lock() -> bool:
    with open(lock_path(), "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(f, fcntl.LOCK_UN)
        return True


def _free_soon(seconds: float = 30.0) -> bool:
    """The lock is every local airgap process's (other test runs, benchmarks): each holds it for one container
    start or removal, so "free" means free within a while, not at this instant."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _try_lock():
            return True
        time.sleep(0.01)
    return False


def test_another_process_holding_the_lock_excludes_us():
    holder = subprocess.Popen([sys.executable, "-c", HOLDER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert not _try_lock()
    finally:
        holder.communicate("go\n", timeout=30)
    assert _free_soon()


def test_remote_engines_are_not_locked():
    with engine_lock("tcp://127.0.0.1:2375"):
        assert _free_soon()
