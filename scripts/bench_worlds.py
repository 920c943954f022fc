#!/usr/bin/env python3
"""Benchmark building a generated world's offline web: generate + render + crawl + index per world, and the cached call.

For each world seed, in a fresh private cache folder: ``ensure_world_snapshot(seed)`` from nothing (the facts
generated, the sites of both captures rendered, each crawled on loopback with ``wget --warc-file``, one snapshot
built from the two WARCs), with the seconds of each phase; then the same call again, which must find the cached
world; that cached call is shown as a ratio of the build measured in the same run (the baseline). The target from the
issue: at most 10 s per world on this machine.

Usage: .venv/bin/python scripts/bench_worlds.py [--seeds 0 1 2 3 4] [--cached-calls 200]
Timings depend on the machine and its load: compare ratios, not absolute numbers (tests never assert on these).
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

from rich.console import Console
from rich.table import Table

from airgap.corpus import Snapshot
from airgap.envs.worldgen.site import ensure_world_snapshot
from airgap.envs.worldgen.site import snapshot as world_snapshot

TARGET_S = 10.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--cached-calls", type=int, default=200, help="cached calls timed per world (the median is shown)")
    args = ap.parse_args()
    console = Console(width=max(Console().width, 140))
    table = Table(title="Generated worlds: build (generate + render + crawl + index) and cached call")
    for col in ("seed", "generate s", "render s", "crawl s", "index s", "build s", "pages", "captures", "passages",
                "cached call", "cached / build"):
        table.add_column(col, justify="right")
    builds = []
    with tempfile.TemporaryDirectory(prefix="airgap-bench-worlds-") as tmp:
        os.environ["AIRGAP_SNAPSHOT_DIR"] = tmp
        real_build = world_snapshot.build_world
        for seed in args.seeds:
            phases: dict = {}
            world_snapshot.build_world = lambda s, out, _p=phases, **kw: real_build(s, out, timings=_p, **kw)
            t0 = time.perf_counter()
            path = ensure_world_snapshot(seed)
            build = time.perf_counter() - t0
            world_snapshot.build_world = real_build
            builds.append(build)
            cached = []
            for _ in range(args.cached_calls):
                t = time.perf_counter()
                assert ensure_world_snapshot(seed) == path
                cached.append(time.perf_counter() - t)
            c = Snapshot.open(str(path)).manifest["counts"]
            med = statistics.median(cached)
            table.add_row(str(seed), *(f"{phases.get(k, 0):.2f}" for k in ("generate", "render", "crawl", "index")),
                          f"[{'green' if build <= TARGET_S else 'red'}]{build:.2f}[/]", str(c["urls"]), str(c["captures"]),
                          str(c["passages"]), f"{med * 1e6:.0f} µs", f"{med / build:.1e}")
    console.print(table)
    console.print(f"build per world: median {statistics.median(builds):.2f} s, max {max(builds):.2f} s "
                  f"(target <= {TARGET_S:.0f} s); {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
