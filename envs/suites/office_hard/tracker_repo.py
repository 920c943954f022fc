"""The tracker's product repository holds the back-office package the coding tasks check out (correct, as on main).

Named as a repository content provider by the tracker backend (``envs/backends/tracker/content.py``): the
repository an issue of a coding task talks about has that code, with its tests.
"""
from __future__ import annotations

from typing import Any

from airgap.envs.common import parse_iso
from airgap.envs.suites.office_hard.coding import make_ctx, package, repo_files, visible_tests


class _World:
    """What ``make_ctx`` reads of an ``Office``, made from the facts alone (an Office builds the backends itself)."""

    def __init__(self, facts: Any):
        self.f, self.seed, self.now = facts, facts.seed, parse_iso(facts.now)

    def repo(self) -> Any:
        return self.f.repos[0]


def files(facts: Any) -> dict[str, dict[str, str]]:
    """``{"owner/name": {path: text}}`` for the world's product repository."""
    ctx = make_ctx(_World(facts))
    root = ctx.repo_dir.rstrip("/") + "/"
    repo = facts.repos[0]
    return {f"{repo.owner}/{repo.name}": {p.removeprefix(root): text for p, text in
                                          repo_files(ctx, package(ctx), visible_tests(ctx)).items()}}
