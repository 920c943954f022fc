"""airgap init: the one long-lived process inside a sandbox (stdlib only, runs under docker-init).

It does three jobs, all on one asyncio loop:

1. DNS on 127.0.0.1:53/udp. Every look-up is asked of the host-side gateway over its unix socket
   (so the gateway logs it); a host the gateway routes gets an address of its own in 198.18.0.0/15
   (127.0.0.1 when interception is off), anything else NXDOMAIN at once.
2. A relay: TCP 127.0.0.1:80 and :443 are copied byte for byte to the gateway socket, after a
   one-line preamble ``TCP <port>`` and the gateway's ``OK``. TLS is terminated by the gateway, on the host.
3. Connection interception (when the container was given NET_ADMIN for it): before anything else runs,
   a local route for 0.0.0.0/0 and ::/0 on ``lo`` makes every address local, iptables sends TCP to a world
   host's served port (80/443) to the relay and TCP to any other non-loopback address or port to one
   catch-all listener (``SO_ORIGINAL_DST`` gives the destination), and TPROXY hands every non-loopback UDP
   datagram to a catch-all socket (``IP_RECVORIGDSTADDR``). Each attempt is reported to the gateway
   (destination, world hostname if it is one, protocol, the first bytes' shape: TLS SNI, HTTP request line,
   SSH banner, DNS name) and closed at once with a clear error (a DNS query to an outside resolver is answered
   REFUSED from that resolver's address; other UDP is dropped); nothing leaves: ``lo`` is the only interface. Then NET_ADMIN (and SETPCAP, needed to drop it from the bounding set) are dropped for good,
   before the control socket, and so the first command, comes up.
4. A control server for the harness on ``$AIRGAP_DIR/ctl/init.sock`` (a 0700 folder the agent cannot
   enter): exec with timeout / output cap / OOM detection, file read/write (always as the agent),
   ``kill_all`` of the agent's processes, and ``recycle``: kill every process of the agent, empty every place it
   can write (/workspace, /tmp, its home, /dev/shm, /dev/mqueue, System V IPC), reset the init's per-episode
   state, and report anything left over (the harness then discards the sandbox instead).

Wire format of the control socket, one request per connection: a JSON line, then ``stdin_len`` or
``size`` raw bytes. The reply is a JSON line, then ``stdout_len`` + ``stderr_len`` (or ``size``) raw bytes.

After set-up the init runs as uid 0 with only KILL, SETUID and SETGID; commands and file operations run as the
agent (uid 1000, no capabilities), which therefore cannot signal, trace or replace the init.
"""
import asyncio
import collections
import ctypes
import errno
import hashlib
import ipaddress
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time

AIRGAP_DIR = os.environ.get("AIRGAP_DIR", "/run/airgap")
GATEWAY_SOCK = os.path.join(AIRGAP_DIR, "gw.sock")
CTL_DIR = os.path.join(AIRGAP_DIR, "ctl")
CTL_SOCK = os.path.join(CTL_DIR, "init.sock")
AGENT_UID = int(os.environ.get("AIRGAP_AGENT_UID", "1000"))
AGENT_GID = int(os.environ.get("AIRGAP_AGENT_GID", "1000"))
RELAY_PORTS = (80, 443)
REPORT_TOKEN = os.environ.get("AIRGAP_REPORT_TOKEN", "")  # proves to the gateway that a report comes from us
CATCH_PORT = 1  # the catch-all listeners (TCP and UDP, v4 and v6) for every intercepted attempt
FAKE_NET = ipaddress.ip_network("198.18.0.0/15")  # world hosts' addresses (RFC 2544: never routed anywhere)
FIRST_BYTES_WAIT = 0.2  # seconds a refused connection may take to say something before it is closed
FIRST_BYTES_MAX = 4096
CHUNK = 1 << 16
# The init shares the container's open-file limit with nobody else but must keep fds for the harness:
# past these many concurrent relayed connections / DNS look-ups, new ones are refused at once.
MAX_INFLIGHT = {"relay": 256, "dns": 64, "catch": 64}
INFLIGHT = {"relay": 0, "dns": 0, "catch": 0}
# Whether connection interception is on (set once at start); why not, if not.
INTERCEPT = {"on": False, "error": "not set up"}
PIPE_GRACE = 0.2  # seconds to keep reading after the command exits, for output still in flight

# The environment every command starts from: the container's (TZ, LANG, PYTHONHASHSEED...) minus ours.
BASE_ENV = {k: v for k, v in os.environ.items() if not k.startswith("AIRGAP_")}
BASE_ENV.update(HOME="/home/agent", USER="agent", LOGNAME="agent")
BASE_ENV.setdefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")


# ---------------------------------------------------------------------------------------------------
# DNS


def parse_query(data):
    """Return (id, flags, name, qtype, end of question) of a DNS query, or None if malformed."""
    if len(data) < 12:
        return None
    qid, flags, qdcount = struct.unpack("!HHH", data[:6])
    if qdcount != 1 or flags & 0x8000:
        return None
    labels, pos = [], 12
    while True:
        if pos >= len(data):
            return None
        n = data[pos]
        pos += 1
        if n == 0:
            break
        if n > 63 or pos + n > len(data):
            return None
        labels.append(data[pos:pos + n].decode("ascii", "replace"))
        pos += n
    if pos + 4 > len(data):
        return None
    qtype = struct.unpack("!H", data[pos:pos + 2])[0]
    return qid, flags, ".".join(labels).lower(), qtype, pos + 4


