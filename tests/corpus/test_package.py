"""The package's shape: a cheap import, the public names, one SEARCH_HOST, one tokenizer, one progress library,
one cache-dir helper, and docs that name only files that exist."""
from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import platformdirs
import pytest

import airgap.corpus

CORPUS = Path(airgap.corpus.__file__).parent
REPO = CORPUS.parent
MODULES = sorted(CORPUS.rglob("*.py"))
HEAVY = ("numpy", "bm25s", "torch", "faiss", "starlette", "transformers", "scipy")
# what airgap.envs (and users) import from airgap.corpus
PUBLIC = {"SEARCH_HOST", "Hit", "Page", "RenderedPage", "Snapshot", "build_snapshot", "default_routes",
          "default_snapshot_path", "ensure_default_snapshot", "ensure_snapshot", "pages_app", "render_page", "search_app",
          "snapshots_root", "world_routes"}


def _rel(path: Path) -> str:
    return str(path.relative_to(CORPUS))


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


def _imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("names", ["", "SEARCH_HOST", "SEARCH_HOST, default_snapshot_path"])
def test_import_loads_no_heavy_library(names):
    code = "import sys, json, airgap.corpus\n"
    if names:
        code += f"from airgap.corpus import {names}\n"
    code += f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(r.stdout) == []


def test_public_names_import_from_the_package():
    assert set(airgap.corpus.__all__) == PUBLIC
    assert set(airgap.corpus._LAZY) | {"SEARCH_HOST"} == PUBLIC
    for name in PUBLIC:
        assert getattr(airgap.corpus, name) is not None, name
    assert set(dir(airgap.corpus)) >= PUBLIC
    with pytest.raises(AttributeError):
        airgap.corpus.no_such_name  # noqa: B018
    assert airgap.corpus.SEARCH_HOST == "search.airgap"


def test_every_module_opens_with_a_one_line_docstring():
    for path in MODULES:
        doc = ast.get_docstring(_tree(path), clean=False)
        assert doc and doc.strip(), f"{_rel(path)} has no docstring"
        assert doc.split("\n", 1)[0].strip(), f"{_rel(path)}: the docstring's first line is empty"


def test_search_host_is_defined_once():
    where = []
    for path in MODULES:
        for node in ast.walk(_tree(path)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
            where += [_rel(path) for t in targets if isinstance(t, ast.Name) and t.id == "SEARCH_HOST"]
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value == "search.airgap":
                where.append(_rel(path) + " (literal)")
    assert where == ["__init__.py", "__init__.py (literal)"]


def test_one_tokenizer():
    """Stemming, stopwords and the token pattern live in tokenizer.py; everything else calls it."""
    for path in MODULES:
        if path.name == "tokenizer.py":
            continue
        imported = _imported(path)
        assert "Stemmer" not in imported and "bm25s.stopwords" not in imported, _rel(path)
        assert r"\w\w+" not in path.read_text(encoding="utf-8"), f"{_rel(path)} has its own token pattern"


def test_one_progress_library():
    for path in MODULES:
        assert not {m for m in _imported(path) if m.split(".")[0] == "tqdm"}, f"{_rel(path)} imports tqdm"


def test_cache_dir_comes_from_platformdirs(monkeypatch):
    from airgap.corpus import default_snapshot_path

    monkeypatch.delenv("AIRGAP_SNAPSHOT_DIR", raising=False)
    monkeypatch.setattr(platformdirs, "user_cache_dir", lambda appname=None, *a, **k: f"/cache-of/{appname}")
    assert default_snapshot_path() == "/cache-of/airgap/snapshots/default"
    monkeypatch.setenv("AIRGAP_SNAPSHOT_DIR", "/somewhere")  # the override still wins
    assert default_snapshot_path() == "/somewhere/default"


_FILE_REF = re.compile(r"(?<![\w/.:-])((?:[\w-]+/)*[\w-]+\.(?:py|md))\b")


def test_docs_name_only_files_that_exist():
    """Every foo.py / dir/bar.md named in corpus's READMEs, docstrings and comments is in the repository."""
    texts = [(p, p.read_text(encoding="utf-8")) for p in [*CORPUS.rglob("*.md"), *MODULES]]
    folders = [REPO, CORPUS, *(p for p in CORPUS.iterdir() if p.is_dir())]
    missing = []
    for path, text in texts:
        for ref in set(_FILE_REF.findall(text)):
            if not any((base / ref).exists() for base in [path.parent, *folders]):
                missing.append(f"{path.relative_to(REPO)}: {ref}")
    assert missing == []


def test_no_module_outside_its_place():
    """The layout that corpus/README.md documents: readers in ingest/, indexes in index/, apps in web/."""
    assert {p.stem for p in (CORPUS / "ingest").glob("*.py")} == {"__init__", "warc", "zim", "hf", "tabular"}
    assert {p.stem for p in (CORPUS / "index").glob("*.py")} == {"__init__", "sparse", "dense", "encoder", "fusion"}
    assert {p.stem for p in (CORPUS / "web").glob("*.py")} >= {"__init__", "search", "pages", "routes", "serve"}
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    for path in MODULES:
        rel = _rel(path)
        if path.name != "__init__.py":
            assert f"`{rel}`" in readme or f"`{path.name}`" in readme, f"corpus/README.md does not list {rel}"
    assert os.path.isdir(CORPUS / "templates") and os.path.isdir(CORPUS / "data")
