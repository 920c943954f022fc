"""Signed logs: each log's head signed (Ed25519) and a run folder's manifest signed, so a rewrite is caught;
and the key never enters a sandbox container."""
from __future__ import annotations

import base64
import json
import os
import shutil
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from airgap.envs.cli import app
from airgap.envs.logs import signing, verify
from airgap.envs.logs.manifest import MANIFEST, PUBLIC_KEY, manifest_root, verify_folder, write_manifest
from airgap.envs.runner.evaluate import RESULTS, _append, read_results, seal_row

runner = CliRunner()


def cli(*args):
    return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "250"})


def json_lines(output: str) -> list[dict]:
    return [json.loads(x) for x in output.splitlines() if x.startswith("{")]


def new_key(path: Path) -> Path:
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.write_bytes(pem)
    path.chmod(0o600)
    return path


def public_of(key_file: Path) -> bytes:
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.fixture
def signing_key(tmp_path, monkeypatch):
    """This test's machine key, given as $AIRGAP_SIGNING_KEY."""
    key = new_key(tmp_path / "machine-key.pem")
    monkeypatch.setenv(signing.KEY_ENV, str(key))
    signing._cached_key.cache_clear()
    yield key
    signing._cached_key.cache_clear()


@pytest.fixture
def pub(tmp_path, signing_key) -> Path:
    p = tmp_path / "machine-pub.pem"
    p.write_bytes(public_of(signing_key))
    return p


@pytest.fixture
def other_pub(tmp_path) -> Path:
    p = tmp_path / "other-pub.pem"
    p.write_bytes(public_of(new_key(tmp_path / "other-key.pem")))
    return p


def make_run(folder: Path, make_episode, n: int = 3, *, answers: str = "abc") -> Path:
    """A run folder made with the functions run_evaluation uses: logs in logs/, rows sealed and appended, manifest."""
    (folder / "logs").mkdir(parents=True)
    for i in range(n):
        log = folder / "logs" / f"t{i}.jsonl"
        make_episode(log, steps=2 + i, big=None if i == 0 else f"small {answers}")
        _append(folder / RESULTS, seal_row({"task_id": f"t{i}", "log": str(log.resolve())}, folder))
    write_manifest(folder, read_results(folder))
    return folder


# --------------------------------------------------------------------------- the key


def test_key_is_made_on_first_use_private_to_the_user_and_reused(tmp_path, monkeypatch):
    import platformdirs

    monkeypatch.delenv(signing.KEY_ENV, raising=False)
    monkeypatch.setattr(platformdirs, "user_config_dir", lambda appname=None, *a, **k: str(tmp_path / "cfg" / appname))
    signing._cached_key.cache_clear()
    try:
        pem = signing.public_key_pem()
        key_file = tmp_path / "cfg" / "airgap" / signing.KEY_FILE
        assert key_file.is_file() and stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
        signing._cached_key.cache_clear()
        assert signing.public_key_pem() == pem  # read back, not made again
        head = "ab" * 32
        sig = signing.sign_head(head)
        assert signing.verify_head(head, sig, pem)
        assert not signing.verify_head("cd" * 32, sig, pem)
        assert not signing.verify_root(head, sig, pem)  # a head signature is not a manifest signature
        assert not signing.verify_head(head, "not base64!", pem)
        assert len(signing.key_id(pem)) == 64
    finally:
        signing._cached_key.cache_clear()


def test_a_given_key_that_does_not_exist_is_an_error_not_a_new_key(tmp_path, monkeypatch):
    monkeypatch.setenv(signing.KEY_ENV, str(tmp_path / "nope.pem"))
    signing._cached_key.cache_clear()
    with pytest.raises(signing.SigningError, match="does not exist"):
        signing.public_key_pem()
    assert not (tmp_path / "nope.pem").exists()
    signing._cached_key.cache_clear()


# --------------------------------------------------------------------------- one log


