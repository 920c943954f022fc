"""`airgap report`: rebuild an evaluation's table, summary.json and report.html from its results.jsonl; compare runs."""
from __future__ import annotations

import typer


def report(
    run: str = typer.Argument(..., help="An evaluation folder (the --out of `airgap evaluate`), wherever it now lies."),
    compare: list[str] = typer.Option(None, "--compare", help="Another evaluation folder to set beside it (repeatable): "
                                      "per task, per kind and overall, this run minus that one with a 95% interval."),
    allow_mismatch: bool = typer.Option(False, "--allow-mismatch", help="Compare runs whose split or shift declaration "
                                        "differ, or whose model changed under one agent spec (refused otherwise); the report says how they differ, and "
                                        "runs on train and test worlds give the generalisation gap per kind."),
) -> None:
    """Rebuild the results table, summary.json and report.html of RUN from its results.jsonl.

    With --compare, each other run is set beside it: the difference in success rate (this run minus that one)
    per task, per task kind and for the suite, with a 95% interval, paired on the episodes both runs have
    (same task and trial) and marked where the interval excludes 0. Runs must share their split, shift
    declaration (and one agent spec its model) unless --allow-mismatch says otherwise.

    \b
    Examples:
      airgap report runs/webqa-oracle
      airgap report runs/new-model --compare runs/old-model
      airgap report runs/office-train --compare runs/office-test --allow-mismatch   # train vs test per kind
    """
    from pathlib import Path

    from airgap.envs.runner.evaluate import EvaluationError, rebuild
    from airgap.envs.runner.report import print_summary

    try:
        summary = rebuild(run, compare or [], allow_mismatch=allow_mismatch)
    except EvaluationError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    print_summary(summary, Path(run))
