"""The log format: schema, hash chain, tamper detection, crash safety, redaction, blobs."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import jsonschema
import pytest

from airgap.envs.logs import (
    SCHEMA_VERSION,
    ZERO_HASH,
    EpisodeLog,
    LogError,
    event_hash,
    read_log,
    schema,
    verify,
)


def lines(p):
    return p.read_bytes().splitlines(keepends=True)


def test_every_event_validates_against_the_schema(episode):
    jsonschema.Draft202012Validator.check_schema(schema())
    v = jsonschema.Draft202012Validator(schema())
    raw = [json.loads(x) for x in lines(episode)]
    for ev in raw:
        v.validate(ev)
    assert raw[0]["type"] == "header" and raw[0]["prev"] == ZERO_HASH and raw[0]["schema_version"] == SCHEMA_VERSION
    assert [e["seq"] for e in raw] == list(range(len(raw)))
    for a, b in zip(raw, raw[1:], strict=False):
        assert b["prev"] == a["hash"] == event_hash(a)
    types = {e["type"] for e in raw}
    assert {"header", "reset", "model", "action", "validation", "observation", "sandbox.exec", "sandbox.http",
            "flag", "reward", "end"} <= types


def test_schema_rejects_a_malformed_event(episode):
    v = jsonschema.Draft202012Validator(schema())
    ev = json.loads(lines(episode)[2])
    ev.pop("prev")
    assert not v.is_valid(ev)
    action = next(json.loads(x) for x in lines(episode) if b'"type":"action"' in x)
    action.pop("step")
    assert not v.is_valid(action)


def test_verify_passes_on_a_fresh_log(episode):
    r = verify(episode)
    assert r.status == "ok", r.message
    assert r.n_events == len(lines(episode)) and r.first_bad is None
    assert r.head == json.loads(lines(episode)[-1])["hash"]


@pytest.mark.parametrize("k", [0, 3, 7])
def test_one_byte_flipped_is_detected_at_that_event(episode, k):
    ls = lines(episode)
    line = bytearray(ls[k])
    i = line.index(b'"t_wall":"') + len(b'"t_wall":"') + 3  # a digit of the year: stays valid JSON
    line[i] = ord("7") if line[i] != ord("7") else ord("8")
    ls[k] = bytes(line)
    episode.write_bytes(b"".join(ls))
    r = verify(episode)
    assert (r.status, r.first_bad) == ("tampered", k), r


def test_byte_flip_that_breaks_json_is_tampered_not_truncated(episode):
    ls = lines(episode)
    ls[4] = ls[4][:10] + b"\x00" + ls[4][11:]
    episode.write_bytes(b"".join(ls))
    r = verify(episode)
    assert (r.status, r.first_bad) == ("tampered", 4), r


@pytest.mark.parametrize("k", [1, 5, 9])
def test_one_line_removed_is_detected_at_that_event(episode, k):
    ls = lines(episode)
    del ls[k]
    episode.write_bytes(b"".join(ls))
    r = verify(episode)
    assert (r.status, r.first_bad) == ("tampered", k), r


@pytest.mark.parametrize("k", [1, 6])
def test_two_lines_swapped_are_detected_at_the_first(episode, k):
    ls = lines(episode)
    ls[k], ls[k + 1] = ls[k + 1], ls[k]
    episode.write_bytes(b"".join(ls))
    r = verify(episode)
    assert (r.status, r.first_bad) == ("tampered", k), r


def test_edited_last_event_is_detected(episode):
    ls = lines(episode)
    ev = json.loads(ls[-1])
    ev["reward"] = 0.0
    ls[-1] = json.dumps(ev).encode() + b"\n"
    episode.write_bytes(b"".join(ls))
    r = verify(episode)
    assert (r.status, r.first_bad) == ("tampered", len(ls) - 1), r


def test_edited_blob_is_tampered_and_missing_blob_is_invalid(episode):
    blobs = sorted((episode.parent / (episode.name + ".blobs")).iterdir())
    assert blobs
    b = blobs[0]
    original = b.read_bytes()
    b.write_bytes(original.replace(b"line", b"lime", 1))
    assert verify(episode).status == "tampered"
    b.unlink()
    r = verify(episode)
    assert r.status == "invalid" and "blobs" in r.message


def test_partial_last_line_is_truncated(episode):
    ls = lines(episode)
    episode.write_bytes(b"".join(ls[:-1]) + ls[-1][: len(ls[-1]) // 2])
    r = verify(episode)
    assert (r.status, r.first_bad, r.n_events) == ("truncated", len(ls) - 1, len(ls) - 1), r
    header, events = read_log(episode)
    assert len(events) == len(ls) - 2


def test_log_without_end_is_truncated(tmp_path, make_episode):
    p = tmp_path / "open.jsonl"
    log = make_episode(p, close=False)
    r = verify(p)
    assert r.status == "truncated" and r.n_events == log.n_events and r.head == log.head


def test_not_a_log_is_invalid(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text('{"hello": 1}\n')
    assert verify(p).status == "invalid"
    p.write_text("")
    assert verify(p).status == "invalid"
    assert verify(tmp_path / "missing.jsonl").status == "invalid"
    with pytest.raises(LogError):
        read_log(p)


def test_large_payloads_are_blobs_stored_once_and_read_back(tmp_path):
    p = tmp_path / "ep.jsonl"
    big = "x" * 10_000
    with EpisodeLog(p, {"env_id": "e"}) as log:
        for k in range(1, 4):
            log.append("observation", step=k, observation=big, data=big.encode())
    raw = [json.loads(x) for x in lines(p)]
    refs = [e["observation"] for e in raw if e["type"] == "observation"]
    assert all(r["$blob"] == refs[0]["$blob"] and r["size"] == 10_000 and r["kind"] == "text" for r in refs)
    assert len(p.read_bytes()) < 5000  # the log stays small
    blob_files = os.listdir(str(p) + ".blobs")
    assert len(blob_files) == 1  # same bytes whether text or bytes: one file, six references
    header, events = read_log(p)
    obs = [e for e in events if e["type"] == "observation"]
    assert obs[0]["observation"] == big and obs[0]["data"] == big.encode()
    assert verify(p).ok
    _, unresolved = read_log(p, resolve=False)
    assert unresolved[0]["observation"]["$blob"]


def test_redaction_before_writing_and_recorded_in_header(tmp_path, make_episode):
    p = tmp_path / "ep.jsonl"
    make_episode(p, redact=[r"sk-[A-Za-z0-9]{20,}"], big="token sk-ABCDEFGHIJKLMNOPQRSTUVWX " * 400)
    text = p.read_text()
    blobs = b"".join(f.read_bytes() for f in (tmp_path / "ep.jsonl.blobs").iterdir())
    assert "sk-ABCDEFGHIJKLMNOPQRSTUV" not in text and b"sk-ABCDEFGHIJKLMNOPQRSTUV" not in blobs
    assert "[REDACTED]" in text and b"[REDACTED]" in blobs
    header, events = read_log(p)
    assert header["redaction"] == {"patterns": [r"sk-[A-Za-z0-9]{20,}"], "replacement": "[REDACTED]"}
    assert events[-1]["log"]["n_redactions"] >= 2
    assert verify(p).ok


def test_bad_redaction_pattern_says_which(tmp_path):
    with pytest.raises(ValueError, match=r"\(unclosed"):
        EpisodeLog(tmp_path / "a.jsonl", {}, redact=["(unclosed"])


def test_api_guards(tmp_path):
    p = tmp_path / "ep.jsonl"
    log = EpisodeLog(p, {"env_id": "e"})
    with pytest.raises(ValueError, match="reserved"):
        log.append("action", seq=3)
    with pytest.raises(ValueError, match="not valid"):
        log.append("Bad Type")
    end = log.close(reward=0.5)
    assert log.close() is end and end["type"] == "end" and end["log"]["n_events"] == 2
    with pytest.raises(RuntimeError, match="closed"):
        log.append("flag", name="x")
    with pytest.raises(FileExistsError, match="new file name"):
        EpisodeLog(p, {})


def test_odd_values_never_raise(tmp_path):
    import dataclasses
    import datetime

    import numpy as np

    @dataclasses.dataclass
    class R:
        exit_code: int
        stdout: bytes

    p = tmp_path / "ep.jsonl"
    with EpisodeLog(p, {"env_id": "e"}) as log:
        ev = log.append("observation", step=1, observation="x", reward=float("nan"), big=2**70,
                        arr=np.arange(3), r=R(0, b"\x00\xff"), when=datetime.datetime(2026, 1, 1), obj=object(),
                        s={3, 1}, t=(1, 2))
    assert ev["reward"] == "NaN" and ev["big"] == str(2**70) and ev["arr"] == [0, 1, 2]
    assert ev["r"] == {"exit_code": 0, "stdout": {"$bytes": "AP8="}} and ev["obj"]["$type"] == "builtins.object"
    assert verify(p).ok
    _, events = read_log(p)
    assert events[0]["r"]["stdout"] == b"\x00\xff"


def test_exception_in_with_block_is_recorded(tmp_path):
    p = tmp_path / "ep.jsonl"
    with pytest.raises(KeyError):
        with EpisodeLog(p, {"env_id": "e"}) as log:
            log.append("reset", observation="o")
            raise KeyError("boom")
    _, events = read_log(p)
    assert events[-1]["type"] == "end" and events[-1]["status"] == "error" and "boom" in events[-1]["error"]
    assert verify(p).ok


def test_sink_tags_sandbox_events_with_the_current_step(tmp_path):
    p = tmp_path / "ep.jsonl"
    with EpisodeLog(p, {"env_id": "e"}) as log:
        log.append("action", step=2, action={"tool": "shell", "args": {}})
        log.sink({"type": "exec", "sandbox": "abc", "seq": 9, "via": "init", "cmd": "true", "exit_code": 0})
        log.sink({"type": "egress_attempt", "sandbox": "abc", "via": "dns", "host": "exfil.example", "qtype": "A", "step": 5})
    _, events = read_log(p)
    assert events[1]["type"] == "sandbox.exec" and events[1]["step"] == 2 and events[1]["sandbox_seq"] == 9
    assert events[2]["type"] == "sandbox.egress_attempt" and events[2]["step"] == 5


def test_sink_is_thread_safe(tmp_path):
    import threading

    p = tmp_path / "ep.jsonl"
    with EpisodeLog(p, {"env_id": "e"}) as log:
        def worker(n):
            for i in range(200):
                log.sink({"type": "dns", "sandbox": f"s{n}", "name": f"h{i}.example", "qtype": "A", "known": False})
        ts = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    r = verify(p)
    assert r.ok and r.n_events == 802


WRITER = textwrap.dedent("""
    import sys, time
    from airgap.envs.logs import EpisodeLog
    log = EpisodeLog(sys.argv[1], {"env_id": "airgap/Test-v0", "seed": 1}, defer=sys.argv[2] == "defer")
    log.append("reset", observation="start")
    log.persist()  # what the env does at the first step (a no-op for a log written through from the start)
    k = 0
    while True:
        k += 1
        log.append("action", step=k, action={"tool": "shell", "args": {"cmd": "echo %d" % k}})
        log.append("observation", step=k, observation=("out %d " % k) * (k % 700), reward=0.0,
                   terminated=False, truncated=False)
        if k == 20:
            print("ready", flush=True)
