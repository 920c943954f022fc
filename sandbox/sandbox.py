"""One sandbox: a hardened, network-less container, its gateway channel and a client for its init.

``Sandbox(config, routes=..., sink=...)`` starts the container and returns once the in-container init
answers; ``close()`` (or leaving the ``with`` block) removes it. Everything the harness asks of the
container goes over the init's control socket (see ``image/init.py`` for the wire format); ``docker exec``
is kept as :meth:`Sandbox.exec_docker` for when the init cannot be used.
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import socket
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Callable

from . import cleanup
from .config import AGENT, SandboxConfig, capture_mode, pick_runtime
from .errors import SandboxError
from .events import EventSink, emit, make_event
from .gateway import Channel, Gateway, HttpResponse
from .runtime import PROJECT_LABELS, ContainerRuntime, get_runtime


@dataclass
class ExecResult:
    """The outcome of one command. ``stdout``/``stderr`` are capped (with a marker); hashes cover all of it."""

    exit_code: int
    stdout: str
    stderr: str
    duration_ms: float
    timed_out: bool = False
    oom_killed: bool = False
    truncated: bool = False
    stdout_sha256: str = ""
    stderr_sha256: str = ""
    stdout_bytes: int = 0  # total bytes produced, kept or not
    stderr_bytes: int = 0
    signal: int | None = None
    # What the command's processes did (with capture on; None when off): one record per distinct call, see
    # docs/episode-log.md "sandbox.exec"; and what changed where the agent writes ({"changes": [...], ...}; None: nothing).
    effects: list[dict] | None = None
    effects_dropped: int = 0
    files: dict | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check_not_the_agent() -> None:
    """A harness running as the agent's uid or gid could be reached by the agent (the control socket, the
    host folder): refuse, saying how to fix it."""
    uid, gid = (int(x) for x in AGENT.split(":"))
    if os.getuid() == uid or os.getgid() == gid:
        raise SandboxError(f"the harness runs as uid {os.getuid()} / gid {os.getgid()}, which is the sandbox agent's "
                           f"({AGENT}): the agent could then reach the harness's control socket. Run airgap as "
                           "another user (any user in the `docker` group whose uid and gid are not 1000), or as root.")


def sandbox_root() -> Path:
    """Short host folder for per-sandbox sockets (unix socket paths are limited to 108 bytes)."""
    base = os.environ.get("AIRGAP_RUN_DIR") or f"/tmp/airgap-{os.getuid()}"
    root = Path(base)
    root.mkdir(mode=0o755, exist_ok=True)
    root.chmod(0o755)  # the container's uids must be able to traverse it
    return root


_IMAGE_IDS: dict[str, str] = {}  # image reference -> id, looked up once per process


class Sandbox:
    """A running sandbox. Use as a context manager, or call :meth:`close`.

    ``runtime`` is the container engine: a :class:`~airgap.sandbox.runtime.ContainerRuntime`, a registered
    name, or None for the default (Docker). Not to be confused with ``config.runtime``, the OCI runtime
    (``runsc``) that engine runs the container with."""

    def __init__(self, config: SandboxConfig | None = None, routes: dict[str, Callable] | None = None,
                 sink: EventSink | None = None, *, runtime: ContainerRuntime | str | None = None,
                 gateway: Gateway | None = None):
        _check_not_the_agent()
        self.config = config or SandboxConfig()
        self.id = "sb-" + secrets.token_hex(5)
        self.container_id: str | None = None
        self._closed = False
        self._runtime = runtime if isinstance(runtime, ContainerRuntime) else get_runtime(runtime)
        self._gateway = gateway or Gateway.shared()
        if self.config.runtime:
            self.config = replace(self.config, runtime=pick_runtime(self.config.runtime, self._runtime.runtimes()))
        self.dir = sandbox_root() / self.id
        self.dir.mkdir(mode=0o755)
        ctl = self.dir / "ctl"  # ours, shared with the init through our group (docker group_add); not the agent's
        ctl.mkdir(mode=0o770)
        ctl.chmod(0o770)
        self._gateway.ca.write_cert(self.dir / "ca.pem")
        token = secrets.token_hex(16)  # lets the init's attempt reports through, and nobody else's
        self._channel: Channel = self._gateway.open_channel(self.id, self.dir / "gw.sock", routes, sink,
                                                            request_timeout=self.config.request_timeout,
                                                            report_token=token)
        self.intercept: bool = False  # whether the init intercepts every connection attempt (from its ping)
        self.intercept_error: str | None = None
        self.capture: str = "off"  # the init's effects capture (from its ping): "effects", "opens" or "off"
        self.capture_procs: bool = False  # whether it sees what processes do (else only the files' manifest)
        self.capture_error: str | None = None
        self._ctl = self.dir / "ctl" / "init.sock"
        cleanup.track(self)
        try:
            labels = {**PROJECT_LABELS, **cleanup.owner_labels(), "airgap.sandbox": self.id}
            start = replace(self.config, env={**self.config.env, "AIRGAP_REPORT_TOKEN": token})
            self.container_id = self._runtime.create(start, self.id, self.dir, labels)
            self._wait_ready()
        except BaseException:
            self.close()
            raise
        wanted = capture_mode(self.config.capture)
        self._emit("sandbox_start", container=self.container_id, image=self.config.image, intercept=self.intercept,
                   **({"intercept_error": self.intercept_error} if self.config.intercept and not self.intercept else {}),
                   capture=self.capture, capture_procs=self.capture_procs,
                   **({"capture_error": self.capture_error} if wanted != "off" and not self.capture_procs else {}))
        if self.config.intercept and not self.intercept:
            print(f"airgap: sandbox {self.id}: connection attempts outside ports 80/443 will not be seen "
                  f"({self.intercept_error}); rebuild the image with `airgap sandbox build`", file=sys.stderr)
        if wanted != "off" and (self.capture != wanted or not self.capture_procs):
            why = self.capture_error or "an image without effects capture"
            seen = "command lines and file changes" if self.capture != "off" else "command lines"
            print(f"airgap: sandbox {self.id}: what processes do will not be seen ({why}); only {seen} are; "
                  "rebuild the image with `airgap sandbox build`", file=sys.stderr)

    # -- lifecycle ----------------------------------------------------------------------------------

    def _wait_ready(self) -> None:
        """Poll (every few ms) until the init's control socket answers; report why if the container died."""
        deadline = time.monotonic() + self.config.start_timeout
        checked_state = time.monotonic()
        while time.monotonic() < deadline:
            if self._ctl.exists() and self.alive(timeout=2):
                meta, _ = self._call({"op": "ping"}, timeout=5)
                self.intercept, self.intercept_error = bool(meta.get("intercept")), meta.get("intercept_error")
                self.capture = str(meta.get("capture") or "off")
                self.capture_procs, self.capture_error = bool(meta.get("capture_procs")), meta.get("capture_error")
                return
            if time.monotonic() - checked_state > 0.5:
                checked_state = time.monotonic()
                self._raise_if_dead("while starting")
            time.sleep(0.005)
        raise SandboxError(f"sandbox {self.id}: the init did not come up within {self.config.start_timeout:.0f}s; "
                           f"see `docker logs airgap-{self.id}`")

    def _raise_if_dead(self, when: str, grace: float = 0.0) -> None:
        """Raise a SandboxError saying why, if the container is dead or dies within ``grace`` seconds
        (a lost connection to the init usually means the engine is still tearing the container down)."""
        deadline = time.monotonic() + grace
        while True:
            state = self._runtime.state(self.container_id) if self.container_id else None
            if state is None or not state.running or time.monotonic() >= deadline:
                break
            time.sleep(0.1)
        if state is None or not state.running:
            why = "it is gone" if state is None else (
                f"exit code {state.exit_code}" + (", OOM-killed" if state.oom_killed else "")
                + (f", {state.error}" if state.error else ""))
            hint = ("If this repeats, rebuild the image with `airgap sandbox build` and try `airgap sandbox run -- "
                    "true`." if when == "while starting" else "Its state is lost; start a new sandbox.")
            raise SandboxError(f"sandbox {self.id} died {when} ({why}). {hint}")

    def alive(self, timeout: float = 2.0) -> bool:
        """True if the init answers a ping (a millisecond when healthy)."""
        try:
            meta, _ = self._call({"op": "ping"}, timeout=timeout)
            return bool(meta.get("ok"))
        except (OSError, SandboxError):
            return False

    def close(self) -> None:
        """Remove the container and its host folder. Safe to call twice, and from exit handlers."""
        if self._closed:
            return
        self._closed = True
        cleanup.untrack(self)
        if self.container_id:
            self._emit("sandbox_stop", container=self.container_id)
            try:
                self._runtime.remove(self.container_id)
            except SandboxError as e:
                print(f"airgap: could not remove sandbox {self.id}: {e} (run `airgap sandbox gc` later)",
                      file=sys.stderr)
        self._gateway.close_channel(self._channel)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Sandbox {self.id} {self.config.image}{' closed' if self._closed else ''}>"

    # -- per-episode wiring ------------------------------------------------------------------------

    @property
    def image_id(self) -> str:
        """The id (sha256 digest) of the image this sandbox runs: what an episode log pins. Cached per image."""
        if self.config.image not in _IMAGE_IDS:
            _IMAGE_IDS[self.config.image] = self._runtime.image_id(self.config.image)
        return _IMAGE_IDS[self.config.image]

    def set_routes(self, routes: dict[str, Callable]) -> None:
        """Replace the hostname -> ASGI app table (takes effect for the next DNS look-up / request)."""
        self._channel.routes = {k.lower(): v for k, v in routes.items()}

    def set_streams(self, streams: dict) -> None:
        """Replace the (host, port) -> :class:`~airgap.sandbox.gateway.StreamService` table: the protocol servers
        (SMTP, IMAP...) on other ports of world hosts. A connection to any other port stays an intercepted attempt."""
        self._gateway.set_streams(self._channel, streams)

    def set_sink(self, sink: EventSink | None) -> None:
        self._channel.sink = sink

    def _emit(self, type_: str, **data: Any) -> None:
        emit(self._channel.sink, make_event(type_, self.id, **data))

    # -- talking to the init ------------------------------------------------------------------------

    def _call(self, request: dict, payload: bytes = b"", timeout: float | None = 30.0) -> tuple[dict, bytes]:
        """One request on the control socket; returns the reply header and the raw bytes after it."""
        if self._closed:
            raise SandboxError(f"sandbox {self.id} is closed")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            try:
                sock.connect(str(self._ctl))
                sock.sendall(json.dumps(request).encode() + b"\n" + payload)
                with sock.makefile("rb") as f:
                    line = f.readline()
                    if not line.endswith(b"\n"):
                        raise ConnectionError("the init closed the connection")
                    meta = json.loads(line)
                    size = sum(int(meta.get(k, 0)) for k in ("stdout_len", "stderr_len", "size"))
                    data = f.read(size)
                    if len(data) != size:
                        raise ConnectionError("the init closed the connection mid-reply")
            except (socket.timeout, TimeoutError) as e:
                raise SandboxError(f"sandbox {self.id}: no answer from the init within {timeout}s") from e
            except (ConnectionError, FileNotFoundError, ValueError) as e:
                if request["op"] != "ping":
                    self._raise_if_dead(f"during {request['op']}", grace=5.0)
                raise SandboxError(f"sandbox {self.id}: the init failed during {request['op']}: {e}") from e
        if not meta.get("ok"):
            if meta.get("errno"):
                raise OSError(meta["errno"], meta.get("error", ""), request.get("path"))
            raise SandboxError(f"sandbox {self.id}: the init refused {request['op']}: {meta.get('error')}")
        return meta, data

    def exec(self, cmd: str | list[str], timeout: float | None = 600.0, max_output: int = 1 << 20,
             cwd: str = "/workspace", env: dict[str, str] | None = None,
             stdin: bytes | str | None = None) -> ExecResult:
        """Run ``cmd`` as the agent (a string goes to ``sh -c``, a list is argv).

        On timeout the command's whole process group is killed. Each of stdout/stderr keeps its first
        ``max_output`` bytes (a marker says so when cut); the sha256 covers everything produced."""
        data = stdin.encode() if isinstance(stdin, str) else (stdin or b"")
        request = {"op": "exec", "cmd": cmd, "cwd": cwd, "env": env or {}, "timeout": timeout,
                   "max_output": max_output, "stdin_len": len(data)}
        meta, raw = self._call(request, data, timeout=None if timeout is None else timeout + 30)
        self.sync_reports(meta.get("reports", 0))
        out, err = raw[:meta["stdout_len"]], raw[meta["stdout_len"]:]
        truncated = meta["stdout_total"] > len(out) or meta["stderr_total"] > len(err)
        result = ExecResult(
            exit_code=meta["exit_code"], stdout=_text(out, meta["stdout_total"], meta["stdout_sha256"]),
            stderr=_text(err, meta["stderr_total"], meta["stderr_sha256"]), duration_ms=meta["duration_ms"],
            timed_out=meta["timed_out"], oom_killed=meta["oom_killed"], truncated=truncated,
            stdout_sha256=meta["stdout_sha256"], stderr_sha256=meta["stderr_sha256"],
            stdout_bytes=meta["stdout_total"], stderr_bytes=meta["stderr_total"], signal=meta.get("signal"),
            effects=_records(meta.get("effects")), effects_dropped=int(meta.get("effects_dropped") or 0),
            files=meta.get("files") if isinstance(meta.get("files"), dict) else None)
        if meta.get("capture_error"):
            self.capture_procs, self.capture_error = False, str(meta["capture_error"])
        self._log_exec(cmd, cwd, result, via="init")
        return result

    def sync_reports(self, seq: int | None = None, timeout: float = 2.0) -> bool:
        """Wait (up to ``timeout`` s) until the gateway has logged every attempt the init reported up to
        ``seq`` (default: up to now), so a step's ``egress_attempt`` events are in its log when it returns."""
        if seq is None:
            seq = int(self._call({"op": "ping"}, timeout=timeout)[0].get("reports", 0))
        return self._channel.wait_reports(int(seq), timeout)

    def recycle(self, timeout: float = 60.0) -> tuple[bool, list[str]]:
        """Make this sandbox ready for another episode, as a fresh one would be, if that can be shown.

        The init kills every process of the agent (daemons, double forks, new sessions), empties every place
        the agent can write (/workspace, /tmp, its home, /dev/shm, /dev/mqueue; System V IPC) and resets its own
        per-episode state (world addresses); the gateway forgets this sandbox's routes and sink. Then the
        init lists anything left over and a command must run. Returns ``(clean, problems)``: when not clean,
        discard the sandbox (``close()``) and start a new one."""
        self.set_sink(None)
        self.set_routes({})
        self.set_streams({})
        try:
            meta, _ = self._call({"op": "recycle"}, timeout=timeout)
        except (OSError, SandboxError) as e:
            return False, [f"recycle failed: {e}"]
        problems = list(meta.get("problems") or [])
        # Reports of what the killed processes did must reach the gateway now, with no sink, and not later,
        # into the next episode's log.
        if not self.sync_reports(int(meta.get("reports", 0)), timeout=5):
            problems.append("the init's attempt reports did not all reach the gateway")
        if meta.get("clean") and not problems:
            try:
                check = self.exec(["true"], timeout=10)
                if check.exit_code != 0:
                    problems.append(f"health check: `true` exited {check.exit_code}")
            except (OSError, SandboxError) as e:
                problems.append(f"health check failed: {e}")
        else:
            problems = problems or ["the init did not report the sandbox clean"]
        return not problems, problems

    def kill_all(self) -> int:
        """SIGKILL every process the agent owns, including daemons that left their process group
        (a fork bomb's leftovers, servers started with ``&``). Returns how many were killed."""
        meta, _ = self._call({"op": "kill_all"}, timeout=60)
        return int(meta["killed"])

    def exec_docker(self, cmd: str | list[str], timeout: float = 600.0, max_output: int = 1 << 20,
                    cwd: str = "/workspace", env: dict[str, str] | None = None) -> ExecResult:
        """The fallback path: the engine's own exec (``docker exec``: tens of ms slower; no stdin, no OOM report)."""
        argv = ["/bin/sh", "-c", cmd] if isinstance(cmd, str) else list(cmd)
        started = time.monotonic()
        raw = self._runtime.exec(self.container_id, argv, user=AGENT, workdir=cwd, environment=env, timeout=timeout)
        code, out, err = raw.exit_code, raw.stdout, raw.stderr
        result = ExecResult(
            exit_code=code, stdout=_text(out[:max_output], len(out), _sha(out)),
            stderr=_text(err[:max_output], len(err), _sha(err)),
            duration_ms=round((time.monotonic() - started) * 1000, 3), timed_out=raw.timed_out,
            truncated=len(out) > max_output or len(err) > max_output, stdout_sha256=_sha(out),
            stderr_sha256=_sha(err), stdout_bytes=len(out), stderr_bytes=len(err))
        self._log_exec(cmd, cwd, result, via="docker")
        return result

    def interactive_argv(self, *cmd: str) -> list[str]:
        """An interactive command line (``docker exec -it``) for a human at a terminal (the CLI's ``shell``)."""
        return self._runtime.interactive_argv(self.container_id) + list(cmd)

    def _log_exec(self, cmd: str | list[str], cwd: str, r: ExecResult, via: str) -> None:
        extra: dict[str, Any] = {}
        if r.effects is not None:
            extra["effects"] = r.effects
            if r.effects_dropped:
                extra["effects_dropped"] = r.effects_dropped
        if r.files is not None:
            extra["files"] = r.files
        self._emit("exec", via=via, cmd=cmd, cwd=cwd, exit_code=r.exit_code, timed_out=r.timed_out,
                   oom_killed=r.oom_killed, truncated=r.truncated, duration_ms=r.duration_ms,
                   stdout_sha256=r.stdout_sha256, stderr_sha256=r.stderr_sha256,
                   stdout_bytes=r.stdout_bytes, stderr_bytes=r.stderr_bytes, **extra)

    # -- files (through the init: tmpfs mounts are invisible to the engine's archive API) -----------

    def read_file(self, path: str, timeout: float = 60.0) -> bytes:
        """The file's bytes, read with the agent's permissions. Raises FileNotFoundError etc."""
        meta, data = self._call({"op": "read", "path": path}, timeout=timeout)
        self._emit("file_read", path=path, size=len(data), sha256=_sha(data))
        return data

    def write_file(self, path: str, data: bytes | str, mode: int = 0o644, timeout: float = 60.0) -> None:
        """Create or replace ``path`` (and its parent folders) as the agent."""
        raw = data.encode() if isinstance(data, str) else bytes(data)
        self._call({"op": "write", "path": path, "size": len(raw), "mode": mode}, raw, timeout=timeout)
        self._emit("file_write", path=path, size=len(raw), sha256=_sha(raw))

    # -- the gateway from the host side -------------------------------------------------------------

    def fetch(self, method: str, url: str, headers: dict[str, str] | None = None,
              body: bytes | str | None = None, timeout: float | None = None) -> HttpResponse:
        """Send a request as the harness through the same gateway dispatch and logging as the sandbox.

        The routed app gets ``timeout`` seconds (default: ``config.request_timeout``); past that it is
        cancelled, the ``http`` event is logged with status 504, and :class:`SandboxTimeout` is raised."""
        return self._gateway.fetch(self._channel, method, url, headers, body, timeout=timeout)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _records(value: Any) -> list[dict] | None:
    """The init's effect records (data from inside the sandbox: only dicts with a string ``call`` are kept)."""
    if not isinstance(value, list):
        return None
    return [r for r in value if isinstance(r, dict) and isinstance(r.get("call"), str)]


def _text(kept: bytes, total: int, sha256: str) -> str:
    """Decode captured output; say so at the end when it was cut."""
    text = kept.decode("utf-8", "replace")
    if total > len(kept):
        text += f"\n[airgap: output truncated: kept {len(kept)} of {total} bytes; sha256 of all: {sha256}]\n"
    return text
