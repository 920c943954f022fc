"""The one tokenizer: text to index terms, shared by passages (snippets), BM25 and the search app.

A term is a lower-cased run of two or more word characters (bm25s's default token
pattern), not an English stopword (bm25s's list), reduced by the Snowball English
stemmer. Documents at build time and queries at search time go through `terms`, and
snippets and highlighting decide what matched with `stem_words` on the same `words`,
so what is bold on a results page is what BM25 scored.
"""
from __future__ import annotations

import re
import threading

import Stemmer
from bm25s.stopwords import STOPWORDS_EN

STEMMER = "english"  # recorded in the manifest's index settings
STOPWORDS = "en"
TOKEN = re.compile(r"\b\w\w+\b")  # bm25s's default token pattern (str patterns are Unicode-aware)
_STOP = frozenset(STOPWORDS_EN)
_local = threading.local()  # a PyStemmer object must not be used by two threads at once


def _stemmer() -> Stemmer.Stemmer:
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = Stemmer.Stemmer(STEMMER)
    return stemmer


def is_stopword(word: str) -> bool:
    """Whether a lower-cased word is left out of the index."""
    return word in _STOP


def words(text: str) -> list[str]:
    """The words of `text` that become terms, lower-cased and not yet stemmed, in order."""
    return [w for w in TOKEN.findall(text.lower()) if w not in _STOP]


def stem_words(ws: list[str]) -> list[str]:
    """Stems of already lower-cased words, one per word."""
    return _stemmer().stemWords(ws)


def stem(word: str) -> str:
    return _stemmer().stemWord(word.lower())


def terms(text: str) -> list[str]:
    """`text` as index terms, in order, repeats kept: what BM25 indexes and queries with."""
    return stem_words(words(text))


def query_stems(query: str) -> frozenset[str]:
    """The distinct terms of a query: what a snippet or a highlight counts as a match."""
    return frozenset(terms(query))


def matches(word: str, stems: set[str]) -> bool:
    """Whether one token (as `TOKEN` finds it) is a term in `stems`."""
    w = word.lower()
    return w not in _STOP and stem(w) in stems
