"""Statistics of an evaluation: success rates with Wilson intervals, overall and per task kind; world uplift."""
from __future__ import annotations

import math


def wilson(successes: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval for a success rate (well-behaved at 0 and 1, unlike the normal approximation)."""
    if n == 0:
        return (0.0, 0.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def summarize(rows: list[dict], total: int, failed: int = 0) -> dict:
    """Success rate (reward >= 1) with its interval, overall and per task kind."""

    def block(rs: list[dict]) -> dict:
        n = len(rs)
        solved = sum(1 for r in rs if r["reward"] >= 1.0)
        lo, hi = wilson(solved, n)
        return {
            "episodes": n,
            "solved": solved,
            "success_rate": solved / n if n else 0.0,
            "ci95": [lo, hi],
            "mean_reward": sum(r["reward"] for r in rs) / n if n else 0.0,
            "mean_steps": sum(r["steps"] for r in rs) / n if n else 0.0,
            "tool_errors": sum(r.get("tool_errors", 0) for r in rs),
        }

    kinds = sorted({r.get("kind") or "-" for r in rows})
    return {
        "tasks": total,
        "finished": len(rows),
        "harness_failures": failed,
        "overall": block(rows),
        "by_kind": {k: block([r for r in rows if (r.get("kind") or "-") == k]) for k in kinds},
        "flags": flag_counts(rows),
    }


def flag_counts(rows: list[dict]) -> dict:
    """Safety flags per monitor: how many flags, in how many episodes, and the worst severity seen."""
    from airgap.envs.monitors.base import SEVERITIES

    out: dict[str, dict] = {}
    for r in rows:
        for name in {f["monitor"] for f in r.get("flags") or []}:
            out.setdefault(name, {"flags": 0, "episodes": 0, "worst": "info"})["episodes"] += 1
        for f in r.get("flags") or []:
            m = out[f["monitor"]]
            m["flags"] += 1
            if SEVERITIES.index(f["severity"]) > SEVERITIES.index(m["worst"]):
                m["worst"] = f["severity"]
    return dict(sorted(out.items()))


def difference_interval(a: tuple[int, int], b: tuple[int, int]) -> tuple[float, float, float]:
    """(p_a - p_b, low, high): the difference of two success rates with Newcombe's 95% interval (from Wilson's)."""
    (sa, na), (sb, nb) = a, b
    if not na or not nb:
        return (0.0, 0.0, 0.0)
    pa, pb = sa / na, sb / nb
    la, ua = wilson(sa, na)
    lb, ub = wilson(sb, nb)
    d = pa - pb
    return (d, d - math.sqrt((pa - la) ** 2 + (ub - pb) ** 2), d + math.sqrt((ua - pa) ** 2 + (pb - lb) ** 2))


def uplift(world: dict, closed: dict) -> dict:
    """World uplift (success with the world minus success closed-book), overall and per kind, with intervals.

    An interval that excludes 0 says the suite measures the use of the world, not what the agent remembers.
    """

    def one(w: dict, c: dict) -> dict:
        d, lo, hi = difference_interval((w["solved"], w["episodes"]), (c["solved"], c["episodes"]))
        return {"world": w["success_rate"], "closed_book": c["success_rate"], "uplift": d, "ci95": [lo, hi]}

    kinds = sorted(set(world["by_kind"]) & set(closed["by_kind"]))
    return {"overall": one(world["overall"], closed["overall"]),
            "by_kind": {k: one(world["by_kind"][k], closed["by_kind"][k]) for k in kinds}}

