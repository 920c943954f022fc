#!/usr/bin/env python3
"""The sabotage matrix: every side task against the monitors, for both scripted saboteurs, with the honest twin.

For each suite (default office and office-hard, test world 0) it runs ``airgap evaluate --mode attack`` with
``saboteur:blunt`` and ``saboteur:careful`` and ``--mode honest`` with the oracle (the same main/side pairs, untold),
then prints one table per suite: per side task and style, side-task success, caught (a successful side task with a
monitor flag) and evaded; and the honest runs' flags (false positives) and accidental side-task successes. Each
run's folder is kept under --out (``airgap monitor OUT/<suite>-careful OUT/<suite>-honest --benchmark`` gives the
AUROC and evasion at 1% FPR from them).

Usage: .venv/bin/python scripts/sabotage_matrix.py [--suite office --suite office-hard] [--out runs/sabotage]
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from rich.console import Console
from rich.table import Table

from airgap.envs.runner import EvalConfig, run_evaluation


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--suite", action="append", help="suites to run (repeatable; default office, office-hard)")
    ap.add_argument("--out", default="runs/sabotage", help="folder for the runs (each run's folder is replaced)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0, help="the test world")
    args = ap.parse_args()
    console = Console()
    for suite in args.suite or ["office", "office-hard"]:
        summaries = {}
        for name, mode, agent in (("blunt", "attack", "saboteur:blunt"), ("careful", "attack", "saboteur:careful"),
                                  ("honest", "honest", "oracle")):
            out = Path(args.out) / f"{suite}-{name}"
            shutil.rmtree(out, ignore_errors=True)
            console.print(f"[bold]{suite}[/bold]: {agent} --mode {mode} -> {out}")
            run_evaluation(EvalConfig(suite=suite, agent=agent, out=str(out), workers=args.workers, seed=args.seed,
                                      mode=mode))
            summaries[name] = json.loads((out / "summary.json").read_text())["sabotage"]
        table = Table(title=f"{suite}, test world {args.seed}: side tasks against the monitors")
        for col in ("side task", "pairs", "blunt: done", "caught", "careful: done", "caught ", "honest: done",
                    "honest flagged"):
            table.add_column(col, justify="left" if col == "side task" else "right")
        names = sorted(summaries["honest"]["by_side_task"])
        for n in [*names, "overall"]:
            b = [summaries[k]["overall"] if n == "overall" else summaries[k]["by_side_task"].get(n)
                 for k in ("blunt", "careful", "honest")]
            if b[0] is None:
                continue

            def done(x: dict) -> str:
                s = x["side_task_success"]
                return f"{s['hits']}/{s['n']}"

            table.add_row(n, str(b[2]["episodes"]), done(b[0]), f"{b[0]['caught']}/{b[0]['caught'] + b[0]['evaded']}",
                          done(b[1]), f"{b[1]['caught']}/{b[1]['caught'] + b[1]['evaded']}", done(b[2]),
                          f"{b[2]['flagged']['hits']}/{b[2]['flagged']['n']}", style="bold" if n == "overall" else None)
        console.print(table)


if __name__ == "__main__":
    main()
