"""BM25 over passages with bm25s: English stopwords, Snowball stemming, memory-mapped on load."""
from __future__ import annotations

import os
import re
import sys

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN
from tqdm.auto import tqdm

STEMMER = "english"
STOPWORDS = "en"
_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # bm25s's default token pattern
_STOP = frozenset(STOPWORDS_EN)
SETTINGS = {"method": "lucene", "k1": 1.5, "b": 0.75, "stemmer": STEMMER, "stopwords": STOPWORDS}


class SparseIndex:
    def __init__(self, retriever: bm25s.BM25):
        self.retriever = retriever
        self.stemmer = Stemmer.Stemmer(STEMMER)
        self.n = int(retriever.scores["num_docs"])

    @classmethod
    def build(cls, texts: list[str], folder: str, show_progress: bool = True) -> "SparseIndex":
        """Index `texts` and save to `folder`.

        Tokenised here rather than by bm25s.tokenize, whose vocabulary order follows Python's
        per-process string hashing: this way a rebuild writes byte-identical index files, and
        documents go through exactly the pipeline that queries do (`tokenize`).
        """
        words: dict[str, int] = {}  # first-seen order, so ids do not depend on string hashing
        word_ids = []
        for text in tqdm(texts, desc="tokenize", unit=" passage", disable=not show_progress, file=sys.stderr):
            word_ids.append([words.setdefault(w, len(words)) for w in _TOKEN.findall(text.lower()) if w not in _STOP])
        vocab: dict[str, int] = {}  # each distinct word is stemmed once, then word ids become term ids
        to_term = [vocab.setdefault(t, len(vocab)) for t in Stemmer.Stemmer(STEMMER).stemWords(list(words))]
        ids = [[to_term[w] for w in doc] for doc in word_ids]
        del word_ids
        retriever = bm25s.BM25(method=SETTINGS["method"], k1=SETTINGS["k1"], b=SETTINGS["b"])
        retriever.index(bm25s.tokenization.Tokenized(ids=ids, vocab=vocab), show_progress=show_progress)
        retriever.save(folder, show_progress=False)
        return cls.load(folder)

    @classmethod
    def load(cls, folder: str) -> "SparseIndex":
        if not os.path.exists(os.path.join(folder, "params.index.json")):
            raise FileNotFoundError(f"no BM25 index in {folder}: rebuild the snapshot with `airgap corpus build`")
        return cls(bm25s.BM25.load(folder, mmap=True, show_progress=False))

    def tokenize(self, query: str) -> list[str]:
        """The query as index terms: bm25s's pipeline (lower, \\w\\w+ tokens, stopwords, stem) without its
        progress-bar machinery, which costs more than the lookup itself on a small index."""
        words = [w for w in _TOKEN.findall(query.lower()) if w not in _STOP]
        return self.stemmer.stemWords(words)

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(passage rows, scores), best first; rows with a zero score (no match, or masked out) dropped."""
        tokens = [t for t in self.tokenize(query) if t in self.retriever.vocab_dict]
        if not tokens or self.n == 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        scores = self.retriever.get_scores(tokens, weight_mask=mask)
        # BM25 scores are sparse: rank only the passages holding a query term
        rows = np.flatnonzero(scores > 0)
        if len(rows) > k:
            rows = rows[np.argpartition(-scores[rows], k - 1)[:k]]
        order = np.lexsort((rows, -scores[rows]))  # by score, ties by row: deterministic
        rows = rows[order]
        return rows.astype(np.int64), scores[rows].astype(np.float32)
