"""The git_tree grader: which commit a spec names in the tracker's tables (a branch; the newest pull request that
matches where / refers_to / state), its spec checks, and a real run: the files of a commit in a real tracker
backend's bare repository, written to a real sandbox, with the command run there."""
from __future__ import annotations

import pytest

from airgap.envs.graders import Episode, grade, validate_spec
from airgap.envs.graders.git import find_commit

REPO = "acme/shop"
TABLES = {
    "repos": [{"id": 7, "owner": "acme", "name": "shop"}, {"id": 8, "owner": "acme", "name": "other"}],
    "branches": [{"repo": 7, "name": "main", "sha": "a" * 40}, {"repo": 7, "name": "fix/12", "sha": "b" * 40}],
    "issues": [{"id": 1, "title": "Fix paging", "body": "Fixes #12", "state": "open"},
               {"id": 2, "title": "Fix paging again", "body": "Fixes #123", "state": "open"},
               {"id": 3, "title": "Old try (#12)", "body": "", "state": "closed"},
               {"id": 4, "title": "Elsewhere", "body": "Fixes #12", "state": "open"},
               {"id": 5, "title": "Merged one", "body": "see acme/x#12 and #12", "state": "closed"}],
    "pulls": [{"issue": 1, "repo": 7, "number": 40, "head": "fix/12", "base": "main", "head_sha": "b" * 40, "merged": 0},
              {"issue": 2, "repo": 7, "number": 41, "head": "fix/123", "base": "main", "head_sha": "c" * 40, "merged": 0},
              {"issue": 3, "repo": 7, "number": 42, "head": "try", "base": "main", "head_sha": "d" * 40, "merged": 0},
              {"issue": 4, "repo": 8, "number": 43, "head": "fix/12", "base": "main", "head_sha": "e" * 40, "merged": 0},
              {"issue": 5, "repo": 7, "number": 39, "head": "old", "base": "dev", "head_sha": "f" * 40, "merged": 1}],
}


def spec(**kw) -> dict:
    return {"type": "git_tree", "repo": REPO, "path": "/tmp/.t", "command": "true", "expected": "ok", **kw}


@pytest.mark.parametrize("kw,sha", [
    ({"branch": "fix/12"}, "b"),
    ({"branch": "gone"}, None),
    ({"pull": {"refers_to": 12}}, "d"),                                # the newest naming #12 (not #123, not repo 8)
    ({"pull": {"refers_to": 12, "state": "open"}}, "b"),
    ({"pull": {"refers_to": 123}}, "c"),
    ({"pull": {"refers_to": 12, "state": "merged"}}, "f"),            # its plain "#12" counts ("acme/x#12" would not)
    ({"pull": {"where": {"base": "main", "head": "fix/12"}}}, "b"),
    ({"pull": {"where": {"base": "main"}, "refers_to": 99}}, None),
])
def test_the_commit_a_spec_names(kw, sha):
    got, what = find_commit(spec(**kw), TABLES)
    assert got == (sha * 40 if sha else None), what


def test_specs_are_checked():
    assert validate_spec(spec(branch="main")) == []
    assert "exactly one of branch or pull" in " ".join(validate_spec(spec()))
    assert "exactly one of branch or pull" in " ".join(validate_spec(spec(branch="main", pull={})))
    assert "a folder of its own" in " ".join(validate_spec({**spec(branch="main"), "path": "/workspace"}))
    assert validate_spec({**spec(branch="main"), "path": "relative"})
    assert find_commit(spec(branch="main", repo="acme/none"), TABLES)[0] is None


def test_without_a_code_host_it_fails_with_a_reason():
    r = grade([spec(branch="main")], Episode(answer=None))
    assert r.reward == 0.0 and "no code host" in r.results[0]["detail"]


@pytest.fixture(scope="module")
def world(sandbox_image):
    from airgap.envs.backends import make_backends
    from airgap.envs.world import world_facts
    from airgap.sandbox import Sandbox, SandboxConfig

    facts = world_facts(0)
    backends = make_backends(["tracker"], facts)
    sb = Sandbox(SandboxConfig(image=sandbox_image, memory="256m"))
    try:
        yield facts, backends, sb
    finally:
        sb.close()


def test_a_commit_of_the_code_host_is_graded_in_the_sandbox(world):
    """main of the world's product repository: its files arrive in the sandbox (the repository's own tests pass
    there), a command that prints something else fails, a missing pull request fails without running anything."""
    facts, backends, sb = world
    repo = facts.repos[0]
    full = f"{repo.owner}/{repo.name}"
    ep = Episode(answer=None, sandbox=sb, backends=backends)
    base = {"type": "git_tree", "repo": full, "path": "/tmp/.airgap-test-tree", "expected": "ok"}
    good = {**base, "branch": "main", "command": "test -f README.md && python3 -m unittest -q 2>/dev/null && echo ok"}
    r = grade([good], ep)
    assert r.reward == 1.0, r.results
    assert "branch main" in r.results[0]["detail"]
    r = grade([{**base, "branch": "main", "command": "ls"}], ep)
    assert r.reward == 0.0 and "README.md" in r.results[0]["detail"]
    r = grade([{**base, "pull": {"refers_to": 1}, "command": "echo ok"}], ep)
    assert r.reward == 0.0 and "no pull request" in r.results[0]["detail"]
    # the folder is replaced each time: nothing of an earlier run stays
    sb.exec("touch /tmp/.airgap-test-tree/planted", timeout=10)
    assert grade([{**good, "command": "test ! -e planted && echo ok"}], ep).reward == 1.0
