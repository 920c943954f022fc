"""The ``git_tree`` grader: a command run in the sandbox on the files of a commit the episode left on the code host.

A pull request's head (or a branch) lives in the tracker's bare repository, not in the sandbox: what an agent pushed
is graded there, whatever its working copy holds. The grader finds the commit in the tracker's final state — a
branch by name, or the newest pull request that matches (``where`` on its ``pulls`` row, ``refers_to``: its title or
description names issue ``#n``, ``state``: open, closed or merged) — writes that commit's tree (``git archive``) to
``path`` in the sandbox (a fresh folder) and runs ``command`` there; it passes when the command exits 0 and its
stripped stdout equals ``expected`` (as ``command_output``). No pull request or branch that matches fails it.
"""
from __future__ import annotations

import re
import shlex
from typing import Any

from .base import Episode, register_grader

SCHEMA = {
    "properties": {
        "backend": {"type": "string", "minLength": 1},
        "repo": {"type": "string", "pattern": r"^[\w.-]+/[\w.-]+$"},
        "branch": {"type": "string", "minLength": 1},
        "pull": {"type": "object", "properties": {
            "where": {"type": "object"},
            "refers_to": {"type": "integer", "minimum": 1},
            "state": {"enum": ["open", "closed", "merged", "any"]},
        }, "additionalProperties": False},
        "path": {"type": "string", "pattern": r"^/[\w./-]+$"},
        "command": {"type": "string", "minLength": 1},
        "expected": {"type": "string"},
        "timeout": {"type": "number", "exclusiveMinimum": 0},
    },
    "required": ["repo", "path", "command", "expected"],
}


def _check(spec: dict) -> list[str]:
    if ("branch" in spec) == ("pull" in spec):
        return ["git_tree names the commit by exactly one of branch or pull"]
    if spec["path"].rstrip("/") in ("", "/tmp", "/workspace") or ".." in spec["path"].split("/"):
        return [f"git_tree's path {spec['path']!r} must be a folder of its own (it is replaced)"]
    return []


def _refers(text: str, n: int) -> bool:
    return re.search(rf"(?<![\w/])#{n}(?!\d)", text) is not None


def find_commit(spec: dict, tables: dict[str, list[dict]]) -> tuple[str | None, str]:
    """(commit id, what it is) of the branch or pull request the spec names in the tracker's tables."""
    owner, _, name = spec["repo"].partition("/")
    repo = next((r for r in tables.get("repos", []) if r["owner"] == owner and r["name"] == name), None)
    if repo is None:
        return None, f"no repository {spec['repo']}"
    if "branch" in spec:
        row = next((b for b in tables.get("branches", []) if b["repo"] == repo["id"] and b["name"] == spec["branch"]), None)
        return (row["sha"], f"branch {spec['branch']}") if row else (None, f"no branch {spec['branch']}")
    want = spec["pull"]
    issues = {i["id"]: i for i in tables.get("issues", [])}
    found = []
    for p in tables.get("pulls", []):
        i = issues.get(p["issue"], {})
        if p["repo"] != repo["id"] or any(p.get(k) != v for k, v in want.get("where", {}).items()):
            continue
        state = "merged" if p["merged"] else i.get("state")
        if want.get("state", "any") not in ("any", state):
            continue
        if "refers_to" in want and not _refers(f"{i.get('title') or ''}\n{i.get('body') or ''}", want["refers_to"]):
            continue
        found.append(p)
    if not found:
        return None, f"no pull request in {spec['repo']} matches {want}"
    p = max(found, key=lambda x: x["number"])
    return p["head_sha"], f"pull request #{p['number']} ({p['head']} at {p['head_sha'][:10]})"


@register_grader("git_tree", SCHEMA, uses_answer=False, check=_check)
def git_tree(spec: dict, ep: Episode) -> tuple[bool, str]:
    """The command's output on the files of the named commit (see the module docstring)."""
    b: Any = ep.backends.get(spec.get("backend", "tracker"))
    if b is None or not hasattr(b, "git"):
        return False, f"no code host {spec.get('backend', 'tracker')!r} in this world"
    sha, what = find_commit(spec, b.state()["tables"])
    if sha is None:
        return False, what
    from airgap.envs.backends.tracker import gitrepo  # the code host's git (a layer below; loaded only here)
    try:
        tar = gitrepo.git(b.git.path(spec["repo"]), "archive", "--format=tar", "--end-of-options", sha)
    except (gitrepo.GitError, KeyError) as e:
        return False, f"cannot read {what}: {e}"
    path = spec["path"].rstrip("/")
    q = shlex.quote(path)
    try:
        ep.sandbox.write_file(f"{path}.tar", tar)
        r = ep.sandbox.exec(f"rm -rf {q} && mkdir -p {q} && tar -xf {q}.tar -C {q} && rm -f {q}.tar && cd {q} && "
                            f"{spec['command']}", timeout=float(spec.get("timeout", 60)))
    except Exception as e:  # noqa: BLE001 - a dead sandbox fails the grader, it does not crash grading
        return False, f"could not run the command on {what}: {e}"
    out = r.stdout.decode("utf-8", "replace") if isinstance(r.stdout, bytes) else r.stdout
    ok = r.exit_code == 0 and out.strip() == spec["expected"].strip()
    return ok, f"{what}: exit {r.exit_code}, stdout {out.strip()[:200]!r} vs expected {spec['expected'].strip()[:200]!r}"
