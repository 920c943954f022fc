"""The Inspect bridge costs `import airgap.envs` nothing, and tiktoken's o200k_base is provided offline, exactly.

The token file is rebuilt from the table the `quicktok-v1` package ships and kept only when its sha256 is the one
tiktoken pins; tiktoken then loads it in a fresh process whose every HTTP(S) proxy is a closed loopback port (a
download would fail at once), and counts as tiktoken counts.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

pytest.importorskip("inspect_ai", reason="the inspect extra is not installed: pip install 'airgap[inspect]'")


def _fresh(code: str, env: dict | None = None) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env={**os.environ, **(env or {})})
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout.strip().splitlines()[-1]


def test_import_airgap_envs_loads_no_bridge():
    loaded = json.loads(_fresh("import sys, json, airgap.envs\n"
                               "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('inspect_ai', 'tiktoken', "
                               "'quicktok', 'airgap.envs.bridges')))))"))
    assert loaded == []


def test_o200k_base_is_built_offline_and_counts_as_tiktoken_does(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    env = {"TIKTOKEN_CACHE_DIR": str(tmp_path), "HTTP_PROXY": dead, "HTTPS_PROXY": dead, "http_proxy": dead,
           "https_proxy": dead, "NO_PROXY": "", "no_proxy": ""}
    code = ("import json, tiktoken\n"
            "from airgap.envs.bridges.inspect.offline import ensure_o200k_base\n"
            "path = ensure_o200k_base()\n"
            "enc = tiktoken.get_encoding('o200k_base')\n"
            "text = 'Airgap runs agents offline: no network, a gateway that logs every request.'\n"
            "print(json.dumps({'path': str(path), 'n': enc.n_vocab, 'ids': enc.encode(text),"
            " 'back': enc.decode(enc.encode(text)) == text}))")
    r = json.loads(_fresh(code, env))
    assert r["path"].startswith(str(tmp_path)) and r["n"] == 200019 and r["back"]
    assert len(r["ids"]) == 16  # o200k_base's own count for that sentence
    # without the file, the same process fails on the download (the proxy refuses): the file is what made it work
    env2 = {**env, "TIKTOKEN_CACHE_DIR": str(tmp_path / "empty")}
    failed = subprocess.run([sys.executable, "-c", "import tiktoken; tiktoken.get_encoding('o200k_base')"],
                            capture_output=True, text=True, timeout=300, env={**os.environ, **env2})
    assert failed.returncode != 0 and ("ProxyError" in failed.stderr or "ConnectionError" in failed.stderr)


def test_the_entry_point_inspect_loads_is_the_bridge():
    from importlib.metadata import entry_points

    [ep] = [e for e in entry_points(group="inspect_ai") if e.name == "airgap"]
    assert ep.value == "airgap.envs.bridges.inspect._registry"
