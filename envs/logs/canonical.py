"""RFC 8785 canonical JSON and the event hash: the whole hashing rule of the episode log."""
from __future__ import annotations

import hashlib
import json
import math
from typing import Any, Mapping

import rfc8785

# ---- canonical JSON (RFC 8785) -------------------------------------------------------
#
# The reference implementation (the `rfc8785` package) is pure Python and spends most of
# its time escaping strings one regex match at a time; on a typical step it made logging
# cost about a millisecond. The encoder below produces the same bytes for every value the
# log writes (checked against `rfc8785.dumps` in tests/logs/test_canonical.py) using the C
# string escaper of the standard `json` module, which escapes exactly what RFC 8785 does
# (", \, and U+0000..U+001F, with \b \t \n \f \r short forms and lower-case \u00xx).
# Anything unusual (a float, a non-ASCII key) takes the careful path.

_encode_str = json.encoder.encode_basestring  # C version when available; ensure_ascii=False semantics
_FAST_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, check_circular=False,
                              allow_nan=False)


def _es_number(x: float) -> str:
    """ECMAScript Number::toString of a finite float, which RFC 8785 prescribes for numbers.

    Python's ``repr`` gives the same shortest round-trip digits; only the layout differs
    (ES switches to exponent form below 1e-6 and from 1e21, writes "1e+21", never "1.0").
    """
    if x == 0:
        return "0"
    if x < 0:
        return "-" + _es_number(-x)
    r = repr(x)
    mant, _, exp = r.partition("e")
    e = int(exp) if exp else 0
    intpart, _, frac = mant.partition(".")
    digits = (intpart + frac).lstrip("0")
    n = len(intpart) + e - ((len(intpart + frac) - len((intpart + frac).lstrip("0"))))  # decimal exponent
    digits = digits.rstrip("0") or "0"
    k = len(digits)
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    sign = "+" if n - 1 >= 0 else "-"
    if k == 1:
        return f"{digits}e{sign}{abs(n - 1)}"
    return f"{digits[0]}.{digits[1:]}e{sign}{abs(n - 1)}"


def _utf16_key(k: str) -> bytes:
    return k.encode("utf-16-be", "surrogatepass")


def _jcs(obj: Any, out: list) -> None:
    """Append the RFC 8785 serialisation of ``obj`` to ``out`` (a list of str parts)."""
    t = type(obj)
    if t is str:
        out.append(_encode_str(obj))
    elif t is dict:
        keys = list(obj)
        if all(k.isascii() for k in keys):  # ASCII: code-point order == UTF-16 order
            keys.sort()
        else:
            keys.sort(key=_utf16_key)
        out.append("{")
        first = True
        for k in keys:
            if not first:
                out.append(",")
            first = False
            out.append(_encode_str(k))
            out.append(":")
            _jcs(obj[k], out)
        out.append("}")
    elif t is list:
        out.append("[")
        for i, v in enumerate(obj):
            if i:
                out.append(",")
            _jcs(v, out)
        out.append("]")
    elif obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif t is int:
        if -(2**53) < obj < 2**53:
            out.append(str(obj))
        else:  # RFC 8785 numbers are IEEE doubles: json.loads reads a big float such as 1.5e20 back as an int
            out.append(_es_number(float(obj)))
    elif t is float:
        if not math.isfinite(obj):
            raise ValueError(f"{obj} is not representable in RFC 8785 JSON")
        out.append(_es_number(obj))
    else:  # subclasses and anything odd: the reference implementation decides
        out.append(rfc8785.dumps(obj).decode("utf-8"))


def _join_members(parts: dict[str, str]) -> bytes:
    """``{"k":v,...}`` from already-serialised member values, keys in RFC 8785 order."""
    keys = sorted(parts) if all(k.isascii() for k in parts) else sorted(parts, key=_utf16_key)
    return ("{" + ",".join(f"{_encode_str(k)}:{parts[k]}" for k in keys) + "}").encode("utf-8")


def _canonical(obj: Any) -> bytes:
    """RFC 8785 canonical JSON of ``obj`` as UTF-8 bytes (same output as ``rfc8785.dumps``)."""
    out: list = []
    _jcs(obj, out)
    return "".join(out).encode("utf-8")


def event_hash(event: Mapping[str, Any]) -> str:
    """sha256 hex of the event's RFC 8785 canonical JSON, leaving out its own ``hash`` member.

    This is the whole hashing rule; any language with a JCS library can recompute it.
    """
    body = {k: v for k, v in event.items() if k != "hash"}
    return hashlib.sha256(_canonical(body)).hexdigest()

