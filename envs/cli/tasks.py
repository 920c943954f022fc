"""`airgap tasks`: what environments and tasks exist.

    airgap tasks list                          every registered suite and its env id, with task counts
    airgap tasks show webqa-001                one task: instruction, world, budget, graders, oracle
    airgap tasks show office-005 --seed 5      the same task of another generated world
    airgap tasks check FILE.yaml               validate a suite file (what gym.make would complain about)
    airgap tasks dump office --seed 5 -o o.yaml   a generated suite as a suite file (to read, edit or pin)
    airgap tasks audit [--suite S] [--seed N]   the grader audit: adversarial answers and episodes, their verdicts
    airgap tasks splits office                 the train/dev/test worlds of a generated suite: how they differ
"""
from __future__ import annotations

import json
from collections import Counter

import typer

app = typer.Typer(help="List and inspect task suites and the environments that serve them.", no_args_is_help=True)


def _rows(seed: int = 0):
    """(env id, suite name, Suite or None, error or None) for every registered suite, from the one suite registry."""
    from airgap.envs.tasks import SUITES, TaskFileError, load_suite

    rows = []
    for name, spec in SUITES.items():
        try:
            rows.append((spec.env_id, name, load_suite(name, world_seed=seed), None))
        except (TaskFileError, ValueError) as e:
            rows.append((spec.env_id, name, None, str(e)))
    return rows


@app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
          seed: int = typer.Option(0, help="World seed of the generated suites (office, worldqa, safety-*).")) -> None:
    """Every registered suite (bundled and plugins) with its env id and task counts per kind."""
    rows = _rows(seed)
    if as_json:
        out = [
            {"env_id": e or None, "suite": s, "version": su.version if su else None, "tasks": len(su) if su else 0,
             "kinds": dict(Counter(t.kind or "-" for t in su.tasks)) if su else {}, "path": str(su.path) if su else None,
             "error": err}
            for e, s, su, err in rows
        ]
        typer.echo(json.dumps(out, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Airgap environments and task suites")
    table.add_column("env id", no_wrap=True)
    table.add_column("suite", no_wrap=True)
    for col in ("version", "tasks", "max steps"):
        table.add_column(col, justify="right")
    table.add_column("kinds")
    for env_id, suite, su, err in rows:
        if su is None:
            why = "file missing" if "not found" in err else "invalid: `airgap tasks check " + suite + "`"
            if "lacks" in err:  # a generator that cannot make its suite for this world
                why = err
            table.add_row(env_id or "-", suite, "-", "0", "-", f"[red]{why}[/red]")
            continue
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(Counter(t.kind or "-" for t in su.tasks).items()))
        attacks = {t.attack for t in su.tasks if t.attack is not None}
        if attacks:  # a safety suite: its tasks are cases (task x attack style, and each task's benign twin)
            bases = {t.id.rsplit(".", 1)[0]: t.kind.split("/")[-1] for t in su.tasks}
            slots = ", ".join(f"{k} {n}" for k, n in sorted(Counter(bases.values()).items()))
            kinds = f"{len(bases)} tasks x {len(attacks) - 1} attacks + benign twin; slots: {slots}"
        table.add_row(env_id or "-", suite, str(su.version), str(len(su)), str(su.max_steps), kinds)
    Console().print(table)


@app.command()
def show(task_id: str = typer.Argument(..., help="A task id, e.g. webqa-001."),
         as_json: bool = typer.Option(False, "--json", help="Print the task as JSON."),
         seed: int = typer.Option(0, help="World seed of the generated suites (office, worldqa, safety-*).")) -> None:
    """One task: instruction, reference answer, world, budget, graders and oracle."""
    for _env_id, _suite, su, _err in _rows(seed):
        if su is None:
            continue
        for t in su.tasks:
            if t.id == task_id:
                d = t.to_dict()
                if as_json:
                    typer.echo(json.dumps(d, indent=2, ensure_ascii=False))
                    return
                import yaml
                from rich.console import Console
                from rich.panel import Panel
                from rich.syntax import Syntax

                c = Console()
                c.print(Panel(t.instruction, title=f"{t.id} ({t.suite} v{t.suite_version}, {t.kind or 'no kind'})"))
                rest = {k: v for k, v in d.items() if k not in ("id", "instruction", "suite", "suite_version", "kind")}
                c.print(Syntax(yaml.safe_dump(rest, sort_keys=False, allow_unicode=True), "yaml"))
                return
    typer.echo(f"no task {task_id!r}; `airgap tasks list` shows the suites, `airgap tasks show ID` takes an id from them", err=True)
    raise typer.Exit(1)


@app.command()
def check(path: str = typer.Argument(..., help="A suite name or a path to a suite YAML file.")) -> None:
    """Validate a suite file: schema, tools, grader specs, oracle calls. Exit 1 with every problem listed."""
    from airgap.envs.tasks import TaskFileError, load_suite

    try:
        su = load_suite(path)
    except TaskFileError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{su.path}: suite {su.name} v{su.version}, {len(su)} tasks, OK")


@app.command()
def dump(suite: str = typer.Argument(..., help="A registered suite name (`airgap tasks list`)."),
         seed: int = typer.Option(0, help="World seed, for a suite generated per seed."),
         out: str = typer.Option("-", "--out", "-o", help="Where to write the YAML; - for standard output.")) -> None:
    """Write a suite as a suite file: a generated one for one world seed, or a fixed one as it is.

    The file loads with `--suite FILE.yaml` like any suite of your own, so a generated suite can be read, pinned or
    edited. The office suite's golden copy is made this way:
    `airgap tasks dump office --seed 0 -o envs/suites/office/seed-0.yaml`.
    """
    from pathlib import Path

    from airgap.envs.tasks import TaskFileError, dump_yaml, load_suite, suite_spec

    spec = suite_spec(suite)
    if spec is None:
        typer.echo(f"no suite named {suite!r}; `airgap tasks list` shows the registered ones", err=True)
        raise typer.Exit(1)
    try:
        if spec.per_seed:
            data = spec.data(seed)
            load_suite(suite, world_seed=seed)  # checked like gym.make would, before anything is written
            header = (f"# The {suite} suite of world {seed}, written by `airgap tasks dump {suite} --seed {seed}` from its "
                      f"generator ({spec.generate}).\n# Do not edit by hand where it is a golden copy; regenerate it.\n")
            text = header + dump_yaml(data)
        else:
            assert spec.file is not None
            text = spec.file.read_text(encoding="utf-8")
    except (TaskFileError, ValueError) as e:
        typer.echo(f"{suite} (seed {seed}): {e}", err=True)
        raise typer.Exit(1) from None
    if out == "-":
        typer.echo(text, nl=False)
    else:
        Path(out).write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out}", err=True)


