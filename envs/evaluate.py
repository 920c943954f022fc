"""Evaluation: run an agent over a task suite, many episodes in parallel, resumable, with a table and an HTML report.

One evaluation is a folder::

    runs/<name>/
      config.json        what was asked (suite, agent, seed, workers, env kwargs)
      results.jsonl      one line per finished episode, appended and fsynced as each one ends
      logs/              the episode logs (tamper-evident JSONL, see docs/episode-log.md)
      report.html        summary, plots and a row per episode (self-contained)

Resuming is the same command again: tasks that already have a result line are skipped, so a killed evaluation
loses at most the episodes in flight. An episode whose *harness* failed (Docker died, say) is recorded with an
``error`` and is retried on resume; an agent's bad actions are not harness failures, they are part of its score.

Episodes run in worker processes (``spawn``, so no thread state is forked); each worker keeps one env, and so one
warm sandbox pool, for all its episodes.
"""
from __future__ import annotations

import json
import math
import multiprocessing as mp
import os
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from .episode_log import RESERVED_KEYS

RESULTS = "results.jsonl"


@dataclass
class EvalConfig:
    suite: str = "webqa"
    agent: str = "oracle"
    out: str = "runs/webqa-oracle"
    workers: int = 2
    seed: int = 0
    tasks: list[str] | None = None  # task ids; None = the whole suite
    limit: int | None = None  # only the first N tasks (after `tasks`)
    env_kwargs: dict[str, Any] = field(default_factory=dict)


def env_id_for_suite(suite: str) -> str:
    """The registered ``airgap/...`` id that serves a suite (by the ``suite`` kwarg it was registered with)."""
    import gymnasium as gym

    import airgap.envs  # noqa: F401 - registers the ids

    ids = [k for k, spec in gym.registry.items() if k.startswith("airgap/") and spec.kwargs.get("suite") == suite]
    if not ids:
        known = sorted(f"{k} ({s.kwargs.get('suite')})" for k, s in gym.registry.items() if k.startswith("airgap/"))
        raise SystemExit(f"no registered env serves suite {suite!r}; known: {', '.join(known)} (`airgap tasks list`)")
    return sorted(ids)[-1]  # the newest version


def read_results(out: Path) -> list[dict]:
    """Finished rows of an evaluation folder; a torn last line (killed mid-write) is ignored."""
    path = out / RESULTS
    rows = []
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return rows


def _append(path: Path, row: dict) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(row, sort_keys=True) + "\n")
        f.flush()
        os.fsync(f.fileno())


# --- worker side ------------------------------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _worker_init(env_id: str, env_kwargs: dict, log_dir: str) -> None:
    _WORKER.update(env_id=env_id, env_kwargs=env_kwargs, log_dir=log_dir, env=None)


def _env():
    import gymnasium as gym

    import airgap.envs  # noqa: F401

    if _WORKER.get("env") is None:
        _WORKER["env"] = gym.make(_WORKER["env_id"], log_dir=_WORKER["log_dir"], **_WORKER["env_kwargs"])
    return _WORKER["env"]


def run_episode(env, agent, task_id: str, seed: int, agent_spec: str | None = None) -> dict:
    """Play one task to the end with ``agent``; returns the result row (no wall-clock data goes into the env)."""
    t0 = time.monotonic()
    obs, info = env.reset(seed=seed, options={"task_id": task_id, "agent": agent_spec})
    agent.reset(obs, info)
    reward_total, steps, terminated, truncated = 0.0, 0, False, False
    while not (terminated or truncated):
        if hasattr(agent, "last_call"):
            agent.last_call = None
        action = agent.act(obs, info)
        call = getattr(agent, "last_call", None)
        if isinstance(call, dict):  # a model agent: its input, output, usage and latency go into the episode log
            env.unwrapped.record("model", step=steps + 1, **{k: v for k, v in call.items() if k not in RESERVED_KEYS})
        obs, reward, terminated, truncated, info = env.step(action)
        reward_total += float(reward)
        steps += 1
    return {
        "task_id": task_id,
        "reward": reward_total,
        "steps": steps,
        "tool_errors": int(info.get("error_count", 0)),
        "terminated": bool(terminated),
        "truncated": bool(truncated),
        "seconds": round(time.monotonic() - t0, 3),
        "log": str(getattr(env.unwrapped, "log_path", "") or ""),
    }


