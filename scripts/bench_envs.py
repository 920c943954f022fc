#!/usr/bin/env python3
"""Benchmark: what the gymnasium env costs on top of the sandbox and the corpus, and episode throughput.

    .venv/bin/python scripts/bench_envs.py [--steps 200] [--episodes 24] [--rounds 5]

1. Steps/s of ``search`` and ``shell`` steps through ``AirgapEnv.step`` vs the same work called
   directly, on the same sandbox, in the same run, interleaved call by call (A, B, A, B...) so
   machine noise hits both alike; the overhead is the ratio of median call times (target <= 1.10).
   Baselines: ``sandbox.exec("true")`` for shell; for search ``sandbox.fetch`` of the search API
   (the same gateway path the env uses, so the log sees it) and, for reference, ``Snapshot.search``
   in-process (no gateway, no HTTP, no JSON).
2. Episodes/min of the oracle over the ``webqa`` and ``sandbox`` suites with 1, 2 and 4 async envs
   (``gym.make_vec(..., vectorization_mode="async")``), with sandboxes recycled between episodes (the
   default) and with a fresh container per episode (``fresh_containers=True``, the behaviour before
   recycling), interleaved row by row in one run (issue 12: recycled >= 3x fresh at 2 envs).

    .venv/bin/python scripts/bench_envs.py --skip-steps --suites webqa,sandbox --envs 1,2,4 --episodes 48

Nothing here is asserted; the numbers go in the README. Needs the base image and the bundled
snapshot (``airgap sandbox build``, ``airgap corpus build-default``).
"""
from __future__ import annotations

import argparse
import statistics
import time

import gymnasium as gym
import numpy as np

import airgap.envs  # noqa: F401 - registers the ids
from airgap.envs.agents import make_agent
from airgap.envs.env import AirgapEnv, split_vector_info
from airgap.sandbox import close_shared_pools

QUERIES = ["json dumps indent", "sqlite foreign key", "functools lru_cache", "asyncio gather", "pathlib glob",
           "re fullmatch", "sqlite window functions", "collections Counter most_common"]


def ab(name: str, env_fn, direct_fns: dict, n: int, rounds: int) -> list[tuple]:
    """Interleave single calls (env, direct, env, direct, ...) so load changes on a shared machine hit
    both alike; rates are 1 / median call time. Rows: (name, env/s, baseline, baseline/s, time ratio)."""
    env_times: list[float] = []
    direct_times: dict[str, list[float]] = {k: [] for k in direct_fns}
    for i in range(n * rounds):
        t0 = time.perf_counter()
        env_fn(i)
        env_times.append(time.perf_counter() - t0)
        for k, fn in direct_fns.items():
            t0 = time.perf_counter()
            fn(i)
            direct_times[k].append(time.perf_counter() - t0)
    e = statistics.median(env_times)
    return [(name, 1 / e, k, 1 / statistics.median(ts), e / statistics.median(ts)) for k, ts in direct_times.items()]


BENCH_SUITE = {
    "suite": "bench", "version": 1,
    "world": {"snapshot": "default", "tools": ["search", "shell"]},
    "budget": {"max_steps": 10**6, "tool_timeout": 20, "total_tool_seconds": 10**6},
    "tasks": [{"id": "bench-1", "instruction": "Benchmark.", "graders": [{"type": "contains", "expected": "never"}],
               "oracle": [{"tool": "submit", "args": {"answer": "never"}}]}],
}


