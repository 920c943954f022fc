"""One tokenizer: BM25, snippets and the search page's highlighting agree on what a query term is."""
from __future__ import annotations

from starlette.testclient import TestClient

from airgap.corpus import SEARCH_HOST, search_app
from airgap.corpus.passages import snippet
from airgap.corpus.tokenizer import query_stems, terms
from airgap.corpus.web.search import highlight


def test_terms_lowercase_drop_stopwords_and_stem():
    assert terms("The Teapots are KEEPING tea warm") == ["teapot", "keep", "tea", "warm"]
    assert terms("json.dumps(obj, indent=2)") == ["json", "dump", "obj", "indent"]
    assert query_stems("the teapot teapots") == {"teapot"}


def test_snippet_finds_terms_inside_punctuated_words():
    filler = " ".join(f"filler{i}" for i in range(150))
    text = f"{filler} then call json.dumps(obj) to write it {filler}"
    out = snippet(text, query_stems("dumps"), width=40)
    assert "json.dumps(obj)" in out and out.startswith("… ")


def test_highlight_marks_what_bm25_matched():
    html = str(highlight("The teapot keeps the tea warm; json.dumps(x).", query_stems("the teapots dump")))
    assert "<b>teapot</b>" in html and "json.<b>dumps</b>(x)" in html
    assert "<b>The</b>" not in html and "<b>the</b>" not in html  # a stopword is no term: BM25 ignored it too


def test_search_page_highlights_terms_not_stopwords(site_snapshot):
    c = TestClient(search_app(site_snapshot), base_url=f"https://{SEARCH_HOST}")
    html = c.get("/search", params={"q": "the porcelain teapots"}).text
    assert "<b>teapot</b>" in html and "<b>porcelain</b>" in html.lower()
    assert "<b>the</b>" not in html.lower()
