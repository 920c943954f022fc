"""Graders: how a task decides whether an episode succeeded.

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

import math
import re
import string
import unicodedata
import urllib.parse
from collections import Counter
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


GRADERS: dict[str, GraderType] = {}


def register_grader(name: str, schema: dict, *, uses_answer: bool = True) -> Callable[[GraderFn], GraderFn]:
    """Add a grader type. ``schema`` lists its keys (``required`` ones and their types)."""

    def deco(fn: GraderFn) -> GraderFn:
        full = {
            "type": "object",
            "properties": {"type": {"const": name}, **schema.get("properties", {})},
            "required": ["type", *schema.get("required", [])],
            "additionalProperties": False,
        }
        GRADERS[name] = GraderType(name, full, fn, uses_answer)
        return fn

    return deco


# ---------------------------------------------------------------------------- text helpers

_PUNCT = set(string.punctuation) | {"“", "”", "‘", "’", "«", "»", "—", "–", "…"}


def normalize(text: str) -> str:
    """Casefold, drop accents-as-combining-marks, punctuation and articles, collapse spaces."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = "".join(" " if c in _PUNCT else c for c in text.casefold())
    words = [w for w in text.split() if w not in ("a", "an", "the")]
    return " ".join(words)


def _as_list(x: Any) -> list:
    return list(x) if isinstance(x, (list, tuple)) else [x]


_NUMBER = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?|[-+]?\.\d+(?:[eE][-+]?\d+)?")


def numbers_in(text: str) -> list[float]:
    return [float(m.group().replace(",", "")) for m in _NUMBER.finditer(text or "")]


def token_f1(prediction: str, reference: str) -> float:
    pred, ref = normalize(prediction).split(), normalize(reference).split()
    common = sum((Counter(pred) & Counter(ref)).values())
    if not pred or not ref or common == 0:
        return 0.0
    p, r = common / len(pred), common / len(ref)
    return 2 * p * r / (p + r)


def normalize_url(url: str) -> str:
    """Compare URLs the way a person would: scheme, default port, fragment, trailing slash and case of the host ignored."""
    parts = urllib.parse.urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    path = parts.path or "/"
    if path.endswith("/index.html"):
        path = path[: -len("index.html")]
    path = path.rstrip("/") or "/"
    return f"{host}{path}" + (f"?{parts.query}" if parts.query else "")


# ---------------------------------------------------------------------------- built-in graders

_STR_OR_LIST = {"anyOf": [{"type": "string", "minLength": 1}, {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}]}


@register_grader("normalized_match", {"properties": {"expected": _STR_OR_LIST}, "required": ["expected"]})
def normalized_match(spec: dict, ep: Episode) -> tuple[bool, str]:
    """The normalised answer equals one of the expected strings, normalised."""
    got = normalize(ep.answer or "")
    ok = bool(got) and any(got == normalize(e) for e in _as_list(spec["expected"]))
    return ok, f"normalised answer {got!r} {'matches' if ok else 'matches none of'} {_as_list(spec['expected'])}"


@register_grader("contains", {"properties": {"expected": _STR_OR_LIST}, "required": ["expected"]})
def contains(spec: dict, ep: Episode) -> tuple[bool, str]:
    """The normalised answer contains one of the expected strings, normalised (a list = any of)."""
    got = normalize(ep.answer or "")
    found = [e for e in _as_list(spec["expected"]) if normalize(e) and normalize(e) in got]
    return bool(found), (f"contains {found[0]!r}" if found else f"contains none of {_as_list(spec['expected'])}")


@register_grader("numeric", {"properties": {"expected": {"type": "number"}, "tol": {"type": "number", "minimum": 0}}, "required": ["expected"]})
def numeric(spec: dict, ep: Episode) -> tuple[bool, str]:
    """Some number in the answer is within ``tol`` (default 1e-6, absolute) of ``expected``."""
    tol = float(spec.get("tol", 1e-6))
    nums = numbers_in(ep.answer or "")
    ok = any(math.isfinite(x) and abs(x - float(spec["expected"])) <= tol for x in nums)
    return ok, f"numbers in the answer {nums[:5]} vs expected {spec['expected']} ± {tol}"


@register_grader("regex", {"properties": {"pattern": {"type": "string", "minLength": 1}, "flags": {"type": "string", "pattern": "^[imsx]*$"}}, "required": ["pattern"]})
def regex(spec: dict, ep: Episode) -> tuple[bool, str]:
    """``re.search(pattern, answer)`` matches (flags: any of "imsx")."""
    flags = 0
    for ch in spec.get("flags", ""):
        flags |= {"i": re.I, "m": re.M, "s": re.S, "x": re.X}[ch]
    ok = ep.answer is not None and ep.answer != "" and re.search(spec["pattern"], ep.answer, flags) is not None
    return ok, f"pattern {spec['pattern']!r} {'matches' if ok else 'does not match'} the answer"


@register_grader("f1", {"properties": {"expected": _STR_OR_LIST, "threshold": {"type": "number", "exclusiveMinimum": 0, "maximum": 1}}, "required": ["expected"]})
def f1(spec: dict, ep: Episode) -> tuple[bool, str]:
    """Token F1 (SQuAD-style, normalised) against the best expected answer is at least ``threshold`` (default 0.8)."""
    best = max(token_f1(ep.answer or "", e) for e in _as_list(spec["expected"]))
    threshold = float(spec.get("threshold", 0.8))
    return best >= threshold, f"F1 {best:.3f} (threshold {threshold})"


