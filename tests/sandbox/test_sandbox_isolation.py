"""Structural isolation, checked from inside a real sandbox.

Network rule: the only listeners these tests try to reach are ones the tests start themselves."""
from __future__ import annotations

import fcntl
import os
import socket
import struct
import tempfile
import threading

import pytest

pytestmark = pytest.mark.docker

PROBE = r"""
import socket, sys
s = socket.socket()
s.settimeout(3)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    s.sendall(b"hello\n")
    print("CONNECTED", s.recv(200).decode("latin-1"))
except OSError as e:
    print("REFUSED", type(e).__name__, e.errno)
"""


def _ipv4_of(iface: str) -> str | None:
    """The IPv4 address of a host interface (SIOCGIFADDR), or None if it does not exist."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            packed = fcntl.ioctl(s.fileno(), 0x8915, struct.pack("256s", iface[:15].encode()))
        except OSError:
            return None
    return socket.inet_ntoa(packed[20:24])


class Listener:
    """A TCP listener the test owns; records whether anything connected."""

    def __init__(self, host: str):
        self.sock = socket.create_server((host, 0))
        self.host, self.port = host, self.sock.getsockname()[1]
        self.accepted = 0
        self.sock.settimeout(0.2)
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
                self.accepted += 1
                conn.close()
            except OSError:
                continue

    def close(self):
        self._stop = True
        self._thread.join()
        self.sock.close()


def test_only_loopback_and_no_route(shared_sandbox):
    r = shared_sandbox.exec("ls /sys/class/net; echo ---; cat /proc/net/route")
    interfaces, routes = r.stdout.split("---\n")
    assert interfaces.split() == ["lo"]
    assert len(routes.strip().splitlines()) == 1  # the header line only


@pytest.mark.parametrize("where", ["loopback", "docker0"])
def test_host_tcp_listeners_unreachable(shared_sandbox, where):
    host = "127.0.0.1" if where == "loopback" else _ipv4_of("docker0")
    # dockerd as scripts/setup.sh starts it always has its default bridge; a host without one cannot run this case
    assert host is not None, "no docker0 bridge: start dockerd with its default bridge (scripts/setup.sh does)"
    listener = Listener(host)
    try:
        r = shared_sandbox.exec(["python3", "-c", PROBE, host, str(listener.port)], timeout=20)
        # loopback is the container's own; any other address ends at the init's catch-all, which refuses it
        expected = "REFUSED" if where == "loopback" else f"CONNECTED airgap: no network: {host}:{listener.port}"
        assert r.stdout.startswith(expected), r.stdout + r.stderr
    finally:
        listener.close()
    assert listener.accepted == 0


def test_unmounted_host_unix_socket_unreachable(shared_sandbox):
    with tempfile.TemporaryDirectory(prefix="airgap-test-") as tmp:
        path = os.path.join(tmp, "host.sock")
        server = socket.socket(socket.AF_UNIX)
        server.bind(path)
        server.listen()
        os.chmod(tmp, 0o755)
        os.chmod(path, 0o777)
        probe = ("import socket,sys\ns=socket.socket(socket.AF_UNIX)\ntry:\n s.connect(sys.argv[1]); print('CONNECTED')\n"
                 "except OSError as e: print('REFUSED', e.errno)")
        r = shared_sandbox.exec(["python3", "-c", probe, path])
        server.close()
    assert r.stdout.startswith("REFUSED"), r.stdout + r.stderr


def test_non_root_without_capabilities(shared_sandbox):
    r = shared_sandbox.exec("id -u; id -g; grep -E '^(Cap(Eff|Prm|Inh|Amb)|NoNewPrivs)' /proc/self/status")
    lines = r.stdout.split()
    assert lines[:2] == ["1000", "1000"]
    status = dict(zip(lines[2::2], lines[3::2], strict=False))
    # The bounding set still lists the init's three capabilities, but with no-new-privileges and
    # empty permitted/inheritable/ambient sets nothing the agent runs can ever hold them.
    assert status.pop("NoNewPrivs:") == "1"
    assert set(status.values()) == {"0000000000000000"} and len(status) == 4, r.stdout


def test_root_is_read_only(shared_sandbox):
    r = shared_sandbox.exec("touch /x; echo hi > /etc/x; touch /usr/bin/x")
    assert r.stderr.count("Read-only file system") == 3, r.stderr


def test_mount_and_privileged_calls_refused(shared_sandbox):
    r = shared_sandbox.exec("mount -t tmpfs none /tmp; echo mount=$?; "
                            "chroot / true; echo chroot=$?; "
                            "unshare -U true; echo unshare=$?; "
                            "kill -9 1; echo kill=$?")
    codes = dict(line.split("=") for line in r.stdout.split())
    assert all(int(v) != 0 for v in codes.values()), r.stdout + r.stderr


def test_agent_cannot_reach_the_control_socket_or_the_init(shared_sandbox):
    r = shared_sandbox.exec("ls /run/airgap/ctl; echo ls=$?; "
                            "pid=$(for p in /proc/[0-9]*; do grep -l init.py $p/cmdline 2>/dev/null; done | "
                            "head -1 | cut -d/ -f3); kill -9 $pid; echo kill=$?")
    codes = dict(line.split("=") for line in r.stdout.split() if "=" in line)
    assert codes["ls"] != "0" and codes["kill"] != "0", r.stdout + r.stderr
    assert shared_sandbox.alive()


def test_reproducible_environment(shared_sandbox):
    r = shared_sandbox.exec("echo $TZ $LANG $PYTHONHASHSEED $HOME; cat /etc/resolv.conf")
    assert r.stdout.splitlines()[0] == "UTC C.UTF-8 0 /home/agent"
    assert "nameserver 127.0.0.1" in r.stdout
