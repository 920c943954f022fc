"""Passages: the units that search indexes and returns.

A page's main text is cut into chunks of about `WORDS` words on paragraph boundaries
(a long paragraph is cut on word boundaries). The indexed text is the page title
followed by the chunk, so a passage that never repeats the title still matches it.
A passage id is a hash of the page's (url, date) plus the chunk number: stable across
rebuilds of the same inputs, and unique across captures of one URL.
"""
from __future__ import annotations

import hashlib
import re

import Stemmer

WORDS = 120
_stemmer = Stemmer.Stemmer("english")
_WORD = re.compile(r"\w\w+", re.UNICODE)
_PUNCT = "".join(chr(c) for c in range(128) if not chr(c).isalnum())


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


def stem(word: str) -> str:
    return _stemmer.stemWord(word.lower())


def query_stems(query: str) -> set[str]:
    return set(_stemmer.stemWords(_WORD.findall(query.lower())))


def snippet(text: str, stems: set[str], width: int = 40) -> str:
    """The `width`-word window of `text` holding the most query-term occurrences (matched by stem)."""
    words = text.split()
    if len(words) <= width:
        return " ".join(words)
    # stem only words sharing their first three letters with a query stem (Snowball keeps those)
    heads = {s[:3] for s in stems}
    norm = [w.strip(_PUNCT) for w in text.lower().split()]
    cand = [i for i, w in enumerate(norm) if w[:3] in heads]
    keys = _stemmer.stemWords([norm[i] for i in cand])
    hits = [i for i, key in zip(cand, keys, strict=False) if key in stems]
    best, best_count, lo = 0, 0, 0
    for hi, pos in enumerate(hits):  # two pointers over match positions: most matches within `width` words
        while pos - hits[lo] >= width:
            lo += 1
        if hi - lo + 1 > best_count:
            best, best_count = hits[lo], hi - lo + 1
    best = max(0, min(best - width // 4, len(words) - width))  # a little context before the first match
    out = " ".join(words[best : best + width])
    return ("… " if best > 0 else "") + out + (" …" if best + width < len(words) else "")
