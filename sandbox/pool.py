"""Warm sandboxes: a pool hands one out in a queue pop instead of a container start; one pool per config per process.

A sandbox handed back is recycled in the background when ``config.recycle`` is on (the default): the init
kills every process of the agent, empties everything it could write and checks that nothing is left (see
:meth:`Sandbox.recycle`); a clean one goes back in the queue, anything else is destroyed and a fresh one
started in its place, as is every sandbox when ``recycle=False`` (``--fresh-containers``). A sandbox that died while waiting in the queue is noticed at
:meth:`SandboxPool.acquire` (the init does not answer a ping) and replaced; a failed start is retried
by the worker after a pause, and surfaces as the error of an ``acquire`` that waited too long. With
``overflow=True`` a caller that finds every pooled sandbox handed out gets a freshly started one instead
of waiting (a pool never grows on its own); releasing it closes it.

:func:`shared_pool` keeps one pool per (config, size) for the whole process, so every env of a process
shares its warm sandboxes; a forked child starts its own, and all are closed when the process ends.
"""
from __future__ import annotations

import atexit
import os
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from .cleanup import gc, install_handlers
from .config import SandboxConfig
from .errors import SandboxError
from .events import EventSink
from .gateway import Gateway
from .runtime import ContainerRuntime, get_runtime
from .sandbox import Sandbox


