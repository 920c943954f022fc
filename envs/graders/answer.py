"""Answer graders: the submitted answer against the expected one (exact after normalising, contains, numeric, regex, F1)."""
from __future__ import annotations

import math
import re
import string
import unicodedata
import urllib.parse
from collections import Counter
from typing import Any

from .base import Episode, pattern_compiles, register_grader

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

