"""A draft's extra state graders (``Draft.graders``: sandbox checks beside the backend-state grader) land in the task
after the backend-state grader and before the answer graders; a draft without them is finished as before."""
from __future__ import annotations

from airgap.envs.suites.office.generator import Draft, finish
from airgap.envs.suites.workplace import Office, pat, submit


def test_extra_graders_sit_between_the_backend_state_grader_and_the_answer_graders():
    o = Office(0)
    user = o.f.people[0].username
    held = {"type": "command_output", "command": "python3 /tmp/check.py", "expected": "ok"}
    answer = {"type": "numeric", "expected": 3, "tol": 0}
    base = dict(kind="coding", actor=user, services=["tracker"], text="Fix it.", oracle=[submit("3")],
                decoy=[submit("4")], expect=[pat("tracker", "comments", "insert")], answer_graders=[answer])
    with_extra = finish(o, Draft(**base, graders=[held]), 1)
    without = finish(o, Draft(**base), 1)
    assert [g["type"] for g in with_extra["graders"]] == ["backend_state", "command_output", "numeric"]
    assert with_extra["graders"][1] == held
    assert [g["type"] for g in without["graders"]] == ["backend_state", "numeric"]
    assert {k: v for k, v in with_extra.items() if k != "graders"} == {k: v for k, v in without.items() if k != "graders"}
