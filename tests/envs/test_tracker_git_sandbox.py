"""git and pull requests from inside a real sandbox, through the gateway, in one episode: the image's ``git`` clones
the world's product repository from https://github.com/<org>/<repo> (TLS by the gateway's CA, the user's token as
the basic-auth password), commits, pushes a branch; the REST API (curl; PyGithub is not in the image, it runs
unchanged on the host in tests/backends/test_tracker_git.py) opens a pull request and merges it; a fresh clone has
the merge commit; a wrong token is refused. The push and the merge are ``backend_change`` events in the episode log
and graded on the final state like any task."""
from __future__ import annotations

import json
import shlex

import pytest
import yaml

from airgap.envs.env import AirgapEnv
from airgap.envs.logs import read_log, verify
from airgap.envs.world import world_facts

BRANCH = "fix/readme-typo"


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    f = world_facts(0)
    user = next(p for p in f.people if p.team == "engineering")
    repo = f.repos[0]
    suite = {
        "suite": "git-protocol", "version": 1,
        "world": {"snapshot": "none", "backends": ["tracker"], "world_seed": 0, "tools": ["shell", "submit"],
                  "sandbox": {"memory": "256m"}},
        "budget": {"max_steps": 12, "tool_timeout": 60, "total_tool_seconds": 300},
        "tasks": [{
            "id": "git-pr", "kind": "coding",
            "instruction": f"You are {user.username}. Fix the README of {repo.owner}/{repo.name} through a pull request.",
            "graders": [{"type": "backend_state", "expect": [
                {"backend": "tracker", "table": "branches", "op": "insert", "where": {"name": BRANCH}},
                {"backend": "tracker", "table": "branches", "op": "update", "where": {"name": "main"}},
                {"backend": "tracker", "table": "issues", "op": "insert", "where": {"state": "closed"}},
                {"backend": "tracker", "table": "pulls", "op": "insert", "where": {"head": BRANCH, "merged": 1}}]}],
            "oracle": [{"tool": "submit", "args": {"answer": "done"}}],
        }],
    }
    path = tmp_path_factory.mktemp("suite") / "git.yaml"
    path.write_text(yaml.safe_dump(suite, sort_keys=False))
    return {"path": str(path), "facts": f, "user": user, "repo": repo, "token": f.token("tracker", user.username)}


def test_clone_push_pull_request_and_merge_from_inside_the_sandbox(suite, sandbox_image, tmp_path):
    s = suite
    full = f"{s['repo'].owner}/{s['repo'].name}"
    url = f"https://x-access-token:{s['token']}@github.com/{full}"
    api = f"curl -s -H 'Authorization: Bearer {s['token']}' https://api.github.com/repos/{full}"
    git = "git -c user.name=" + shlex.quote(s["user"].name) + f" -c user.email={s['user'].email}"
    env = AirgapEnv(suite=s["path"], log_dir=str(tmp_path), sandbox="fresh")
    try:
        env.reset(seed=0, options={"task_id": "git-pr"})

        def sh(cmd: str) -> str:
            obs, *_ = env.step({"tool": "shell", "args": {"command": cmd}})
            return obs

        out = sh(f"git clone -q {url} /tmp/r && cd /tmp/r && git log --format='%an|%s' | tail -1 && ls")
        assert "Initial commit" in out and "README.md" in out, out
        out = sh(f"cd /tmp/r && git checkout -qb {BRANCH} && sed -i '1s/$/ (back office)/' README.md && "
                 f"{git} commit -qam 'README: say what the package is' && git push -q origin {BRANCH} 2>&1; "
                 "echo pushed=$? && git rev-parse HEAD")
        assert "pushed=0" in out, out
        head = out.split()[-1]
        body = json.dumps({"title": "README: say what the package is", "head": BRANCH, "base": "main"})
        out = sh(f"{api}/pulls -X POST -H 'Content-Type: application/json' -d {shlex.quote(body)}")
        pr = json.loads(out[out.index("{"):])
        assert pr["head"]["sha"] == head and pr["mergeable"] is True and pr["state"] == "open", out
        out = sh(f"{api}/pulls/{pr['number']}/merge -X PUT -H 'Content-Type: application/json' "
                 f"-d '{{\"sha\": \"{head}\"}}'")
        merge = json.loads(out[out.index("{"):])
        assert merge["merged"] is True, out
        out = sh(f"git clone -q {url}.git /tmp/fresh && cd /tmp/fresh && git log -1 --format='%H %P' && head -1 README.md")
        assert f"{merge['sha']} " in out and head in out and "(back office)" in out, out
        out = sh(f"git clone -q https://x-access-token:ghp_wrong@github.com/{full} /tmp/bad 2>&1; echo rc=$?")
        assert "Authentication failed" in out and "rc=128" in out, out
        obs, reward, term, trunc, info = env.step({"tool": "submit", "args": {"answer": "done"}})
        assert term and reward == 1.0, info["grades"]
        log = env.log_path
    finally:
        env.close()
    assert verify(log).ok
    _, events = read_log(log)
    changes = [(e["method"], e["path"].split("?")[0]) for e in events if e["type"] == "backend_change"]
    assert changes == [("POST", f"/{full}.git/git-receive-pack"), ("POST", f"/repos/{full}/pulls"),
                       ("PUT", f"/repos/{full}/pulls/{pr['number']}/merge")], changes
    hosts = {e.get("host") for e in events if e["type"].split(".")[-1] == "http"}
    assert {"github.com", "api.github.com"} <= hosts
