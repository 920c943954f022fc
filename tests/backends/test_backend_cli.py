"""`airgap backends`: list, openapi, and serve (a real process on loopback); importing the CLI stays light."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import requests
from typer.testing import CliRunner

from airgap.envs.cli.backends import app
from airgap.envs.worldgen import generate

runner = CliRunner()


def test_list_as_json_and_table():
    r = runner.invoke(app, ["list", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    names = {b["name"]: b for b in data["backends"]}
    assert sorted(names) == ["bank", "calendar", "chat", "mail", "shop", "tracker"]
    assert names["tracker"]["hosts"] == ["api.github.com", "github.com"]
    assert names["mail"]["hosts"] == [f"mail.{generate(0).org.domain}"]
    assert all(b["api_operations"] >= 8 and b["html_pages"] >= 1 for b in data["backends"])
    table = runner.invoke(app, ["list", "--seed", "2"])
    assert table.exit_code == 0 and "api.github.com" in table.output and generate(2).org.name in table.output


def test_openapi_prints_the_served_document():
    r = runner.invoke(app, ["openapi", "bank", "--indent", "0"])
    assert r.exit_code == 0
    doc = json.loads(r.output)
    assert "/api/transfers/{transfer_id}/confirm" in doc["paths"] and doc["components"]["securitySchemes"]
    bad = runner.invoke(app, ["openapi", "fax"])
    assert bad.exit_code == 2 and "unknown backend 'fax'" in bad.output


def test_help_has_examples():
    r = runner.invoke(app, ["serve", "--help"])
    assert r.exit_code == 0 and "127.0.0.1" in r.output and "Examples" in r.output


def test_serve_runs_on_loopback_and_prints_a_token():
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "airgap.envs.cli", "backends", "serve", "chat", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        lines = [proc.stdout.readline() for _ in range(5)]
        text = "".join(lines)
        url = re.search(r"(http://127\.0\.0\.1:\d+)/openapi\.json", text).group(1)
        token = re.search(r"token of \S+: (\S+)", text).group(1)
        for _ in range(100):
            try:
                r = requests.post(url + "/api/chat.postMessage", json={"channel": "general", "text": "hello"},
                                  headers={"Authorization": f"Bearer {token}"}, timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        assert r.status_code == 200 and r.json()["ok"] is True
        change = json.loads(proc.stderr.readline())
        assert change["backend"] == "chat" and change["path"] == "/api/chat.postMessage" and change["status"] == 200
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_importing_the_cli_loads_no_web_stack():
    code = ("import sys, airgap.envs.cli.backends; print([m for m in ('fastapi', 'starlette', 'uvicorn', 'faker') "
            "if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]"
