"""The harness without root: a user made here, in the `docker` group, builds (the image exists: used as it is),
runs a sandbox through the API and the CLI, with interception, the gateway and recycling, and cannot be the
agent's uid. Nothing is skipped: a machine where the user cannot be made fails with the reason."""
from __future__ import annotations

import grp
import json
import os
import secrets
import shutil
import subprocess
import sys
import sysconfig
import tempfile

import pytest

pytestmark = pytest.mark.docker

SCRIPT = r"""
import json, os, site, sys
site.addsitedir(sys.argv[1])
from airgap.sandbox import Sandbox, SandboxConfig
from airgap.sandbox.image import build
out = {"uid": os.getuid()}
out["image"] = build(log=lambda line: None)[:19]
events = []

async def app(scope, receive, send):
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hello from the world"})

with Sandbox(SandboxConfig(), routes={"docs.python.org": app}, sink=events.append) as sb:
    out["dir_owner"] = os.stat(sb.dir).st_uid
    out["ctl_owner"] = os.stat(sb.dir / "ctl").st_uid
    out["intercept"] = sb.intercept
    r = sb.exec("id -u; curl -sS https://docs.python.org/; echo; ls /run/airgap/ctl 2>&1; "
                "python3 -c \"import socket; socket.create_connection(('192.0.2.44', 5432), timeout=3).recv(100)\"")
    out["exec"] = r.stdout
    out["attempts"] = [(e["dst_ip"], e["dst_port"]) for e in events if e["type"] == "egress_attempt" and "dst_port" in e]
    out["recycle"] = sb.recycle()
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def docker_user():
    """A fresh user in the docker group, with a uid and gid that are not the agent's; removed afterwards."""
    if os.geteuid() != 0:
        pytest.fail("making a test user needs root (useradd); run this module as root, or make a user in the "
                    "`docker` group yourself and run the suite as that user")
    try:
        grp.getgrnam("docker")
    except KeyError:
        pytest.fail("there is no `docker` group on this machine: the harness-without-root case needs one")
    if shutil.which("useradd") is None or shutil.which("runuser") is None:
        pytest.fail("useradd and runuser (util-linux, passwd) are needed to make and become a test user")
    name = f"airgap-t{secrets.token_hex(3)}"
    uid = 23000 + secrets.randbelow(20000)
    home = tempfile.mkdtemp(prefix="airgap-nonroot-")
    subprocess.run(["useradd", "-M", "-d", home, "-u", str(uid), "-U", "-G", "docker", "-s", "/bin/sh", name], check=True)
    os.chown(home, uid, uid)
    try:
        yield name, home
    finally:
        subprocess.run(["userdel", name], check=False)
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(os.path.join(tempfile.gettempdir(), f"airgap-{uid}"), ignore_errors=True)  # its sandbox root


def _python_for(user_home: str) -> list[str]:
    """An interpreter the test user may run: ours if it is reachable, else the system's of the same version."""
    candidates = [sys.executable, f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"]
    for exe in candidates:
        real = os.path.realpath(exe)
        if os.path.exists(real) and all(os.stat(p).st_mode & 0o001 for p in _parents(real)):
            return [exe]
    pytest.fail(f"no python {sys.version_info.major}.{sys.version_info.minor} the test user can run ({candidates}: "
                "the venv's interpreter sits in a folder only root can enter): install python3 for every user")


def _parents(path: str) -> list[str]:
    out, p = [], os.path.dirname(path)
    while p not in ("/", ""):
        out.append(p)
        p = os.path.dirname(p)
    return out


def test_a_docker_group_user_runs_sandboxes_with_the_same_isolation(docker_user, sandbox_image):
    name, home = docker_user
    site_packages = sysconfig.get_paths()["purelib"]
    cmd = ["runuser", "-u", name, "--", "env", f"HOME={home}", "PATH=/usr/bin:/bin", *_python_for(home),
           "-c", SCRIPT, site_packages]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=home)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    uid = out["uid"]
    assert uid != 0 and out["dir_owner"] == uid and out["ctl_owner"] == uid
    assert out["intercept"] is True
    lines = out["exec"].splitlines()
    assert lines[0] == "1000" and lines[1] == "hello from the world"
    assert "Permission denied" in lines[2]  # the agent cannot enter the harness's control folder
    assert out["attempts"] == [["192.0.2.44", 5432]]
    assert out["recycle"] == [True, []]
    # the CLI, as the same user
    cli = ["runuser", "-u", name, "--", "env", f"HOME={home}", "PATH=/usr/bin:/bin", *_python_for(home), "-c",
           "import site, sys; site.addsitedir(sys.argv[1]); sys.argv = ['airgap', 'sandbox', 'run', '--json', '--', "
           "'id', '-u']; from airgap.envs.cli import main; main()", site_packages]
    proc = subprocess.run(cli, capture_output=True, text=True, timeout=300, cwd=home)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout)["stdout"] == "1000\n"


