"""The layer order of airgap.envs holds: a sub-package imports only from layers below its own, at module level or
inside a function alike, so no import cycle can hide behind a function-level import (docs/ARCHITECTURE.md, "Layers").

Also across the three packages: airgap.sandbox and airgap.corpus import nothing of each other or of airgap.envs.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENVS = ROOT / "envs"

#: Lowest first. A module may import from its own sub-package and from any sub-package of a LOWER layer; two
#: sub-packages in one layer may not import each other. Keep this list and docs/ARCHITECTURE.md's table in step.
LAYERS: list[set[str]] = [
    {"common", "spaces", "templates", "stream"},    # neutral helpers, the text space, the one Jinja environment, the event stream
    {"tools"},                                      # tool declarations (with their effects), the one tool-call parser
    {"logs", "backends"},                           # the episode log; the simulated services
    {"worldgen"},                                   # the world model: an organisation's facts and web sites
    {"attacks"},                                    # attack styles and the safety web (on the world's site model)
    {"graders"},                                    # answer, state and security graders, and the rules monitors share
    {"tasks"},                                      # Task/Suite, the suite file format, the suite registry, the audit
    {"world"},                                      # what an episode runs in: snapshot + backends + sandbox
    {"monitors"},                                   # safety flags over the event stream
    {"suites"},                                     # the bundled suites' generators and files
    {"env", "agents"},                              # the gymnasium contract; Model providers and agents (no edge between)
    {"runner"},                                     # the one agent loop, executors, evaluate, stats, report, audit runs
    {"replay"},                                     # show, render, re-run and fork finished episodes
    {"export"},                                     # other formats of finished episodes
    {"bridges"},                                    # Airgap inside other frameworks (Inspect AI); optional extras
    {"cli", "__init__", "__main__"},                # the `airgap` command and the package's front door
]
RANK = {name: i for i, layer in enumerate(LAYERS) for name in layer}
# Edges inside one layer that are allowed, with why (none today).
SAME_LAYER_OK: set[tuple[str, str]] = set()


def _sub(path: Path) -> str:
    rel = path.relative_to(ENVS).parts
    return rel[0].removesuffix(".py")


def _imports(path: Path) -> list[tuple[str, int]]:
    """Every ``airgap.*`` module a file imports, with its line (TYPE_CHECKING-only imports excluded)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
                   for n in ast.walk(node)}
    out = []
    pkg = ("airgap", path.parent.relative_to(ROOT).parts[0], *path.parent.relative_to(ROOT).parts[1:])
    pkg = ("airgap", {"envs": "envs", "corpus": "corpus", "sandbox": "sandbox"}[pkg[1]], *pkg[2:])
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg[: len(pkg) - (node.level - 1)]
                if node.module:
                    out.append((".".join((*base, node.module)), node.lineno))
                else:
                    out += [(".".join((*base, a.name)), node.lineno) for a in node.names]
            elif node.module == "airgap.envs":
                out += [(f"airgap.envs.{a.name}", node.lineno) for a in node.names]
            elif node.module:
                out.append((node.module, node.lineno))
    return [(m, line) for m, line in out if m.startswith("airgap.")]


def test_every_envs_sub_package_has_a_layer():
    subs = {_sub(p) for p in ENVS.rglob("*.py") if "__pycache__" not in p.parts}
    assert subs <= set(RANK), f"sub-packages or modules of airgap.envs missing from LAYERS: {sorted(subs - set(RANK))}"


def test_envs_imports_point_down_the_layers():
    bad = []
    for path in sorted(ENVS.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        here = _sub(path)
        for module, line in _imports(path):
            parts = module.split(".")
            if parts[1] != "envs" or len(parts) < 3:
                continue
            there = parts[2]
            if there == here:
                continue
            if there not in RANK:  # a name from the package root (airgap.envs.X): the top layer, never below it
                if here not in LAYERS[-1]:
                    bad.append(f"{path.relative_to(ROOT)}:{line}: {here} imports {module} from the package root")
                continue
            if RANK[there] > RANK[here] or (RANK[there] == RANK[here] and (here, there) not in SAME_LAYER_OK):
                bad.append(f"{path.relative_to(ROOT)}:{line}: {here} (layer {RANK[here]}) imports {module} (layer {RANK[there]})")
    assert not bad, "imports against the layer order (docs/ARCHITECTURE.md):\n  " + "\n  ".join(bad)


def test_sandbox_and_corpus_know_nothing_of_each_other_or_of_envs():
    bad = []
    for folder, forbidden in (("sandbox", ("airgap.corpus", "airgap.envs")), ("corpus", ("airgap.sandbox", "airgap.envs"))):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            bad += [f"{path.relative_to(ROOT)}:{line}: imports {m}" for m, line in _imports(path) if m.startswith(forbidden)]
    assert not bad, "\n".join(bad)
