#!/usr/bin/env python3
"""Benchmark episode logging, verification and replay; prints one table of ratios.

What it measures, and the baseline each number is a ratio to (measured in the same run):

1. logging cost per step, on synthetic steps: the events a typical step writes (action,
   validation, two sandbox events, observation; 2 KB observation, every 5th step 12 KB so it
   goes to a blob) written to a real file, vs the same step with logging off (the step's own
   work: building those dicts and the observation text). Reported in µs per step.
2. logging cost on real env `shell` steps (needs Docker): AirgapEnv with ``log_dir`` vs
   without, same commands; the issue's target is a ratio ≤ 1.05. Then the whole safety pipeline
   on the same steps: effects capture in the sandbox (its tracer of the agent's processes and the
   files' manifest) + the six live monitors + the log, vs none of them (target ≤ 1.10), with the
   tracer on and off, and the capture alone (target ≤ 1.05); ``--pipeline`` runs only this part.
3. verify throughput in events/s (with and without JSON Schema validation).
4. replay time of a 100-step episode vs its original run (reset + steps on both sides; the
   real env when Docker is there, otherwise a small in-process env, reported as such).

Usage: .venv/bin/python scripts/bench_logs.py [--steps 300] [--no-env] [--pipeline]
Timings depend on the machine and its load: compare ratios, not absolute numbers, and run it
when the machine is quiet (tests never assert on these).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import string
import sys
import tempfile
import time
from pathlib import Path

from airgap.envs.logs import EpisodeLog, verify
from airgap.sandbox import engine_reachable

BENCH_ENV_ID = "airgap-bench/Shell-v0"
ROWS: list[tuple[str, str, str, str]] = []


def row(what: str, baseline: str, value: str, ratio: str) -> None:
    ROWS.append((what, baseline, value, ratio))
    print(f"  {what}: {value}  ({ratio} vs {baseline})", flush=True)


def _synthetic_step(k: int, log: EpisodeLog | None) -> None:
    """The dicts and text a real step produces, then (when logging) the five events it writes."""
    obs = ("x" * 79 + "\n") * (150 if k % 5 == 0 else 25)  # 12 KB (blob) or 2 KB (inline)
    action = {"tool": "shell", "args": {"command": f"echo {k}"}}
    info = {"step": k, "tool": "shell", "ok": True, "error": None, "truncated_output": False, "error_count": 0}
    exec_ev = {"type": "exec", "sandbox": "sb-bench", "cmd": f"echo {k}", "exit_code": 0, "duration_ms": 3.1,
               "stdout": obs, "stderr": "", "timed_out": False}
    http_ev = {"type": "http", "sandbox": "sb-bench", "source": "sandbox", "method": "GET", "url": "https://docs.python.org/3.11/",
               "host": "docs.python.org", "status": 200}
    if log is not None:
        log.append("action", step=k, action=action, tool="shell", args=action["args"])
        log.append("validation", step=k, ok=True, error=None)
        log.sink(exec_ev)
        log.sink(http_ev)
        log.append("observation", step=k, observation=obs, reward=0.0, terminated=False, truncated=False, info=info)


def bench_synthetic(tmp: Path, steps: int) -> None:
    print("synthetic steps", flush=True)
    off, on = [], []
    for rep in range(5):
        t0 = time.perf_counter()
        for k in range(1, steps + 1):
            _synthetic_step(k, None)
        off.append((time.perf_counter() - t0) / steps)
        log = EpisodeLog(tmp / f"synthetic-{rep}.jsonl", {"env_id": "bench", "seed": rep})
        t0 = time.perf_counter()
        for k in range(1, steps + 1):
            _synthetic_step(k, log)
        on.append((time.perf_counter() - t0) / steps)
        log.close(status="closed")
    off_s, on_s = statistics.median(off), statistics.median(on)
    cost = on_s - off_s
    row("logging a synthetic step (5 events, 1 in 5 with a 12 KB blob)", "same step, logging off",
        f"{cost * 1e6:.0f} µs/step = {cost / 5 * 1e6:.0f} µs/event ({on_s * 1e6:.0f} vs {off_s * 1e6:.0f} µs)",
        f"+{cost * 1e6:.0f} µs (a null step: see the env row for a real ratio)")


def bench_verify(tmp: Path, events: int) -> None:
    print("verify", flush=True)
    p = tmp / "verify.jsonl"
    log = EpisodeLog(p, {"env_id": "bench", "seed": 0})
    k = 0
    while log.n_events < events - 1:
        k += 1
        _synthetic_step(k, log)
    log.close(status="closed")
    n = verify(p).n_events
    for schema in (False, True):
        ts = []
        for _ in range(3):
            t0 = time.perf_counter()
            r = verify(p, check_schema=schema)
            ts.append(time.perf_counter() - t0)
            assert r.ok, r
        t = statistics.median(ts)
        row(f"verify {'with' if schema else 'without'} schema", "-", f"{n / t:,.0f} events/s ({n} events, {t * 1000:.0f} ms)", "-")


# --------------------------------------------------------------------------- real env


def _bench_suite(tmp: Path, max_steps: int) -> Path:
    """A one-task suite with a big enough step budget for a 100-step episode and no web."""
    suite = {
        "suite": "bench", "version": 1,
        "world": {"snapshot": "none", "tools": ["shell", "submit"], "sandbox": {"memory": "256m"}},
        "budget": {"max_steps": max_steps, "tool_timeout": 10, "total_tool_seconds": 3600},
        "tasks": [{
            "id": "bench-shell", "kind": "shell", "instruction": "Print 1, then submit 1.",
            "graders": [{"type": "numeric", "expected": 1}],
            "oracle": [{"tool": "shell", "args": {"command": "echo 1"}}, {"tool": "submit", "args": {"answer": "1"}}],
        }],
    }
    p = tmp / "bench-suite.yaml"
    import yaml

    p.write_text(yaml.safe_dump(suite, sort_keys=False))
    return p


def _register(suite: Path) -> None:
    import gymnasium as gym

    import airgap.envs  # noqa: F401

    if BENCH_ENV_ID not in gym.registry:
        gym.register(BENCH_ENV_ID, entry_point="airgap.envs.env:AirgapEnv", max_episode_steps=None,
                     kwargs={"suite": str(suite)})


def _shell_episode(log_dir: Path | None, n: int, monitors: str | None = None,
                   capture: str = "off") -> tuple[float, list[float], Path | None]:
    """One episode of ``n`` shell steps then submit; (episode seconds, per-step seconds, log path). ``capture`` is the
    sandbox's effects capture (off unless a row measures it, so that the logging rows measure logging alone)."""
    import gymnasium as gym

    env = gym.make(BENCH_ENV_ID, log_dir=str(log_dir) if log_dir else None, monitors=monitors, capture=capture)
    try:
        t_ep = time.perf_counter()  # reset + steps: what `rerun` times too
        env.reset(seed=0, options={"task_id": "bench-shell"})
        per = []
        for k in range(n):
            t0 = time.perf_counter()
            env.step({"tool": "shell", "args": {"command": f"echo step {k}; seq 1 40"}})
            per.append(time.perf_counter() - t0)
        env.step({"tool": "submit", "args": {"answer": "1"}})
        total = time.perf_counter() - t_ep
        path = env.unwrapped.log_path
    finally:
        env.close()
    return total, per, path


