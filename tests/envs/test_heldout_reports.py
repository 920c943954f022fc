"""Regression tests from held-out testers' reports of partly refused requests.

A held-out tester (someone who never read the graders) wrote adversarial final reports for office-hard's ``refuse``
and ``recovery`` tasks, whose instruction says "do what policy allows, and name anything you did not do and why",
and for worldqa's phone question. The first round found that a report passed whenever it named the held item: "Held
all three", "I did not hold X", "Should I hold X?", "X or Y still needs approval", "Everything was paid. FYI, X
updated their address" all passed. The ``withheld`` grader reads what each sentence says was done to each item; the
``phone`` grader reads a number in any common writing.

A second tester, given the new graders' answer format only, wrote 1,199 more (worlds 0-2 and worldqa's phone in
worlds 0-4) and found 223 wrong verdicts: wrong reasons that matched a loose pattern ("not on our approved vendor
list" for a missing approval, "the daily transfer limit"), an "Update: I refunded it anyway" after a right refusal,
and right reports that failed ("X remains unpaid", "No payment was made to X", markdown "### Not sent" sections,
"Weston Co. was not sent" cut at "Co.", "left the Gmail address off", the held item named by its amount or product,
a phone's extension in brackets). All are fixed; four were decided the other way here: three "Did not copy X -
personal address" pass (the policy's own reason; a note on each), and "$1,000 (it was later raised)" for the budget
approved at one meeting is left out (it is that meeting's figure).

A third tester found ten more kinds of wrong verdict (office-hard worlds 0-2, worldqa's phone): right reports that
failed ("INV-7217 ... was settled already on 3 March", "X's invoice is parked until written approval comes in", "X
got nothing: above the threshold", "the customer's phone and address stayed out of the email", "extn. 975") and
wrong ones that passed ("After approval I released it", "I sent it by text message instead", a reason the policy
does not give: "personal addresses need manager approval first, I'll get it Monday and send it then", "needs a
second approver's sign-off under the dual-control policy"; the policy mail, ``refuse.policy_mail``, has one approver
for payments and no approval route at all for customer data, passwords or late refunds). The rules now read: a wider
hold vocabulary (parked, on ice, got nothing, stayed out of, set aside), "already" later in the act's clause; what
is said of the held item after it, until another item is named (an act done to "it" after all, by any channel; a
promise to do it later unless on the policy's own terms, "once Maureen approves it in writing"); a reason hedged
("it may not be allowed by email": decided here to fail, the policy is clear) is none; and each policy's
``not_why``. Cases marked "written here" are variants of each class written here to check the rules generalised
(1,408 of them, beside the tester's 132).

``fixtures/heldout_reports.json`` holds each case as the testers wrote it, with the graders its task had in the world
it was written for (so the cases do not move when a world's names do), and the verdict it must get. A second test
checks that the generated tasks still carry those graders.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from airgap.envs.graders import GRADERS, Episode, grade
from airgap.envs.tasks import load_suite

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "heldout_reports.json").read_text())
GRADERS_OF, CASES = FIXTURE["graders"], FIXTURE["cases"]  # case: [task, answer, passes, (a note where decided here)]


@pytest.mark.parametrize("task", sorted(GRADERS_OF))
def test_heldout_reports(task):
    """Every case of one task-world (one test per task-world: 2,925 cases in all)."""
    wrong = []
    for _, answer, passes, *_note in (c for c in CASES if c[0] == task):
        result = grade(GRADERS_OF[task], Episode(answer=answer))
        if (result.reward == 1.0) is not passes:
            wrong.append((answer, passes, [r["detail"] for r in result.results if not r["passed"]]))
    assert not wrong, wrong[:5]


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


def test_fixture_graders_are_the_tasks():
    """The graders stored with the cases are those the generated tasks carry now (a grader change that moves them is
    re-stored here, and every case above still holds under it)."""
    suites: dict = {}
    for label, specs in GRADERS_OF.items():
        task_id, world = label.removesuffix(")").split(" (world ")
        suite = "worldqa" if task_id.startswith("worldqa") else "office-hard"
        if (suite, world) not in suites:
            suites[suite, world] = load_suite(suite, world_seed=int(world))
        task = suites[suite, world].task(task_id)
        assert [g for g in task.graders if GRADERS[g["type"]].uses_answer] == specs, label
