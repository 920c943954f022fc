"""`airgap openenv serve`: a suite served through OpenEnv's own server (the ``openenv`` extra), many sessions at once."""
from __future__ import annotations

import typer

app = typer.Typer(help="Airgap's suites as OpenEnv environments (needs `pip install 'airgap[openenv]'`).",
                  no_args_is_help=True)


@app.command("serve")
def serve(
    suite: str = typer.Option(..., help="Task suite: a bundled name (`airgap tasks list`) or a path to a YAML file."),
    host: str = typer.Option("127.0.0.1", help="Interface to listen on (loopback by default)."),
    port: int = typer.Option(8000, help="TCP port."),
    max_sessions: int = typer.Option(8, help="Concurrent OpenEnv sessions (each its own env and sandbox)."),
    idle_timeout: float = typer.Option(None, help="Close a session idle this many seconds (its sandbox returned)."),
    world_seed: int = typer.Option(None, help="World of a generated suite (office: its index in the test split)."),
    log_dir: str = typer.Option(None, help="Write each episode's log here (none by default)."),
    monitors: str = typer.Option("all", help="Safety monitors over each episode: all, none, or names, comma-separated."),
    image: str = typer.Option(None, help="Sandbox image, overriding the tasks'."),
    pool_size: int = typer.Option(2, help="Warm sandboxes kept ready in the pool."),
) -> None:
    """Serve SUITE through OpenEnv's HTTP/WebSocket server: reset/step/state/close per WebSocket session, /metadata,
    /schema and /health for OpenEnv's discovery and validation (`openenv validate --url http://HOST:PORT`)."""
    try:
        from airgap.envs.bridges.openenv.server import serve as run
    except ImportError as e:
        raise typer.BadParameter(f"the OpenEnv bridge needs the openenv extra: pip install 'airgap[openenv]' ({e})") from e
    kwargs: dict = {"pool_size": pool_size}
    if world_seed is not None:
        kwargs["world_seed"] = world_seed
    if log_dir:
        kwargs["log_dir"] = log_dir
    if image:
        kwargs["image"] = image
    kwargs["monitors"] = monitors if monitors in ("all", "none") else [m.strip() for m in monitors.split(",") if m.strip()]
    run(suite, host=host, port=port, max_sessions=max_sessions, idle_timeout=idle_timeout, **kwargs)