def test_good_log_verifies_with_its_key(tmp_path, make_episode, pub):
    log = tmp_path / "ep.jsonl"
    make_episode(log)
    row = seal_row({"task_id": "t", "log": str(log)}, tmp_path)
    assert row["log"] == "ep.jsonl" and row["head"] == verify(log).head
    assert row["key_id"] == signing.key_id(pub.read_bytes())
    assert json.loads(signing.sig_path(log).read_text()) == {k: row[k] for k in ("head", "signature", "key_id")}
    r = cli("replay", "verify", "--json", log, "--key", pub)
    assert r.exit_code == 0, r.output
    assert json_lines(r.output)[0]["status"] == "ok" and "signature valid" in json_lines(r.output)[0]["message"]


def test_wrong_key_is_refused(tmp_path, make_episode, signing_key, other_pub):
    log = tmp_path / "ep.jsonl"
    make_episode(log)
    signing.seal_log(log)
    r = cli("replay", "verify", "--json", log, "--key", other_pub)
    assert r.exit_code == 1
    assert json_lines(r.output)[0]["status"] == "bad signature" and "another key" in r.output


def test_log_rewritten_with_every_hash_recomputed_is_caught_only_by_the_signature(tmp_path, make_episode, pub):
    log, forged = tmp_path / "ep.jsonl", tmp_path / "forged.jsonl"
    make_episode(log)
    signing.seal_log(log)
    make_episode(forged, steps=2)  # a whole, internally consistent log with another outcome
    shutil.copyfile(forged, log)
    assert cli("replay", "verify", log).exit_code == 0  # the chain alone cannot see it
    r = cli("replay", "verify", "--json", log, "--key", pub)
    assert r.exit_code == 1 and json_lines(r.output)[0]["status"] == "bad signature"
    assert "not the signed head" in r.output


def test_truncated_after_signing_is_bad_not_merely_truncated(tmp_path, make_episode, pub):
    log = tmp_path / "ep.jsonl"
    make_episode(log)
    signing.seal_log(log)
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(b"".join(lines[:-1]))  # the end event removed: looks like a crash to the chain
    assert cli("replay", "verify", log).exit_code == 2
    r = cli("replay", "verify", "--json", log, "--key", pub)
    assert r.exit_code == 1 and "not the signed head" in r.output


def test_unsigned_and_forged_sig_files(tmp_path, make_episode, pub):
    log = tmp_path / "ep.jsonl"
    make_episode(log)
    r = cli("replay", "verify", "--json", log, "--key", pub)
    assert r.exit_code == 1 and json_lines(r.output)[0]["status"] == "unsigned"
    rec = signing.seal_log(log)
    other = tmp_path / "other.jsonl"
    make_episode(other, steps=2)
    shutil.copyfile(other, log)
    # the forger points the .sig at the new head but cannot sign it
    signing.sig_path(log).write_text(json.dumps({**rec, "head": verify(log).head}))
    r = cli("replay", "verify", "--json", log, "--key", pub)
    assert r.exit_code == 1 and "not valid for this key" in r.output


def test_an_unfinished_log_is_not_signed(tmp_path, make_episode, signing_key):
    log = tmp_path / "ep.jsonl"
    make_episode(log, close=False)
    row = seal_row({"task_id": "t", "log": str(log)}, tmp_path)
    assert row["signature"] is None and "truncated" in row["sign_error"]
    assert not signing.sig_path(log).exists()


# --------------------------------------------------------------------------- a run folder


