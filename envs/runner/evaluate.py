"""Evaluation: run an agent over a task suite, many episodes in parallel, resumable, with a table and an HTML report.

One evaluation is a folder (every path inside it is relative to it, so it can be moved)::

    runs/<name>/
      config.json        what was asked (suite, agent, seed, workers, env kwargs)
      results.jsonl      one line per finished episode, appended and fsynced as each one ends
      logs/              the episode logs (tamper-evident JSONL, see docs/episode-log.md)
      report.html        summary, plots and a row per episode (self-contained)
      manifest.json      every log with its head hash, and a root over them (rewritten on resume)
      manifest.sig       the root signed with this machine's Ed25519 key (``airgap.envs.logs.signing``)
      public_key.pem     the public half of that key

Each finished log is signed as its row is appended: the row records ``head``, ``signature`` and
``key_id``, and ``logs/<log>.sig`` holds the same, so a log or the whole folder can be checked with
``airgap replay verify``. The key is read here, in the driver process, never in the workers that
run the envs and their sandboxes.

Resuming is the same command again: tasks that already have a result line are skipped, so a killed
evaluation loses at most the episodes in flight. An episode whose *harness* failed (Docker died,
say) is recorded with an ``error`` and is retried on resume; an agent's bad actions are not
harness failures, they are part of its score.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from .executors import EnvSpec, Job, make_executor
from .stats import summarize, uplift

RESULTS = "results.jsonl"


class EvaluationError(ValueError):
    """An evaluation that cannot start as asked; the message says what to change."""


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
    executor: str = "local"
    closed_book: bool = False  # also run every task with only `submit` (the baseline of what the agent already knows)


def env_for_suite(suite: str) -> tuple[str, dict]:
    """(env id, extra make kwargs) for a suite: the registered ``airgap/...`` id of a bundled suite, or the
    generic ``airgap/Suite-v0`` with ``suite=<absolute path>`` for a suite file of the user's own."""
    import gymnasium as gym

    from airgap.envs import GENERIC_ENV_ID
    from airgap.envs.tasks import load_suite

    ids = [k for k, spec in gym.registry.items() if k.startswith("airgap/") and spec.kwargs.get("suite") == suite]
    if ids:
        return sorted(ids)[-1], {}  # the newest version
    loaded = load_suite(suite)  # raises TaskFileError with the problems when it is not a usable suite
    return GENERIC_ENV_ID, {"suite": str(loaded.path)}


def read_results(out: Path) -> list[dict]:
    """Finished rows of an evaluation folder; a torn last line (killed mid-write) is ignored."""
    path = Path(out) / RESULTS
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


def seal_row(row: dict, out: Path) -> dict:
    """Sign the row's log (if any, absolute path) and record ``head``, ``signature``, ``key_id``; make ``log`` relative to ``out``."""
    from airgap.envs.logs.signing import seal_log

    if row.get("log"):
        row.update(seal_log(row["log"]))
        row["log"] = os.path.relpath(row["log"], Path(out).resolve())
    return row


def world_seed_of(cfg: EvalConfig) -> int | None:
    """A generated suite (``worldqa``) is made for a world: the evaluation's seed picks it."""
    from airgap.envs.tasks import is_generated

    return cfg.seed if is_generated(cfg.suite) else None


def plan(cfg: EvalConfig) -> list:
    """The tasks this evaluation covers, in suite order."""
    from airgap.envs.tasks import load_suite

    tasks = list(load_suite(cfg.suite, world_seed=world_seed_of(cfg)).tasks)
    if cfg.tasks:
        wanted = set(cfg.tasks)
        unknown = wanted - {t.id for t in tasks}
        if unknown:
            raise EvaluationError(f"unknown task ids for suite {cfg.suite!r}: {sorted(unknown)} (`airgap tasks list`)")
        tasks = [t for t in tasks if t.id in wanted]
    return tasks[: cfg.limit] if cfg.limit else tasks


def _check_config(out: Path, cfg: EvalConfig) -> None:
    config_path = out / "config.json"
    if config_path.exists():
        old = json.loads(config_path.read_text())
        for key in ("suite", "agent", "seed"):
            if old.get(key) != getattr(cfg, key):
                raise EvaluationError(
                    f"{out} holds an evaluation with {key}={old.get(key)!r}, not {getattr(cfg, key)!r}; "
                    "use another --out or delete the folder to start over"
                )
    config_path.write_text(json.dumps(asdict(cfg), indent=2, sort_keys=True))


def run_evaluation(cfg: EvalConfig, on_result: Callable[[dict, int, int], None] | None = None) -> list[dict]:
    """Run (or resume) an evaluation; returns every finished row, old and new. ``on_result(row, done, total)``.

    With ``closed_book`` every task runs twice, with the world and with only ``submit``; rows carry
    ``condition`` ("world" or "closed_book") and the summary gives the world uplift per task kind.
    """
    from airgap.envs.logs.manifest import write_manifest
    from airgap.envs.logs.signing import SigningError, private_key

    try:
        private_key()  # a bad or missing key fails here, before any episode runs
    except SigningError as e:
        raise EvaluationError(str(e)) from None
    out = Path(cfg.out)
    logs = out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    _check_config(out, cfg)

    tasks = plan(cfg)
    env_id, suite_kwargs = env_for_suite(cfg.suite)
    kinds = {t.id: t.kind for t in tasks}
    conditions = ["world", "closed_book"] if cfg.closed_book else ["world"]
    finished = {(r["task_id"], r.get("condition", "world")): r for r in read_results(out)
                if "error" not in r and r["task_id"] in kinds and r.get("condition", "world") in conditions}
    total = len(tasks) * len(conditions)
    if on_result:
        for row in finished.values():
            on_result(row, len(finished), total)
    executor = make_executor(cfg.executor, workers=cfg.workers)
    for condition in conditions:
        kwargs = {**cfg.env_kwargs, **suite_kwargs}
        if world_seed_of(cfg) is not None:
            kwargs["world_seed"] = world_seed_of(cfg)
        if condition == "closed_book":
            kwargs["closed_book"] = True
        spec = EnvSpec(env_id, kwargs, str(logs.resolve()), suite=suite_kwargs.get("suite"))
        todo = [Job(t.id, cfg.seed, cfg.agent) for t in tasks if (t.id, condition) not in finished]
        for row in executor.run(spec, todo):
            row["kind"] = kinds[row["task_id"]]
            row["condition"] = condition
            seal_row(row, out)
            _append(out / RESULTS, row)
            if "error" not in row:
                finished[(row["task_id"], condition)] = row
            if on_result:
                on_result(row, len(finished), total)
    rows = [finished[(t.id, c)] for c in conditions for t in tasks if (t.id, c) in finished]
    errors = [r for r in read_results(out) if "error" in r and (r["task_id"], r.get("condition", "world")) not in finished]
    world_rows = [r for r in rows if r["condition"] == "world"]
    summary = summarize(world_rows, total=len(tasks), failed=len({(r["task_id"], r.get("condition")) for r in errors}))
    if cfg.closed_book:
        closed = [r for r in rows if r["condition"] == "closed_book"]
        summary["closed_book"] = summarize(closed, total=len(tasks))
        summary["uplift"] = uplift(summary, summary["closed_book"])
    (out / "summary.json").write_text(json.dumps({"config": asdict(cfg), **summary}, indent=2, sort_keys=True))
    from .report import write_report

    write_report(out, cfg, rows, summary, errors)
    write_manifest(out, read_results(out))
    return rows
