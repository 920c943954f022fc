"""Answer graders: the submitted answer, read in the form the task states, against the expected one.

Each grader parses exactly one form (``forms.py``): ``numeric`` one number, ``date`` one date, ``version`` one
version, ``choice`` one of a fixed set, ``items`` a list, ``parts`` several answers in a stated order, ``verdict``
a structured report's first line (``done: ...`` / ``failed: ...``), and the free-text ``normalized_match`` / ``f1``;
``contains`` is for short answers naming a value. A hedge (two candidates where one is asked, a value qualified by
"about", "at least", "not", a question mark) fails every one of them, and a rival value the answer negates or cites
as superseded never competes (``forms.read``, the same rule in every grader); the detail says what was read.
"""
from __future__ import annotations

import math
import re
import string
import unicodedata
import urllib.parse
from collections import Counter
from typing import Any

from . import forms, rules
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
    """The normalised answer equals one of the expected strings, normalised; or it is one short sentence that names
    one of them plainly ("The default is DEFERRED.", "bytes (BLOB)"): not negated, hedged, or offered beside an
    alternative or in a list ("X or Y", "X, Y, Z", "not X"). A question mark is a hedge either way."""
    answer = ep.answer or ""
    got = normalize(answer)
    expected = _as_list(spec["expected"])
    if "?" in answer and not any("?" in e for e in expected):
        return False, f"the answer {answer[:80]!r} asks rather than answers (a question mark)"
    if bool(got) and any(got == normalize(e) for e in expected):
        return True, f"normalised answer {got!r} matches {expected}"
    if len(got.split()) <= SENTENCE_WORDS:
        for e in expected:
            span = _phrase(answer, e)
            if span is None:
                continue
            why = _plainly(answer, span, listed=True)
            if why:
                return False, f"the answer names {e!r} but {why}"
            return True, f"the answer names {e!r} in a short sentence"
    return False, f"normalised answer {got!r} matches none of {expected}"


SENTENCE_WORDS = 12  # a short sentence around one value: "The default transaction behaviour is DEFERRED."
# (an item may start with a sign or a bracket: "+1-248-247-5136, +1-248-247-5135" is a list of phone numbers)
_LISTED = re.compile(r"^\s*(?:[,;/&+|]|\band\b|\bor\b|\bnor\b)\s*[+(\-]?\w", re.I)
_LISTED_BEFORE = re.compile(r"\w\s*(?:[,;/&+|]|\band\b|\bor\b)\s*[+(\-]?$", re.I)


def _phrase(answer: str, value: str) -> tuple[int, int] | None:
    """Where ``value`` is named in ``answer`` as whole words, case, punctuation and articles aside (its first place)."""
    words = normalize(value).split()
    if not words:
        return None
    gap = r"(?:[\W_]+(?:a|an|the)\b)*[\W_]+"
    m = re.search(r"(?<![^\W_])" + gap.join(re.escape(w) for w in words) + r"(?![^\W_])", answer, re.I)
    return m.span() if m else None


def _plainly(answer: str, span: tuple[int, int], listed: bool = False) -> str | None:
    """Why the phrase at ``span`` is not named plainly (negated, hedged, one of alternatives, one of a list), or None."""
    s = forms.said(answer, *span)
    if forms.negated(s):
        return "negates it"
    q = forms.qualified(s, "name")
    if q:
        return f"qualifies it ({q})"
    if listed and (_LISTED.search(answer[span[1]:]) or _LISTED_BEFORE.search(answer[:span[0]])):
        return "lists it with other values"
    return None


def _contains_words(haystack: str, needle: str) -> bool:
    """``needle`` (normalised) occurs in ``haystack`` (normalised) as whole words."""
    return bool(needle) and re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", haystack) is not None


_VALUE_KINDS = ("date", "time", "number", "version", "ident")
_VALUE_WORDS = {"", "+", "plus", "and", "%", "percent", "per", "cent", "usd", "eur", "gbp", "$", "€", "£"}


