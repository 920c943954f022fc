"""The `airgap` command. Each package contributes its own sub-command group; this module only mounts them."""
from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    help="Airgap: sandboxed, offline evaluation environment for agentic models.\n\n"
    "Start with `airgap sandbox build`, `airgap corpus build-default`, then `airgap tasks list`.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

# (module, attribute, sub-command name). A group whose module is not written yet is simply absent.
_GROUPS = [
    ("airgap.sandbox.cli", "app", "sandbox"),
    ("airgap.corpus.cli", "app", "corpus"),
    ("airgap.envs.tasks_cli", "app", "tasks"),
    ("airgap.envs.replay_cli", "app", "replay"),
]
_COMMANDS = [
    ("airgap.envs.replay_cli", "export", "export"),
]

for _mod, _attr, _name in _GROUPS:
    try:
        app.add_typer(getattr(importlib.import_module(_mod), _attr), name=_name)
    except ModuleNotFoundError as e:  # only a missing module of ours is tolerated
        if e.name != _mod:
            raise
for _mod, _attr, _name in _COMMANDS:
    try:
        app.command(_name)(getattr(importlib.import_module(_mod), _attr))
    except ModuleNotFoundError as e:
        if e.name != _mod:
            raise


def main() -> None:
    app()


if __name__ == "__main__":
    main()