class WorldAddresses:
    """One address in 198.18.0.0/15 per world hostname looked up, so a connection's destination names its host."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.by_name, self.by_ip = {}, {}

    def address(self, name):
        if not INTERCEPT["on"]:
            return "127.0.0.1"
        ip = self.by_name.get(name)
        if ip is None:
            if len(self.by_name) >= FAKE_NET.num_addresses - 2:
                return "127.0.0.1"
            ip = str(FAKE_NET[len(self.by_name) + 1])
            self.by_name[name], self.by_ip[ip] = ip, name
        return ip


WORLD = WorldAddresses()


def dns_answer(data, parsed, known):
    """NXDOMAIN for unknown names; an A record (the host's own address) for known ones (no data for other types)."""
    qid, flags, name, qtype, end = parsed
    rcode = 0 if known else 3
    resp_flags = 0x8000 | (flags & 0x7800) | 0x0400 | (flags & 0x0100) | 0x0080 | rcode
    answers = b""
    if known and qtype == 1:
        answers = struct.pack("!HHHIH", 0xC00C, 1, 1, 5, 4) + socket.inet_aton(WORLD.address(name))
    header = struct.pack("!HHHHHH", qid, resp_flags, 1, 1 if answers else 0, 0, 0)
    return header + data[12:end] + answers


async def ask_gateway(name, qtype):
    """Report the look-up to the gateway and learn whether it routes that host."""
    try:
        reader, writer = await asyncio.open_unix_connection(GATEWAY_SOCK)
        writer.write(f"DNS {qtype} {name}\n".encode())
        await writer.drain()
        reply = await asyncio.wait_for(reader.readline(), 5)
        writer.close()
        return reply.strip() == b"OK"
    except (OSError, asyncio.TimeoutError):
        return False


class DNSProtocol(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        parsed = parse_query(data)
        if parsed is not None and INFLIGHT["dns"] < MAX_INFLIGHT["dns"]:  # a flood is dropped, not queued
            asyncio.ensure_future(self.answer(data, parsed, addr))

    async def answer(self, data, parsed, addr):
        INFLIGHT["dns"] += 1
        try:
            known = await ask_gateway(parsed[2], parsed[3])
        finally:
            INFLIGHT["dns"] -= 1
        self.transport.sendto(dns_answer(data, parsed, known), addr)


# ---------------------------------------------------------------------------------------------------
# Relay


async def pump(reader, writer):
    try:
        while True:
            data = await reader.read(CHUNK)
            if not data:
                break
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (OSError, RuntimeError):
        pass


def relay_handler(port):
    async def handle(reader, writer):
        if INFLIGHT["relay"] >= MAX_INFLIGHT["relay"]:
            writer.close()
            return
        INFLIGHT["relay"] += 1
        try:
            await relay(port, reader, writer)
        finally:
            INFLIGHT["relay"] -= 1
            writer.close()

    return handle


async def relay(port, reader, writer):
    try:
        up_reader, up_writer = await asyncio.open_unix_connection(GATEWAY_SOCK)
    except OSError:
        return
    up_writer.write(f"TCP {port}\n".encode())
    # Wait for the gateway's go-ahead so the client's first bytes (a TLS ClientHello) reach the
    # gateway only after it has switched from reading our preamble to speaking HTTP or TLS.
    if await up_reader.readline() == b"OK\n":
        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))
    up_writer.close()


# ---------------------------------------------------------------------------------------------------
# Connection interception: set-up (with NET_ADMIN, once), then reports to the gateway and refusals

