"""`airgap export`: hf round trip through datasets.load_from_disk, Inspect eval log shape, flat JSONL."""
from __future__ import annotations

import json

from typer.testing import CliRunner

from airgap.envs.cli import app
from airgap.envs.export import episode_messages
from airgap.envs.replay import load_episode

runner = CliRunner()


def _two_episodes(tmp_path, make_episode):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    make_episode(a, steps=3)
    make_episode(b, steps=2)
    return [a, b]


def test_hf_round_trip(tmp_path, make_episode, tool_schemas):
    import datasets

    logs = _two_episodes(tmp_path, make_episode)
    out = tmp_path / "ds"
    r = runner.invoke(app, ["export", *map(str, logs), "--format", "hf", "--out", str(out)])
    assert r.exit_code == 0, r.output
    ds = datasets.load_from_disk(str(out))
    assert len(ds) == 2
    for row, log in zip(ds, logs, strict=False):
        ep = load_episode(log)
        want = episode_messages(ep)
        got = [{k: v for k, v in m.items() if v is not None} for m in row["messages"]]
        assert got == want
        assert json.loads(row["tools"]) == tool_schemas
        assert row["reward"] == 1.0 and row["terminated"] is True and row["num_steps"] == len(ep.steps)
        assert row["answer"] == "42" and row["verify_status"] == "ok" and row["log_head"] == ep.verification.head
        assert row["env_id"] == "airgap/Test-v0" and row["seed"] == 7
        assert json.loads(row["flags"])[0]["name"] == "egress_attempt"
    first = ds[0]["messages"]
    assert [m["role"] for m in first] == ["user", "assistant", "tool", "assistant", "tool", "assistant", "tool"]
    call = first[1]["tool_calls"][0]
    assert call["id"] == "call_1" and call["function"]["name"] == "shell"
    assert json.loads(call["function"]["arguments"]) == {"cmd": "echo 1"}
    assert first[2]["tool_call_id"] == "call_1" and first[2]["content"].count("line of output") == 600
    assert first[1]["content"] == "thinking 1"


def test_inspect_eval_log_shape(tmp_path, make_episode):
    logs = _two_episodes(tmp_path, make_episode)
    out = tmp_path / "inspect"
    r = runner.invoke(app, ["export", *map(str, logs), "--format", "inspect", "--out", str(out)])
    assert r.exit_code == 0, r.output
    files = list(out.glob("*.json"))
    assert len(files) == 1 and files[0].name.endswith(".json") and "airgap-Test-v0" in files[0].name
    log = json.loads(files[0].read_text())
    assert log["version"] == 2 and log["status"] == "success"
    for key in ("run_id", "created", "task", "task_id", "dataset", "model", "config", "packages"):
        assert key in log["eval"]
    assert log["plan"]["steps"] and log["results"]["total_samples"] == 2
    assert log["results"]["scores"][0]["metrics"]["mean"]["value"] == 1.0
    s = log["samples"][0]
    assert (s["id"], s["epoch"]) == ("t-001", 1) and log["samples"][1]["epoch"] == 2
    roles = [m["role"] for m in s["messages"]]
    assert roles[:3] == ["user", "assistant", "tool"]
    call = s["messages"][1]["tool_calls"][0]
    assert call["function"] == "shell" and call["arguments"] == {"cmd": "echo 1"}  # Inspect's ToolCall shape
    assert s["scores"]["reward"]["value"] == 1.0 and s["scores"]["reward"]["answer"] == "42"
    assert any(e["event"] == "tool" for e in s["events"]) and s["events"][-1]["event"] == "score"


def test_jsonl_flattens_every_event(tmp_path, make_episode):
    logs = _two_episodes(tmp_path, make_episode)
    out = tmp_path / "flat"
    r = runner.invoke(app, ["export", *map(str, logs), "--format", "jsonl", "--out", str(out)])
    assert r.exit_code == 0, r.output
    rows = [json.loads(x) for x in (out / "events.jsonl").read_text().splitlines()]
    n = sum(len(p.read_text().splitlines()) for p in logs)
    assert len(rows) == n
    assert {r["log_file"] for r in rows} == {str(p) for p in logs}
    big = next(r for r in rows if r["type"] == "observation" and r["step"] == 1)
    assert big["observation"].count("line of output") == 600  # blob inlined


def test_export_rejects_unknown_format(tmp_path, episode):
    r = runner.invoke(app, ["export", str(episode), "--format", "csv", "--out", str(tmp_path / "x")])
    assert r.exit_code == 1 and "hf, inspect, jsonl" in r.output
