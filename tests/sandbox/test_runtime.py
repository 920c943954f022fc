"""The container runtime seam: the registry, the Docker spec, and a Sandbox driven through the interface alone."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from airgap.sandbox import Sandbox, SandboxConfig, SandboxError
from airgap.sandbox.runtime import (
    PROJECT_LABELS,
    ContainerRuntime,
    ContainerState,
    ExecOutput,
    available_runtimes,
    get_runtime,
    register_runtime,
)
from airgap.sandbox.runtime.docker import DockerRuntime, container_spec


class DeadOnArrival:
    """A runtime whose containers exit at once: enough to drive Sandbox's start, failure report and cleanup."""

    name = "dead-on-arrival"

    def __init__(self):
        self.created: list[dict] = []
        self.removed: list[str] = []

    def ping(self) -> None:
        pass

    def create(self, config, sandbox_id, host_dir, labels):
        self.created.append({"config": config, "sandbox": sandbox_id, "dir": Path(host_dir), "labels": labels})
        return "c-" + sandbox_id

    def state(self, container_id):
        return ContainerState(running=False, exit_code=3, oom_killed=True)

    def exec(self, container_id, argv, *, user, workdir, environment, timeout):
        return ExecOutput(exit_code=0, stdout=b"", stderr=b"")

    def remove(self, container_id):
        self.removed.append(container_id)

    def list(self, labels=None):
        return []

    def remove_object(self, row):
        pass

    def image_labels(self, ref):
        return {}

    def image_id(self, ref):
        return "sha256:0"

    def import_image(self, tarball, ref):
        pass

    def build_image(self, context, tag, buildargs, labels, log):
        return "sha256:0"

    def runtimes(self):
        return {"runc"}

    def interactive_argv(self, container_id):
        return ["true"]


def test_registry_resolves_names_and_rejects_unknown_ones():
    assert "docker" in available_runtimes()
    register_runtime("dead-on-arrival", DeadOnArrival)
    runtime = get_runtime("dead-on-arrival")
    assert isinstance(runtime, DeadOnArrival) and isinstance(runtime, ContainerRuntime)
    with pytest.raises(SandboxError, match="no container runtime 'nope'.*docker"):
        get_runtime("nope")


def test_docker_runtime_implements_the_interface():
    methods = [n for n, v in vars(ContainerRuntime).items() if callable(v) and not n.startswith("_")]
    assert {"create", "exec", "state", "remove", "list", "image_labels", "interactive_argv"} <= set(methods)
    assert [m for m in methods if not callable(getattr(DockerRuntime, m, None))] == []
    assert DockerRuntime.name == "docker"


def test_container_spec_is_hardened(tmp_path):
    config = SandboxConfig(memory="256m", cpus=0.5, pids=64, runtime="runsc", env={"TZ": "Europe/Paris"})
    spec = container_spec(config, "sb-x", tmp_path, {**PROJECT_LABELS, "airgap.sandbox": "sb-x"})
    assert spec["network_mode"] == "none" and spec["read_only"] and spec["cap_drop"] == ["ALL"]
    assert spec["security_opt"] == ["no-new-privileges"] and spec["runtime"] == "runsc"
    assert spec["mem_limit"] == spec["memswap_limit"] == "256m" and spec["pids_limit"] == 64
    assert spec["nano_cpus"] == 500_000_000 and spec["environment"]["TZ"] == "Europe/Paris"
    assert spec["labels"] == {"airgap.project": "airgap", "airgap.sandbox": "sb-x"}
    assert spec["volumes"][str(tmp_path)]["bind"] == "/run/airgap"
    assert spec["volumes"][str(tmp_path / "ca.pem")]["mode"] == "ro"


def test_sandbox_talks_only_to_the_interface(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRGAP_RUN_DIR", str(tmp_path))
    runtime = DeadOnArrival()
    with pytest.raises(SandboxError, match=r"died while starting \(exit code 3, OOM-killed\)"):
        Sandbox(SandboxConfig(start_timeout=30), runtime=runtime)
    [created] = runtime.created
    assert created["labels"]["airgap.sandbox"] == created["sandbox"]
    assert created["labels"]["airgap.owner_pid"] == str(os.getpid())
    assert created["labels"]["airgap.project"] == "airgap"
    assert runtime.removed == ["c-" + created["sandbox"]]  # the failed start left nothing behind
    assert list(tmp_path.iterdir()) == []