CAP = {"CHOWN": 0, "KILL": 5, "SETGID": 6, "SETUID": 7, "SETPCAP": 8, "NET_ADMIN": 12, "NET_RAW": 13}
SETUP_CAPS = ("NET_ADMIN", "SETPCAP")  # held only until setup_network() returns
IP_TRANSPARENT, IP_RECVORIGDSTADDR = 19, 20
IPV6_RECVORIGDSTADDR, IPV6_TRANSPARENT = 74, 75
SO_ORIGINAL_DST = 80  # the same number for IPv4 (SOL_IP) and IPv6 (IP6T_SO_ORIGINAL_DST, SOL_IPV6)
SO_RCVBUFFORCE, SO_RXQ_OVFL = 33, 40
IP_FREEBIND, IPV6_FREEBIND = 15, 78
# UDP the init itself sends (a REFUSED answer from an outside resolver's address) is marked by uid (the agent's
# cannot be) and not caught again.
OWN_MARK = "0x41"
UDP_BUFFER = 16 << 20
ROUTES = "route add local 0.0.0.0/0 dev lo table local\nroute add local ::/0 dev lo table local\n"
# A world host's served ports reach the relay (which listens on 0.0.0.0) untouched and untracked, and so do DNS
# look-ups and intercepted UDP (TPROXY needs no tracking): only TCP that is REDIRECTed needs a conntrack entry,
# and the container's short TCP closing timeouts (see container_spec) keep the table from filling.
RULES_V4 = f"""*raw
:OUTPUT ACCEPT [0:0]
-A OUTPUT -d {FAKE_NET} -p tcp -m multiport --dports 80,443 -j NOTRACK
-A OUTPUT -s {FAKE_NET} -p tcp -m multiport --sports 80,443 -j NOTRACK
-A OUTPUT -d 127.0.0.1/32 -p udp --dport 53 -j NOTRACK
-A OUTPUT -s 127.0.0.1/32 -p udp --sport 53 -j NOTRACK
-A OUTPUT ! -d 127.0.0.0/8 -p udp -j NOTRACK
COMMIT
*nat
:OUTPUT ACCEPT [0:0]
-A OUTPUT ! -d 127.0.0.0/8 -p tcp -j REDIRECT --to-ports {CATCH_PORT}
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A OUTPUT -p udp -m owner --uid-owner 0 -j MARK --set-mark {OWN_MARK}
-A PREROUTING -i lo -m mark --mark {OWN_MARK} -j ACCEPT
-A PREROUTING -i lo ! -d 127.0.0.0/8 -p udp -j TPROXY --on-port {CATCH_PORT} --on-ip 127.0.0.1
COMMIT
"""
RULES_V6 = f"""*raw
:OUTPUT ACCEPT [0:0]
-A OUTPUT ! -d ::1/128 -p udp -j NOTRACK
COMMIT
*nat
:OUTPUT ACCEPT [0:0]
-A OUTPUT ! -d ::1/128 -p tcp -j REDIRECT --to-ports {CATCH_PORT}
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A OUTPUT -p udp -m owner --uid-owner 0 -j MARK --set-mark {OWN_MARK}
-A PREROUTING -i lo -m mark --mark {OWN_MARK} -j ACCEPT
-A PREROUTING -i lo ! -d ::1/128 -p udp -j TPROXY --on-port {CATCH_PORT} --on-ip ::1
COMMIT
"""


def capabilities():
    """The init's capability sets as ints (CapEff, CapPrm, CapBnd...) from /proc/self/status."""
    caps = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("Cap"):
                key, _, value = line.partition(":")
                caps[key] = int(value.strip(), 16)
    return caps


