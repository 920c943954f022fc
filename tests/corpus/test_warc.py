"""Ingest of a real `wget --warc-file` crawl: URLs, bodies byte for byte, encodings, charset, search."""
from __future__ import annotations

import json

from corpus_fixtures import CAFE, CHUNKED, GZ, PAGES, REAL
from typer.testing import CliRunner

from airgap.corpus.build import build_snapshot
from airgap.corpus.cli import app
from airgap.corpus.ingest.warc import read_warc
from airgap.corpus.snapshot import Snapshot

runner = CliRunner()


def test_wget_warc_has_the_pages(site_warc):
    path, base = site_warc
    urls = {c.url for c in read_warc(path)}
    assert {base + "index.html", base + "volcano.html", base + "chunked.html", base + "missing.html"} <= urls


def test_pages_stored_with_real_urls_and_status(site_snapshot):
    snap = site_snapshot
    assert snap.hosts() == ["fixture.example"]
    page = snap.get(REAL + "volcano.html")
    assert page.status == 200 and page.title == "Volcanoes of Iceland"
    assert "Eyjafjallajokull" in page.text
    assert REAL + "index.html" in page.outlinks
    assert len(page.content_hash) == 64
    assert snap.get(REAL + "missing.html").status == 404
    assert snap.get(REAL + "nowhere.html") is None
    # spelling variants of a URL normalise to the same capture
    assert snap.get("HTTPS://Fixture.Example:443/./volcano.html#top").url == REAL + "volcano.html"


def test_transfer_and_content_encodings_are_undone(site_snapshot):
    assert site_snapshot.get(REAL + "chunked.html").body == CHUNKED
    gz = site_snapshot.get(REAL + "gz.html")
    assert gz.body == GZ
    assert not any(k.lower() == "content-encoding" for k, _ in gz.headers)


def test_charset_from_meta_tag(site_snapshot):
    page = site_snapshot.get(REAL + "cafe.html")
    assert page.body == CAFE  # stored as archived
    assert page.title == "Café crème" and "café crème" in page.text


def test_open_raw_is_byte_for_byte(site_snapshot):
    for name, expected in [("volcano.html", PAGES["volcano.html"].encode()), ("cafe.html", CAFE)]:
        r = runner.invoke(app, ["open", site_snapshot.path, REAL + name, "--raw"])
        assert r.exit_code == 0
        assert r.stdout_bytes == expected


def test_open_renders_text_with_links(site_snapshot):
    r = runner.invoke(app, ["open", site_snapshot.path, REAL + "index.html"])
    assert r.exit_code == 0
    assert "[1]volcano page" in r.stdout and "https://fixture.example/volcano.html" in r.stdout


def test_search_finds_fixture_pages(site_snapshot):
    expect = {"volcano ash flights": "volcano.html", "oolong porcelain": "teapot.html",
              "hydrogen airship": "chunked.html", "seville oranges": "gz.html", "croissant": "cafe.html"}
    for q, name in expect.items():
        hits = site_snapshot.search(q, k=3)
        assert hits and hits[0].url == REAL + name, q
    hit = site_snapshot.search("eruption ash cloud", k=1)[0]
    assert "ash" in hit.snippet and hit.title == "Volcanoes of Iceland" and hit.score > 0


def test_search_json_cli(site_snapshot):
    r = runner.invoke(app, ["search", site_snapshot.path, "porcelain teapot", "--json", "-k", "2"])
    assert r.exit_code == 0
    hits = json.loads(r.stdout)
    assert hits[0]["url"] == REAL + "teapot.html"
    assert {"url", "title", "snippet", "score"} <= set(hits[0])


def test_rebuild_is_deterministic(site_warc, site_snapshot, tmp_path):
    path, base = site_warc
    again = build_snapshot([path], str(tmp_path / "again"), url_map=[f"{base}={REAL}"], progress=False)
    assert again.manifest["checksums"] == site_snapshot.manifest["checksums"]
    assert again.manifest_hash == site_snapshot.manifest_hash
    q = "volcano"
    assert [h.passage_id for h in again.search(q)] == [h.passage_id for h in site_snapshot.search(q)]


def test_reopen_and_manifest(site_snapshot):
    snap = Snapshot.open(site_snapshot.path)
    m = snap.manifest
    assert m["counts"]["skipped"] == 0 and m["counts"]["urls"] >= 7
    assert m["sources"][0]["kind"] == "warc" and len(m["sources"][0]["sha256"]) == 64
    assert m["index"]["bm25"]["stemmer"] == "english"
    assert "bodies.zst" in m["checksums"] and m["sizes"]["bodies.zst"] > 0


def test_rebuild_in_another_process_is_identical(site_warc, site_snapshot, tmp_path):
    """String hashing differs between processes; nothing in the snapshot may depend on it."""
    import os
    import subprocess
    import sys

    path, base = site_warc
    out = tmp_path / "other"
    code = ("import sys; from airgap.corpus.build import build_snapshot; "
            "print(build_snapshot([sys.argv[1]], sys.argv[2], url_map=[sys.argv[3]], progress=False).manifest_hash)")
    env = dict(os.environ, PYTHONHASHSEED="12345")
    r = subprocess.run([sys.executable, "-c", code, path, str(out), f"{base}={REAL}"], env=env,
                       capture_output=True, text=True, check=True)
    assert r.stdout.strip() == site_snapshot.manifest_hash
