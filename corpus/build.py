"""Building a snapshot: ingest sources, store pages, cut passages, index them, write the manifest.

The folder it writes (read by `snapshot.Snapshot`)::

    manifest.json     sources, counts, crawl dates, checksums, index settings, sizes
    bodies.zst        page bodies, one zstd frame each, exact duplicates once   (store.py)
    pages.sqlite      (url, date) -> body index, titles, text; passages' text    (store.py)
    passages.npy      per passage: page, url group, valid-from and valid-until date keys
    bm25/             bm25s index, loaded memory-mapped                          (index/sparse.py)
    dense/            faiss index and encoder settings, when built               (index/dense.py)

Each passage is valid from its capture's date until the next capture of the same URL
(`snapshot.FOREVER` when there is none). The build is written to ``out + ".partial"``
and renamed at the end, so a snapshot folder is never half-built.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
import zstandard

from .cache import sha256_file, source_checksum
from .capture import Capture, Skipped
from .extract import UndecodableBody, extract
from .index.sparse import SETTINGS as BM25_SETTINGS
from .index.sparse import SparseIndex
from .ingest import detect_kind, read_source
from .passages import WORDS, chunk_text, passage_id
from .progress import track
from .snapshot import FOREVER, FORMAT, PASSAGE_DTYPE, Snapshot
from .store import COMPRESSION_LEVEL, Store, StoreWriter
from .urls import UrlMap, normalize_url

SHOWN_ERRORS = 20  # skipped records kept verbatim in the manifest


def build_snapshot(
    sources: list[str],
    out: str,
    *,
    url_map: list[str] | None = None,
    column_map: dict[str, str] | None = None,
    dense_model: str | None = None,
    index: str = "flat",
    device: str = "cpu",
    batch_size: int = 64,
    overwrite: bool = False,
    progress: bool = True,
    on_skip: Callable[[Skipped], None] | None = None,
    timings: dict | None = None,
    workers: int | None = None,
) -> "Snapshot":
    """Ingest `sources` into a new snapshot folder `out` and index it; returns it opened.

    Bad records are skipped and counted (`on_skip` sees each one); the build is written
    to ``out + ".partial"`` and renamed at the end, so `out` is never half-built. Seconds
    per phase go into `timings` when given (never into the manifest, which stays reproducible).
    `workers` processes (default: up to 4 CPUs) parse and compress records once a source
    holds more than one batch of them; the result does not depend on the number.
    """
    timings = {} if timings is None else timings
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 3)
        clock = now

    if os.path.exists(out) and os.listdir(out):
        if not overwrite:
            raise FileExistsError(f"{out} already exists: pass overwrite=True (--overwrite) or choose another --out")
    if not sources:
        raise ValueError("no sources given: pass WARC/ZIM/JSONL/Parquet files or dataset folders")
    umap = UrlMap(url_map)
    tmp = out.rstrip("/") + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    writer = StoreWriter(tmp)
    pool = _Preparer(umap, workers)
    counts = dict(records=0, captures=0, duplicate_captures=0, duplicate_bodies=0, skipped=0)
    errors: list[dict] = []
    source_info = []

    def skip(s: Skipped) -> None:
        counts["skipped"] += 1
        info["skipped"] += 1
        if len(errors) < SHOWN_ERRORS:
            errors.append(asdict(s))
        if on_skip:
            on_skip(s)

    with pool:
        for src in sources:
            kind = detect_kind(src)
            info = dict(path=os.path.basename(os.path.normpath(src)), kind=kind, sha256=source_checksum(src),
                        captures=0, skipped=0)
            source_info.append(info)
            for item in track(pool.prepare(read_source(src, kind, column_map)), f"ingest {info['path']}",
                              enabled=progress):
                counts["records"] += 1
                if isinstance(item, Skipped):
                    skip(item)
                    continue
                problem = _ingest(writer, item, umap, info["path"], counts)
                if problem:
                    skip(Skipped(info["path"], item.cap.url, problem))
                else:
                    info["captures"] += 1
    writer.close()
    lap("ingest")
    store = Store(tmp)
    n_passages, texts, digest = _make_passages(store, tmp, progress)
    lap("passages")
    SparseIndex.build(texts, os.path.join(tmp, "bm25"), show_progress=progress)
    lap("bm25")
    dense_settings = None
    if dense_model:
        from .index.dense import build_dense

        dense_settings = build_dense(texts, dense_model, os.path.join(tmp, "dense"), kind=index, device=device,
                                     batch_size=batch_size, progress=progress)
        lap("dense")
    del texts
    manifest = _manifest(store, tmp, source_info, counts, errors, umap, n_passages, digest, dense_settings)
    store.close()
    with open(os.path.join(tmp, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")
    if os.path.exists(out):
        shutil.rmtree(out)
    os.rename(tmp, out)
    return Snapshot.open(out)


@dataclass
class _Prepared:
    """A capture with the CPU-heavy work done (in a worker process): URL, hash, extraction, compression."""

    cap: Capture
    url: str = ""
    error: str | None = None
    sha: str = ""
    title: str = ""
    text: str = ""
    outlinks: list[str] = field(default_factory=list)
    frame: bytes = b""


_ZSTD: list = []  # one compressor per process, made on first use


def _prepare(item: Capture | Skipped, url_map: UrlMap) -> _Prepared | Skipped:
    if isinstance(item, Skipped):
        return item
    cap = item
    try:
        url = normalize_url(url_map(cap.url))
    except ValueError as e:
        return _Prepared(cap, error=str(e))
    if cap.body is None:  # a revisit: its body is found (and extracted) at store time
        return _Prepared(cap, url)
    try:
        title, text, outlinks = _extract(cap, cap.body, url)
    except UndecodableBody as e:
        return _Prepared(cap, url, error=f"undecodable body: {e}")
    if not _ZSTD:
        _ZSTD.append(zstandard.ZstdCompressor(level=COMPRESSION_LEVEL, write_checksum=True))
    return _Prepared(cap, url, None, hashlib.sha256(cap.body).hexdigest(), title, text, outlinks,
                     _ZSTD[0].compress(cap.body))


def _extract(cap: Capture, body: bytes, url: str) -> tuple[str, str, list[str]]:
    if cap.text is not None:  # sources that carry text (datasets, WET) need no extraction
        return cap.title or "", cap.text, []
    title, text, outlinks = extract(body, cap.content_type, url)
    return cap.title or title, text, outlinks


class _Preparer:
    """Runs `_prepare` over records, in order, in a process pool started only for sources of many records.

    Records go to the pool in batches (bounded memory whatever the source size); order is
    kept, so the snapshot is the same with any number of workers.
    """

    BATCH = 128

    def __init__(self, url_map: UrlMap, workers: int | None):
        self.url_map = url_map
        self.workers = min(4, os.cpu_count() or 1) if workers is None else workers
        self.pool = None

    def prepare(self, items):
        """Prepared records in input order; the next batch is worked on while this one is stored."""
        pending = None
        batch: list = []
        for item in items:
            batch.append(item)
            if len(batch) == self.BATCH:
                job, batch = self._submit(batch), []
                if pending is not None:
                    yield from self._results(pending)
                pending = job
        if pending is not None:
            yield from self._results(pending)
        yield from self._results(self._submit(batch))

    def _submit(self, batch: list):
        if len(batch) == self.BATCH and self.workers > 1 and self.pool is None:
            import multiprocessing

            self.pool = multiprocessing.get_context("fork").Pool(self.workers)
        if self.pool is None:
            return [_prepare(item, self.url_map) for item in batch]
        return self.pool.starmap_async(_prepare, [(item, self.url_map) for item in batch], chunksize=8)

    @staticmethod
    def _results(job) -> list:
        return job if isinstance(job, list) else job.get()

    def __enter__(self) -> "_Preparer":
        return self

    def __exit__(self, exc_type, *_) -> None:
        if self.pool is not None:
            if exc_type is None:
                self.pool.close()
            else:
                self.pool.terminate()
            self.pool.join()


def _ingest(writer: StoreWriter, prep: _Prepared, umap: UrlMap, source: str, counts: dict) -> str | None:
    """Store one prepared capture; returns why it was skipped, or None."""
    if prep.error:
        return prep.error
    cap, url = prep.cap, prep.url
    if writer.has_capture(url, cap.date):
        counts["duplicate_captures"] += 1
        return None
    if cap.body is None:  # a revisit: same body as an earlier capture, found by payload digest or by URL and date
        body_id = writer.find_body_by_digest(cap.revisit_digest) if cap.revisit_digest else None
        if body_id is None and cap.revisit_of:
            body_id = writer.find_capture_body(normalize_url(umap(cap.revisit_of[0])), cap.revisit_of[1])
        if body_id is None:
            return "revisit of a capture that is not in this build (add the WARC holding the original)"
        try:
            title, _, outlinks = _extract(cap, writer.read_body(body_id), url)
        except UndecodableBody as e:
            return f"undecodable body: {e}"
        counts["duplicate_bodies"] += 1
    else:
        title, outlinks = prep.title, prep.outlinks
        body_id = writer.find_body(prep.sha)
        if body_id is None:
            body_id = writer.add_body(prep.frame, len(cap.body), prep.sha, prep.text, cap.payload_digest)
        else:
            counts["duplicate_bodies"] += 1
    writer.add_page(url, cap.date, cap.status, cap.content_type, cap.headers, title, outlinks, body_id, source)
    counts["captures"] += 1
    return None


def _make_passages(store: Store, folder: str, progress: bool) -> tuple[int, list[str], str]:
    """Chunk every 2xx page with text; write passage rows and validity windows. Returns (n, texts, digest)."""
    # one connection reads pages and writes passages: SQLite lets it insert into one table while it
    # streams another, where a second connection would find the database locked
    db = sqlite3.connect(store.db_path)
    db.execute("CREATE TABLE passages (row INTEGER PRIMARY KEY, pid TEXT UNIQUE NOT NULL, page_id INTEGER NOT NULL,"
               " text TEXT NOT NULL)")
    # validity: a capture is current from its date until the next capture of the same URL
    until: dict[int, int] = {}
    url_ids: dict[str, int] = {}
    previous = None
    for pid, url, key in db.execute("SELECT id, url, date_key FROM pages ORDER BY url, date_key"):
        if previous and previous[1] == url:
            until[previous[0]] = key
        previous = (pid, url)
    for (url,) in db.execute("SELECT url FROM pages ORDER BY id"):  # url ids in ingest order
        url_ids.setdefault(url, len(url_ids))
    n_pages = db.execute("SELECT COUNT(*) FROM pages").fetchone()[0]
    rows = db.execute(  # streamed: page texts are not all held in memory at once
        "SELECT p.id, p.url, p.date, p.date_key, p.status, p.title, b.text FROM pages p"
        " JOIN bodies b ON b.id = p.body_id ORDER BY p.id")
    meta, texts, batch = [], [], []
    digest = hashlib.sha256()
    for pid, url, date, key, status, title, text in track(rows, "passages", total=n_pages, enabled=progress):
        if not (200 <= status < 300) or not text:
            continue
        heading = title or url
        for n, chunk in enumerate(chunk_text(text)):
            ident = passage_id(url, date, n)
            batch.append((len(texts), ident, pid, chunk))
            meta.append((pid, url_ids[url], key, until.get(pid, FOREVER)))
            texts.append(f"{heading}\n{chunk}")
            digest.update(f"{ident}\t{heading}\t{chunk}\n".encode())
        if len(batch) > 5000:
            db.executemany("INSERT INTO passages VALUES (?,?,?,?)", batch)
            batch = []
    db.executemany("INSERT INTO passages VALUES (?,?,?,?)", batch)
    db.commit()
    db.close()
    np.save(os.path.join(folder, "passages.npy"), np.array(meta, dtype=PASSAGE_DTYPE))
    return len(texts), texts, digest.hexdigest()


def _folder_files(folder: str) -> dict[str, str]:
    out = {}
    for root, _dirs, files in os.walk(folder):
        for name in files:
            p = os.path.join(root, name)
            out[os.path.relpath(p, folder)] = p
    return dict(sorted(out.items()))


def _manifest(store, folder, sources, counts, errors, umap, n_passages, passage_digest, dense_settings) -> dict:
    db = store.db
    first, last = db.execute("SELECT MIN(date), MAX(date) FROM pages").fetchone()
    n_urls = db.execute("SELECT COUNT(DISTINCT url) FROM pages").fetchone()[0]
    n_bodies, body_bytes = db.execute("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM bodies").fetchone()
    statuses = dict(db.execute("SELECT status, COUNT(*) FROM pages GROUP BY status ORDER BY status").fetchall())
    pages_digest = hashlib.sha256()
    for row in db.execute("SELECT p.url, p.date, p.status, b.sha256 FROM pages p JOIN bodies b ON b.id=p.body_id"
                          " ORDER BY p.url, p.date_key"):
        pages_digest.update(("\t".join(map(str, row)) + "\n").encode())
    files = _folder_files(folder)
    checksums = {"pages": pages_digest.hexdigest(), "passages": passage_digest}
    for rel, p in files.items():
        # SQLite's file bytes are not guaranteed stable (its content is in "pages"), nor are faiss indexes
        # (multi-threaded adds and float sums), so those are sized but not checksummed
        if rel != "pages.sqlite" and not rel.startswith("dense/"):
            checksums[rel] = sha256_file(p)
    index = {"bm25": dict(BM25_SETTINGS)}
    if dense_settings:
        index["dense"] = dense_settings
    return {
        "format": FORMAT,
        "sources": sources,
        "url_map": umap.as_list(),
        "counts": dict(counts, urls=n_urls, bodies=n_bodies, body_bytes=body_bytes, passages=n_passages,
                       hosts=len(store.hosts()), statuses={str(k): v for k, v in statuses.items()}),
        "crawl_dates": {"first": first, "last": last},
        "skipped": {"count": counts["skipped"], "first": errors},
        "passages": {"words": WORDS, "indexed_text": "title + newline + chunk"},
        "index": index,
        "checksums": checksums,
        "sizes": {rel: os.path.getsize(p) for rel, p in files.items()},
    }
