"""A real browser inside a sandbox, driven from the harness over a channel the agent cannot reach.

The sandbox must run the browser variant of the image (``airgap sandbox build --with browser``). The harness starts
``/opt/airgap/browser.py`` through the engine's exec as the browser user (uid :data:`~airgap.sandbox.image.BROWSER_UID`:
not root, not the agent): it runs Chromium with ``--remote-debugging-pipe`` and copies the DevTools pipe to the exec
stream. No port is opened in the container, so the agent's processes (uid 1000, no capabilities) can neither connect
to the browser nor trace or signal it; only the holder of the engine's socket can open an exec stream.

On the host, :class:`BrowserChannel` bridges that stream to a websocket on 127.0.0.1 (a random port and a secret path,
one connection) so that a real DevTools client connects to it: :class:`BrowserSession` does so with Playwright's
``chromium.connect_over_cdp``. The browser's traffic takes the sandbox's own DNS, relay and gateway like any program's:
every page load and form post is an ``http`` event, every attempt to leave an ``egress_attempt``.
"""
from __future__ import annotations

import asyncio
import collections
import os
import secrets
import socket
import threading
import time
from typing import Any

from .errors import SandboxError
from .image import BROWSER_UID

LAUNCHER = "/opt/airgap/browser.py"
STDERR_LINES = 40  # lines of Chromium's stderr kept for error messages


def browser_user() -> str:
    """``uid:gid`` the browser runs as; refused when it is the harness's own (the browser could then reach the
    harness's control folder)."""
    if os.getuid() == BROWSER_UID or os.getgid() == BROWSER_UID:
        raise SandboxError(f"the harness runs as uid/gid {BROWSER_UID}, the sandbox browser's: run airgap as another user")
    return f"{BROWSER_UID}:{BROWSER_UID}"


class BrowserChannel:
    """Chromium in ``sandbox``, its DevTools pipe bridged to ``ws://127.0.0.1:PORT/devtools/browser/TOKEN``.

    ``endpoint`` is the websocket address a CDP client connects to (once). ``close()`` ends the exec stream: the
    launcher then kills Chromium and removes its profile."""

    def __init__(self, sandbox: Any, start_timeout: float = 30.0, args: list[str] | None = None):
        api = getattr(getattr(sandbox, "_runtime", None), "client", None)
        if api is None or not sandbox.container_id:
            raise SandboxError("a sandbox browser needs a running sandbox on the Docker engine")
        self.sandbox = sandbox
        self._api = api.api
        self.stderr: collections.deque[str] = collections.deque(maxlen=STDERR_LINES)
        self.error: str | None = None
        self._closed = False
        token = secrets.token_hex(16)
        self._path = f"/devtools/browser/{token}"
        try:
            self._exec_id = self._api.exec_create(
                sandbox.container_id, ["python3", "-I", LAUNCHER, *(args or [])], stdin=True, stdout=True, stderr=True, tty=False,
                user=browser_user(), workdir="/", environment={"PATH": "/usr/bin:/bin"})["Id"]
            stream = self._api.exec_start(self._exec_id, socket=True)
        except Exception as e:  # noqa: BLE001 - the engine's errors, said once
            raise SandboxError(f"sandbox {sandbox.id}: could not start the browser: {e}") from None
        self._sock: socket.socket = getattr(stream, "_sock", stream)
        self._sock.settimeout(None)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._port = 0
        self._thread = threading.Thread(target=self._run, name=f"browser-{sandbox.id}", daemon=True)
        self._thread.start()
        if not self._ready.wait(start_timeout):
            self.close()
            raise SandboxError(f"sandbox {sandbox.id}: the browser bridge did not start")
        if self.error:
            raise SandboxError(self.error)

    @property
    def endpoint(self) -> str:
        return f"ws://127.0.0.1:{self._port}{self._path}"

    def running(self) -> bool:
        try:
            return bool(self._api.exec_inspect(self._exec_id).get("Running"))
        except Exception:  # noqa: BLE001
            return False

    # -- the bridge's own loop ----------------------------------------------------------------------

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        except Exception as e:  # noqa: BLE001 - kept for the caller
            self.error = self.error or f"browser bridge failed: {e!r}"
            self._ready.set()

    async def _serve(self) -> None:
        from websockets.asyncio.server import serve
        from websockets.exceptions import ConnectionClosed

        self._sock.setblocking(False)
        reader, writer = await asyncio.open_connection(sock=self._sock)
        messages: asyncio.Queue = asyncio.Queue()
        self._writer = writer
        self._stopped = asyncio.Event()

        async def demux() -> None:  # the engine's exec stream: 8-byte frame headers (stream, size), stdout and stderr
            buf, err = b"", b""
            try:
                while True:
                    head = await reader.readexactly(8)
                    data = await reader.readexactly(int.from_bytes(head[4:], "big"))
                    if head[0] == 2:
                        err += data
                        *lines, err = err.split(b"\n")
                        self.stderr.extend(x.decode("utf-8", "replace") for x in lines)
                        continue
                    buf += data
                    while b"\0" in buf:
                        msg, buf = buf.split(b"\0", 1)
                        messages.put_nowait(msg.decode("utf-8", "replace"))
            except (asyncio.IncompleteReadError, OSError):
                pass
            if not self._closed:
                self.error = ("the browser exited: " + " | ".join(list(self.stderr)[-5:]))[:2000]
            messages.put_nowait(None)

        async def handler(ws) -> None:
            if ws.request.path != self._path or getattr(self, "_taken", False):
                await ws.close(1008, "not this browser")
                return
            self._taken = True

            async def down() -> None:
                while (msg := await messages.get()) is not None:
                    await ws.send(msg)
                await ws.close(1011, (self.error or "browser closed")[:120])

            task = asyncio.ensure_future(down())
            try:
                async for msg in ws:
                    writer.write((msg.encode() if isinstance(msg, str) else msg) + b"\0")
                    await writer.drain()
            except (ConnectionClosed, OSError):
                pass  # the client left or the browser is gone (``error`` says which)
            finally:
                task.cancel()

        pump = asyncio.ensure_future(demux())
        async with serve(handler, "127.0.0.1", 0, max_size=256 << 20, ping_interval=None) as server:
            self._port = server.sockets[0].getsockname()[1]
            self._ready.set()
            await self._stopped.wait()
        try:
            if writer.can_write_eof():
                writer.write_eof()  # the launcher's stdin ends: it kills Chromium and removes its profile
            await asyncio.wait_for(pump, 15)
        except (OSError, asyncio.TimeoutError):
            pass
        writer.close()

    def close(self, timeout: float = 15.0) -> None:
        """End the stream (Chromium is killed, its profile removed) and wait for the launcher to exit."""
        if self._closed:
            return
        self._closed = True
        if self._loop.is_running() and hasattr(self, "_stopped"):
            self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(timeout)
        deadline = time.monotonic() + timeout
        while self.running() and time.monotonic() < deadline:
            time.sleep(0.05)
        if not self._loop.is_running():
            self._loop.close()