def test_good_folder_verifies_and_the_manifest_is_deterministic(tmp_path, make_episode, pub):
    run = make_run(tmp_path / "run", make_episode)
    res = verify_folder(run, pub.read_bytes())
    assert res.ok, res.problems
    assert sorted(c.path for c in res.logs) == ["logs/t0.jsonl", "logs/t1.jsonl", "logs/t2.jsonl"]
    manifest = json.loads((run / MANIFEST).read_text())
    assert manifest["root"] == manifest_root(manifest["logs"])
    assert (run / PUBLIC_KEY).read_bytes() == pub.read_bytes()
    assert write_manifest(run, read_results(run))["root"] == manifest["root"]  # a resume rewrites the same root
    r = cli("replay", "verify", run, "--key", pub)
    assert r.exit_code == 0, r.output
    r = cli("replay", "verify", run)  # the folder's own key: integrity only, and it says so
    assert r.exit_code == 0 and "not who signed it" in " ".join(r.output.split())


def _edit(run: Path, other: Path) -> tuple[str, str]:
    p = run / "logs/t1.jsonl"
    p.write_bytes(p.read_bytes().replace(b"output of step 2", b"output of step X"))
    return "logs/t1.jsonl", "edited"


def _truncate(run: Path, other: Path) -> tuple[str, str]:
    p = run / "logs/t1.jsonl"
    p.write_bytes(b"".join(p.read_bytes().splitlines(keepends=True)[:-2]))
    return "logs/t1.jsonl", "truncated"


def _replace(run: Path, other: Path) -> tuple[str, str]:
    shutil.copyfile(other / "logs/t1.jsonl", run / "logs/t1.jsonl")  # another run's log of the same task
    return "logs/t1.jsonl", "replaced"


def _delete(run: Path, other: Path) -> tuple[str, str]:
    (run / "logs/t2.jsonl").unlink()
    return "logs/t2.jsonl", "deleted"


def _extra(run: Path, other: Path) -> tuple[str, str]:
    shutil.copyfile(other / "logs/t1.jsonl", run / "logs/t9.jsonl")
    return "logs/t9.jsonl", "extra"


@pytest.mark.parametrize("damage", [_edit, _truncate, _replace, _delete, _extra], ids=lambda f: f.__name__[1:])
def test_each_damaged_log_is_named(tmp_path, make_episode, pub, damage):
    run = make_run(tmp_path / "run", make_episode)
    other = make_run(tmp_path / "other", make_episode, answers="xyz")
    path, status = damage(run, other)
    res = verify_folder(run, pub.read_bytes())
    assert [(c.path, c.status) for c in res.problems] == [(path, status)]
    r = cli("replay", "verify", "--json", run, "--key", pub)
    assert r.exit_code == 1
    assert {(x["log"], x["status"]) for x in json_lines(r.output) if x["status"] != "ok"} == {(path, status)}


def test_folder_checked_with_the_wrong_key_or_a_re_signed_manifest(tmp_path, make_episode, pub, other_pub, monkeypatch):
    run = make_run(tmp_path / "run", make_episode)
    res = verify_folder(run, other_pub.read_bytes())
    assert not res.ok and [c.status for c in res.problems] == ["manifest"] and "another key" in res.problems[0].message
    assert cli("replay", "verify", run, "--key", other_pub).exit_code == 1

    # an attacker rewrites a log, then makes a new manifest signed with a key of their own
    other = make_run(tmp_path / "other", make_episode, answers="xyz")
    shutil.copyfile(other / "logs/t1.jsonl", run / "logs/t1.jsonl")
    monkeypatch.setenv(signing.KEY_ENV, str(new_key(tmp_path / "attacker.pem")))
    signing._cached_key.cache_clear()
    write_manifest(run, [])
    assert verify_folder(run).ok  # the folder's own key proves only that the folder is self-consistent
    res = verify_folder(run, pub.read_bytes())
    assert not res.ok and "another key" in res.problems[0].message

    # editing the manifest's list without re-signing breaks its root
    manifest = json.loads((run / MANIFEST).read_text())
    manifest["logs"] = manifest["logs"][:-1]
    (run / MANIFEST).write_text(json.dumps(manifest))
    assert any("root does not match" in c.message for c in verify_folder(run).problems)


