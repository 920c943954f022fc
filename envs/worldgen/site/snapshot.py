"""A world's offline web, built the real way and cached per seed: render two captures, crawl each, index one snapshot.

``ensure_world_snapshot(seed)`` returns the folder of world ``seed``'s snapshot, building it first when it is missing
or stale. Building renders the sites as of capture A and capture B (``render.py``), crawls each on loopback with
``wget --warc-file`` (``crawl.py``) and builds one snapshot from both WARCs with ``airgap.corpus.build_snapshot``, so
every page that changed has two captures and ``as_of`` picks between them. The cache lives beside the bundled snapshot
(``$AIRGAP_SNAPSHOT_DIR`` or ``snapshots/`` in ``airgap.corpus.defaults.cache_dir()``) under ``worlds/seed-<n>/``:
``snapshot/``, ``warc/A.warc.gz`` and ``warc/B.warc.gz``, and ``world.json``, the stamp that says which seed,
generator versions and code made it. A stamp that differs from the running code's means stale. The folder is one entry
of the snapshot cache (``airgap.corpus.ensure_snapshot``): built aside under a file lock and renamed into place, so
concurrent callers (vector-env workers) build a world once and a failed build leaves no half-built world.
"""
from __future__ import annotations

import functools
import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path

from airgap.envs.worldgen.facts import GENERATOR_VERSION, generate

from .content import SITE_VERSION, site_facts
from .crawl import crawl_captures
from .render import write_sites

_HERE = Path(__file__).resolve().parent


STAMP = "world.json"


def worlds_root() -> Path:
    """``$AIRGAP_SNAPSHOT_DIR/worlds``, else ``snapshots/worlds`` in Airgap's cache folder."""
    from airgap.corpus import snapshots_root

    return snapshots_root() / "worlds"


def world_dir(seed: int) -> Path:
    return worlds_root() / f"seed-{int(seed)}"


def world_snapshot_path(seed: int) -> Path:
    """Where world ``seed``'s snapshot lives (built or not)."""
    return world_dir(seed) / "snapshot"


@functools.lru_cache(maxsize=1)
def _code_digest() -> str:
    """sha256 of the code that decides a world's pages: the facts generator and its text library, this package and
    its templates."""
    import faker

    h = hashlib.sha256(f"faker {faker.VERSION}\n".encode())
    files = [_HERE.parent / "facts.py", _HERE.parent / "writing.py", *sorted((_HERE.parent / "text").glob("*.yaml")),
             *sorted(_HERE.glob("*.py")), *sorted((_HERE / "templates").glob("*"))]
    for p in files:
        h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def stamp(seed: int) -> dict:
    """What a fresh build of world ``seed`` records in ``world.json``."""
    return {"seed": int(seed), "generator_version": GENERATOR_VERSION, "site_version": SITE_VERSION, "code": _code_digest()}


def is_fresh(seed: int) -> bool:
    """Whether world ``seed``'s cached snapshot exists and was made by this code."""
    from airgap.corpus.cache import is_complete

    return is_complete(world_dir(seed), stamp(seed), STAMP)


def build_world(seed: int, out: str | os.PathLike, *, progress: bool = False, timings: dict | None = None) -> Path:
    """Build world ``seed``'s WARCs (``out/warc``) and snapshot (``out/snapshot``); seconds per phase go into ``timings``."""
    from airgap.corpus import build_snapshot

    timings = {} if timings is None else timings
    out = Path(out)
    t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        timings[name] = round(timings.get(name, 0.0) + now - t, 3)
        t = now

    sf = site_facts(generate(seed))
    lap("generate")
    warc_dir = out / "warc"
    shutil.rmtree(warc_dir, ignore_errors=True)
    warc_dir.mkdir(parents=True)
    warcs = [str(warc_dir / f"{cap.label}.warc.gz") for cap in sf.captures]
    with tempfile.TemporaryDirectory(prefix=f"airgap-world-{seed}-") as tmp:
        for cap in sf.captures:
            write_sites(sf, cap, Path(tmp) / cap.label)
        lap("render")
        crawl_captures(tmp, sf.hosts.all(), [(cap.label, cap.timestamp, w) for cap, w in zip(sf.captures, warcs, strict=True)])
        lap("crawl")
    build_snapshot(warcs, str(out / "snapshot"), overwrite=True, progress=progress, workers=1)
    lap("index")
    return out / "snapshot"


def ensure_world_snapshot(seed: int, progress: bool = False) -> Path:
    """The snapshot folder of world ``seed``, built first if it is missing or stale (a cached call reads one small file)."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"world seed must be a non-negative int, got {seed!r}")
    from airgap.corpus import ensure_snapshot

    d = world_dir(seed)
    ensure_snapshot([], d.name, root=d.parent, build=lambda folder: build_world(seed, folder, progress=progress),
                    stamp=stamp(seed), stamp_name=STAMP)
    return world_snapshot_path(seed)
