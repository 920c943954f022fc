"""Executors: where episodes run. ``local`` runs them in worker processes on this machine; another executor (Ray) plugs in here.

An executor takes a list of :class:`Job` and yields one result row per job, in order of
completion. Each worker keeps one env (and so one warm sandbox pool) for all its episodes; a
harness failure in a job becomes a row with an ``error`` (retried on resume), never a crash.
"""
from __future__ import annotations

import multiprocessing as mp
import traceback
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Protocol


@dataclass(frozen=True)
class Job:
    """One episode to play: which task, with which seed, by which agent."""

    task_id: str
    seed: int
    agent: str


@dataclass(frozen=True)
class EnvSpec:
    """How a worker makes its env: ``gymnasium.make(env_id, log_dir=log_dir, **env_kwargs)``."""

    env_id: str
    env_kwargs: dict
    log_dir: str
    suite: str | None = None  # passed to make_agent (the oracle finds tasks of a suite given by path)


class Executor(Protocol):
    def run(self, spec: EnvSpec, jobs: list[Job]) -> Iterator[dict]: ...


EXECUTORS: dict[str, Callable[..., Executor]] = {}


def register_executor(name: str):
    def deco(factory):
        EXECUTORS[name] = factory
        return factory

    return deco


def make_executor(name: str, **kwargs: Any) -> Executor:
    if name not in EXECUTORS:
        raise ValueError(f"unknown executor {name!r}; known: {sorted(EXECUTORS)}")
    return EXECUTORS[name](**kwargs)


# --- worker side (also usable in-process) ----------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def worker_init(spec: EnvSpec) -> None:
    _WORKER.clear()
    _WORKER.update(spec=spec, env=None)


def _env():
    import gymnasium as gym

    import airgap.envs  # noqa: F401 - registers the ids

    if _WORKER.get("env") is None:
        spec: EnvSpec = _WORKER["spec"]
        _WORKER["env"] = gym.make(spec.env_id, log_dir=spec.log_dir, **spec.env_kwargs)
    return _WORKER["env"]


def worker_run(job: Job) -> dict:
    """Play one job in this worker's env; a harness failure comes back as a row with ``error``."""
    from airgap.envs.agents import make_agent

    from .episode import run_episode

    try:
        return run_episode(_env(), make_agent(job.agent, suite=_WORKER["spec"].suite), job.task_id, job.seed, job.agent)
    except Exception as e:  # a harness failure: recorded, retried on resume, never a crash of the evaluation
        env = _WORKER.pop("env", None)
        if env is not None:
            try:
                env.close()
            except Exception:  # noqa: BLE001 - the env is already broken; the error below says why
                pass
        return {"task_id": job.task_id, "seed": job.seed, "error": f"{type(e).__name__}: {e}",
                "traceback": traceback.format_exc(limit=8)}


def worker_close() -> None:
    env = _WORKER.pop("env", None)
    if env is not None:
        env.close()


@register_executor("local")
class LocalExecutor:
    """Worker processes on this machine (``spawn``: no thread state is forked), ``workers`` at a time."""

    def __init__(self, workers: int = 2):
        self.workers = max(1, int(workers))

    def run(self, spec: EnvSpec, jobs: list[Job]) -> Iterator[dict]:
        if not jobs:
            return
        workers = min(self.workers, len(jobs))
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=worker_init,
                                 initargs=(spec,)) as pool:
            pending = {pool.submit(worker_run, job) for job in jobs}
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    yield fut.result()
            # each worker closes its env (and returns its sandboxes) before the pool goes away
            for f in [pool.submit(worker_close) for _ in range(workers)]:
                f.result()
