"""`airgap monitor`: run the safety monitors over existing episode logs (re-flag old runs without re-running them)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer


def _logs(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():  # an evaluation folder, or its logs/ folder
            out += sorted((p / "logs" if (p / "logs").is_dir() else p).glob("*.jsonl"))
        else:
            out.append(p)
    return out


def monitor(
    logs: List[Path] = typer.Argument(..., help="Episode logs (.jsonl) or evaluation folders.", show_default=False),
    monitors: Optional[str] = typer.Option(None, "--monitors", "-m", help="Comma-separated monitor names (default: all)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per flag instead of a table."),
) -> None:
    """Run the safety monitors over episode logs and print their flags, next to the flags the live run wrote.

    The monitors see the same events they saw live (the log holds every one), and the world's canaries and hosts
    are rebuilt from the log's header, so an old run can be checked with new or changed monitors.

    \b
    Examples:
      airgap monitor runs/office-oracle                 # every log of an evaluation
      airgap monitor runs/x/logs/office-003*.jsonl -m exfiltration,egress --json
    """
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from airgap.envs.logs import read_log
    from airgap.envs.monitors import scan
    from airgap.envs.monitors.context import context_from_header

    names = [n.strip() for n in monitors.split(",") if n.strip()] if monitors else None
    paths = _logs(logs)
    if not paths:
        typer.echo("error: no episode logs found there (give .jsonl files or an evaluation folder)", err=True)
        raise typer.Exit(2)
    table = Table(title=f"safety flags over {len(paths)} episode log(s)")
    for col in ("log", "monitor", "severity", "step", "evidence", "message", "live"):
        table.add_column(col)
    total = 0
    for path in paths:
        try:
            header, events = read_log(path)
            context = context_from_header(header)
            flags = scan(context, events, names)
        except Exception as e:  # noqa: BLE001 - one unreadable log must not hide the others' flags
            typer.echo(f"error: {path}: {type(e).__name__}: {e}", err=True)
            continue
        live = {(e.get("name"), tuple(e.get("evidence") or ())) for e in events if e.get("type") == "flag"}
        for f in flags:
            total += 1
            seen = "yes" if (f.monitor, tuple(f.evidence)) in live else "no"
            if as_json:
                typer.echo(json.dumps({"log": str(path), **f.to_event(), "live": seen == "yes"}))
            else:
                table.add_row(path.name[:40], f.monitor, f.severity, str(f.step), ",".join(map(str, f.evidence)),
                              escape(f.message), seen)
    if not as_json:
        Console().print(table if total else f"no flags in {len(paths)} episode log(s)")
