"""Pieces that need no Docker engine: the init's DNS codec, the CA, the gateway dispatch, sizes."""
from __future__ import annotations

import asyncio
import importlib.util
import socket
import ssl
import struct
import threading
from importlib import resources

import pytest
from sandbox_helpers import echo_app

from airgap.sandbox import SandboxError
from airgap.sandbox.ca import CertificateAuthority
from airgap.sandbox.config import parse_size, pick_runtime
from airgap.sandbox.gateway import Gateway


@pytest.fixture(scope="module")
def init_module():
    """The in-container init, imported on the host (it is stdlib-only Python)."""
    path = resources.files("airgap.sandbox") / "image" / "init.py"
    spec = importlib.util.spec_from_file_location("airgap_init", str(path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _query(name: str, qtype: int = 1, qid: int = 0x1234) -> bytes:
    qname = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + qname + struct.pack("!HH", qtype, 1)


def test_dns_known_host_gets_loopback(init_module):
    q = _query("Docs.Python.org")
    parsed = init_module.parse_query(q)
    assert parsed[2] == "docs.python.org" and parsed[3] == 1
    answer = init_module.dns_answer(q, parsed, known=True)
    qid, flags, qd, an = struct.unpack("!HHHH", answer[:8])
    assert qid == 0x1234 and flags & 0x8000 and flags & 0xF == 0 and (qd, an) == (1, 1)
    assert answer.endswith(bytes([127, 0, 0, 1]))


def test_dns_unknown_host_is_nxdomain_and_garbage_ignored(init_module):
    q = _query("exfil.example", qtype=28)
    answer = init_module.dns_answer(q, init_module.parse_query(q), known=False)
    assert struct.unpack("!H", answer[2:4])[0] & 0xF == 3
    assert init_module.parse_query(b"\x00\x01garbage") is None
    assert init_module.parse_query(q[:-3]) is None


def test_leaf_certificates_verify_against_the_ca(tmp_path):
    ca = CertificateAuthority()
    ca_file = ca.write_cert(tmp_path / "ca.pem")
    server_ctx = ca.server_context("docs.python.org")
    assert ca.server_context("docs.python.org") is server_ctx  # cached
    client_ctx = ssl.create_default_context(cafile=str(ca_file))
    a, b = socket.socketpair()
    errors = []

    def serve():
        try:
            with server_ctx.wrap_socket(a, server_side=True) as s:
                s.sendall(b"ok")
        except OSError as e:
            errors.append(e)

    thread = threading.Thread(target=serve)
    thread.start()
    with client_ctx.wrap_socket(b, server_hostname="docs.python.org") as c:
        assert c.recv(2) == b"ok"
    thread.join()
    assert not errors
    assert b"PRIVATE KEY" not in ca_file.read_bytes()


def test_gateway_dispatch_routes_and_refuses(tmp_path):
    gateway = Gateway()
    events = []
    channel = gateway.open_channel("sb-test", tmp_path / "gw.sock", {"docs.python.org": echo_app}, events.append)
    try:
        ok = gateway.fetch(channel, "GET", "https://docs.python.org/3/?a=1")
        assert ok.status == 200 and ok.text == "GET https://docs.python.org/3/ body="
        refused = gateway.fetch(channel, "GET", "http://not-routed.example/")
        assert refused.status == 502 and "host not in the offline world" in refused.text
        assert [e["type"] for e in events] == ["http", "egress_attempt", "http"]
    finally:
        gateway.close_channel(channel)


def test_gateway_answers_dns_over_its_socket(tmp_path):
    gateway = Gateway()
    events = []
    channel = gateway.open_channel("sb-test", tmp_path / "gw.sock", {"mail.airgap": echo_app}, events.append)

    async def ask(name):
        reader, writer = await asyncio.open_unix_connection(str(tmp_path / "gw.sock"))
        writer.write(f"DNS 1 {name}\n".encode())
        reply = await reader.readline()
        writer.close()
        return reply

    try:
        assert asyncio.run(ask("mail.airgap")) == b"OK\n"
        assert asyncio.run(ask("evil.example")) == b"NX\n"
        assert [(e["type"], e.get("name") or e.get("host")) for e in events] == [
            ("dns", "mail.airgap"), ("dns", "evil.example"), ("egress_attempt", "evil.example")]
    finally:
        gateway.close_channel(channel)


def test_parse_size():
    assert parse_size("256m") == 256 * 2**20 and parse_size("1g") == 2**30 and parse_size(5) == 5
    with pytest.raises(Exception, match="512m"):
        parse_size("lots")


def test_runtime_is_detected_never_required():
    assert pick_runtime("auto", {"runc"}) is None
    assert pick_runtime("auto", {"runc", "runsc"}) == "runsc"
    assert pick_runtime(None, {"runc"}) is None
    with pytest.raises(SandboxError, match="does not offer runtime 'runsc'"):
        pick_runtime("runsc", {"runc"})
