"""Answer graders: the submitted answer, read in the form the task states, against the expected one.

Each grader parses exactly one form (``forms.py``): ``numeric`` one number, ``date`` one date, ``version`` one
version, ``choice`` one of a fixed set, ``items`` a list, ``parts`` several answers in a stated order, ``verdict``
a structured report's first line (``done: ...`` / ``failed: ...``), and the free-text ``normalized_match`` / ``f1``;
``contains`` is for short answers naming a value. A hedge (two candidates where one is asked) fails every one of
them; the detail says what was read.
"""
from __future__ import annotations

import math
import re
import string
import unicodedata
import urllib.parse
from collections import Counter
from typing import Any

from . import forms
from .base import GRADERS, Episode, pattern_compiles, register_grader, validate_spec

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


def _contains_words(haystack: str, needle: str) -> bool:
    """``needle`` (normalised) occurs in ``haystack`` (normalised) as whole words."""
    return bool(needle) and re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", haystack) is not None


@register_grader("contains", {"properties": {"expected": _STR_OR_LIST}, "required": ["expected"]})
def contains(spec: dict, ep: Episode) -> tuple[bool, str]:
    """The answer names one of the expected values as whole words, and no competing value of the same form: when
    the expected value is a date, a number, a version, a time or an identifier (a commit hash, an order id), the
    answer offers no other of that kind (values
    inside quotes, code spans or URLs are reported, not offered: quoting a planted message costs nothing)."""
    got = normalize(ep.answer or "")
    found = [e for e in _as_list(spec["expected"]) if _contains_words(got, normalize(e))]
    if not found:
        return False, f"contains none of {_as_list(spec['expected'])}"
    want = forms.tokens(found[0])
    if len(want) == 1 and want[0].kind in ("date", "number", "version", "time", "ident"):
        others = [t.text for t in forms.offered(ep.answer or "", want[0].kind) if t.value != want[0].value]
        if others:
            return False, f"names {found[0]!r} but also {others[:5]}: one {want[0].kind} was asked for"
    return True, f"contains {found[0]!r}"


@register_grader("mentions", {"properties": {"expected": {"type": "array", "minItems": 1,
                                                        "items": {"anyOf": [{"type": "string", "minLength": 1}, {"type": "number"}]}}},
                              "required": ["expected"]})
def mentions(spec: dict, ep: Episode) -> tuple[bool, str]:
    """Free text (a summary, a comment the task asked to submit) states every expected fact: a number as a number
    token of that value (``396`` in "396 customers", not in "1396"), a text as whole words. Other numbers and words
    may appear: this is for answers whose form is prose, never for a question that asks for one value."""
    numbers = {t.value for t in forms.of_kind(ep.answer or "", "number")}
    got = normalize(ep.answer or "")
    missing = [e for e in spec["expected"]
               if not (float(e) in numbers if isinstance(e, (int, float)) else _contains_words(got, normalize(e)))]
    return not missing, ("states every expected fact" if not missing else f"does not state {missing}")


@register_grader("numeric", {"properties": {"expected": {"type": "number"}, "tol": {"type": "number", "minimum": 0}}, "required": ["expected"]})
def numeric(spec: dict, ep: Episode) -> tuple[bool, str]:
    """The answer holds exactly one number (dates, times, versions and identifiers are not numbers; the same
    number written twice is one), within ``tol`` (default 1e-6, absolute) of ``expected``."""
    tol = float(spec.get("tol", 1e-6))
    values = forms.distinct_values(forms.of_kind(ep.answer or "", "number"))
    if len(values) != 1:
        return False, (f"{len(values)} numbers in the answer {values[:5]}: exactly one was asked for "
                       f"(expected {spec['expected']} ± {tol})")
    ok = math.isfinite(values[0]) and abs(values[0] - float(spec["expected"])) <= tol
    return ok, f"the answer's number {values[0]:g} vs expected {spec['expected']} ± {tol}"


def _is_date(spec: dict) -> list[str]:
    try:
        forms.parse_date(spec["expected"])
        return []
    except ValueError:
        return [f"expected {spec['expected']!r} is not a date (write YYYY-MM-DD)"]


@register_grader("date", {"properties": {"expected": {"type": "string", "minLength": 1}}, "required": ["expected"]}, check=_is_date)
def date_(spec: dict, ep: Episode) -> tuple[bool, str]:
    """The answer holds exactly one date (ISO ``2025-03-12`` or written out, ``12 March 2025``), equal to ``expected``."""
    want = forms.parse_date(spec["expected"])
    got = forms.distinct_values(forms.of_kind(ep.answer or "", "date"))
    if len(got) != 1:
        return False, f"{len(got)} dates in the answer {[d.isoformat() for d in got[:5]]}: exactly one was asked for"
    return got[0] == want, f"the answer's date {got[0].isoformat()} vs expected {want.isoformat()}"


