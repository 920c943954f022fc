"""Nothing the project creates outlives its owner for long.

* While a process runs, every live :class:`~airgap.sandbox.Sandbox` is tracked here and closed on normal
  exit (``atexit``), on an exception escaping ``main`` (same), on SIGINT (Python turns it into
  ``KeyboardInterrupt``, so ``with`` blocks and ``atexit`` run), on SIGTERM/SIGHUP (a handler closes
  them, then chains to whatever handler was there before) and when a multiprocessing worker ends (it
  leaves with ``os._exit``, which runs only multiprocessing's finalizers). A forked child does not
  inherit its parent's sandboxes: they are the parent's to close.
* After a SIGKILL nothing in-process can run, so every object carries labels naming its owner
  (pid + that process's start time, which defeats pid reuse). :func:`gc` removes whatever is labelled
  with an owner that is no longer alive; ``airgap sandbox gc`` and every pool start call it.
"""
from __future__ import annotations

import atexit
import os
import shutil
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from .runtime import ContainerRuntime, get_runtime

_live: set = set()
_lock = threading.RLock()  # re-entrant: a signal handler may run while the main thread holds it
_installed = False
_finalizer_pid = 0


def _start_ticks(pid: int) -> str:
    """The process's start time in clock ticks since boot ('' if it does not exist)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def owner_labels() -> dict[str, str]:
    pid = os.getpid()
    return {"airgap.owner_pid": str(pid), "airgap.owner_start": _start_ticks(pid),
            "airgap.started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def owner_alive(labels: dict[str, str]) -> bool:
    """Is the process that created this object still running (same pid *and* same start time)?"""
    try:
        pid = int(labels.get("airgap.owner_pid", ""))
    except ValueError:
        return False
    start = _start_ticks(pid)
    return bool(start) and start == labels.get("airgap.owner_start", start)


def track(sandbox: Any) -> None:
    global _finalizer_pid
    with _lock:
        _live.add(sandbox)
    install_handlers()
    if _finalizer_pid != os.getpid():
        import multiprocessing.util

        _finalizer_pid = os.getpid()
        multiprocessing.util.Finalize(None, close_all, exitpriority=10)  # after the pools (priority 100)


def untrack(sandbox: Any) -> None:
    with _lock:
        _live.discard(sandbox)


def close_all() -> None:
    """Close every sandbox this process still has open."""
    with _lock:
        sandboxes = list(_live)
    for sb in sandboxes:
        try:
            sb.close()
        except Exception as e:  # best effort on the way out; gc catches what is left
            print(f"airgap: cleanup of {sb!r} failed: {e}", file=sys.stderr)


def install_handlers() -> None:
    """Register atexit and chaining SIGTERM/SIGHUP handlers once (only the main thread may set handlers)."""
    global _installed
    if _installed or threading.current_thread() is not threading.main_thread():
        return
    _installed = True
    atexit.register(close_all)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        previous = signal.getsignal(signum)

        def handler(num, frame, previous=previous):
            close_all()
            if callable(previous):
                previous(num, frame)
            elif previous != signal.SIG_IGN:  # default action: die of the same signal
                signal.signal(num, signal.SIG_DFL)
                os.kill(os.getpid(), num)

        signal.signal(signum, handler)


def _forget_after_fork() -> None:
    global _lock
    _lock = threading.RLock()
    _live.clear()


os.register_at_fork(after_in_child=_forget_after_fork)


def list_objects(runtime: ContainerRuntime | None = None) -> list[dict[str, Any]]:
    """Every labelled container/network/volume, each with ``owner_pid`` and ``owner_alive`` added."""
    runtime = runtime or get_runtime()
    rows = runtime.list()
    for row in rows:
        row["owner_pid"] = row["labels"].get("airgap.owner_pid", "")
        row["owner_alive"] = owner_alive(row["labels"])
    return rows


def gc(runtime: ContainerRuntime | None = None, everything: bool = False) -> list[dict[str, Any]]:
    """Remove labelled objects whose owner is dead (or all of them with ``everything``); return them.

    Images are kept: they are build products, not leftovers. Host socket folders of removed sandboxes go too."""
    from .sandbox import sandbox_root

    runtime = runtime or get_runtime()
    removed = []
    for row in list_objects(runtime):
        if row["kind"] == "container" and not row["labels"].get("airgap.owner_pid"):
            continue  # a labelled container with no owner is an image build step, not ours to judge
        if everything or not row["owner_alive"]:
            runtime.remove_object(row)
            removed.append(row)
            sandbox_id = row["labels"].get("airgap.sandbox")
            if sandbox_id:
                shutil.rmtree(Path(sandbox_root()) / sandbox_id, ignore_errors=True)
    return removed
