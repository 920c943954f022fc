"""`import airgap.envs` and `airgap --help` stay light: the heavy libraries load only when something uses them.

Checked structurally (which modules a fresh interpreter holds afterwards), never by wall-clock time;
the import time is printed as a ratio against a bare interpreter for the record (`pytest -s`).
numpy is the one heavy module allowed: gymnasium imports it, and registering the envs on import
needs gymnasium.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

HEAVY = ["torch", "transformers", "bm25s", "faiss", "starlette", "fastapi", "docker", "datasets", "pyarrow", "jsonschema",
         "airgap.corpus.snapshot", "ray",
         "openenv", "gradio", "trl", "accelerate", "inspect_ai", "airgap.envs.bridges"]  # the bridges and their libraries


def _loaded(code: str) -> list[str]:
    probe = f"import sys\n{code}\nimport json\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("code", [
    "import airgap.envs",
    "import airgap.corpus",
    "import airgap.sandbox",
    "import airgap.envs.cli",  # what `airgap --help` imports
    # what every env (and every evaluation worker) does: the tool schemas agents are given, and a validation
    "from airgap.envs.tools import TOOLS\n[t.schema() for t in TOOLS.values()]\nTOOLS['search'].validate({'query': 'x'})",
])
def test_importing_loads_no_heavy_library(code):
    assert _loaded(code) == []


def test_airgap_help_works_and_its_cost_is_reported():
    def best(argv: list[str]) -> float:
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            subprocess.run(argv, capture_output=True, check=True, timeout=120)
            times.append(time.perf_counter() - t0)
        return min(times)

    bare = best([sys.executable, "-c", "pass"])
    helped = best([sys.executable, "-m", "airgap.envs.cli", "--help"])
    out = subprocess.run([sys.executable, "-m", "airgap.envs.cli", "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "evaluate" in out.stdout and "replay" in out.stdout
    print(f"airgap --help: {helped * 1000:.0f} ms = {helped / bare:.1f}x a bare interpreter ({bare * 1000:.0f} ms)")