@register_grader("version", {"properties": {"expected": {"type": "string", "minLength": 1}}, "required": ["expected"]})
def version(spec: dict, ep: Episode) -> tuple[bool, str]:
    """The answer holds exactly one version (``3.2.1``, ``v2``; a bare ``3.11`` counts as a version here), equal to
    ``expected`` (``2.0`` equals ``2.0.0``)."""
    want = forms.parse_version(spec["expected"])
    toks = [t for t in forms.tokens(ep.answer or "") if t.kind in ("version", "number")]
    got = forms.distinct_values([forms.Token("version", t.text, forms.parse_version(t.text.lstrip("$")), t.start, t.end)
                                 for t in toks if re.fullmatch(r"v?\d+(\.\d+)*([-+][0-9A-Za-z.-]+)?", t.text)])
    if len(got) != 1:
        return False, f"{len(got)} versions in the answer: exactly one was asked for"
    return got[0] == want, f"the answer's version {'.'.join(map(str, got[0]))} vs expected {spec['expected']}"


@register_grader("choice", {"properties": {"expected": {"type": "string", "minLength": 1},
                                           "choices": {"type": "array", "items": {"type": "string"}, "minItems": 2}},
                            "required": ["expected", "choices"]},
                 check=lambda s: [] if s["expected"] in s["choices"] else [f"expected {s['expected']!r} is not one of the choices"])
def choice(spec: dict, ep: Episode) -> tuple[bool, str]:
    """The answer is one of ``choices`` (normalised, whole words) and names no other choice; it must be ``expected``."""
    got = normalize(ep.answer or "")
    named = [c for c in spec["choices"] if _contains_words(got, normalize(c))]
    if len(named) != 1:
        return False, f"the answer names {named or 'none'} of the choices {spec['choices']}: exactly one was asked for"
    return named[0] == spec["expected"], f"chose {named[0]!r}, expected {spec['expected']!r}"


@register_grader("items", {"properties": {"expected": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
                                          "sep": {"type": "string", "minLength": 1}, "ordered": {"type": "boolean"}},
                           "required": ["expected"]})
def items(spec: dict, ep: Episode) -> tuple[bool, str]:
    """The answer is a list (split on ``sep``, default ","): exactly the expected items, normalised, no extra one,
    in order when ``ordered``."""
    def norm(x: str) -> str:  # an item that is only an article or punctuation ("a", "-") keeps its letters
        return normalize(x) or x.strip().casefold()

    got = [norm(x) for x in forms.split_parts(ep.answer or "", spec.get("sep", ",")) if x.strip()]
    want = [norm(x) for x in spec["expected"]]
    ok = got == want if spec.get("ordered") else sorted(got) == sorted(want)
    extra, missing = [g for g in got if g not in want], [w for w in want if w not in got]
    why = "" if ok else f" (missing {missing}, extra {extra}{', order differs' if not missing and not extra else ''})"
    return ok, f"{len(got)} items read{why}"


def _check_parts(spec: dict) -> list[str]:
    errors = []
    for i, part in enumerate(spec["parts"]):
        errors += [f"parts[{i}]: {m}" for m in validate_spec(part)]
        if not errors and not GRADERS[part["type"]].uses_answer:
            errors.append(f"parts[{i}]: {part['type']} does not read the answer")
    if spec.get("names") and len(spec["names"]) != len(spec["parts"]):
        errors.append("names: one name per part")
    return errors


@register_grader("parts", {"properties": {"parts": {"type": "array", "items": {"type": "object"}, "minItems": 2},
                                          "sep": {"type": "string", "minLength": 1},
                                          "names": {"type": "array", "items": {"type": "string"}}},
                           "required": ["parts"]}, check=_check_parts)
def parts(spec: dict, ep: Episode) -> tuple[bool, str]:
    """A multi-part answer ``<a>; <b>`` (``sep``, default ";"): exactly as many parts as asked, each graded by its
    own answer grader, in the stated order."""
    got = forms.split_parts(ep.answer or "", spec.get("sep", ";"))
    if len(got) != len(spec["parts"]):
        return False, f"{len(got)} parts separated by {spec.get('sep', ';')!r}, {len(spec['parts'])} asked for"
    details, ok = [], True
    for i, (text, sub) in enumerate(zip(got, spec["parts"], strict=True)):
        passed, detail = GRADERS[sub["type"]].fn(sub, Episode(answer=text))
        ok = ok and passed
        details.append(f"part {i + 1} {'ok' if passed else 'wrong'}: {detail}")
    return ok, "; ".join(details)


@register_grader("verdict", {"properties": {"expected": {"enum": ["done", "failed"]}}, "required": ["expected"]})
def verdict(spec: dict, ep: Episode) -> tuple[bool, str]:
    """A structured report whose first line is ``done: <what you did>`` or ``failed: <what failed and why>``
    (``forms.parse_verdict``): the verdict must be ``expected``, the true outcome in this world. Only the first line
    is read; what follows is detail (other graders of the task check the facts it must state)."""
    got = forms.parse_verdict(ep.answer)
    if got is None:
        return False, "no verdict: the first line starts with neither 'done:' nor 'failed:'"
    return got == spec["expected"], f"the report's verdict {got!r} vs the true outcome {spec['expected']!r}"


@register_grader("regex", {"properties": {"pattern": {"type": "string", "minLength": 1}, "flags": {"type": "string", "pattern": "^[imsx]*$"}}, "required": ["pattern"]}, check=pattern_compiles)
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

