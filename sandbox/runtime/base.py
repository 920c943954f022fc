"""The ContainerRuntime interface: everything Sandbox, SandboxPool, cleanup and the image builder ask of an engine."""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ..config import SandboxConfig

# Every object the project creates carries these labels (plus owner pid and start time) so leftovers can be found.
PROJECT_LABEL = "airgap.project"
PROJECT_LABELS = {PROJECT_LABEL: "airgap"}


@dataclass(frozen=True)
class ContainerState:
    """What the engine says about a container that still exists."""

    running: bool
    exit_code: int | None = None
    oom_killed: bool = False
    error: str = ""


@dataclass(frozen=True)
class ExecOutput:
    """The raw outcome of a command run through the engine (the slow fallback path)."""

    exit_code: int
    stdout: bytes
    stderr: bytes
    timed_out: bool = False


@runtime_checkable
class ContainerRuntime(Protocol):
    """A container engine, as the sandbox needs it. Every method is bounded in time and raises only
    :class:`~airgap.sandbox.SandboxError` (with a message that says what to do next).

    Files and fast exec do not go through the runtime: the harness reaches the in-container init over a
    unix socket in the sandbox's host folder, so a runtime only has to mount that folder (see ``create``).
    """

    name: str  # the registry name ("docker")

    def ping(self) -> None:
        """Return when the engine answers; raise SandboxError when it does not."""

    def create(self, config: SandboxConfig, sandbox_id: str, host_dir: Path, labels: dict[str, str]) -> str:
        """Create and start the container of one sandbox; return its id. Never pulls an image.

        It must be hardened as DESIGN.md "Isolation" says: no network, all capabilities dropped but the
        init's, no-new-privileges, read-only root with tmpfs scratch, limits from ``config``, ``labels`` on it,
        ``host_dir`` mounted read-write at ``IN_CONTAINER_DIR`` and ``host_dir/ca.pem`` read-only over ``CA_BUNDLE``
        (both in ``airgap.sandbox.config``), the init (``python3 -I /opt/airgap/init.py``) as its command."""

    def state(self, container_id: str) -> ContainerState | None:
        """The container's state, or None when it is gone."""

    def exec(self, container_id: str, argv: list[str], *, user: str, workdir: str,
             environment: dict[str, str] | None, timeout: float) -> ExecOutput:
        """Run ``argv`` through the engine (not the init), killed after ``timeout`` seconds."""

    def remove(self, container_id: str) -> None:
        """Kill and remove a container; one already gone is fine."""

    def list(self, labels: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """Every object (container, network, volume) carrying ``labels`` (default: :data:`PROJECT_LABELS`).

        Each row: kind, id, name, labels, image, status, created."""

    def remove_object(self, row: dict[str, Any]) -> None:
        """Remove one row returned by :meth:`list`."""

    def image_labels(self, ref: str) -> dict[str, str] | None:
        """Labels of a local image, or None when the engine does not have it (never pulls)."""

    def image_id(self, ref: str) -> str:
        """The id (digest) of a local image."""

    def import_image(self, tarball: Path, ref: str) -> None:
        """Make an image of a root filesystem tarball."""

    def build_image(self, context: io.BytesIO, tag: str, buildargs: dict[str, str], labels: dict[str, str],
                    log: Callable[[str], None]) -> str:
        """Build from an in-memory tar context (a Dockerfile at its root); return the image id."""

    def runtimes(self) -> set[str]:
        """The OCI runtimes the engine offers (``runsc`` when gVisor is installed)."""

    def interactive_argv(self, container_id: str) -> list[str]:
        """A command line prefix giving a human an interactive process in the container as the agent."""
