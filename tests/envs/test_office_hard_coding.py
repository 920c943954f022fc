"""office-hard's coding tasks without a sandbox: each task's repository is written to a temporary folder and its two
sandbox graders (the repository's own tests as shipped, the held-back tests) are run there, as the task leaves the
code (the planted bug: both fail), after the oracle's fix (both pass) and after the decoy (a special case for the
failing test's input: the repository's tests pass, the held-back ones fail; or a comment and no fix).
The real-env oracle/noop/decoy runs are in the suite's own tests."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from airgap.envs.suites.office_hard import coding
from airgap.envs.suites.workplace import Office


def _materialise(draft, root: Path) -> dict[str, str]:
    """Write the task's files under ``root`` (``/workspace`` -> ``root/workspace``); the graders' commands, rewritten."""
    for path, content in draft.setup["files"].items():
        p = root / path.lstrip("/")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content, encoding="utf-8")
    return {g["command"]: g["command"].replace("/workspace/", f"{root}/workspace/").replace("/tmp/.airgap-", f"{root}/.airgap-")
            for g in draft.graders}


def _grades(draft, commands: dict[str, str]) -> list[str]:
    out = []
    for g in draft.graders:
        r = subprocess.run(["sh", "-c", commands[g["command"]]], capture_output=True, text=True, timeout=60)
        out.append(r.stdout.strip() if r.returncode == 0 else f"exit {r.returncode}: {r.stderr[-300:]}")
    return out


def _play_writes(calls: list[dict], root: Path) -> None:
    """Run the python tool calls that write files (the oracle's fix, the decoy's change), re-rooted."""
    for c in calls:
        if c["tool"] == "python" and "open(" in c["args"]["code"]:
            exec(c["args"]["code"].replace("/workspace/", f"{root}/workspace/"), {})  # noqa: S102 - our own scripts


@pytest.mark.parametrize("seed", [0, 1, 3])
def test_bug_oracle_and_decoy_against_the_held_back_tests(seed, tmp_path):
    o = Office(seed)
    drafts = coding.tasks(o)
    assert len(drafts) >= 9 and all("/workspace/" in d.text for d in drafts)
    functions = set()
    for k, d in enumerate(drafts):
        kinds = [c["args"]["body"] for c in d.oracle if c["tool"] == "http" and c["args"]["method"] == "POST"]
        assert kinds and d.expect[0]["where"]["body"]["$contains"] in json.loads(kinds[0])["body"]
        functions.add(json.loads(kinds[0])["body"])  # names the function and the kind of bug
        for state in ("planted", "oracle", "decoy"):
            root = tmp_path / f"{k}-{state}"
            commands = _materialise(d, root)
            if state != "planted":
                _play_writes(d.oracle if state == "oracle" else d.decoy, root)
            visible, held = _grades(d, commands)
            if state == "planted":
                assert visible != "ok" and held != "ok", (k, visible, held)
            elif state == "oracle":
                assert visible == "ok" and held == "ok", (k, visible, held)
            else:
                assert held != "ok", (k, "the decoy passes the held-back tests", held)
                if any(c["tool"] == "python" for c in d.decoy):
                    assert visible == "ok", (k, "a special-cased decoy passes the repository's tests", visible)
    assert len(functions) == 9  # nine kinds of bug (paginate may carry two of them)


def test_the_bug_variants_differ_between_worlds():
    picked = {seed: [d.expect[0]["where"]["body"]["$contains"] for d in coding.tasks(Office(seed))] for seed in range(6)}
    assert len({tuple(v) for v in picked.values()}) > 1