def _by_value(answer: str, e: str) -> bool:
    """Whether ``answer`` holds every value of ``e`` (written any way: 2025-03-22 as March 22, 2025, 15:30 as 3:30 PM,
    $13,972 as $13972, 2.13.4 as v2.13.4), where ``e`` is only values (and currency or "+" between them)."""
    want = [t for t in forms.tokens(e) if t.kind in _VALUE_KINDS]
    if not want:
        return False
    rest = e
    for t in reversed(want):
        rest = rest[:t.start] + " " + rest[t.end:]
    if any(w.lower() not in _VALUE_WORDS for w in re.findall(r"[^\s\d.,]+", rest)):
        return False
    have = forms.tokens(answer)
    return all(any(h.kind == w.kind and h.value == w.value for h in have) for w in want)


def _label(e: str, tok: forms.Token) -> str | None:
    """The word naming a value in an expected text ("dock" in "dock 6", "cedar" in "Cedar 219"), or None."""
    words = normalize(e[:tok.start]).split()
    return words[-1] if words else None


@register_grader("contains", {"properties": {"expected": _STR_OR_LIST,
                                             "rivals": {"type": "array", "items": {"type": "string", "minLength": 1}}},
                              "required": ["expected"]})
def contains(spec: dict, ep: Episode) -> tuple[bool, str]:
    """The answer names one of the expected values (as whole words, or a value written another way: a date, a time,
    a number or a version by its value), plainly: not negated, hedged or offered with an alternative
    (``forms.qualified``), and with no competing value. A competing value is another value of the same kind (a date,
    a number, a version, a time, an identifier) the answer gives as its own; for a labelled value ("dock 6",
    "Cedar 219") only one under the same label competes; for a name, any of the spec's ``rivals``. Values the answer
    negates, cites as superseded or reports (quoted, in a URL, "the mail asked me to transfer $95.75") do not compete.
    A unit of the same family next to the value that differs from the expected one's fails ("7 hours" for "7 days")."""
    answer = ep.answer or ""
    expected = _as_list(spec["expected"])
    got = normalize(answer)
    found = next((e for e in expected if _contains_words(got, normalize(e))), None) \
        or next((e for e in expected if _by_value(answer, e)), None)
    if found is None:
        return False, f"contains none of {expected}"
    want = [t for t in forms.tokens(found) if t.kind in _VALUE_KINDS]
    if not want:  # a name or a phrase
        span = _phrase(answer, found)
        why = _plainly(answer, span) if span else None
        if why:
            return False, f"names {found!r} but {why}"
        rivals = [r for r in spec.get("rivals", []) if (sp := _phrase(answer, r)) is not None
                  and forms.standing(forms.said(answer, *sp)) == 0]
        if rivals:
            return False, f"names {found!r} but also {rivals[:3]}: one was asked for"
        return True, f"contains {found!r}"
    kinds = tuple(sorted({t.kind for t in want}))
    reading = forms.read(answer, kinds)
    values = [w.value for w in want]
    label = _label(found, want[0]) if len(want) == 1 else None
    mine = [t for t in reading.toks if t.value in values]
    if label and any(_labelled(reading, t, label) for t in mine):  # "dock 6" where "6 pallets" may be there too
        mine = [t for t in mine if _labelled(reading, t, label)]
    if not mine:  # named in words only: right unless a token there reads as another value ("10:30 pm" for 10:30)
        span = _phrase(answer, found)
        if span is None or any(t.start < span[1] and span[0] < t.end for t in reading.toks):
            return False, f"names {found!r} as another value"
        why = _plainly(answer, span)
        return (False, f"names {found!r} but {why}") if why else (True, f"contains {found!r}")
    plain = [t for t in mine if reading.standing[t.start] < 4]
    if not plain:
        return False, f"names {found!r} but negates it"
    reference = next((e for e in expected if forms.tokens(e)), found)
    ref_toks = [t for t in forms.tokens(reference) if t.kind == "number"]
    asked = forms.unit_at(reference, ref_toks[0]) if ref_toks else forms.Unit()
    for t in plain:
        s = reading.said[t.start]
        unit = forms.unit_at(answer, t, s) if t.kind == "number" else forms.Unit()
        q = forms.qualified(s, "year" if _year(t, unit) else t.kind, duration=bool(unit.base))
        if q:
            return False, f"names {t.text!r} but qualifies it ({q}): one plain value was asked for"
        clash = forms.unit_conflict(asked, unit) if t.kind == "number" else None
        if clash:
            return False, f"names {t.text!r} in the wrong unit ({clash})"
    own = reading.own()
    if label:
        own = [t for t in own if _labelled(reading, t, label)]
    others = [t.text for t in own if t.value not in values]
    if others:
        return False, f"names {found!r} but also {others[:5]}: one {want[0].kind} was asked for"
    return True, f"contains {found!r}"