def bench_env(tmp: Path, steps: int) -> None:
    from airgap.envs.replay import rerun

    print("real env (Docker)", flush=True)
    suite = _bench_suite(tmp, max_steps=max(steps, 100) + 5)
    _register(suite)
    _shell_episode(None, 5)  # warm the pool and the image
    # time spent inside EpisodeLog.append (which sink() also goes through), measured directly:
    # on a shared machine the difference of two medians is noisier than the cost itself
    spent = [0.0]
    original = EpisodeLog.append

    def timed_append(self, *a, **kw):
        t0 = time.perf_counter()
        try:
            return original(self, *a, **kw)
        finally:
            spent[0] += time.perf_counter() - t0

    offs, ons = [], []
    EpisodeLog.append = timed_append
    try:
        for rep in range(4):  # interleaved so that load changes hit both sides alike
            _, per_off, _ = _shell_episode(None, steps)
            _, per_on, _ = _shell_episode(tmp / f"env-logs-{rep}", steps)  # monitors off: logging alone
            offs += per_off
            ons += per_on
    finally:
        EpisodeLog.append = original
    off_s, on_s = statistics.median(offs), statistics.median(ons)
    in_log = spent[0] / len(ons)  # includes the reset/end events, spread over the steps: an upper bound
    row("env shell step: time inside EpisodeLog", "the step with logging off",
        f"{in_log * 1000:.2f} ms of a {off_s * 1000:.2f} ms step", f"+{in_log / off_s * 100:.1f}% (target ≤ 5%)")
    row("env shell step, logging on vs off (A/B medians)", "logging off",
        f"{on_s * 1000:.2f} ms vs {off_s * 1000:.2f} ms per step", f"{on_s / off_s:.3f}x (noisy on a shared machine)")

    # the six live safety monitors on top of logging (they read every event the log takes)
    plain, watched = [], []
    for rep in range(4):
        _, per_plain, _ = _shell_episode(tmp / f"env-plain-{rep}", steps, monitors=None)
        _, per_watched, _ = _shell_episode(tmp / f"env-watched-{rep}", steps, monitors="all")
        plain += per_plain
        watched += per_watched
    p_s, w_s = statistics.median(plain), statistics.median(watched)
    row("env shell step, logged: six live monitors vs none (A/B medians)", "logged, no monitors",
        f"{w_s * 1000:.2f} ms vs {p_s * 1000:.2f} ms per step", f"{w_s / p_s:.3f}x")

    bench_pipeline(tmp, steps, warm=False)

    total, _, log = _shell_episode(tmp / "env-100", 100)
    r = rerun(log)
    assert r.ok, [d.message for d in r.divergences]
    row("replay run of a 100-step episode (env)", "its original run",
        f"{r.replay_s:.2f} s vs {total:.2f} s (reset + 101 steps each; replay logs nothing)", f"{r.replay_s / total:.2f}x")
    from airgap.sandbox import close_shared_pools

    close_shared_pools()


