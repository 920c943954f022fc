#!/usr/bin/env python3
"""Benchmark backend resets: p50/p99 of ``reset()`` per backend and for all six, against building the fixture from scratch.

What it measures, each figure against a baseline measured in the same run:

1. ``reset()`` per backend, from a realistic dirty state: before every timed reset the backend is put back (untimed)
   into the state it had after a short episode of real HTTP writes (replies, events, orders, transfers, issues,
   messages). Baseline: building that backend's seeded fixture from scratch (schema, fixture rows, change-capture
   triggers, serialisation), which is what a backend without a template would do on every reset.
2. The same for the six backends together (one office world).
3. For reference, the other reset scheme the design considered: SQLite's online backup API copying the template
   connection into the live one, on the same images (the backends use ``deserialize`` of the template bytes).
4. ``state()`` and ``diff(fixture, state)`` per backend: what a ``backend_state`` grader pays once per episode.

Usage: .venv/bin/python scripts/bench_backends.py [--resets 2000] [--builds 30] [--seed 0]
Timings depend on the machine and its load: compare ratios, not absolute numbers (tests never assert on these).
"""
from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import sys
import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from airgap.envs.backends import BACKENDS, make_backends
from airgap.envs.worldgen import generate

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "backends"))
from backends_helpers import MUTATIONS  # noqa: E402  (the same short episodes the tests replay)


class _Api:
    """Just enough of the tests' client: synchronous requests over httpx's ASGITransport."""

    def __init__(self, backend, user=None, token=None, **_):
        self.loop = asyncio.new_event_loop()
        headers = {"Authorization": f"Bearer {token or backend.token(user)}"} if (user or token) else {}
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=backend.app),
                                        base_url=f"https://{backend.hosts[0]}", headers=headers)

    def request(self, method, path, **kw):
        return self.loop.run_until_complete(self.client.request(method, path, **kw))

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def us(x: float) -> str:
    return f"{x * 1e6:,.1f}" if x < 1e-4 else f"{x * 1e6:,.0f}"


def dirty_images(backends: dict, facts) -> dict[str, bytes]:
    """Each backend's database after one short episode of real writes (then the backends are reset)."""
    out = {}
    for name, b in backends.items():
        b.reset()
        MUTATIONS[name](lambda n, user=None, **kw: _Api(backends[n], user, **kw), facts)
        out[name] = b.image()
        b.reset()
    return out


def time_resets(b, dirty: bytes, n: int, first_read: bool = False) -> list[float]:
    """reset() alone, or reset() and the first query after it (SQLite reloads the schema lazily, on first use)."""
    table = next(iter(b.tables))
    out = []
    for _ in range(n):
        b.load_image(dirty)
        t0 = time.perf_counter()
        b.reset()
        if first_read:
            with b.read() as db:
                db.execute(f'SELECT count(*) FROM "{table}"').fetchone()
        out.append(time.perf_counter() - t0)
    return out


def time_backup(template: bytes, dirty: bytes, n: int) -> list[float]:
    """SQLite's backup API from a template connection into the live one (the alternative scheme)."""
    src = sqlite3.connect(":memory:", check_same_thread=False)
    src.deserialize(template)
    dst = sqlite3.connect(":memory:", check_same_thread=False)
    out = []
    for _ in range(n):
        dst.deserialize(dirty)
        t0 = time.perf_counter()
        src.backup(dst)
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--resets", type=int, default=2000, help="timed resets per backend")
    ap.add_argument("--builds", type=int, default=30, help="timed from-scratch fixture builds per backend")
    ap.add_argument("--seed", type=int, default=0, help="world seed")
    args = ap.parse_args()
    console = Console(width=max(Console().width, 150))
    facts = generate(args.seed)
    names = sorted(BACKENDS)
    backends = make_backends(names, facts)
    dirty = dirty_images(backends, facts)
    console.print(f"world {args.seed}: {facts.org.name}; {args.resets} resets and {args.builds} builds per backend")

    t = Table(title="reset() vs building the fixture from scratch (µs)")
    for col in ("backend", "DB KiB", "rows", "rows changed", "build p50", "reset p50", "reset p99", "build / reset",
                "reset+1st read p50", "reset+1st read p99", "build / (reset+read)", "backup API p50", "state() p50",
                "diff p50"):
        t.add_column(col, justify="left" if col == "backend" else "right")
    all_build, all_reset = [], []
    for name in names:
        b = backends[name]
        builds = []
        for _ in range(args.builds):
            t0 = time.perf_counter()
            b.build_template()
            builds.append(time.perf_counter() - t0)
        resets = time_resets(b, dirty[name], args.resets)
        ready = time_resets(b, dirty[name], args.resets, first_read=True)
        backup = time_backup(b.template.image, dirty[name], max(200, args.resets // 4))
        fixture = b.fixture_state()
        b.load_image(dirty[name])
        states, diffs = [], []
        for _ in range(50):
            t0 = time.perf_counter()
            st = b.state()
            states.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            changed = b.diff(fixture, st)
            diffs.append(time.perf_counter() - t0)
        b.reset()
        rows = sum(len(v) for v in fixture["tables"].values())
        all_build.append(statistics.median(builds))
        all_reset.append(statistics.median(resets))
        b50, r50, y50 = statistics.median(builds), statistics.median(resets), statistics.median(ready)
        t.add_row(name, f"{len(b.template.image) / 1024:.0f}", str(rows), str(len(changed)), us(b50), us(r50),
                  us(pct(resets, 0.99)), f"{b50 / r50:,.0f}x", us(y50), us(pct(ready, 0.99)), f"{b50 / y50:,.0f}x",
                  us(statistics.median(backup)), us(statistics.median(states)), us(statistics.median(diffs)))
    # the whole office world: six resets in a row vs six builds
    together, together_ready = [], []
    for _ in range(args.resets // 2):
        for name in names:
            backends[name].load_image(dirty[name])
        t0 = time.perf_counter()
        for name in names:
            backends[name].reset()
        together.append(time.perf_counter() - t0)
        for name in names:
            with backends[name].read() as db:
                db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        together_ready.append(time.perf_counter() - t0)
    build_all = sum(all_build)
    t50, y50 = statistics.median(together), statistics.median(together_ready)
    t.add_row("[b]all six[/b]", "", "", "", us(build_all), us(t50), us(pct(together, 0.99)), f"{build_all / t50:,.0f}x",
              us(y50), us(pct(together_ready, 0.99)), f"{build_all / y50:,.0f}x", "", "", "")
    console.print(t)
    worst = max(pct(time_resets(backends[n], dirty[n], 200, first_read=True), 0.99) for n in names)
    console.print(f"target: reset <= 10 ms per backend; worst p99 here (reset + first read) {us(worst)} µs "
                  f"({'met' if worst <= 0.010 else 'NOT met'}).")


if __name__ == "__main__":
    main()
