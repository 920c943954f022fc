"""Run the grader audit (``airgap.envs.tasks.audit``): every case of every task, its verdict against the expected one.

Answer cases are graded here, in this process, by the task's answer graders (``airgap.envs.graders.grade`` over an
``Episode`` holding only the answer; a task's state graders are the oracle's business, proved by ``airgap evaluate
--agent oracle``) and, for a safety case, by its attack predicates over that answer (no change, no request). Episode
cases are played in the real env, their calls replayed one by one, in ``workers`` processes that each keep one env
per suite and world (a warm sandbox pool, the world's backends).

``airgap tasks audit`` prints the result per suite; a wrong verdict is a row with the task, the case, what was
expected, what the graders gave and their detail.
"""
from __future__ import annotations

import atexit
import multiprocessing as mp
import traceback
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Callable, Iterable

from airgap.envs.graders import Episode, grade
from airgap.envs.graders.security import attack_outcome
from airgap.envs.tasks import load_suite
from airgap.envs.tasks.audit import Case, answer_graders, suite_cases


@dataclass
class Verdict:
    """What the graders said about one case, and whether that is what the case expects."""

    suite: str
    seed: int
    case: Case
    reward: int | None  # None: the case could not be run (see detail)
    attack_success: bool | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        if self.reward != self.case.reward:
            return False
        return self.case.attack_success is None or self.attack_success == self.case.attack_success

    def to_dict(self) -> dict:
        return {"suite": self.suite, "seed": self.seed, **self.case.to_dict(), "got_reward": self.reward,
                "got_attack_success": self.attack_success, "ok": self.ok, "detail": self.detail}


@dataclass
class SuiteAudit:
    """The audit of one suite for one world seed."""

    suite: str
    seed: int
    tasks: int
    verdicts: list[Verdict] = field(default_factory=list)

    @property
    def wrong(self) -> list[Verdict]:
        return [v for v in self.verdicts if not v.ok]

    def by_kind(self) -> Counter:
        return Counter(v.case.name if v.case.source == "generated" else "declared" for v in self.verdicts)

    def by_mode(self) -> Counter:
        return Counter(v.case.mode for v in self.verdicts)

    def cases_per_task(self) -> Counter:
        return Counter(v.case.task_id for v in self.verdicts)


def _detail(results: list[dict]) -> str:
    return "; ".join(f"{r['type']} {'ok' if r['passed'] else 'FAIL'}: {r['detail']}" for r in results)


def grade_answer_case(task, case: Case) -> tuple[int, bool | None, str]:
    """(reward, attack success or None, detail) of an answer case: the task's answer graders on the answer alone."""
    result = grade(answer_graders(task), Episode(answer=case.answer))
    attack, detail = None, _detail(result.results)
    if task.attack is not None:
        outcome = attack_outcome(task.safety, [], [], case.answer)
        attack = outcome["attack_success"]
        met = [c["predicate"] for c in outcome["checks"] if c["met"]]
        detail += f"; attack predicates met: {met or 'none'}"
    return int(result.reward), attack, detail


# ---------------------------------------------------------------------------------------------- episodes (workers)
_ENVS: dict[tuple[str, int], object] = {}


def _close_envs() -> None:
    while _ENVS:
        _, env = _ENVS.popitem()
        try:
            env.close()
        except Exception:  # noqa: BLE001 - closing at exit: a broken env is gone either way
            pass


def _worker_init() -> None:
    atexit.register(_close_envs)


def _env(suite: str, seed: int):
    from airgap.envs.env import AirgapEnv

    key = (suite, seed)
    if key not in _ENVS:
        _ENVS[key] = AirgapEnv(suite=suite, world_seed=seed, monitors="none")
    return _ENVS[key]


def play_calls(suite: str, seed: int, task_id: str, calls: list[dict]) -> tuple[int | None, bool | None, str]:
    """Replay ``calls`` as one episode of ``task_id``: (reward, attack success or None, detail)."""
    try:
        env = _env(suite, seed)
        obs, info = env.reset(seed=0, options={"task_id": task_id})
        reward, info, ended = 0.0, {}, False
        for call in calls:
            obs, reward, terminated, truncated, info = env.step({"tool": call["tool"], "args": dict(call.get("args", {}))})
            if terminated or truncated:
                ended = True
                break
        if not ended:
            return 0, None, "the calls ended before the episode did (no submit)"
        security = info.get("security") or {}
        attack = security.get("attack_success")
        detail = _detail(info.get("grades") or [])
        if security:
            met = [c["predicate"] for c in security.get("checks", []) if c["met"]]
            detail += f"; attack predicates met: {met or 'none'}"
        return int(reward), attack, detail
    except Exception as e:  # noqa: BLE001 - a harness failure is reported as a case that could not run
        _ENVS.pop((suite, seed), None)
        return None, None, f"harness error: {type(e).__name__}: {e}\n{traceback.format_exc(limit=4)}"


def _close_worker() -> None:
    _close_envs()


# ---------------------------------------------------------------------------------------------- the audit
def plan(suites: Iterable[str], seeds: Iterable[int], *, answers: bool = True, episodes: bool = True,
         tasks: Callable | None = None) -> list[SuiteAudit]:
    """The audits to run, with their cases (verdicts not yet filled): one per suite and world seed. A suite fixed in
    a file is the same for every seed: it is audited once."""
    from airgap.envs.tasks import is_generated

    out = []
    for name in suites:
        for seed in (seeds if is_generated(name) else list(seeds)[:1]):
            suite = load_suite(name, world_seed=seed)
            chosen = [t for t in suite.tasks if tasks is None or tasks(t)]
            audit = SuiteAudit(name, seed, len(chosen))
            for task_cases in suite_cases(suite.tasks).items():
                tid, cases = task_cases
                if tasks is not None and tid not in {t.id for t in chosen}:
                    continue
                for c in cases:
                    if (c.mode == "answer" and answers) or (c.mode == "episode" and episodes):
                        audit.verdicts.append(Verdict(name, seed, c, None))
            out.append(audit)
    return out


def run(audits: list[SuiteAudit], *, workers: int = 2,
        on_verdict: Callable[[Verdict, int, int], None] | None = None) -> list[SuiteAudit]:
    """Fill every verdict: answer cases here, episode cases in ``workers`` processes. ``on_verdict(v, done, total)``."""
    total = sum(len(a.verdicts) for a in audits)
    done = 0
    jobs = []
    for a in audits:
        suite = load_suite(a.suite, world_seed=a.seed)
        for v in a.verdicts:
            if v.case.mode == "answer":
                v.reward, v.attack_success, v.detail = grade_answer_case(suite.task(v.case.task_id), v.case)
                done += 1
                if on_verdict:
                    on_verdict(v, done, total)
            else:
                jobs.append(v)
    if not jobs:
        return audits
    n = max(1, min(workers, len(jobs)))
    with ProcessPoolExecutor(n, mp_context=mp.get_context("spawn"), initializer=_worker_init) as pool:
        pending = {pool.submit(play_calls, v.suite, v.seed, v.case.task_id, v.case.calls): v for v in jobs}
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                v = pending.pop(fut)
                v.reward, v.attack_success, v.detail = fut.result()
                done += 1
                if on_verdict:
                    on_verdict(v, done, total)
        for f in [pool.submit(_close_worker) for _ in range(n)]:
            f.result()
    return audits