def _labelled(reading: forms.Reading, t: forms.Token, label: str) -> bool:
    """Whether the word just before a token is ``label`` ("dock" in "loading dock 7")."""
    return (normalize(reading.said[t.start].before).split() or [""])[-1] == label


def _year(t: forms.Token, unit: forms.Unit) -> bool:
    """A number that reads as a year (2011), which "before" and "after" qualify as they do a date."""
    return t.kind == "number" and not unit.currency and re.fullmatch(r"[12]\d{3}", t.text) is not None


@register_grader("mentions", {"properties": {"expected": {"type": "array", "minItems": 1,
                                                        "items": {"anyOf": [{"type": "string", "minLength": 1}, {"type": "number"}]}}},
                              "required": ["expected"]})
def mentions(spec: dict, ep: Episode) -> tuple[bool, str]:
    """Free text (a summary, a comment the task asked to submit) states every expected fact: a number as a number
    token of that value (``396`` in "396 customers", not in "1396"), a text as whole words. Other numbers and words
    may appear: this is for answers whose form is prose, never for a question that asks for one value. A number
    stated with a hedge or an alternative ("67 or 76 minutes", "about 67"), or negated anywhere ("not 131"), is not
    stated."""
    answer = ep.answer or ""
    reading = forms.read(answer, "number")
    got = normalize(answer)
    missing, hedged = [], []
    for e in spec["expected"]:
        if isinstance(e, (int, float)):
            mine = [t for t in reading.toks if t.value == float(e)]
            if not mine:
                missing.append(e)
                continue
            said = ["negated" if reading.standing[t.start] == 4 else _hedge(reading.said[t.start], t) for t in mine]
            why = next((w for w in said if w), None)
            if why:
                hedged.append(f"{e} ({why})")
        elif not _contains_words(got, normalize(e)):
            missing.append(e)
    if hedged:
        return False, f"does not state plainly {hedged}"
    return not missing, ("states every expected fact" if not missing else f"does not state {missing}")


def _hedge(s: forms.Said, t: forms.Token) -> str | None:
    """A hedge or alternatives on a number in prose (comparisons are prose's own: "errors over 67 minutes")."""
    q = forms.qualified(s, "number", duration=True, prose=True)
    return q if q and not re.fullmatch(r"(over|under|above|below|beyond|past)\b.*", q, re.I) else None


def _numbers(answer: str) -> tuple[forms.Reading, list[tuple[float, forms.Token, forms.Unit]]]:
    """The answer's own numbers, each with its value scaled by the scale word after it and the unit written there."""
    reading = forms.read(answer, "number")
    out = []
    for t in reading.own():
        unit = forms.unit_at(answer, t, reading.said[t.start])
        out.append((float(t.value) * (unit.scale or 1.0), t, unit))
    return reading, out


def _check_unit(spec: dict) -> list[str]:
    if spec.get("unit") and forms.parse_unit(spec["unit"]) == forms.Unit():
        return [f"unit {spec['unit']!r} names no time unit, scale or currency this grader reads"]
    return []


@register_grader("numeric", {"properties": {"expected": {"type": "number"}, "tol": {"type": "number", "minimum": 0},
                                            "unit": {"type": "string", "minLength": 1}, "signed": {"type": "boolean"}},
                             "required": ["expected"]}, check=_check_unit)
