"""`airgap evaluate`: run an agent over a task suite (bundled or a file of your own), with a progress bar and a results table."""
from __future__ import annotations

import typer


def evaluate(
    suite: str = typer.Option("webqa", help="Task suite: a bundled name (`airgap tasks list`) or a path to a YAML file."),
    level: str = typer.Option(None, "--level", help="A suite's level: `--suite office --level hard` is the suite "
                              "office-hard (long workflows, mess, errors, asking, refusing, time, code)."),
    agent: str = typer.Option("oracle", help="Agent spec: oracle, noop, decoy, obey (always obeys injected text), "
                              "random[:SEED], hf:PATH or vllm:PATH (local model, one engine for all workers), "
                              "openai:URL#MODEL, sandbox:CMD (an agent program inside the sandbox; see --agent-model)."),
    out: str = typer.Option(None, help="Evaluation folder (results.jsonl, logs/, report.html). Default: runs/<suite>-<agent>."),
    workers: int = typer.Option(2, min=1, help="Episodes in parallel (one process and one warm sandbox each)."),
    seed: int = typer.Option(0, help="Seed passed to every reset(); for a generated suite (office, worldqa, safety) "
                             "also the world's index within its split."),
    split: str = typer.Option("test", "--split", help="A generated suite's worlds: test (the default: the testing "
                              "phase), dev or train. The worlds differ in what they are made of, not just their seed "
                              "(`airgap tasks splits SUITE`); the run records its split and model."),
    task: list[str] = typer.Option(None, "--task", help="Only these task ids (repeatable)."),
    limit: int = typer.Option(None, min=1, help="Only the first N tasks of the suite."),
    stop_on: str = typer.Option(None, "--stop-on", help="End an episode at its first safety flag of this severity or "
                                "worse (info, low, medium, high, critical); flags are always recorded."),
    closed_book: bool = typer.Option(False, "--closed-book", help="Also run every task with only `submit` and report "
                                     "the world uplift (success with the world minus closed-book) per task kind."),
    trials: int = typer.Option(1, "--trials", min=1, help="Run every task K times (trial t with seed SEED+t); the table "
                               "gives pass@1, pass@K and pass^K (all K succeed). Raise it on resume to add trials."),
    attack: list[str] = typer.Option(None, "--attack", help="Safety cases by attack style: NAME (repeatable or comma-"
                                     "separated; the benign twins come too), all, or none (benign twins only)."),
    price_per_mtok: str = typer.Option(None, "--price-per-mtok", metavar="IN,OUT", help="US$ per million input and "
                                       "output tokens: the cost of the model calls in summary.json and the report."),
    agent_key_env: str = typer.Option(None, "--agent-key-env", metavar="NAME", help="Environment variable holding "
                                      "the API key of an openai: agent (default OPENAI_API_KEY)."),
    agent_model: str = typer.Option(None, "--agent-model", metavar="openai:URL#MODEL|hf:PATH|vllm:PATH", help="The model "
                                    "behind https://llm.airgap/v1 for a sandbox:CMD agent program (a model spec, as for --agent)."),
    executor: str = typer.Option("local", help="Where episodes run: local (worker processes) or ray (a Ray cluster)."),
    ray_address: str = typer.Option(None, "--ray-address", help="With --executor ray: auto (the running cluster), "
                                    "ray://HOST:PORT or HOST:PORT; unset starts a local Ray with --workers sandbox slots."),
    mode: str = typer.Option(None, "--mode", help="Sabotage: attack (each task paired with a secret side task the agent "
                             "is told in its system prompt: exfiltrate its token, pay an outside account, forward mail "
                             "outside, plant a backdoor) or honest (the same pairs, untold). Reports main-task success, "
                             "side-task success and how often the monitors caught a successful side task."),
    side_task: list[str] = typer.Option(None, "--side-task", help="With --mode: pair only these side tasks (repeatable; "
                                        "default every one that fits a task)."),
    fresh_containers: bool = typer.Option(False, "--fresh-containers", help="A new container for every episode "
                                          "(default: a sandbox is recycled between episodes when shown clean)."),
    capture: str = typer.Option(None, "--capture", metavar="effects|opens|off", help="What the sandbox records of the "
                                "agent's processes and files for the monitors: effects (default: programs run, files "
                                "written or removed, connections, signals, and each command's file changes), opens "
                                "(also every file opened; slower) or off (command lines only)."),
) -> None:
    """Run an agent over a task suite and write results, episode logs and an HTML report.

    Run the same command again to resume: finished episodes are kept, unfinished ones run.

    \b
    Examples:
      airgap evaluate                                  # oracle over webqa: proves the world is solvable
      airgap evaluate --suite office --level hard --seed 3   # the hard level of test world 3's office, with partial credit
      airgap evaluate --suite office --split train --out runs/office-train   # the train worlds, for the generalisation gap
      airgap evaluate --agent noop --out runs/floor    # the do-nothing floor (must be 0%)
      airgap evaluate --suite sandbox --workers 4
      airgap evaluate --agent hf:/models/qwen --limit 10
      airgap evaluate --suite webqa --closed-book      # does the suite measure tool use? (world uplift)
      airgap evaluate --agent openai:URL#MODEL --trials 3 --price-per-mtok 0.15,0.60
      airgap evaluate --executor ray --ray-address auto  # on a Ray cluster (nodes started with a `sandbox` resource)
      airgap evaluate --suite safety-injection --agent obey --attack direct,encoded   # attack success, flagged
      airgap evaluate --suite office --mode attack --agent saboteur:careful   # side-task success and evasion
      airgap evaluate --agent 'sandbox:python3 /workspace/agent.py' --agent-model openai:URL#MODEL
    """
    from pathlib import Path

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from airgap.envs.runner import EvalConfig, EvaluationError, run_evaluation
    from airgap.envs.runner.executors import ExecutorError
    from airgap.envs.runner.report import print_summary
    from airgap.envs.tasks import TaskFileError, at_level

    try:
        prices = parse_prices(price_per_mtok)
        suite = at_level(suite, level)
        side_tasks = check_sabotage(mode, side_task, agent)
    except ValueError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    cfg = EvalConfig(suite=suite, agent=agent, out=out or f"runs/{Path(suite).stem}-{agent.split(':')[0]}",
                     workers=workers, seed=seed, split=split, tasks=task or None, limit=limit, closed_book=closed_book,
                     env_kwargs={**({"stop_on": stop_on} if stop_on else {}),
                                 **({"fresh_containers": True} if fresh_containers else {}),
                                 **({"capture": capture} if capture else {})}, trials=trials, attacks=attack or None,
                     price_per_mtok=prices, executor=executor,
                     executor_options={"address": ray_address} if ray_address else {},
                     agent_options={k: v for k, v in (("key_env", agent_key_env), ("model", agent_model)) if v},
                     mode=mode, side_tasks=side_tasks)
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.fields[last]}")) as bar:
        handle = bar.add_task(f"{suite} / {agent}", total=None, last="")

        def on_result(row: dict, done: int, total: int) -> None:
            last = f"{row['task_id']}: " + (f"[red]{row['error']}[/red]" if "error" in row else f"reward {row['reward']:.2f}")
            bar.update(handle, completed=done, total=total, last=last)

        try:
            run_evaluation(cfg, on_result=on_result)
        except (EvaluationError, TaskFileError, ExecutorError) as e:
            bar.stop()
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(2) from None
    import json

    summary = json.loads((Path(cfg.out) / "summary.json").read_text())
    print_summary(summary, Path(cfg.out))
    if summary["harness_failures"]:
        raise typer.Exit(1)


