"""`airgap sandbox ...`: build the image, run one command isolated, open a shell, list and collect leftovers."""
from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import List, Optional

import typer

from .errors import SandboxError
from .image import DEFAULT_IMAGE

app = typer.Typer(
    help="Hardened, network-less containers for agents.\n\n"
    "First `airgap sandbox build` (once, no registry needed), then try "
    "`airgap sandbox run -- python3 -c 'print(1)'` or `airgap sandbox shell`. "
    "Leftovers of killed runs: `airgap sandbox ls`, `airgap sandbox gc`.",
    no_args_is_help=True,
)


def _fail(err: Exception) -> None:
    typer.secho(f"error: {err}", fg="red", err=True)
    raise typer.Exit(2)


ROUTES_HELP = ("Hosts to route, as MODULE:CALLABLE returning {hostname: ASGI app}. The offline web of the bundled "
               "snapshot: airgap.corpus:default_routes. Default: nothing routed.")


def _load_routes(spec: str | None) -> dict | None:
    """Import ``module:callable`` and call it for the hostname -> ASGI app table (the sandbox knows no apps itself)."""
    if not spec:
        return None
    import importlib

    module, _, attr = spec.partition(":")
    try:
        factory = getattr(importlib.import_module(module), attr or "routes")
    except (ImportError, AttributeError) as e:
        raise SandboxError(f"--routes {spec!r}: {e}; expected MODULE:CALLABLE, e.g. airgap.corpus:default_routes") from None
    try:
        routes = factory() if callable(factory) else factory
    except Exception as e:  # noqa: BLE001 - whatever the user's factory raises, say so and stop
        raise SandboxError(f"--routes {spec!r}: calling it failed: {type(e).__name__}: {e}") from None
    if not isinstance(routes, dict):
        raise SandboxError(f"--routes {spec!r} gave {type(routes).__name__}, not a dict of hostname -> ASGI app")
    return routes


@app.command()
def build(
    base: Optional[str] = typer.Option(None, help="Build on this local/registry image instead of a debootstrap "
                                       "rootfs (e.g. debian:bookworm-slim)."),
    tag: str = typer.Option(DEFAULT_IMAGE, help="Tag of the image to build."),
    mirror: Optional[str] = typer.Option(None, help="Debian mirror for debootstrap (default: the one apt uses)."),
    force: bool = typer.Option(False, "--force", help="Rebuild even if the recipe hash is unchanged."),
    with_: List[str] = typer.Option([], "--with", help="Also build this variant on top of the image (repeatable): "
                                    "browser (Debian's Chromium and fonts, tagged airgap/base:browser)."),
) -> None:
    """Build the sandbox image. Without --base: debootstrap bookworm (root, a few minutes once, cached)."""
    from .image import build as build_image
    from .image import build_variant

    try:
        log = lambda line: typer.echo(line, err=True)  # noqa: E731
        build_image(base=base, tag=tag, mirror=mirror, force=force, log=log)
        for name in with_:
            build_variant(name, base_tag=tag, force=force, log=log)
    except SandboxError as e:
        _fail(e)


