"""The bundled webqa and sandbox suites re-derived from their sources by scripts/check_suites.py, with the env's own graders:
every supporting page exists in Debian's documentation packages, every oracle answer is what the pages and commands give."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_check_suites_finds_no_problem():
    if not Path("/usr/share/doc/python3.11/html").is_dir():
        raise AssertionError("python3.11-doc is not installed; run scripts/setup.sh (it installs it and sqlite3-doc)")
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "check_suites.py"), str(ROOT / "envs/suites/webqa/tasks.yaml"),
                          str(ROOT / "envs/suites/sandbox/tasks.yaml")], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0 and out.stdout.strip().endswith("clean"), out.stdout[-3000:] + out.stderr[-2000:]
