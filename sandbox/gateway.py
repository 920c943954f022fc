"""The host-side gateway: the only thing a sandbox can talk to, and the record of what tried to leave.

One asyncio loop in a daemon thread serves every sandbox of this process. Each sandbox gets a
:class:`Channel`: a unix socket in its own host folder (bind-mounted into the container), its routes
(hostname -> ASGI app) and its event sink. A connection on that socket starts with one line:

* ``DNS <qtype> <name>``: the in-container resolver asking; the answer is ``OK`` (routed) or ``NX``.
* ``REPORT <token>``: the init's stream of intercepted connection attempts, one JSON object a line; each
  becomes an ``egress_attempt`` event (``proto`` tcp/udp, ``dst_ip``, ``dst_port``, ``host`` when the address
  is a world host's, ``shape`` of the first bytes and ``sni`` / ``request_line`` / ``banner`` / ``qname``).
  The token, given to the init at start, keeps the agent (which can reach this socket) from forging them.
* ``TCP 80`` / ``TCP 443``: a relayed connection. The gateway answers ``OK`` (the relay sends the client's
  bytes only after it), then parses HTTP with h11; on 443 TLS is first terminated with a leaf
  certificate for the client's SNI, signed by this process's CA.

* ``TCP <port> <host>``: a relayed connection to another port of a world host (the init asks before it
  relays, see its relay). When the channel has a :class:`StreamService` for ``(host, port)`` (``set_streams``)
  the gateway answers ``OK`` and hands the connection's socket to that service's asyncio protocol (after
  terminating TLS for ``host`` first when the service is ``tls="implicit"``; a ``"starttls"`` service gets the
  context to upgrade with); else ``NO``, and the init refuses and reports the attempt as it does any other.
  The gateway knows nothing of what the service speaks (SMTP, IMAP...): its sessions log their own events
  through :meth:`StreamSession.log`.

Anything else, and any request for a host that is not routed, is answered at once (HTTP 502 "host not
in the offline world") and logged as ``egress_attempt``. :meth:`Gateway.fetch` lets the harness send a
request through the very same :meth:`Gateway.dispatch` and logging as ``curl`` inside the container.

Every request is bounded: an app that takes longer than the channel's ``request_timeout`` (or the
harness's per-call timeout) is cancelled and answered 504 Gateway Timeout; apps share this one loop, so
they must not block it (blocking work belongs in a thread).
"""
from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import hashlib
import http
import json
import os
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import unquote, urlsplit

import h11

from .ca import CertificateAuthority
from .config import DEFAULT_REQUEST_TIMEOUT
from .errors import SandboxError, SandboxTimeout
from .events import EventSink, emit, make_event

NOT_ROUTED = "host not in the offline world"
QTYPES = {1: "A", 28: "AAAA", 5: "CNAME", 15: "MX", 16: "TXT", 33: "SRV", 65: "HTTPS", 255: "ANY"}
CHUNK = 1 << 16
IDLE_TIMEOUT = 300.0  # seconds a relayed keep-alive connection may sit idle
LOOP_GRACE = 5.0  # seconds beyond a request's timeout before the harness stops waiting for the loop itself
TEXT = {"content-type": "text/plain; charset=utf-8"}
# What an attempt report may carry, and as what type (the init's reports are data from inside the sandbox).
REPORT_FIELDS = {"proto": str, "family": int, "dst_ip": str, "dst_port": int, "host": str, "action": str,
                 "shape": str, "sni": str, "request_line": str, "http_host": str, "banner": str, "qname": str,
                 "qtype": int, "quic_version": str, "first_bytes": str, "first_len": int, "crowded": bool,
                 "ms": float, "dropped_before": int, "udp_lost": int, "payload": str, "payload_b64": str}
# The most characters kept of a report's string (what an attempt carried may be a few KB; the rest are names).
REPORT_CAPS = {"payload": 8192, "payload_b64": 8192}
PAYLOAD_MAX = 4096  # bytes of an unrouted request's body kept in its egress_attempt event


