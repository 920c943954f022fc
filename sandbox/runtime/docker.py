"""The Docker runtime: ``DockerRuntime``, ``container_spec``, ``engine_lock`` and every Docker-only call.

Docker is treated as unreliable: every engine call has a timeout (the SDK client's) and a bounded retry
on connection-level failures, and every failure comes out as a :class:`SandboxError` that says what to
do next. A dead daemon is an error within seconds, never a hang.
"""
from __future__ import annotations

import contextlib
import fcntl
import io
import math
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, TypeVar

from ..config import AGENT, CA_BUNDLE, IN_CONTAINER_DIR, INIT_CAPS, SETUP_CAPS, SandboxConfig, capture_mode, parse_size
from ..errors import SandboxError
from .base import PROJECT_LABELS, ContainerState, ExecOutput

T = TypeVar("T")
DEFAULT_TIMEOUT = 30.0
RETRIES = 3
EXEC_MARGIN = 30.0  # seconds the engine may take beyond a `docker exec`'s own timeout
# Intercepted TCP is REDIRECTed, so each attempt leaves a conntrack entry (per network namespace, capped by the
# host's nf_conntrack_max): closed connections are forgotten after a second instead of two minutes, so a flood
# of attempts cannot fill the table (a full table drops new connections unseen).
CONNTRACK_TIMEOUTS = {f"net.netfilter.nf_conntrack_tcp_timeout_{state}": "1"
                      for state in ("time_wait", "close", "fin_wait", "close_wait", "last_ack")}
_ENGINES_CHECKED: set[str] = set()  # engines (by address) found not to be rootless Docker or Podman, this process


@contextlib.contextmanager
def engine_lock(base_url: str):
    """Serialise container starts and removals on one local engine, across threads and processes.

    Docker 20.10's libnetwork (Debian bookworm ships 20.10.24) can deadlock when containers are started and
    removed concurrently (moby/moby#46661, fixed upstream in 20.10.27): every later `docker run` then hangs
    in its `libnetwork-setkey` hook until dockerd is restarted. Seen here with four async envs refilling their
    pools at once. A start costs ~0.3 s, so serialising them costs little; remote engines are not locked.
    """
    if not base_url.startswith("unix://"):
        yield
        return
    # The per-user lock of earlier versions is taken too (first, always in this order), so that airgap processes
    # still running older code are excluded as well.
    with contextlib.ExitStack() as stack:
        for path in (Path(tempfile.gettempdir()) / f"airgap-engine-{os.getuid()}.lock", lock_path()):
            fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o666)  # one open file per holder: flock then
            stack.callback(os.close, fd)                         # excludes threads as well as processes
            try:
                os.fchmod(fd, 0o666)  # every user of the engine shares the lock (only its creator can chmod)
            except OSError:
                pass
            fcntl.flock(fd, fcntl.LOCK_EX)
            stack.callback(fcntl.flock, fd, fcntl.LOCK_UN)
        yield


def lock_path() -> Path:
    """One lock file for every user of this machine's engine (a lock per user would not exclude the others)."""
    return Path(tempfile.gettempdir()) / "airgap-engine.lock"


def _docker():
    import docker  # imported lazily: `airgap --help` should not pay for the SDK

    return docker


def engine_reachable(timeout: float = 5.0) -> bool:
    """True when a Docker engine answers a ping (for callers that do optional Docker work, e.g. benchmarks)."""
    try:
        DockerRuntime(timeout=timeout).ping()
        return True
    except Exception:  # noqa: BLE001 - any failure means "no engine to use"
        return False