def bench_steps(steps: int, rounds: int) -> list[tuple]:
    import tempfile
    from pathlib import Path

    import yaml

    from airgap.envs.world import offline_web

    suite = Path(tempfile.mkdtemp()) / "bench.yaml"
    suite.write_text(yaml.safe_dump(BENCH_SUITE))
    env = AirgapEnv(str(suite), max_output=8000)
    rows = []
    try:
        env.reset(seed=0)
        sb = env._sb
        snap, _ = offline_web("default")

        def env_search(i):
            env.step({"tool": "search", "args": {"query": QUERIES[i % len(QUERIES)], "k": 5}})

        def fetch_search(i):
            import urllib.parse

            q = urllib.parse.urlencode({"q": QUERIES[i % len(QUERIES)], "k": 5})
            sb.fetch("GET", f"https://search.airgap/api/search?{q}").json()

        def corpus_search(i):
            snap.search(QUERIES[i % len(QUERIES)], k=5)

        rows += ab("search", env_search, {"sb.fetch /api/search": fetch_search, "Snapshot.search": corpus_search}, steps, rounds)

        def env_shell(i):
            env.step({"tool": "shell", "args": {"command": "true"}})

        def direct_shell(i):
            sb.exec("true", timeout=20, max_output=1 << 20)

        rows += ab("shell", env_shell, {"sb.exec": direct_shell}, steps, rounds)
    finally:
        env.close()
        close_shared_pools()
    return rows


SUITE_IDS = {"webqa": "airgap/WebQA-v0", "sandbox": "airgap/Sandbox-v0"}


def bench_episodes(num_envs: int, episodes: int, suite: str = "webqa", fresh_containers: bool = False) -> float:
    """Oracle episodes per minute over ``suite`` with ``num_envs`` async envs (resets included)."""
    envs = gym.make_vec(SUITE_IDS[suite], num_envs=num_envs, vectorization_mode="async",
                        fresh_containers=fresh_containers)
    agents = [make_agent("oracle") for _ in range(num_envs)]
    try:
        obs, info = envs.reset(seed=0)
        infos = split_vector_info(info, num_envs)
        for i, a in enumerate(agents):
            a.reset(obs[i], infos[i])
        restarted = np.zeros(num_envs, dtype=bool)
        finished = 0
        t0 = time.perf_counter()
        while finished < episodes:
            obs, reward, terminated, truncated, info = envs.step(tuple(a.act(obs[i], infos[i]) for i, a in enumerate(agents)))
            infos = split_vector_info(info, num_envs)
            for i in range(num_envs):
                if restarted[i]:
                    agents[i].reset(obs[i], infos[i])
                    restarted[i] = False
                elif terminated[i] or truncated[i]:
                    finished += 1
                    restarted[i] = True
        return finished / (time.perf_counter() - t0) * 60
    finally:
        envs.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=200, help="calls per round")
    ap.add_argument("--rounds", type=int, default=5, help="rounds (calls = steps x rounds, interleaved env/direct)")
    ap.add_argument("--episodes", type=int, default=24, help="oracle episodes per vector-env size")
    ap.add_argument("--envs", default="1,2,4", help="vector-env sizes")
    ap.add_argument("--suites", default="webqa,sandbox", help="suites for the episode rows: webqa, sandbox")
    ap.add_argument("--skip-steps", action="store_true", help="only the episode rows")
    args = ap.parse_args()

    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not args.skip_steps:
        t = Table(title=f"env step overhead ({args.rounds * args.steps} interleaved calls each, median call time)")
        for col in ("step", "env steps/s", "baseline", "baseline calls/s", "env time / baseline time"):
            t.add_column(col, justify="right" if "/s" in col or "time" in col else "left")
        for name, e, k, d, ratio in bench_steps(args.steps, args.rounds):
            t.add_row(name, f"{e:.0f}", k, f"{d:.0f}", f"{ratio:.3f}")
        console.print(t)

    t = Table(title=f"oracle episodes/min, {args.episodes} episodes per cell (gym.make_vec async), recycled vs fresh")
    for col in ("suite", "envs", "recycled", "fresh containers", "recycled / fresh", "recycled vs 1 env"):
        t.add_column(col, justify="right")
    for suite in args.suites.split(","):
        base = None
        for n in [int(x) for x in args.envs.split(",")]:
            fresh = bench_episodes(n, args.episodes, suite, fresh_containers=True)
            close_shared_pools()
            recycled = bench_episodes(n, args.episodes, suite)
            close_shared_pools()
            base = base or recycled
            t.add_row(suite, str(n), f"{recycled:.1f}", f"{fresh:.1f}", f"{recycled / fresh:.2f}x",
                      f"{recycled / base:.2f}x")
    console.print(t)


if __name__ == "__main__":
    main()
