"""Stream services: a world host's other ports served by an asyncio protocol server through the gateway.

A line-echo protocol stands for SMTP and IMAP (tests/backends/test_mail_protocols.py runs the real ones): plain, with
the gateway terminating TLS first (implicit), and with the protocol upgrading itself (STARTTLS); a port or host
without a service stays an intercepted, reported attempt; the table is checked and forgotten at recycle.
"""
from __future__ import annotations

import asyncio
import json

import pytest
from sandbox_helpers import wait_for

from airgap.sandbox import SandboxError, StreamService


class LineEcho(asyncio.Protocol):
    """Greets with where the connection went, echoes each line upper-cased; ``STARTTLS`` upgrades the connection."""

    def __init__(self, session):
        self.session = session

    def connection_made(self, transport):
        self.transport = transport
        transport.write(f"hello {self.session.host}:{self.session.port} tls={self.session.tls}\n".encode())

    def data_received(self, data):
        line = data.decode().strip()
        self.session.log(command=line)
        self.transport.write(data.upper())
        if line == "STARTTLS":
            asyncio.ensure_future(self._upgrade())

    async def _upgrade(self):
        loop = asyncio.get_running_loop()
        self.transport = await loop.start_tls(self.transport, self, self.session.tls_context, server_side=True)
        self.session.tls = True


CLIENT = r"""
import json, socket, ssl
ctx, out = ssl.create_default_context(), {}
s = socket.create_connection(("docs.python.org", 2525), timeout=10)
out["plain"] = [s.recv(200).decode()]; s.sendall(b"ping\n"); out["plain"].append(s.recv(200).decode())
s.sendall(b"STARTTLS\n"); s.recv(200); t = ctx.wrap_socket(s, server_hostname="docs.python.org")
t.sendall(b"secret\n"); out["starttls"] = t.recv(200).decode(); t.close()
t = ctx.wrap_socket(socket.create_connection(("docs.python.org", 4650), timeout=10), server_hostname="docs.python.org")
out["implicit"] = [t.recv(200).decode()]; t.sendall(b"ping\n"); out["implicit"].append(t.recv(200).decode()); t.close()
for host, port in (("docs.python.org", 2526), ("mail.airgap", 2525)):
    s = socket.create_connection((host, port), timeout=10); s.sendall(b"EHLO x\r\n")
    out[f"{host}:{port}"] = s.recv(300).decode(); s.close()
print(json.dumps(out))
"""


def test_stream_services_plain_starttls_implicit_and_refused(events_sandbox):
    sb = events_sandbox
    sb.set_streams({("docs.python.org", 2525): StreamService(LineEcho, "starttls", "echo"),
                    ("DOCS.python.org", 4650): StreamService(LineEcho, "implicit", "echo")})
    try:
        r = sb.exec(["python3", "-c", CLIENT], timeout=60)
        out = json.loads(r.stdout)
    finally:
        sb.set_streams({})
    assert out["plain"] == ["hello docs.python.org:2525 tls=False\n", "PING\n"]
    assert out["starttls"] == "SECRET\n"
    assert out["implicit"] == ["hello docs.python.org:4650 tls=True\n", "PING\n"]
    assert all(out[k].startswith("airgap: no network:") for k in ("docs.python.org:2526", "mail.airgap:2525"))
    logged = [(e["port"], e["command"], e["tls"]) for e in sb.events if e["type"] == "protocol"]
    assert logged == [(2525, "ping", False), (2525, "STARTTLS", False), (2525, "secret", True), (4650, "ping", True)]
    assert wait_for(lambda: {("docs.python.org", 2526), ("mail.airgap", 2525)} <= {
        (e.get("host"), e.get("dst_port")) for e in sb.events if e["type"] == "egress_attempt"}, 10)


def test_stream_table_is_checked(events_sandbox):
    with pytest.raises(SandboxError, match="port other than 80 and 443"):
        events_sandbox.set_streams({("docs.python.org", 443): StreamService(LineEcho, "implicit")})
    with pytest.raises(SandboxError, match="not a StreamService"):
        events_sandbox.set_streams({("docs.python.org", 25): LineEcho})
    with pytest.raises(ValueError, match="tls must be"):
        StreamService(LineEcho, "sometimes")