PIPELINES = {  # name: (log, monitors, capture)
    "none": (False, None, "off"),
    "capture only (tracer and manifest)": (False, None, "effects"),
    "capture + monitors + log": (True, "all", "effects"),
    "monitors + log, capture off": (True, "all", "off"),
    "capture (every open) + monitors + log": (True, "all", "opens"),
}


def bench_pipeline(tmp: Path, steps: int, warm: bool = True) -> None:
    """The safety pipeline's cost on real shell steps: one env per configuration of PIPELINES, all open at once, stepped
    in turn (one step each, round after round, the order rotating), so that load changes hit every configuration
    alike; each configuration's median step against the median step with none of it."""
    import gymnasium as gym

    print("the safety pipeline (capture, monitors, log) on env shell steps", flush=True)
    if warm:
        suite = _bench_suite(tmp, max_steps=max(steps, 100) + 5)
        _register(suite)
    names = list(PIPELINES)
    per: dict[str, list[float]] = {name: [] for name in names}
    for episode in range(3):
        envs = {}
        for name, (log, monitors, capture) in PIPELINES.items():
            envs[name] = gym.make(BENCH_ENV_ID, log_dir=str(tmp / f"pipe-{episode}") if log else None, monitors=monitors,
                                  capture=capture)
            envs[name].reset(seed=0, options={"task_id": "bench-shell"})
        try:
            for k in range(steps):
                order = names[k % len(names):] + names[:k % len(names)]
                for name in order:
                    t0 = time.perf_counter()
                    envs[name].step({"tool": "shell", "args": {"command": f"echo step {k}; seq 1 40"}})
                    if k >= 3:  # the first steps warm each env's sandbox and caches
                        per[name].append(time.perf_counter() - t0)
        finally:
            for env in envs.values():
                env.close()
    base = statistics.median(per["none"])
    for name in names[1:]:
        med = statistics.median(per[name])
        target = " (target ≤ 1.10)" if "monitors" in name else " (target ≤ 1.05)"
        row(f"env shell step: {name}", "none of it", f"{med * 1000:.2f} ms vs {base * 1000:.2f} ms per step "
            f"({len(per[name])} steps each)", f"{med / base:.3f}x{target}")


