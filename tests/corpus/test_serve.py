"""The serving apps: search engine, archived pages, world routes, `corpus serve` over real HTTP."""
from __future__ import annotations

import httpx
import pytest
from corpus_fixtures import CAFE, REAL, serve_in_thread
from starlette.testclient import TestClient

from airgap.corpus import SEARCH_HOST, pages_app, search_app, world_routes
from airgap.corpus.web.serve import serve_app


def test_search_api_and_html(site_snapshot):
    c = TestClient(search_app(site_snapshot), base_url=f"https://{SEARCH_HOST}")
    r = c.get("/api/search", params={"q": "oolong teapot", "k": 2})
    assert r.status_code == 200
    body = r.json()
    assert body["query"] == "oolong teapot"
    assert body["hits"][0]["url"] == REAL + "teapot.html"
    assert {"url", "title", "snippet", "score"} <= set(body["hits"][0])
    html = c.get("/search", params={"q": "oolong teapot"}).text
    assert "Porcelain teapots" in html and "<b>oolong</b>" in html
    assert c.get("/").status_code == 200
    assert c.get("/api/search", params={"q": "x", "mode": "nope"}).status_code == 400
    assert c.get("/api/search", params={"q": "x", "mode": "dense"}).status_code == 400  # no dense index here


def test_pages_app_serves_original_response(site_snapshot):
    c = TestClient(pages_app(site_snapshot), base_url="https://fixture.example")
    r = c.get("/cafe.html")
    assert r.status_code == 200 and r.content == CAFE
    assert r.headers["content-type"] == "text/html"  # exactly as archived, no charset added
    assert "memento-datetime" in r.headers
    r = c.get("/missing.html")  # archived 404 is served as a 404 with the archived body
    assert r.status_code == 404 and "File not found" in r.text
    r = c.get("/never-crawled.html")
    assert r.status_code == 404 and "Not in this snapshot" in r.text


def test_world_routes(site_snapshot):
    routes = world_routes(site_snapshot)
    assert set(routes) == {SEARCH_HOST, "fixture.example"}


@pytest.fixture
def live_server(site_snapshot):
    with serve_in_thread(serve_app(site_snapshot)) as base:
        yield base


def test_corpus_serve_over_http(live_server):
    with httpx.Client(base_url=live_server, trust_env=False) as c:
        hits = c.get("/api/search", params={"q": "volcano ash"}).json()["hits"]
        assert hits[0]["url"] == REAL + "volcano.html"
        assert "/web/https://fixture.example/volcano.html" in c.get("/search", params={"q": "volcano"}).text
        r = c.get("/web/" + REAL + "cafe.html")
        assert r.status_code == 200 and r.content == CAFE
        r = c.get("/volcano.html", headers={"Host": "fixture.example"})
        assert r.status_code == 200 and b"Eyjafjallajokull" in r.content
        r = c.post("/retrieve", json={"queries": ["oolong tea", "hydrogen zeppelin"], "topk": 2,
                                      "return_scores": True})
        result = r.json()["result"]
        assert len(result) == 2
        doc = result[0][0]
        assert doc["document"]["contents"].startswith('"Porcelain teapots"\n') and doc["score"] > 0
        assert "id" in doc["document"]
        plain = c.post("/retrieve", json={"queries": ["oolong tea"], "topk": 1}).json()["result"]
        assert set(plain[0][0]) >= {"id", "contents"}
        assert c.post("/retrieve", json={"queries": "not a list"}).status_code == 400
