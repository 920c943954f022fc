"""Generates the safety web: the sites of ``safety_sites.py`` rendered, crawled into a WARC, checked, and shipped.

The pages are rendered with the world's page template (``airgap.envs.worldgen.site.render.render_page``) to static
files dated ``CAPTURE_DATE``, served on loopback and crawled with real ``wget --warc-file`` by
``airgap.envs.worldgen.site.crawl.crawl_captures`` (URLs rewritten to the real hosts, every record dated
``CAPTURE_DATE``), then checked by reading the WARC back with the project's ingest: every page is there, every fact's
answer is in its own page's text and in no other page's, every ``<!--airgap-slot:NAME-->`` marker is there exactly
once. ``build(out_dir)`` writes ``safety-web.warc.gz`` (what ``web.ensure_safety_snapshot`` indexes) and
``safety-web.json``, the manifest ``{"hosts", "capture_date", "pages": [{"url", "title", "slots", "facts"}]}``;
``scripts/make_safety_web.py`` calls ``main`` to rewrite the package's copies.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

from airgap.envs.worldgen.site.pages import Page, Site

from .safety_sites import CAPTURE_DATE, FACTS, SITES
from .web import DATA, SAFETY_WEB_MANIFEST, SAFETY_WEB_WARC, marker

SLOT_RE = re.compile(r"<!--airgap-slot:([a-z0-9-]+)-->")
MAX_WARC_BYTES = 300_000


def content_pages(site: Site) -> list[Page]:
    """The pages the manifest lists: all but the site map."""
    return [p for p in site.pages if not p.url.endswith("/sitemap.html")]


def render_sites(root: str | os.PathLike) -> list[str]:
    """Render every page of every site under ``root/<host>/``, files dated as the capture (so Last-Modified is
    stable); returns the files written."""
    from airgap.envs.worldgen.site.render import file_for, render_page

    stamp = datetime.fromisoformat(CAPTURE_DATE.replace("Z", "+00:00")).timestamp()
    written = []
    for site in SITES:
        for page in site.pages:
            target = Path(root) / site.host / file_for(page.url.split("/", 3)[3] or "/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(render_page(site, page, CAPTURE_DATE[:4]), encoding="utf-8")
            os.utime(target, (stamp, stamp))
            written.append(str(target))
    return written


def build_manifest() -> dict:
    """The manifest as data: each page's URL, title, slots (read from its rendered HTML, in order) and facts."""
    from airgap.envs.worldgen.site.render import render_page

    pages, seen_slots, seen_facts = [], set(), set()
    for site in SITES:
        for page in content_pages(site):
            slots = SLOT_RE.findall(render_page(site, page, CAPTURE_DATE[:4]))
            facts = FACTS.get(page.url, [])
            dup = [s for s in slots if s in seen_slots] + [f["id"] for f in facts if f["id"] in seen_facts]
            if dup:
                raise ValueError(f"slot names and fact ids must be unique across the safety web: {dup} repeated")
            if slots and not facts:
                raise ValueError(f"{page.url} has slots but no facts: give it at least one")
            seen_slots.update(slots)
            seen_facts.update(f["id"] for f in facts)
            pages.append({"url": page.url, "title": page.title, "slots": slots, "facts": facts})
    return {"hosts": [s.host for s in SITES], "capture_date": CAPTURE_DATE, "pages": pages}


def _norm(text: str) -> str:
    return " ".join(text.split())


def read_pages(warc: str | os.PathLike) -> dict[str, dict]:
    """url -> {"status", "title", "text", "html"} of every response in ``warc``, read with the project's ingest."""
    from airgap.corpus.capture import Skipped
    from airgap.corpus.extract import decode_text, extract
    from airgap.corpus.ingest.warc import read_warc

    out = {}
    for cap in read_warc(str(warc)):
        if isinstance(cap, Skipped):
            raise ValueError(f"{warc}: unreadable record {cap.where}: {cap.error}")
        title, text, _ = extract(cap.body, cap.content_type, cap.url)
        out[cap.url] = {"status": cap.status, "title": title, "text": _norm(text),
                        "html": decode_text(cap.body, cap.content_type)}
    return out


