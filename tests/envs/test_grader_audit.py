"""The grader audit in CI: every task of every bundled suite, world 0 and world 1, gets adversarial answers and
episodes (``airgap.envs.tasks.audit``) and its graders must give each the expected verdict.

The answer cases run for every task (no Docker, seconds); the episode cases run in the real env over a sample that
holds every task kind of ``office`` and every slot kind of each safety suite, in two worker processes.

Wrong verdicts that are known and owned elsewhere are listed in ``KNOWN`` with the reason; each entry must still
occur (so a fix makes its entry fail until it is removed), and anything else wrong fails the test.
"""
from __future__ import annotations

import re
from collections import defaultdict

import pytest

from airgap.envs.runner.audit import SuiteAudit, Verdict, plan, run
from airgap.envs.tasks import SUITES, load_suite
from airgap.envs.tasks.audit import MIN_CASES, adversarial_cases, suite_cases

SEEDS = [0, 1]

# (suite pattern, task id pattern, case-name pattern, pattern over the case's why + answer, reason). Owned by the
# suites' authors (office, safety) and the forms module's.
KNOWN: list[tuple[str, str, str, str, str]] = []  # none at present (office-043's collateral mail was fixed)


def _known(v: Verdict) -> int | None:
    text = f"{v.case.why} {v.case.answer or ''}"
    for i, (suite, task, name, pattern, _why) in enumerate(KNOWN):
        if (re.fullmatch(suite, v.suite) and re.fullmatch(task, v.case.task_id) and re.fullmatch(name, v.case.name)
                and re.search(pattern, text)):
            return i
    return None


def _check(audits: list[SuiteAudit], known_must_occur: bool) -> None:
    unexpected, seen = [], defaultdict(int)
    for a in audits:
        for v in a.wrong:
            i = _known(v)
            if i is None:
                unexpected.append(v)
            else:
                seen[i] += 1
    assert not unexpected, "wrong verdicts:\n" + "\n".join(
        f"{v.suite} w{v.seed} {v.case.task_id} {v.case.name}: expected {v.case.reward}/{v.case.attack_success}, got "
        f"{v.reward}/{v.attack_success} ({v.case.why}) answer={v.case.answer!r} detail={v.detail}" for v in unexpected[:15])
    if known_must_occur:
        def runs(i: int) -> bool:  # whether this audit holds any case the entry is about
            suite, task, name = KNOWN[i][:3]
            return any(re.fullmatch(suite, v.suite) and re.fullmatch(task, v.case.task_id) and re.fullmatch(name, v.case.name)
                       for a in audits for v in a.verdicts)
        gone = [KNOWN[i][4] for i in range(len(KNOWN)) if i not in seen and runs(i)]
        assert not gone, f"known wrong verdicts no longer occur (fixed? remove them from KNOWN): {gone}"


@pytest.fixture(scope="module")
def answer_audits() -> list[SuiteAudit]:
    return run(plan(list(SUITES), SEEDS, episodes=False))


def test_every_task_of_every_suite_gets_enough_cases():
    """At least MIN_CASES per task, answers and episodes together, in every bundled suite and both worlds."""
    for name in SUITES:
        for seed in SEEDS:
            suite = load_suite(name, world_seed=seed)
            cases = suite_cases(suite.tasks)
            short = {t: [c.name for c in cs] for t, cs in cases.items()
                     if len(cs) < MIN_CASES and not any(c.name == "oracle-answer" for c in cs)}
            assert not short, f"{name} (world {seed}): tasks with fewer than {MIN_CASES} audit cases: {short}"


def test_answer_audit_verdicts(answer_audits):
    """Every answer case of every task gets its expected verdict (apart from the known, owned ones)."""
    assert sum(len(a.verdicts) for a in answer_audits) > 5000
    _check(answer_audits, known_must_occur=True)


def test_generated_cases_are_what_they_say():
    """A few cases read as their names say, on tasks whose answers are known here."""
    webqa = load_suite("webqa")
    numeric = next(t for t in webqa.tasks if t.graders[0]["type"] == "numeric" and t.answer == "128")
    by_name = {c.name: c for c in adversarial_cases(numeric, webqa.tasks)}
    assert by_name["hedged"].answer == "128 or 129" and by_name["hedged"].reward == 0
    assert by_name["extra-number"].reward == 0 and "128" in by_name["extra-number"].answer
    worldqa = load_suite("worldqa", world_seed=0)
    dated = next(t for t in worldqa.tasks if t.graders[0]["type"] == "date")
    rewritten = [c for c in adversarial_cases(dated, worldqa.tasks) if c.name == "rewritten"]
    assert rewritten and all(c.reward == 1 and not re.search(r"\d{4}-\d{2}", c.answer) for c in rewritten)
    office = load_suite("office", world_seed=0)
    refund = office.task("office-001")
    names = {c.name for c in adversarial_cases(refund, office.tasks)}
    assert {"decoy", "partial", "no-work", "harmless-extra"} <= names
    case = load_suite("safety-injection", world_seed=0).task("inj-001.direct")
    report = next(c for c in adversarial_cases(case, load_suite("safety-injection", world_seed=0).tasks)
                  if c.name == "honest-report")
    assert report.attack_success is False and report.reward == 1 and "Keystone Escrow Services" in report.answer


def _episode_sample() -> list[SuiteAudit]:
    """Every task kind of office and office-hard (one task each), and one case per slot kind and attack of each
    safety suite."""
    audits = []
    for name in ["office", "office-hard", *[s for s in SUITES if s.startswith("safety-")]]:
        suite = load_suite(name, world_seed=0)
        chosen, kinds = set(), set()
        office = name.startswith("office")
        for t in suite.tasks:
            key = t.kind if office else (t.kind, t.attack)
            if key not in kinds and (office or t.attack in ("none", "direct")):
                kinds.add(key)
                chosen.add(t.id)
        audits += plan([name], [0], answers=False, tasks=lambda t, c=frozenset(chosen): t.id in c)
    return audits


def test_episode_audit_on_office_and_safety_sample(sandbox_image):
    """Scripted episodes (decoy, partial, collateral, no-work, harmless extra, obey) in the real env."""
    audits = run(_episode_sample(), workers=2)
    assert all(v.reward is not None for a in audits for v in a.verdicts), [
        v.detail for a in audits for v in a.verdicts if v.reward is None][:3]
    assert {a.suite for a in audits if a.verdicts} >= {"office", "office-hard", "safety-injection"}
    _check(audits, known_must_occur=False)
