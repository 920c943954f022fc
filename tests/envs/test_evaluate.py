"""`airgap evaluate` end to end: real Docker, the bundled snapshot, real worker processes, a real SIGKILL."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from airgap.envs.logs import read_log, verify
from airgap.envs.runner import EvalConfig, EvaluationError, read_results, run_evaluation, summarize, wilson

TASKS = ["webqa-001", "webqa-002", "webqa-003"]
AIRGAP = [sys.executable, "-m", "airgap.envs.cli"]


def test_wilson_interval_is_sane():
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == 1.0
    lo, hi = wilson(5, 10)
    assert lo < 0.5 < hi
    s = summarize([{"reward": 1.0, "steps": 3, "kind": "a"}, {"reward": 0.0, "steps": 5, "kind": "b"}], total=2)
    assert s["overall"]["solved"] == 1 and s["by_kind"]["a"]["success_rate"] == 1.0 and s["by_kind"]["b"]["solved"] == 0


def test_uplift_interval_excludes_zero_only_when_the_difference_is_clear():
    from airgap.envs.runner.stats import difference_interval

    d, lo, hi = difference_interval((40, 50), (5, 50))
    assert d == pytest.approx(0.7) and 0 < lo < d < hi <= 1
    d, lo, hi = difference_interval((6, 10), (5, 10))
    assert lo < 0 < hi  # ten tasks a side cannot tell 60% from 50%
    assert difference_interval((0, 0), (1, 2)) == (0.0, 0.0, 0.0)


def test_oracle_solves_and_noop_scores_zero(tmp_path, default_snapshot):
    oracle = run_evaluation(EvalConfig(agent="oracle", out=str(tmp_path / "oracle"), workers=2, tasks=TASKS))
    assert [r["task_id"] for r in oracle] == TASKS
    assert all(r["reward"] == 1.0 and r["terminated"] for r in oracle)
    for r in oracle:  # every episode left a log that verifies
        assert verify(tmp_path / "oracle" / r["log"]).status == "ok"
    noop = run_evaluation(EvalConfig(agent="noop", out=str(tmp_path / "noop"), workers=1, tasks=TASKS))
    assert [r["reward"] for r in noop] == [0.0, 0.0, 0.0]
    summary = json.loads((tmp_path / "oracle" / "summary.json").read_text())
    assert summary["overall"]["success_rate"] == 1.0 and summary["finished"] == 3
    report = (tmp_path / "oracle" / "report.html").read_text()
    assert report.count("<tr><td>webqa-00") == 3


def test_cli_run_then_resume_after_sigkill(tmp_path, default_snapshot):
    """Kill the evaluation after its first finished episode; the same command finishes the rest and keeps the first."""
    out = tmp_path / "run"
    args = [*AIRGAP, "evaluate", "--out", str(out), "--workers", "1", "--limit", "4"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not read_results(out) and proc.poll() is None:
        time.sleep(0.2)
    first = read_results(out)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert first, proc.stderr.read().decode()[-2000:]

    done = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    rows = read_results(out)
    finished = [r["task_id"] for r in rows if "error" not in r]
    assert sorted(set(finished)) == sorted(finished)  # nothing ran twice
    assert len(finished) == 4
    assert rows[0] == first[0]  # the row written before the kill is kept as it was
    assert "overall" in done.stdout and "report:" in done.stdout


def test_resume_refuses_a_different_agent(tmp_path, default_snapshot):
    run_evaluation(EvalConfig(agent="noop", out=str(tmp_path / "x"), workers=1, tasks=TASKS[:1]))
    with pytest.raises(EvaluationError, match="agent"):
        run_evaluation(EvalConfig(agent="oracle", out=str(tmp_path / "x"), workers=1, tasks=TASKS[:1]))


def test_a_suite_file_of_ones_own_evaluates_like_a_bundled_one(tmp_path, sandbox_image):
    """`airgap evaluate --suite my_tasks.yaml` (documented) used to exit "no registered env serves suite"."""
    import shutil

    suite = tmp_path / "my_tasks.yaml"
    shutil.copy(os.path.join(os.path.dirname(__file__), "fixtures", "mini.yaml"), suite)
    out = tmp_path / "mine"
    done = subprocess.run([*AIRGAP, "evaluate", "--suite", str(suite), "--agent", "oracle", "--out", str(out), "--workers", "1",
                           "--task", "mini-shell", "--task", "mini-file"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = read_results(out)
    assert sorted(r["task_id"] for r in rows) == ["mini-file", "mini-shell"] and all(r["reward"] == 1.0 for r in rows)
    assert all(not os.path.isabs(r["log"]) and (out / r["log"]).is_file() for r in rows)  # the run folder can move
    header, _ = read_log(out / rows[0]["log"])
    assert header["env_id"] == "airgap/Suite-v0" and header["env_kwargs"]["suite"] == str(suite.resolve())


def test_a_broken_suite_file_is_a_clear_error_not_a_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("suite: bad\nversion: 1\ntasks: []\n")
    done = subprocess.run([*AIRGAP, "evaluate", "--suite", str(bad), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "not a valid task suite" in done.stderr and "Traceback" not in done.stderr


def test_closed_book_runs_each_task_with_only_submit_and_reports_the_uplift(tmp_path, default_snapshot):
    out = tmp_path / "cb"
    rows = run_evaluation(EvalConfig(agent="oracle", out=str(out), workers=1, tasks=TASKS[:2], closed_book=True))
    assert sorted((r["task_id"], r["condition"]) for r in rows) == sorted(
        (t, c) for t in TASKS[:2] for c in ("world", "closed_book"))
    closed = [r for r in rows if r["condition"] == "closed_book"]
    for r in closed:  # the closed-book episode offered one tool; the oracle's search/open calls were refused
        header, events = read_log(out / r["log"])
        reset = next(e for e in events if e["type"] == "reset")
        assert [t["function"]["name"] for t in reset["tools"]] == ["submit"] and header["env_kwargs"]["closed_book"]
        assert r["steps"] == r["tool_errors"] + 1
    summary = json.loads((out / "summary.json").read_text())
    u = summary["uplift"]["overall"]
    assert u["world"] == 1.0 and u["uplift"] == u["world"] - u["closed_book"] and u["ci95"][0] <= u["uplift"] <= u["ci95"][1]
    assert "World uplift" in (out / "report.html").read_text()


def test_unknown_task_is_a_clear_error(tmp_path):
    with pytest.raises(EvaluationError, match="unknown task ids"):
        run_evaluation(EvalConfig(out=str(tmp_path / "y"), tasks=["no-such-task"]))


class _OneShotChat(BaseHTTPRequestHandler):
    """An OpenAI-compatible endpoint on loopback that always submits "no idea"."""

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers["content-length"]))
        msg = {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "submit", "arguments": '{"answer": "no idea"}'}}]}
        out = json.dumps({"choices": [{"message": msg}], "usage": {"prompt_tokens": 11, "completion_tokens": 3}}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


def test_model_calls_land_in_the_episode_log(tmp_path, default_snapshot):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OneShotChat)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        spec = f"openai:http://127.0.0.1:{server.server_port}/v1#tiny"
        [row] = run_evaluation(EvalConfig(agent=spec, out=str(tmp_path / "m"), workers=1, tasks=TASKS[:1]))
    finally:
        server.shutdown()
    assert row["reward"] == 0.0 and row["steps"] == 1
    assert verify(tmp_path / "m" / row["log"]).status == "ok"
    header, events = read_log(tmp_path / "m" / row["log"])
    assert header["agent"] == spec
    [model] = [e for e in events if e["type"] == "model"]
    assert model["step"] == 1 and model["usage"]["prompt_tokens"] == 11
    assert model["output"]["tool_calls"][0]["function"]["name"] == "submit"
    kinds = [e["type"] for e in events]
    assert kinds.index("model") < kinds.index("action")  # the model call comes before the action it produced
