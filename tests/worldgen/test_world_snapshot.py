"""A world's offline web built the real way (loopback server, `wget --warc-file`, URL rewriting, two dated captures,
one snapshot): cached per seed, rebuilt when stale, searchable, and answering `as_of` with the right capture."""
from __future__ import annotations

import json

import pytest
from fastwarc.warc import ArchiveIterator, WarcRecordType

from airgap.corpus import Snapshot
from airgap.envs.worldgen import generate
from airgap.envs.worldgen.site import SiteUrls, ensure_world_snapshot, site_facts
from airgap.envs.worldgen.site import snapshot as world_snapshot


@pytest.fixture(scope="module")
def built(tmp_path_factory, wget):
    """World 0 built into a private cache folder: (snapshot path, site facts, cache root)."""
    root = tmp_path_factory.mktemp("snapshots")
    mp = pytest.MonkeyPatch()
    mp.setenv("AIRGAP_SNAPSHOT_DIR", str(root))
    try:
        path = ensure_world_snapshot(0)
        yield path, site_facts(generate(0)), root, mp
    finally:
        mp.undo()


def test_built_under_the_cache_dir_with_a_stamp(built):
    path, sf, root, _ = built
    assert path == root / "worlds" / "seed-0" / "snapshot"
    stamp = json.loads((root / "worlds" / "seed-0" / "world.json").read_text())
    assert stamp["seed"] == 0 and stamp == world_snapshot.stamp(0)
    snap = Snapshot.open(str(path))
    assert sorted(snap.hosts()) == sorted(sf.hosts.all())
    assert snap.manifest["crawl_dates"] == {"first": sf.captures[0].timestamp, "last": sf.captures[1].timestamp}
    assert snap.manifest["counts"]["skipped"] == 0
    assert {s["path"] for s in snap.manifest["sources"]} == {"A.warc.gz", "B.warc.gz"}


def test_warcs_hold_real_urls_dated_as_their_capture(built):
    _, sf, root, _ = built
    for cap in sf.captures:
        with open(root / "worlds" / "seed-0" / "warc" / f"{cap.label}.warc.gz", "rb") as f:
            recs = [(r.headers.get("WARC-Target-URI"), r.headers.get("WARC-Date"))
                    for r in ArchiveIterator(f, record_types=WarcRecordType.response)]
        assert len(recs) > 100
        assert {d for _, d in recs} == {cap.timestamp}
        assert all(u.startswith(tuple(f"https://{h}/" for h in sf.hosts.all())) for u, _ in recs)


def test_second_call_is_cached_and_stale_rebuilds(built, monkeypatch):
    path, _, root, mp = built
    calls = []
    real = world_snapshot.build_world
    monkeypatch.setattr(world_snapshot, "build_world", lambda *a, **k: calls.append(a) or real(*a, **k))
    manifest = path / "manifest.json"
    before = manifest.stat().st_mtime_ns
    assert ensure_world_snapshot(0) == path and calls == []
    stamp_file = root / "worlds" / "seed-0" / "world.json"
    stale = json.loads(stamp_file.read_text())
    stale["site_version"] = -1
    stamp_file.write_text(json.dumps(stale))
    assert ensure_world_snapshot(0) == path and len(calls) == 1
    assert manifest.stat().st_mtime_ns != before
    assert json.loads(stamp_file.read_text()) == world_snapshot.stamp(0)
    assert ensure_world_snapshot(0) == path and len(calls) == 1


def test_bad_seed_is_refused():
    for bad in (-1, "3", 1.0, True):
        with pytest.raises(ValueError, match="non-negative int"):
            ensure_world_snapshot(bad)


def test_search_finds_the_pages(built):
    path, sf, _, _ = built
    snap, u, w = Snapshot.open(str(path)), SiteUrls(sf.hosts), sf.world
    finance = w.team("finance")
    assert u.team("finance") in [h.url for h in snap.search(f"{finance.name} team members lead", k=5)]
    assert u.policies() in [h.url for h in snap.search("finance customer policies refund window", k=3)]
    assert u.releases() in [h.url for h in snap.search(f"{sf.product} releases", k=5)]
    # version numbers such as 1.4.2 hold no token of two characters, so the corpus tokenizer cannot index them:
    # a release page is found by its content
    assert u.release(sf.latest.version) in [h.url for h in snap.search(f"{sf.product} {sf.latest.fixed[0]}", k=5)]
    p = w.shop.products[0]
    assert u.item(p.sku) in [h.url for h in snap.search(f"{p.name} {p.sku}", k=5)]
    art = sf.news.articles[0]
    assert u.article(art) in [h.url for h in snap.search(art.title, k=5)]


def test_both_captures_exist_and_as_of_picks_the_right_one(built):
    path, sf, _, _ = built
    snap, u = Snapshot.open(str(path)), SiteUrls(sf.hosts)
    a, b = sf.captures
    assert snap.dates(u.policies()) == [a.timestamp, b.timestamp]
    old, new = sf.policy_at(a.day), sf.policy_at(b.day)
    assert f"Customer refund window | {old.refund_window_days} days" in _text(snap.get(u.policies(), as_of=a.day))
    assert f"Customer refund window | {new.refund_window_days} days" in _text(snap.get(u.policies()))
    assert snap.get(u.policies(), as_of=b.day).date == b.timestamp
    assert snap.get(u.policies(), as_of="2000-01-01") is None
    # a page first published between the captures: only the latest capture has it
    assert snap.get(u.release(sf.latest.version), as_of=a.day) is None
    assert snap.get(u.release(sf.latest.version)).date == b.timestamp
    hits = snap.search("finance customer policies refund window", k=3, as_of=a.day)
    top = next(h for h in hits if h.url == u.policies())
    assert top.date == a.timestamp and f"{old.refund_window_days} days" in top.text
    hits = snap.search("finance customer policies refund window", k=3)
    assert next(h for h in hits if h.url == u.policies()).date == b.timestamp


def _text(page) -> str:
    from airgap.corpus import render_page

    return "\n".join(render_page(page.body, page.url).lines)


def test_the_archive_serves_each_capture_by_day_and_the_tools_reach_it():
    """/web/<day>/<url> on the search engine is the Wayback-style archive; search(as_of=) and open(as_of=) use it."""
    import asyncio

    import httpx

    from airgap.corpus import SEARCH_HOST, Snapshot, search_app
    from airgap.envs.tools.web import archived
    from airgap.envs.world import world_facts
    from airgap.envs.worldgen.site import SiteUrls, ensure_world_snapshot, site_facts

    sf = site_facts(world_facts(0))
    a, b = (c.day for c in sf.captures)
    url = SiteUrls(sf.hosts).policies()
    old, new = sf.world.policies.history[0].refund_window_days, sf.world.policies.refund_window_days
    assert old != new
    app = search_app(Snapshot.open(str(ensure_world_snapshot(0))))

    async def get(path: str) -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"https://{SEARCH_HOST}") as c:
            return await c.get(path)

    then, now = (asyncio.run(get(archived(url, day).split(SEARCH_HOST, 1)[1])) for day in (a, b))
    assert then.status_code == now.status_code == 200
    assert f"{old} days" in then.text and f"{new} days" in now.text and then.headers["memento-datetime"] != now.headers["memento-datetime"]
    assert asyncio.run(get(f"/web/{a.replace('-', '')}/{url}")).text == then.text  # Wayback's 20250207 spelling too
    assert asyncio.run(get(f"/web/yesterday/{url}")).status_code == 400
    assert asyncio.run(get(f"/web/{a}/https://nowhere.example/")).status_code == 404