@dataclass
class HttpResponse:
    """What a routed app (or the gateway itself) answered."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class StreamService:
    """A protocol server for one (host, port) of a world: ``factory(session)`` returns the asyncio protocol that
    serves one connection (``session`` is its :class:`StreamSession`). ``tls``: ``"implicit"`` (the gateway
    terminates TLS with a certificate for the host before the protocol sees a byte: 465, 993), ``"starttls"`` (the
    protocol upgrades itself with ``session.tls_context``: 587, 143) or ``"none"``."""

    factory: Callable[[StreamSession], asyncio.BaseProtocol]
    tls: str = "none"
    proto: str = ""  # what it speaks, for the events ("smtp", "imap")

    def __post_init__(self) -> None:
        if self.tls not in ("implicit", "starttls", "none"):
            raise ValueError(f"StreamService tls must be 'implicit', 'starttls' or 'none', not {self.tls!r}")


@dataclass
class StreamSession:
    """One relayed connection to a stream service: where it went, the TLS context for its host, and its log."""

    channel: Channel
    host: str
    port: int
    proto: str
    tls: bool  # whether the connection is encrypted now (implicit TLS; a STARTTLS service sets it after upgrading)
    tls_context: ssl.SSLContext  # a server context presenting this host's certificate (for STARTTLS)
    id: str = field(default_factory=lambda: os.urandom(6).hex())

    def log(self, type_: str = "protocol", **data: Any) -> None:
        """An event of this session (type ``protocol`` unless told): host, port, proto and session id added."""
        self.channel.log(type_, source="sandbox", host=self.host, port=self.port, proto=self.proto, session=self.id,
                         tls=self.tls, **data)


@dataclass
class Channel:
    """One sandbox's view of the gateway: its socket, routes and sink (swappable per episode)."""

    sandbox: str
    socket_path: Path
    routes: dict[str, Callable] = field(default_factory=dict)
    sink: EventSink | None = None
    server: asyncio.AbstractServer | None = None
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT  # seconds an app may take for one request
    report_token: str = ""  # what the init's REPORT line must carry; empty: reports refused
    reports_seen: int = 0  # the highest report number logged
    reports_changed: threading.Condition = field(default_factory=threading.Condition)
    streams: dict[tuple[str, int], StreamService] = field(default_factory=dict)  # (host, port) -> protocol server

    def log(self, type_: str, **data: Any) -> None:
        emit(self.sink, make_event(type_, self.sandbox, **data))

    def wait_reports(self, seq: int, timeout: float) -> bool:
        """Wait until the init's report number ``seq`` (and so every one before it) has been logged."""
        with self.reports_changed:
            return self.reports_changed.wait_for(lambda: self.reports_seen >= seq, timeout)

    def reset_reports(self) -> None:
        with self.reports_changed:
            self.reports_seen = 0


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _payload(body: bytes) -> dict[str, Any]:
    """A request body's start as an event's ``payload`` (text) or ``payload_b64``, with its size when there is one."""
    if not body:
        return {}
    kept = body[:PAYLOAD_MAX]
    try:
        out: dict[str, Any] = {"payload": kept.decode("utf-8")}
    except UnicodeDecodeError:
        out = {"payload_b64": base64.b64encode(kept).decode("ascii")}
    return {**out, "request_bytes": len(body)}


def timeout_response(error: str) -> HttpResponse:
    """What a client gets when the app took too long (the same bytes the ``http`` event hashes)."""
    return HttpResponse(504, dict(TEXT), f"504 Gateway Timeout: {error}\n".encode())


def _swallow(task: asyncio.Future) -> None:
    """Retrieve a cancelled app's outcome, so asyncio does not report it as never retrieved."""
    if not task.cancelled():
        task.exception()


def _host_of(url_host: str) -> str:
    return url_host.rstrip(".").lower()


def _reason(status: int) -> bytes:
    """The standard reason phrase for a status line (``Gateway Timeout``), or none for an unknown code."""
    try:
        return http.HTTPStatus(status).phrase.encode("ascii")
    except ValueError:
        return b""


