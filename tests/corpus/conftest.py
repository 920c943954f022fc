"""Session fixtures: a tiny site served on loopback and crawled with the real `wget --warc-file`.

Network rule: the only listeners contacted are the ones these fixtures start on 127.0.0.1.
"""
from __future__ import annotations

import functools
import http.server
import shutil
import threading

import pytest
from corpus_fixtures import REAL, Handler, write_site

from airgap.corpus.build import build_snapshot
from airgap.corpus.crawl import wget_warc


@pytest.fixture(scope="session")
def site_warc(tmp_path_factory):
    """(warc path, base URL it was crawled from): a real wget crawl of a loopback server."""
    if shutil.which("wget") is None:
        pytest.fail("wget not installed: apt-get install wget (scripts/setup.sh does)")
    tmp = tmp_path_factory.mktemp("site")
    root = str(tmp / "www")
    write_site(root)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=root))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        path = wget_warc(base + "index.html", str(tmp / "site.warc.gz"))
    finally:
        server.shutdown()
        server.server_close()
    return path, base



@pytest.fixture(scope="session")
def site_snapshot(site_warc, tmp_path_factory):
    path, base = site_warc
    out = tmp_path_factory.mktemp("snaps") / "site"
    return build_snapshot([path], str(out), url_map=[f"{base}={REAL}"], progress=False)