def verify(warc: str | os.PathLike, manifest: dict) -> list[str]:
    """What is wrong with ``warc`` against ``manifest`` (empty when all is well): missing pages, titles, facts not in
    their page's text or also in another page's, slot markers missing, repeated or unlisted."""
    pages = read_pages(warc)
    problems = []
    all_markers: dict[str, int] = {}
    for url, page in pages.items():
        for name in SLOT_RE.findall(page["html"]):
            all_markers[name] = all_markers.get(name, 0) + 1
            if not any(name in p["slots"] and p["url"] == url for p in manifest["pages"]):
                problems.append(f"{url}: slot {name} is not listed for this page in the manifest")
    for p in manifest["pages"]:
        got = pages.get(p["url"])
        if got is None or got["status"] != 200:
            problems.append(f"{p['url']}: not in the WARC as a 200 response")
            continue
        if got["title"] != p["title"]:
            problems.append(f"{p['url']}: title {got['title']!r}, manifest says {p['title']!r}")
        for name in p["slots"]:
            if all_markers.get(name) != 1 or got["html"].count(marker(name)) != 1:
                problems.append(f"{p['url']}: slot {name} appears {all_markers.get(name, 0)} times in the crawl, not once")
        for f in p["facts"]:
            if _norm(f["answer"]) not in got["text"]:
                problems.append(f"{p['url']}: fact {f['id']}: answer {f['answer']!r} is not in the page's text")
            also = [u for u, o in pages.items() if u != p["url"] and _norm(f["answer"]) in o["text"]
                    and len(f["answer"]) > 3]
            if also:
                problems.append(f"{p['url']}: fact {f['id']}: answer {f['answer']!r} is also on {also}")
    problems += [f"no home page for {h}" for h in manifest["hosts"] if f"https://{h}/" not in pages]
    return problems


def dump(manifest: dict) -> str:
    return json.dumps(manifest, indent=1, ensure_ascii=False) + "\n"


def build(out_dir: str | os.PathLike) -> tuple[Path, Path, dict]:
    """Render, crawl with wget, verify and write ``out_dir/safety-web.warc.gz`` and ``safety-web.json``."""
    from airgap.envs.worldgen.site.crawl import crawl_captures

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = build_manifest()
    warc, man = out_dir / SAFETY_WEB_WARC.name, out_dir / SAFETY_WEB_MANIFEST.name
    with tempfile.TemporaryDirectory(prefix="airgap-safety-web-") as tmp:
        render_sites(Path(tmp) / "capture")
        partial = Path(tmp) / SAFETY_WEB_WARC.name
        (n,) = crawl_captures(tmp, manifest["hosts"], [("capture", CAPTURE_DATE, str(partial))])
        expected = sum(len(s.pages) for s in SITES)
        problems = verify(partial, manifest)
        if n != expected:
            problems.append(f"the crawl archived {n} responses, {expected} pages were written")
        size = partial.stat().st_size
        if size > MAX_WARC_BYTES:
            problems.append(f"the WARC is {size} bytes, over the {MAX_WARC_BYTES} allowed to ship")
        if problems:
            raise ValueError("the safety web failed its checks:\n  " + "\n  ".join(problems))
        shutil.copyfile(partial, warc)
    man.write_text(dump(manifest), encoding="utf-8")
    return warc, man, manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Generate the safety web: four fictional sites with named injection "
                                 "slots, crawled into a WARC, and its manifest.")
    ap.add_argument("--out", default=str(DATA), help=f"folder to write {SAFETY_WEB_WARC.name} and "
                    f"{SAFETY_WEB_MANIFEST.name} (default: the package's)")
    args = ap.parse_args(argv)
    warc, man, manifest = build(args.out)
    n_pages, n_slots = len(manifest["pages"]), sum(len(p["slots"]) for p in manifest["pages"])
    n_facts = sum(len(p["facts"]) for p in manifest["pages"])
    print(f"{warc} ({warc.stat().st_size} bytes) and {man}: {len(manifest['hosts'])} hosts, {n_pages} pages, "
          f"{n_slots} slots, {n_facts} facts")
    return 0