@register_grader("url_visited", {"properties": {"url": _STR_OR_LIST}, "required": ["url"]}, uses_answer=False)
def url_visited(spec: dict, ep: Episode) -> tuple[bool, str]:
    """Every listed URL was requested through the gateway during the episode with a status below 400.

    The gateway sees the env's own web tools and ``curl``/``requests`` inside the container alike.
    """
    seen = set()
    for ev in ep.http_events:
        status = ev.get("status")
        if isinstance(status, int) and status >= 400:
            continue
        url = ev.get("url")
        if not url and ev.get("host"):
            url = f"https://{ev['host']}{ev.get('path') or '/'}"
        if url:
            seen.add(normalize_url(url))
    missing = [u for u in _as_list(spec["url"]) if normalize_url(u) not in seen]
    return not missing, ("all visited" if not missing else f"not visited: {missing}")


def _read_text(ep: Episode, path: str) -> str | None:
    try:
        return ep.sandbox.read_file(path).decode("utf-8", errors="replace")
    except Exception:  # noqa: BLE001 - a missing or unreadable file simply fails the grader
        return None


@register_grader("file_contains", {"properties": {"path": {"type": "string", "pattern": "^/"}, "pattern": {"type": "string", "minLength": 1}}, "required": ["path", "pattern"]}, uses_answer=False)
def file_contains(spec: dict, ep: Episode) -> tuple[bool, str]:
    """The file exists in the sandbox and ``re.search(pattern, text, re.MULTILINE)`` matches."""
    text = _read_text(ep, spec["path"])
    if text is None:
        return False, f"{spec['path']} does not exist or cannot be read"
    ok = re.search(spec["pattern"], text, re.M) is not None
    return ok, f"{spec['path']} {'matches' if ok else 'does not match'} {spec['pattern']!r}"


@register_grader("command_output", {"properties": {"command": {"type": "string", "minLength": 1}, "expected": {"type": "string"}, "timeout": {"type": "number", "exclusiveMinimum": 0}}, "required": ["command", "expected"]}, uses_answer=False)
def command_output(spec: dict, ep: Episode) -> tuple[bool, str]:
    """Running ``command`` in the sandbox after the episode exits 0 and its stripped stdout equals ``expected``."""
    try:
        r = ep.sandbox.exec(spec["command"], timeout=float(spec.get("timeout", 30)))
    except Exception as e:  # noqa: BLE001 - a dead sandbox fails the grader, it does not crash grading
        return False, f"could not run {spec['command']!r}: {e}"
    out = r.stdout.decode("utf-8", "replace") if isinstance(r.stdout, bytes) else r.stdout
    ok = r.exit_code == 0 and out.strip() == spec["expected"].strip()
    return ok, f"exit {r.exit_code}, stdout {out.strip()[:200]!r} vs expected {spec['expected'].strip()[:200]!r}"


# Backends (mail, shop, bank...) register predicates here: name -> fn(backend, **args) -> (passed, detail).
BACKEND_PREDICATES: dict[str, Callable[..., "tuple[bool, str]"]] = {}


def register_backend_predicate(name: str):
    def deco(fn):
        BACKEND_PREDICATES[name] = fn
        return fn

    return deco


@register_grader("backend_state", {"properties": {"backend": {"type": "string"}, "predicate": {"type": "string"}, "args": {"type": "object"}}, "required": ["backend", "predicate"]}, uses_answer=False)
def backend_state(spec: dict, ep: Episode) -> tuple[bool, str]:
    """A predicate registered by a backend holds on that backend's state after the episode."""
    backend = ep.backends.get(spec["backend"])
    if backend is None:
        return False, f"backend {spec['backend']!r} is not part of this world"
    pred = BACKEND_PREDICATES.get(spec["predicate"])
    if pred is None:
        return False, f"no backend predicate {spec['predicate']!r} is registered"
    return pred(backend, **spec.get("args", {}))


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
    if not errors and spec["type"] == "regex":
        try:
            re.compile(spec["pattern"])
        except re.error as e:
            errors.append(f"bad regex {spec['pattern']!r}: {e}")
    if not errors and spec["type"] == "file_contains":
        try:
            re.compile(spec["pattern"])
        except re.error as e:
            errors.append(f"bad regex {spec['pattern']!r}: {e}")
    return errors


def passes_on_empty_answer(spec: dict) -> bool:
    """Would this answer grader pass an agent that submitted "" or nothing? (Then it is a bug.)"""
    gt = GRADERS[spec["type"]]
    if not gt.uses_answer:
        return False
    return any(gt.fn(spec, Episode(answer=a))[0] for a in (None, ""))


@dataclass
class GradeResult:
    reward: float
    results: list[dict]  # one {"type", "passed", "detail"} per grader, in task order

    @property
    def passed(self) -> bool:
        return self.reward == 1.0


def grade(specs: list[dict], episode: Episode) -> GradeResult:
    """Run every grader (no short-circuit, so the log shows each verdict); reward 1.0 iff all pass."""
    results = []
    for spec in specs:
        gt = GRADERS[spec["type"]]
        try:
            passed, detail = gt.fn(spec, episode)
        except Exception as e:  # noqa: BLE001 - a grader bug fails the grader visibly, it must not crash the env
            passed, detail = False, f"grader error: {type(e).__name__}: {e}"
        results.append({"type": spec["type"], "passed": bool(passed), "detail": detail})
    reward = 1.0 if results and all(r["passed"] for r in results) else 0.0
    return GradeResult(reward, results)
