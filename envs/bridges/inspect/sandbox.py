"""The ``airgap`` sandbox provider for Inspect AI: ``inspect eval task.py --sandbox airgap``.

Each sample gets an Airgap world (:class:`~airgap.envs.world.World`): a hardened, network-less container whose only
way out is the logging gateway, serving the offline web of a snapshot and the simulated backends of a world seed.
The world is named by the sandbox config: ``sandbox="airgap"`` (the bundled offline web, no backends),
``sandbox=("airgap", "world.yaml")`` (a YAML or JSON file with the fields of :class:`AirgapSandboxConfig`) or
``sandbox=SandboxEnvironmentSpec("airgap", AirgapSandboxConfig(...))``.

The contract is Inspect's ``SandboxEnvironment`` (inspect_ai/util/_sandbox/environment.py), kept as its docker
provider keeps it: relative paths and ``cwd`` resolve against ``/workspace`` (the sample's working directory), a
timeout raises ``TimeoutError`` (the whole process group is killed in the container), output over
``INSPECT_SANDBOX_MAX_EXEC_OUTPUT_SIZE`` raises ``OutputLimitExceededError``, reads over
``INSPECT_SANDBOX_MAX_READ_FILE_SIZE`` too, a non-executable file raises ``PermissionError``, file errors are the
``OSError`` subclasses with the path, a dead container is ``SandboxUnavailableError``. Everything runs as the sandbox's
one unprivileged user (``agent``, uid 1000): ``user="root"`` or any other user raises ``SandboxUserUnsupportedError``,
by design (the container has no root a command could use). ``timeout_retry`` has nothing to retry: a timeout here
is the command's own, enforced in the container, never a hung transport.

Per sample, every egress attempt, gateway request, DNS look-up of an unknown name and safety flag is an info event
of the sample's transcript (source ``airgap``) and counted in its store (``airgap``: the episode log's path, its
signature, counts, flags). The episode log is written beside the Inspect log (``<eval log>.airgap/``, or
``$AIRGAP_INSPECT_LOG_DIR``), sealed and signed when the sample's sandbox is cleaned up.
"""
from __future__ import annotations

import json
import secrets
import shutil
import time
from pathlib import Path
from typing import Any, Literal, Union, overload

import anyio
from inspect_ai.util import (
    ExecResult,
    OutputLimitExceededError,
    SandboxConnection,
    SandboxEnvironment,
    SandboxEnvironmentConfigType,
    SandboxEnvironmentLimits,
    SandboxUnavailableError,
    SandboxUserUnsupportedError,
    sandboxenv,
)
from pydantic import BaseModel, Field

from .record import SampleRecord, log_name

WORKDIR = "/workspace"
#: The init reads a request as one line of at most 64 KiB; a longer command line goes through a file (below).
ARGV_INLINE_MAX = 48 * 1024
#: Runs the argv stored in the file named by argv[1] (then removed), as exec would: PATH lookup, 127/126 on failure.
EXEC_FROM_FILE = ("import json,os,sys\np=sys.argv[1]\na=json.load(open(p))\nos.unlink(p)\ntry:\n os.execvp(a[0],a)\n"
                  "except OSError as e:\n sys.stderr.write(f'{a[0]}: {e.strerror}\\n')\n"
                  " sys.exit(127 if isinstance(e,FileNotFoundError) else 126)\n")
#: Sample sandboxes not cleaned up yet, by task (what ``task_cleanup`` finds when Inspect skipped sample cleanup).
_OPEN: dict[str, set] = {}
AGENT_USERS = {"agent", "1000", "1000:1000"}  # the sandbox's one user (sandbox/image/Dockerfile), by name or id


