"""`ensure_snapshot`: a snapshot built once into the cache. Processes that race build it once; a build that fails or
is killed leaves no entry and the next call builds; a complete entry is returned without taking the lock; a stale one
is replaced whole. Sources are the real `wget --warc-file` crawl of the session fixture."""
from __future__ import annotations

import fcntl
import json
import multiprocessing
import os
import threading
import time
from pathlib import Path

import pytest
from corpus_fixtures import REAL

import airgap.corpus.build as build_module
from airgap.corpus import Snapshot, ensure_snapshot
from airgap.corpus.cache import STAMP, is_complete, sources_stamp

FORK = multiprocessing.get_context("fork")


def _counting_build(monkeypatch, log: Path, pause: float = 0.0) -> None:
    """Make every `build_snapshot` call (in this process and in processes forked from it) append a line to ``log``."""
    real = build_module.build_snapshot

    def counted(*args, **kwargs):
        with open(log, "a") as f:
            f.write(f"{os.getpid()}\n")
        time.sleep(pause)  # widen the window in which racing callers look for the entry
        return real(*args, **kwargs)

    monkeypatch.setattr(build_module, "build_snapshot", counted)


def _race(barrier, warc: str, base: str, root: str, out) -> None:
    barrier.wait()
    path = ensure_snapshot([warc], "site", root=root, url_map=[f"{base}={REAL}"])
    out.put(str(path))


def test_processes_that_race_build_once(site_warc, tmp_path, monkeypatch):
    warc, base = site_warc
    log = tmp_path / "builds.log"
    _counting_build(monkeypatch, log, pause=0.5)
    root = tmp_path / "cache"
    n = 4
    barrier, out = FORK.Barrier(n), FORK.Queue()
    procs = [FORK.Process(target=_race, args=(barrier, warc, base, str(root), out)) for _ in range(n)]
    for p in procs:
        p.start()
    paths = {out.get(timeout=120) for _ in procs}
    for p in procs:
        p.join(timeout=60)
    assert [p.exitcode for p in procs] == [0] * n
    assert len(log.read_text().split()) == 1
    assert paths == {str(root / "site")}
    snap = Snapshot.open(str(root / "site"))
    assert snap.search("volcano iceland ash", k=1)[0].url == f"{REAL}volcano.html"
    stamp = json.loads((root / "site" / STAMP).read_text())
    assert stamp == sources_stamp([warc], url_map=[f"{base}={REAL}"])
    assert stamp["sources"][0][0] == os.path.basename(warc) and stamp["options"] == {"url_map": [f"{base}={REAL}"]}
    assert sorted(p.name for p in root.iterdir()) == ["site", "site.lock"]  # no temporary folder left


def test_a_failed_build_leaves_nothing_and_the_next_call_builds(site_warc, tmp_path):
    warc, base = site_warc

    def broken(folder: Path) -> None:
        (folder / "manifest.json").write_text("{}")  # half a snapshot, then a failure
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        ensure_snapshot([warc], "site", root=tmp_path, build=broken)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site.lock"]
    path = ensure_snapshot([warc], "site", root=tmp_path)
    assert path == tmp_path / "site" and Snapshot.open(str(path)).manifest["counts"]["captures"] > 0
    assert is_complete(path, sources_stamp([warc]))


def _killed_mid_build(warc: str, root: str) -> None:
    def dies(folder: Path) -> None:
        (folder / "bodies.zst").write_bytes(b"\0" * 1000)
        os._exit(9)  # no cleanup runs: as if the process were killed

    ensure_snapshot([warc], "site", root=root, build=dies)


def test_a_killed_build_leaves_no_entry_and_its_leftovers_go_with_the_next_build(site_warc, tmp_path):
    warc, _ = site_warc
    p = FORK.Process(target=_killed_mid_build, args=(warc, str(tmp_path)))
    p.start()
    p.join(timeout=60)
    assert p.exitcode == 9
    assert not (tmp_path / "site").exists()
    assert list((tmp_path / ".site.tmp").rglob("bodies.zst"))  # what the dead build wrote, aside
    path = ensure_snapshot([warc], "site", root=tmp_path)  # the dead process's lock went with it
    assert Snapshot.open(str(path)).manifest["counts"]["captures"] > 0
    assert sorted(x.name for x in tmp_path.iterdir()) == ["site", "site.lock"]


def test_a_complete_entry_is_reused_without_the_lock(site_warc, tmp_path, monkeypatch):
    warc, _ = site_warc
    log = tmp_path / "builds.log"
    _counting_build(monkeypatch, log)
    path = ensure_snapshot([warc], "site", root=tmp_path)
    before = (path / "manifest.json").stat().st_mtime_ns
    got = []
    with open(tmp_path / "site.lock", "a+") as held:  # another holder has the lock: a caller that took it would wait
        fcntl.flock(held, fcntl.LOCK_EX)
        t = threading.Thread(target=lambda: got.append(ensure_snapshot([warc], "site", root=tmp_path)), daemon=True)
        t.start()
        t.join(timeout=30)
        fcntl.flock(held, fcntl.LOCK_UN)
    assert not t.is_alive(), "ensure_snapshot waited for the lock although the entry was complete"
    assert got == [path] and len(log.read_text().split()) == 1
    assert (path / "manifest.json").stat().st_mtime_ns == before


def test_a_stale_entry_is_replaced_whole(site_warc, tmp_path):
    warc, base = site_warc
    path = ensure_snapshot([warc], "site", root=tmp_path)
    assert Snapshot.open(str(path)).get(f"{base}volcano.html") is not None
    # other options (here a URL rewrite) make another snapshot: the entry is rebuilt and swapped in one rename
    again = ensure_snapshot([warc], "site", root=tmp_path, url_map=[f"{base}={REAL}"])
    assert again == path
    snap = Snapshot.open(str(path))
    assert snap.get(f"{REAL}volcano.html") is not None and snap.get(f"{base}volcano.html") is None
    assert sorted(x.name for x in tmp_path.iterdir()) == ["site", "site.lock"]
    # a caller-made entry with its own stamp: rebuilt only when the stamp changes
    made = []

    def build(folder: Path) -> None:
        made.append(folder)
        (folder / "data.txt").write_text(f"build {len(made)}")

    for version in (1, 1, 2, 2):
        entry = ensure_snapshot([], "worlds/w", root=tmp_path, build=build, stamp={"version": version},
                                stamp_name="world.json")
    assert len(made) == 2 and (entry / "data.txt").read_text() == "build 2"
    assert json.loads((entry / "world.json").read_text()) == {"version": 2}


def test_bad_keys_and_no_sources_are_refused(tmp_path):
    for key in ("", "../outside", "/abs/path", "a/../../b"):
        with pytest.raises(ValueError, match="relative path"):
            ensure_snapshot(["x.warc.gz"], key, root=tmp_path)
    with pytest.raises(ValueError, match="no sources"):
        ensure_snapshot([], "site", root=tmp_path)
    assert list(tmp_path.iterdir()) == []
