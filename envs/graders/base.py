"""Graders: the registry, what a grader may look at (Episode), and grade() — how a task decides whether an episode succeeded.

A grader is a function ``(spec, episode) -> (passed, detail)`` registered under a type
name with a JSON schema for its spec (the mapping written in the task file). The env
calls :func:`grade` when the agent submits; the reward is 1.0 iff every grader of the
task passes. No grader here calls a model.

``episode`` is an :class:`Episode`: the submitted answer (None if the agent never
submitted), the gateway ``http`` events of the episode (for ``url_visited``), the sandbox
(for ``file_contains`` and ``command_output``, which read state *after* the episode) and
the world's backends (for ``backend_state``, whose predicates backends register).

A do-nothing agent (no answer, or ``""``) must fail every task: graders on the answer
fail on an empty answer by construction, and the task loader rejects specs that an empty
answer would pass (see :func:`passes_on_empty_answer`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class Episode:
    """What graders may look at."""

    answer: str | None
    http_events: list[dict] = field(default_factory=list)
    sandbox: Any = None
    backends: dict[str, Any] = field(default_factory=dict)


GraderFn = Callable[[dict, Episode], "tuple[bool, str]"]


@dataclass(frozen=True)
class GraderType:
    name: str
    schema: dict  # JSON schema of the spec's keys other than "type"
    fn: GraderFn
    uses_answer: bool
    check: Callable[[dict], list[str]] | None = None  # extra checks of a schema-valid spec (e.g. a regex compiles)


GRADERS: dict[str, GraderType] = {}


def register_grader(name: str, schema: dict, *, uses_answer: bool = True,
                    check: Callable[[dict], list[str]] | None = None) -> Callable[[GraderFn], GraderFn]:
    """Add a grader type. ``schema`` lists its keys (``required`` ones and their types); ``check`` adds checks of its own.
    A name already registered is an error (no silent overwrite)."""

    def deco(fn: GraderFn) -> GraderFn:
        if name in GRADERS:
            raise ValueError(f"a grader named {name!r} is already registered ({GRADERS[name].fn.__module__}."
                             f"{GRADERS[name].fn.__qualname__}); pick another name")
        full = {
            "type": "object",
            "properties": {"type": {"const": name}, **schema.get("properties", {})},
            "required": ["type", *schema.get("required", [])],
            "additionalProperties": False,
        }
        GRADERS[name] = GraderType(name, full, fn, uses_answer, check)
        return fn

    return deco



# ---------------------------------------------------------------------------- grading


def validate_spec(spec: Any) -> list[str]:
    """Messages for what is wrong with one grader spec from a task file (empty when valid)."""
    from jsonschema import Draft202012Validator

    if not isinstance(spec, dict) or "type" not in spec:
        return [f"a grader is a mapping with a 'type' (one of {sorted(GRADERS)}), got {spec!r}"]
    gt = GRADERS.get(spec["type"])
    if gt is None:
        return [f"unknown grader type {spec['type']!r}; known: {sorted(GRADERS)}"]
    errors = [(f"{'/'.join(map(str, e.path))}: " if e.path else "") + e.message
              for e in Draft202012Validator(gt.schema).iter_errors(spec)]
    if not errors and gt.check is not None:
        errors += gt.check(spec)
    return errors


def pattern_compiles(spec: dict) -> list[str]:
    """A ``check`` for graders whose spec has a regex ``pattern``."""
    try:
        re.compile(spec["pattern"])
        return []
    except re.error as e:
        return [f"bad regex {spec['pattern']!r}: {e}"]


def passes_on_empty_answer(spec: dict) -> bool:
    """Would this answer grader pass an agent that submitted "" or nothing? (Then it is a bug.)"""
    gt = GRADERS[spec["type"]]
    if not gt.uses_answer:
        return False
    return any(gt.fn(spec, Episode(answer=a))[0] for a in (None, ""))


@dataclass
class GradeResult:
    reward: float
    results: list[dict]  # one {"type", "passed", "detail", "met", "of"} per grader, in task order

    @property
    def passed(self) -> bool:
        return self.reward == 1.0

    @property
    def score(self) -> float:
        """Partial credit: the fraction of the task's sub-goals met over all its graders (a grader that reports no
        sub-goals counts as one). ``reward`` stays binary: 1.0 iff every grader passes."""
        total = sum(r["of"] for r in self.results)
        return sum(r["met"] for r in self.results) / total if total else 0.0


def grade(specs: list[dict], episode: Episode) -> GradeResult:
    """Run every grader (no short-circuit, so the log shows each verdict); reward 1.0 iff all pass.

    A grader returns ``(passed, detail)`` or ``(passed, detail, (met, of))`` when it checks several sub-goals
    (a backend-state grader: each expected change, each final-state check, no collateral); the counts give the
    partial-credit ``score``."""
    results = []
    for spec in specs:
        gt = GRADERS[spec["type"]]
        try:
            passed, detail, *sub = gt.fn(spec, episode)
        except Exception as e:  # noqa: BLE001 - a grader bug fails the grader visibly, it must not crash the env
            passed, detail, sub = False, f"grader error: {type(e).__name__}: {e}", []
        met, of = sub[0] if sub else (int(bool(passed)), 1)
        if passed:
            met = of  # a passing grader has met all it checks
        results.append({"type": spec["type"], "passed": bool(passed), "detail": detail, "met": met, "of": of})
    reward = 1.0 if results and all(r["passed"] for r in results) else 0.0
    return GradeResult(reward, results)