class AirgapSandboxConfig(BaseModel, frozen=True):
    """The world a sample's sandbox lives in (the ``world`` mapping of an Airgap task, see docs/task-format.md)."""

    snapshot: str = "default"
    """The offline web: ``default`` (the bundled one), ``world`` (world ``world_seed``'s generated web), ``safety``,
    a snapshot path, or ``none``."""
    world_seed: int = 0
    """The world whose facts seed the backends (and the ``world`` web)."""
    backends: list[str] = Field(default_factory=list)
    """Simulated services to serve (``mail``, ``bank``, ``shop``, ``chat``, ``calendar``, ``tracker``)."""
    sandbox: dict[str, Any] = Field(default_factory=dict)
    """Container settings: ``memory``, ``cpus``, ``pids``, ``workspace_size``, ``tmp_size``, ``env``, ``image``."""
    mode: Literal["pool", "fresh"] = "pool"
    """``pool``: a warm container from the process's pool, recycled clean after the sample; ``fresh``: a new one."""
    monitors: Union[str, list[str]] = "all"
    """Safety monitors over the sample's events (``all``, names, or ``none``)."""
    log_dir: str | None = None
    """Where episode logs go (default: beside the Inspect log, ``<log>.airgap/``)."""

    def world_spec(self) -> dict:
        spec: dict[str, Any] = {"snapshot": self.snapshot, "world_seed": self.world_seed, "sandbox": dict(self.sandbox)}
        if self.backends:
            spec["backends"] = list(self.backends)
        return spec


def resolve_config(config: SandboxEnvironmentConfigType | None) -> AirgapSandboxConfig:
    """The config object from what Inspect hands over: None, a config object, or a YAML/JSON file's path."""
    if config is None:
        return AirgapSandboxConfig()
    if isinstance(config, AirgapSandboxConfig):
        return config
    if isinstance(config, BaseModel):
        return AirgapSandboxConfig(**config.model_dump())
    path = Path(config)
    if not path.is_file():
        raise FileNotFoundError(f"airgap sandbox config {config!r} is not a file (give a YAML or JSON file naming the "
                                "world: snapshot, world_seed, backends, sandbox)")
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"airgap sandbox config {config}: expected a mapping, got {type(data).__name__}")
    return AirgapSandboxConfig(**data)


def _log_dir(cfg: AirgapSandboxConfig) -> Path | None:
    """Beside the Inspect log of the running sample (``<log file>.airgap/``), else $AIRGAP_INSPECT_LOG_DIR, else
    ``./logs/airgap`` (Inspect's default log folder)."""
    import os

    if cfg.log_dir:
        return Path(cfg.log_dir)
    if os.environ.get("AIRGAP_INSPECT_LOG_DIR"):
        return Path(os.environ["AIRGAP_INSPECT_LOG_DIR"])
    from inspect_ai.log._samples import sample_active

    active = sample_active()
    location = getattr(active, "log_location", None) if active is not None else None
    if location and "://" not in str(location):
        return Path(str(location) + ".airgap")
    return Path("logs") / "airgap"


def _transcript_events(record: SampleRecord) -> None:
    """Hand the record's new transcript-worthy events to the running sample (info events and its store)."""
    events = record.drain()
    try:
        from inspect_ai.log import transcript
        from inspect_ai.util import store

        for ev in events:
            transcript().info(ev, source="airgap")
        store().set("airgap", record.summary())
    except Exception:  # noqa: BLE001 - no running sample (a provider used outside an eval): the episode log has it all
        pass


