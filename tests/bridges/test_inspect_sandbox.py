"""The `airgap` Inspect sandbox provider passes Inspect's own sandbox self-check (inspect_ai/util/_sandbox/self_check.py).

The checks are Inspect's, imported unchanged into this module's collection as Inspect documents (a `sandbox_env`
fixture, known failures marked xfail inside it). One real Airgap sandbox (real Docker, the bundled offline web) is
shared by the module. The one expected failure is by design: the sandbox has no root, so `test_exec_as_user` (which
runs `adduser` as root) cannot pass; `user="root"` raises `SandboxUserUnsupportedError`, which Inspect's contract
names for exactly this.
"""
from __future__ import annotations

import anyio
import pytest

pytest.importorskip("inspect_ai", reason="the inspect extra is not installed: pip install 'airgap[inspect]'")

from inspect_ai.util import SandboxUserUnsupportedError  # noqa: E402
from inspect_ai.util._sandbox.registry import registry_find_sandboxenv  # noqa: E402
from inspect_ai.util._sandbox.self_check import *  # noqa: E402,F403 - Inspect's checks, collected here

pytestmark = pytest.mark.anyio

#: Checks this sandbox cannot pass, and why (strict: one that starts passing must be taken off the list).
BY_DESIGN = {
    "test_exec_as_user": "the airgap sandbox runs everything as its one unprivileged user; there is no root to run adduser",
}


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="module")
def airgap_sandbox(sandbox_image, default_snapshot, tmp_path_factory):
    """One real Airgap sandbox for the module, made and cleaned up through the provider Inspect's registry finds."""
    from airgap.envs.bridges.inspect import _registry  # noqa: F401 - what Inspect's entry point imports
    from airgap.envs.bridges.inspect.sandbox import AirgapSandboxConfig

    provider = registry_find_sandboxenv("airgap")
    # fresh: a container of its own (the suite's autouse fixture closes the shared pools after every Docker test)
    cfg = AirgapSandboxConfig(mode="fresh", log_dir=str(tmp_path_factory.mktemp("airgap-logs")))

    async def init():
        await provider.task_init("self_check", cfg)
        return await provider.sample_init("self_check", cfg, {})

    envs = anyio.run(init)
    yield envs["default"]
    anyio.run(provider.sample_cleanup, "self_check", cfg, envs, False)


@pytest.fixture
def sandbox_env(request, airgap_sandbox):
    why = BY_DESIGN.get(request.node.originalname)
    if why:
        request.node.add_marker(pytest.mark.xfail(reason=why, strict=True))
    return airgap_sandbox


def test_the_provider_is_registered_under_its_name():
    from airgap.envs.bridges.inspect.sandbox import AirgapSandboxEnvironment

    assert registry_find_sandboxenv("airgap") is AirgapSandboxEnvironment


async def test_root_is_refused_with_the_error_inspect_names(sandbox_env):
    with pytest.raises(SandboxUserUnsupportedError):
        await sandbox_env.exec(["whoami"], user="root")
    assert (await sandbox_env.exec(["whoami"], user="agent")).stdout == "agent\n"


async def test_output_over_the_limit_raises_with_what_was_kept(sandbox_env):
    from inspect_ai.util import OutputLimitExceededError
    from inspect_ai.util._sandbox.limits import override_max_exec_output_size

    with override_max_exec_output_size(1024):
        with pytest.raises(OutputLimitExceededError) as e:
            await sandbox_env.exec(["sh", "-c", "head -c 5000 /dev/zero | tr '\\0' a"])
    assert e.value.truncated_output == "a" * 1024


async def test_each_call_is_a_step_of_the_episode_log(sandbox_env):
    before = sandbox_env.record.step
    await sandbox_env.exec(["true"])
    await sandbox_env.write_file("steps.txt", "x")
    await sandbox_env.read_file("steps.txt")
    assert sandbox_env.record.step == before + 3
    assert sandbox_env.record.log_path.is_file()