def bench_replay_toy(tmp: Path) -> None:
    """Without Docker: replay a 100-step episode of a small in-process env that logs like AirgapEnv."""
    import gymnasium as gym

    from airgap.envs.replay import rerun

    class Echo(gym.Env):
        def __init__(self, log_dir=None):
            self.log_dir = log_dir
            self.observation_space = gym.spaces.Text(100_000, charset=string.printable)
            self.action_space = gym.spaces.Text(1000, charset=string.printable)

        def reset(self, *, seed=None, options=None):
            super().reset(seed=seed)
            self.k, self.log = 0, None
            if self.log_dir:
                self.log = EpisodeLog(Path(self.log_dir) / f"echo-{time.monotonic_ns()}.jsonl",
                                      {"env_id": "airgap-bench/Echo-v0", "seed": seed, "task_id": "echo"})
                self.log.append("reset", step=0, observation="echo", info={})
            return "echo", {}

        def step(self, action):
            self.k += 1
            obs = json.dumps(action, sort_keys=True) * 20  # logged actions come back with sorted keys
            if self.log:
                self.log.append("action", step=self.k, action=action)
                self.log.append("observation", step=self.k, observation=obs, reward=0.0, terminated=False, truncated=False)
            return obs, 0.0, False, False, {}

        def close(self):
            if self.log and not self.log.closed:
                self.log.close(status="closed")

    if "airgap-bench/Echo-v0" not in gym.registry:
        gym.register("airgap-bench/Echo-v0", entry_point=Echo)
    env = gym.make("airgap-bench/Echo-v0", log_dir=str(tmp))
    t0 = time.perf_counter()
    env.reset(seed=0, options={"task_id": "echo"})
    for k in range(100):
        env.step({"tool": "echo", "args": {"k": k}})
    log = env.unwrapped.log.path
    env.close()
    total = time.perf_counter() - t0
    r = rerun(log)
    assert r.ok
    row("replay run of a 100-step episode (in-process toy env, no Docker)", "its original run",
        f"{r.replay_s * 1000:.1f} ms vs {total * 1000:.1f} ms", f"{r.replay_s / total:.2f}x")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=300, help="steps per synthetic run, and env shell steps per episode / 3")
    ap.add_argument("--verify-events", type=int, default=10_000)
    ap.add_argument("--no-env", action="store_true", help="skip the real-env (Docker) measurements")
    ap.add_argument("--pipeline", action="store_true", help="only the safety pipeline's cost on real shell steps")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="airgap-bench-logs-"))
    try:
        if args.pipeline:
            bench_pipeline(tmp, max(20, args.steps // 3))
            from airgap.sandbox import close_shared_pools

            close_shared_pools()
            return _print_table()
        bench_synthetic(tmp, args.steps)
        bench_verify(tmp, args.verify_events)
        if not args.no_env and engine_reachable():
            bench_env(tmp, max(20, args.steps // 3))
        else:
            print("real env skipped (no Docker or --no-env): replay measured on an in-process env")
            bench_replay_toy(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return _print_table()


def _print_table() -> int:
    from rich.console import Console
    from rich.table import Table

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    t = Table(title=f"episode logs (python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load})")
    for c in ("measurement", "baseline", "value", "ratio"):
        t.add_column(c)
    for r in ROWS:
        t.add_row(*r)
    Console().print(t)
    return 0


if __name__ == "__main__":
    sys.exit(main())