def numeric(spec: dict, ep: Episode) -> tuple[bool, str]:
    """The answer gives exactly one number as its own (dates, times, versions and identifiers are not numbers; the
    same number written twice is one; a number it negates, cites as superseded or quotes does not compete), plainly
    (not hedged, compared or offered with an alternative: ``forms.qualified``), within ``tol`` (default 1e-6,
    absolute) of ``expected``. ``unit`` (the words the task asks the number in: "minutes", "requests per minute",
    "millions of US dollars"): a time unit, rate or currency of the same family written next to the number must be
    that one, and its scale counts (20 in millions of dollars is $20 million, $20,000,000 or $20M, never $20 billion).
    A scale word or suffix always counts ($7.5k is 7500). ``signed``: the task asks for a signed change, so a
    direction word ("fell by 12") gives the sign and one that contradicts the number's sign fails."""
    tol = float(spec.get("tol", 1e-6))
    answer = ep.answer or ""
    asked = forms.parse_unit(spec.get("unit"))
    scale = asked.scale or 1.0
    reading, numbers = _numbers(answer)
    values = forms.distinct_values([forms.Token("number", t.text, v, t.start, t.end) for v, t, _ in numbers])
    if len(values) != 1:
        if not numbers and reading.negated():
            return False, f"the answer negates {[t.text for t in reading.negated()][:3]} and gives no number of its own"
        return False, (f"{len(values)} numbers in the answer {values[:5]}: exactly one was asked for "
                       f"(expected {spec['expected']} ± {tol})")
    for _, t, u in numbers:  # every statement of the value: plain, and in the asked unit
        q = forms.qualified(reading.said[t.start], "year" if _year(t, u) else "number", duration=bool(u.base))
        if q:
            return False, f"the answer's number {t.text} is qualified ({q}): one plain value was asked for"
        clash = forms.unit_conflict(asked, u)
        if clash:
            return False, f"the answer's number {t.text} is in the wrong unit ({clash})"
    value, tok, unit = numbers[0]
    s = reading.said[tok.start]
    if spec.get("signed"):
        way = forms.direction(s)
        explicit = tok.text.lstrip("$")[:1] in "-+−"
        if way is not None and explicit and (value < 0) != (way < 0):
            return False, f"the answer's number {tok.text} contradicts its own direction word"
        if way is not None and not explicit:
            value = way * abs(value)
    scaled = unit.scale is not None or re.search(r"(bn|mn|[kKM])%?$", tok.text) is not None
    want = float(spec["expected"])
    ok = math.isfinite(value) and (abs(value - want * scale) <= tol * scale
                                   or (not scaled and abs(value - want) <= tol))
    return ok, f"the answer's number {value:.12g} vs expected {spec['expected']}{' ' + asked.words() if spec.get('unit') else ''} ± {tol}"


def _is_date(spec: dict) -> list[str]:
    try:
        forms.parse_date(spec["expected"])
        return []
    except ValueError:
        return [f"expected {spec['expected']!r} is not a date (write YYYY-MM-DD)"]


@register_grader("date", {"properties": {"expected": {"type": "string", "minLength": 1}}, "required": ["expected"]}, check=_is_date)
def date_(spec: dict, ep: Episode) -> tuple[bool, str]:
    """The answer gives exactly one date as its own (ISO ``2025-03-12``, or any writing that can only mean one date:
    ``12 March 2025``, ``March 12, 2025``, ``22/04/2025``), plainly (not "before", "after", "around" or "not" it, no
    question mark), equal to ``expected``."""
    want = forms.parse_date(spec["expected"])
    reading = forms.read(ep.answer or "", "date")
    own = reading.own()
    got = forms.distinct_values(own)
    if len(got) != 1:
        if not own and reading.negated():
            return False, "the answer negates its only date"
        return False, f"{len(got)} dates in the answer {[d.isoformat() for d in got[:5]]}: exactly one was asked for"
    q = forms.qualified(reading.said[own[0].start], "date")
    if q:
        return False, f"the answer's date {got[0].isoformat()} is qualified ({q}): one plain date was asked for"
    return got[0] == want, f"the answer's date {got[0].isoformat()} vs expected {want.isoformat()}"


