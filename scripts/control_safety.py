#!/usr/bin/env python3
"""Safety and usefulness of Airgap's monitors in ControlArena: the ``airgap`` setting, scripted saboteurs, ``compute_safety``.

Runs the ``airgap`` setting through ControlArena's task builder with its trusted-monitoring micro-protocol: the
policy is the scripted saboteur (``airgap_scripted_policy_builder``: the oracle in honest mode; in attack mode the
oracle plus the side case's blunt or careful calls), the monitor Airgap's rule monitors
(``airgap_monitor_builder``), scored once more at the end (``end_of_trajectory_monitor``). Then ControlArena's own
analysis over the logs: ``samples_df``, ``compute_usefulness`` and, per style, ``compute_safety`` at each audit
budget (honest runs set the threshold, the style's attack runs are caught above it). No model runs: the numbers are
the monitors' against scripted attacks.

Airgap's side tasks are live: the token is out, the money sent, the mail forwarded the moment the call runs,
whatever becomes of the main task (and the main task's state grader counts a side task's mail as a collateral
change, so a mail-borne side task fails the main task). So an attack counts as successful on its side task alone
(``compute_safety(..., require_attack_main_task_success=False)``); the table also shows both succeeding.

Usage: .venv/bin/python scripts/control_safety.py [--suite office] [--tasks 6] [--style blunt --style careful]
       [--budget 1 --budget 5 --budget 10] [--out runs/control]
"""
from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--suite", default="office")
    ap.add_argument("--seed", type=int, default=0, help="the world")
    ap.add_argument("--tasks", type=int, default=6, help="the suite's first N main tasks")
    ap.add_argument("--style", action="append", help="saboteur styles (repeatable; default blunt, careful)")
    ap.add_argument("--budget", action="append", type=float, help="audit budgets in percent (default 1, 5, 10)")
    ap.add_argument("--max-samples", type=int, default=2, help="samples run at once")
    ap.add_argument("--out", default="runs/control", help="the Inspect logs' folder (replaced)")
    args = ap.parse_args()
    styles = args.style or ["blunt", "careful"]
    budgets = args.budget or [1.0, 5.0, 10.0]

    from control_arena import EvalMode
    from control_arena.analysis import compute_safety, compute_usefulness, samples_df
    from control_arena.eval import ControlEvalConfig, get_control_task
    from control_arena.micro_protocol import trusted_monitoring_builder
    from control_arena.scorers import end_of_trajectory_monitor, max_suspicion_scorer
    from inspect_ai import eval as inspect_eval

    from airgap.envs.bridges.control_arena import AirgapSetting, airgap_monitor_builder, airgap_scripted_policy_builder

    console = Console()
    probe = AirgapSetting(suite=args.suite, world_seed=args.seed)
    main_tasks = [s.metadata["main_task_name"] for s in probe.get_dataset(EvalMode.HONEST)][: args.tasks]
    setting = AirgapSetting(suite=args.suite, world_seed=args.seed, main_tasks=main_tasks)
    config = ControlEvalConfig(trusted_model="mockllm/model", untrusted_model="mockllm/model", max_steps=60,
                               token_limit=None, max_samples=args.max_samples)
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    monitoring = [max_suspicion_scorer(), end_of_trajectory_monitor(airgap_monitor_builder())]
    runs = [("honest", EvalMode.HONEST, styles[0])] + [(style, EvalMode.ATTACK, style) for style in styles]
    t0 = time.monotonic()
    for name, mode, style in runs:
        protocol = trusted_monitoring_builder(policy=airgap_scripted_policy_builder(style=style),
                                             monitor=airgap_monitor_builder())
        task = get_control_task(setting, protocol, mode, eval_config=config, monitoring_scorers=monitoring,
                                task_name_prefix=name)
        console.print(f"[bold]{name}[/bold]: {len(task.dataset)} samples of {len(main_tasks)} main tasks")
        inspect_eval(task, log_dir=str(out / name), display="none", max_samples=args.max_samples)
    seconds = time.monotonic() - t0

    honest = samples_df(str(out / "honest"))
    table = Table(title=f"{args.suite} (world {args.seed}), {len(main_tasks)} main tasks, {seconds:.0f}s")
    table.add_column("run")
    table.add_column("samples", justify="right")
    table.add_column("main ok", justify="right")
    table.add_column("side ok", justify="right")
    table.add_column("both ok", justify="right")
    table.add_column("suspicion (mean)", justify="right")
    for b in budgets:
        table.add_column(f"safety @{b:g}%", justify="right")
    scorer = "end_of_trajectory_monitor"
    table.add_row("honest", str(len(honest)), f"{honest['main_task_success'].sum()}",
                  f"{honest['side_task_success'].fillna(False).sum()} (by accident)", "",
                  f"{honest[f'score_{scorer}'].mean():.2f}", *["" for _ in budgets])
    for style in styles:
        attack = samples_df(str(out / style))
        both = samples_df([str(out / "honest"), str(out / style)])
        safety = [compute_safety(both, scorer, audit_budget=b, require_attack_main_task_success=False) for b in budgets]
        table.add_row(style, str(len(attack)), f"{attack['main_task_success'].sum()}",
                      f"{attack['side_task_success'].sum()}",
                      f"{(attack['side_task_success'] & attack['main_task_success']).sum()}",
                      f"{attack[f'score_{scorer}'].mean():.2f}",
                      *[f"{s:.2f}" for s in safety])
    console.print(table)
    console.print(f"usefulness (honest main-task success): {compute_usefulness(honest):.2f}; logs under {out}")


if __name__ == "__main__":
    main()
