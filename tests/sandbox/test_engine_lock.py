"""Container starts and removals on a local engine are serialised across processes (Docker 20.10 deadlock guard)."""
from __future__ import annotations

import fcntl
import subprocess
import sys

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


def test_another_process_holding_the_lock_excludes_us():
    holder = subprocess.Popen([sys.executable, "-c", HOLDER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert not _try_lock()
    finally:
        holder.communicate("go\n", timeout=30)
    assert _try_lock()


def test_remote_engines_are_not_locked():
    with engine_lock("tcp://127.0.0.1:2375"):
        assert _try_lock()