def drop_capabilities(names):
    """Drop ``names`` from the bounding set (needs SETPCAP, so it goes last) and from the effective,
    permitted and inheritable sets: no process of this container can get them back."""
    libc = ctypes.CDLL(None, use_errno=True)
    order = [n for n in names if n != "SETPCAP"] + [n for n in names if n == "SETPCAP"]
    for name in order:
        if libc.prctl(24, CAP[name], 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), f"cannot drop {name} from the bounding set")

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    header, data = Header(0x20080522, 0), (Data * 2)()  # _LINUX_CAPABILITY_VERSION_3
    if libc.capget(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capget failed")
    for name in names:
        word, bit = divmod(CAP[name], 32)
        for field in ("effective", "permitted", "inheritable"):
            setattr(data[word], field, getattr(data[word], field) & ~(1 << bit))
    if libc.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")


def setup_network():
    """Install the routes and rules and open the UDP catch-all sockets (which need NET_ADMIN to become
    transparent); then drop the set-up capabilities for good. Returns the UDP sockets (none if off)."""
    sockets = []
    if not capabilities().get("CapEff", 0) >> CAP["NET_ADMIN"] & 1:
        INTERCEPT.update(on=False, error="no NET_ADMIN at start (interception off in the sandbox config)")
        return sockets
    try:
        steps = [(["ip", "-batch", "-"], ROUTES)]
        for tool, rules in (("iptables-restore", RULES_V4), ("ip6tables-restore", RULES_V6)):
            steps.append(([tool], rules))
        for argv, text in steps:
            proc = subprocess.run(argv, input=text.encode(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  timeout=20)
            if proc.returncode != 0:
                raise OSError(0, f"{' '.join(argv)} failed: {proc.stdout.decode(errors='replace').strip()[:300]}")
        for family, host, level, options in (
                (socket.AF_INET, "127.0.0.1", socket.SOL_IP, (IP_TRANSPARENT, IP_RECVORIGDSTADDR)),
                (socket.AF_INET6, "::1", socket.IPPROTO_IPV6, (IPV6_TRANSPARENT, IPV6_RECVORIGDSTADDR))):
            sock = socket.socket(family, socket.SOCK_DGRAM)
            for option in options:
                sock.setsockopt(level, option, 1)
            # A flood must not outrun us: a big receive buffer (FORCE: past rmem_max, needs NET_ADMIN, now),
            # and the kernel's count of datagrams it still had to drop, reported with each datagram.
            sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, UDP_BUFFER)
            sock.setsockopt(socket.SOL_SOCKET, SO_RXQ_OVFL, 1)
            sock.bind((host, CATCH_PORT))
            sock.setblocking(False)
            sockets.append(sock)
        INTERCEPT.update(on=True, error=None)
    except (OSError, subprocess.SubprocessError) as e:
        INTERCEPT.update(on=False, error=f"interception set-up failed: {e}")
        for sock in sockets:
            sock.close()
        sockets = []
    finally:
        names = [n for n in SETUP_CAPS if capabilities().get("CapBnd", 0) >> CAP[n] & 1]
        drop_capabilities(names)
    return sockets


class Reporter:
    """Sends attempt reports to the gateway, one JSON line each, over one connection (``REPORT <token>``).

    Reports are numbered; the harness waits for the gateway to have logged every report made before a
    command returned. A flood is bounded: past ``limit`` unsent reports the oldest are dropped and counted."""

    def __init__(self, limit=20000):
        self.seq, self.dropped, self.limit = 0, 0, limit
        self.queue = collections.deque()
        self.wake = None
        self.writer = None

    def report(self, **event):
        self.seq += 1
        event["seq"] = self.seq
        if len(self.queue) >= self.limit:
            self.queue.popleft()
            self.dropped += 1
        if self.dropped:
            event["dropped_before"] = self.dropped
        self.queue.append(event)
        if self.wake is not None:
            self.wake.set()

    async def connect(self):
        """Open the connection now (at start, so that every sandbox, fresh or recycled, has it alike)."""
        try:
            _reader, self.writer = await asyncio.open_unix_connection(GATEWAY_SOCK)
            self.writer.write(f"REPORT {REPORT_TOKEN}\n".encode())
        except OSError:
            self.writer = None

    async def run(self):
        self.wake = asyncio.Event()
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.queue:
                try:
                    if self.writer is None or self.writer.is_closing():
                        await self.connect()
                        if self.writer is None:
                            raise OSError("gateway unreachable")
                    batch = [self.queue.popleft() for _ in range(min(len(self.queue), 256))]
                    self.writer.write(b"".join(json.dumps(e, separators=(",", ":")).encode() + b"\n" for e in batch))
                    await self.writer.drain()
                except OSError:
                    self.writer = None
                    await asyncio.sleep(0.05)


REPORTER = Reporter()
HTTP_LINE = re.compile(rb"^([A-Z]{3,10}) (\S{1,2000}) HTTP/\d\.\d\r?$")


def tls_sni(data):
    """The server name in a TLS ClientHello (None if absent or the hello is cut short)."""
    try:
        pos = 5 + 4 + 2 + 32  # record header, handshake header, version, random
        pos += 1 + data[pos]  # session id
        pos += 2 + int.from_bytes(data[pos:pos + 2], "big")  # cipher suites
        pos += 1 + data[pos]  # compression methods
        end = pos + 2 + int.from_bytes(data[pos:pos + 2], "big")
        pos += 2
        while pos + 4 <= min(end, len(data)):
            kind, size = int.from_bytes(data[pos:pos + 2], "big"), int.from_bytes(data[pos + 2:pos + 4], "big")
            if kind == 0:  # server_name: list length, name type, name length, name
                length = int.from_bytes(data[pos + 7:pos + 9], "big")
                return data[pos + 9:pos + 9 + length].decode("ascii", "replace")
            pos += 4 + size
    except IndexError:
        pass
    return None


def shape(data, proto):
    """What the first bytes look like: TLS (and its SNI), an HTTP request, an SSH banner, a DNS query, QUIC."""
    info = {"first_bytes": data[:64].hex(), "first_len": len(data)}
    if not data:
        return dict(info, shape="none")
    if proto == "tcp" and data[0] == 0x16 and data[1:2] == b"\x03" and len(data) > 5 and data[5] == 1:
        return dict(info, shape="tls", sni=tls_sni(data))
    first = data.split(b"\n", 1)[0]
    m = HTTP_LINE.match(first)
    if m:
        host = re.search(rb"\r?\nhost:[ \t]*([^\r\n]{1,300})", data, re.I)
        return dict(info, shape="http", request_line=first.rstrip(b"\r").decode("latin-1"),
                    **({"http_host": host.group(1).decode("latin-1").strip()} if host else {}))
    if data.startswith(b"SSH-"):
        return dict(info, shape="ssh", banner=first.rstrip(b"\r").decode("latin-1")[:255])
    if proto == "udp":
        parsed = parse_query(data)
        if parsed is not None:
            return dict(info, shape="dns", qname=parsed[2], qtype=parsed[3])
        if data[0] & 0xC0 == 0xC0 and len(data) >= 5:  # a QUIC long-header packet (Initial, Handshake...)
            return dict(info, shape="quic", quic_version=data[1:5].hex())
    return dict(info, shape="bytes")


def refusal(dest, kind):
    """What a refused connection reads before it is closed: an HTTP 502, a TLS alert, or one line of text."""
    text = (f"airgap: no network: {dest} is outside the offline world; only its web (ports 80 and 443 of the "
            "world's hosts) is served. The attempt was logged.\n").encode()
    if kind == "http":
        return (b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n"
                + f"Content-Length: {len(text)}\r\n\r\n".encode() + text)
    if kind == "tls":
        return bytes([0x15, 3, 3, 0, 2, 2, 49])  # a fatal TLS alert: access_denied
    return text


def original_destination(sock):
    """(family, ip, port) the client dialled: SO_ORIGINAL_DST after a REDIRECT, else where it landed."""
    family = sock.family
    try:
        if family == socket.AF_INET:
            raw = sock.getsockopt(socket.SOL_IP, SO_ORIGINAL_DST, 16)
            return 4, socket.inet_ntop(socket.AF_INET, raw[4:8]), int.from_bytes(raw[2:4], "big")
        raw = sock.getsockopt(socket.IPPROTO_IPV6, SO_ORIGINAL_DST, 28)
        return 6, socket.inet_ntop(socket.AF_INET6, raw[8:24]), int.from_bytes(raw[2:4], "big")
    except OSError:
        here = sock.getsockname()
        return (4 if family == socket.AF_INET else 6), here[0], here[1]


async def catch_tcp(reader, writer):
    """One intercepted TCP connection: read what the client says first (briefly), refuse, close, report."""
    started = time.monotonic()
    sock = writer.get_extra_info("socket")
    family, ip, port = original_destination(sock)
    host = WORLD.by_ip.get(ip)
    data = b""
    crowded = INFLIGHT["catch"] >= MAX_INFLIGHT["catch"]
    INFLIGHT["catch"] += 1
    try:
        if not crowded:  # a flood of silent connections is closed at once, without waiting for bytes
            deadline = started + FIRST_BYTES_WAIT
            while len(data) < FIRST_BYTES_MAX:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    chunk = await asyncio.wait_for(reader.read(FIRST_BYTES_MAX - len(data)), left)
                except (asyncio.TimeoutError, OSError):
                    break
                if not chunk:
                    break
                data += chunk
                if complete(data):
                    break
        info = shape(data, "tcp")
        dest = f"{host or ip}:{port}" if family == 4 or host else f"[{ip}]:{port}"
        try:
            writer.write(refusal(dest, info["shape"]))
        except OSError:
            pass
    finally:
        INFLIGHT["catch"] -= 1
        writer.close()
    REPORTER.report(proto="tcp", family=family, dst_ip=ip, dst_port=port, **({"host": host} if host else {}),
                    action="closed", crowded=crowded, ms=round((time.monotonic() - started) * 1000, 3), **info)


def complete(data):
    """True once the first bytes say enough: a whole TLS record, an HTTP head, an SSH banner line."""
    if data[:1] == b"\x16" and len(data) >= 5:
        return len(data) >= 5 + int.from_bytes(data[3:5], "big")
    if HTTP_LINE.match(data.split(b"\n", 1)[0]) and b"\n" in data:
        return b"\r\n\r\n" in data or b"\n\n" in data
    return b"\n" in data or len(data) >= 64


def catch_udp(sock):
    """Read every waiting datagram on a transparent catch-all socket and report it (UDP has nothing to close)."""
    for _ in range(256):
        try:
            data, ancillary, _flags, _addr = sock.recvmsg(2048, 256)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return
        family, ip, port, dropped = (4 if sock.family == socket.AF_INET else 6), None, None, 0
        for level, kind, raw in ancillary:
            if (level, kind) == (socket.SOL_SOCKET, SO_RXQ_OVFL):
                dropped = int.from_bytes(raw[:4], sys.byteorder)
            if (level, kind) == (socket.SOL_IP, IP_RECVORIGDSTADDR):
                ip, port = socket.inet_ntop(socket.AF_INET, raw[4:8]), int.from_bytes(raw[2:4], "big")
            elif (level, kind) == (socket.IPPROTO_IPV6, IPV6_RECVORIGDSTADDR):
                ip, port = socket.inet_ntop(socket.AF_INET6, raw[8:24]), int.from_bytes(raw[2:4], "big")
        host = WORLD.by_ip.get(ip)
        info = shape(data, "udp")
        action = "dropped"
        if info["shape"] == "dns" and ip is not None and refuse_dns(sock.family, data, (ip, port), _addr):
            action = "refused"
        REPORTER.report(proto="udp", family=family, dst_ip=ip, dst_port=port, **({"host": host} if host else {}),
                        action=action, udp_lost=dropped, **info)


def refuse_dns(family, query, server, client):
    """Answer a DNS query sent to an outside resolver with REFUSED, from that resolver's address (every address is
    local here), so that `dig @8.8.8.8` fails at once instead of timing out. Best effort: False if it cannot."""
    parsed = parse_query(query)
    if parsed is None:
        return False
    qid, flags, _name, _qtype, end = parsed
    reply = struct.pack("!HHHHHH", qid, 0x8000 | (flags & 0x7900) | 0x0080 | 5, 1, 0, 0, 0) + query[12:end]
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as out:
            out.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:  # a v6 address must be on an interface to be bound, unless free-bound
                out.setsockopt(socket.IPPROTO_IPV6, IPV6_FREEBIND, 1)
            out.bind(server)
            out.sendto(reply, client)
        return True
    except OSError:
        return False


# ---------------------------------------------------------------------------------------------------
# Exec


def oom_kills():
    """The memory cgroup's OOM-kill counter (cgroup v1 memory.oom_control, v2 memory.events)."""
    for path in ("/sys/fs/cgroup/memory/memory.oom_control", "/sys/fs/cgroup/memory.events"):
        try:
            with open(path) as f:
                for line in f:
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value)
        except OSError:
            continue
    return 0


