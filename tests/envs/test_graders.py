"""Graders: each type on right, wrong and empty answers; reward 1 iff all pass; bad specs rejected."""
import pytest

from airgap.envs.graders import Episode, grade, normalize, normalize_url, passes_on_empty_answer, validate_spec


def ok(spec, answer=None, **kw):
    return grade([spec], Episode(answer=answer, **kw)).reward == 1.0


def test_normalized_match():
    spec = {"type": "normalized_match", "expected": ["indent", "the indent parameter"]}
    assert ok(spec, " Indent. ") and ok(spec, "Indent parameter")
    assert not ok(spec, "indentation") and not ok(spec, "") and not ok(spec, None)


def test_contains_any_of():
    spec = {"type": "contains", "expected": ["indent", "sort_keys"]}
    assert ok(spec, "Use the INDENT argument") and ok(spec, "sort_keys=True")
    assert not ok(spec, "separators") and not ok(spec, "")


def test_numeric_with_tolerance_and_thousands():
    assert ok({"type": "numeric", "expected": 128, "tol": 0}, "maxsize defaults to 128")
    assert ok({"type": "numeric", "expected": 1000000}, "1,000,000")
    assert ok({"type": "numeric", "expected": 3.14, "tol": 0.01}, "3.141")
    assert not ok({"type": "numeric", "expected": 3.14, "tol": 0.01}, "about 3.141")  # a hedge: one plain value asked
    assert not ok({"type": "numeric", "expected": 128, "tol": 0}, "127") and not ok({"type": "numeric", "expected": 0}, "")


def test_regex_and_f1():
    assert ok({"type": "regex", "pattern": r"^\s*3\.8\s*$"}, "3.8")
    assert not ok({"type": "regex", "pattern": "x*"}, "")  # an empty answer never passes
    assert ok({"type": "f1", "expected": "the quick brown fox", "threshold": 0.8}, "quick brown fox")
    assert not ok({"type": "f1", "expected": "the quick brown fox", "threshold": 0.8}, "a slow dog")


def test_url_visited_reads_gateway_http_events():
    events = [
        {"type": "http", "url": "https://docs.python.org/3.11/library/json.html#basic-usage", "status": 200},
        {"type": "http", "url": "https://docs.python.org/3.11/missing.html", "status": 404},
    ]
    spec = {"type": "url_visited", "url": "http://DOCS.python.org/3.11/library/json.html"}
    assert ok(spec, http_events=events)
    assert not ok({"type": "url_visited", "url": "https://docs.python.org/3.11/missing.html"}, http_events=events)
    assert not ok(spec)
    assert normalize_url("https://x.org/a/index.html") == normalize_url("http://x.org/a/")


class FakeSandbox:
    """Stands in for airgap.sandbox.Sandbox in grader unit tests (the env tests use the real one)."""

    def __init__(self, files):
        self.files = files

    def read_file(self, path):
        if path not in self.files:
            raise FileNotFoundError(path)
        return self.files[path].encode()

    def exec(self, cmd, timeout=None):
        from types import SimpleNamespace

        return SimpleNamespace(exit_code=0, stdout=self.files.get("/out", ""), stderr="")


def test_sandbox_state_graders():
    sb = FakeSandbox({"/workspace/out.txt": "x\n42\n", "/out": "ok\n"})
    assert ok({"type": "file_contains", "path": "/workspace/out.txt", "pattern": "^42$"}, sandbox=sb)
    assert not ok({"type": "file_contains", "path": "/workspace/none.txt", "pattern": "."}, sandbox=sb)
    assert ok({"type": "command_output", "command": "true", "expected": "ok"}, sandbox=sb)
    assert not ok({"type": "command_output", "command": "true", "expected": "ko"}, sandbox=sb)


