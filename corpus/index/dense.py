"""Dense retrieval: passage vectors from the `encoder` in a faiss index (flat, HNSW or IVF-PQ), built and searched.

Index kinds, with memory per passage for d dimensions (float32 vectors):

- ``flat``: exact search, 4·d bytes (1536 B at d=384); fp16 on GPU halves it.
- ``hnsw``: graph for fast search, 4·d + about 2·M·4 bytes (M=32: ~1792 B at d=384).
- ``ivfpq``: compressed, trained on a sample, m bytes of codes + 8 for the id
  (m=d/8=48: ~56 B at d=384); approximate.
"""
from __future__ import annotations

import json
import math
import os

import numpy as np

from ..progress import step
from .encoder import Encoder

KINDS = ("flat", "hnsw", "ivfpq")
HNSW_M, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH = 32, 80, 64
TRAIN_SAMPLE = 100_000
SEED = 1234


def _gpu_available() -> bool:
    import faiss

    return hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0


def _make_index(vectors: np.ndarray, kind: str) -> tuple[object, dict]:
    import faiss

    n, d = vectors.shape
    if kind == "flat":
        index = faiss.IndexFlatIP(d)
        index.add(vectors)
        return index, {}
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(d, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.add(vectors)
        return index, {"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION, "efSearch": HNSW_EF_SEARCH}
    if kind == "ivfpq":
        nlist = max(1, min(int(4 * math.sqrt(n)), n // 39 or 1))
        m = next(m for m in (d // 8, d // 4, d // 2, d, 1) if m and d % m == 0)
        nbits = 8 if n >= 256 * 4 else max(1, int(math.log2(max(2, n // 4))))  # PQ needs ~2^nbits points to train
        quantizer = faiss.IndexFlatIP(d)
        index = faiss.IndexIVFPQ(quantizer, d, nlist, m, nbits, faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(SEED)
        sample = vectors[np.sort(rng.choice(n, size=min(n, TRAIN_SAMPLE), replace=False))]
        index.train(sample)
        index.add(vectors)
        nprobe = min(nlist, 16)
        index.nprobe = nprobe
        return index, {"nlist": nlist, "m": m, "nbits": nbits, "nprobe": nprobe, "train_sample": len(sample)}
    raise ValueError(f"--index must be one of {', '.join(KINDS)}, not {kind!r}")


def build_dense(texts: list[str], model_path: str, folder: str, kind: str = "flat", device: str = "cpu",
                batch_size: int = 64, progress: bool = True) -> dict:
    """Encode `texts`, build a faiss index of `kind`, save it under `folder`; returns the settings."""
    import faiss

    if kind not in KINDS:
        raise ValueError(f"--index must be one of {', '.join(KINDS)}, not {kind!r}")
    encoder = Encoder(model_path, device=device, batch_size=batch_size)
    vectors = encoder.encode(texts, progress=progress)
    with step(f"faiss {kind} index over {len(texts)} vectors", enabled=progress):
        index, params = _make_index(vectors, kind)
    os.makedirs(folder, exist_ok=True)
    faiss.write_index(index, os.path.join(folder, "index.faiss"))
    settings = dict(encoder.settings(), kind=kind, metric="inner_product", count=len(texts), params=params,
                    bytes_per_passage=round(os.path.getsize(os.path.join(folder, "index.faiss")) / max(1, len(texts)), 1))
    with open(os.path.join(folder, "settings.json"), "w") as f:
        json.dump(settings, f, indent=2, sort_keys=True)
    return settings


class DenseIndex:
    """A saved faiss index plus the encoder that made it (loaded on first query)."""

    def __init__(self, folder: str, device: str = "cpu", model_path: str | None = None):
        import faiss

        with open(os.path.join(folder, "settings.json")) as f:
            self.settings = json.load(f)
        path = os.path.join(folder, "index.faiss")
        flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if self.settings["kind"] != "hnsw" else 0
        try:
            index = faiss.read_index(path, flags)
        except RuntimeError:  # not every index type can be memory-mapped
            index = faiss.read_index(path)
        if self.settings["kind"] == "hnsw":
            index.hnsw.efSearch = self.settings["params"]["efSearch"]
        if self.settings["kind"] == "ivfpq":
            index.nprobe = self.settings["params"]["nprobe"]
        if device.startswith("cuda") and _gpu_available():
            co = faiss.GpuClonerOptions()
            co.useFloat16 = True  # fp16 flat on the GPU: half the memory, same ranking in practice
            index = faiss.index_cpu_to_gpu(faiss.StandardGpuResources(), 0, index, co)
        self.index, self.device = index, device
        self.model_path = model_path or self.settings["model"]
        self._encoder = None

    @classmethod
    def load(cls, folder: str, device: str = "cpu", model_path: str | None = None) -> "DenseIndex":
        return cls(folder, device, model_path)

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            self._encoder = Encoder(self.model_path, device=self.device)
        return self._encoder

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(passage rows, cosine scores), best first, only rows where mask > 0."""
        n = self.index.ntotal
        if n == 0 or not query.strip():
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        vec = self.encoder.encode([query])
        want = min(n, k if mask is None else k * 10)
        while True:
            scores, rows = self.index.search(vec, want)
            rows, scores = rows[0], scores[0]
            keep = rows >= 0
            if mask is not None:
                keep &= mask[np.maximum(rows, 0)] > 0
            if keep.sum() >= k or want >= n:
                return rows[keep][:k].astype(np.int64), scores[keep][:k].astype(np.float32)
            want = min(n, want * 4)
