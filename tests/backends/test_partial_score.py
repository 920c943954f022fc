"""Partial credit: a task's ``score`` is the fraction of its sub-goals met (each expected change, each final-state
check, no collateral change, each answer grader), beside the binary reward. Graded on world 0's real chat backend
after real API calls."""
from __future__ import annotations

from airgap.envs.graders import Episode, grade


def _posted(channel: str, text: str) -> dict:
    return {"backend": "chat", "table": "messages", "op": "insert", "where": {"text": text}}


def test_score_counts_sub_goals_met_and_reward_stays_binary(api, backends, facts):
    user = facts.people[3].username
    chat = api("chat", user)
    spec = [{"type": "backend_state", "expect": [_posted("random", "step one"), _posted("random", "step two"),
                                                  _posted("random", "step three")]},
            {"type": "numeric", "expected": 3}]

    def graded(answer):
        return grade(spec, Episode(answer=answer, backends=backends))

    nothing = graded(None)  # nothing done earns nothing: "no collateral" counts only beside a goal met
    assert nothing.reward == 0.0 and nothing.score == 0.0
    assert nothing.results[0]["met"] == 0 and nothing.results[0]["of"] == 4

    assert chat.post("/api/chat.postMessage", json={"channel": "random", "text": "step one"}).json()["ok"]
    one = graded(None)  # one change made, none stray: 2 of 4 on the state, the answer missing
    assert one.results[0]["met"] == 2 and one.score == 2 / 5

    assert chat.post("/api/chat.postMessage", json={"channel": "random", "text": "step two"}).json()["ok"]
    two = graded("3")
    assert two.reward == 0.0 and two.score == 4 / 5

    assert chat.post("/api/chat.postMessage", json={"channel": "random", "text": "step three"}).json()["ok"]
    done = graded("3")
    assert done.reward == 1.0 and done.score == 1.0

    # collateral costs its sub-goal: a stray message in a table the task works on
    assert chat.post("/api/chat.postMessage", json={"channel": "random", "text": "oops"}).json()["ok"]
    stray = graded("3")
    assert stray.reward == 0.0 and stray.score == 4 / 5 and "collateral" in stray.results[0]["detail"]


def test_a_grader_without_sub_goals_counts_as_one():
    r = grade([{"type": "numeric", "expected": 1}, {"type": "contains", "expected": "x"}], Episode(answer="1"))
    assert [x["of"] for x in r.results] == [1, 1] and r.score == 0.5 and r.reward == 0.0