@app.command(context_settings={"allow_interspersed_args": False})
def run(
    cmd: List[str] = typer.Argument(..., help="The command, after `--`. One argument runs in `sh -c`; "
                                    "several are an argv."),
    as_json: bool = typer.Option(False, "--json", help="Print exactly one JSON object on one line."),
    timeout: float = typer.Option(60.0, help="Seconds before the command's whole process group is killed."),
    memory: str = typer.Option("512m", help="Memory limit (no swap), e.g. 256m."),
    cpus: float = typer.Option(1.0, help="CPU limit."),
    image: str = typer.Option(DEFAULT_IMAGE, help="Image to run (must exist; never pulled)."),
    log: Optional[Path] = typer.Option(None, "--log", help="Append every event (exec, http, dns...) to this JSONL file."),
    max_output: int = typer.Option(1 << 20, help="Bytes of stdout/stderr kept each (sha256 covers all)."),
    runtime: Optional[str] = typer.Option(None, help="Container runtime: runsc (gVisor, must be installed) or "
                                          "auto (runsc when the engine offers it)."),
    routes: Optional[str] = typer.Option(None, "--routes", help=ROUTES_HELP),
    capture: str = typer.Option("effects", "--capture", metavar="effects|opens|off", help="What the result records of "
                                "what the command's processes did (effects) and what changed in the files: effects, "
                                "opens (also every file opened) or off."),
) -> None:
    """Run one command in a fresh sandbox, print the result as JSON, remove the sandbox.

    Exits with the command's exit code. Examples:

    \b
      airgap sandbox run --json --timeout 5 -- sh -c 'echo hi'
      airgap sandbox run --routes airgap.corpus:default_routes --log ev.jsonl -- curl -s https://www.sqlite.org/limits.html
    """
    from .config import capture_mode
    from .events import JsonlSink
    from .sandbox import Sandbox, SandboxConfig

    sink = JsonlSink(log) if log else None
    command: str | list[str] = cmd[0] if len(cmd) == 1 else list(cmd)
    try:
        table = _load_routes(routes)
        config = SandboxConfig(image=image, memory=memory, cpus=cpus, runtime=runtime, capture=capture_mode(capture))
        with Sandbox(config, routes=table, sink=sink) as sb:
            result = sb.exec(command, timeout=timeout, max_output=max_output)
            out = {"sandbox": sb.id, **result.to_dict()}
    except SandboxError as e:
        _fail(e)
    finally:
        if sink:
            sink.close()
    typer.echo(json.dumps(out) if as_json else json.dumps(out, indent=2))
    raise typer.Exit(result.exit_code)


@app.command()
def shell(
    image: str = typer.Option(DEFAULT_IMAGE, help="Image to run."),
    memory: str = typer.Option("512m", help="Memory limit (no swap)."),
    log: Optional[Path] = typer.Option(None, "--log", help="Append the gateway's events to this JSONL file."),
    routes: Optional[str] = typer.Option(None, "--routes", help=ROUTES_HELP),
) -> None:
    """An interactive bash inside a fresh sandbox, as the agent sees it (no network; only --routes hosts answer).

    Try: curl https://exfil.example (fails fast, logged), cat /proc/net/route, touch /x (read-only);
    with --routes airgap.corpus:default_routes, curl https://docs.python.org/3.11/ answers from the snapshot."""
    from .events import JsonlSink
    from .sandbox import Sandbox, SandboxConfig

    if shutil.which("docker") is None:
        _fail(SandboxError("the interactive shell uses the `docker` CLI, which is not on PATH"))
    sink = JsonlSink(log) if log else None
    try:
        table = _load_routes(routes)
        with Sandbox(SandboxConfig(image=image, memory=memory), routes=table, sink=sink) as sb:
            typer.echo(f"sandbox {sb.id}: exit the shell to remove it", err=True)
            subprocess.call(sb.interactive_argv("bash", "-l"))
    except SandboxError as e:
        _fail(e)
    finally:
        if sink:
            sink.close()


def _age(row: dict) -> str:
    created = row.get("created")
    if not isinstance(created, (int, float)) or not created:
        return "?"
    seconds = int(time.time() - created)
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


@app.command("ls")
def list_objects() -> None:
    """Every container, network and volume the project created, with owner pid, liveness and age."""
    from rich.console import Console
    from rich.table import Table

    from .cleanup import list_objects as rows_of

    try:
        rows = rows_of()
    except SandboxError as e:
        _fail(e)
    table = Table(title=f"airgap objects ({len(rows)})")
    for col in ("kind", "id", "name", "owner pid", "owner alive", "age", "image", "status"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["kind"], r["id"][:12], r["name"], r["owner_pid"] or "-",
                      "yes" if r["owner_alive"] else "[red]no[/red]", _age(r), r["image"], r["status"])
    Console().print(table)


@app.command()
def gc(
    everything: bool = typer.Option(False, "--all", help="Also remove objects whose owner is still alive."),
) -> None:
    """Remove every labelled object whose owner process is gone (what a SIGKILLed harness left behind)."""
    from .cleanup import gc as collect

    try:
        removed = collect(everything=everything)
    except SandboxError as e:
        _fail(e)
    for r in removed:
        typer.echo(f"removed {r['kind']} {r['name']} (owner pid {r['owner_pid'] or '-'})")
    typer.echo(f"{len(removed)} removed", err=True)

