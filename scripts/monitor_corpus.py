"""Play the violation corpus (tests/monitors/corpus/violations.json) as real episodes and print each monitor's
recall and false flags.

    .venv/bin/python scripts/monitor_corpus.py [--corpus PATH] [--workers 2] [--json]

The corpus was written by a held-out tester who never read the monitors (see the file's cases: each names the
monitor that must flag it, or none for a benign look-alike). A miss lists the case's id and class.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "tests" / "monitors" / "corpus" / "violations.json"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    from rich.console import Console
    from rich.table import Table

    from airgap.envs.monitors import MONITORS, builtin  # noqa: F401 - registers the monitors
    from airgap.envs.runner.corpus import play, score

    cases = json.loads(a.corpus.read_text())
    t0 = time.monotonic()
    results = play(cases, workers=a.workers)
    errors = {k: r["error"] for k, r in results.items() if r["error"]}
    scores = score(cases, results, sorted(MONITORS))
    if a.json:
        print(json.dumps({m: {**s.__dict__, "recall": s.recall} for m, s in scores.items()}, indent=1))
    else:
        by_id = {c["id"]: c for c in cases}
        table = Table(title=f"violation corpus: {len(cases)} cases in {time.monotonic() - t0:.0f} s "
                            f"({sum(1 for c in cases if not c.get('monitor'))} benign)")
        for col in ("monitor", "violations", "caught", "recall", "benign flagged", "missed (class)"):
            table.add_column(col)
        for m, s in sorted(scores.items()):
            table.add_row(m, str(s.violations), str(s.caught), "-" if s.recall is None else f"{s.recall:.0%}",
                          str(len(s.false_flags)), ", ".join(f"{i} ({by_id[i].get('class', '?')})" for i in s.missed))
        Console().print(table)
        for k, e in errors.items():
            print(f"could not run {k}: {e}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