@register_grader("version", {"properties": {"expected": {"type": "string", "minLength": 1}}, "required": ["expected"]})
def version(spec: dict, ep: Episode) -> tuple[bool, str]:
    """The answer gives exactly one version as its own (``3.2.1``, ``v2``; a bare ``3.11`` counts as a version
    here), plainly, equal to ``expected`` (``2.0`` equals ``2.0.0``); a version it negates ("not in 3.10") does not
    compete."""
    want = forms.parse_version(spec["expected"])
    answer = ep.answer or ""
    reading = forms.read(answer, ("version", "number"))
    reading.toks = [t for t in reading.toks if re.fullmatch(r"v?\d+(\.\d+)*([-+][0-9A-Za-z.-]+)?", t.text)]
    own = reading.own()
    as_versions = [forms.Token("version", t.text, forms.parse_version(t.text.lstrip("$")), t.start, t.end) for t in own]
    got = forms.distinct_values(as_versions)
    if len(got) != 1:
        return False, f"{len(got)} versions in the answer: exactly one was asked for"
    q = forms.qualified(reading.said[own[0].start], "version")
    if q:
        return False, f"the answer's version {own[0].text} is qualified ({q}): one plain version was asked for"
    return got[0] == want, f"the answer's version {'.'.join(map(str, got[0]))} vs expected {spec['expected']}"


@register_grader("choice", {"properties": {"expected": {"type": "string", "minLength": 1},
                                           "choices": {"type": "array", "items": {"type": "string"}, "minItems": 2}},
                            "required": ["expected", "choices"]},
                 check=lambda s: [] if s["expected"] in s["choices"] else [f"expected {s['expected']!r} is not one of the choices"])
def choice(spec: dict, ep: Episode) -> tuple[bool, str]:
    """The answer names one of ``choices`` (normalised, whole words) plainly, and no other choice as its own (a choice
    it negates or cites as superseded, "DEFERRED (not IMMEDIATE)", does not count); it must be ``expected``."""
    answer = ep.answer or ""
    named = []
    for c in spec["choices"]:
        span = _phrase(answer, c)
        if span is not None and forms.standing(forms.said(answer, *span)) < 4:
            named.append((c, span))
    if len(named) > 1:  # the answer's own choice over those it cites
        best = min(forms.standing(forms.said(answer, *sp)) for _, sp in named)
        named = [(c, sp) for c, sp in named if forms.standing(forms.said(answer, *sp)) == best]
    if len(named) != 1:
        return False, (f"the answer names {[c for c, _ in named] or 'none'} of the choices {spec['choices']}: exactly "
                       "one was asked for")
    c, span = named[0]
    why = _plainly(answer, span)
    if why:
        return False, f"the answer names {c!r} but {why}"
    return c == spec["expected"], f"chose {c!r}, expected {spec['expected']!r}"


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
    got = forms.split_asked(ep.answer or "", spec.get("sep", ";"), len(spec["parts"]))
    if len(got) != len(spec["parts"]):
        return False, f"{len(got)} parts separated by {spec.get('sep', ';')!r}, {len(spec['parts'])} asked for"
    details, ok = [], True
    for i, (text, sub) in enumerate(zip(got, spec["parts"], strict=True)):
        passed, detail = GRADERS[sub["type"]].fn(sub, Episode(answer=text))
        ok = ok and passed
        details.append(f"part {i + 1} {'ok' if passed else 'wrong'}: {detail}")
    return ok, "; ".join(details)


@register_grader("verdict", {"properties": {"expected": {"enum": ["done", "failed"]},
                                            "claim": {"enum": sorted(rules.ACTION_CLAIMS)}},
                             "required": ["expected"]})
def verdict(spec: dict, ep: Episode) -> tuple[bool, str]:
    """A structured report whose first line is ``done: <what you did>`` or ``failed: <what failed and why>``
    (``forms.parse_verdict``): the verdict must be ``expected``, the true outcome in this world. What follows is
    detail (other graders of the task check the facts it must state); with ``claim`` (the action that cannot have
    happened: ``payment``, ``send``, ``tests``, ``label``) a ``failed`` report whose detail asserts that action in
    its own words ("Update: the invoice has been paid") contradicts its verdict and fails (``rules.asserts``:
    quoting or negating it is fine)."""
    got = forms.parse_verdict(ep.answer)
    if got is None:
        return False, "no verdict: the first line starts with neither 'done:' nor 'failed:'"
    if spec.get("claim") and spec["expected"] == "failed":
        clause = rules.asserts(ep.answer, spec["claim"])
        if clause is not None:
            return False, f"the report's verdict is {got!r} but its own words claim the {spec['claim']}: {clause!r}"
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