def test_a_log_cut_short_by_a_harness_failure_is_entered_as_it_was(tmp_path, make_episode, pub):
    run = make_run(tmp_path / "run", make_episode, n=2)
    make_episode(run / "logs" / "crashed.jsonl", close=False)  # no row: the harness died
    write_manifest(run, read_results(run))
    entry = {e["path"]: e for e in json.loads((run / MANIFEST).read_text())["logs"]}["logs/crashed.jsonl"]
    assert entry["status"] == "truncated"
    assert verify_folder(run, pub.read_bytes()).ok


def test_a_log_changed_between_its_end_and_the_manifest_is_still_caught(tmp_path, make_episode, pub):
    run = make_run(tmp_path / "run", make_episode)
    other = make_run(tmp_path / "other", make_episode, answers="xyz")
    shutil.copyfile(other / "logs/t0.jsonl", run / "logs/t0.jsonl")
    write_manifest(run, read_results(run))  # e.g. a resume: the row's signed head is what goes in
    assert [(c.path, c.status) for c in verify_folder(run, pub.read_bytes()).problems] == [("logs/t0.jsonl", "replaced")]


# --------------------------------------------------------------------------- the key stays out of the sandbox


def test_the_signing_key_never_enters_a_container(sandbox_image, tmp_path, signing_key):
    from airgap.envs.env import AirgapEnv
    from airgap.sandbox import close_shared_pools
    from airgap.sandbox.config import AGENT

    key = signing.private_key()  # loaded in this process, as the evaluation's driver does
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    pem_lines = [ln for ln in signing_key.read_text().splitlines() if ln and not ln.startswith("-----")]
    text_needles = [*pem_lines, raw.hex(), base64.b64encode(raw).decode(), str(signing_key), str(signing_key.parent)]
    assert os.environ[signing.KEY_ENV] == str(signing_key)
    canary = "canary-" + os.urandom(8).hex()

    env = AirgapEnv(suite="sandbox", log_dir=str(tmp_path / "logs"))
    try:
        env.reset(seed=0)
        obs, *_ = env.step({"tool": "shell", "args": {"command": "env; id; ls -la / ~ /workspace"}})
        assert "PATH=" in obs and not [n for n in text_needles if n in obs]
        sb = env.unwrapped._sb
        sb.write_file("/tmp/canary.txt", canary)  # proves the search below does find what is there
        rt, cid = sb._runtime, sb.container_id
        # the patterns travel as argv (in /proc only, which is skipped), never as a file in the container
        argv = ["grep", "-r", "-l", "-a", "-F", "-D", "skip", "--exclude-dir=proc", "--exclude-dir=sys"]
        for n in [*text_needles, canary]:
            argv += ["-e", n]
        # as root (no CAP_DAC_OVERRIDE in a sandbox: root cannot read the agent's private files) and as the agent
        for user in ("root", AGENT):
            found = rt.exec(cid, [*argv, "/"], user=user, workdir="/", environment=None, timeout=300)
            assert not found.timed_out and found.exit_code in (0, 2), found.stderr[-2000:]
            assert found.stdout.decode().split() == ["/tmp/canary.txt"], (user, found.stdout[:2000])
        procs = rt.exec(cid, ["sh", "-c", "cat /proc/[0-9]*/environ /proc/[0-9]*/cmdline /proc/self/mountinfo 2>/dev/null"],
                        user="root", workdir="/", environment=None, timeout=60)
        assert b"PATH=" in procs.stdout
        for n in [*(x.encode() for x in text_needles), raw]:
            assert n not in procs.stdout
    finally:
        log = env.unwrapped.log_path
        env.close()
        close_shared_pools()
    rec = signing.seal_log(log)  # and the episode's log is signed with that key on the host
    assert signing.check_log_signature(log, verify(log).head, signing.public_key_pem()) == (True, "signature valid")
    assert rec["signature"]