def test_a_harness_with_the_agents_uid_is_refused(sandbox_image):
    """Run as the agent's uid and gid (1000), the harness would share its control folder with the agent."""
    if os.geteuid() != 0:
        pytest.fail("becoming uid 1000 needs root (setpriv); run this module as root")
    code = ("import site, sys; site.addsitedir(sys.argv[1])\nfrom airgap.sandbox import Sandbox, SandboxError\n"
            "try:\n    Sandbox()\nexcept SandboxError as e:\n    print(e)")
    with tempfile.TemporaryDirectory() as tmp:
        os.chown(tmp, 1000, 1000)
        proc = subprocess.run(["setpriv", "--reuid=1000", "--regid=1000", "--clear-groups", "env", f"HOME={tmp}",
                               f"AIRGAP_RUN_DIR={tmp}/run", *_python_for(tmp), "-c", code,
                               sysconfig.get_paths()["purelib"]], capture_output=True, text=True, timeout=120, cwd=tmp)
    assert "which is the sandbox agent's (1000:1000)" in proc.stdout, proc.stdout + proc.stderr


@pytest.mark.parametrize("engine,info,components", [
    ("rootless Docker", {"SecurityOptions": ["name=seccomp,profile=builtin", "name=rootless"]}, [{"Name": "Engine"}]),
    ("Podman's Docker-compatible socket", {"Name": "host"}, [{"Name": "Podman Engine"}]),
])
def test_rootless_engines_are_refused_with_the_fix(engine, info, components):
    """Neither rootless Docker nor Podman runs on this machine, so the engine's two answers that tell them apart
    (``docker info`` and ``docker version``) are stand-ins here; everything else is the real check."""
    from airgap.sandbox import SandboxError
    from airgap.sandbox.runtime import docker as docker_runtime

    runtime = docker_runtime.DockerRuntime()
    docker_runtime._ENGINES_CHECKED.discard(runtime.base_url)  # this process may have checked the real one already
    runtime.client.info = lambda: info
    runtime.client.version = lambda: {"Components": components}
    with pytest.raises(SandboxError, match="usermod -aG docker") as err:
        runtime.check_engine()
    assert engine in str(err.value) and "AIRGAP_ALLOW_ROOTLESS=1" in str(err.value)
    os.environ["AIRGAP_ALLOW_ROOTLESS"] = "1"
    try:
        runtime.check_engine()  # the user asked to try
    finally:
        del os.environ["AIRGAP_ALLOW_ROOTLESS"]
        docker_runtime._ENGINES_CHECKED.discard(runtime.base_url)  # the real engine is checked again on next use


def test_a_docker_group_user_evaluates(docker_user, sandbox_image):
    """`airgap corpus build-default` and `airgap evaluate` (worker processes, pooled and recycled sandboxes) as the
    user. Its interpreter is a venv of its own whose one .pth file adds this checkout's packages."""
    name, home = docker_user
    python = _python_for(home)[0]
    as_user = ["runuser", "-u", name, "--", "env", f"HOME={home}", f"PATH={home}/venv/bin:/usr/bin:/bin"]
    subprocess.run([*as_user, python, "-m", "venv", "--without-pip", f"{home}/venv"], check=True, timeout=120, cwd=home)
    purelib = subprocess.run([f"{home}/venv/bin/python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    with open(os.path.join(purelib, "airgap-checkout.pth"), "w") as f:
        f.write(f"import site; site.addsitedir({sysconfig.get_paths()['purelib']!r})\n")
    for argv in (["corpus", "build-default"],
                 ["evaluate", "--suite", "sandbox", "--limit", "2", "--workers", "2", "--out", f"{home}/run"]):
        code = f"import sys; sys.argv = ['airgap', *{argv!r}]; from airgap.envs.cli import main; main()"
        proc = subprocess.run([*as_user, f"{home}/venv/bin/python", "-c", code], capture_output=True, text=True,
                              timeout=600, cwd=home)
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    rows = [json.loads(line) for line in open(f"{home}/run/results.jsonl")]
    assert len(rows) == 2 and all(r.get("reward") == 1.0 for r in rows), rows
