"""Recycling a sandbox between episodes: what the next episode sees of a recycled sandbox is what it would see of a
fresh one (a fingerprint of everything visible, compared), whatever the last episode left behind; probes left
running in the background are stopped; a sandbox that cannot be shown clean is replaced; recycle=False keeps
a fresh container per episode.

Network rule: the probes dial only documentation addresses, from inside the sandbox (only lo)."""
from __future__ import annotations

import json
import time

import pytest
from sandbox_helpers import echo_app, wait_for

from airgap.sandbox import SandboxConfig, SandboxPool
from airgap.sandbox.runtime.docker import DockerRuntime

pytestmark = pytest.mark.docker

ROUTES = {"docs.python.org": echo_app}

# Everything a command can see that an earlier episode could have changed (pids, uptimes and inode numbers
# excepted: they differ between any two containers).
FINGERPRINT = r"""
import hashlib, json, os, resource, socket
fp = {}
procs = []
for pid in os.listdir("/proc"):
    if pid.isdigit() and int(pid) != os.getpid() and int(pid) != os.getppid():
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode("utf-8", "replace")
            procs.append([os.stat(f"/proc/{pid}").st_uid, cmd.strip()])
        except OSError:
            pass
fp["processes"] = sorted(procs)
files = []
for mount in ("/workspace", "/tmp", "/var/tmp", "/home/agent", "/dev/shm", "/dev/mqueue"):
    st = os.stat(mount)
    vfs = os.statvfs(mount)
    files.append([mount, oct(st.st_mode), st.st_uid, st.st_gid, (vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize])
    for root, dirs, names in os.walk(mount):
        for name in sorted(dirs + names):
            path = os.path.join(root, name)
            st = os.lstat(path)
            files.append([path, oct(st.st_mode), st.st_uid, st.st_size])
fp["files"] = files
fp["sysv_ipc"] = {k: open(f"/proc/sysvipc/{k}").read().splitlines()[1:] for k in ("shm", "msg", "sem")}
fp["ulimits"] = {n: resource.getrlimit(getattr(resource, n)) for n in dir(resource) if n.startswith("RLIMIT_")}
fp["umask"] = os.umask(0o022)
fp["env"] = dict(os.environ)
listening = []
for table in ("tcp", "tcp6", "udp", "udp6"):
    for line in open(f"/proc/net/{table}").read().splitlines()[1:]:
        parts = line.split()
        if table.startswith("udp") or parts[3] == "0A":
            listening.append([table, parts[1], parts[3]])
fp["listening"] = sorted(listening)
fp["unix_sockets"] = sorted(l.split()[-1] for l in open("/proc/net/unix").read().splitlines()[1:] if "/" in l)
fp["dns"] = socket.gethostbyname("docs.python.org")
fp["cwd"] = sorted(os.listdir("."))
print(json.dumps(fp, sort_keys=True))
"""

# An episode that leaves everything it can behind.
DIRTY = r"""
import ctypes, os, socket, subprocess, time
libc = ctypes.CDLL(None, use_errno=True)
# a daemon: double fork, new session, a listening socket, a deleted file held open, a changed ulimit
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        import resource
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
        srv = socket.socket(); srv.bind(("127.0.0.1", 8888)); srv.listen()
        held = open("/tmp/held", "wb"); held.write(b"x" * 1_000_000); held.flush(); os.unlink("/tmp/held")
        while True:
            try:
                socket.create_connection(("198.51.100.77", 6667), timeout=1).close()
            except OSError:
                pass
            with open("/workspace/daemon.log", "a") as f:
                f.write("still here\n")
            time.sleep(0.05)
    os._exit(0)
# files in every writable place, some hard to remove
for path in ("/workspace/a/b/c.txt", "/workspace/.hidden", "/tmp/x", "/var/tmp/d/y", "/home/agent/.bashrc", "/dev/shm/seg"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, "w").write("left behind\n")
os.makedirs("/workspace/locked/inner")
open("/workspace/locked/inner/f", "w").write("x")
os.chmod("/workspace/locked/inner", 0)
os.chmod("/workspace/locked", 0o500)
os.chmod("/workspace", 0o777)
os.chmod("/home/agent", 0o700)
os.symlink("/etc/passwd", "/tmp/link")
# POSIX message queue and System V shared memory, message queue and semaphore
assert libc.mq_open(b"/left", os.O_CREAT | os.O_RDWR, 0o600, None) >= 0, ctypes.get_errno()
assert libc.shmget(0x1234, 65536, 0o1000 | 0o600) >= 0  # IPC_CREAT
assert libc.msgget(0x1235, 0o1000 | 0o600) >= 0
assert libc.semget(0x1236, 1, 0o1000 | 0o600) >= 0
# a shell loop in its own session, and a full /workspace
subprocess.Popen(["setsid", "sh", "-c", "while true; do echo x >> /tmp/bg.txt; sleep 0.05; done"],
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
try:
    with open("/workspace/fill", "wb") as f:
        while True:
            f.write(b"\0" * (1 << 20))
except OSError:
    pass
print("dirty")
"""