_THREAD = threading.local()  # one Playwright driver per thread (its sync API allows one), shared by that thread's sessions


def _playwright() -> Any:
    if getattr(_THREAD, "pw", None) is None:
        from playwright.sync_api import sync_playwright

        _THREAD.pw, _THREAD.users = sync_playwright().start(), 0
    _THREAD.users += 1
    return _THREAD.pw


def _release() -> None:
    _THREAD.users -= 1
    if _THREAD.users <= 0 and getattr(_THREAD, "pw", None) is not None:
        pw, _THREAD.pw = _THREAD.pw, None
        pw.stop()


class BrowserSession:
    """Playwright connected (over CDP) to a :class:`BrowserChannel` in ``sandbox``: ``.browser``, ``.context``.

    Playwright's sync API: use a session from the thread that made it (sessions of one thread share its driver)."""

    def __init__(self, sandbox: Any, timeout: float = 30.0, args: list[str] | None = None):
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            raise SandboxError("the sandbox browser is driven with Playwright: pip install 'airgap[browser]'") from None
        self.channel = BrowserChannel(sandbox, start_timeout=timeout, args=args)
        self._pw = None
        try:
            self._pw = _playwright()
            self.browser = self._pw.chromium.connect_over_cdp(self.channel.endpoint, timeout=timeout * 1000)
        except Exception as e:
            why = self.channel.error or " | ".join(list(self.channel.stderr)[-5:]) or str(e)
            self.close()
            raise SandboxError(f"sandbox {sandbox.id}: could not connect to the browser: {why}") from None
        self.context = self.browser.contexts[0] if self.browser.contexts else self.browser.new_context()

    def close(self) -> None:
        try:
            if self._pw is not None and getattr(self, "browser", None) is not None:
                self.browser.close()
        except Exception:  # noqa: BLE001 - the browser may be gone already
            pass
        if self._pw is not None:
            self._pw = None
            _release()
        self.channel.close()

    def __enter__(self) -> BrowserSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