def container_spec(config: SandboxConfig, sandbox_id: str, host_dir: Path, labels: dict[str, str]) -> dict[str, Any]:
    """The Docker ``containers.run`` arguments that make a sandbox what DESIGN.md promises.

    ``ulimits`` is a plain {name: limit} dict here; :meth:`DockerRuntime.create` turns it into SDK objects."""
    env = {"TZ": "UTC", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "PYTHONHASHSEED": "0", **config.env}
    fsize = max(parse_size(config.workspace_size), parse_size(config.tmp_size))
    agent_tmpfs = "rw,nosuid,nodev,uid=1000,gid=1000,mode=0755,size="
    spec: dict[str, Any] = dict(
        name=f"airgap-{sandbox_id}", hostname="sandbox", user="0:0", init=True,
        command=["python3", "-I", "/opt/airgap/init.py"], working_dir="/workspace",
        environment={**env, "AIRGAP_DIR": IN_CONTAINER_DIR, "AIRGAP_CAPTURE": capture_mode(config.capture)},
        labels=dict(labels),
        network_mode="none", dns=["127.0.0.1"], dns_search=["."],
        # the container's own name resolves here (git, hostname -f and others look it up): not a look-up that leaves
        extra_hosts=["sandbox:127.0.0.1", "sandbox:::1"],
        cap_drop=["ALL"], cap_add=INIT_CAPS + (SETUP_CAPS if config.intercept else []),
        security_opt=["no-new-privileges"], read_only=True,
        tmpfs={"/tmp": f"rw,nosuid,nodev,mode=1777,size={config.tmp_size}",
               # /var/tmp too (root-owned, sticky, as on any Linux), where Inspect injects its sandbox tools and runs
               # them: the one tmpfs without Docker's default noexec (the agent's python3/sh run any script anyway)
               "/var/tmp": f"rw,exec,nosuid,nodev,mode=1777,size={config.tmp_size}",
               "/workspace": agent_tmpfs + config.workspace_size, "/home/agent": agent_tmpfs + config.tmp_size},
        volumes={str(host_dir): {"bind": IN_CONTAINER_DIR, "mode": "rw"},
                 str(host_dir / "ca.pem"): {"bind": CA_BUNDLE, "mode": "ro"}},
        pids_limit=config.pids, mem_limit=config.memory, memswap_limit=config.memory,
        nano_cpus=int(config.cpus * 1e9),
        ulimits={"nofile": config.nofile, "fsize": fsize},
        sysctls={"net.ipv4.ip_unprivileged_port_start": "0",
                 # IPv6 on lo, so that a v6 literal reaches the init's catch-all and is logged too
                 **({"net.ipv6.conf.all.disable_ipv6": "0", "net.ipv6.conf.lo.disable_ipv6": "0", **CONNTRACK_TIMEOUTS}
                    if config.intercept else {})},
    )
    if os.getgid() != 0:  # a harness that is not root shares the ctl/ folder with the init through its group
        spec["group_add"] = [str(os.getgid())]
    if config.runtime:
        spec["runtime"] = config.runtime
    return spec


