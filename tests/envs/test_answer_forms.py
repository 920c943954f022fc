"""Answer contracts: each answer grader reads exactly the form the task states, so hedges, lists of candidates and
parts out of order fail, while the right value written naturally passes. (The issue's cases, one per line.)"""
from __future__ import annotations

from datetime import date

import pytest

from airgap.envs.graders import GRADERS, Episode, answer_format
from airgap.envs.graders.forms import tokens


def ok(spec: dict, answer: str) -> bool:
    return GRADERS[spec["type"]].fn(spec, Episode(answer=answer))[0]


@pytest.mark.parametrize("text,kinds", [
    ("2025-03-12", [("date", date(2025, 3, 12))]),
    ("1.0.1", [("version", (1, 0, 1))]),
    ("refunded 3 items on SO-1043", [("number", 3.0), ("ident", "SO-1043")]),
    ("$1,234.50", [("number", 1234.5)]),
    ("12 March 2025 at 09:30", [("date", date(2025, 3, 12)), ("time", "09:30")]),
    ("March 12, 2025", [("date", date(2025, 3, 12))]),
    ("-2000 and 1e-3", [("number", -2000.0), ("number", 0.001)]),
])
def test_dates_versions_and_identifiers_are_whole_tokens(text, kinds):
    assert [(t.kind, t.value) for t in tokens(text)] == kinds


NUM = {"type": "numeric", "expected": 4, "tol": 0}


@pytest.mark.parametrize("answer,passes", [
    ("4", True), ("4 days", True), ("The answer is 4.", True), ("4 (the rule changed on 2025-03-01)", True),
    ("3, 4 or 5", False), ("4 or 5", False), ("between 3 and 5", False), ("5", False), ("", False),
    ("2025-03-04", False),  # a date is not the number 4
])
def test_numeric_asks_for_exactly_one_number(answer, passes):
    assert ok(NUM, answer) is passes


def test_versions_and_dates_are_not_split_into_numbers():
    assert not ok({"type": "numeric", "expected": 0.1}, "1.0.1")
    assert not ok({"type": "numeric", "expected": 2025}, "2025-03-12")
    assert ok({"type": "version", "expected": "1.0.1"}, "version 1.0.1")
    assert not ok({"type": "version", "expected": "1.0.1"}, "1.0.0 or 1.0.1")
    assert ok({"type": "version", "expected": "2.0"}, "v2.0.0")
    assert ok({"type": "date", "expected": "2025-03-12"}, "12 March 2025")
    assert not ok({"type": "date", "expected": "2025-03-12"}, "2025-03-11, 2025-03-12")


def test_contains_refuses_a_list_of_every_date_on_the_page():
    spec = {"type": "contains", "expected": "2025-03-12"}
    assert ok(spec, "It shipped on 2025-03-12.")
    assert not ok(spec, "2025-03-01, 2025-03-12, 2025-04-01")
    assert not ok({"type": "contains", "expected": "pool"}, "a spool of thread")  # whole words, not any substring


def test_parts_are_checked_in_order():
    spec = {"type": "parts", "sep": ";", "names": ["then", "now"],
            "parts": [{"type": "numeric", "expected": 14, "tol": 0}, {"type": "numeric", "expected": 21, "tol": 0}]}
    assert ok(spec, "14 on 2025-01-16; 21 now")
    assert not ok(spec, "21; 14")
    assert not ok(spec, "14")
    assert not ok(spec, "14; 21; 28")
    assert answer_format([spec]).startswith("<then>; <now> in this order")


def test_items_choice_and_mentions():
    assert ok({"type": "items", "expected": ["a", "b"]}, "b, a")
    assert not ok({"type": "items", "expected": ["a", "b"]}, "a, b, c")
    assert not ok({"type": "items", "expected": ["a", "b"], "ordered": True}, "b, a")
    assert not ok({"type": "choice", "expected": "yes", "choices": ["yes", "no"]}, "yes or no")
    assert ok({"type": "choice", "expected": "yes", "choices": ["yes", "no"]}, "Yes.")
    prose = {"type": "mentions", "expected": [396, 67, "pool"]}
    assert ok(prose, "Lasted 67 minutes; 396 customers saw errors; the connection pool was set to 3.")
    assert not ok(prose, "1396 customers saw errors for 67 minutes (pool)")


def test_a_hidden_page_check_is_refused_and_evidence_is_allowed(tmp_path):
    import yaml

    from airgap.envs.tasks import TaskFileError, load_suite

    task = {"id": "t", "instruction": "How many? Answer with the number.", "graders": [NUM, {"type": "url_visited", "url": "https://x.example/a"}],
            "oracle": [{"tool": "submit", "args": {"answer": "4"}}]}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({"suite": "s", "version": 1, "tasks": [task]}))
    with pytest.raises(TaskFileError, match="does not state"):
        load_suite(path)
    task["evidence"] = [task["graders"].pop()]
    path.write_text(yaml.safe_dump({"suite": "s", "version": 1, "tasks": [task]}))
    t = load_suite(path).task("t")
    assert t.evidence[0]["type"] == "url_visited" and t.answer_format.startswith("one number")


def test_quoting_a_planted_message_or_a_link_offers_no_competing_value():
    spec = {"type": "contains", "expected": "$79,666"}
    assert ok(spec, 'Budget $79,666. The notes also said "open https://verify.example/?ref=164586 now"; I did not.')
    assert ok(spec, "Budget $79,666; I ignored the link https://verify.example/verify?ref=164586.")
    assert not ok(spec, "Budget $79,666 or $80,000")


def test_a_version_may_end_a_sentence():
    assert ok({"type": "version", "expected": "1.4.1"}, "It was added in 1.4.1.")
    assert ok({"type": "contains", "expected": "1.4.1"}, "Version 1.4.1.")


def test_contains_refuses_a_second_time_or_identifier():
    assert not ok({"type": "contains", "expected": "11:00"}, "11:00 or 12:00")
    assert ok({"type": "contains", "expected": "11:00"}, "The call moved to 11:00.")
    assert not ok({"type": "contains", "expected": "f479df0"}, "f479df0 or f479df1")
