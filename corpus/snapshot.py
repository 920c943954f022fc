"""Reading a snapshot: `Snapshot` opens a built folder (see build.py) for page look-ups and search.

Captures of one URL at several dates are all kept. Each passage is valid from its
capture's date until the next capture of the same URL, so "as of" a date is a mask over
passages, and the default (the latest capture) is the mask of passages valid forever.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import asdict, dataclass

import numpy as np

from .capture import as_of_key
from .index.fusion import rrf
from .index.sparse import SparseIndex
from .passages import snippet
from .store import Page, Store
from .tokenizer import query_stems
from .urls import normalize_url

FORMAT = "airgap-snapshot/1"
FOREVER = np.iinfo(np.int64).max
MODES = ("bm25", "dense", "hybrid")
PASSAGE_DTYPE = np.dtype([("page", "<i4"), ("url", "<i4"), ("valid_from", "<i8"), ("valid_until", "<i8")])


@dataclass
class Hit:
    url: str
    title: str
    snippet: str
    score: float
    passage_id: str
    date: str
    text: str  # the whole passage (without the title)

    def to_dict(self) -> dict:
        return asdict(self)


class Snapshot:
    """A built snapshot, opened read-only. Safe to share between threads."""

    def __init__(self, path: str, *, dense_model: str | None = None, device: str = "cpu"):
        """`dense_model` overrides the encoder folder recorded at build time (when the snapshot moved machines)."""
        self.path = os.path.abspath(path)
        self._dense_model, self._device = dense_model, device
        mpath = os.path.join(self.path, "manifest.json")
        if not os.path.exists(mpath):
            raise FileNotFoundError(f"{path} is not a snapshot (no manifest.json): build one with `airgap corpus build`"
                                    " or `airgap corpus build-default`")
        with open(mpath, "rb") as f:
            raw = f.read()
        self.manifest: dict = json.loads(raw)
        if self.manifest.get("format") != FORMAT:
            raise ValueError(f"{path} has format {self.manifest.get('format')!r}, this code reads {FORMAT}: rebuild it")
        self.manifest_hash = hashlib.sha256(raw).hexdigest()
        self.store = Store(self.path)
        self.meta = np.load(os.path.join(self.path, "passages.npy"), mmap_mode="r")
        self._url_of = np.array(self.meta["url"])  # read per hit while ranking: keep it in RAM (4 B/passage)
        self.sparse = SparseIndex.load(os.path.join(self.path, "bm25"))
        self._dense = None
        self._dense_lock = threading.Lock()
        self._hosts: list[str] | None = None
        # the mask of the latest captures; None when every URL has one capture (no masking needed)
        self._latest = None if (self.meta["valid_until"] == FOREVER).all() else self._mask(None)

    @classmethod
    def open(cls, path: str, **kwargs) -> "Snapshot":
        return cls(path, **kwargs)

    def __repr__(self) -> str:
        c = self.manifest["counts"]
        return f"Snapshot({self.path!r}, urls={c['urls']}, passages={c['passages']})"

    # ------------------------------------------------------------ pages
    def get(self, url: str, as_of: str | None = None) -> Page | None:
        """The capture of `url` current at `as_of` (default: the latest), or None if absent."""
        try:
            url = normalize_url(url)
        except ValueError:
            return None
        return self.store.get(url, as_of)

    def dates(self, url: str) -> list[str]:
        """Every crawl date of `url`, oldest first."""
        try:
            return self.store.dates(normalize_url(url))
        except ValueError:
            return []

    def hosts(self) -> list[str]:
        """Every host with a capture, sorted (read once: a snapshot never changes)."""
        if self._hosts is None:
            self._hosts = self.store.hosts()
        return list(self._hosts)

    # ------------------------------------------------------------ search
    def _mask(self, as_of: str | None) -> np.ndarray:
        t = as_of_key(as_of)
        t = FOREVER - 1 if t is None else t
        return ((self.meta["valid_from"] <= t) & (t < self.meta["valid_until"])).astype(np.float32)

    @property
    def dense(self):
        if self._dense is None:
            if "dense" not in self.manifest["index"]:
                raise ValueError(f"{self.path} has no dense index: rebuild with --dense-model PATH, or use mode='bm25'")
            with self._dense_lock:  # first dense query: load once, even when threads race
                if self._dense is None:
                    from .index.dense import DenseIndex

                    self._dense = DenseIndex.load(os.path.join(self.path, "dense"), self._device, self._dense_model)
        return self._dense

    def search(self, query: str, k: int = 10, mode: str = "bm25", as_of: str | None = None,
               per_page: bool = True) -> list[Hit]:
        """Top `k` hits for `query`; one hit per page unless per_page=False (then one per passage)."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        k = max(1, int(k))
        mask = self._latest if as_of is None else self._mask(as_of)
        want = k * 4 + 10 if per_page else k
        while True:
            if mode == "bm25":
                rows, scores = self.sparse.search(query, want, mask)
            elif mode == "dense":
                rows, scores = self.dense.search(query, want, mask)
            else:
                rows, scores = self._hybrid(query, want, mask)
            chosen = self._choose(rows, scores, k, per_page)
            # one page can hold many of the best passages: ask for more until k pages or no more passages
            if len(chosen) == k or len(rows) < want or want >= len(self.meta):
                break
            want *= 4
        return self._hits(query, chosen)

    def _hybrid(self, query: str, want: int, mask) -> tuple[np.ndarray, np.ndarray]:
        sparse_rows, _ = self.sparse.search(query, want, mask)
        dense_rows, _ = self.dense.search(query, want, mask)
        return rrf([sparse_rows, dense_rows], want)

    def _choose(self, rows: np.ndarray, scores: np.ndarray, k: int, per_page: bool) -> list[tuple[int, float]]:
        """The first k candidates, keeping only the best passage of each URL when per_page."""
        chosen: list[tuple[int, float]] = []
        seen: set[int] = set()
        url_of = self._url_of
        for row, score in zip(rows.tolist(), scores.tolist(), strict=False):
            if per_page:
                u = int(url_of[row])
                if u in seen:
                    continue
                seen.add(u)
            chosen.append((row, score))
            if len(chosen) == k:
                break
        return chosen

    def _hits(self, query: str, chosen: list[tuple[int, float]]) -> list[Hit]:
        if not chosen:
            return []
        stems = query_stems(query)
        rows = [row for row, _ in chosen]
        found = {r[0]: r[1:] for r in self.store.db.execute(
            "SELECT s.row, s.pid, s.text, p.url, p.date, p.title FROM passages s JOIN pages p ON p.id = s.page_id"
            f" WHERE s.row IN ({','.join('?' * len(rows))})", rows)}
        hits = []
        for row, score in chosen:
            pid, text, url, date, title = found[row]
            hits.append(Hit(url, title or url, snippet(text, stems), round(float(score), 6), pid, date, text))
        return hits

    def passage(self, row: int) -> tuple[str, str, str, str, str]:
        """(passage id, text, url, date, title) of passage number `row`."""
        return self.store.db.execute(
            "SELECT s.pid, s.text, p.url, p.date, p.title FROM passages s JOIN pages p ON p.id = s.page_id"
            " WHERE s.row = ?", (row,)).fetchone()

    def retrieve(self, queries: list[str], topk: int = 3, mode: str = "bm25") -> list[list[Hit]]:
        """Passages (not pages) per query, for the Search-R1 style batch protocol."""
        return [self.search(q, k=topk, mode=mode, per_page=False) for q in queries]
