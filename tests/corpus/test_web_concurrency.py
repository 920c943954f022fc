"""A slow snapshot read in one request must not hold up other requests on the same event loop.

The sandbox gateway runs the corpus apps for every sandbox on one event loop, so a handler
that reads SQLite or zstd on the loop stalls every sandbox. Each case below makes one
request whose blocking read waits on an event that is set only after a second request,
to the same server, has been answered. With the blocking work in a worker thread the
second request is answered and releases the first; with it on the loop, the loop is stuck
inside the first and the second times out (the bounds only turn a deadlock into a failure).
Real HTTP over a real socket: uvicorn on 127.0.0.1, one event loop.
"""
from __future__ import annotations

import threading

import httpx
import pytest
from corpus_fixtures import REAL, serve_in_thread

from airgap.corpus import pages_app, search_app
from airgap.corpus.web.serve import serve_app

SECOND_REQUEST_S = 15  # how long the second request may wait for an answer before the loop counts as blocked
GATE_S = 60  # how long the first request's read waits for the second (longer than the above)
SLOW = "volcano"  # what marks the first request's read
HOST = {"Host": "fixture.example"}


class GatedSnapshot:
    """The fixture snapshot, except that a read mentioning SLOW waits for `release` (once)."""

    def __init__(self, snap):
        self._snap = snap
        self.entered = threading.Event()
        self.release = threading.Event()
        self.released: bool | None = None  # whether release came before GATE_S ran out

    def __getattr__(self, name):
        return getattr(self._snap, name)

    def _gate(self, *args) -> None:
        if self.released is None and any(SLOW in str(a) for a in args):
            self.entered.set()
            self.released = self.release.wait(GATE_S)

    def get(self, url, as_of=None):
        self._gate(url)
        return self._snap.get(url, as_of)

    def search(self, query, *args, **kwargs):
        self._gate(query)
        return self._snap.search(query, *args, **kwargs)

    def retrieve(self, queries, *args, **kwargs):
        self._gate(*queries)
        return self._snap.retrieve(queries, *args, **kwargs)


def _get(path, **kw):
    return "GET", path, kw


CASES = {
    "pages": (pages_app, _get("/volcano.html", headers=HOST), _get("/teapot.html", headers=HOST)),
    "search-api": (search_app, _get("/api/search", params={"q": "volcano"}), _get("/api/search", params={"q": "teapot"})),
    "search-html": (search_app, _get("/search", params={"q": "volcano"}), _get("/search", params={"q": "teapot"})),
    "serve-pages": (serve_app, _get("/web/" + REAL + "volcano.html"), _get("/web/" + REAL + "teapot.html")),
    "serve-host": (serve_app, _get("/volcano.html", headers=HOST), _get("/teapot.html", headers=HOST)),
    "serve-retrieve": (serve_app, ("POST", "/retrieve", {"json": {"queries": ["volcano ash"]}}),
                       ("POST", "/retrieve", {"json": {"queries": ["oolong teapot"]}})),
}


@pytest.mark.parametrize("case", list(CASES))
def test_slow_read_does_not_block_the_loop(site_snapshot, case):
    make_app, (m1, p1, kw1), (m2, p2, kw2) = CASES[case]
    snap = GatedSnapshot(site_snapshot)
    first: list = []
    with serve_in_thread(make_app(snap)) as base, httpx.Client(base_url=base, trust_env=False) as client:
        def slow_request():
            with httpx.Client(base_url=base, trust_env=False, timeout=GATE_S + 30) as c:
                first.append(c.request(m1, p1, **kw1))

        t = threading.Thread(target=slow_request, daemon=True)
        t.start()
        try:
            assert snap.entered.wait(GATE_S), "the first request never reached its read"
            try:
                second = client.request(m2, p2, timeout=SECOND_REQUEST_S, **kw2)
            except httpx.TimeoutException:
                pytest.fail(f"{case}: a second request got no answer while the first one's read was blocked: "
                            "the handler does blocking work on the event loop")
        finally:
            snap.release.set()  # only now: the first request's read goes on
        t.join(GATE_S + 30)
    assert second.status_code == 200, second.text
    assert snap.released is True
    assert first and first[0].status_code == 200, first


def test_page_reads_from_many_threads_at_once(site_snapshot):
    """The apps read pages from worker threads: each thread's reads must come back whole and right."""
    from concurrent.futures import ThreadPoolExecutor

    urls = [REAL + n for n in ("index.html", "volcano.html", "teapot.html", "cafe.html", "gz.html", "chunked.html")]
    expected = {u: site_snapshot.get(u).body for u in urls}

    def read(i: int) -> bool:
        u = urls[i % len(urls)]
        return site_snapshot.get(u).body == expected[u]

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(read, range(600)))
