"""Crawls folders of rendered sites on loopback with ``wget --warc-file`` into WARCs, each dated as its capture.

Each capture folder holds one sub-folder per host (see ``render.py``). Their parent is served on 127.0.0.1 (an
ephemeral port, a server started and stopped here) by ``airgap.corpus.crawl.serve_directory``, and each capture is
crawled from a start page that links every host's home and site map, with ``airgap.corpus.crawl.wget_warc``.
``airgap.corpus.warcwriter.rewrite_warc`` then maps ``http://127.0.0.1:PORT/<capture>/<host>/`` to
``https://<host>/``; a last pass drops what is not under a site (the start page) and sets every record's
``WARC-Date`` to the capture's timestamp, so that a snapshot built from several captures can answer ``as_of``
queries. Only loopback is ever contacted.
"""
from __future__ import annotations

import html
import os
import tempfile
from pathlib import Path

from fastwarc.warc import ArchiveIterator, WarcRecordType

from airgap.corpus.crawl import serve_directory, wget_warc
from airgap.corpus.urls import UrlMap
from airgap.corpus.warcwriter import rewrite_warc, write_record

START_PAGE = "airgap-crawl-start.html"


def _start_page(root: Path, hosts: list[str]) -> None:
    links = "".join(f'<li><a href="{html.escape(h)}/">{html.escape(h)}</a> '
                    f'<a href="{html.escape(h)}/sitemap.html">site map</a></li>' for h in hosts)
    (root / START_PAGE).write_text(f"<!doctype html><title>crawl</title><ul>{links}</ul>\n", encoding="utf-8")


def redate_warc(src: str, dst: str, date: str, keep_prefixes: tuple[str, ...]) -> int:
    """Copy ``src`` to ``dst`` with every record's WARC-Date set to ``date`` (ISO 8601 UTC), keeping the warcinfo
    record and the response/revisit records whose target URI starts with one of ``keep_prefixes``. Returns records written."""
    n = 0
    with open(src, "rb") as f, open(dst, "wb") as out:
        for rec in ArchiveIterator(f, record_types=WarcRecordType.any_type, parse_http=False):
            rtype = rec.headers.get("WARC-Type")
            uri = (rec.headers.get("WARC-Target-URI") or "").strip().strip("<>")
            if rtype != "warcinfo" and not uri.startswith(keep_prefixes):
                continue
            headers = [(k, date if k == "WARC-Date" else v) for k, v in rec.headers.astuples()]
            write_record(out, headers, rec.reader.read())
            n += 1
    return n


def crawl_captures(root: str | os.PathLike, hosts: list[str], captures: list[tuple[str, str, str]]) -> list[int]:
    """Serve ``root`` on loopback once and crawl each capture folder in it with wget into a WARC with real URLs.

    ``captures`` holds ``(folder, date, out_warc)``: ``root/folder`` has one sub-folder per host (``write_sites``),
    ``date`` is the capture's ISO 8601 UTC timestamp. Returns the number of pages (response records) of each WARC."""
    root = Path(root)
    for folder, _, _ in captures:
        missing = [h for h in hosts if not (root / folder / h).is_dir()]
        if missing:
            raise FileNotFoundError(f"{root / folder} has no folder for {missing}: render the sites first (write_sites)")
        _start_page(root / folder, hosts)
    counts = []
    with tempfile.TemporaryDirectory(prefix="airgap-crawl-") as tmp:
        with serve_directory(str(root)) as base:  # one server for every capture: stopping it costs a poll interval
            raws = [wget_warc(f"{base}{folder}/{START_PAGE}", os.path.join(tmp, f"raw-{i}.warc.gz"))
                    for i, (folder, _, _) in enumerate(captures)]
        for i, ((folder, date, out), raw) in enumerate(zip(captures, raws, strict=True)):
            mapped = os.path.join(tmp, f"mapped-{i}.warc.gz")
            rewrite_warc(raw, mapped, UrlMap([(f"{base}{folder}/{h}/", f"https://{h}/") for h in hosts]))
            counts.append(redate_warc(mapped, out, date, tuple(f"https://{h}/" for h in hosts)) - 1)  # less warcinfo
    return counts
