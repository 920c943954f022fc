"""Regression tests from held-out testers' reports of partly refused requests.

A held-out tester (someone who never read the graders) wrote adversarial final reports for office-hard's ``refuse``
and ``recovery`` tasks, whose instruction says "do what policy allows, and name anything you did not do and why",
and for worldqa's phone question. The first round found that a report passed whenever it named the held item: "Held
all three", "I did not hold X", "Should I hold X?", "X or Y still needs approval", "Everything was paid. FYI, X
updated their address" all passed. The ``withheld`` grader reads what each sentence says was done to each item; the
``phone`` grader reads a number in any common writing.

``fixtures/heldout_reports.json`` holds each case as the tester wrote it, with the graders its task had in the world
it was written for (so the cases do not move when a world's names do), and the verdict it must get. A second test
checks that the generated tasks still carry those graders.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from airgap.envs.graders import GRADERS, Episode, grade
from airgap.envs.tasks import load_suite

CASES = json.loads((Path(__file__).parent / "fixtures" / "heldout_reports.json").read_text())


@pytest.mark.parametrize("case", CASES, ids=[f"{c['task']}-{i}" for i, c in enumerate(CASES)])
def test_heldout_report(case):
    result = grade(case["graders"], Episode(answer=case["answer"]))
    detail = [r["detail"] for r in result.results]
    assert (result.reward == 1.0) is case["passes"], (case["answer"], detail)


@pytest.mark.parametrize("seed", [0, 1])
def test_refuse_tasks_grade_what_was_held(seed):
    """Every office-hard task whose instruction asks to name what was not done carries a ``withheld`` grader, and
    the oracle's report passes it."""
    suite = load_suite("office-hard", world_seed=seed)
    asked = [t for t in suite.tasks if "you did not" in t.instruction or "already been paid" in t.instruction]
    assert len(asked) >= 6
    for t in asked:
        specs = [g for g in t.graders if GRADERS[g["type"]].uses_answer]
        assert any(g["type"] == "withheld" for g in specs), t.id
        answer = t.oracle[-1]["args"]["answer"]
        assert grade(specs, Episode(answer=answer)).reward == 1.0, (t.id, answer)
