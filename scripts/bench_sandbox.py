"""Benchmark: exec through the airgap init vs `docker exec`, and SandboxPool.acquire() vs `docker run --rm`.

    .venv/bin/python scripts/bench_sandbox.py [--execs 200] [--runs 10]

Every number is measured in this run, on this machine, against a baseline measured in the same run.
Targets (issue 2): exec via the init >= 10x faster than docker exec; pool acquire p50 <= 50 ms.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import time

from rich.console import Console
from rich.table import Table

from airgap.sandbox import Sandbox, SandboxConfig, SandboxPool
from airgap.sandbox.image import DEFAULT_IMAGE


def timed(fn, n: int) -> list[float]:
    """Milliseconds of each of ``n`` calls of ``fn``."""
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--execs", type=int, default=200, help="exec round trips per method")
    parser.add_argument("--runs", type=int, default=10, help="acquires and `docker run --rm`s")
    parser.add_argument("--image", default=DEFAULT_IMAGE)
    args = parser.parse_args()
    config = SandboxConfig(image=args.image)
    rows: dict[str, list[float]] = {}

    with Sandbox(config) as sb:
        cli = ["docker", "exec", "-u", "1000:1000", sb.container_id, "true"]
        for _ in range(5):  # warm caches on every path
            sb.exec(["true"]), sb.exec_docker(["true"]), subprocess.run(cli, check=True)
        rows["exec: airgap init"] = timed(lambda: sb.exec(["true"]), args.execs)
        rows["exec: docker exec (engine API)"] = timed(lambda: sb.exec_docker(["true"]), max(20, args.execs // 4))
        rows["exec: docker exec (CLI)"] = timed(lambda: subprocess.run(cli, check=True), max(20, args.execs // 4))

    with SandboxPool(size=2, config=config) as pool:
        acquires = []
        for _ in range(args.runs):
            while pool.ready < pool.size:  # measure a warm pool, as reset() between episodes sees it
                time.sleep(0.05)
            t = time.perf_counter()
            sb = pool.acquire()
            acquires.append((time.perf_counter() - t) * 1000)
            pool.release(sb)
        rows["start: SandboxPool.acquire()"] = acquires
    run = ["docker", "run", "--rm", "--network", "none", args.image, "true"]
    rows["start: docker run --rm"] = timed(lambda: subprocess.run(run, check=True, capture_output=True), args.runs)

    table = Table(title="airgap sandbox benchmark (ms)")
    for col in ("path", "n", "p50", "p99", "mean"):
        table.add_column(col, justify="right" if col != "path" else "left")
    for name, samples in rows.items():
        table.add_row(name, str(len(samples)), f"{pct(samples, .5):.2f}", f"{pct(samples, .99):.2f}",
                      f"{statistics.mean(samples):.2f}")
    console = Console()
    console.print(table)
    init_p50 = pct(rows["exec: airgap init"], .5)
    acquire_p50 = pct(rows["start: SandboxPool.acquire()"], .5)
    console.print(f"exec speed-up vs docker exec (engine API), p50: "
                  f"[bold]{pct(rows['exec: docker exec (engine API)'], .5) / init_p50:.1f}x[/bold]  (target >= 10x)")
    console.print(f"exec speed-up vs docker exec (CLI), p50: "
                  f"[bold]{pct(rows['exec: docker exec (CLI)'], .5) / init_p50:.1f}x[/bold]")
    console.print(f"pool acquire p50: [bold]{acquire_p50:.2f} ms[/bold] (target <= 50 ms); "
                  f"vs docker run --rm: [bold]{pct(rows['start: docker run --rm'], .5) / acquire_p50:.0f}x[/bold] faster")


if __name__ == "__main__":
    main()