class Gateway:
    """The per-process gateway; get it with :meth:`shared`."""

    _shared: Gateway | None = None
    _shared_pid = 0
    _shared_lock = threading.Lock()

    @classmethod
    def shared(cls) -> Gateway:
        """The process's gateway (a new one after a fork: loops and threads do not survive fork)."""
        with cls._shared_lock:
            if cls._shared is None or cls._shared_pid != os.getpid():
                cls._shared, cls._shared_pid = cls(), os.getpid()
            return cls._shared

    def __init__(self) -> None:
        self.ca = CertificateAuthority()
        self._tls = self.ca.new_context("localhost")  # presented only to clients that send no SNI
        self._tls.sni_callback = self._pick_certificate
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="airgap-gateway", daemon=True)
        self._thread.start()

    # -- sync API (called from the harness threads) ------------------------------------------------

    def _run(self, coro, timeout: float | None = None):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def open_channel(self, sandbox: str, socket_path: Path, routes: dict[str, Callable] | None = None,
                     sink: EventSink | None = None, request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
                     report_token: str = "") -> Channel:
        """Start listening on ``socket_path`` for one sandbox; the socket is world-connectable because
        the container's uids differ from ours (the folder it sits in decides who can see it)."""
        channel = Channel(sandbox, Path(socket_path), {k.lower(): v for k, v in (routes or {}).items()}, sink,
                          request_timeout=request_timeout, report_token=report_token)

        async def start():
            channel.server = await asyncio.start_unix_server(lambda r, w: self._handle(channel, r, w),
                                                             str(socket_path), limit=CHUNK)
            os.chmod(socket_path, 0o666)

        self._run(start(), 10)
        return channel

    def set_streams(self, channel: Channel, streams: dict[tuple[str, int], StreamService]) -> None:
        """Replace the channel's (host, port) -> :class:`StreamService` table (checked: a bad entry is an error)."""
        table: dict[tuple[str, int], StreamService] = {}
        for key, service in (streams or {}).items():
            if not (isinstance(key, tuple) and len(key) == 2 and isinstance(key[0], str) and isinstance(key[1], int)
                    and 0 < key[1] < 65536) or key[1] in (80, 443):
                raise SandboxError(f"a stream service is keyed (host, port) with a port other than 80 and 443, "
                                   f"got {key!r}")
            if not isinstance(service, StreamService):
                raise SandboxError(f"the stream service for {key!r} is not a StreamService: {service!r}")
            table[(_host_of(key[0]), key[1])] = service
        channel.streams = table

    def close_channel(self, channel: Channel) -> None:
        async def stop():
            if channel.server is not None:
                channel.server.close()

        if self.loop.is_running():
            self._run(stop(), 10)
        try:
            channel.socket_path.unlink()
        except FileNotFoundError:
            pass

    def fetch(self, channel: Channel, method: str, url: str, headers: dict[str, str] | None = None,
              body: bytes | str | None = None, timeout: float | None = None) -> HttpResponse:
        """A request from the harness, through the same dispatch and logging as one from the sandbox.

        Raises :class:`SandboxTimeout` when the app takes longer than ``timeout`` seconds (default: the
        channel's ``request_timeout``), after the ``http`` event (status 504) is logged."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SandboxError(f"fetch needs an absolute http(s) URL, got {url!r}")
        limit = channel.request_timeout if timeout is None else float(timeout)
        data = body.encode() if isinstance(body, str) else (body or b"")
        hdrs = [(k.lower(), str(v)) for k, v in (headers or {}).items()]
        if not any(k == "host" for k, _ in hdrs):
            hdrs.insert(0, ("host", parts.netloc))
        future = asyncio.run_coroutine_threadsafe(
            self.dispatch(channel, method.upper(), url, hdrs, data, source="harness", timeout=limit), self.loop)
        try:
            return future.result(limit + LOOP_GRACE)
        except concurrent.futures.TimeoutError:  # the loop itself is stuck: some app blocks it
            future.cancel()
            raise SandboxTimeout(f"the request to {_host_of(parts.hostname)} took longer than {limit:g} s and the "
                                 f"gateway did not answer for {LOOP_GRACE:g} s more: an app is blocking the "
                                 "gateway's event loop (run blocking work in a thread)") from None

    # -- dispatch: one request, one app, one event ------------------------------------------------

    async def dispatch(self, channel: Channel, method: str, url: str, headers: list[tuple[str, str]],
                       body: bytes, source: str, timeout: float | None = None) -> HttpResponse:
        """Route by host to an ASGI app, log an ``http`` event (and ``egress_attempt`` if unrouted).

        The app gets ``timeout`` seconds (default: the channel's ``request_timeout``); past that it is
        cancelled, the event is logged with status 504 and an ``error``, and :class:`SandboxTimeout` raised."""
        started = time.monotonic()
        parts = urlsplit(url)
        host = _host_of(parts.hostname or "")
        app = channel.routes.get(host)
        error: str | None = None
        timed_out = False
        if app is None:
            resp = HttpResponse(502, dict(TEXT), f"{NOT_ROUTED}: {host or '(no host)'}\n".encode())
            # what the request carried tried to leave: its headers and (the start of) its body are logged with it
            channel.log("egress_attempt", via=parts.scheme, host=host, method=method, url=url, source=source,
                        headers={k: v[:2000] for k, v in headers[:50]}, **_payload(body))
        else:
            limit = channel.request_timeout if timeout is None else timeout
            task = asyncio.ensure_future(self._call_app(app, method, parts, headers, body))
            done: set = set()
            try:
                done, _ = await asyncio.wait({task}, timeout=limit)
            finally:
                if not done:  # too slow, or our caller gave up: the app sees CancelledError at its next await
                    task.cancel()
                    task.add_done_callback(_swallow)
            if not done:
                timed_out = True
                error = f"the request to {host} took longer than {limit:g} s; the gateway cancelled it"
                resp = timeout_response(error)
            elif task.cancelled() or task.exception() is not None:  # the app is the caller's code: a 500, not a dead gateway
                error = f"the app for {host} " + ("was cancelled" if task.cancelled() else f"failed: {task.exception()!r}")
                resp = HttpResponse(500, dict(TEXT), f"gateway: {error}\n".encode())
            else:
                resp = task.result()
        channel.log("http", source=source, method=method, url=url, host=host, status=resp.status,
                    request_bytes=len(body), response_bytes=len(resp.body), request_sha256=_sha(body),
                    response_sha256=_sha(resp.body), duration_ms=round((time.monotonic() - started) * 1000, 3),
                    **({"error": error} if error else {}))
        if timed_out:
            raise SandboxTimeout(error)
        return resp

    @staticmethod
    async def _call_app(app: Callable, method: str, parts, headers: list[tuple[str, str]],
                        body: bytes) -> HttpResponse:
        """Call a plain ASGI 3 app once and collect its whole response."""
        default_port = 443 if parts.scheme == "https" else 80
        scope = {
            "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
            "method": method, "scheme": parts.scheme, "path": unquote(parts.path) or "/",
            "raw_path": (parts.path or "/").encode(), "query_string": parts.query.encode(), "root_path": "",
            "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
            "server": (_host_of(parts.hostname or ""), parts.port or default_port), "client": ("127.0.0.1", 0),
        }
        finished = asyncio.Event()
        request_sent = False
        status, resp_headers, chunks = 500, [], []

        async def receive():
            nonlocal request_sent
            if not request_sent:
                request_sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await finished.wait()
            return {"type": "http.disconnect"}

        async def send(message):
            nonlocal status, resp_headers
            if message["type"] == "http.response.start":
                status, resp_headers = message["status"], message.get("headers", [])
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    finished.set()

        try:
            await app(scope, receive, send)
        finally:
            finished.set()
        merged: dict[str, str] = {}
        for k, v in resp_headers:
            key, value = k.decode("latin-1").lower(), v.decode("latin-1")
            merged[key] = f"{merged[key]}, {value}" if key in merged else value
        return HttpResponse(status, merged, b"".join(chunks))

    # -- the socket side ----------------------------------------------------------------------------

    def _pick_certificate(self, ssl_obj: ssl.SSLObject, server_name: str | None, _ctx) -> None:
        if server_name:
            ssl_obj.context = self.ca.server_context(_host_of(server_name))

    async def _handle(self, channel: Channel, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), 10)
            words = line.decode("ascii", "replace").split()
            if len(words) == 3 and words[0] == "DNS":
                await self._answer_dns(channel, words[1], words[2], writer)
            elif len(words) == 2 and words[0] == "REPORT" and channel.report_token and words[1] == channel.report_token:
                await self._read_reports(channel, reader)
            elif len(words) == 3 and words[0] == "TCP" and words[1].isdigit():
                service = channel.streams.get((_host_of(words[2]), int(words[1])))
                if service is None:  # not served: the init refuses the connection and reports it as an attempt
                    writer.write(b"NO\n")
                    await writer.drain()
                    return
                writer.write(b"OK\n")
                await writer.drain()
                await self._serve_stream(channel, service, _host_of(words[2]), int(words[1]), writer)
                return
            elif words in (["TCP", "80"], ["TCP", "443"]):
                writer.write(b"OK\n")  # the relay holds the client's bytes until it reads this
                await writer.drain()
                if words[1] == "443":
                    await writer.start_tls(self._tls, ssl_handshake_timeout=10)
                await self._serve_http(channel, reader, writer, "https" if words[1] == "443" else "http")
            else:  # a forged REPORT lands here too, with its wrong token cut off
                said = line[:200].decode("latin-1")
                channel.log("egress_attempt", via="socket", preamble="REPORT (wrong token)" if said.startswith("REPORT")
                            else said, source="sandbox")
        except (ssl.SSLError, ConnectionError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError) as e:
            channel.log("egress_attempt", via="socket", error=repr(e)[:300], source="sandbox")
        except OSError:
            pass
        finally:
            writer.close()

    async def _serve_stream(self, channel: Channel, service: StreamService, host: str, port: int,
                            writer: asyncio.StreamWriter) -> None:
        """Hand the relayed connection to ``service``'s protocol: its socket (a duplicate of the descriptor; the
        stream that read the preamble lets go of its own) is adopted by the loop, through TLS for ``host`` first
        when the service says so."""
        transport = writer.transport
        transport.pause_reading()  # the relay sends the client's bytes only after our OK: nothing is buffered yet
        sock = socket.socket(fileno=os.dup(transport.get_extra_info("socket").fileno()))
        transport.abort()  # closes the stream's descriptor only: the connection lives on in ``sock``
        implicit = service.tls == "implicit"
        context = self.ca.server_context(host)
        session = StreamSession(channel, host, port, service.proto, implicit, context)
        try:
            await self.loop.connect_accepted_socket(lambda: service.factory(session), sock,
                                                    ssl=context if implicit else None,
                                                    ssl_handshake_timeout=10 if implicit else None)
        except (OSError, ssl.SSLError, asyncio.TimeoutError) as e:
            sock.close()
            session.log(event="tls_failed" if implicit else "failed", error=repr(e)[:300])

    async def _read_reports(self, channel: Channel, reader: asyncio.StreamReader) -> None:
        """Log each of the init's attempt reports as an ``egress_attempt`` (fields checked and typed)."""
        while True:
            try:
                line = await reader.readline()
            except ValueError:  # a line over the stream limit: not one of ours
                return
            if not line:
                return
            try:
                report = json.loads(line)
                seq = int(report.pop("seq"))
            except (ValueError, KeyError, TypeError, AttributeError):
                continue
            fields: dict[str, Any] = {}
            for key, kind in REPORT_FIELDS.items():
                value = report.get(key)
                if isinstance(value, kind) or (kind is float and isinstance(value, int)):
                    fields[key] = value[:REPORT_CAPS.get(key, 500)] if isinstance(value, str) else value
            channel.log("egress_attempt", via=fields.get("proto", "tcp"), source="sandbox", **fields)
            with channel.reports_changed:
                channel.reports_seen = max(channel.reports_seen, seq)
                channel.reports_changed.notify_all()

    async def _answer_dns(self, channel: Channel, qtype: str, name: str, writer: asyncio.StreamWriter) -> None:
        host = _host_of(name)
        known = host in channel.routes
        kind = QTYPES.get(int(qtype), qtype) if qtype.isdigit() else qtype
        channel.log("dns", name=host, qtype=kind, known=known, source="sandbox")
        if not known:
            channel.log("egress_attempt", via="dns", host=host, qtype=kind, source="sandbox")
        writer.write(b"OK\n" if known else b"NX\n")
        await writer.drain()

    async def _serve_http(self, channel: Channel, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                          scheme: str) -> None:
        """HTTP/1.1 with keep-alive over one relayed connection."""
        conn = h11.Connection(h11.SERVER)
        while True:
            request, body = None, bytearray()
            try:
                while True:
                    event = conn.next_event()
                    if event is h11.NEED_DATA:
                        conn.receive_data(await asyncio.wait_for(reader.read(CHUNK), IDLE_TIMEOUT))
                    elif isinstance(event, h11.Request):
                        request = event
                    elif isinstance(event, h11.Data):
                        body += event.data
                    elif isinstance(event, h11.EndOfMessage):
                        break
                    else:  # ConnectionClosed or PAUSED: the client is done with this connection
                        return
            except h11.RemoteProtocolError as e:
                channel.log("egress_attempt", via=f"tcp/{scheme}", error=f"not HTTP: {e}", source="sandbox")
                return
            headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers]
            host = next((v for k, v in headers if k == "host"), "")
            target = request.target.decode("latin-1")
            url = target if target.startswith(("http://", "https://")) else f"{scheme}://{host}{target}"
            method = request.method.decode("ascii")
            try:
                resp = await self.dispatch(channel, method, url, headers, bytes(body), source="sandbox")
            except SandboxTimeout as e:
                resp = timeout_response(str(e))
            out_headers = [(k, v) for k, v in resp.headers.items() if k not in ("content-length", "transfer-encoding",
                                                                               "connection")]
            out_headers.append(("content-length", str(len(resp.body))))
            writer.write(conn.send(h11.Response(status_code=resp.status, headers=out_headers, reason=_reason(resp.status))))
            if method != "HEAD" and resp.body:
                writer.write(conn.send(h11.Data(data=resp.body)))
            writer.write(conn.send(h11.EndOfMessage()))
            await writer.drain()
            if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
                return
            conn.start_next_cycle()
