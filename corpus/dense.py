"""Dense retrieval: a transformers encoder from a local folder, vectors in faiss.

Pooling follows the folder's sentence-transformers config when there is one
(``modules.json`` + ``1_Pooling/config.json``: mean, CLS or max; ``Normalize`` module),
else mean pooling; vectors are L2-normalised so inner product is cosine similarity.
Batches are sorted by length (less padding), fp16 on CUDA.

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
import sys

import numpy as np
from tqdm.auto import tqdm

KINDS = ("flat", "hnsw", "ivfpq")
HNSW_M, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH = 32, 80, 64
TRAIN_SAMPLE = 100_000
SEED = 1234


def _pooling_config(path: str) -> tuple[str, bool]:
    """(pooling mode, normalise) from a sentence-transformers folder; (mean, True) otherwise."""
    modules_file = os.path.join(path, "modules.json")
    if not os.path.exists(modules_file):
        return "mean", True
    with open(modules_file) as f:
        modules = json.load(f)
    mode, normalize = "mean", False
    for m in modules:
        kind = m.get("type", "")
        if kind.endswith("Pooling"):
            with open(os.path.join(path, m.get("path", ""), "config.json")) as f:
                cfg = json.load(f)
            if cfg.get("pooling_mode_cls_token"):
                mode = "cls"
            elif cfg.get("pooling_mode_max_tokens"):
                mode = "max"
        elif kind.endswith("Normalize"):
            normalize = True
    return mode, normalize


class Encoder:
    """Text -> normalised vectors with a local transformers model."""

    def __init__(self, path: str, device: str = "cpu", batch_size: int = 64, max_length: int = 256):
        import torch
        from transformers import AutoModel, AutoTokenizer

        if not os.path.isdir(path):
            raise FileNotFoundError(f"dense model folder {path} not found: pass a local transformers model folder "
                                    "(e.g. an all-MiniLM-L6-v2 download); no model hub is used")
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise ValueError("--device cuda asked for, but torch sees no GPU: use --device cpu")
        self.path, self.device, self.batch_size = os.path.abspath(path), device, batch_size
        self.max_length = max_length
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        dtype = torch.float16 if device.startswith("cuda") else torch.float32
        self.model = AutoModel.from_pretrained(path, local_files_only=True, dtype=dtype).to(device).eval()
        self.pooling, self.normalize = _pooling_config(path)
        self.dim = int(self.model.config.hidden_size)
        self.torch = torch

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        torch = self.torch
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        starts = range(0, len(texts), self.batch_size)
        for s in tqdm(starts, desc="encode", unit=" batch", disable=not progress, file=sys.stderr):
            idx = order[s : s + self.batch_size]
            batch = self.tokenizer([texts[i] for i in idx], padding=True, truncation=True,
                                   max_length=self.max_length, return_tensors="pt").to(self.device)
            with torch.inference_mode():
                hidden = self.model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                if self.pooling == "cls":
                    vec = hidden[:, 0]
                elif self.pooling == "max":
                    vec = hidden.masked_fill(mask == 0, -1e4).max(dim=1).values
                else:
                    vec = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)
                vec = vec.float()
                if self.normalize:
                    vec = torch.nn.functional.normalize(vec, dim=-1)
            out[idx] = vec.cpu().numpy()
        return out

    def settings(self) -> dict:
        return {"model": self.path, "model_name": os.path.basename(self.path.rstrip("/")), "dim": self.dim,
                "pooling": self.pooling, "normalize": self.normalize, "max_length": self.max_length}


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
    if progress:
        print(f"building faiss {kind} index over {len(texts)} vectors", file=sys.stderr)
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