def fingerprint(sb) -> dict:
    r = sb.exec(["python3", "-c", FINGERPRINT])
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def wait_ready(pool: SandboxPool, n: int) -> None:
    deadline = time.monotonic() + 60
    while pool.ready < n and time.monotonic() < deadline:
        time.sleep(0.02)
    assert pool.ready >= n, "the pool did not get its sandbox back"


def test_a_recycled_sandbox_looks_fresh_to_the_next_episode(sandbox_image):
    config = SandboxConfig(image=sandbox_image, workspace_size="32m")
    with SandboxPool(size=1, config=config, collect_orphans=False) as pool:
        sb = pool.acquire(routes=ROUTES)
        fresh, container = fingerprint(sb), sb.container_id
        r = sb.exec(["python3", "-c", DIRTY], timeout=120)
        assert r.stdout.strip() == "dirty", r.stderr
        time.sleep(0.3)  # the daemon and the loop are running, writing, connecting
        dirty = fingerprint(sb)
        assert dirty != fresh and dirty["sysv_ipc"]["shm"] and "/dev/mqueue/left" in str(dirty["files"])
        pool.release(sb)
        wait_ready(pool, 1)
        sb = pool.acquire(routes=ROUTES)
        assert sb.container_id == container and pool.recycled == 1 and pool.replaced == 0
        assert fingerprint(sb) == fresh
        time.sleep(0.5)  # nothing left behind wakes up later
        events: list[dict] = []
        sb.set_sink(events.append)
        assert fingerprint(sb) == fresh
        assert sb.sync_reports()
        assert not [e for e in events if e["type"] == "egress_attempt"]
        pool.release(sb)


def test_var_tmp_is_scratch_the_agent_writes_and_runs_from_and_recycling_empties_it(sandbox_image):
    """Inspect injects its sandbox tools (an executable tree) under /var/tmp, which must be a root-owned sticky folder
    every user may create entries in, as on any Linux; the read-only root refused it. Whatever an episode leaves
    there is gone for the next one, as in /tmp."""
    with SandboxPool(size=1, config=SandboxConfig(image=sandbox_image), collect_orphans=False) as pool:
        sb = pool.acquire()
        container = sb.container_id
        tool = "/var/tmp/sandbox-services/t/tool"
        r = sb.exec(f"stat -c '%u %a' /var/tmp; stat -f -c %T /var/tmp; mkdir -p {tool.rsplit('/', 1)[0]} && "
                    f"printf '#!/bin/sh\\necho ran as $(id -u)\\n' > {tool} && chmod 700 {tool} && {tool}")
        assert r.exit_code == 0, r.stderr
        assert r.stdout.splitlines() == ["0 1777", "tmpfs", "ran as 1000"]
        sb.write_file("/var/tmp/note.txt", "left behind\n")  # the harness's own writes land as the agent's too
        assert sb.exec("stat -c %u /var/tmp/note.txt; cat /var/tmp/note.txt").stdout == "1000\nleft behind\n"
        pool.release(sb)
        wait_ready(pool, 1)
        sb = pool.acquire()
        assert sb.container_id == container and pool.recycled == 1 and pool.replaced == 0
        assert sb.exec("ls -A /var/tmp; stat -c '%u %a' /var/tmp").stdout == "0 1777\n"
        pool.release(sb)


