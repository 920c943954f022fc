"""Passages: cutting page text into the chunks that search indexes and returns, and their snippets.

A page's main text is cut into chunks of about `WORDS` words on paragraph boundaries
(a long paragraph is cut on word boundaries). The indexed text is the page title
followed by the chunk, so a passage that never repeats the title still matches it.
A passage id is a hash of the page's (url, date) plus the chunk number: stable across
rebuilds of the same inputs, and unique across captures of one URL.
"""
from __future__ import annotations

import functools
import hashlib
import re

from .tokenizer import is_stopword, stem_words

WORDS = 120


def passage_id(url: str, date: str, n: int) -> str:
    return f"{hashlib.sha256(f'{url} {date}'.encode()).hexdigest()[:16]}-{n}"


def chunk_text(text: str, words: int = WORDS) -> list[str]:
    """Split text into chunks of at most `words` words, keeping paragraphs together where they fit."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for para in text.split("\n"):
        tokens = para.split()
        if not tokens:
            continue
        while len(tokens) > words:  # a paragraph longer than a chunk: flush, then cut it
            if current:
                chunks.append("\n".join(current))
                current, size = [], 0
            chunks.append(" ".join(tokens[:words]))
            tokens = tokens[words:]
        if size + len(tokens) > words and current:
            chunks.append("\n".join(current))
            current, size = [], 0
        current.append(" ".join(tokens))
        size += len(tokens)
    if current:
        chunks.append("\n".join(current))
    return chunks


@functools.lru_cache(maxsize=256)
def _term_starts(stems: frozenset[str]) -> re.Pattern:
    """Finds, in lower-cased text, the runs of word characters that begin like one of `stems`."""
    heads = {s[:3] for s in stems}
    return re.compile("(?:" + "|".join(sorted(map(re.escape, heads))) + r")\w*")


def _matching_words(words: list[str], stems: set[str]) -> list[int]:
    """Indexes in `words` (a text's whitespace-separated words) of those holding a token whose term is in `stems`.

    Only tokens that begin like a query stem are stemmed (Snowball keeps a word's first
    letters), found by one regular-expression scan; with the words joined by single spaces,
    a token's word index is the number of spaces before it.
    """
    if not stems:
        return []
    low = " ".join(words).lower()
    cand: list[tuple[int, str]] = []
    for m in _term_starts(frozenset(stems)).finditer(low):
        pos, w = m.start(), m.group()
        if pos and (low[pos - 1].isalnum() or low[pos - 1] == "_"):
            continue  # inside a longer token: not where a token starts
        if len(w) > 1 and not is_stopword(w):
            cand.append((low.count(" ", 0, pos), w))
    keys = stem_words([w for _, w in cand])
    return sorted({i for (i, _), key in zip(cand, keys, strict=True) if key in stems})


def snippet(text: str, stems: set[str], width: int = 40) -> str:
    """The `width`-word window of `text` holding the most query-term occurrences (matched by stem).

    Words are the whitespace-separated ones shown; a word matches when a term the tokenizer
    finds inside it is one of `stems` (so "json.dumps()" matches a query for "dumps").
    """
    words = text.split()
    if len(words) <= width:
        return " ".join(words)
    hits = _matching_words(words, stems)
    best, best_count, lo = 0, 0, 0
    for hi, pos in enumerate(hits):  # two pointers over match positions: most matches within `width` words
        while pos - hits[lo] >= width:
            lo += 1
        if hi - lo + 1 > best_count:
            best, best_count = hits[lo], hi - lo + 1
    best = max(0, min(best - width // 4, len(words) - width))  # a little context before the first match
    out = " ".join(words[best : best + width])
    return ("… " if best > 0 else "") + out + (" …" if best + width < len(words) else "")
