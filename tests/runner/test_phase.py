"""A pinned testing phase: an evaluation records its split, world, shift declaration hash and model identity in
the signed manifest, the summary and every log header; `replay verify` checks the headers against it; `report
--compare` refuses runs of other splits or models unless told, and then shows the generalisation gap per kind.
Real Docker episodes (the office suite's oracle on a train and a test world), real files for the model hashes."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from airgap.envs.agents.identity import describe, folder_hash, model_identity, same_model
from airgap.envs.logs.manifest import verify_folder
from airgap.envs.runner import EvalConfig, EvaluationError, run_evaluation
from airgap.envs.runner.evaluate import rebuild
from airgap.envs.tasks.shift import shift_hash

TASKS = ["office-001", "office-013", "office-030"]


@pytest.fixture(scope="module")
def runs(sandbox_image, tmp_path_factory) -> dict[str, Path]:
    out = {}
    for split in ("test", "train"):
        folder = tmp_path_factory.mktemp(f"office-{split}")
        rows = run_evaluation(EvalConfig(suite="office", agent="oracle", out=str(folder), workers=2, split=split,
                                         seed=1, tasks=TASKS, env_kwargs={"image": sandbox_image}))
        assert [r["reward"] for r in rows] == [1.0] * len(TASKS), (split, rows)  # the oracle solves both splits
        out[split] = folder
    return out


def test_the_manifest_summary_and_every_header_pin_the_phase(runs):
    for split, seed in (("test", 1), ("train", 2_000_001)):
        folder = runs[split]
        manifest = json.loads((folder / "manifest.json").read_text())
        phase = manifest["phase"]
        assert phase["split"] == split and phase["world_seed"] == seed and phase["world"] == f"{split}/1"
        assert phase["shift_hash"] == shift_hash("office") and phase["model"]["kind"] == "scripted"
        assert json.loads((folder / "summary.json").read_text())["config"]["phase"] == phase
        for log in (folder / "logs").glob("*.jsonl"):
            header = json.loads(log.read_text().splitlines()[0])
            assert (header["split"], header["world"], header["shift_hash"], header["model"]) == \
                (split, f"{split}/1", phase["shift_hash"], phase["model"])
            assert header["env_kwargs"]["world_seed"] == seed
        assert verify_folder(folder).ok


def test_verify_catches_an_edited_phase(runs, tmp_path):
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(runs["train"], copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["phase"]["split"] = "test"  # a train run passed off as a test run
    (copy / "manifest.json").write_text(json.dumps(manifest))
    check = verify_folder(copy)
    assert not check.ok
    problems = {c.status for c in check.problems}
    assert "manifest" in problems and "phase" in problems  # the root no longer matches, nor do the headers


def test_compare_refuses_other_splits_unless_told_and_then_gives_the_gap(runs):
    with pytest.raises(EvaluationError, match="split train vs test.*--allow-mismatch"):
        rebuild(runs["train"], [runs["test"]])
    summary = rebuild(runs["train"], [runs["test"]], allow_mismatch=True)
    block = summary["compare"][0]
    assert block["mismatch"] == ["split train vs test"] and block["splits"] == ["train", "test"]
    assert not block["overall"]["paired"]  # other worlds: no episode pairs with another
    assert block["by_kind"] and all(b["a"] == b["b"] == 1.0 for b in block["by_kind"].values())


def test_the_cli_prints_the_phase_and_refuses_a_mismatch(runs):
    from typer.testing import CliRunner

    from airgap.envs.cli import app

    r = CliRunner().invoke(app, ["report", str(runs["test"])])
    assert r.exit_code == 0 and "Phase: office, split test (world test/1" in r.output
    assert "scripted agent oracle" in r.output
    r = CliRunner().invoke(app, ["report", str(runs["train"]), "--compare", str(runs["test"])])
    assert r.exit_code == 2 and "--allow-mismatch" in r.output
    r = CliRunner().invoke(app, ["report", str(runs["train"]), "--compare", str(runs["test"]), "--allow-mismatch"])
    assert r.exit_code == 0 and "Generalisation gap: train worlds" in r.output
    r = CliRunner().invoke(app, ["evaluate", "--suite", "office", "--split", "holdout", "--out", str(runs["test"])])
    assert r.exit_code == 2 and "unknown split 'holdout'" in r.output


def test_a_local_model_is_its_files(tmp_path):
    a = tmp_path / "a"
    a.mkdir()
    (a / "config.json").write_text('{"hidden": 8}')
    (a / "model.safetensors").write_bytes(b"\x00" * 64)
    (a / "tokenizer.json").write_text('{"vocab": {"a": 0}}')
    (a / "README.md").write_text("not part of the model")
    ida = model_identity(f"hf:{a}")
    assert ida["kind"] == "local" and ida["files"] == ["config.json", "model.safetensors", "tokenizer.json"]
    b = tmp_path / "b"
    b.mkdir()
    for p in a.iterdir():
        (b / p.name).write_bytes(p.read_bytes())
    (b / "README.md").write_text("edited notes do not change the model")
    assert same_model(ida, model_identity(f"hf:{b}"))  # the same files elsewhere: the same model
    (b / "tokenizer.json").write_text('{"vocab": {"a": 0, "b": 1}}')
    assert not same_model(ida, model_identity(f"hf:{b}"))  # another tokenizer: another model
    assert describe(ida).startswith("local hf model sha256:")
    with pytest.raises(FileNotFoundError, match="no model files"):
        folder_hash(tmp_path)


def test_endpoints_and_scripted_agents_are_named():
    api = model_identity("openai:http://127.0.0.1:9/v1#gpt-test")
    assert api == {"kind": "api", "provider": "openai", "url": "http://127.0.0.1:9/v1", "model": "gpt-test"}
    assert not same_model(api, model_identity("openai:http://127.0.0.1:9/v1#gpt-other"))
    assert model_identity("oracle")["kind"] == "scripted" and not same_model(model_identity("oracle"), model_identity("noop"))


def test_two_agents_compare_but_a_model_changed_under_one_spec_is_a_mismatch():
    from airgap.envs.runner.evaluate import phase_mismatch

    test = {"split": "test", "shift_hash": "sha256:x"}
    oracle, noop = model_identity("oracle"), model_identity("noop")
    assert phase_mismatch({**test, "model": oracle}, {**test, "model": noop}, ("oracle", "noop")) == []
    a = {"kind": "local", "provider": "hf", "files_sha256": "sha256:aa", "files": ["config.json"]}
    b = {**a, "files_sha256": "sha256:bb"}
    got = phase_mismatch({**test, "model": a}, {**test, "model": b}, ("hf:/models/m", "hf:/models/m"))
    assert len(got) == 1 and got[0].startswith("model under the same agent spec hf:/models/m")
    api = model_identity("openai:http://127.0.0.1:9/v1#gpt-test")
    got = phase_mismatch({**test, "model": api, "served_models": ["gpt-test-2026-01"]},
                         {**test, "model": api, "served_models": ["gpt-test-2026-06"]}, ("openai:x", "openai:x"))
    assert got == ["served model gpt-test-2026-01 vs gpt-test-2026-06"]
    assert phase_mismatch({**test, "model": oracle}, {**test, "shift_hash": "sha256:y", "model": oracle},
                          ("oracle", "oracle")) == ["shift declaration (the splits were declared differently)"]