class SandboxPool:
    """``size`` warm sandboxes of one config. Thread-safe; close it (or use ``with``) when done."""

    def __init__(self, size: int = 4, config: SandboxConfig | None = None, *,
                 runtime: ContainerRuntime | str | None = None, collect_orphans: bool = True):
        self.size = size
        self.config = config or SandboxConfig()
        self._runtime = runtime if isinstance(runtime, ContainerRuntime) else get_runtime(runtime)
        self._gateway = Gateway.shared()
        self._ready: queue.Queue[Sandbox] = queue.Queue()
        self._closed = False
        self._pending = 0  # starts in flight
        self._in_use = 0  # pooled sandboxes handed out, or being taken from the queue
        self._lent: set[Sandbox] = set()  # pooled sandboxes handed out
        self._overflow: set[Sandbox] = set()  # started for a caller who found the pool exhausted
        self._lock = threading.Lock()
        self._last_error: Exception | None = None
        self.recycled = 0  # sandboxes made clean and queued again
        self.replaced = 0  # sandboxes destroyed and replaced by a fresh one (recycling off, or not clean)
        self.last_problems: list[str] = []  # why the last sandbox that could not be recycled was replaced
        install_handlers()  # here, in the caller's thread: the workers below may not set signal handlers
        if collect_orphans:
            gc(self._runtime)  # leftovers of harnesses that were SIGKILLed
        # Starting containers is I/O-bound on the engine; a couple in parallel is as fast as it gets.
        self._workers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="airgap-pool")
        for _ in range(size):
            self._start_one()

    def _start_one(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._pending += 1
        self._workers.submit(self._warm)

    def _warm(self) -> None:
        try:
            sb = Sandbox(self.config, runtime=self._runtime, gateway=self._gateway)
        except Exception as e:
            self._last_error = e
            with self._lock:
                self._pending -= 1
            time.sleep(1.0)  # do not hammer a failing engine
            self._start_one()
            return
        with self._lock:
            self._pending -= 1
            closed = self._closed
        if closed:
            sb.close()
        else:
            self._ready.put(sb)

    @property
    def ready(self) -> int:
        """How many warm sandboxes are waiting right now."""
        return self._ready.qsize()

    @property
    def in_use(self) -> int:
        """How many of the pool's own sandboxes are handed out (overflow sandboxes not counted)."""
        with self._lock:
            return self._in_use

    def acquire(self, timeout: float = 120.0, routes: dict[str, Callable] | None = None,
                sink: EventSink | None = None, overflow: bool = False) -> Sandbox:
        """A clean, running sandbox (its routes and sink set if given). Milliseconds when one is warm.

        With ``overflow``, when all ``size`` pooled sandboxes are handed out, a new one is started for
        this caller (a container start) instead of waiting up to ``timeout`` for one to be released."""
        with self._lock:
            if self._closed:
                raise SandboxError("the pool is closed")
            extra = overflow and self._in_use >= self.size
            if not extra:
                self._in_use += 1
        if extra:
            sb = Sandbox(self.config, routes=routes, sink=sink, runtime=self._runtime, gateway=self._gateway)
            with self._lock:
                self._overflow.add(sb)
            return sb
        try:
            sb = self._take(timeout)
        except BaseException:
            with self._lock:
                self._in_use -= 1
            raise
        sb.set_routes(routes or {})
        sb.set_sink(sink)
        with self._lock:
            self._lent.add(sb)
        return sb

    def _take(self, timeout: float) -> Sandbox:
        """The next warm sandbox whose init answers, waiting up to ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            if self._closed:
                raise SandboxError("the pool is closed")
            try:
                sb = self._ready.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                why = f"; last start failed: {self._last_error}" if self._last_error else ""
                raise SandboxError(f"no sandbox became ready within {timeout:.0f}s{why}") from self._last_error
            if sb.alive(timeout=2):
                return sb
            self._workers.submit(sb.close)  # it died in the queue: replace it
            self._start_one()

    def release(self, sandbox: Sandbox) -> None:
        """Hand a sandbox back. A pooled one is recycled (or, when that is off or it cannot be shown clean,
        destroyed and replaced by a fresh warm one); an overflow one (or one this pool did not hand out) is
        only closed."""
        sandbox.set_sink(None)
        with self._lock:
            pooled = sandbox in self._lent
            if pooled:
                self._lent.discard(sandbox)
                self._in_use -= 1
            self._overflow.discard(sandbox)
            closed = self._closed
        if closed or not pooled:
            sandbox.close()
            return
        if self.config.recycle:
            with self._lock:
                self._pending += 1
            self._workers.submit(self._recycle, sandbox)
            return
        self.replaced += 1
        self._workers.submit(sandbox.close)
        self._start_one()

    def _recycle(self, sandbox: Sandbox) -> None:
        try:
            clean, problems = sandbox.recycle()
        except Exception as e:  # noqa: BLE001 - whatever went wrong, the sandbox is not reused
            clean, problems = False, [f"recycle raised {e!r}"]
        with self._lock:
            self._pending -= 1
            closed = self._closed
        if clean and not closed:
            self.recycled += 1
            self._ready.put(sandbox)
            return
        sandbox.close()
        if not closed:
            self.replaced += 1
            self.last_problems = problems
            self._start_one()

    def close(self) -> None:
        """Destroy the warm sandboxes; sandboxes still acquired stay the caller's to release or close."""
        with self._lock:
            self._closed = True
        self._workers.shutdown(wait=True)
        while True:
            try:
                self._ready.get_nowait().close()
            except queue.Empty:
                break

    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------------------------- one pool per process

_SHARED: dict[tuple[str, int], SandboxPool] = {}
_shared_lock = threading.Lock()
_finalizer_pid = 0


def shared_pool(config: SandboxConfig, size: int) -> SandboxPool:
    """The process's pool of ``size`` sandboxes of ``config``, started on first use.

    Equal configs share one pool. A forked child never sees its parent's pools (their worker threads did not
    survive the fork); every pool is closed at interpreter exit and at multiprocessing worker exit."""
    key = (repr(config), size)
    with _shared_lock:
        pool = _SHARED.get(key)
        if pool is None:
            _close_at_worker_exit()
            pool = _SHARED[key] = SandboxPool(size=size, config=config)
        return pool


@atexit.register
def close_shared_pools() -> None:
    """Close every pool :func:`shared_pool` started in this process (their warm containers are removed)."""
    with _shared_lock:
        pools = list(_SHARED.values())
        _SHARED.clear()
    for pool in pools:
        try:
            pool.close()
        except Exception:  # noqa: BLE001 - best effort at exit; `airgap sandbox gc` removes leftovers
            pass


def _close_at_worker_exit() -> None:
    """multiprocessing workers (gymnasium's AsyncVectorEnv) end with ``os._exit``, which skips atexit and runs
    only multiprocessing's finalizers: register there too, once per process."""
    global _finalizer_pid
    if _finalizer_pid != os.getpid():
        import multiprocessing.util

        _finalizer_pid = os.getpid()
        multiprocessing.util.Finalize(None, close_shared_pools, exitpriority=100)


def _forget_after_fork() -> None:
    global _shared_lock
    _shared_lock = threading.Lock()
    _SHARED.clear()


os.register_at_fork(after_in_child=_forget_after_fork)
