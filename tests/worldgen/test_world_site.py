"""The generated sites and worldqa tasks as pure functions of the world seed: same seed, same bytes and tasks; links
that browse; two captures that differ where the world changed; task ids stable and answers that move with the seed."""
from __future__ import annotations

import os
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from airgap.corpus import render_page
from airgap.envs.suites.worldqa.generator import TEMPLATES, template_kinds, worldqa_tasks
from airgap.envs.tasks import parse_suite
from airgap.envs.worldgen import generate
from airgap.envs.worldgen.site import SiteUrls, site_facts, write_sites
from airgap.envs.worldgen.site.pages import site_pages
from airgap.envs.worldgen.site.render import relative_link
from airgap.envs.worldgen.site.render import render_page as render_html

WEB = ["search", "open", "find", "click", "python", "submit"]


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_site_bytes(tmp_path):
    sf = site_facts(generate(0))
    for cap in sf.captures:
        write_sites(site_facts(generate(0)), cap, tmp_path / f"one-{cap.label}")
        write_sites(sf, cap, tmp_path / f"two-{cap.label}")
        one, two = _tree(tmp_path / f"one-{cap.label}"), _tree(tmp_path / f"two-{cap.label}")
        assert one == two and len(one) > 100
    assert set(_tree(tmp_path / "one-A")) != set(_tree(tmp_path / "one-B")), "capture B has pages A has not"


_DIGEST = """
import hashlib, json, sys, tempfile
from pathlib import Path
from airgap.envs.worldgen import generate
from airgap.envs.suites.worldqa.generator import worldqa_tasks
from airgap.envs.worldgen.site import site_facts, write_sites
h = hashlib.sha256(json.dumps(worldqa_tasks(0), sort_keys=True).encode())
sf = site_facts(generate(0))
with tempfile.TemporaryDirectory() as d:
    for cap in sf.captures:
        for f in write_sites(sf, cap, Path(d) / cap.label):
            h.update(f[len(d):].encode() + Path(f).read_bytes())
print(h.hexdigest())
"""


