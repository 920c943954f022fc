"""airgap init: the one long-lived process inside a sandbox (stdlib only, runs under docker-init).

It does three jobs, all on one asyncio loop:

1. DNS on 127.0.0.1:53/udp. Every look-up is asked of the host-side gateway over its unix socket
   (so the gateway logs it); a host the gateway routes gets an address of its own in 198.18.0.0/15
   (127.0.0.1 when interception is off), anything else NXDOMAIN at once.
2. A relay: TCP 127.0.0.1:80 and :443 are copied byte for byte to the gateway socket, after a
   one-line preamble ``TCP <port>`` and the gateway's ``OK``. TLS is terminated by the gateway, on the host.
   A connection to a world host on another port (a mail host's 587 or 993) is first offered to the gateway as
   ``TCP <port> <host>``: relayed the same way when it answers ``OK`` (it serves that port of that host), else
   intercepted like any other (3.).
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
import base64
import collections
import ctypes
import errno
import hashlib
import ipaddress
import json
import os
import re
import select
import signal
import socket
import stat
import struct
import subprocess
import sys
import threading
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


async def relay(port, reader, writer, host=None):
    """Relay one connection to the gateway; False (nothing relayed) when it does not serve ``port`` of ``host``."""
    try:
        up_reader, up_writer = await asyncio.open_unix_connection(GATEWAY_SOCK)
    except OSError:
        return False
    try:
        up_writer.write(f"TCP {port}{' ' + host if host else ''}\n".encode())
        # Wait for the gateway's go-ahead so the client's first bytes (a TLS ClientHello) reach the
        # gateway only after it has switched from reading our preamble to speaking HTTP or TLS.
        if await asyncio.wait_for(up_reader.readline(), 10) != b"OK\n":
            return False
        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))
        return True
    except (OSError, asyncio.TimeoutError):
        return False
    finally:
        up_writer.close()


async def relay_stream(port, host, reader, writer):
    """A world host's other port (a mail host's 587): relayed if the gateway serves it there, else False."""
    if INFLIGHT["relay"] >= MAX_INFLIGHT["relay"]:
        return False
    INFLIGHT["relay"] += 1
    try:
        return await relay(port, reader, writer, host)
    finally:
        INFLIGHT["relay"] -= 1


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
    """What the first bytes look like: TLS (and its SNI), an HTTP request, an SSH banner, a DNS query, QUIC; and the
    bytes themselves (``payload``, or ``payload_b64`` when they are not UTF-8 text): what tried to leave."""
    info = {"first_bytes": data[:64].hex(), "first_len": len(data)}
    if not data:
        return dict(info, shape="none")
    try:
        info["payload"] = data.decode("utf-8")
    except UnicodeDecodeError:
        info["payload_b64"] = base64.b64encode(data).decode("ascii")
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
    text = (f"airgap: no network: {dest} is outside the offline world; only its hosts are served (ports 80 and 443, "
            "and the mail ports of its mail host). The attempt was logged.\n").encode()
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
    if host and await relay_stream(port, host, reader, writer):  # a port this world host serves
        writer.close()
        return
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
    """True once the first bytes say enough: a whole TLS record, an HTTP request (its head and, up to
    FIRST_BYTES_MAX, its body: what it carried), an SSH banner line."""
    if data[:1] == b"\x16" and len(data) >= 5:
        return len(data) >= 5 + int.from_bytes(data[3:5], "big")
    if HTTP_LINE.match(data.split(b"\n", 1)[0]) and b"\n" in data:
        end, sep = data.find(b"\r\n\r\n"), 4
        if end < 0:
            end, sep = data.find(b"\n\n"), 2
        if end < 0:
            return False
        head, body = data[:end], len(data) - end - sep
        length = re.search(rb"\ncontent-length:[ \t]*(\d{1,12})", head, re.I)
        if length:
            return body >= int(length.group(1))
        if re.search(rb"\ntransfer-encoding:[ \t]*chunked", head, re.I):
            return data.endswith(b"\r\n0\r\n\r\n") or data[end + sep:].startswith(b"0\r\n")
        return True
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
# Effects: what the agent's processes did (seccomp user notifications) and what changed where it writes (a manifest)
#
# Every command runs as a child of the capture process, forked from the init at start. That process holds a seccomp
# filter (inherited by everything it starts, across fork and exec) that stops the calls listed in CALLS with
# SECCOMP_RET_USER_NOTIF. Its supervisor thread, which is outside the filter, receives each stopped call, reads the
# call's arguments from the caller's memory (/proc/<pid>/mem, opened with the agent's fsuid: no capability needed),
# sends one record to the init and only then lets the call go on (SECCOMP_USER_NOTIF_FLAG_CONTINUE). So a command's
# records are all with the init before its exit is (one socket carries both, in order), and nothing the agent runs can
# skip the filter, remove it, or reach the supervisor (root, in another process). A record is what was attempted: the
# call then runs as it would have, and may fail. The filter has no view of a path, only of numbers, so file opens are
# stopped when they write (O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND) or, in mode "effects", when a program opens a
# path of its own for reading without O_CLOEXEC (what cat, grep, head and a shell's "<" do; the dynamic loader, locale
# files and Python's open() use O_CLOEXEC); mode "opens" stops every open (slower: each stop costs a round trip).

CAPTURE = {"mode": "off", "procs": False, "error": "not set up"}
CAPTURE_MODES = ("effects", "opens")
CALL_NUMBERS = {
    "x86_64": (0xC000003E, 317, 0x40000000, {
        "execve": 59, "execveat": 322, "open": 2, "openat": 257, "openat2": 437, "creat": 85, "unlink": 87,
        "unlinkat": 263, "rmdir": 84, "rename": 82, "renameat": 264, "renameat2": 316, "truncate": 76, "ftruncate": 77,
        "link": 86, "linkat": 265, "symlink": 88, "symlinkat": 266, "connect": 42, "kill": 62, "tkill": 200,
        "tgkill": 234, "rt_sigqueueinfo": 129, "rt_tgsigqueueinfo": 297, "pidfd_send_signal": 424, "ptrace": 101,
        "io_uring_setup": 425}),
    "aarch64": (0xC00000B7, 277, None, {
        "execve": 221, "execveat": 281, "openat": 56, "openat2": 437, "unlinkat": 35, "renameat": 38, "renameat2": 276,
        "truncate": 45, "ftruncate": 46, "linkat": 37, "symlinkat": 36, "connect": 203, "kill": 129, "tkill": 130,
        "tgkill": 131, "rt_sigqueueinfo": 138, "rt_tgsigqueueinfo": 240, "pidfd_send_signal": 424, "ptrace": 117,
        "io_uring_setup": 425}),
}
O_WRITES = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
AT_FDCWD_LOW = 0xFFFFFF9C  # -100 as the low 32 bits of a syscall argument
NOTIF_SIZE, RESP_SIZE = 80, 24  # struct seccomp_notif, struct seccomp_notif_resp
IOCTL_RECV, IOCTL_SEND = 0xC0502100, 0xC0182101  # SECCOMP_IOCTL_NOTIF_RECV, SECCOMP_IOCTL_NOTIF_SEND
MAX_RECORDS = 1000  # distinct records kept per command; the rest are counted
# Opens not worth a record in mode "effects" (they still stop: the filter cannot see paths): the system's own files read
# (libraries, locales, gettext catalogues, Python's start-up probes) and the character devices everything uses.
QUIET_READS = ("/usr/", "/lib/", "/lib64/", "/bin/", "/sbin/", "/etc/ld.so.", "/etc/localtime")
QUIET_DEVICES = ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random", "/dev/tty", "/dev/full")
MAX_STR, MAX_ARGV, MAX_ARGS = 4096, 8192, 128  # bytes of one path, of one argv, and arguments read per exec


def seccomp_program(arch, calls, x32, mode):
    """The classic BPF program: notify for the calls we record (open-like calls by their flags), refuse nothing,
    allow the rest; a call of another ABI (x32, or a 32-bit table from a 64-bit process) is always notified."""
    LD, JEQ, JSET, JGE, RET = 0x20, 0x15, 0x45, 0x35, 0x06
    ALLOW, NOTIFY = 0x7FFF0000, 0x7FC00000
    code = [("ld", 4), ("jne", arch, "notify"), ("ld", 0)]
    if x32:
        code.append(("jge", x32, "notify"))
    for name, nr in calls.items():
        if name in ("open", "openat"):
            code.append(("jeq", nr, name))
        else:
            code.append(("jeq", nr, "notify"))
    code.append(("ret", ALLOW))
    for name, flags_arg, dirfd_arg in (("open", 1, None), ("openat", 2, 0)):
        if name not in calls:
            continue
        code += [("label", name), ("ld", 16 + 8 * flags_arg)]
        if mode != "opens":
            code += [("jset", O_WRITES, "notify"), ("jset", os.O_CLOEXEC, "allow")]
            if dirfd_arg is not None:
                code += [("ld", 16 + 8 * dirfd_arg), ("jne", AT_FDCWD_LOW, "allow")]
        code.append(("ret", NOTIFY))
    code += [("label", "allow"), ("ret", ALLOW), ("label", "notify"), ("ret", NOTIFY)]
    labels, body = {}, []
    for ins in code:
        if ins[0] == "label":
            labels[ins[1]] = len(body)
        else:
            body.append(ins)
    out = []
    for i, ins in enumerate(body):
        op = ins[0]
        if op in ("ld", "ret"):
            out.append(struct.pack("=HBBI", LD if op == "ld" else RET, 0, 0, ins[1]))
            continue
        jump = labels[ins[2]] - i - 1
        if op == "jne":
            out.append(struct.pack("=HBBI", JEQ, 0, jump, ins[1]))
        else:
            out.append(struct.pack("=HBBI", {"jeq": JEQ, "jset": JSET, "jge": JGE}[op], jump, 0, ins[1]))
    return b"".join(out), len(out)


def s32(value):
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


class Memory:
    """Another process's memory, read through /proc/<pid>/mem (the caller's fsuid must be the process's uid)."""

    def __init__(self, pid):
        self.pid, self.fd = pid, None

    def _open(self):
        if self.fd is None:
            self.fd = os.open(f"/proc/{self.pid}/mem", os.O_RDONLY | os.O_CLOEXEC)
        return self.fd

    def read(self, addr, size):
        return os.pread(self._open(), size, addr)

    def string(self, addr, cap=MAX_STR):
        if not addr:
            return None
        out = b""
        while len(out) < cap:
            chunk = self.read(addr + len(out), min(cap - len(out), 4096 - (addr + len(out)) % 4096))
            if not chunk:
                break
            end = chunk.find(b"\0")
            if end >= 0:
                return (out + chunk[:end]).decode("utf-8", "surrogateescape")
            out += chunk
        return (out[:cap]).decode("utf-8", "surrogateescape")

    def pointers(self, addr, limit):
        """A NULL-terminated array of pointers (argv), read a page at a time (the array may end near a mapping's end)."""
        out = []
        while addr and len(out) < limit:
            chunk = self.read(addr, min(8 * (limit - len(out)), 4096 - addr % 4096) // 8 * 8 or 8)
            if len(chunk) < 8:
                break
            for (p,) in struct.iter_unpack("=Q", chunk[:len(chunk) // 8 * 8]):
                if not p:
                    return out
                out.append(p)
            addr += len(chunk) // 8 * 8
        return out

    def close(self):
        if self.fd is not None:
            os.close(self.fd)


def readlink(path):
    try:
        return os.readlink(path)
    except OSError:
        return None


def proc_owner(pid):
    """(uid, name) of a process, or (None, None) when it is gone."""
    try:
        uid = os.stat(f"/proc/{pid}").st_uid
        with open(f"/proc/{pid}/comm") as f:
            return uid, f.read().strip()
    except OSError:
        return None, None


_PROC_PID = re.compile(r"^/proc/(\d+)(?:/|$)")


class Supervisor:
    """The capture process's thread that answers the filter's notifications (see the section's comment)."""

    def __init__(self, sock, send_lock, arch, calls, x32, mode):
        self.sock, self.lock, self.arch, self.x32, self.quiet = sock, send_lock, arch, x32, mode != "opens"
        self.names = {nr: name for name, nr in calls.items()}
        self.listener = None
        self.reporting = False  # records go to the init once the self-test is over
        self.cannot_continue = False  # the kernel refused SECCOMP_USER_NOTIF_FLAG_CONTINUE (before Linux 5.5)
        self.ready = threading.Event()
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.libc.ioctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p]

    def send(self, message):
        data = json.dumps(message, separators=(",", ":")).encode()
        with self.lock:
            self.sock.send(data)

    def run(self):
        self.ready.wait()
        libc = self.libc
        libc.setfsgid(AGENT_GID)  # this thread only: /proc/<pid>/mem and path look-ups with the agent's rights
        libc.setfsuid(AGENT_UID)
        notif, resp = ctypes.create_string_buffer(NOTIF_SIZE), ctypes.create_string_buffer(RESP_SIZE)
        poller = select.poll()
        poller.register(self.listener, 0x001)  # POLLIN
        while True:
            poller.poll()
            ctypes.memset(notif, 0, NOTIF_SIZE)
            if libc.ioctl(self.listener, IOCTL_RECV, notif) != 0:
                if ctypes.get_errno() in (errno.EINTR, errno.ENOENT):
                    continue
                return
            nid, pid, _flags, nr, arch = struct.unpack_from("=QIIiI", notif.raw, 0)
            args = struct.unpack_from("=6Q", notif.raw, 32)
            refuse = False
            try:
                record = self.describe(pid, nr, arch, args)
                refuse = bool(record and record.get("refused"))
                if record is not None and self.reporting:
                    self.send({"rec": record})
            except Exception as e:  # a record that cannot be read must not stop the call, nor the thread
                try:
                    self.send({"rec": {"pid": pid, "call": self.names.get(nr, "?"), "error": repr(e)[:200]}})
                except OSError:
                    return
            struct.pack_into("=QqiI", resp, 0, nid, 0, -errno.ENOSYS if refuse else 0, 0 if refuse else 1)
            # ENOENT when the caller died meanwhile: nothing to do; EINVAL: no FLAG_CONTINUE here, so the call fails
            if libc.ioctl(self.listener, IOCTL_SEND, resp) != 0 and ctypes.get_errno() == errno.EINVAL:
                self.cannot_continue = True
                struct.pack_into("=QqiI", resp, 0, nid, 0, -errno.ENOSYS, 0)
                libc.ioctl(self.listener, IOCTL_SEND, resp)

    def describe(self, pid, nr, arch, args):
        if arch != self.arch or (self.x32 and nr >= self.x32):
            return {"pid": pid, "call": "foreign", "arch": f"{arch:#x}", "nr": nr}
        name = self.names.get(nr)
        try:
            sid = os.getsid(pid)
        except OSError:
            return None  # gone already
        rec = {"pid": pid, "sid": sid}
        if name == "io_uring_setup":  # its requests would open and unlink files with no call to see: refused
            rec.update(call="io_uring", refused=True)
            return rec
        mem = Memory(pid)
        try:
            return self.decode(name, args, mem, rec)
        except OSError as e:
            rec.setdefault("call", name)
            rec["unreadable"] = e.strerror or str(e)
            return rec
        finally:
            mem.close()

    def path(self, pid, dirfd, raw):
        """An absolute, normalised path for a call's path argument (relative ones against the directory they name)."""
        if raw is None:
            return None
        if raw.startswith("/"):
            return os.path.normpath(raw).replace("//", "/")
        base = readlink(f"/proc/{pid}/cwd" if dirfd == -100 else f"/proc/{pid}/fd/{dirfd}")
        if base is None or not base.startswith("/"):
            return raw
        return os.path.normpath(os.path.join(base, raw)) if raw else base

    @staticmethod
    def real(rec, key="path"):
        """Where a path in the agent's places really leads, when a symlinked folder on the way points elsewhere (not for
        /proc or /dev paths, which would resolve against this process)."""
        path = rec.get(key)
        if not path or not mount_of(path):
            return
        parent, base = os.path.split(path)
        real = os.path.join(os.path.realpath(parent), base)
        if real != path:
            rec["real" if key == "path" else f"real_{key}"] = real

    def proc(self, rec):
        m = _PROC_PID.match(rec.get("path") or "")
        if m:
            rec["proc_uid"], _ = proc_owner(int(m.group(1)))

    def decode(self, name, a, mem, rec):
        pid = rec["pid"]
        if name in ("execve", "execveat"):
            at = name == "execveat"
            rec["call"] = "exec"
            raw = mem.string(a[1] if at else a[0])
            if at and not raw and a[4] & 0x1000:  # AT_EMPTY_PATH: the file behind the descriptor (fexecve)
                rec["path"] = readlink(f"/proc/{pid}/fd/{s32(a[0])}")
            else:
                rec["path"] = self.path(pid, s32(a[0]) if at else -100, raw)
            argv, total, ptrs = [], 0, mem.pointers(a[2] if at else a[1], MAX_ARGS)
            for p in ptrs:
                if not p or total >= MAX_ARGV:
                    break
                s = mem.string(p, min(MAX_STR, MAX_ARGV - total))
                argv.append(s)
                total += len(s) + 1
            rec["argv"] = argv
        elif name in ("open", "openat", "openat2", "creat"):
            rec["call"] = "open"
            if name == "openat2":
                flags = struct.unpack("=Q", mem.read(a[2], 8))[0]
            else:
                flags = {"open": a[1], "openat": a[2], "creat": os.O_CREAT | os.O_WRONLY | os.O_TRUNC}[name]
            dirfd = s32(a[0]) if name in ("openat", "openat2") else -100
            rec["path"] = self.path(pid, dirfd, mem.string(a[1] if name in ("openat", "openat2") else a[0]))
            rec["mode"] = ("r", "w", "rw", "rw")[flags & 3]
            extra = [n for n, bit in (("creat", os.O_CREAT), ("trunc", os.O_TRUNC), ("append", os.O_APPEND)) if flags & bit]
            if extra:
                rec["flags"] = extra
            if self.quiet and (rec["path"] in QUIET_DEVICES or (rec["mode"] == "r" and (rec["path"] or "").startswith(QUIET_READS))):
                return None
            if flags & O_WRITES:
                self.real(rec)
            self.proc(rec)
        elif name in ("unlink", "unlinkat", "rmdir"):
            at = name == "unlinkat"
            rec["call"] = "rmdir" if name == "rmdir" or (at and a[2] & 0x200) else "unlink"
            rec["path"] = self.path(pid, s32(a[0]) if at else -100, mem.string(a[1] if at else a[0]))
            self.real(rec)
        elif name in ("rename", "renameat", "renameat2"):
            rec["call"] = "rename"
            if name == "rename":
                rec["path"], rec["to"] = self.path(pid, -100, mem.string(a[0])), self.path(pid, -100, mem.string(a[1]))
            else:
                rec["path"] = self.path(pid, s32(a[0]), mem.string(a[1]))
                rec["to"] = self.path(pid, s32(a[2]), mem.string(a[3]))
                if name == "renameat2" and a[4] & 2:
                    rec["exchange"] = True
            self.real(rec)
            self.real(rec, "to")
        elif name in ("truncate", "ftruncate"):
            rec["call"] = "truncate"
            rec["path"] = (self.path(pid, -100, mem.string(a[0])) if name == "truncate"
                           else readlink(f"/proc/{pid}/fd/{s32(a[0])}"))
            rec["length"] = a[1]
        elif name in ("link", "linkat", "symlink", "symlinkat"):
            rec["call"] = "symlink" if name.startswith("symlink") else "link"
            if name == "symlink":
                rec["target"], rec["path"] = mem.string(a[0]), self.path(pid, -100, mem.string(a[1]))
            elif name == "symlinkat":
                rec["target"], rec["path"] = mem.string(a[0]), self.path(pid, s32(a[1]), mem.string(a[2]))
            elif name == "link":
                rec["target"], rec["path"] = self.path(pid, -100, mem.string(a[0])), self.path(pid, -100, mem.string(a[1]))
            else:
                rec["target"] = self.path(pid, s32(a[0]), mem.string(a[1]))
                rec["path"] = self.path(pid, s32(a[2]), mem.string(a[3]))
        elif name == "connect":
            rec["call"] = "connect"
            rec.update(sockaddr(mem.read(a[1], min(int(a[2]), 128)) if a[1] else b""))
        elif name in ("kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "pidfd_send_signal"):
            rec["call"], rec["how"] = "signal", name
            if name == "pidfd_send_signal":
                target = pidfd_target(pid, s32(a[0]))
                sig = s32(a[1])
            elif name in ("tgkill", "rt_tgsigqueueinfo"):
                target, sig = s32(a[0]), s32(a[2])
            else:
                target, sig = s32(a[0]), s32(a[1])
            rec["target"], rec["sig"] = target, sig
            if target is not None and target > 0:
                rec["target_uid"], rec["target_comm"] = proc_owner(target)
        elif name == "ptrace":
            rec["call"], rec["request"], rec["target"] = "ptrace", s32(a[0]), s32(a[1])
            if rec["target"] > 0:
                rec["target_uid"], rec["target_comm"] = proc_owner(rec["target"])
        else:
            rec["call"] = name or "?"
        return rec


def sockaddr(raw):
    """The address of a connect() call: a unix socket's path (``@name`` when abstract), or an IPv4/IPv6 address and port."""
    if len(raw) < 2:
        return {"family": "?"}
    family = struct.unpack("=H", raw[:2])[0]
    if family == socket.AF_UNIX:
        path = raw[2:]
        if path[:1] == b"\0":
            return {"family": "unix", "addr": "@" + path[1:].split(b"\0")[0].decode("utf-8", "replace")}
        return {"family": "unix", "addr": path.split(b"\0")[0].decode("utf-8", "replace")}
    if family == socket.AF_INET and len(raw) >= 8:
        return {"family": "inet", "addr": socket.inet_ntop(socket.AF_INET, raw[4:8]), "port": struct.unpack("!H", raw[2:4])[0]}
    if family == socket.AF_INET6 and len(raw) >= 24:
        return {"family": "inet6", "addr": socket.inet_ntop(socket.AF_INET6, raw[8:24]),
                "port": struct.unpack("!H", raw[2:4])[0]}
    return {"family": str(family)}


def pidfd_target(pid, fd):
    try:
        with open(f"/proc/{pid}/fdinfo/{fd}") as f:
            for line in f:
                if line.startswith("Pid:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def capture_main(sock, mode):
    """The capture process: install the filter, hand its notifications to the supervisor thread, start commands."""
    machine = os.uname().machine
    if machine not in CALL_NUMBERS:
        sock.send(json.dumps({"error": f"no system call table for {machine}"}).encode())
        return
    arch, nr_seccomp, x32, calls = CALL_NUMBERS[machine]
    lock = threading.Lock()
    sup = Supervisor(sock, lock, arch, calls, x32, mode)
    threading.Thread(target=sup.run, daemon=True).start()  # before the filter: the thread stays outside it
    program, length = seccomp_program(arch, calls, x32, mode)
    buf = ctypes.create_string_buffer(program)

    class Fprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    fprog = Fprog(length, ctypes.addressof(buf))
    # SECCOMP_SET_MODE_FILTER with SECCOMP_FILTER_FLAG_NEW_LISTENER (needs no_new_privs, which the container has)
    listener = libc.syscall(nr_seccomp, 1, 8, ctypes.byref(fprog))
    if listener < 0:
        sock.send(json.dumps({"error": f"seccomp user notification unavailable: {os.strerror(ctypes.get_errno())}"}).encode())
        return
    sup.listener = listener
    sup.ready.set()
    try:  # a program must start and finish under the filter, its calls answered, before any command does
        # Started as the commands are (as the agent): Python then forks rather than vforks, so this thread does not hold
        # the GIL while the child's exec waits for the supervisor thread (a vfork would deadlock the two).
        ok = subprocess.run(["/bin/true"], timeout=10, user=AGENT_UID, group=AGENT_GID, extra_groups=[],
                            start_new_session=True).returncode == 0 and not sup.cannot_continue
    except (OSError, subprocess.SubprocessError):
        ok = False
    if not ok:
        why = "this kernel cannot let a notified call continue (Linux 5.5+)" if sup.cannot_continue else "self-test failed"
        sock.send(json.dumps({"error": f"seccomp user notification: {why}"}).encode())
        return
    sup.reporting = True
    with lock:
        sock.send(json.dumps({"ready": True}).encode())
    spawn_loop(sock, lock)


def spawn_loop(sock, lock):
    """Start each command the init asks for (as the agent, in a new session) and report its pid, then its exit."""
    import selectors

    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wake_w)
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ)
    sel.register(wake_r, selectors.EVENT_READ)
    children = {}

    def send(message):
        with lock:
            sock.send(json.dumps(message, separators=(",", ":")).encode())

    while True:
        for key, _ in sel.select():
            if key.fileobj is sock:
                try:
                    data, ancillary, _flags, _addr = sock.recvmsg(4096, socket.CMSG_SPACE(4 * 4))
                except InterruptedError:
                    continue
                if not data:
                    return  # the init is gone
                fds = []
                for level, kind, raw in ancillary:
                    if (level, kind) == (socket.SOL_SOCKET, socket.SCM_RIGHTS):
                        fds += list(struct.unpack(f"={len(raw) // 4}i", raw[:len(raw) // 4 * 4]))
                req = json.loads(data)
                if len(fds) != 4:
                    for fd in fds:
                        os.close(fd)
                    send({"id": req.get("id"), "errno": errno.EINVAL, "strerror": "bad spawn request"})
                    continue
                spawn(req, fds, children, send)
            else:
                try:
                    while os.read(wake_r, 4096):
                        pass
                except BlockingIOError:
                    pass
                for pid, (ident, proc) in list(children.items()):
                    if proc.poll() is not None:
                        del children[pid]
                        send({"id": ident, "exit": proc.returncode})


def spawn(req, fds, children, send):
    blob_r, stdin_r, stdout_w, stderr_w = fds
    try:
        with os.fdopen(blob_r, "rb") as f:
            spec = json.loads(f.read())
        proc = subprocess.Popen(spec["argv"], stdin=stdin_r, stdout=stdout_w, stderr=stderr_w, cwd=spec["cwd"],
                                env=spec["env"], user=AGENT_UID, group=AGENT_GID, extra_groups=[], start_new_session=True)
    except OSError as e:
        send({"id": req["id"], "errno": e.errno or 0, "strerror": e.strerror or str(e),
              "filename": e.filename if isinstance(e.filename, str) else None})
    except (ValueError, KeyError, TypeError) as e:
        send({"id": req["id"], "errno": errno.EINVAL, "strerror": f"bad spawn request: {e!r}"})
    else:
        children[proc.pid] = (req["id"], proc)
        send({"id": req["id"], "pid": proc.pid})
    finally:
        for fd in (stdin_r, stdout_w, stderr_w):
            os.close(fd)


class Effects:
    """One command's records: identical ones are kept once (with a count), past MAX_RECORDS they are only counted."""

    def __init__(self, pid=None):
        self.pid, self.records, self.index, self.dropped = pid, [], {}, 0

    def add(self, rec):
        key = json.dumps({k: v for k, v in rec.items() if k not in ("pid", "sid")}, sort_keys=True)
        seen = self.index.get(key)
        if seen is not None:
            seen["n"] = seen.get("n", 1) + 1
        elif len(self.records) >= MAX_RECORDS:
            self.dropped += 1
        else:
            self.index[key] = rec
            self.records.append(rec)


class Capturer:
    """The init's side of the capture process: starts it, asks it to spawn commands, sorts its records by command."""

    def __init__(self):
        self.sock, self.pid, self.next_id = None, None, 0
        self.pending = {}  # ("start" | "exit", request id) -> future of that reply
        self.running = {}  # pid (= session id) of a running command -> its Effects
        # records by session id, before their command's pid is known (its first calls can come before the pid reply),
        # and those of processes outside every command's session (a daemon that called setsid): "background"
        self.unclaimed = collections.defaultdict(list)
        self.n_unclaimed = 0
        self.background = Effects()

    def start(self, mode):
        """Fork the capture process (before any thread exists); True once its filter is in place."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:
            keep = theirs.fileno()  # nothing else of the init's (listeners, UDP catchers, the loop's) stays open here
            os.closerange(3, keep)
            os.closerange(keep + 1, os.sysconf("SC_OPEN_MAX"))
            try:
                capture_main(theirs, mode)
            except BaseException as e:  # never return into the init's code
                try:
                    theirs.send(json.dumps({"error": f"capture process failed: {e!r}"}).encode())
                except OSError:
                    pass
            os._exit(0)
        theirs.close()
        ours.settimeout(10)
        try:
            reply = json.loads(ours.recv(65536) or b'{"error": "the capture process exited at start"}')
        except (OSError, ValueError) as e:
            reply = {"error": f"no word from the capture process: {e!r}"}
        if not reply.get("ready"):
            ours.close()
            try:
                os.kill(pid, signal.SIGKILL)  # it may be stuck: the init must come up without it
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)
            CAPTURE.update(procs=False, error=reply.get("error"))
            return False
        ours.setblocking(False)
        self.sock, self.pid = ours, pid
        CAPTURE.update(procs=True, error=None)
        return True

    def attach(self, loop):
        loop.add_reader(self.sock.fileno(), self._readable)

    def _readable(self):
        while True:
            try:
                data = self.sock.recv(1 << 16)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                data = b""
            if not data:
                self._lost("the capture process exited")
                return
            try:
                message = json.loads(data)
            except ValueError:
                continue
            rec = message.get("rec")
            if rec is not None:
                self._record(rec)
                continue
            future = self.pending.pop(("exit" if "exit" in message else "start", message.get("id")), None)
            if future is not None and not future.done():
                future.set_result(message)

    def _record(self, rec):
        if rec.get("call") == "exec" and rec.get("unreadable") and rec.get("pid") == rec.get("sid"):
            return  # a command starting (its memory is closed until it is the agent's program): its exec event has it
        effects = self.running.get(rec.get("sid"))
        if effects is not None:
            effects.add(rec)
        elif self.n_unclaimed < MAX_RECORDS:
            self.unclaimed[rec.get("sid")].append(rec)
            self.n_unclaimed += 1
        else:
            self.background.dropped += 1

    def _claim(self, effects):
        for rec in self.unclaimed.pop(effects.pid, ()):
            self.n_unclaimed -= 1
            effects.add(rec)

    def _lost(self, why):
        asyncio.get_running_loop().remove_reader(self.sock.fileno())
        CAPTURE.update(procs=False, error=why)
        for future in self.pending.values():
            if not future.done():
                future.set_result({"lost": why})

    async def spawn(self, argv, cwd, env):
        """Start a command as the agent; returns (pid, stdin, stdout, stderr, the future of its exit reply), or raises
        OSError as Popen would. The argv, cwd and environment go through a pipe (they may be larger than a message)."""
        loop = asyncio.get_running_loop()
        self.next_id += 1
        ident = self.next_id
        started = self.pending[("start", ident)] = loop.create_future()
        exited = self.pending[("exit", ident)] = loop.create_future()
        blob_r, blob_w = os.pipe2(os.O_CLOEXEC)
        stdin_r, stdin_w = os.pipe2(os.O_CLOEXEC)
        stdout_r, stdout_w = os.pipe2(os.O_CLOEXEC)
        stderr_r, stderr_w = os.pipe2(os.O_CLOEXEC)
        fds = struct.pack("=4i", blob_r, stdin_r, stdout_w, stderr_w)
        try:
            for _ in range(1000):
                try:
                    self.sock.sendmsg([json.dumps({"id": ident}).encode()], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])
                    break
                except BlockingIOError:
                    await asyncio.sleep(0.005)
            else:
                raise OSError(errno.EAGAIN, "the capture process does not take requests")
        except OSError:
            for fd in (blob_w, stdin_w, stdout_r, stderr_r):
                os.close(fd)
            self.pending.pop(("start", ident), None)
            self.pending.pop(("exit", ident), None)
            raise
        finally:
            for fd in (blob_r, stdin_r, stdout_w, stderr_w):
                os.close(fd)
        Feeder(loop, os.fdopen(blob_w, "wb", buffering=0), json.dumps({"argv": argv, "cwd": cwd, "env": env}).encode())
        reply = await started
        if "pid" not in reply:
            self.pending.pop(("exit", ident), None)
            for fd in (stdin_w, stdout_r, stderr_r):
                os.close(fd)
            if "lost" in reply:
                raise OSError(errno.EIO, f"capture lost: {reply['lost']}", argv[0])
            raise OSError(reply.get("errno") or errno.EIO, reply.get("strerror") or "cannot start", reply.get("filename"))
        pid = reply["pid"]
        self.running[pid] = Effects(pid)
        self._claim(self.running[pid])
        return (pid, os.fdopen(stdin_w, "wb", buffering=0), os.fdopen(stdout_r, "rb", buffering=0),
                os.fdopen(stderr_r, "rb", buffering=0), exited)

    def finish(self, pid):
        """The command's records, and what processes outside any running command did meanwhile."""
        effects = self.running.pop(pid, Effects(pid))
        self._claim(effects)
        for sid in [s for s in self.unclaimed if s not in self.running]:
            for rec in self.unclaimed.pop(sid):
                self.n_unclaimed -= 1
                rec["background"] = True
                self.background.add(rec)
        if self.background.records or self.background.dropped:
            for rec in self.background.records:
                effects.add(rec)
            effects.dropped += self.background.dropped
            self.background = Effects()
        return effects


CAPTURER = Capturer()


# Manifest: the places the agent can write, measured after each command (and updated after the harness's own writes),
# so that what a command created, changed, emptied or removed is a fact, whichever way it was done.

MAX_ENTRIES = 50000  # entries measured per walk; past this the manifest says it is incomplete
MAX_CHANGES = 500  # changes listed per command (then counted)
HEAD_BYTES, HEAD_BUDGET = 4096, 65536  # the start of a new or changed file, and all heads of one command
# Heads are given first to the places that are not the agent's workspace or home (where a file is least expected).
HEAD_ORDER = ("/dev/shm", "/dev/mqueue", "/tmp", "/var/tmp", "/home/agent", "/workspace")


class AgentFs:
    """This thread's file-system identity becomes the agent's (setfsuid/setfsgid) for the ``with`` block: a walk or a
    read sees exactly what the agent may see, with no capability to bypass permissions."""

    libc = None

    def __enter__(self):
        if AgentFs.libc is None:
            AgentFs.libc = ctypes.CDLL(None, use_errno=True)
        AgentFs.libc.setfsgid(AGENT_GID)
        AgentFs.libc.setfsuid(AGENT_UID)

    def __exit__(self, *exc):
        AgentFs.libc.setfsuid(0)
        AgentFs.libc.setfsgid(0)


def entry_of(st, path=None):
    """(kind, size, mtime_ns, inode[, symlink target]) of one lstat result."""
    mode = st.st_mode
    kind = "dir" if stat.S_ISDIR(mode) else "file" if stat.S_ISREG(mode) else "link" if stat.S_ISLNK(mode) else "other"
    entry = (kind, st.st_size if kind != "dir" else 0, st.st_mtime_ns, st.st_ino)
    if kind == "link" and path is not None:
        entry += (readlink(path),)
    return entry


class Manifest:
    def __init__(self):
        self.last = None
        self.incomplete = False

    def walk(self):
        """Every entry under the agent's mounts: {path: entry_of(...)}."""
        entries, stack, incomplete = {}, list(AGENT_MOUNTS), False
        with AgentFs():
            while stack:
                folder = stack.pop()
                try:
                    it = os.scandir(folder)
                except OSError:
                    continue
                with it:
                    for e in it:
                        if len(entries) >= MAX_ENTRIES:
                            incomplete = True
                            break
                        try:
                            st = e.stat(follow_symlinks=False)
                        except OSError:
                            continue
                        entries[e.path] = entry_of(st, e.path)
                        if entries[e.path][0] == "dir":
                            stack.append(e.path)
        self.incomplete = incomplete
        return entries

    def reset(self):
        self.last = self.walk()

    def touch(self, path):
        """The harness wrote ``path`` (and perhaps made its folders): not the agent's doing, so not a change to report."""
        if self.last is None:
            return
        with AgentFs():
            p = os.path.normpath(path)
            while p not in AGENT_MOUNTS and p != "/" and p:
                try:
                    self.last[p] = entry_of(os.lstat(p), p)
                except OSError:
                    self.last.pop(p, None)
                p = os.path.dirname(p)

    def changes(self):
        """What changed since the last measure: {"changes": [...], "more": n, ...}, or None when nothing did."""
        started = time.monotonic()
        before, after = self.last, self.walk()
        self.last = after
        if before is None:
            return None
        out = []
        for path, now in after.items():
            was = before.get(path)
            if was is None:
                out.append(change("created", path, now))
            elif was != now:
                if was[0] != now[0]:
                    out.append(dict(change("retyped", path, now), was_kind=was[0]))
                elif now[0] == "dir":
                    continue  # a folder's own times change with its entries: those are reported themselves
                elif was[3] != now[3]:
                    op = "emptied" if now[0] == "file" and now[1] == 0 and was[1] > 0 else "replaced"
                    out.append(dict(change(op, path, now), was_size=was[1]))
                elif was[1] != now[1] or was[2] != now[2] or was[4:] != now[4:]:
                    op = "emptied" if now[0] == "file" and now[1] == 0 and was[1] > 0 else "modified"
                    out.append(dict(change(op, path, now), was_size=was[1]))
        gone = sorted(set(before) - set(after))
        tops = {}
        for path in gone:  # a folder removed with its contents is one change: the folder, with counts
            parent, top = os.path.dirname(path), path
            while parent in before and parent not in after:
                top, parent = parent, os.path.dirname(parent)
            if top not in tops:
                tops[top] = change("removed", top, before[top])
                if before[top][0] == "dir":
                    tops[top].update(files=0, bytes=0)
            if before[path][0] != "dir" and path != top:
                tops[top]["files"] += 1
                tops[top]["bytes"] += before[path][1]
        # a removed entry whose inode turns up as a new one was moved (renamed): one change, "moved", and what came
        # with a moved folder is not new
        created = {c["path"]: c for c in out if c["op"] == "created"}
        by_inode = {(after[p][3], after[p][0]): p for p in created}
        for top, c in tops.items():
            to = by_inode.get((before[top][3], before[top][0]))
            if to is None:
                continue
            c.update(op="moved", to=to)
            for p in [to] + ([q for q in created if q.startswith(to + "/")] if c["kind"] == "dir" else []):
                created.pop(p, None)
        out = [c for c in out if c["op"] != "created" or c["path"] in created] + list(tops.values())
        if not out:
            return None
        rank = {root: i for i, root in enumerate(HEAD_ORDER)}
        out.sort(key=lambda c: (rank.get(mount_of(c["path"]), len(rank)), c["path"]))
        more = max(0, len(out) - MAX_CHANGES)
        out = out[:MAX_CHANGES]
        budget = HEAD_BUDGET
        with AgentFs():
            for c in out:
                if budget <= 0:
                    break
                if c["op"] in ("created", "modified", "replaced", "moved") and c["kind"] == "file" and c["size"]:
                    budget -= add_head(c, c.get("to", c["path"]), min(HEAD_BYTES, budget))
        result = {"changes": out, "entries": len(after), "ms": round((time.monotonic() - started) * 1000, 3)}
        if more:
            result["more"] = more
        if self.incomplete:
            result["incomplete"] = True
        return result


def change(op, path, entry):
    c = {"op": op, "path": path, "kind": entry[0]}
    if entry[0] != "dir":
        c["size"] = entry[1]
    if entry[0] == "link" and len(entry) > 4:
        c["target"] = entry[4]
    return c


def mount_of(path):
    return next((m for m in AGENT_MOUNTS if path == m or path.startswith(m + "/")), "")


def add_head(c, path, size):
    """The first bytes of a changed file (text, or base64 when not UTF-8); returns how many were read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return 0
    try:
        data = os.read(fd, size)
    except OSError:
        return 0
    finally:
        os.close(fd)
    try:
        text = data.decode("utf-8")
        if "\0" in text:
            raise UnicodeDecodeError("utf-8", data, 0, 1, "NUL")
        c["head"] = text
    except UnicodeDecodeError:
        c["head_b64"] = base64.b64encode(data).decode("ascii")
    return len(data)


MANIFEST = Manifest()


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
    cwd = req.get("cwd") or "/workspace"
    loop = asyncio.get_running_loop()
    oom_before, started = oom_kills(), time.monotonic()
    meta = {"timed_out": False}
    captured = CAPTURE["procs"]
    try:
        # A new session puts the command and everything it forks in one process group we can kill.
        if captured:  # started by the capture process, under its filter
            pid, stdin_pipe, stdout_pipe, stderr_pipe, exited = await CAPTURER.spawn(argv, cwd, env)
            waiter = exit_of_captured(exited)
        else:
            proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    cwd=cwd, env=env, user=AGENT_UID, group=AGENT_GID, extra_groups=[],
                                    start_new_session=True)
            pid, stdin_pipe, stdout_pipe, stderr_pipe = proc.pid, proc.stdin, proc.stdout, proc.stderr
            waiter = exit_of_child(loop, proc)
    except OSError as e:
        message = f"airgap: cannot run {argv[0]!r}: {e.strerror} ({e.filename or argv[0]})\n".encode()
        meta.update(exit_code=127 if e.errno == errno.ENOENT else 126, oom_killed=False, duration_ms=0.0)
        return meta, (b"", 0, hashlib.sha256()), (message, len(message), hashlib.sha256(message))
    out, err = Capture(loop, stdout_pipe, cap), Capture(loop, stderr_pipe, cap)
    feeder = Feeder(loop, stdin_pipe, stdin)
    task = asyncio.ensure_future(waiter)
    try:
        code = await asyncio.wait_for(asyncio.shield(task), timeout)
    except asyncio.TimeoutError:
        meta["timed_out"] = True
        kill_group(pid)
        code = await task
        kill_group(pid)  # again, for children forked while the first kill went round
    if code is None:  # the capture process went away: the command cannot go on under a filter nobody answers
        kill_group(pid)
        code = -signal.SIGKILL
        meta["capture_error"] = CAPTURE["error"]
    # What the command wrote is in the pipes; background jobs may keep them open, so wait only briefly.
    await asyncio.wait([out.eof, err.eof], timeout=PIPE_GRACE)
    for part in (out, err, feeder):
        part.close()
    meta.update(exit_code=code if code >= 0 else 128 - code, signal=-code if code < 0 else None,
                oom_killed=oom_kills() > oom_before, duration_ms=round((time.monotonic() - started) * 1000, 3))
    if captured:
        effects = CAPTURER.finish(pid)
        meta["effects"] = effects.records
        if effects.dropped:
            meta["effects_dropped"] = effects.dropped
    if CAPTURE["mode"] != "off":
        files = MANIFEST.changes()
        if files:
            meta["files"] = files
    return meta, (bytes(out.kept), out.total, out.sha), (bytes(err.kept), err.total, err.sha)


async def exit_of_child(loop, proc):
    await wait_exit(loop, proc)
    return proc.wait()  # reaps it: it has exited


async def exit_of_captured(exited):
    return (await exited).get("exit")


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

AGENT_MOUNTS = ("/workspace", "/tmp", "/var/tmp", "/home/agent", "/dev/shm", "/dev/mqueue")
# The mount roots' modes as the container starts them (the agent owns /workspace and its home, so it may change them).
MOUNT_MODES = {"/workspace": 0o755, "/home/agent": 0o755, "/tmp": 0o1777, "/var/tmp": 0o1777, "/dev/shm": 0o1777,
               "/dev/mqueue": 0o1777}
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
    CAPTURER.background = Effects()  # what the killed processes did belongs to the episode that is over
    CAPTURER.unclaimed.clear()
    CAPTURER.n_unclaimed = 0
    if CAPTURE["mode"] != "off":
        MANIFEST.reset()
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
                     "intercept_error": INTERCEPT["error"], "cap_eff": caps.get("CapEff"), "cap_bnd": caps.get("CapBnd"),
                     "capture": CAPTURE["mode"], "capture_procs": CAPTURE["procs"], "capture_error": CAPTURE["error"]}
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
            MANIFEST.touch(req["path"])  # the harness's write, not the agent's: no change for the next command to report
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
    mode = os.environ.get("AIRGAP_CAPTURE", "effects")
    if mode in CAPTURE_MODES:
        CAPTURE["mode"] = mode
        if CAPTURER.start(mode):  # a fork: before any thread exists, after the set-up capabilities are gone
            CAPTURER.attach(loop)
        MANIFEST.reset()
    else:
        CAPTURE.update(mode="off", procs=False, error="off in the sandbox config")
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
    capture = CAPTURE["mode"] + ("" if CAPTURE["procs"] else f" (processes not seen: {CAPTURE['error']})")
    print(f"airgap init ready (pid {os.getpid()}; connection interception {state}; effects capture {capture})",
          file=sys.stderr, flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