class DockerRuntime:
    """A Docker engine reached through ``DOCKER_HOST`` (or the local socket)."""

    name = "docker"

    def __init__(self, base_url: str | None = None, timeout: float = DEFAULT_TIMEOUT):
        docker = _docker()
        self.base_url = base_url or os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
        self.timeout = timeout
        self._exec_apis: dict[int, Any] = {}  # read timeout -> API client, for execs longer than `timeout`
        try:
            self.client = docker.DockerClient(base_url=self.base_url, timeout=timeout)
        except docker.errors.DockerException as e:
            raise SandboxError(self._unreachable(e)) from e

    # -- plumbing ---------------------------------------------------------------------------------

    def _unreachable(self, err: Exception) -> str:
        return (f"cannot reach the Docker engine at {self.base_url}: {err}. Is dockerd running "
                "(`systemctl start docker` or `dockerd &`) and is DOCKER_HOST right?")

    def call(self, what: str, fn: Callable[[], T], retries: int = RETRIES) -> T:
        """Run one engine call with a bounded retry on transport errors; translate failures."""
        docker = _docker()
        import requests

        for attempt in range(retries):
            try:
                return fn()
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as e:
                if attempt == retries - 1:
                    raise SandboxError(f"{what}: " + self._unreachable(e)) from e
                time.sleep(0.2 * (attempt + 1))
            except docker.errors.NotFound as e:
                raise SandboxError(f"{what}: not found ({e.explanation or e})") from e
            except docker.errors.APIError as e:
                # 5xx answers are often transient (engine busy, a race with a removal); 4xx are ours.
                if e.is_server_error() and attempt < retries - 1:
                    time.sleep(0.2 * (attempt + 1))
                    continue
                raise SandboxError(f"{what}: the engine refused: {e.explanation or e}") from e
            except docker.errors.DockerException as e:
                raise SandboxError(f"{what}: {e}") from e
        raise AssertionError("unreachable")

    def ping(self) -> None:
        self.call("ping", self.client.ping, retries=1)

    # -- images -----------------------------------------------------------------------------------

    def image_labels(self, ref: str) -> dict[str, str] | None:
        docker = _docker()

        def get():
            try:
                return self.client.images.get(ref).labels or {}
            except docker.errors.ImageNotFound:
                return None

        return self.call(f"inspect image {ref}", get)

    def image_id(self, ref: str) -> str:
        return self.call(f"inspect image {ref}", lambda: self.client.images.get(ref).id)

    def import_image(self, tarball: Path, ref: str) -> None:
        """``docker import`` a rootfs tarball (a long call: no client timeout applies to the upload)."""
        repo, tag = ref.rsplit(":", 1)
        with open(tarball, "rb") as f:
            self.call(f"import {tarball}", lambda: self.client.api.import_image_from_data(
                f, repository=repo, tag=tag), retries=1)

    def build_image(self, context: io.BytesIO, tag: str, buildargs: dict[str, str], labels: dict[str, str],
                    log: Callable[[str], None]) -> str:
        """Build from an in-memory tar context; stream the build output to ``log``; return the image id."""

        def run():
            stream = self.client.api.build(fileobj=context, custom_context=True, tag=tag, buildargs=buildargs,
                                           labels=labels, rm=True, forcerm=True, decode=True, timeout=1800)
            for chunk in stream:
                if "error" in chunk:
                    raise SandboxError(f"image build failed: {chunk['error'].strip()}")
                line = chunk.get("stream", "").rstrip()
                if line:
                    log(line)
            return self.client.images.get(tag).id

        return self.call(f"build {tag}", run, retries=1)

    def find_image(self, repositories: tuple[str, ...]) -> str | None:
        """The first local image (``repo:tag``) of the first of ``repositories`` the engine has, or None."""
        images = self.call("list images", lambda: self.client.api.images())
        for repo in repositories:
            for image in images:
                for ref in image.get("RepoTags") or []:
                    if ref.rsplit(":", 1)[0] == repo:
                        return ref
        return None

    def run_builder(self, image: str, argv: list[str], binds: dict[str, str], timeout: float) -> tuple[int, str]:
        """Run a throw-away root container with the engine's default network (to reach a package mirror) and
        ``binds`` (host folder -> container path); return its exit code and the last lines of its output."""
        api = self._exec_api(timeout + EXEC_MARGIN)

        def run():
            host_config = api.create_host_config(binds={h: {"bind": c, "mode": "rw"} for h, c in binds.items()})
            with engine_lock(self.base_url):
                c = api.create_container(image, argv, user="0:0", host_config=host_config, labels=dict(PROJECT_LABELS))
                api.start(c["Id"])
            try:
                code = api.wait(c["Id"], timeout=timeout)["StatusCode"]
                logs = api.logs(c["Id"], tail=15).decode("utf-8", "replace")
                return code, logs
            finally:
                with engine_lock(self.base_url):
                    api.remove_container(c["Id"], force=True)

        return self.call(f"build a rootfs in {image}", run, retries=1)

    def runtimes(self) -> set[str]:
        return set(self.call("docker info", self.client.info).get("Runtimes", {}))

    # -- containers -------------------------------------------------------------------------------

    def check_engine(self) -> None:
        """Refuse, with what to do instead, an engine the sandbox is not known to be safe on: rootless Docker
        and Podman (their user namespaces change who owns the sandbox's folders and sockets; untested).
        ``AIRGAP_ALLOW_ROOTLESS=1`` tries anyway. Checked once per engine address and process."""
        if self.base_url in _ENGINES_CHECKED or os.environ.get("AIRGAP_ALLOW_ROOTLESS") == "1":
            return
        info = self.call("docker info", self.client.info)
        version = self.call("docker version", self.client.version)
        components = {c.get("Name", "") for c in version.get("Components") or []}
        kind = None
        if any("podman" in name.lower() for name in components) or "podman" in str(info.get("Name", "")).lower():
            kind = "Podman's Docker-compatible socket"
        elif any("rootless" in opt for opt in info.get("SecurityOptions") or []):
            kind = "rootless Docker"
        if kind:
            raise SandboxError(f"{self.base_url} is {kind}, which airgap does not support yet (untested: its user "
                               "namespace changes who owns the sandbox's socket folders, so isolation is unproven). "
                               "Use the system Docker engine as a member of the `docker` group (`sudo usermod -aG "
                               "docker $USER`, log in again, unset DOCKER_HOST), or set AIRGAP_ALLOW_ROOTLESS=1 to try.")
        _ENGINES_CHECKED.add(self.base_url)

    def create(self, config: SandboxConfig, sandbox_id: str, host_dir: Path, labels: dict[str, str]) -> str:
        """``docker run -d`` of :func:`container_spec`, after checking the image exists (the SDK would pull it)."""
        self.check_engine()
        if self.image_labels(config.image) is None:
            raise SandboxError(f"image {config.image!r} not found in the Docker engine. Build it with "
                               "`airgap sandbox build` (no registry needed), or pass an image you have.")
        spec = container_spec(config, sandbox_id, host_dir, labels)
        ulimit = _docker().types.Ulimit
        spec["ulimits"] = [ulimit(name=k, soft=v, hard=v) for k, v in spec["ulimits"].items()]
        with engine_lock(self.base_url):
            container = self.call("start container",
                                  lambda: self.client.containers.run(config.image, detach=True, **spec), retries=1)
        return container.id

    def state(self, container_id: str) -> ContainerState | None:
        docker = _docker()

        def get():
            try:
                return self.client.api.inspect_container(container_id)["State"]
            except docker.errors.NotFound:
                return None

        state = self.call("inspect container", get)
        if state is None:
            return None
        return ContainerState(running=bool(state.get("Running")), exit_code=state.get("ExitCode"),
                              oom_killed=bool(state.get("OOMKilled")), error=state.get("Error") or "")

    def exec(self, container_id: str, argv: list[str], *, user: str = AGENT, workdir: str = "/workspace",
             environment: dict[str, str] | None = None, timeout: float = 600.0) -> ExecOutput:
        """``docker exec`` (the slow fallback path). The engine's exec has no timeout, so coreutils
        ``timeout`` enforces one inside, and the client waits that long plus a margin for the reply."""
        api = self._exec_api(timeout + EXEC_MARGIN)
        wrapped = ["timeout", "-s", "KILL", str(timeout), *argv]

        def run():
            env = {**(environment or {}), "AIRGAP_REPORT_TOKEN": ""}  # the init's secret is not the agent's
            ex = api.exec_create(container_id, wrapped, user=user, workdir=workdir, environment=env)
            out, err = api.exec_start(ex["Id"], demux=True)
            return api.exec_inspect(ex["Id"])["ExitCode"], out or b"", err or b""

        code, out, err = self.call("docker exec", run, retries=1)
        return ExecOutput(exit_code=code, stdout=out, stderr=err, timed_out=code == 137)

    def _exec_api(self, read_timeout: float):
        """An API client whose read timeout covers a command's own (the SDK has one timeout per client)."""
        if read_timeout <= self.timeout:
            return self.client.api
        key = math.ceil(read_timeout)
        if key not in self._exec_apis:
            self._exec_apis[key] = _docker().APIClient(base_url=self.base_url, version=self.client.api.api_version,
                                                        timeout=key)
        return self._exec_apis[key]

    def remove(self, container_id: str) -> None:
        docker = _docker()

        def rm():
            try:
                self.client.api.remove_container(container_id, force=True, v=True)
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError as e:
                if "already in progress" not in str(e) and "No such container" not in str(e):
                    raise

        with engine_lock(self.base_url):
            self.call("remove container", rm)

    def list(self, labels: dict[str, str] | None = None) -> list[dict[str, Any]]:
        labels = labels or PROJECT_LABELS
        filters = {"label": [f"{k}={v}" for k, v in labels.items()]}
        rows: list[dict[str, Any]] = []
        api = self.client.api
        for c in self.call("list containers", lambda: api.containers(all=True, filters=filters)):
            rows.append({"kind": "container", "id": c["Id"], "name": (c.get("Names") or ["?"])[0].lstrip("/"),
                         "labels": c.get("Labels") or {}, "image": c.get("Image", ""), "status": c.get("State", ""),
                         "created": c.get("Created", 0)})
        for n in self.call("list networks", lambda: api.networks(filters=filters)):
            rows.append({"kind": "network", "id": n["Id"], "name": n.get("Name", ""), "labels": n.get("Labels") or {},
                         "image": "", "status": "", "created": n.get("Created", "")})
        volumes = self.call("list volumes", lambda: api.volumes(filters=filters)).get("Volumes") or []
        for v in volumes:
            rows.append({"kind": "volume", "id": v["Name"], "name": v["Name"], "labels": v.get("Labels") or {},
                         "image": "", "status": "", "created": v.get("CreatedAt", "")})
        return rows

    def remove_object(self, row: dict[str, Any]) -> None:
        api = self.client.api
        if row["kind"] == "container":
            self.remove(row["id"])
        elif row["kind"] == "network":
            self.call("remove network", lambda: api.remove_network(row["id"]))
        else:
            self.call("remove volume", lambda: api.remove_volume(row["id"], force=True))

    def interactive_argv(self, container_id: str) -> list[str]:
        """``docker exec -it`` against this engine, as the agent, in /workspace."""
        return ["docker", "-H", self.base_url, "exec", "-it", "-u", AGENT, "-w", "/workspace",
                "-e", "AIRGAP_REPORT_TOKEN=", container_id]