def _worker_run(task_id: str, agent_spec: str, seed: int) -> dict:
    from airgap.envs.agents import make_agent

    try:
        return run_episode(_env(), make_agent(agent_spec), task_id, seed, agent_spec)
    except Exception as e:  # a harness failure: recorded, retried on resume, never a crash of the evaluation
        env = _WORKER.pop("env", None)
        if env is not None:
            try:
                env.close()
            except Exception:  # noqa: BLE001 - the env is already broken; the error below says why
                pass
        return {"task_id": task_id, "error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc(limit=8)}


def _worker_close() -> None:
    env = _WORKER.get("env")
    if env is not None:
        env.close()


# --- driver side ------------------------------------------------------------------------------------------------


def plan(cfg: EvalConfig) -> list:
    """The tasks this evaluation covers, in suite order."""
    from airgap.envs.tasks import load_suite

    suite = load_suite(cfg.suite)
    tasks = list(suite.tasks)
    if cfg.tasks:
        wanted = set(cfg.tasks)
        unknown = wanted - {t.id for t in tasks}
        if unknown:
            raise SystemExit(f"unknown task ids for suite {cfg.suite!r}: {sorted(unknown)} (`airgap tasks list`)")
        tasks = [t for t in tasks if t.id in wanted]
    return tasks[: cfg.limit] if cfg.limit else tasks


def run_evaluation(cfg: EvalConfig, on_result: Callable[[dict, int, int], None] | None = None) -> list[dict]:
    """Run (or resume) an evaluation; returns every finished row, old and new. ``on_result(row, done, total)``."""
    out = Path(cfg.out)
    (out / "logs").mkdir(parents=True, exist_ok=True)
    config_path = out / "config.json"
    if config_path.exists():
        old = json.loads(config_path.read_text())
        for key in ("suite", "agent", "seed"):
            if old.get(key) != getattr(cfg, key):
                raise SystemExit(
                    f"{out} holds an evaluation with {key}={old.get(key)!r}, not {getattr(cfg, key)!r}; "
                    "use another --out or delete the folder to start over"
                )
    config_path.write_text(json.dumps(asdict(cfg), indent=2, sort_keys=True))

    tasks = plan(cfg)
    kinds = {t.id: t.kind for t in tasks}
    finished = {r["task_id"]: r for r in read_results(out) if "error" not in r and r["task_id"] in kinds}
    todo = [t.id for t in tasks if t.id not in finished]
    total = len(tasks)
    if on_result:
        for row in finished.values():
            on_result(row, len(finished), total)
    if todo:
        env_id = env_id_for_suite(cfg.suite)
        workers = max(1, min(cfg.workers, len(todo)))
        ctx = mp.get_context("spawn")
        initargs = (env_id, cfg.env_kwargs, str((out / "logs").resolve()))
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_init, initargs=initargs) as pool:
            pending = {pool.submit(_worker_run, tid, cfg.agent, cfg.seed) for tid in todo}
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    row = fut.result()
                    row["kind"] = kinds[row["task_id"]]
                    _append(out / RESULTS, row)
                    if "error" not in row:
                        finished[row["task_id"]] = row
                    if on_result:
                        on_result(row, len(finished), total)
            # each worker closes its env (and returns its sandboxes) before the pool goes away
            for f in [pool.submit(_worker_close) for _ in range(workers)]:
                f.result()
    rows = [finished[t.id] for t in tasks if t.id in finished]
    errors = [r for r in read_results(out) if "error" in r and r["task_id"] not in finished]
    summary = summarize(rows, total=total, failed=len({r["task_id"] for r in errors}))
    (out / "summary.json").write_text(json.dumps({"config": asdict(cfg), **summary}, indent=2, sort_keys=True))
    from airgap.envs.report import write_report

    write_report(out, cfg, rows, summary, errors)
    return rows


def wilson(successes: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval for a success rate (well-behaved at 0 and 1, unlike the normal approximation)."""
    if n == 0:
        return (0.0, 0.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def summarize(rows: list[dict], total: int, failed: int = 0) -> dict:
    """Success rate (reward >= 1) with its interval, overall and per task kind."""

    def block(rs: list[dict]) -> dict:
        n = len(rs)
        solved = sum(1 for r in rs if r["reward"] >= 1.0)
        lo, hi = wilson(solved, n)
        return {
            "episodes": n,
            "solved": solved,
            "success_rate": solved / n if n else 0.0,
            "ci95": [lo, hi],
            "mean_reward": sum(r["reward"] for r in rs) / n if n else 0.0,
            "mean_steps": sum(r["steps"] for r in rs) / n if n else 0.0,
            "tool_errors": sum(r.get("tool_errors", 0) for r in rs),
        }

    kinds = sorted({r.get("kind") or "-" for r in rows})
    return {
        "tasks": total,
        "finished": len(rows),
        "harness_failures": failed,
        "overall": block(rows),
        "by_kind": {k: block([r for r in rows if (r.get("kind") or "-") == k]) for k in kinds},
    }
