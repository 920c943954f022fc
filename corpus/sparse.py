"""BM25 over passages with bm25s: English stopwords, Snowball stemming, memory-mapped on load."""
from __future__ import annotations

import os

import bm25s
import numpy as np
import Stemmer

STEMMER = "english"
STOPWORDS = "en"
SETTINGS = {"method": "lucene", "k1": 1.5, "b": 0.75, "stemmer": STEMMER, "stopwords": STOPWORDS}


class SparseIndex:
    def __init__(self, retriever: bm25s.BM25):
        self.retriever = retriever
        self.stemmer = Stemmer.Stemmer(STEMMER)
        self.n = int(retriever.scores["num_docs"])

    @classmethod
    def build(cls, texts: list[str], folder: str, show_progress: bool = True) -> "SparseIndex":
        stemmer = Stemmer.Stemmer(STEMMER)
        tokens = bm25s.tokenize(texts, stopwords=STOPWORDS, stemmer=stemmer, show_progress=show_progress)
        retriever = bm25s.BM25(method=SETTINGS["method"], k1=SETTINGS["k1"], b=SETTINGS["b"])
        retriever.index(tokens, show_progress=show_progress)
        retriever.save(folder, show_progress=False)
        return cls.load(folder)

    @classmethod
    def load(cls, folder: str) -> "SparseIndex":
        if not os.path.exists(os.path.join(folder, "params.index.json")):
            raise FileNotFoundError(f"no BM25 index in {folder}: rebuild the snapshot with `airgap corpus build`")
        return cls(bm25s.BM25.load(folder, mmap=True, show_progress=False))

    def tokenize(self, query: str) -> list[str]:
        return bm25s.tokenize([query], stopwords=STOPWORDS, stemmer=self.stemmer, return_ids=False,
                              show_progress=False)[0]

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(passage rows, scores), best first; rows with a zero score (no match, or masked out) dropped."""
        tokens = [t for t in self.tokenize(query) if t in self.retriever.vocab_dict]
        if not tokens or self.n == 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        rows, scores = self.retriever.retrieve([tokens], k=min(k, self.n), show_progress=False, n_threads=0,
                                               weight_mask=mask)
        rows, scores = rows[0], scores[0]
        keep = scores > 0
        return rows[keep].astype(np.int64), scores[keep].astype(np.float32)
