"""The container engine behind a small interface: create, exec, files, destroy, list-by-label.

Callers (Sandbox, SandboxPool, gc, the image builder) only talk to :class:`DockerBackend`, so a remote
Docker host or Kubernetes can be added later as another class with the same methods.

Docker is treated as unreliable: every engine call has a timeout (the SDK client's) and a bounded
retry on connection-level failures, and every failure comes out as a :class:`SandboxError` that says
what to do next. A dead daemon is an error within seconds, never a hang.
"""
from __future__ import annotations

import contextlib
import fcntl
import io
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, TypeVar

from .errors import SandboxError

T = TypeVar("T")

# Every object the project creates carries these labels (plus owner pid and start time) so leftovers can be found.
PROJECT_LABEL = "airgap.project"
PROJECT_LABELS = {PROJECT_LABEL: "airgap"}
DEFAULT_TIMEOUT = 30.0
RETRIES = 3


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
    path = Path(tempfile.gettempdir()) / f"airgap-engine-{os.getuid()}.lock"
    with open(path, "a") as f:  # one open file per holder: flock then excludes threads as well as processes
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _docker():
    import docker  # imported lazily: `airgap --help` should not pay for the SDK

    return docker


def engine_reachable(timeout: float = 5.0) -> bool:
    """True when a Docker engine answers a ping (for callers that do optional Docker work, e.g. benchmarks)."""
    try:
        DockerBackend(timeout=timeout).client.ping()
        return True
    except Exception:  # noqa: BLE001 - any failure means "no engine to use"
        return False


class DockerBackend:
    """A Docker engine reached through ``DOCKER_HOST`` (or the local socket)."""

    name = "docker"

    def __init__(self, base_url: str | None = None, timeout: float = DEFAULT_TIMEOUT):
        docker = _docker()
        self.base_url = base_url or os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
        self.timeout = timeout
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

    # -- images -----------------------------------------------------------------------------------

    def image_labels(self, ref: str) -> dict[str, str] | None:
        """Labels of a local image, or None when the engine does not have it (never pulls)."""
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

    def runtimes(self) -> set[str]:
        """Runtimes the engine offers (``runsc`` appears here when gVisor is installed)."""
        return set(self.call("docker info", self.client.info).get("Runtimes", {}))

    # -- containers -------------------------------------------------------------------------------

    def create(self, image: str, **spec: Any) -> str:
        """Create and start a detached container; return its id. Never pulls: the image must exist.

        ``spec`` takes ``containers.run`` keywords, except ``ulimits``: a plain {name: limit} dict."""
        if self.image_labels(image) is None:
            raise SandboxError(f"image {image!r} not found in the Docker engine. Build it with "
                               "`airgap sandbox build` (no registry needed), or pass an image you have.")
        ulimit = _docker().types.Ulimit
        spec["ulimits"] = [ulimit(name=k, soft=v, hard=v) for k, v in spec.get("ulimits", {}).items()]
        with engine_lock(self.base_url):
            container = self.call("start container", lambda: self.client.containers.run(image, detach=True, **spec),
                                  retries=1)
        return container.id

    def state(self, container_id: str) -> dict[str, Any] | None:
        """The container's ``State`` (Running, ExitCode, OOMKilled, ...), or None if it is gone."""
        docker = _docker()

        def get():
            try:
                return self.client.api.inspect_container(container_id)["State"]
            except docker.errors.NotFound:
                return None

        return self.call("inspect container", get)

    def exec(self, container_id: str, argv: list[str], user: str = "1000:1000", workdir: str = "/workspace",
             environment: dict[str, str] | None = None) -> tuple[int, bytes, bytes]:
        """``docker exec`` (the slow fallback path); returns exit code, stdout, stderr."""

        def run():
            api = self.client.api
            ex = api.exec_create(container_id, argv, user=user, workdir=workdir, environment=environment)
            out, err = api.exec_start(ex["Id"], demux=True)
            return api.exec_inspect(ex["Id"])["ExitCode"], out or b"", err or b""

        return self.call("docker exec", run, retries=1)

    def remove(self, container_id: str) -> None:
        """Kill and remove a container; a container already gone is fine."""
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
        """Every container, network and volume carrying ``labels`` (default: the project label).

        Each row: kind, id, name, labels, image, status, created."""
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
        """Remove one row returned by :meth:`list`."""
        api = self.client.api
        if row["kind"] == "container":
            self.remove(row["id"])
        elif row["kind"] == "network":
            self.call("remove network", lambda: api.remove_network(row["id"]))
        else:
            self.call("remove volume", lambda: api.remove_volume(row["id"], force=True))

    def docker_exec_argv(self, container_id: str) -> list[str]:
        """The CLI prefix an interactive ``docker exec -it`` needs against this engine."""
        host = ["-H", self.base_url] if self.base_url else []
        return ["docker", *host, "exec", "-it", "-u", "1000:1000", "-w", "/workspace", container_id]