def test_a_config_file_names_the_world_and_its_services_answer(sandbox_image, default_snapshot, tmp_path):
    """`sandbox=("airgap", "world.yaml")`: the world's seed and backends come from the file; curl reaches the mail service
    of world 0 through the gateway, and the sample's log says so."""
    from airgap.envs.world import Backends

    provider = registry_find_sandboxenv("airgap")
    world = tmp_path / "world.yaml"
    world.write_text(f"snapshot: none\nworld_seed: 0\nbackends: [mail]\nmode: fresh\nlog_dir: {tmp_path / 'logs'}\n")
    [host] = Backends().get(["mail"], 0)["mail"].hosts

    async def run():
        envs = await provider.sample_init("config_file", str(world), {})
        try:
            r = await envs["default"].exec(["sh", "-c", f"curl -s -o /dev/null -w '%{{http_code}}' https://{host}/api/messages"])
        finally:
            await provider.sample_cleanup("config_file", str(world), envs, False)
        return r, envs["default"].record.summary()

    r, summary = anyio.run(run)
    assert r.success and r.stdout == "401"  # the mail service answered: its API wants the caller's token
    assert summary["gateway_requests"] == 1 and summary["signature"]["signature"]


def test_cli_cleanup_removes_the_sandbox_it_is_given(sandbox_image):
    from airgap.sandbox import Sandbox
    from airgap.sandbox.cleanup import list_objects

    provider = registry_find_sandboxenv("airgap")
    sb = Sandbox()
    try:
        anyio.run(provider.cli_cleanup, sb.id)
        assert not [r for r in list_objects() if r["labels"].get("airgap.sandbox") == sb.id]
    finally:
        sb.close()


def test_no_sandbox_cleanup_leaves_the_container_running_with_its_log_sealed(sandbox_image, tmp_path):
    """Inspect's `--no-sandbox-cleanup` skips sample cleanup and calls task_cleanup(cleanup=False): the container stays
    (also past this process: it is no longer the process's to remove at exit), its log is sealed and signed, and
    `inspect sandbox cleanup airgap ID` removes it."""
    from airgap.envs.bridges.inspect.sandbox import AirgapSandboxConfig
    from airgap.sandbox import cleanup
    from airgap.sandbox.cleanup import list_objects
    from airgap.sandbox.sandbox import sandbox_root

    provider = registry_find_sandboxenv("airgap")
    cfg = AirgapSandboxConfig(snapshot="none", mode="fresh", log_dir=str(tmp_path))
    envs = anyio.run(provider.sample_init, "left_running", cfg, {})
    env = envs["default"]
    sb = env.sandbox
    try:
        anyio.run(provider.task_cleanup, "left_running", cfg, False)
        assert env.record.closed and env.record.signature["signature"]
        assert sb not in cleanup._live  # the exit handler will not remove it
        running = [r for r in list_objects() if r["labels"].get("airgap.sandbox") == sb.id]
        assert running and running[0]["status"] == "running"
    finally:
        anyio.run(provider.cli_cleanup, sb.id)
    assert not [r for r in list_objects() if r["labels"].get("airgap.sandbox") == sb.id]
    assert not (sandbox_root() / sb.id).exists()


async def test_tools_inspect_injects_run_in_the_sandbox(sandbox_env):
    """`bash_session()` and `text_editor()` run Inspect's own sandbox tools, which Inspect injects under /var/tmp (a
    scratch tmpfs the sandbox gives for it, emptied on recycle like /tmp) and runs as the sandbox's user."""
    from inspect_ai.tool import bash_session, text_editor
    from inspect_ai.util._sandbox.context import sandbox_default_context_var, sandbox_environments_context_var

    environments, default = sandbox_environments_context_var.set({"default": sandbox_env}), sandbox_default_context_var.set("default")
    try:
        shell = await bash_session()(action="type_submit", input="echo from-the-session $(id -u)")
        assert "from-the-session 1000" in str(shell)
        await text_editor()(command="create", path="/workspace/injected.txt", file_text="one\ntwo\n")
        assert "2\ttwo" in str(await text_editor()(command="view", path="/workspace/injected.txt"))
        from inspect_ai.util._sandbox._cli import SANDBOX_CLI

        assert SANDBOX_CLI.startswith("/var/tmp/")
        assert (await sandbox_env.exec(["test", "-x", SANDBOX_CLI])).success  # where Inspect put the tools it ran
    finally:
        sandbox_default_context_var.reset(default)
        sandbox_environments_context_var.reset(environments)
