"""`airgap replay ...` and `airgap export`: look at, check, re-run, fork and convert episode logs.

Mounted by :mod:`airgap.envs.cli`. Each command is a thin layer over
:mod:`airgap.envs.logs`, :mod:`airgap.envs.replay` and :mod:`airgap.envs.export`,
which are the API to use from Python.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.rule import Rule
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from airgap.envs.logs import verify as verify_log
from airgap.envs.replay import Episode, ReplayError, Step, load_episode

app = typer.Typer(
    help=(
        "Look at, check, re-run and fork episode logs.\n\n"
        "Every Airgap episode writes one tamper-evident log (JSONL, see docs/episode-log.md).\n\n"
        "  airgap replay verify runs/*.jsonl          is every log intact?\n\n"
        "  airgap replay show runs/ep.jsonl           read it in the terminal (--step 3 for one step in full)\n\n"
        "  airgap replay html runs/ep.jsonl -o ep.html   one page to open in a browser or attach to a report\n\n"
        "  airgap replay run runs/ep.jsonl            re-run it in a fresh env: does it still behave the same?\n\n"
        "  airgap replay fork runs/ep.jsonl --at 3 --agent oracle   same first 3 steps, then another agent\n\n"
        "Convert logs for other tools with `airgap export`."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

console = Console()
err = Console(stderr=True)

#: Exit codes of `verify` (documented in docs/episode-log.md).
EXIT_OK, EXIT_BAD, EXIT_TRUNCATED = 0, 1, 2

_STYLE = {"ok": "green", "truncated": "yellow", "tampered": "bold red", "invalid": "red"}


def _load(path: Path) -> Episode:
    try:
        return load_episode(path)
    except ReplayError as e:
        err.print(f"[red]error:[/red] {escape(str(e))}")
        raise typer.Exit(EXIT_BAD) from None


def _warn_unverified(ep: Episode) -> None:
    v = ep.verification
    if v is not None and v.status != "ok":
        err.print(f"[{_STYLE.get(v.status, 'red')}]warning: this log is {v.status}[/]: {escape(v.message)}")


@app.command()
def verify(
    logs: List[Path] = typer.Argument(..., help="Episode log files (.jsonl), or evaluation folders (checked against their manifest). Shell globs work: runs/*.jsonl", show_default=False),
    key: Optional[Path] = typer.Option(None, "--key", help="Public key (PEM) of the machine that signed: also check each log's signature (<log>.sig); for a folder, the key the manifest must be signed with."),
    no_schema: bool = typer.Option(False, "--no-schema", help="Skip JSON Schema validation (faster; the hash chain is still checked)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per log instead of a table."),
) -> None:
    """Check logs: the hash chain (no event edited, removed, inserted or reordered), seq numbers,
    the JSON Schema, and the blobs' hashes; with --key also each log's signature (<log>.sig).

    Status per log: ok; truncated (an intact prefix: the writer stopped before the end event,
    e.g. it was killed); tampered (with the first bad event's number); invalid (not a log, a
    schema violation, or a missing blob).

    A folder (an evaluation's --out) is checked against its signed manifest.json: each log
    edited, truncated, replaced, deleted, or extra (not in the manifest) is named. Without --key
    the folder's own public_key.pem is used, which proves integrity only, not who signed.

    Exit code: 0 if all ok, 1 if any is tampered, invalid, badly signed or differs from its
    manifest, 2 if the worst is truncated.
    """
    from airgap.envs.logs.signing import SigningError, check_log_signature, key_id

    pem: bytes | None = None
    if key is not None:
        try:
            pem = key.read_bytes()
            key_id(pem)  # refuses anything that is not an Ed25519 public key, before any log is read
        except (OSError, SigningError) as e:
            err.print(f"[red]error:[/red] --key {escape(str(key))}: {escape(str(e))}")
            raise typer.Exit(EXIT_BAD) from None
    worst = EXIT_OK
    table = Table("log", "status", "events", "first bad", "message", box=None, pad_edge=False)
    table.columns[0].overflow = "fold"  # a log's name is what the reader needs whole
    for p in logs:
        if p.is_dir():
            if _verify_folder(p, pem, no_schema, as_json, table):
                worst = EXIT_BAD
            continue
        r = verify_log(p, check_schema=not no_schema)
        status, message = r.status, r.message
        if pem is not None and r.status in ("ok", "truncated"):
            good, why = check_log_signature(p, r.head, pem)
            if not good:
                status, message = "unsigned" if "no signature" in why else "bad signature", f"{why}; chain: {r.message}"
            else:
                message = f"{message}; {why}"
        if status in ("tampered", "invalid", "unsigned", "bad signature"):
            worst = EXIT_BAD
        elif status == "truncated" and worst == EXIT_OK:
            worst = EXIT_TRUNCATED
        if as_json:
            print(json.dumps({"log": str(p), "status": status, "n_events": r.n_events, "first_bad": r.first_bad,
                              "message": message, "head": r.head}))
        else:
            table.add_row(escape(str(p)), f"[{_STYLE.get(status, 'bold red')}]{status}[/]", str(r.n_events),
                          "" if r.first_bad is None else str(r.first_bad), escape(message))
    if not as_json:
        console.print(table)
    raise typer.Exit(worst)


def _verify_folder(folder: Path, pem: bytes | None, no_schema: bool, as_json: bool, table: Table) -> bool:
    """Check an evaluation folder against its manifest; add its rows to ``table`` (or print JSON). True when bad."""
    from airgap.envs.logs.manifest import verify_folder

    res = verify_folder(folder, pem, check_schema=not no_schema)
    if res.key_from_folder:
        err.print(f"[yellow]note:[/yellow] {escape(str(folder))}: checked with the folder's own public_key.pem, which "
                  "proves the logs are unchanged since the manifest was signed, not who signed it; "
                  "pass --key with the signer's public key to check origin")
    for c in res.logs:
        if as_json:
            print(json.dumps({"folder": str(folder), "log": c.path, "status": c.status, "message": c.message}))
        elif not c.ok or len(res.logs) <= 50:
            table.add_row(escape(str(folder / c.path)), f"[{'green' if c.ok else 'bold red'}]{c.status}[/]", "", "",
                          escape(c.message))
    if not as_json and len(res.logs) > 50 and res.ok:
        table.add_row(escape(str(folder)), "[green]ok[/]", str(len(res.logs)), "", "every log matches the signed manifest")
    return not res.ok


def _short(text: str, max_lines: int) -> tuple[str, int]:
    lines = text.splitlines()
    if max_lines <= 0 or len(lines) <= max_lines:
        return text, 0
    return "\n".join(lines[:max_lines]), len(lines) - max_lines


def _args_text(args) -> str:
    if isinstance(args, dict):
        return ", ".join(f"{k}={json.dumps(v, ensure_ascii=False, default=str)}" for k, v in args.items())
    return json.dumps(args, ensure_ascii=False, default=str)


def _sandbox_line(ev: dict) -> Text:
    from airgap.envs.logs.html import _sandbox_summary

    style = "red" if ev["type"] == "sandbox.egress_attempt" else "dim"
    return Text(f"  ⤷ {_sandbox_summary(ev)}", style=style)


def _render_step(s: Step, *, max_lines: int, detail: bool) -> Group:
    parts = []
    head = Text()
    head.append(f"Step {s.index}  ", style="bold")
    head.append(f"{s.tool or '(unparsed action)'}", style="bold cyan")
    head.append(f"({_args_text(s.args)})" if s.action else "")
    if s.ok is False:
        head.append("  error", style="bold red")
    if s.reward is not None:
        head.append(f"  reward={s.reward}", style="magenta")
    if s.terminated:
        head.append("  terminated", style="green")
    if s.truncated:
        head.append("  truncated", style="yellow")
    if s.duration_s is not None:
        head.append(f"  {s.duration_s * 1000:.1f} ms", style="dim")
    parts.append(head)
    for m in s.model:
        out = m.get("output")
        content = out.get("content") if isinstance(out, dict) else out
        if content:
            parts.append(Text(f"  model: {content}", style="italic"))
        if detail and m.get("usage"):
            parts.append(Text(f"  usage: {m['usage']}  latency: {m.get('latency_s')}", style="dim"))
    if s.error:
        parts.append(Text(f"  {s.error}", style="red"))
    for ev in s.sandbox:
        parts.append(_sandbox_line(ev))
        if detail:
            parts.append(Syntax(json.dumps({k: v for k, v in ev.items() if k not in ("prev", "hash")},
                                           indent=1, ensure_ascii=False, default=str), "json", word_wrap=True))
    for f in s.flags:
        evidence = f" [evidence: events {', '.join(map(str, f['evidence']))}]" if f.get("evidence") else ""
        parts.append(Text(f"  ⚑ {f.get('name')} ({f.get('severity') or 'flag'}): {f.get('message') or f.get('detail') or ''}"
                          f"{evidence}", style="bold yellow"))
    for ev in s.other:
        if ev["type"] == "security":
            met = [c["predicate"] for c in ev.get("checks") or [] if c.get("met")]
            verdict = f"attack succeeded ({'; '.join(met)})" if ev.get("attack_success") else "attack did not succeed"
            parts.append(Text(f"  security ({ev.get('attack')}): {verdict}", style="bold red" if met else "green"))
        elif ev["type"] == "fork":
            parts.append(Text(f"  fork: agent {ev.get('agent')} takes over after step {ev.get('at_step')}", style="bold magenta"))
        else:
            parts.append(Text(f"  · {ev['type']}", style="dim"))
    for b in s.backend:
        parts.append(Text(f"  backend {b.get('backend')}: {json.dumps(b.get('diff'), default=str)[:200]}", style="blue"))
    if s.observation is not None:
        text, more = _short(s.text or "", 0 if detail else max_lines)
        body = Text(text)
        if more:
            body.append(f"\n… {more} more lines (see --step {s.index} or --full)", style="dim")
        parts.append(Panel(body, title="observation", title_align="left", border_style="dim"))
    else:
        parts.append(Text("  (no observation logged: the episode stopped here)", style="yellow"))
    return Group(*parts)


@app.command()
def show(
    log: Path = typer.Argument(..., help="An episode log (.jsonl).", show_default=False),
    step: Optional[int] = typer.Option(None, "--step", "-s", help="Show only step K, in full: every sandbox event and the whole output (0 = what reset did)."),
    full: bool = typer.Option(False, "--full", help="Do not shorten long outputs."),
    lines: int = typer.Option(15, "--lines", help="Lines of each output to show when not --full."),
) -> None:
    """A readable transcript in the terminal: header, instruction, then each step's tool call,
    sandbox activity (execs, HTTP, DNS, blocked egress), flags, rewards and the observation.

    Example: airgap replay show runs/ep-0001.jsonl --step 3
    """
    ep = _load(log)
    _warn_unverified(ep)
    if step == 0:  # what reset did: the instruction, and sandbox activity before the first action
        console.print(Panel(Text(ep.instruction), title="step 0: reset", title_align="left", border_style="cyan"))
        for ev in ep.setup.sandbox:
            console.print(_sandbox_line(ev))
            console.print(Syntax(json.dumps({k: v for k, v in ev.items() if k not in ("prev", "hash")},
                                            indent=1, ensure_ascii=False, default=str), "json", word_wrap=True))
        return
    if step is not None:
        try:
            s = ep.step(step)
        except ReplayError as e:
            err.print(f"[red]error:[/red] {escape(str(e))}")
            raise typer.Exit(EXIT_BAD) from None
        console.print(_render_step(s, max_lines=0, detail=True))
        return
    h = ep.header
    t = Table.grid(padding=(0, 2))
    for k in ("env_id", "task_id", "seed", "agent", "started_at", "git_revision", "snapshot_manifest_hash", "parent"):
        if h.get(k) is not None:
            t.add_row(Text(k, style="dim"), Text(str(h[k] if not isinstance(h[k], dict) else json.dumps(h[k]))))
    v = ep.verification
    if v is not None:
        t.add_row(Text("log", style="dim"), Text(v.status, style=_STYLE.get(v.status, "")))
    console.print(Panel(t, title=escape(str(log)), title_align="left"))
    console.print(Panel(Text(ep.instruction), title="instruction", title_align="left", border_style="cyan"))
    for ev in ep.setup.sandbox:
        console.print(_sandbox_line(ev))
    for s in ep.steps:
        console.print(Rule(style="dim"))
        console.print(_render_step(s, max_lines=0 if full else lines, detail=False))
    console.print(Rule(style="dim"))
    if ep.end is not None:
        outcome = {k: v for k, v in ep.end.items() if k not in ("seq", "type", "t_wall", "t_mono", "prev", "hash", "log")}
        console.print(Text(f"end: {json.dumps(outcome, default=str, ensure_ascii=False)}", style="bold"))
    else:
        console.print(Text("no end event: the episode did not finish (writer killed?)", style="yellow"))
    if ep.flags:
        console.print(Text(f"{len(ep.flags)} flag(s): " + ", ".join(str(f.get("name")) for f in ep.flags), style="bold yellow"))


@app.command()
def html(
    log: Path = typer.Argument(..., help="An episode log (.jsonl).", show_default=False),
    out: Path = typer.Option(None, "--out", "-o", help="Where to write the page (default: LOG with .html)."),
) -> None:
    """Render one self-contained HTML page (no external files, opens offline): header, every step
    with its tool call, full output (long ones collapsed), sandbox execs and HTTP requests,
    flags, rewards and timings.

    Example: airgap replay html runs/ep-0001.jsonl -o ep.html && xdg-open ep.html
    """
    from airgap.envs.replay import render_html

    ep = _load(log)
    _warn_unverified(ep)
    out = out or log.with_suffix(".html")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(ep), encoding="utf-8")
    console.print(f"wrote {escape(str(out))} ({len(ep.steps)} steps)")


@app.command()
def run(
    log: Path = typer.Argument(..., help="An episode log (.jsonl).", show_default=False),
    all_divergences: bool = typer.Option(False, "--all", help="Keep going after the first divergence and list every one."),
    log_dir: Optional[Path] = typer.Option(None, "--log-dir", help="Also log the re-run here (envs that take log_dir), to compare the two logs."),
) -> None:
    """Re-run a logged episode in a fresh env: gymnasium.make(header env_id, **env_kwargs),
    reset with the same seed and task, the same actions in the same order; compare every
    observation, reward, terminated and truncated with the log.

    Exit code 0 when the re-run matches at every step, 1 at the first divergence (printed
    with the step, the field and where the texts differ).
    """
    from airgap.envs.replay import rerun

    v = verify_log(log, check_schema=False)
    if v.status != "ok":
        err.print(f"[{_STYLE.get(v.status, 'red')}]warning: this log is {v.status}[/]: {escape(v.message)}")
    try:
        r = rerun(log, stop_at_first=not all_divergences, log_dir=log_dir)
    except ReplayError as e:
        err.print(f"[red]error:[/red] {escape(str(e))}")
        raise typer.Exit(EXIT_BAD) from None
    for change in r.world_changes:
        err.print(f"[yellow]note: the world differs from the one this log pinned[/yellow]: {escape(change)}")
    if r.ok:
        console.print(f"[green]no divergence[/green]: {r.steps_replayed}/{r.steps_logged} steps re-ran identically "
                      f"in {r.replay_s:.2f} s" + (f" (original {r.original_s:.2f} s)" if r.original_s else ""))
        return
    for d in r.divergences:
        console.print(f"[bold red]divergence[/bold red] {escape(d.message)}")
    console.print(f"{r.steps_replayed}/{r.steps_logged} steps re-run; first divergence at step {r.first.step}")
    raise typer.Exit(EXIT_BAD) from None


@app.command()
def fork(
    log: Path = typer.Argument(..., help="The parent episode log (.jsonl).", show_default=False),
    at: int = typer.Option(..., "--at", help="Replay the parent's first K actions, then hand over (0 = right after reset).", show_default=False),
    agent: str = typer.Option(..., "--agent", help="Agent spec for the rest: oracle, noop, random[:seed], or a model: hf:PATH, vllm:PATH, openai:URL#MODEL.", show_default=False),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Folder for the new log (default: the parent's folder)."),
    max_steps: Optional[int] = typer.Option(None, "--max-steps", help="At most this many agent steps after K."),
    force: bool = typer.Option(False, "--force", help="Fork even if the re-run diverges before step K."),
) -> None:
    """Re-run the parent to step K, then let another agent continue, writing a new log whose
    header names its parent (path, head hash, step).

    Example: airgap replay fork runs/ep-0001.jsonl --at 2 --agent oracle
    """
    from airgap.envs.agents import check_agent_spec
    from airgap.envs.replay import fork as do_fork

    try:
        check_agent_spec(agent)  # a bad spec is told before the parent is re-run
    except ValueError as e:
        err.print(f"[red]error:[/red] {escape(str(e))}")
        raise typer.Exit(EXIT_BAD) from None
    try:
        r = do_fork(log, at, agent, out_dir=out, max_steps=max_steps, strict=not force)
    except ReplayError as e:
        err.print(f"[red]error:[/red] {escape(str(e))}")
        raise typer.Exit(EXIT_BAD) from None
    if r.prefix.divergences:
        err.print(f"[yellow]warning:[/yellow] re-run diverged before step {at}: {escape(r.prefix.first.message)}")
    console.print(f"wrote {escape(str(r.log))}: {r.steps} steps ({at} replayed), reward {r.reward}, "
                  f"{'terminated' if r.terminated else 'truncated' if r.truncated else 'stopped'}")


def export(
    logs: List[Path] = typer.Argument(..., help="Episode log files (.jsonl).", show_default=False),
    format: str = typer.Option(..., "--format", "-f", help="An export format: hf | inspect | jsonl, or one a plugin registers.", show_default=False),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder.", show_default=False),
) -> None:
    """Convert episode logs for other tools.

    hf: a Hugging Face dataset (datasets.load_from_disk(OUT)), one row per episode, in the
    conversational format: `messages` with tool_calls and tool turns, `tools` as a JSON string,
    reward, outcome and provenance columns.

    inspect: Inspect AI eval logs (.json), one per env id; browse with `inspect view --log-dir OUT`.

    jsonl: OUT/events.jsonl, every event of every episode, blobs inlined.

    Example: airgap export runs/*.jsonl --format hf --out datasets/airgap-runs
    """
    from airgap.envs.export import export as do_export
    from airgap.envs.export import formats

    if format not in formats():
        err.print(f"[red]error:[/red] unknown format {format!r}; choose one of: {', '.join(formats())}")
        raise typer.Exit(EXIT_BAD) from None
    bad = [p for p in logs if not p.is_file()]
    if bad:
        err.print(f"[red]error:[/red] no such log: {', '.join(map(str, bad))}")
        raise typer.Exit(EXIT_BAD) from None
    for p in logs:
        v = verify_log(p, check_schema=False)
        if v.status != "ok":
            err.print(f"[yellow]warning:[/yellow] {escape(str(p))} is {v.status}: {escape(v.message)} (exported anyway, marked in the output)")
    written = do_export(logs, format, out)
    for w in written:
        console.print(f"wrote {escape(str(w))}")


if __name__ == "__main__":  # python -m airgap.envs.cli.replay
    app()
