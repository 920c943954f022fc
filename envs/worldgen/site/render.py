"""Writes a world's sites as they stood on one capture date to a folder of static HTML files, one sub-folder per host.

``write_sites(sf, capture, root)`` renders every :class:`~.pages.Page` with the Jinja template beside this module
(``site/page.html.j2`` of the package's one environment, :mod:`airgap.envs.templates`) and
writes it to ``root/<host>/<path>`` (``/`` and folder URLs become ``index.html``). Links to the same host are written
relative (so the pages browse correctly wherever they are served, loopback included); links to other hosts are
absolute real URLs. Every file's mtime is set to the capture's timestamp, so a crawl's ``Last-Modified`` headers are
the capture date. Same facts and capture, same bytes.
"""
from __future__ import annotations

import os
import posixpath
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from airgap.envs.templates import register_templates, render

from .content import Capture, SiteFacts
from .pages import Page, Site, site_pages

TEMPLATES = Path(__file__).resolve().parent / "templates"
register_templates("site", TEMPLATES)  # the package's one Jinja environment serves them as site/<name>


def relative_link(from_path: str, to_path: str) -> str:
    """The relative href from the page at ``from_path`` to ``to_path`` (both absolute paths on one host)."""
    from_dir = from_path.rsplit("/", 1)[0] + "/"
    to_dir, _, name = to_path.rpartition("/")
    rel = posixpath.relpath(to_dir + "/", from_dir)
    rel = "" if rel == "." else rel + "/"
    return (rel + name) or "./"


def file_for(path: str) -> str:
    """The file under a host's folder that serves URL path ``path``."""
    return path.lstrip("/") + "index.html" if path.endswith("/") else path.lstrip("/")


def render_page(site: Site, page: Page, year: str) -> str:
    here = urlsplit(page.url)

    def href(url: str) -> str:
        parts = urlsplit(url)
        return relative_link(here.path, parts.path) if parts.hostname == here.hostname else url

    return render("site/page.html.j2", page=page, site=site, href=href, home=f"https://{site.host}/",
                              sitemap=f"https://{site.host}/sitemap.html", year=year)


def write_sites(sf: SiteFacts, capture: Capture, root: str | os.PathLike) -> list[str]:
    """Write every page of every site as of ``capture`` under ``root``; returns the files written, sorted."""
    root = Path(root)
    stamp = datetime.fromisoformat(capture.timestamp.replace("Z", "+00:00")).timestamp()
    written = []
    for site in site_pages(sf, capture):
        for page in site.pages:
            parts = urlsplit(page.url)
            target = root / parts.hostname / file_for(parts.path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(render_page(site, page, capture.day[:4]), encoding="utf-8")
            os.utime(target, (stamp, stamp))
            written.append(str(target))
    return sorted(written)
