"""The bundled default snapshot (Python 3.11 + SQLite docs) builds from the shipped WARCs and answers."""
from __future__ import annotations

import json
import os

import pytest

from airgap.corpus import default_snapshot_path
from airgap.corpus.defaults import build_default, default_warcs

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def default_snap(tmp_path_factory):
    return build_default(str(tmp_path_factory.mktemp("default") / "snap"), progress=False)


def test_a_built_default_is_reused_and_a_dense_build_is_accepted(default_snap, monkeypatch, tmp_path):
    """`build-default` into a folder that already holds this build returns it as it is; `ensure_default_snapshot`
    takes any build of the shipped WARCs (with a dense index or without) and builds only when there is none."""
    from airgap.corpus import ensure_default_snapshot
    from airgap.corpus.cache import STAMP, sources_stamp

    manifest = os.path.join(default_snap.path, "manifest.json")
    before = os.stat(manifest).st_mtime_ns
    assert build_default(default_snap.path, progress=False).path == default_snap.path
    assert os.stat(manifest).st_mtime_ns == before
    monkeypatch.setenv("AIRGAP_SNAPSHOT_DIR", str(tmp_path))
    os.makedirs(tmp_path / "default")
    stamp = {**sources_stamp(default_warcs()), "options": {"dense_model": "/models/some-encoder"}}
    (tmp_path / "default" / STAMP).write_text(json.dumps(stamp))
    assert ensure_default_snapshot() == str(tmp_path / "default")
    assert sorted(os.listdir(tmp_path / "default")) == [STAMP]  # accepted as it is, not rebuilt


def test_default_path_env(monkeypatch, tmp_path):
    monkeypatch.setenv("AIRGAP_SNAPSHOT_DIR", str(tmp_path))
    assert default_snapshot_path() == str(tmp_path / "default")


def test_default_snapshot_answers_known_queries(default_snap):
    assert len(default_warcs()) == 2
    assert default_snap.hosts() == ["docs.python.org", "www.sqlite.org"]
    assert default_snap.manifest["counts"]["urls"] >= 400 and default_snap.manifest["counts"]["skipped"] == 0
    expect = {
        "json dumps indent": "https://docs.python.org/3.11/library/json.html",
        "create virtual table": "https://www.sqlite.org/",
        "list comprehension": "https://docs.python.org/3.11/",
        "vacuum database file": "https://www.sqlite.org/",
    }
    for q, prefix in expect.items():
        urls = [h.url for h in default_snap.search(q, k=5)]
        assert urls and urls[0].startswith(prefix), (q, urls)
    page = default_snap.get("https://docs.python.org/3.11/library/json.html")
    assert page.status == 200 and page.title.startswith("json")
    original = "/usr/share/doc/sqlite3/lang_vacuum.html"  # the page as Debian's sqlite3-doc ships it
    if os.path.exists(original):
        with open(original, "rb") as f:
            assert default_snap.get("https://www.sqlite.org/lang_vacuum.html").body == f.read()