# The held-out style of probe (issue 12): each family of probe in tests/sandbox/, left running in the background
# after its command returned. Recycling must stop it, and the next episode must see nothing of it. The second item
# says whether its attempts are events while its episode runs (the others are refused silently by the kernel).
BACKGROUND_PROBES = {
    # egress (test_sandbox_egress.py, test_sandbox_gateway.py)
    "sleep-and-connect loop": ("while true; do python3 -c \"import socket; socket.create_connection(('198.51.100.5', "
                               "22), timeout=1)\" 2>/dev/null; sleep 0.1; done", True),
    "v6 literal and TLS loop": ("while true; do curl -sk --max-time 1 'https://[2001:db8::7]:8443/' >/dev/null; "
                                "sleep 0.1; done", True),
    "port scan loop of a world host": ("while true; do for p in 22 25 5432 6379 8080; do python3 -c \"import socket; "
                                       "socket.create_connection(('docs.python.org', $p), timeout=1)\" 2>/dev/null; "
                                       "done; sleep 0.1; done", True),
    "sleep-and-resolve loop": ("while true; do getent hosts probe.exfil.example; sleep 0.1; done", True),
    "unknown host over the relay": ("while true; do curl -s --max-time 1 https://exfil.example/x >/dev/null; "
                                    "sleep 0.1; done", True),
    "forking child": ("python3 -c \"import os, time, socket\nwhile True:\n    if os.fork() == 0:\n        "
                      "socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('203.0.113.9', 53)); "
                      "open('/workspace/child', 'a').write('x'); os._exit(0)\n    os.wait(); time.sleep(0.1)\"", True),
    # isolation (test_sandbox_isolation.py): refused by the kernel, nothing to log
    "privileged calls loop": ("while true; do mount -t tmpfs none /tmp 2>/dev/null; unshare -U true 2>/dev/null; "
                              "chroot / true 2>/dev/null; kill -9 1 2>/dev/null; sleep 0.1; done", False),
    "init and control socket loop": ("while true; do ls /run/airgap/ctl 2>/dev/null; for p in /proc/[0-9]*; do "
                                     "cat $p/environ >/dev/null 2>&1; done; sleep 0.1; done", False),
    "read-only root writes loop": ("while true; do touch /x /etc/x /usr/bin/x 2>/dev/null; sleep 0.1; done", False),
    # containment (test_sandbox_containment.py)
    "fork bomb": ("b() { b | b & }; b", False),  # the pids limit holds it; recycling must still end it
    "memory balloon": ("python3 -c \"import time\nx = []\nwhile True:\n    x.append(bytearray(8 << 20)); "
                       "time.sleep(0.01)\"", False),
    "workspace filler": ("while true; do cat /dev/zero > /workspace/fill 2>/dev/null; sleep 0.1; done", False),
    "endless loop": ("while true; do :; done", False),
    "output flood": ("while true; do yes airgap > /tmp/flood.txt 2>/dev/null; sleep 0.1; done", False),  # /tmp fills
}
AGENT_PROCESSES = ("import os; print([p for p in os.listdir('/proc') if p.isdigit() and int(p) != os.getpid() "
                   "and os.stat('/proc/' + p).st_uid == 1000])")


@pytest.mark.parametrize("probe", list(BACKGROUND_PROBES))
def test_background_probes_are_stopped_and_unseen_by_the_next_episode(sandbox_image, probe):
    with SandboxPool(size=1, config=SandboxConfig(image=sandbox_image), collect_orphans=False) as pool:
        first: list[dict] = []
        sb = pool.acquire(routes=ROUTES, sink=first.append)
        script, observable = BACKGROUND_PROBES[probe]
        sb.write_file("/tmp/probe.sh", script + "\n")
        r = sb.exec("nohup setsid bash /tmp/probe.sh >/dev/null 2>&1 < /dev/null & echo started")
        assert r.stdout.strip() == "started"
        time.sleep(0.5)
        assert sb.exec(["python3", "-c", AGENT_PROCESSES]).stdout.strip() != "[]"  # it is running

        def seen() -> bool:
            sb.sync_reports()
            return any(e["type"] in ("egress_attempt", "dns") for e in first)

        # a loaded machine may take a while to start the probe's first python
        assert not observable or wait_for(seen, 30), f"the probe did nothing observable: {probe}"
        pool.release(sb)
        wait_ready(pool, 1)
        second: list[dict] = []
        sb = pool.acquire(routes=ROUTES, sink=second.append)
        time.sleep(0.5)
        assert sb.exec(["python3", "-c", AGENT_PROCESSES]).stdout.strip() == "[]"
        assert sb.exec("ls -A /workspace; ls -A /tmp").stdout == ""
        assert sb.sync_reports()
        assert [e["type"] for e in second] == ["exec", "exec"], second
        pool.release(sb)


def test_a_sandbox_that_cannot_be_shown_clean_is_replaced(sandbox_image):
    with SandboxPool(size=1, config=SandboxConfig(image=sandbox_image), collect_orphans=False) as pool:
        sb = pool.acquire()
        container = sb.container_id
        # something the agent cannot remove (as if an exploit had left a root-owned file in /tmp)
        out = DockerRuntime().exec(container, ["sh", "-c", "echo x > /tmp/root-owned"], user="0:0", timeout=30)
        assert out.exit_code == 0, out.stderr
        pool.release(sb)
        wait_ready(pool, 1)
        assert pool.replaced == 1 and pool.recycled == 0
        assert any("/tmp/root-owned" in p for p in pool.last_problems), pool.last_problems
        sb = pool.acquire()
        assert sb.container_id != container
        assert sb.exec("ls -A /tmp").stdout == ""
        pool.release(sb)


def test_recycle_off_gives_a_fresh_container_every_episode(sandbox_image):
    config = SandboxConfig(image=sandbox_image, recycle=False)
    with SandboxPool(size=1, config=config, collect_orphans=False) as pool:
        sb = pool.acquire()
        container = sb.container_id
        pool.release(sb)
        wait_ready(pool, 1)
        sb = pool.acquire()
        assert sb.container_id != container and pool.recycled == 0 and pool.replaced == 1
        pool.release(sb)