class Capture:
    """Reads a pipe without blocking the loop; keeps the first ``cap`` bytes and the sha256 and length of all."""

    def __init__(self, loop, pipe, cap):
        self.loop, self.pipe, self.fd, self.cap = loop, pipe, pipe.fileno(), cap
        self.kept, self.total, self.sha = bytearray(), 0, hashlib.sha256()
        self.eof = loop.create_future()
        os.set_blocking(self.fd, False)
        loop.add_reader(self.fd, self._readable)

    def _readable(self):
        try:
            data = os.read(self.fd, CHUNK)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.close()
            return
        self.total += len(data)
        self.sha.update(data)
        room = self.cap - len(self.kept)
        if room > 0:
            self.kept += data[:room]

    def close(self):
        if not self.eof.done():
            self.loop.remove_reader(self.fd)
            self.pipe.close()
            self.eof.set_result(None)


class Feeder:
    """Writes stdin to a pipe without blocking the loop, then closes it (a child that never reads is fine)."""

    def __init__(self, loop, pipe, data):
        self.loop, self.pipe, self.fd, self.data = loop, pipe, pipe.fileno(), memoryview(data)
        self.closed = False
        os.set_blocking(self.fd, False)
        if data:
            loop.add_writer(self.fd, self._writable)
        else:
            self.close()

    def _writable(self):
        try:
            self.data = self.data[os.write(self.fd, self.data[:CHUNK]):]
        except BlockingIOError:
            return
        except OSError:  # EPIPE: the child is gone or closed its stdin
            self.data = self.data[:0]
        if not self.data:
            self.close()

    def close(self):
        if not self.closed:
            self.closed = True
            self.loop.remove_writer(self.fd)
            self.pipe.close()


