"""The tree stays readable: every module opens with a one-line docstring saying its job, and the packages listed in
pyproject.toml are exactly the folders with an __init__.py (a built wheel holds every sub-package)."""
from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"sandbox": "airgap.sandbox", "corpus": "airgap.corpus", "envs": "airgap.envs"}


def _modules():
    for folder in PACKAGES:
        for p in sorted((ROOT / folder).rglob("*.py")):
            if "__pycache__" not in p.parts and "templates" not in p.relative_to(ROOT / folder).parts[:-1]:
                yield p


def test_every_module_opens_with_a_one_line_docstring():
    missing = []
    for p in _modules():
        doc = ast.get_docstring(ast.parse(p.read_text(encoding="utf-8")), clean=True)
        first = (doc or "").split("\n\n")[0].strip()
        if not first or len(first) > 300:
            missing.append(str(p.relative_to(ROOT)))
    assert not missing, f"modules without a short opening docstring: {missing}"


def test_pyproject_lists_every_sub_package():
    declared = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = set()
    for folder, name in PACKAGES.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            if "__pycache__" in rel.parts or re.search(r"(^|/)(data|image)(/|$)", str(rel)):
                continue
            found.add(name if str(rel) == "." else name + "." + ".".join(rel.parts))
    assert declared == found, f"missing from pyproject: {sorted(found - declared)}; stale: {sorted(declared - found)}"