@app.command()
def audit(suite: list[str] = typer.Option(None, "--suite", "-s", help="A registered suite (repeat for more); default: every one."),
          seed: list[int] = typer.Option(None, "--seed", help="World seed of the generated suites (repeat); default: 0 and 1."),
          answers_only: bool = typer.Option(False, "--answers-only", help="Only the answer cases (no Docker, seconds)."),
          episodes_only: bool = typer.Option(False, "--episodes", help="Only the episode cases (scripted calls in the env)."),
          workers: int = typer.Option(2, "--workers", "-w", help="Processes playing the episode cases."),
          as_json: bool = typer.Option(False, "--json", help="Print every verdict as a JSON line instead of tables."),
          show: int = typer.Option(20, help="Wrong verdicts listed per suite (all are counted).")) -> None:
    """The grader audit: every task's adversarial answers and episodes (hedges, near-duplicates, wrong order,
    partial and collateral work, honest reports that quote the attack...) against the verdicts they must get.

    Exit 1 on any wrong verdict: each is listed with the task, the case, the expected and the given verdict, and
    the graders' detail. The cases are made by `airgap.envs.tasks.audit`; a task adds its own in `audit:`.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from airgap.envs.runner.audit import plan, run
    from airgap.envs.tasks import SUITES, TaskFileError

    if answers_only and episodes_only:
        typer.echo("--answers-only and --episodes exclude each other; give neither for both", err=True)
        raise typer.Exit(2)
    names = list(suite or SUITES)
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        typer.echo(f"unknown suite(s) {unknown}; registered: {', '.join(SUITES)}", err=True)
        raise typer.Exit(2)
    try:
        audits = plan(names, list(seed or [0, 1]), answers=not episodes_only, episodes=not answers_only)
    except TaskFileError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(1) from None
    console = Console(stderr=as_json)
    total = sum(len(a.verdicts) for a in audits)
    with Progress(TextColumn("[bold]audit"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.fields[last]}"), console=console, transient=True) as bar:
        job = bar.add_task("audit", total=total, last="")
        run(audits, workers=workers,
            on_verdict=lambda v, done, _total: bar.update(job, completed=done, last=f"{v.suite} {v.case.task_id}"))
    wrong = [v for a in audits for v in a.wrong]
    if as_json:
        for a in audits:
            for v in a.verdicts:
                typer.echo(json.dumps(v.to_dict(), ensure_ascii=False))
        raise typer.Exit(1 if wrong else 0)
    table = Table(title="Grader audit: adversarial cases per suite and world")
    for col in ("suite", "seed", "tasks", "cases", "answers", "episodes", "min/task", "wrong"):
        table.add_column(col, justify="left" if col == "suite" else "right")
    table.add_column("cases by kind")
    for a in audits:
        modes, per_task = a.by_mode(), a.cases_per_task()
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(a.by_kind().items()))
        table.add_row(a.suite, str(a.seed), str(a.tasks), str(len(a.verdicts)), str(modes["answer"]),
                      str(modes["episode"]), str(min(per_task.values(), default=0)),
                      f"[red]{len(a.wrong)}[/red]" if a.wrong else "0", kinds)
    table.add_row("all", "", str(sum(a.tasks for a in audits)), str(total),
                  str(sum(a.by_mode()["answer"] for a in audits)), str(sum(a.by_mode()["episode"] for a in audits)),
                  "", str(len(wrong)), "")
    console.print(table)
    for a in audits:
        if not a.wrong:
            continue
        t = Table(title=f"{a.suite} (world {a.seed}): {len(a.wrong)} wrong verdict(s)", show_lines=True)
        for col in ("task", "case", "expected", "got", "answer or calls", "graders said"):
            t.add_column(col, overflow="fold")
        for v in a.wrong[:show]:
            def fmt(reward, attack):
                return f"{reward}" + ("" if attack is None else f", attack {'yes' if attack else 'no'}")
            what = v.case.answer if v.case.answer is not None else " -> ".join(
                c["tool"] + (f" {c['args'].get('method', '')} {c['args'].get('url', '')}" if c["tool"] == "http" else "")
                for c in v.case.calls or [])
            t.add_row(v.case.task_id, f"{v.case.name}\n{v.case.why}", fmt(v.case.reward, v.case.attack_success),
                      fmt(v.reward, v.attack_success), what[:300], v.detail[:400])
        console.print(t)
        if len(a.wrong) > show:
            console.print(f"... and {len(a.wrong) - show} more (--show N, or --json for all)")
    raise typer.Exit(1 if wrong else 0)


@app.command()
def splits(suite: str = typer.Argument(..., help="A generated suite (office, office-hard, worldqa, safety-*)."),
           as_json: bool = typer.Option(False, "--json", help="Print the declaration as JSON.")) -> None:
    """Print a generated suite's train, dev and test splits: what each split's worlds are made of, the suite's own
    axes, and the hash every run manifest and log header pins.

    A split is a region of the generator's parameters, not a seed range: test worlds sell other things, are named
    differently, are staffed from other name pools and written from other templates than train worlds, and their
    tasks are put to the agent in other words. `airgap evaluate` uses the test split unless told otherwise;
    `gym.make` serves train worlds.
    """
    from rich.console import Console
    from rich.table import Table

    from airgap.envs.tasks import suite_spec
    from airgap.envs.tasks.shift import declaration, shift_file, shift_hash
    from airgap.envs.worldgen.splits import BASE, SPLITS

    if suite_spec(suite) is None:
        typer.echo(f"no suite named {suite!r}; `airgap tasks list` shows the registered ones", err=True)
        raise typer.Exit(2)
    try:
        d = declaration(suite)
    except ValueError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    if d is None:
        typer.echo(f"{suite} is a fixed suite (one file, the same tasks everywhere): it has no worlds to split.")
        return
    if as_json:
        typer.echo(json.dumps({**d, "shift_hash": shift_hash(suite)}, indent=2, sort_keys=True))
        return
    console = Console()
    t = Table(title=f"{suite}: train, dev and test worlds ({shift_file(suite)})")
    t.add_column("axis", justify="left")
    for name in SPLITS:
        t.add_column(f"{name} (seeds {BASE[name]}..)", justify="left")
    world = d["world"]["splits"]
    for axis in world["train"]:
        t.add_row(axis, *(", ".join(map(str, world[s][axis])) for s in SPLITS))
    for axis, spec in (d.get("axes") or {}).items():
        t.add_row(axis, *(", ".join(map(str, spec[s])) for s in SPLITS))
    console.print(t)
    for axis, spec in (d.get("axes") or {}).items():
        console.print(f"[bold]{axis}[/bold]: {spec.get('what', '')}")
    if d.get("same_in_every_split"):
        console.print(f"[bold]the same in every split[/bold]: {d['same_in_every_split']}")
    console.print(f"shift hash: {shift_hash(suite)}   (the axes are explained in envs/worldgen/splits.yaml)")
