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
5. With Docker (skip with --no-gateway): a backend request from inside a sandbox (Python's urllib in the container,
   through the in-container relay and the host gateway's TLS) and from the harness (``sb.fetch``, the http tool's
   path), against calling the same ASGI app in-process; the env's ``http`` step against a direct ``sb.fetch``; and
   office oracle episodes per minute when the office suite exists.

Usage: .venv/bin/python scripts/bench_backends.py [--resets 2000] [--builds 30] [--seed 0] [--requests 300] [--no-gateway]
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
    ap.add_argument("--requests", type=int, default=300, help="timed requests per path in the gateway part")
    ap.add_argument("--no-gateway", action="store_true", help="skip the part that needs Docker")
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
    if not args.no_gateway:
        from airgap.sandbox import engine_reachable

        if engine_reachable():
            gateway_part(console, facts, args.requests)
        else:
            console.print("[yellow]no Docker engine: the gateway part is skipped (start dockerd, or pass --no-gateway)[/yellow]")


INSIDE = """
import http.client, json, ssl, sys, time, urllib.parse, urllib.request
url, token, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
u = urllib.parse.urlsplit(url)
headers = {"Authorization": "Bearer " + token}
fresh, kept = [], []
for _ in range(n + 20):  # a new connection (TLS handshake) per request, as curl or urllib.urlopen make
    t0 = time.perf_counter()
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as r:
        r.read()
    fresh.append(time.perf_counter() - t0)
conn = http.client.HTTPSConnection(u.hostname, context=ssl.create_default_context(), timeout=10)
for _ in range(n + 20):  # one kept-alive connection, as requests.Session or an SDK client make
    t0 = time.perf_counter()
    conn.request("GET", u.path, headers=headers)
    conn.getresponse().read()
    kept.append(time.perf_counter() - t0)
print(json.dumps({"fresh": fresh[20:], "kept": kept[20:]}))
"""


def gateway_part(console: Console, facts, n: int) -> None:
    """Backend requests through the gateway (inside the sandbox, and from the harness) vs the ASGI app in-process."""
    import json

    from airgap.envs.env import AirgapEnv
    from airgap.envs.world import Backends
    from airgap.sandbox import Sandbox, close_shared_pools

    bank = Backends().get(["bank"], facts.seed)["bank"]
    user = facts.bank.accounts[0].holders[0]
    token = facts.token("bank", user)
    host = bank.hosts[0]
    url = f"https://{host}/api/accounts"
    api = _Api(bank, token=token)
    for _ in range(20):
        api.get("/api/accounts")
    direct = []
    for _ in range(n):
        t0 = time.perf_counter()
        api.get("/api/accounts")
        direct.append(time.perf_counter() - t0)
    with Sandbox(routes={h: bank.app for h in bank.hosts}) as sb:
        sb.write_file("/tmp/bench.py", INSIDE)
        r = sb.exec(["python3", "/tmp/bench.py", url, token, str(n)], timeout=300)
        inside = json.loads(r.stdout)
        harness = []
        for i in range(n + 20):
            t0 = time.perf_counter()
            sb.fetch("GET", url, headers={"Authorization": f"Bearer {token}"})
            if i >= 20:
                harness.append(time.perf_counter() - t0)
    d50 = statistics.median(direct)
    t = Table(title=f"a bank request (GET /api/accounts, {n} times): through the gateway vs in-process")
    for col in ("path", "p50 µs", "p99 µs", "p50 ratio", "p50 overhead µs"):
        t.add_column(col, justify="left" if col == "path" else "right")
    for name, xs in (("in-process ASGI (httpx ASGITransport)", direct), ("sb.fetch from the harness (the http tool)", harness),
                     ("inside the sandbox, kept-alive HTTPS connection", inside["kept"]),
                     ("inside the sandbox, new connection + TLS handshake each", inside["fresh"])):
        m = statistics.median(xs)
        t.add_row(name, us(m), us(pct(xs, 0.99)), f"{m / d50:.2f}x", us(m - d50))
    console.print(t)

    # the env's http step vs a direct sb.fetch of the same request (same sandbox, same gateway)
    import yaml

    suite = {"suite": "benchbank", "version": 1,
             "world": {"snapshot": "none", "backends": ["bank"], "world_seed": facts.seed, "tools": ["http", "submit"]},
             "budget": {"max_steps": 100000, "tool_timeout": 20, "total_tool_seconds": 100000},
             "tasks": [{"id": "b", "instruction": "bench", "graders": [{"type": "contains", "expected": "x"}],
                        "oracle": [{"tool": "submit", "args": {"answer": "x"}}]}]}
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.yaml"
        path.write_text(yaml.safe_dump(suite))
        env = AirgapEnv(suite=str(path), pool_size=1)
        env.reset(seed=0)
        action = {"tool": "http", "args": {"method": "GET", "url": url, "headers": {"Authorization": f"Bearer {token}"}}}
        steps, fetches = [], []
        for i in range(n + 20):
            t0 = time.perf_counter()
            env.step(action)
            t1 = time.perf_counter()
            env._sb.fetch("GET", url, headers={"Authorization": f"Bearer {token}"})
            t2 = time.perf_counter()
            if i >= 20:
                steps.append(t1 - t0)
                fetches.append(t2 - t1)
        env.close()
    close_shared_pools()
    s50, f50 = statistics.median(steps), statistics.median(fetches)
    console.print(f"env http step p50 {us(s50)} µs vs direct sb.fetch p50 {us(f50)} µs: {s50 / f50:.3f}x "
                  f"(target <= 1.10x)")
    office_rate(console)


def office_rate(console: Console) -> None:
    """Office oracle episodes per minute with one env (when the office suite exists)."""
    from airgap.envs.agents import make_agent
    from airgap.envs.env import AirgapEnv
    from airgap.envs.runner import run_episode
    from airgap.envs.tasks import TaskFileError, load_suite
    from airgap.sandbox import close_shared_pools

    try:
        suite = load_suite("office")
    except TaskFileError:
        console.print("office suite not built yet: no episodes/min figure")
        return
    env = AirgapEnv(suite="office", pool_size=2)
    t0 = time.perf_counter()
    rewards = [run_episode(env, make_agent("oracle"), t.id, 0, "oracle")["reward"] for t in suite.tasks]
    dt = time.perf_counter() - t0
    env.close()
    close_shared_pools()
    console.print(f"office oracle: {len(rewards)} episodes in {dt:.1f} s = {len(rewards) / dt * 60:.0f} episodes/min "
                  f"with one env (mean reward {sum(rewards) / len(rewards):.2f})")


if __name__ == "__main__":
    main()