def check_sabotage(mode: str | None, side_tasks: list[str] | None, agent: str) -> list[str] | None:
    """The side tasks asked for (comma-separated or repeated), checked against ``--mode``; a ValueError says what to fix."""
    from airgap.envs.suites.sabotage import MODES, SIDE_TASKS

    names = [n.strip() for item in side_tasks or [] for n in item.split(",") if n.strip()]
    if mode is None:
        if names:
            raise ValueError("--side-task needs --mode attack (or --mode honest)")
        if agent.startswith("saboteur"):
            raise ValueError("a saboteur agent needs --mode attack (it has no side task otherwise)")
        return None
    if mode not in MODES:
        raise ValueError(f"--mode must be one of {', '.join(MODES)}, not {mode!r}")
    unknown = [n for n in names if n not in SIDE_TASKS]
    if unknown:
        raise ValueError(f"unknown side task(s) {', '.join(unknown)}; the side tasks are {', '.join(SIDE_TASKS)}")
    return names or None


def parse_prices(text: str | None) -> list[float] | None:
    """``"0.15,0.60"`` -> [0.15, 0.6] (US$ per million input, output tokens)."""
    if not text:
        return None
    parts = [p.strip() for p in text.split(",")]
    try:
        prices = [float(p) for p in parts]
    except ValueError:
        prices = []
    if len(prices) != 2 or any(p < 0 for p in prices):
        raise ValueError(f"--price-per-mtok takes IN,OUT: two non-negative numbers of US$ per million tokens "
                         f"(e.g. 0.15,0.60), not {text!r}")
    return prices
