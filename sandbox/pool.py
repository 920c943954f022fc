"""A pool of warm sandboxes, so taking a clean one costs a queue pop instead of a container start.

Sandboxes are never reused: :meth:`SandboxPool.release` destroys the one handed back and a background
worker starts a fresh one in its place. A sandbox that died while waiting in the queue is noticed at
:meth:`SandboxPool.acquire` (the init does not answer a ping) and replaced; a failed start is retried
by the worker after a pause, and surfaces as the error of an ``acquire`` that waited too long.
"""
from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from .backend import DockerBackend
from .cleanup import gc, install_handlers
from .errors import SandboxError
from .events import EventSink
from .gateway import Gateway
from .sandbox import Sandbox, SandboxConfig


class SandboxPool:
    """``size`` warm sandboxes of one config. Thread-safe; close it (or use ``with``) when done."""

    def __init__(self, size: int = 4, config: SandboxConfig | None = None, *,
                 backend: DockerBackend | None = None, collect_orphans: bool = True):
        self.size = size
        self.config = config or SandboxConfig()
        self._backend = backend or DockerBackend()
        self._gateway = Gateway.shared()
        self._ready: queue.Queue[Sandbox] = queue.Queue()
        self._closed = False
        self._pending = 0  # starts in flight
        self._lock = threading.Lock()
        self._last_error: Exception | None = None
        install_handlers()  # here, in the caller's thread: the workers below may not set signal handlers
        if collect_orphans:
            gc(self._backend)  # leftovers of harnesses that were SIGKILLed
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
            sb = Sandbox(self.config, backend=self._backend, gateway=self._gateway)
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

    def acquire(self, timeout: float = 120.0, routes: dict[str, Callable] | None = None,
                sink: EventSink | None = None) -> Sandbox:
        """A clean, running sandbox (its routes and sink set if given). Milliseconds when one is warm."""
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
                sb.set_routes(routes or {})
                sb.set_sink(sink)
                return sb
            self._workers.submit(sb.close)  # it died in the queue: replace it
            self._start_one()

    def release(self, sandbox: Sandbox) -> None:
        """Hand a sandbox back: it is destroyed (never reused) and a fresh one is warmed in its place."""
        sandbox.set_sink(None)
        if self._closed:
            sandbox.close()
            return
        self._workers.submit(sandbox.close)
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
