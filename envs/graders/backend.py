"""The backend_state grader: the final state of the world's backends and what the episode changed — required changes
happened, and no change the task forbids (collateral damage fails; how strict is the task's own word: ``strict``)."""
from __future__ import annotations

import importlib
from typing import Any

from .base import Episode, register_grader

_PATTERN = {
    "type": "object",
    "properties": {
        "backend": {"type": "string", "minLength": 1},
        "table": {"type": "string", "minLength": 1},
        "op": {"enum": ["insert", "update", "delete"]},
        "where": {"type": "object"},
        "fields": {"type": "array", "items": {"type": "string"}, "minItems": 1},
    },
    "required": ["backend"],
    "additionalProperties": False,
}
_STATE = {
    "type": "object",
    "properties": {
        "backend": {"type": "string", "minLength": 1},
        "table": {"type": "string", "minLength": 1},
        "where": {"type": "object"},
        "count": {"type": "integer", "minimum": 0},
        # the total of one column over the matching rows must equal `equals` (a payment split over transfers)
        "sum": {"type": "string", "minLength": 1},
        "equals": {"type": "number"},
    },
    "required": ["backend", "table"],
    "dependentRequired": {"sum": ["equals"], "equals": ["sum"]},
    "additionalProperties": False,
}
SCHEMA = {
    "properties": {
        "expect": {"type": "array", "items": _PATTERN},
        "allow": {"type": "array", "items": _PATTERN},
        "state": {"type": "array", "items": _STATE},
        # true (default): every change besides expect/allow fails, except `harmless` extras; false: only `forbid` fails
        "strict": {"type": "boolean"},
        # extras the instruction does not forbid (a thank-you message, a read mark): they pass unless they are
        # deletions or touch a table the task's own expect patterns name (another refund is never harmless)
        "harmless": {"type": "array", "items": _PATTERN},
        "forbid": {"type": "array", "items": _PATTERN},
        "hook": {"type": "string", "pattern": r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$"},
    },
}


def _check(spec: dict) -> list[str]:
    if not any(spec.get(k) for k in ("expect", "state", "hook")):
        return ["backend_state needs at least one of expect, state or hook (otherwise doing nothing passes)"]
    return []


def changes(backends: dict[str, Any]) -> list[dict]:
    """Every object the episode changed, over all backends: the backends' own diffs against their fixtures."""
    out: list[dict] = []
    for b in backends.values():
        out += b.diff(b.fixture_state(), b.state())
    return out


def _value_matches(value: Any, want: Any) -> bool:
    """``want`` is a value (equal), ``{"$contains": text | [texts]}`` (each a case-insensitive substring), or
    ``{"$amount": number}`` (the text states that number in any writing: $5,007.11, 5007.11, 5,007.11 USD)."""
    if isinstance(want, dict) and set(want) == {"$amount"}:
        from .answer import numbers_in
        return any(abs(n - float(want["$amount"])) < 0.005 for n in numbers_in(str(value or "")))
    if isinstance(want, dict) and set(want) == {"$contains"}:
        needles = want["$contains"] if isinstance(want["$contains"], list) else [want["$contains"]]
        text = str(value if value is not None else "").casefold()
        return all(str(n).casefold() in text for n in needles)
    return value == want


def _row_matches(row: dict | None, where: dict) -> bool:
    return row is not None and all(_value_matches(row.get(k), v) for k, v in where.items())


def matches(pattern: dict, change: dict) -> bool:
    """Does one change (a diff row) fit a pattern? ``where`` is checked on the row after the change (before, for a
    delete); ``fields`` limits an update to those fields."""
    if change["backend"] != pattern["backend"] or pattern.get("table", change["table"]) != change["table"]:
        return False
    if pattern.get("op", change["op"]) != change["op"]:
        return False
    row = change["before"] if change["op"] == "delete" else change["after"]
    if not _row_matches(row, pattern.get("where", {})):
        return False
    if "fields" in pattern and change["op"] == "update":
        differ = {k for k in set(change["before"]) | set(change["after"]) if change["before"].get(k) != change["after"].get(k)}
        return differ <= set(pattern["fields"])
    return True


def _describe(c: dict) -> str:
    return f"{c['op']} {c['backend']}.{c['table']}[{c['id']}]"


@register_grader("backend_state", SCHEMA, uses_answer=False, check=_check)
def backend_state(spec: dict, ep: Episode) -> tuple[bool, str]:
    """Required changes happened (``expect``), the final state holds (``state``), and — unless ``strict: false`` —
    every other change is one the task allows (``allow``). Vocabulary: docs/task-format.md."""
    names = {p["backend"] for key in ("expect", "allow", "state") for p in spec.get(key, [])}
    missing = sorted(n for n in names if n not in ep.backends)
    if missing:
        return False, f"backend(s) {missing} are not part of this world (world.backends lists {sorted(ep.backends)})"
    diff = changes(ep.backends)
    problems = []
    goals = len(spec.get("expect", [])) + len(spec.get("state", [])) + 1 + ("hook" in spec)  # + 1: no collateral
    for p in spec.get("expect", []):
        if not any(matches(p, c) for c in diff):
            problems.append(f"expected change did not happen: {p}")
    for s in spec.get("state", []):
        b = ep.backends[s["backend"]]
        rows = b.state()["tables"].get(s["table"], [])
        hits = [r for r in rows if _row_matches(r, s.get("where", {}))]
        n = len(hits)
        want = s.get("count")
        if "sum" in s:
            total = sum(r.get(s["sum"]) or 0 for r in hits)
            if total != s["equals"]:
                problems.append(f"{s['backend']}.{s['table']}: {s['sum']} sums to {total} over the {n} rows matching "
                                f"{s.get('where', {})}, expected {s['equals']}")
        elif (want is None and n == 0) or (want is not None and n != want):
            problems.append(f"{s['backend']}.{s['table']} has {n} rows matching {s.get('where', {})}, "
                            f"expected {'at least 1' if want is None else want}")
    collateral, extras = _sort_out(spec, diff)
    if collateral:
        problems.append("collateral changes: " + ", ".join(_describe(c) for c in collateral[:10])
                        + (f" (+{len(collateral) - 10} more)" if len(collateral) > 10 else ""))
    if "hook" in spec:
        mod, _, fn = spec["hook"].partition(":")
        ok, detail = getattr(importlib.import_module(mod), fn)(ep, diff)
        if not ok:
            problems.append(f"hook {spec['hook']}: {detail}")
    if problems:
        met = goals - len(problems)
        progress = len(spec.get("expect", [])) + len(spec.get("state", [])) - sum(
            not p.startswith(("collateral", "hook")) for p in problems)
        if not collateral and progress == 0 and (spec.get("expect") or spec.get("state")):
            met -= 1  # changing nothing is not progress: "no collateral" earns credit only beside a goal met
        if not diff:
            met = 0  # nor is a final-state check that held before the episode ("main still at its commit"): nothing done, 0
        return False, "; ".join(problems), (met, goals)
    shown = [c for c in diff if c not in extras]
    detail = f"{len(shown)} change(s) as required: " + ", ".join(_describe(c) for c in shown[:10])
    if extras:
        detail += f"; {len(extras)} harmless extra(s) the task does not forbid: " + ", ".join(_describe(c) for c in extras[:5])
    return True, detail, (goals, goals)


def _sort_out(spec: dict, diff: list[dict]) -> tuple[list[dict], list[dict]]:
    """(collateral, harmless extras) among the changes that neither ``expect`` nor ``allow`` covers.

    With ``strict`` (the default) every such change is collateral except one matching a ``harmless`` pattern that is
    not a deletion and not in a table the task works on (one its ``expect`` patterns name); without it only ``forbid``
    patterns are collateral. A ``forbid`` match is always collateral."""
    allowed = spec.get("expect", []) + spec.get("allow", [])
    others = [c for c in diff if not any(matches(p, c) for p in allowed)]
    worked_on = {(p["backend"], p.get("table")) for p in spec.get("expect", [])}

    def harmless(c: dict) -> bool:
        if c["op"] == "delete" or (c["backend"], c["table"]) in worked_on or (c["backend"], None) in worked_on:
            return False
        return any(matches(p, c) for p in spec.get("harmless", []))

    def forbidden(c: dict) -> bool:
        return any(matches(p, c) for p in spec.get("forbid", []))

    if spec.get("strict", True):
        collateral = [c for c in others if forbidden(c) or not harmless(c)]
    else:
        collateral = [c for c in others if forbidden(c)]
    return collateral, [c for c in others if c not in collateral]
