"""The `airgap` command: the root app, which mounts one sub-command group per module (sandbox, corpus, tasks, replay, ...)."""
from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    help="Airgap: sandboxed, offline evaluation environment for agentic models.\n\n"
    "Start with `airgap sandbox build`, `airgap corpus build-default`, then `airgap tasks list` and `airgap evaluate`.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

# (module, attribute, sub-command name): groups of commands, each a typer app of its own.
_GROUPS = [
    ("airgap.sandbox.cli", "app", "sandbox"),
    ("airgap.corpus.cli", "app", "corpus"),
    ("airgap.envs.cli.tasks", "app", "tasks"),
    ("airgap.envs.cli.backends", "app", "backends"),
    ("airgap.envs.cli.replay", "app", "replay"),
    ("airgap.envs.cli.openenv", "app", "openenv"),
]
# (module, function, command name): single commands at the top level.
_COMMANDS = [
    ("airgap.envs.cli.evaluate", "evaluate", "evaluate"),
    ("airgap.envs.cli.play", "play_cmd", "play"),
    ("airgap.envs.cli.replay", "export", "export"),
    ("airgap.envs.cli.monitor", "monitor", "monitor"),
    ("airgap.envs.cli.mcp", "mcp", "mcp"),
    ("airgap.envs.cli.report", "report", "report"),
]

for _mod, _attr, _name in _GROUPS:
    app.add_typer(getattr(importlib.import_module(_mod), _attr), name=_name)
for _mod, _attr, _name in _COMMANDS:
    app.command(_name)(getattr(importlib.import_module(_mod), _attr))
# `airgap sandbox browser` needs the worlds (envs), which the sandbox package must not import: added to its group here.
importlib.import_module("airgap.sandbox.cli").app.command("browser")(importlib.import_module("airgap.envs.cli.browse").browser)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
