"""Build progress: rich bars on stderr when asked for and stderr is a terminal; nothing otherwise."""
from __future__ import annotations

import json

from airgap.corpus.build import build_snapshot
from airgap.corpus.progress import step, track


def _jsonl(tmp_path):
    path = tmp_path / "few.jsonl"
    path.write_text("\n".join(json.dumps({"url": f"https://p.example/{i}", "text": f"Pumpkin soup number {i}."})
                              for i in range(5)) + "\n")
    return str(path)


def test_quiet_when_stderr_is_not_a_terminal(tmp_path, capfd, monkeypatch):
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    build_snapshot([_jsonl(tmp_path)], str(tmp_path / "snap"), progress=True)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_bars_on_stderr_on_a_terminal(tmp_path, capfd, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich treats stderr as a terminal
    build_snapshot([_jsonl(tmp_path)], str(tmp_path / "snap"), progress=True)
    out, err = capfd.readouterr()
    assert out == ""
    assert "ingest few.jsonl" in err and "passages" in err and "tokenize" in err


def test_off_when_not_asked(tmp_path, capfd, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    build_snapshot([_jsonl(tmp_path)], str(tmp_path / "snap"), progress=False)
    assert capfd.readouterr() == ("", "")


def test_track_and_step_pass_everything_through(monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert list(track(iter(range(5)), "count")) == [0, 1, 2, 3, 4]
    assert list(track(range(3), "count", enabled=False)) == [0, 1, 2]
    with step("outer"):  # another display already on: the inner one stays quiet instead of failing
        assert list(track(range(3), "inner")) == [0, 1, 2]
