"""`airgap sandbox run --routes MODULE:CALLABLE`: the CLI routes hosts to ASGI apps it imports, nothing else."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.docker
AIRGAP = [sys.executable, "-m", "airgap.envs.cli", "sandbox", "run", "--json"]

ROUTES_MODULE = '''
async def hello(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"hello from " + scope["server"][0].encode()})

def routes():
    return {"kb.example": hello}
'''


def _run(tmp_path, *args: str) -> subprocess.CompletedProcess:
    (tmp_path / "my_routes.py").write_text(ROUTES_MODULE)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    return subprocess.run([*AIRGAP, *args], capture_output=True, text=True, env=env, timeout=120)


def test_routes_from_an_imported_callable_answer_inside(tmp_path, sandbox_image):
    log = tmp_path / "ev.jsonl"
    r = _run(tmp_path, "--routes", "my_routes:routes", "--log", str(log), "--",
             "sh", "-c", "curl -sS https://kb.example/x; echo; curl -sS https://other.example/ 2>&1; true")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["stdout"].splitlines()[0] == "hello from kb.example"
    assert "Could not resolve host: other.example" in out["stdout"]
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert any(e["type"] == "http" and e["host"] == "kb.example" and e["status"] == 200 for e in events)
    assert any(e["type"] == "egress_attempt" and e["host"] == "other.example" for e in events)


def test_a_bad_routes_spec_is_a_clear_error(tmp_path, sandbox_image):
    r = _run(tmp_path, "--routes", "no_such_module:routes", "--", "true")
    assert r.returncode == 2 and "expected MODULE:CALLABLE" in r.stderr
    r = _run(tmp_path, "--routes", "json:dumps", "--", "true")  # callable, but not a routes table
    assert r.returncode == 2
