"""Make WARC files from folders of HTML: serve on loopback, crawl with wget, rewrite URLs.

This is how the bundled default snapshot's WARCs were made (see data/README.md), and
how tests make real `wget --warc-file` archives. Only loopback is ever contacted.
"""
from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from .urls import UrlMap
from .warcwriter import rewrite_warc

# The sites of the default snapshot: a Debian docs folder, its real URL prefix, what to leave out.
# Left out: non-HTML assets, generated indexes and changelogs (big and poor search results).
_ASSETS = r"\.(css|js|png|gif|jpg|jpeg|svg|ico|txt|zip|pdf|gz|bz2|inv|tcl|c|h|py)(\?.*)?$"


@dataclass(frozen=True)
class Site:
    name: str
    root: str
    real_prefix: str
    start: str
    reject: str


DEFAULT_SITES = [
    Site("docs.python.org", "/usr/share/doc/python3.11/html", "https://docs.python.org/3.11/", "index.html",
         r"(/_(sources|static|images|downloads)/|/genindex|/whatsnew/|/distutils/|/install/|/search\.html"
         r"|/download\.html|/py-modindex\.html|/c-api/)|" + _ASSETS),
    Site("www.sqlite.org", "/usr/share/doc/sqlite3", "https://www.sqlite.org/", "index.html",
         r"(/releaselog/|/c3ref/|/images/|changes\.html|chronology\.html|/doc_|fileio\.html)|" + _ASSETS),
]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's name
        pass


@contextlib.contextmanager
def serve_directory(root: str) -> Iterator[str]:
    """Serve `root` over HTTP on 127.0.0.1 (a free port) in a thread; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=root)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def wget_warc(start_url: str, warc_path: str, reject_regex: str | None = None, level: str = "inf") -> str:
    """Crawl `start_url` recursively with `wget --warc-file`; returns the .warc.gz path written.

    Only ever point this at a loopback server you started (see `serve_directory`).
    """
    if shutil.which("wget") is None:
        raise RuntimeError("wget is not installed: apt-get install wget")
    stem = warc_path[: -len(".warc.gz")] if warc_path.endswith(".warc.gz") else warc_path
    with tempfile.TemporaryDirectory() as tmp:
        cmd = ["wget", "--recursive", f"--level={level}", "--no-parent", "-e", "robots=off", "--no-verbose",
               "--no-warc-keep-log", f"--warc-file={stem}", f"--directory-prefix={tmp}", "--no-host-directories"]
        if reject_regex:
            cmd.append(f"--reject-regex={reject_regex}")
        cmd.append(start_url)
        proc = subprocess.run(cmd, capture_output=True, text=True)
        # wget exits 8 when some link was a 404: normal for a crawl, the 404 is archived too
        if proc.returncode not in (0, 8):
            raise RuntimeError(f"wget failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return stem + ".warc.gz"


def crawl_site(site: Site, out_path: str) -> int:
    """Serve one folder on loopback, crawl it, write a WARC whose URLs are the real ones."""
    with serve_directory(site.root) as base, tempfile.TemporaryDirectory() as tmp:
        raw = wget_warc(base + site.start, os.path.join(tmp, "raw.warc.gz"), site.reject)
        return rewrite_warc(raw, out_path, UrlMap([(base, site.real_prefix)]))


def make_default_warcs(out_dir: str, sites: list[Site] = DEFAULT_SITES) -> list[str]:
    """(Re)generate the WARC files of the bundled default snapshot into `out_dir`."""
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for site in sites:
        if not os.path.isdir(site.root):
            raise RuntimeError(f"{site.root} is missing: apt-get install python3.11-doc sqlite3-doc")
        path = os.path.join(out_dir, f"{site.name}.warc.gz")
        crawl_site(site, path)
        paths.append(path)
    return paths
