"""The layer order of agents, the runner and replay, enforced on every import (module level or inside a function, where a
cycle hides): logs < agents < runner < replay, export < cli. A lower layer never imports a higher one: the runner reads
episodes through ``logs.episode``/``logs.html``, and the agents never reach back into the runner."""
from __future__ import annotations

import ast
from pathlib import Path

ENVS = Path(__file__).resolve().parents[2] / "envs"

#: a sub-package of airgap.envs -> the airgap.envs sub-packages and modules it must never import.
FORBIDDEN = {
    "logs": {"agents", "env", "world", "runner", "replay", "export", "cli"},
    "agents": {"env", "world", "runner", "replay", "export", "cli"},
    "runner": {"replay", "export", "cli"},
    "replay": {"export", "cli"},
}


def _imports(path: Path) -> set[str]:
    """The airgap.envs sub-packages and modules a file imports anywhere in it (the name after ``airgap.envs``)."""
    package = ["airgap", "envs", *path.relative_to(ENVS).parent.parts]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            mod = ".".join(base + ([node.module] if node.module else []))
            names = [mod] if node.module else [f"{mod}.{a.name}" for a in node.names]
        else:
            continue
        out.update(n.split(".")[2] for n in names if n.split(".")[:2] == ["airgap", "envs"] and n.count(".") >= 2)
    return out


def test_the_resolver_sees_relative_and_function_level_imports():
    assert {"tools", "monitors"} <= set().union(*(_imports(f) for f in (ENVS / "agents").glob("*.py")))
    assert "runner" in _imports(ENVS / "replay" / "rerun.py")  # fork drives the runner's agent loop
    assert "agents" in _imports(ENVS / "runner" / "executors.py")


def test_no_layer_imports_one_above_it():
    wrong = [f"{f.relative_to(ENVS.parent)} imports {sorted(_imports(f) & forbidden)}"
             for name, forbidden in FORBIDDEN.items() for f in sorted((ENVS / name).rglob("*.py")) if _imports(f) & forbidden]
    assert not wrong, "layer order broken (logs < agents < runner < replay, export < cli):\n" + "\n".join(wrong)