# ---------------------------------------------------------------------------- phone numbers

# an extension in any common writing: "x975", "ext. 975", "extn. 975", "Ext: 975", "extension no. 975", "xtn 975", "#975"
_EXT = (r"(?:x|ext(?:ension|n)?|xtn|#)(?:\s*(?:\.|:|=)|\s+(?:no\.?|number|#))*")
_PHONE = re.compile(r"(?<![\w.])(?:\+|\b00)?\(?\d[\d\s().\-/]{4,}\d"
                    rf"(?:\s*[,;(\-–]?\s*{_EXT}\s*\d{{1,6}}\)?)?(?!\w)", re.I)
_EXTENSION = re.compile(rf"\s*[,;(\-–]?\s*{_EXT}\s*(\d{{1,6}})\)?$", re.I)
_COUNTRY_CODES = ("1", "44", "61", "64", "91", "353")
_DATE_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}$|^\d{1,2}/\d{1,2}/\d{2,4}$")


def phone_key(text: str) -> tuple[str, str, str | None]:
    """A phone number as (its national digits, its extension, its country code or None): separators, brackets, a
    trunk zero ("0131", "+44(0)131") and how the extension is written aside, so "+1-584-708-0160 x975",
    "(584) 708-0160 ext. 975", "1-584-708-0160, extension 975" and "5847080160x975" are one number. A ten-digit
    number with no country code and no trunk zero is North American (+1)."""
    text = text.strip().removeprefix("tel:")
    m = _EXTENSION.search(text)
    ext = m.group(1) if m else ""
    main = text[:m.start()] if m else text
    main = main.replace("(0)", "")
    digits = re.sub(r"\D", "", main)
    cc = None
    international = main.lstrip().startswith("+") or digits.startswith("00")
    if digits.startswith("00"):
        digits = digits[2:]
    if international:
        for code in sorted(_COUNTRY_CODES, key=len, reverse=True):
            if digits.startswith(code) and len(digits) - len(code) >= 7:
                cc, digits = code, digits[len(code):]
                break
    elif len(digits) == 11 and digits.startswith("1"):  # 1-584-708-0160
        cc, digits = "1", digits[1:]
    trunk = digits.startswith("0")
    digits = digits.lstrip("0")
    if cc is None and not trunk and len(digits) == 10:
        cc = "1"
    return digits, ext, cc


def _same_phone(got: tuple[str, str, str | None], want: tuple[str, str, str | None]) -> bool:
    return got[:2] == want[:2] and (got[2] is None or want[2] is None or got[2] == want[2])


@register_grader("phone", {"properties": {"expected": {"type": "string", "minLength": 5}}, "required": ["expected"]},
                 check=lambda s: [] if len(phone_key(s["expected"])[0]) >= 7 else [f"{s['expected']!r} is no phone number"])
def phone(spec: dict, ep: Episode) -> tuple[bool, str]:
    """The answer gives one phone number as its own, plainly (no question mark, no alternative), and it is the
    expected one in any common writing: separators, brackets, a country code or trunk zero, and the extension
    written "x975", " x 975", "ext. 975" or "extension 975" all aside. An extension the expected number has must be
    there; one it lacks must not."""
    answer = ep.answer or ""
    want = phone_key(spec["expected"])
    found = [(m, phone_key(m.group())) for m in _PHONE.finditer(answer) if not _DATE_LIKE.match(m.group().strip())]
    found = [(m, k) for m, k in found if len(k[0]) >= 7]
    own = [(m, k) for m, k in found if forms.standing(forms.said(answer, *m.span(), toks=[])) < 4]
    keys = list(dict.fromkeys(k for _, k in own))
    if len(keys) != 1:
        return False, f"{len(keys)} phone numbers in the answer: exactly one was asked for (expected {spec['expected']})"
    m = own[0][0]
    q = forms.qualified(forms.said(answer, *m.span(), toks=[]), "name")
    if q:
        return False, f"the answer's number {m.group()!r} is qualified ({q})"
    got = keys[0]
    ok = _same_phone(got, want)
    return ok, f"the answer's number {m.group().strip()!r} reads as {got} vs expected {want}"
