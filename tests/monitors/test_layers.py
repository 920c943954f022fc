"""The layer order of the pieces the env's safety checks are built from, enforced on every import (module level or inside
a function, where a cycle hides): tools < graders < monitors < env, and the event stream and exporters below the env.
A lower layer never imports a higher one, so graders and monitors share rules through ``graders/rules.py``."""
from __future__ import annotations

import ast
from pathlib import Path

ENVS = Path(__file__).resolve().parents[2] / "envs"

#: a module or package of airgap.envs -> what it must never import (airgap.envs.* names).
FORBIDDEN = {
    "tools": {"graders", "monitors", "env", "stream", "export", "runner"},
    "graders": {"monitors", "env", "stream", "export", "runner"},
    "monitors": {"env", "stream", "export", "runner"},
    "stream": {"env", "monitors", "graders", "tools", "logs"},
    "export": {"env", "monitors", "runner"},
}


def _files(name: str) -> list[Path]:
    return sorted((ENVS / name).rglob("*.py")) if (ENVS / name).is_dir() else [ENVS / f"{name}.py"]


def _imports(path: Path) -> set[str]:
    """The airgap.envs sub-modules a file imports anywhere (first component after airgap.envs)."""
    package = ["airgap", "envs", *path.relative_to(ENVS).parent.parts]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            mod = ".".join(base + ([node.module] if node.module else []))
            names = [mod] if node.module else [f"{mod}.{a.name}" for a in node.names]
        for n in names:
            parts = n.split(".")
            if parts[:2] == ["airgap", "envs"] and len(parts) > 2:
                out.add(parts[2])
    return out


def test_the_resolver_sees_relative_and_function_level_imports():
    assert {"graders", "tools"} <= _imports(ENVS / "monitors" / "events.py") | _imports(ENVS / "monitors" / "base.py")
    assert "monitors" in _imports(ENVS / "env.py")  # imported inside a function there


def test_no_layer_imports_one_above_it():
    wrong = []
    for name, forbidden in FORBIDDEN.items():
        files = _files(name)
        assert files, name
        for f in files:
            bad = _imports(f) & forbidden
            if bad:
                wrong.append(f"{f.relative_to(ENVS.parent)} imports {sorted(bad)}")
    assert not wrong, "layer order broken (tools < graders < monitors < env):\n" + "\n".join(wrong)