def test_same_bytes_and_tasks_in_another_process():
    """Nothing depends on the process: hash randomisation, import order or the global random state."""
    random.seed(12345)
    outs = {subprocess.run([sys.executable, "-c", _DIGEST], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": str(s)}).stdout for s in (1, 2)}
    assert len(outs) == 1


def test_seeds_give_different_worlds():
    a, b = site_facts(generate(0)), site_facts(generate(1))
    assert a.hosts != b.hosts
    assert [r.version for r in a.releases] != [r.version for r in b.releases]


@pytest.mark.parametrize("seed", [0, 1, 2, 7])
def test_captures_differ_where_the_world_changed(seed):
    sf = site_facts(generate(seed))
    a, b = sf.captures
    assert a.day < b.day < generate(seed).now[:10]
    assert sf.policy_at(a.day).refund_window_days != sf.policy_at(b.day).refund_window_days
    assert sf.releases_at(a.day)[-1].version != sf.releases_at(b.day)[-1].version, "a release falls between the captures"
    assert len(sf.openings_at(a.day)) != len(sf.openings_at(b.day))
    assert any(sf.price_at(s, a.day) != sf.price_at(s, b.day) for s in sf.price_changes)
    team = next(p for p in sf.plans if p.previous_seat_cents)
    assert sf.plan_price_at(team, a.day) != sf.plan_price_at(team, b.day)
    # the current facts are what the backends serve: capture B agrees with them
    w = sf.world
    assert sf.policy_at(b.day) == w.policies.history[-1]
    assert all(sf.price_at(p.sku, b.day) == p.price_cents for p in w.shop.products)


def test_hostnames_come_from_the_facts_and_avoid_the_backends():
    sf = site_facts(generate(0))
    w = sf.world
    h = sf.hosts
    assert h.www == f"www.{w.org.domain}" and h.intranet == f"intranet.{w.org.domain}"
    assert h.docs == f"docs.{sf.package}.io" and h.catalog.endswith(w.shop.domain) and h.help.endswith(w.shop.domain)
    backend_hosts = {f"{s}.{w.org.domain}" for s in ("mail", "calendar", "chat")} | {
        f"shop.{w.shop.domain}", f"www.{w.shop.domain}", f"online.{w.bank.domain}", f"www.{w.bank.domain}",
        "api.github.com", "github.com"}
    assert not set(h.all()) & backend_hosts
    assert len(set(h.all())) == 6


def test_relative_links():
    assert relative_link("/teams/finance.html", "/people/ab.html") == "../people/ab.html"
    assert relative_link("/teams/finance.html", "/") == "../"
    assert relative_link("/", "/about.html") == "about.html"
    assert relative_link("/", "/") == "./"
    assert relative_link("/teams/", "/teams/x.html") == "x.html"
    assert relative_link("/a/b/c.html", "/a/") == "../"


@pytest.mark.parametrize("label", ["A", "B"])
def test_every_link_leads_to_a_page_of_the_world(label):
    """Browsing works: each link of each page (as the agent's browser resolves it) is a page of the same capture."""
    sf = site_facts(generate(0))
    cap = next(c for c in sf.captures if c.label == label)
    sites = site_pages(sf, cap)
    urls = {p.url for s in sites for p in s.pages}
    broken = []
    for site in sites:
        for page in site.pages:
            rendered = render_page(render_html(site, page, "2025").encode(), page.url)
            for _, _, url in rendered.links:
                target = urljoin(page.url, url)
                if urlsplit(target).hostname in sf.hosts.all() and target not in urls:
                    broken.append((page.url, target))
    assert not broken, broken[:10]
    reached, todo = set(), [f"https://{h}/" for h in sf.hosts.all()]
    by_url = {p.url: (s, p) for s in sites for p in s.pages}
    while todo:  # every page is reachable from the hosts' home pages
        url = todo.pop()
        if url in reached:
            continue
        reached.add(url)
        site, page = by_url[url]
        todo += [urljoin(url, u) for _, _, u in render_page(render_html(site, page, "x").encode(), url).links
                 if urljoin(url, u) in by_url]
    assert reached == urls


def test_tasks_are_deterministic_and_ids_stable():
    assert worldqa_tasks(0) == worldqa_tasks(0)
    ids = [t["id"] for t in worldqa_tasks(0)]
    assert ids == [t["id"] for t in worldqa_tasks(1)] == [t["id"] for t in worldqa_tasks(5)] == [i for i, _ in template_kinds()]
    assert ids == [f"worldqa-{i:03d}" for i in range(1, len(TEMPLATES) + 1)]
    assert len(ids) >= 60


def test_kinds_cover_the_issue():
    kinds = Counter(k for _, k in template_kinds())
    assert set(kinds) == {"one-hop", "multi-hop", "aggregation", "as-of", "override", "backend"}
    assert kinds["as-of"] >= 5 and kinds["override"] >= 5 and kinds["aggregation"] >= 8 and kinds["multi-hop"] >= 8
    tasks = worldqa_tasks(0)
    assert all(any(c["tool"] == "python" for c in t["oracle"]) for t in tasks if t["kind"] == "aggregation")
    assert all(any(c["args"].get("as_of") for c in t["oracle"]) for t in tasks if t["kind"] == "as-of")  # the archive
    assert all(any(c["tool"] == "http" for c in t["oracle"]) and t["world"]["backends"] for t in tasks if t["kind"] == "backend")


def test_answers_move_with_the_seed():
    for s, t in ((0, 1), (2, 3)):
        a, b = worldqa_tasks(s), worldqa_tasks(t)
        same = [x["id"] for x, y in zip(a, b, strict=True) if str(x["answer"]) == str(y["answer"])]
        assert len(same) <= 0.2 * len(a), same


@pytest.mark.parametrize("seed", [0, 1, 4, 9])
def test_tasks_load_as_a_suite(seed):
    """The loader's checks: schema, tools, grader specs, no grader an empty answer passes, oracles valid, ending in submit."""
    data = {"suite": "worldqa", "version": 1, "world": {"snapshot": "none", "tools": WEB}, "budget": {"max_steps": 20},
            "tasks": worldqa_tasks(seed)}
    suite = parse_suite(data, Path(f"<worldqa {seed}>"))
    assert len(suite.tasks) == len(TEMPLATES)
    for t in suite.tasks:
        assert t.oracle[-1]["tool"] == "submit" and t.oracle[-1]["args"]["answer"] == t.answer
        assert t.supporting_urls and all(u.startswith("https://") for u in t.supporting_urls)


def test_url_graders_point_at_pages_of_the_world():
    sf = site_facts(generate(0))
    u = SiteUrls(sf.hosts)
    pages = {p.url for s in site_pages(sf, sf.captures[1]) for p in s.pages}
    for t in worldqa_tasks(0):
        for g in t["graders"]:
            if g["type"] == "url_visited":
                urls = g["url"] if isinstance(g["url"], list) else [g["url"]]
                for url in urls:
                    assert url in pages or t["kind"] == "backend", (t["id"], url)
        for call in t["oracle"]:
            if call["tool"] == "open" and "search.airgap" not in call["args"]["url"]:
                assert call["args"]["url"] in pages, (t["id"], call)
    assert u.policies() in pages
