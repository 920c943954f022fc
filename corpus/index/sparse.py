"""BM25 over passages with bm25s: terms from the corpus tokenizer, memory-mapped on load."""
from __future__ import annotations

import os

import bm25s
import numpy as np

from .. import tokenizer
from ..progress import step, track

SETTINGS = {"method": "lucene", "k1": 1.5, "b": 0.75, "stemmer": tokenizer.STEMMER, "stopwords": tokenizer.STOPWORDS}


class SparseIndex:
    def __init__(self, retriever: bm25s.BM25):
        self.retriever = retriever
        self.n = int(retriever.scores["num_docs"])

    @classmethod
    def build(cls, texts: list[str], folder: str, show_progress: bool = True) -> SparseIndex:
        """Index `texts` and save to `folder`.

        Tokenised here rather than by bm25s.tokenize, whose vocabulary order follows Python's
        per-process string hashing: this way a rebuild writes byte-identical index files, and
        documents go through exactly the pipeline that queries do (`tokenizer.terms`).
        """
        words: dict[str, int] = {}  # first-seen order, so ids do not depend on string hashing
        word_ids = []
        for text in track(texts, "tokenize", enabled=show_progress):
            word_ids.append([words.setdefault(w, len(words)) for w in tokenizer.words(text)])
        vocab: dict[str, int] = {}  # each distinct word is stemmed once, then word ids become term ids
        to_term = [vocab.setdefault(t, len(vocab)) for t in tokenizer.stem_words(list(words))]
        ids = [[to_term[w] for w in doc] for doc in word_ids]
        del word_ids
        retriever = bm25s.BM25(method=SETTINGS["method"], k1=SETTINGS["k1"], b=SETTINGS["b"])
        with step("bm25 index", enabled=show_progress):
            retriever.index(bm25s.tokenization.Tokenized(ids=ids, vocab=vocab), show_progress=False)
        retriever.save(folder, show_progress=False)
        return cls.load(folder)

    @classmethod
    def load(cls, folder: str) -> SparseIndex:
        if not os.path.exists(os.path.join(folder, "params.index.json")):
            raise FileNotFoundError(f"no BM25 index in {folder}: rebuild the snapshot with `airgap corpus build`")
        return cls(bm25s.BM25.load(folder, mmap=True, show_progress=False))

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(passage rows, scores), best first; rows with a zero score (no match, or masked out) dropped.

        The query is tokenised by `tokenizer.terms`, not bm25s.tokenize, whose progress-bar
        machinery costs more than the look-up itself on a small index.
        """
        tokens = [t for t in tokenizer.terms(query) if t in self.retriever.vocab_dict]
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