async def wait_exit(loop, proc):
    """Wait until the process exits, not until its pipes close (background jobs may hold those for ever).

    A pidfd becomes readable at exit and needs no thread, which matters when a fork bomb has used up
    the pids limit; kernels or runtimes without pidfd_open get polling instead."""
    try:
        pidfd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        while proc.poll() is None:
            await asyncio.sleep(0.005)
        return
    exited = loop.create_future()
    loop.add_reader(pidfd, lambda: exited.done() or exited.set_result(None))
    try:
        await exited
    finally:
        loop.remove_reader(pidfd)
        os.close(pidfd)


def kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


async def run_exec(req, stdin):
    cmd = req["cmd"]
    argv = ["/bin/sh", "-c", cmd] if isinstance(cmd, str) else [str(a) for a in cmd]
    env = dict(BASE_ENV)
    env.update({str(k): str(v) for k, v in (req.get("env") or {}).items()})
    timeout, cap = req.get("timeout"), int(req.get("max_output", 1 << 20))
    loop = asyncio.get_running_loop()
    oom_before, started = oom_kills(), time.monotonic()
    meta = {"timed_out": False}
    try:
        # A new session puts the command and everything it forks in one process group we can kill.
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                cwd=req.get("cwd") or "/workspace", env=env, user=AGENT_UID, group=AGENT_GID,
                                extra_groups=[], start_new_session=True)
    except OSError as e:
        message = f"airgap: cannot run {argv[0]!r}: {e.strerror} ({e.filename or argv[0]})\n".encode()
        meta.update(exit_code=127 if e.errno == errno.ENOENT else 126, oom_killed=False, duration_ms=0.0)
        return meta, (b"", 0, hashlib.sha256()), (message, len(message), hashlib.sha256(message))
    out, err = Capture(loop, proc.stdout, cap), Capture(loop, proc.stderr, cap)
    feeder = Feeder(loop, proc.stdin, stdin)
    try:
        await asyncio.wait_for(wait_exit(loop, proc), timeout)
    except asyncio.TimeoutError:
        meta["timed_out"] = True
        kill_group(proc.pid)
        await wait_exit(loop, proc)
        kill_group(proc.pid)  # again, for children forked while the first kill went round
    code = proc.wait()  # reaps it: it has exited
    # What the command wrote is in the pipes; background jobs may keep them open, so wait only briefly.
    await asyncio.wait([out.eof, err.eof], timeout=PIPE_GRACE)
    for part in (out, err, feeder):
        part.close()
    meta.update(exit_code=code if code >= 0 else 128 - code, signal=-code if code < 0 else None,
                oom_killed=oom_kills() > oom_before, duration_ms=round((time.monotonic() - started) * 1000, 3))
    return meta, (bytes(out.kept), out.total, out.sha), (bytes(err.kept), err.total, err.sha)


async def kill_agent_processes():
    """SIGKILL every process the agent owns (also those that left the process group), until none is left."""
    killed = set()
    for _ in range(100):
        pids = []
        for name in os.listdir("/proc"):
            try:
                if name.isdigit() and os.stat(f"/proc/{name}").st_uid == AGENT_UID:
                    pids.append(int(name))
            except OSError:
                continue
        alive = [p for p in pids if not is_zombie(p)]
        if not alive:
            break
        for pid in alive:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
            except OSError:
                pass
        await asyncio.sleep(0.01)
    return len(killed)


