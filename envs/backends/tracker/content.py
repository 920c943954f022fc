"""What the world's git repositories hold: files from registered providers (or a small default), as a history of
commits by the repository's people, dated between the repository's creation and the world's "now".

A provider is named by a ``"module:function"`` string (imported when a world's repositories are first built, so
the backend imports nothing above its layer, and ``import airgap.envs`` stays free of the web stack) and maps a
world's facts to ``{"owner/name": {path: text}}``: the files of the default branch as it is now. The bundled one is
the office-hard suite's back-office package, which its coding tasks check out
(``envs/suites/office_hard/tracker_repo.py``), so the repository an issue talks about has that code; a plugin adds
its own with ``register_repo_content``. The list is fixed at import, so a world's commits do not depend on what
else a process imported.
"""
from __future__ import annotations

import importlib
from datetime import timedelta
from typing import Any, Callable

from airgap.envs.backends.tracker.gitrepo import Commit, RepoSpec
from airgap.envs.common import iso, parse_iso, rng

PROVIDERS: list[str] = ["airgap.envs.suites.office_hard.tracker_repo:files"]


def register_repo_content(target: str) -> None:
    """Add a provider ``"package.module:function"`` of repository files (see the module docstring)."""
    if ":" not in target:
        raise ValueError(f"a repository content provider is 'module:function', got {target!r}")
    if target in PROVIDERS:
        raise ValueError(f"repository content provider {target!r} is already registered")
    PROVIDERS.append(target)


def _provider(target: str) -> Callable[[Any], dict[str, dict[str, str]]]:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def default_files(facts: Any, repo: Any) -> dict[str, str]:
    """A repository nobody registered files for: a README from its description, and what such a repository holds."""
    title = repo.name
    readme = f"# {title}\n\n{repo.description or ''}\n"
    if repo.name == "dotfiles":
        return {"README.md": readme + "\nInstall: `./install.sh` links these files into your home folder.\n",
                "install.sh": "#!/bin/sh\nset -e\nfor f in bashrc vimrc gitconfig; do ln -sf \"$PWD/$f\" \"$HOME/.$f\"; done\n",
                "bashrc": "export EDITOR=vim\nalias gs='git status'\nalias gl='git log --oneline -20'\n",
                "vimrc": "set number\nset expandtab shiftwidth=4\nsyntax on\n",
                "gitconfig": "[pull]\n\trebase = true\n[init]\n\tdefaultBranch = main\n"}
    return {"README.md": readme, ".gitignore": "__pycache__/\n*.pyc\n.env\n"}


def repo_files(facts: Any) -> dict[str, dict[str, str]]:
    """Every repository's files: the default, overlaid by each provider in registration order."""
    files = {f"{r.owner}/{r.name}": default_files(facts, r) for r in facts.repos}
    for target in PROVIDERS:
        for full, given in (_provider(target)(facts) or {}).items():
            if full in files:
                files[full] = {**({"README.md": files[full]["README.md"]} if "README.md" not in given else {}),
                               **given}
    return files


def _groups(files: dict[str, str]) -> list[tuple[str, dict[str, str]]]:
    """The files in the order a team would have committed them: docs first, then each module with its test."""
    first = {p: t for p, t in files.items() if "/" not in p and not p.endswith(".py")}
    rest = {p: t for p, t in files.items() if p not in first}
    out = [("Initial commit", first)] if first else []
    tests = {p: t for p, t in rest.items() if p.startswith("tests/")}
    code = {p: t for p, t in rest.items() if p not in tests}
    for path in sorted(code, key=lambda p: (not p.endswith("__init__.py"), p)):
        stem = path.rsplit("/", 1)[-1].removesuffix(".py")
        batch = {path: code[path]}
        for tp in [t for t in tests if t.rsplit("/", 1)[-1] == f"test_{stem}.py"]:
            batch[tp] = tests.pop(tp)
        out.append((f"Add {stem}" if stem != "__init__" else f"Start the {path.split('/')[0]} package", batch))
    if tests:
        out.append(("Add tests", tests))
    return out


def specs(facts: Any) -> list[RepoSpec]:
    """The history of each of the world's repositories (deterministic: the same world, the same commit ids)."""
    people = {p.github_login: p for p in facts.people}
    now = parse_iso(facts.now)
    out = []
    for r, (full, files) in zip(facts.repos, repo_files(facts).items(), strict=True):
        rnd = rng("tracker-git", facts.seed, full)
        who = [people[x] for x in r.collaborators if x in people]
        eng = [p for p in who if p.team == "engineering"] or who
        start = parse_iso(r.created_at)
        end = now - timedelta(days=2)
        groups = _groups(files)
        span = max((end - start).total_seconds(), 3600 * len(groups))
        commits = []
        for k, (message, batch) in enumerate(groups):
            at = start + timedelta(seconds=span * k / max(1, len(groups)) + rnd.randint(0, 3000))
            p = eng[0] if k == 0 else eng[rnd.randrange(len(eng))]
            commits.append(Commit(message, p.name, p.email, iso(min(at, end)), batch))
        out.append(RepoSpec(r.owner, r.name, commits))
    return out
