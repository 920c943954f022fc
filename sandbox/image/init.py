"""airgap init: the one long-lived process inside a sandbox (stdlib only, runs under docker-init).

It does three jobs, all on one asyncio loop:

1. DNS on 127.0.0.1:53/udp. Every look-up is asked of the host-side gateway over its unix socket
   (so the gateway logs it); a host the gateway routes gets 127.0.0.1, anything else NXDOMAIN at once.
2. A relay: TCP 127.0.0.1:80 and :443 are copied byte for byte to the gateway socket, after a
   one-line preamble ``TCP <port>`` and the gateway's ``OK``. TLS is terminated by the gateway, on the host.
3. A control server for the harness on ``$AIRGAP_DIR/ctl/init.sock`` (a 0700 folder the agent cannot
   enter): exec with timeout / output cap / OOM detection, file read/write (always as the agent), and
   ``kill_all`` of the agent's processes.

Wire format of the control socket, one request per connection: a JSON line, then ``stdin_len`` or
``size`` raw bytes. The reply is a JSON line, then ``stdout_len`` + ``stderr_len`` (or ``size``) raw bytes.

The init runs as uid 0 with only KILL, SETUID and SETGID; commands and file operations run as the
agent (uid 1000, no capabilities), which therefore cannot signal, trace or replace the init.
"""
import asyncio
import errno
import hashlib
import json
import os
import signal
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
CHUNK = 1 << 16
# The init shares the container's open-file limit with nobody else but must keep fds for the harness:
# past these many concurrent relayed connections / DNS look-ups, new ones are refused at once.
MAX_INFLIGHT = {"relay": 256, "dns": 64}
INFLIGHT = {"relay": 0, "dns": 0}
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


def dns_answer(data, parsed, known):
    """NXDOMAIN for unknown names; an A record 127.0.0.1 for known ones (no data for other types)."""
    qid, flags, _name, qtype, end = parsed
    rcode = 0 if known else 3
    resp_flags = 0x8000 | (flags & 0x7800) | 0x0400 | (flags & 0x0100) | 0x0080 | rcode
    answers = b""
    if known and qtype == 1:
        answers = struct.pack("!HHHIH", 0xC00C, 1, 1, 5, 4) + bytes([127, 0, 0, 1])
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
# Control server


async def handle_ctl(reader, writer):
    loop = asyncio.get_running_loop()
    payload, req = [], {}
    try:
        req = json.loads(await reader.readline())
        op = req.get("op")
        if op == "ping":
            reply = {"ok": True, "pid": os.getpid()}
        elif op == "exec":
            stdin = await reader.readexactly(int(req.get("stdin_len", 0)))
            meta, (out, out_total, out_sha), (err, err_total, err_sha) = await run_exec(req, stdin)
            reply = dict(meta, ok=True, stdout_len=len(out), stderr_len=len(err), stdout_total=out_total,
                         stderr_total=err_total, stdout_sha256=out_sha.hexdigest(), stderr_sha256=err_sha.hexdigest())
            payload = [out, err]
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
    await loop.create_datagram_endpoint(DNSProtocol, local_addr=("127.0.0.1", 53))
    for port in RELAY_PORTS:
        await asyncio.start_server(relay_handler(port), "127.0.0.1", port)
    # The control socket comes up last: once it answers, everything else is listening.
    os.makedirs(CTL_DIR, mode=0o700, exist_ok=True)
    os.chmod(CTL_DIR, 0o700)
    if os.path.exists(CTL_SOCK):
        os.unlink(CTL_SOCK)
    server = await asyncio.start_unix_server(handle_ctl, CTL_SOCK)
    print(f"airgap init ready (pid {os.getpid()})", file=sys.stderr, flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
