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


def query_stems(query: str) -> set[str]:
    return set(_stemmer.stemWords(_WORD.findall(query.lower())))


def snippet(text: str, stems: set[str], width: int = 40) -> str:
    """The `width`-word window of `text` holding the most distinct query terms (by stem)."""
    words = text.split()
    if len(words) <= width:
        return " ".join(words)
    keys = _stemmer.stemWords([(_WORD.findall(w.lower()) or [""])[0] for w in words])
    best, best_score = 0, -1
    for start in range(0, len(words) - width + 1, max(1, width // 4)):
        score = len(stems.intersection(keys[start : start + width]))
        if score > best_score:
            best, best_score = start, score
    out = " ".join(words[best : best + width])
    return ("… " if best > 0 else "") + out + (" …" if best + width < len(words) else "")