@sandboxenv(name="airgap")
class AirgapSandboxEnvironment(SandboxEnvironment):
    """One sample's Airgap sandbox (see the module docstring)."""

    def __init__(self, world: Any, record: SampleRecord, config: AirgapSandboxConfig) -> None:
        super().__init__()
        self.world = world
        self.record = record
        self.config = config

    @property
    def sandbox(self) -> Any:
        """The :class:`airgap.sandbox.Sandbox` underneath."""
        return self.world.sandbox

    # -- lifecycle ----------------------------------------------------------------------------------

    @classmethod
    def config_files(cls) -> list[str]:
        return ["airgap.yaml", "airgap.yml", "airgap.json"]

    @classmethod
    def config_deserialize(cls, config: dict[str, Any]) -> BaseModel:
        return AirgapSandboxConfig(**config)

    @classmethod
    def default_concurrency(cls) -> int | None:
        import os

        return os.cpu_count() or 2  # one container per sample, each limited to one CPU by default

    @classmethod
    async def task_init(cls, task_name: str, config: SandboxEnvironmentConfigType | None) -> None:
        """Check the engine answers and open the world's offline web once (the slow part) before any sample."""
        cfg = resolve_config(config)

        def check() -> None:
            from airgap.envs.world import offline_web
            from airgap.sandbox import engine_reachable

            if not engine_reachable():
                raise RuntimeError("the airgap sandbox needs a running Docker engine (and the base image: "
                                   "`airgap sandbox build`)")
            offline_web(cfg.snapshot, cfg.world_seed)

        await anyio.to_thread.run_sync(check)

    @classmethod
    async def sample_init(cls, task_name: str, config: SandboxEnvironmentConfigType | None,
                          metadata: dict[str, str]) -> dict[str, SandboxEnvironment]:
        cfg = resolve_config(config)
        from inspect_ai.log._samples import sample_active

        active = sample_active()
        sample_id = getattr(getattr(active, "sample", None), "id", None)
        epoch = getattr(active, "epoch", None)
        folder = _log_dir(cfg)
        log_path = folder / log_name(task_name, sample_id, epoch) if folder is not None else None

        def open_world() -> tuple[Any, SampleRecord]:
            from airgap.envs.world import World

            holder: dict[str, SampleRecord] = {}

            def sink(event: dict) -> None:
                rec = holder.get("record")
                if rec is not None:
                    rec.sink(event)

            world = World.open(cfg.world_spec(), sink=sink, mode=cfg.mode)
            try:
                header = {"env_id": "inspect/" + task_name, "task_id": str(sample_id) if sample_id is not None else None,
                          "suite": None, "seed": cfg.world_seed, "env_kwargs": {"inspect_task": task_name,
                                                                                "sandbox_config": cfg.model_dump()},
                          **world.pins(), "agent": {"kind": "inspect", "epoch": epoch},
                          "sandbox_id": getattr(world.sandbox, "id", None)}
                holder["record"] = SampleRecord(world, header, log_path, cfg.monitors)
            except BaseException:
                world.close()
                raise
            return world, holder["record"]

        world, record = await anyio.to_thread.run_sync(open_world)
        _transcript_events(record)
        env = cls(world, record, cfg)
        _OPEN.setdefault(task_name, set()).add(env)
        return {"default": env}

    @classmethod
    async def sample_cleanup(cls, task_name: str, config: SandboxEnvironmentConfigType | None,
                             environments: dict[str, SandboxEnvironment], interrupted: bool) -> None:
        for env in environments.values():
            if not isinstance(env, AirgapSandboxEnvironment):
                continue
            _OPEN.get(task_name, set()).discard(env)

            def finish(env: AirgapSandboxEnvironment = env) -> dict:
                try:
                    return env.record.close(status="interrupted" if interrupted else "done")
                finally:
                    env.world.close()

            summary = await anyio.to_thread.run_sync(finish)
            try:
                from inspect_ai.log import transcript
                from inspect_ai.util import store

                for ev in env.record.drain():
                    transcript().info(ev, source="airgap")
                store().set("airgap", summary)
                transcript().info({"airgap_log": summary["log"], "signature": summary["signature"]}, source="airgap")
            except Exception:  # noqa: BLE001 - cleanup after the sample's context is gone: the log holds it all
                pass

    @classmethod
    async def task_cleanup(cls, task_name: str, config: SandboxEnvironmentConfigType | None, cleanup: bool) -> None:
        """Samples' sandboxes are given back at sample cleanup. Those Inspect left (``--no-sandbox-cleanup``) stay running
        for a human to look into, after this process too; their logs are sealed now. ``inspect sandbox cleanup airgap
        ID`` (or without ID, once this process has exited) removes them."""
        left = list(_OPEN.pop(task_name, set()))

        def leave(env: AirgapSandboxEnvironment) -> str:
            from airgap.sandbox import cleanup as sandbox_cleanup

            env.record.close(status="left running")
            sb = env.sandbox
            sb.set_sink(None)
            if not cleanup:
                sandbox_cleanup.untrack(sb)  # not removed when this process exits
                return f"{sb.id}: docker exec -it -u 1000 airgap-{sb.id} bash (remove: inspect sandbox cleanup airgap {sb.id})"
            env.world.close()
            return ""

        for env in left:
            line = await anyio.to_thread.run_sync(leave, env)
            if line:
                print(f"airgap sandbox left running: {line}")

    @classmethod
    async def cli_cleanup(cls, id: str | None) -> None:
        """``inspect sandbox cleanup airgap [ID]``: with an id, remove that sandbox (its airgap id ``sb-...`` or container
        id); without, remove every Airgap object whose owning process is gone (``airgap sandbox gc``), never a live
        one."""

        def run() -> list[dict]:
            from airgap.sandbox.cleanup import gc, list_objects
            from airgap.sandbox.runtime import get_runtime
            from airgap.sandbox.sandbox import sandbox_root

            if id is None:
                return gc()
            runtime = get_runtime()
            removed = []
            for row in list_objects(runtime):
                sandbox_id = row["labels"].get("airgap.sandbox")
                if row["kind"] == "container" and (sandbox_id == id or row["id"].startswith(id)):
                    runtime.remove_object(row)
                    removed.append(row)
                    if sandbox_id:
                        shutil.rmtree(sandbox_root() / sandbox_id, ignore_errors=True)  # its sockets' folder
            return removed

        removed = await anyio.to_thread.run_sync(run)
        for row in removed:
            print(f"removed {row['kind']} {row['name']}")

    # -- commands -----------------------------------------------------------------------------------

    async def exec(self, cmd: list[str], input: str | bytes | None = None, cwd: str | None = None,
                   env: dict[str, str] | None = None, user: str | None = None, timeout: int | None = None,
                   timeout_retry: bool = True, concurrency: bool = True) -> ExecResult[str]:
        if user is not None and str(user) not in AGENT_USERS:
            raise SandboxUserUnsupportedError(
                f"the airgap sandbox runs everything as its one unprivileged user 'agent' (uid 1000); it cannot run as "
                f"{user!r}")
        workdir = _resolve(cwd or WORKDIR)
        limit = SandboxEnvironmentLimits.MAX_EXEC_OUTPUT_SIZE
        step = self.record.begin("inspect.exec", {"cmd": list(cmd), "cwd": workdir, "user": user, "timeout": timeout},
                                 ["runs_commands"])
        t0 = time.monotonic()
        ok = False
        argv = [str(c) for c in cmd]

        def run() -> Any:
            line = argv
            if len(json.dumps(argv)) > ARGV_INLINE_MAX:  # too long for the init's request line: through a file
                path = f"/tmp/.airgap-argv-{secrets.token_hex(8)}.json"
                self.sandbox.write_file(path, json.dumps(argv).encode(), mode=0o600)
                line = ["/usr/bin/python3", "-c", EXEC_FROM_FILE, path]
            return self.sandbox.exec(line, timeout=timeout, max_output=limit, cwd=workdir, env=dict(env or {}),
                                     stdin=input)

        summary = "failed: the sandbox could not run it"
        try:
            r = await anyio.to_thread.run_sync(lambda: self._sandbox_call(run))
            ok = r.exit_code == 0
            summary = "timed out" if r.timed_out else f"exit {r.exit_code}"
        finally:
            self.record.end(step, ok, summary, time.monotonic() - t0)
            _transcript_events(self.record)
        if r.timed_out:
            err = TimeoutError(f"Command timed out after {timeout} seconds")
            partial = _kept(r.stdout) + _kept(r.stderr)
            if partial:
                err.truncated_output = partial  # type: ignore[attr-defined] - as Inspect's docker provider sets it
            raise err
        if r.exit_code == 126 and r.duration_ms == 0.0 and r.stderr.startswith("airgap: cannot run"):
            # the init could not start the program at all (not executable): what Inspect's docker provider raises
            raise PermissionError(f"Permission denied executing command: {r.stderr.strip()}")
        if r.truncated:
            raise OutputLimitExceededError(limit_str=SandboxEnvironmentLimits.MAX_EXEC_OUTPUT_SIZE_STR,
                                           truncated_output=_kept(r.stdout if r.stdout_bytes > limit else r.stderr))
        return ExecResult(success=r.exit_code == 0, returncode=r.exit_code, stdout=r.stdout, stderr=r.stderr)

    def _sandbox_call(self, fn: Any) -> Any:
        """Run one blocking sandbox call; a sandbox that is gone is :class:`SandboxUnavailableError`."""
        from airgap.sandbox import SandboxError

        try:
            return fn()
        except SandboxError as e:
            raise SandboxUnavailableError(f"the airgap sandbox cannot run the request: {e}") from e

    # -- files --------------------------------------------------------------------------------------

    async def write_file(self, file: str, contents: str | bytes) -> None:
        path = _resolve(file)
        data = contents.encode("utf-8") if isinstance(contents, str) else bytes(contents)
        step = self.record.begin("inspect.write_file", {"path": path, "size": len(data)}, ["writes_files"])
        t0 = time.monotonic()
        ok = False
        try:
            await anyio.to_thread.run_sync(lambda: self._sandbox_call(lambda: self.sandbox.write_file(path, data)))
            ok = True
        finally:
            self.record.end(step, ok, "written" if ok else "failed", time.monotonic() - t0)
            _transcript_events(self.record)

    @overload
    async def read_file(self, file: str, text: Literal[True] = True) -> str: ...

    @overload
    async def read_file(self, file: str, text: Literal[False]) -> bytes: ...

    async def read_file(self, file: str, text: bool = True) -> Union[str | bytes]:
        path = _resolve(file)
        step = self.record.begin("inspect.read_file", {"path": path}, ["reads_files"])
        t0 = time.monotonic()
        ok = False
        limit = SandboxEnvironmentLimits.MAX_READ_FILE_SIZE

        def read() -> bytes | None:
            # the size first, so a file over the limit is never read into memory (the init reads a file whole); a
            # path stat cannot size (missing, not allowed) is left to the read, which raises the right OSError
            size = self.sandbox.exec(["stat", "-L", "-c", "%s", path], timeout=30)
            if size.exit_code == 0 and size.stdout.strip().isdigit() and int(size.stdout) > limit:
                return None
            return self.sandbox.read_file(path)

        try:
            data = await anyio.to_thread.run_sync(lambda: self._sandbox_call(read))
            ok = data is not None
        finally:
            self.record.end(step, ok, "read" if ok else "failed", time.monotonic() - t0)
            _transcript_events(self.record)
        if data is None or len(data) > limit:
            raise OutputLimitExceededError(limit_str=SandboxEnvironmentLimits.MAX_READ_FILE_SIZE_STR, truncated_output=None)
        # newlines as they are (Inspect's contract: like open(newline=""))
        return data.decode("utf-8") if text else data

    # -- a human's way in ---------------------------------------------------------------------------

    async def connection(self, *, user: str | None = None) -> SandboxConnection:
        if user is not None and str(user) not in AGENT_USERS:
            raise SandboxUserUnsupportedError(f"the airgap sandbox has only the user 'agent', not {user!r}")
        argv = self.sandbox.interactive_argv("bash", "-l")
        return SandboxConnection(type="airgap", command=" ".join(argv), container=self.sandbox.container_id)

    def default_polling_interval(self) -> float:
        return 0.2


def _resolve(path: str) -> str:
    """Absolute in the container: relative paths are the sample's working directory's (``/workspace``)."""
    p = str(path)
    return p if p.startswith("/") else f"{WORKDIR}/{p}"


def _kept(text: str) -> str:
    """Captured output without the sandbox's truncation note."""
    cut = text.rfind("\n[airgap: output truncated:")
    return text[:cut] if cut >= 0 else text