def is_zombie(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


# ---------------------------------------------------------------------------------------------------
# Files (in a forked child that has become the agent, so permissions are the agent's)


def as_agent(work):
    """Run ``work()`` (returning bytes) in a child with the agent's uid/gid; return its bytes or raise OSError."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            os.setgroups([])
            os.setgid(AGENT_GID)
            os.setuid(AGENT_UID)
            reply = b"\0" + work()
        except OSError as e:
            reply = b"\1" + json.dumps([e.errno or 0, e.strerror or str(e)]).encode()
        except BaseException as e:  # never let the child return into the event loop
            reply = b"\1" + json.dumps([0, repr(e)]).encode()
        with os.fdopen(w, "wb") as f:
            f.write(reply)
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        reply = f.read()
    os.waitpid(pid, 0)
    if reply[:1] != b"\0":
        code, message = json.loads(reply[1:] or b'[0, "file worker died"]')
        raise OSError(code, message)
    return reply[1:]


def read_as_agent(path):
    def work():
        with open(path, "rb") as f:
            return f.read()

    return as_agent(work)


def write_as_agent(path, data, mode):
    def work():
        parent = os.path.dirname(path)
        if parent:
            os.makedirs(parent, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return b""

    as_agent(work)


# ---------------------------------------------------------------------------------------------------
# Recycling: make a used sandbox indistinguishable from a fresh one to the next episode, or say why not

AGENT_MOUNTS = ("/workspace", "/tmp", "/home/agent", "/dev/shm", "/dev/mqueue")
# The mount roots' modes as the container starts them (the agent owns /workspace and its home, so it may change them).
MOUNT_MODES = {"/workspace": 0o755, "/home/agent": 0o755, "/tmp": 0o1777, "/dev/shm": 0o1777, "/dev/mqueue": 0o1777}
SYSV_IPC = {"shm": ("shmctl", 0), "msg": ("msgctl", 0), "sem": ("semctl", 1)}  # /proc/sysvipc file: call, id column


def sysv_ids(kind):
    """The ids of the System V IPC objects of one kind in this IPC namespace (from /proc/sysvipc)."""
    try:
        with open(f"/proc/sysvipc/{kind}") as f:
            return [int(line.split()[1]) for line in f.readlines()[1:] if line.strip()]
    except OSError:
        return []


def wipe_as_agent():
    """(In a child that is the agent.) Empty every writable mount, reset the roots' modes, remove the agent's
    System V shared memory, message queues and semaphores. POSIX queues and shm are files in /dev/mqueue and
    /dev/shm, so emptying those removes them."""
    def remove(path):
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                os.chmod(path, 0o700)  # a folder the agent made unreadable or unwritable is still its own
                for name in os.listdir(path):
                    remove(os.path.join(path, name))
                os.rmdir(path)
            else:
                os.unlink(path)
        except OSError:
            pass  # the check afterwards says what is left

    for mount in AGENT_MOUNTS:
        try:
            names = os.listdir(mount)
        except OSError:
            continue
        for name in names:
            remove(os.path.join(mount, name))
        if os.stat(mount).st_uid == AGENT_UID:
            os.chmod(mount, MOUNT_MODES[mount])
    libc = ctypes.CDLL(None, use_errno=True)
    for kind, (call, _col) in SYSV_IPC.items():
        for ident in sysv_ids(kind):
            if kind == "sem":
                libc.semctl(ident, 0, 0)  # IPC_RMID
            else:
                getattr(libc, call)(ident, 0, None)  # IPC_RMID
    return b""


def leftovers():
    """What a fresh sandbox would not have: the agent's processes, files, IPC objects, changed mount roots,
    space still in use on a tmpfs (a deleted file held open), half-closed connections in the init."""
    found = []
    for name in os.listdir("/proc"):
        try:
            if name.isdigit() and os.stat(f"/proc/{name}").st_uid == AGENT_UID and not is_zombie(int(name)):
                found.append(f"process {name} of the agent")
        except OSError:
            continue
    for mount in AGENT_MOUNTS:
        try:
            names, st = os.listdir(mount), os.stat(mount)
        except OSError as e:
            found.append(f"{mount}: {e.strerror}")
            continue
        found += [f"{mount}/{n}" for n in names[:10]]
        if st.st_mode & 0o7777 != MOUNT_MODES[mount]:
            found.append(f"{mount} has mode {st.st_mode & 0o7777:o}")
        if mount != "/dev/mqueue":
            vfs = os.statvfs(mount)
            if vfs.f_bfree != vfs.f_blocks:
                found.append(f"{mount}: {(vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize} bytes still in use")
    found += [f"System V {kind} {ident}" for kind in SYSV_IPC for ident in sysv_ids(kind)]
    found += [f"{n} {kind} connection(s) still open in the init" for kind, n in INFLIGHT.items() if n]
    return found


async def recycle():
    """Kill the agent's processes, wipe what it could write, reset the init's per-episode state; then check."""
    loop = asyncio.get_running_loop()
    killed = await kill_agent_processes()
    await loop.run_in_executor(None, as_agent, wipe_as_agent)
    WORLD.reset()
    for _ in range(50):  # relayed and intercepted connections close once their clients are gone
        problems = leftovers()
        if not problems:
            break
        await asyncio.sleep(0.01)
    return killed, problems


# ---------------------------------------------------------------------------------------------------
# Control server


async def handle_ctl(reader, writer):
    loop = asyncio.get_running_loop()
    payload, req = [], {}
    try:
        req = json.loads(await reader.readline())
        op = req.get("op")
        if op == "ping":
            caps = capabilities()
            reply = {"ok": True, "pid": os.getpid(), "reports": REPORTER.seq, "intercept": INTERCEPT["on"],
                     "intercept_error": INTERCEPT["error"], "cap_eff": caps.get("CapEff"), "cap_bnd": caps.get("CapBnd")}
        elif op == "exec":
            stdin = await reader.readexactly(int(req.get("stdin_len", 0)))
            meta, (out, out_total, out_sha), (err, err_total, err_sha) = await run_exec(req, stdin)
            reply = dict(meta, ok=True, reports=REPORTER.seq, stdout_len=len(out), stderr_len=len(err), stdout_total=out_total,
                         stderr_total=err_total, stdout_sha256=out_sha.hexdigest(), stderr_sha256=err_sha.hexdigest())
            payload = [out, err]
        elif op == "recycle":
            killed, problems = await recycle()
            reply = {"ok": True, "killed": killed, "clean": not problems, "problems": problems[:20],
                     "reports": REPORTER.seq}
        elif op == "kill_all":
            reply = {"ok": True, "killed": await kill_agent_processes()}
        elif op == "read":
            data = await loop.run_in_executor(None, read_as_agent, req["path"])
            reply, payload = {"ok": True, "size": len(data)}, [data]
        elif op == "write":
            data = await reader.readexactly(int(req["size"]))
            await loop.run_in_executor(None, write_as_agent, req["path"], data, int(req.get("mode", 0o644)))
            reply = {"ok": True}
        else:
            reply = {"ok": False, "error": f"unknown op {op!r}"}
    except OSError as e:
        reply = {"ok": False, "errno": e.errno, "error": e.strerror or str(e)}
    except (ValueError, KeyError, TypeError, asyncio.IncompleteReadError) as e:
        reply = {"ok": False, "error": f"bad request: {e!r}"}
    except Exception as e:  # e.g. no thread or process left to start: answer anyway, never leave the caller hanging
        reply = {"ok": False, "error": f"init could not {req.get('op', 'serve')}: {e!r}"}
    try:
        writer.write(json.dumps(reply).encode() + b"\n")
        for part in payload:
            writer.write(part)
        await writer.drain()
        writer.close()
    except OSError:
        pass


async def main():
    loop = asyncio.get_running_loop()
    udp_catchers = setup_network()  # first: the set-up capabilities are gone before anything else runs
    if INTERCEPT["on"]:
        await REPORTER.connect()
    asyncio.ensure_future(REPORTER.run())
    await loop.create_datagram_endpoint(DNSProtocol, local_addr=("127.0.0.1", 53))
    for port in RELAY_PORTS:  # 0.0.0.0 with interception: world hosts' addresses are local too
        await asyncio.start_server(relay_handler(port), "0.0.0.0" if INTERCEPT["on"] else "127.0.0.1", port)
    if INTERCEPT["on"]:
        for host in ("127.0.0.1", "::1"):
            await asyncio.start_server(catch_tcp, host, CATCH_PORT, backlog=1024)
        for sock in udp_catchers:
            loop.add_reader(sock.fileno(), catch_udp, sock)
    # The control socket comes up last: once it answers, everything else is listening.
    # The harness makes ctl/ (its own, mode 0770, shared with us through its group) so that a harness that is
    # not root can reach the socket; the agent must not get in.
    os.makedirs(CTL_DIR, mode=0o700, exist_ok=True)
    st = os.stat(CTL_DIR)
    if st.st_uid == os.getuid():
        os.chmod(CTL_DIR, 0o700)
    elif st.st_mode & 0o007 or AGENT_UID == st.st_uid or AGENT_GID == st.st_gid:
        print(f"airgap init: refusing to start: {CTL_DIR} (uid {st.st_uid}, gid {st.st_gid}, mode "
              f"{st.st_mode & 0o777:o}) would let the agent (uid {AGENT_UID}) reach the control socket",
              file=sys.stderr, flush=True)
        sys.exit(3)
    if os.path.exists(CTL_SOCK):
        os.unlink(CTL_SOCK)
    server = await asyncio.start_unix_server(handle_ctl, CTL_SOCK)
    if st.st_uid != os.getuid():
        os.chmod(CTL_SOCK, 0o666)  # the harness is neither its owner nor in its group; the folder keeps others out
    state = "on" if INTERCEPT["on"] else f"off: {INTERCEPT['error']}"
    print(f"airgap init ready (pid {os.getpid()}; connection interception {state})", file=sys.stderr, flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