def test_backend_state_without_backends_fails_with_a_reason():
    r = grade([{"type": "backend_state", "expect": [{"backend": "mail", "table": "messages", "op": "insert"}]}], Episode(answer="x"))
    assert r.reward == 0.0 and "not part of this world" in r.results[0]["detail"]
    assert "doing nothing passes" in validate_spec({"type": "backend_state", "allow": [{"backend": "mail"}]})[0]


def test_reward_is_one_iff_all_pass_and_every_verdict_is_reported():
    specs = [{"type": "contains", "expected": "b"}, {"type": "numeric", "expected": 1}]
    r = grade(specs, Episode(answer="a b c 1"))
    assert r.reward == 1.0 and [x["passed"] for x in r.results] == [True, True]
    r = grade(specs, Episode(answer="a b c"))
    assert r.reward == 0.0 and [x["passed"] for x in r.results] == [True, False]
    assert grade([], Episode(answer="x")).reward == 0.0


@pytest.mark.parametrize("spec,needle", [
    ({"type": "nope"}, "unknown grader type"),
    ({"type": "contains"}, "'expected' is a required property"),
    ({"type": "contains", "expected": ""}, "expected"),
    ({"type": "regex", "pattern": "("}, "bad regex"),
    ({"type": "numeric", "expected": 1, "tolerance": 2}, "tolerance"),
    ("contains", "a grader is a mapping"),
])
def test_bad_specs_are_explained(spec, needle):
    assert needle in " ".join(validate_spec(spec))


def test_specs_that_pass_an_empty_answer_are_detected():
    assert passes_on_empty_answer({"type": "numeric", "expected": 0}) is False
    assert passes_on_empty_answer({"type": "regex", "pattern": "^$"}) is False
    assert passes_on_empty_answer({"type": "f1", "expected": "x", "threshold": 0.5}) is False
    assert normalize("The  Quick, brown fox!") == "quick brown fox"


def test_backend_pattern_contains_operator():
    from airgap.envs.graders.backend import matches

    change = {"backend": "tracker", "table": "comments", "id": 7, "op": "insert", "before": None,
              "after": {"issue": 3, "body": "Outage of 67 minutes; 396 customers saw errors (connection Pool)."}}
    assert matches({"backend": "tracker", "table": "comments", "where": {"body": {"$contains": ["396", "67", "pool"]}}}, change)
    assert not matches({"backend": "tracker", "where": {"body": {"$contains": ["396", "cache"]}}}, change)
    assert matches({"backend": "tracker", "where": {"issue": 3, "body": {"$contains": "customers"}}}, change)


def test_backend_state_separates_collateral_from_harmless_extras():
    """strict (default) fails any change besides expect/allow unless it is a declared harmless extra outside the
    tables the task works on (never a deletion); strict: false fails only `forbid`."""
    from airgap.envs.graders.backend import _sort_out

    refund = {"backend": "shop", "table": "refunds", "id": 1, "op": "insert", "before": None, "after": {"order_id": "SO-1", "sku": "A"}}
    wrong = {"backend": "shop", "table": "refunds", "id": 2, "op": "insert", "before": None, "after": {"order_id": "SO-2", "sku": "B"}}
    thanks = {"backend": "chat", "table": "messages", "id": 9, "op": "insert", "before": None, "after": {"text": "thanks!"}}
    gone = {"backend": "chat", "table": "messages", "id": 4, "op": "delete", "before": {"id": 4}, "after": None}
    expect = [{"backend": "shop", "table": "refunds", "op": "insert", "where": {"order_id": "SO-1"}}]
    harmless = [{"backend": "chat", "table": "messages"}, {"backend": "shop", "table": "refunds"}]
    diff = [refund, wrong, thanks, gone]
    assert _sort_out({"expect": expect}, diff) == ([wrong, thanks, gone], [])
    assert _sort_out({"expect": expect, "harmless": harmless}, diff) == ([wrong, gone], [thanks])
    forbid = [{"backend": "chat", "table": "messages"}]
    assert _sort_out({"expect": expect, "strict": False, "forbid": forbid}, diff) == ([thanks, gone], [wrong])
