"""Benchmark: exec through the airgap init vs `docker exec`, SandboxPool.acquire() vs `docker run --rm`, and what
connection interception costs (issue 12): HTTP(S) through the relay, exec and start with it on vs off, and the
per-attempt cost of a refused (and logged) egress.

    .venv/bin/python scripts/bench_sandbox.py [--execs 200] [--runs 10] [--requests 300] [--attempts 2000]

Every number is measured in this run, on this machine, against a baseline measured in the same run.
Targets (issue 2): exec via the init >= 10x faster than docker exec; pool acquire p50 <= 50 ms.
Targets (issue 12): HTTP(S) through the relay within 5% with interception on vs off, exec unchanged; a refused
egress fails in <= 5 ms and is logged.
"""
from __future__ import annotations

import argparse
import json
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


async def _app(scope, receive, send):
    """A small ASGI app: the routed world host's answer (the relay and the gateway are what is measured)."""
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok " * 100})


# Runs inside the sandbox: per-call milliseconds of N fresh-connection requests (or refused attempts).
INSIDE = r"""
import json, socket, sys, time, urllib.request
kind, n = sys.argv[1], int(sys.argv[2])
def http(url):
    urllib.request.urlopen(url, timeout=10).read()
def refused():
    try:
        s = socket.create_connection(("198.51.100.7", 4444), timeout=5)
    except OSError:
        return  # interception off: "network unreachable" at once, and nothing logged
    s.sendall(b"hello\n")
    while s.recv(4096):
        pass
    s.close()
call = {"http": lambda: http("http://docs.python.org/x"), "https": lambda: http("https://docs.python.org/x"),
        "egress": refused}[kind]
for _ in range(5):
    call()
out = []
for _ in range(n):
    t = time.perf_counter()
    call()
    out.append((time.perf_counter() - t) * 1000)
print(json.dumps(out))
"""


def inside(sb, kind: str, n: int) -> list[float]:
    r = sb.exec(["python3", "-c", INSIDE, kind, str(n)], timeout=600)
    if r.exit_code != 0:
        raise SystemExit(f"in-sandbox benchmark {kind} failed: {r.stderr}")
    return json.loads(r.stdout)


def interception(args, rows: dict[str, list[float]]) -> dict[str, float]:
    """Interception on vs off, interleaved in rounds so that machine noise hits both alike."""
    configs = {"on": SandboxConfig(image=args.image), "off": SandboxConfig(image=args.image, intercept=False)}
    starts: dict[str, list[float]] = {"on": [], "off": []}
    for _ in range(max(3, args.runs // 2)):
        for name, config in configs.items():
            t = time.perf_counter()
            Sandbox(config).close()
            starts[name].append((time.perf_counter() - t) * 1000)
    extra: dict[str, float] = {}
    boxes = {name: Sandbox(config, routes={"docs.python.org": _app}) for name, config in configs.items()}
    try:
        samples: dict[str, list[float]] = {}
        rounds = 5
        for r in range(rounds):  # on, off, then off, on: neither always goes first
            for name, sb in (list(boxes.items()) if r % 2 == 0 else list(boxes.items())[::-1]):
                for kind in ("http", "https"):
                    samples.setdefault(f"{kind} via relay, interception {name}", []).extend(
                        inside(sb, kind, args.requests // rounds))
                samples.setdefault(f"exec: airgap init, interception {name}", []).extend(
                    timed(lambda sb=sb: sb.exec(["true"]), args.execs // rounds))
        for name, sb in boxes.items():
            events: list[dict] = []
            sb.set_sink(events.append)
            t = time.perf_counter()
            per_call = inside(sb, "egress", args.attempts)
            sb.sync_reports(timeout=60)
            total = (time.perf_counter() - t) * 1000
            logged = sum(1 for e in events if e["type"] == "egress_attempt" and e.get("dst_port") == 4444)
            samples[f"refused egress (connect..close), interception {name}"] = per_call
            extra[f"logged_{name}"] = logged
            extra[f"ms_per_attempt_incl_log_{name}"] = total / (args.attempts + 5)
    finally:
        for sb in boxes.values():
            sb.close()
    for name in configs:
        rows[f"start: Sandbox(), interception {name}"] = starts[name]
    rows.update(samples)
    return extra


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--execs", type=int, default=200, help="exec round trips per method")
    parser.add_argument("--runs", type=int, default=10, help="acquires and `docker run --rm`s")
    parser.add_argument("--requests", type=int, default=300, help="HTTP and HTTPS requests per interception setting")
    parser.add_argument("--attempts", type=int, default=2000, help="refused egress attempts per interception setting")
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

    extra = interception(args, rows)

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
    for kind in ("http via relay", "https via relay", "exec: airgap init", "start: Sandbox()"):
        on, off = pct(rows[f"{kind}, interception on"], .5), pct(rows[f"{kind}, interception off"], .5)
        console.print(f"{kind}: interception on / off, p50: [bold]{on / off:.3f}[/bold] ({on:.2f} vs {off:.2f} ms)")
    console.print(f"refused egress, interception on: p50 [bold]{pct(rows['refused egress (connect..close), interception on'], .5):.2f} ms"
                  f"[/bold] per attempt in the agent, {extra['ms_per_attempt_incl_log_on']:.2f} ms per attempt until logged "
                  f"(target <= 5 ms); {extra['logged_on']} of {args.attempts + 5} logged. "
                  f"Interception off: the connect fails at once ({pct(rows['refused egress (connect..close), interception off'], .5):.2f}"
                  f" ms) and {extra['logged_off']} are logged.")


if __name__ == "__main__":
    main()