""")


@pytest.mark.parametrize("mode", ["direct", "defer"])
def test_sigkill_mid_episode_leaves_a_truncated_prefix(tmp_path, mode):
    """Written through from the start, or deferred and persisted at the first step: a kill loses at most the event
    in flight."""
    p = tmp_path / "killed.jsonl"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(p), mode], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.2)  # let it write a few hundred more events, then kill it mid-stream
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    r = verify(p)
    assert r.status == "truncated", r
    assert r.n_events >= 41
    header, events = read_log(p)
    assert header["seed"] == 1 and len(events) == r.n_events - 1


def test_per_type_validators_agree_with_the_full_schema(episode, tmp_path):
    from airgap.envs.logs.schema import _type_validator

    v = jsonschema.Draft202012Validator(schema())
    events = [json.loads(x) for x in lines(episode)]
    broken = []
    for ev in events:  # every event, and a damaged copy of each
        bad = dict(ev)
        bad.pop("step", None) if ev["type"] in ("action", "observation") else bad.update(seq="x")
        broken.append(bad)
    for ev in events + broken:
        assert v.is_valid(ev) == _type_validator(ev["type"]).is_valid(ev), ev


def test_a_failed_write_ends_the_log_honestly(tmp_path, monkeypatch):
    import errno

    import airgap.envs.logs.writer as el

    p = tmp_path / "ep.jsonl"
    log = EpisodeLog(p, {"env_id": "e"})
    log.append("reset", observation="o")
    real_write = os.write

    def half_then_full(fd, data):  # the disk fills up half way through a line
        real_write(fd, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(el.os, "write", half_then_full)
    with pytest.raises(OSError, match="verifies as truncated"):
        log.append("action", step=1, action={"tool": "shell", "args": {}})
    monkeypatch.setattr(el.os, "write", real_write)
    with pytest.raises(RuntimeError, match="closed"):
        log.append("observation", step=1, observation="x")
    r = verify(p)
    assert (r.status, r.n_events) == ("truncated", 2), r


def test_a_deferred_log_is_written_at_persist_and_through_from_then_on(tmp_path):
    p = tmp_path / "ep.jsonl"
    big = "x" * 10_000  # a blob: held with the events until persist
    log = EpisodeLog(p, {"env_id": "e", "seed": 3}, defer=True)
    log.append("reset", step=0, observation=big)
    time.sleep(0.01)
    assert not p.exists() and not log.blob_dir.exists() and not log.persisted and log.n_events == 2
    log.persist()
    assert log.persisted and len(lines(p)) == 2 and len(list(log.blob_dir.iterdir())) == 1
    log.append("action", step=1, action={"tool": "shell", "args": {"command": "ls"}})
    assert len(lines(p)) == 3  # written as it came
    log.persist()  # a no-op now
    log.close(status="done", steps=1)
    assert verify(p).ok
    header, events = read_log(p)
    assert header["seed"] == 3 and [e["type"] for e in events] == ["reset", "action", "end"]
    assert events[0]["observation"] == big and events[1]["t_mono"] > events[0]["t_mono"]  # times of when they came
    assert events[-1]["log"]["n_blobs"] == 1


def test_a_deferred_log_discarded_leaves_nothing_and_closed_is_kept(tmp_path):
    p = tmp_path / "gone.jsonl"
    log = EpisodeLog(p, {"env_id": "e"}, defer=True)
    log.append("reset", step=0, observation="y" * 10_000)
    assert log.discard() and log.closed and log.discarded and not log.persisted
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(RuntimeError, match="closed"):
        log.append("action", step=1, action={})
    assert not log.discard()  # once is enough
    kept = EpisodeLog(tmp_path / "kept.jsonl", {"env_id": "e"}, defer=True)
    kept.append("reset", step=0, observation="o")
    end = kept.close(status="error", error="setup failed")  # closing a deferred log writes it
    assert verify(kept.path).ok and end["log"]["n_events"] == 3 and not kept.discard()
    with pytest.raises(FileExistsError, match="already exists"):
        EpisodeLog(kept.path, {"env_id": "e"}, defer=True)
