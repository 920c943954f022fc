"""Real evaluations (Docker, worker processes) with --trials, resumed with more trials, moved, rebuilt and compared by `airgap report`, and an API agent's usage summed."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from standin_model import StandinModel, call, completion

from airgap.envs.runner import EvalConfig, EvaluationError, read_results, run_evaluation

MINI = str(Path(__file__).resolve().parents[1] / "envs" / "fixtures" / "mini.yaml")
TASKS = ["mini-shell", "mini-code"]
AIRGAP = [sys.executable, "-m", "airgap.envs.cli"]


def test_trials_resume_per_trial_then_the_moved_folder_reports_verifies_and_compares(tmp_path, sandbox_image):
    a, b = tmp_path / "oracle", tmp_path / "noop"
    rows = run_evaluation(EvalConfig(suite=MINI, agent="oracle", out=str(a), workers=2, tasks=TASKS, trials=2))
    assert sorted((r["task_id"], r["trial"], r["seed"]) for r in rows) == [
        ("mini-code", 0, 0), ("mini-code", 1, 1), ("mini-shell", 0, 0), ("mini-shell", 1, 1)]
    first = read_results(a)
    # more trials on resume: only the new (task, trial) episodes run, the old rows stay as they were
    rows = run_evaluation(EvalConfig(suite=MINI, agent="oracle", out=str(a), workers=2, tasks=TASKS, trials=3))
    lines = read_results(a)
    assert lines[:4] == first and len(lines) == 6 and sorted(r["trial"] for r in lines[4:]) == [2, 2]
    summary = json.loads((a / "summary.json").read_text())
    pk = summary["pass_k"]["overall"]
    assert pk["k"] == 3 and pk["pass@1"]["value"] == 1.0 and pk["pass^3"]["value"] == 1.0 and pk["tasks"] == 2
    assert summary["planned"] == 6 and summary["finished"] == 6
    html = (a / "report.html").read_text()
    assert 'id="pass-k"' in html and "pass^3" in html
    run_evaluation(EvalConfig(suite=MINI, agent="noop", out=str(b), workers=2, tasks=TASKS, trials=3))

    moved = tmp_path / "elsewhere" / "oracle-run"
    moved.parent.mkdir()
    shutil.move(str(a), str(moved))
    assert all(not os.path.isabs(r["log"]) for r in read_results(moved))
    (moved / "report.html").unlink()
    (moved / "summary.json").unlink()
    done = subprocess.run([*AIRGAP, "report", str(moved), "--compare", str(b)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "pass^3" in done.stdout and "paired on 6 episode(s)" in done.stdout
    summary = json.loads((moved / "summary.json").read_text())
    assert summary["tasks"] == 2 and summary["pass_k"]["overall"]["pass^3"]["value"] == 1.0
    [cmp] = summary["compare"]
    assert cmp["agent"] == "noop" and cmp["overall"]["paired"] and cmp["overall"]["n_pairs"] == 6
    assert cmp["overall"]["diff"] == 1.0 and cmp["overall"]["excludes_zero"]  # 6 of 6 pairs won: McNemar can tell
    assert cmp["by_task"]["mini-shell"]["diff"] == 1.0 and not cmp["by_task"]["mini-shell"]["excludes_zero"]  # 3 cannot
    html = (moved / "report.html").read_text()
    assert "Compared with" in html and html.count('<a href="episodes/') == 6  # every episode rendered from the moved logs
    verify = subprocess.run([*AIRGAP, "replay", "verify", str(moved)], capture_output=True, text=True, timeout=300)
    assert verify.returncode == 0, verify.stdout[-2000:] + verify.stderr[-2000:]


def test_report_of_a_folder_that_is_not_a_run_is_a_clear_error(tmp_path):
    done = subprocess.run([*AIRGAP, "report", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "not an evaluation folder" in done.stderr and "Traceback" not in done.stderr


def test_bad_cli_values_are_clear_errors(tmp_path):
    done = subprocess.run([*AIRGAP, "evaluate", "--suite", MINI, "--price-per-mtok", "0.15", "--out", str(tmp_path / "p")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "IN,OUT" in done.stderr
    done = subprocess.run([*AIRGAP, "evaluate", "--suite", MINI, "--attack", "all", "--out", str(tmp_path / "q")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "no safety cases" in done.stderr and "Traceback" not in done.stderr
    done = subprocess.run([*AIRGAP, "evaluate", "--suite", MINI, "--ray-address", "auto", "--out", str(tmp_path / "r")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "--executor ray" in done.stderr
    with pytest.raises(EvaluationError, match="trials"):
        run_evaluation(EvalConfig(suite=MINI, out=str(tmp_path / "s"), trials=0))


def test_api_agent_usage_lands_in_rows_summary_and_report(tmp_path, sandbox_image):
    # a stand-in model server (no real model runs here): a shell call, then a submit, per episode; fixed token counts
    turn = [completion(tool_calls=[call("shell", {"command": "wc -l < /workspace/data.csv"}, call_id="c1")],
                       prompt_tokens=1000, completion_tokens=50),
            completion(tool_calls=[call("submit", {"answer": "4"}, call_id="c1")], prompt_tokens=1000, completion_tokens=50)]
    out = tmp_path / "api"
    with StandinModel([(200, reply) for reply in turn * 2]) as server:
        rows = run_evaluation(EvalConfig(suite=MINI, agent=f"openai:{server.url}#tiny", out=str(out), workers=1,
                                         tasks=["mini-shell"], trials=2, price_per_mtok=[2.0, 10.0]))
    assert [r["reward"] for r in rows] == [1.0, 1.0]
    for r in rows:  # two model calls per episode
        assert r["usage"]["prompt_tokens"] == 2000 and r["usage"]["completion_tokens"] == 100
    u = json.loads((out / "summary.json").read_text())["usage"]
    assert u["episodes"] == 2 and u["prompt_tokens"] == 4000 and u["completion_tokens"] == 200
    assert u["cost_usd"] == pytest.approx((4000 * 2.0 + 200 * 10.0) / 1e6)
    assert 'id="usage"' in (out / "report.html").read_text()
