"""office-hard's pr family: tasks that need git and a pull request on the tracker's real git repository.

Structure without Docker (each world has ten or more, every kind of them, each prepared by its own setup and graded on
the code host's commits), the table of which test each planted bug breaks (the repository's tests run here against
each buggy package), and in the real env (real Docker sandbox, the tracker behind the gateway, the image's git) every
task's oracle scores 1 while doing nothing and its decoy score 0, in worlds 0 and 1; the conflict task's declared
careless merge (-X ours) scores 0 as well."""
from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from airgap.envs.suites.office_hard import coding, pullrequests
from airgap.envs.suites.workplace import Office
from airgap.envs.tasks import load_suite

PLAYED = (0, 1)
# Episodes are played in one world here (the level's others in other tests; every world: `airgap evaluate --suite office
# --level hard --seed N --agent oracle|noop|decoy`, 100% / 0% / 0%), to keep the test command inside its time budget.
EPISODES = (1,)  # world 0: the command above


def _pr_tasks(seed: int) -> list:
    return [t for t in load_suite("office-hard", world_seed=seed).tasks if t.kind == "pr"]


@pytest.mark.parametrize("seed", PLAYED)
def test_every_world_has_ten_or_more_tasks_that_need_a_pull_request(seed):
    tasks = _pr_tasks(seed)
    assert len(tasks) >= 10, len(tasks)
    texts = " ".join(t.instruction for t in tasks)
    for words in ("Fixes #", "CONTRIBUTING.md", "requests changes", "no longer merge cleanly", "its discussion"):
        assert words in texts, words
    for t in tasks:
        assert "https://github.com/" in t.instruction and t.setup["commands"]
        assert all("github.com/" in c for c in t.setup["commands"])  # pushes, issues, pull requests: on the tracker
        oracle = " ".join(str(c["args"]) for c in t.oracle)
        assert "git clone" in oracle, t.id
        assert "/pulls" in oracle and ("git push" in oracle or "/reviews" in oracle), t.id
        assert t.decoy != t.oracle
        types = [g["type"] for g in t.graders]
        assert types[0] == "backend_state" and ("git_tree" in types or "/reviews" in oracle), (t.id, types)
        pushed = [c for c in t.decoy if c["tool"] == "shell" and "HEAD:main" in c["args"]["command"]]
        if pushed:  # the careless fix goes straight to main: the grader pins main where the setup left it
            assert any(s.get("table") == "branches" and s["where"].get("name") == "main"
                       for s in t.graders[0].get("state", [])), t.id


def test_the_worlds_differ():
    picked = {seed: [t.instruction.split(". ")[0] for t in _pr_tasks(seed)] for seed in PLAYED}
    assert picked[0] != picked[1]


def test_each_red_bug_breaks_the_test_the_review_must_name(tmp_path):
    """FAILS: for each bug a red pull request may carry, the repository's tests fail on exactly that test."""
    o = Office(0)
    ctx = coding.make_ctx(o)
    clean, tests, bugs = coding.package(ctx), coding.visible_tests(ctx), coding._bugs()
    for (kind, variant), test in pullrequests.FAILS.items():
        bug = bugs[kind][variant]
        root = tmp_path / f"{kind.replace(' ', '-')}-{variant}"
        modules = {m: (coding.with_bug(src, bug) if m == bug.module else src) for m, src in clean.items()}
        for path, text in coding.repo_files(ctx, modules, tests).items():
            p = root / Path(path).relative_to(ctx.repo_dir)
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text, encoding="utf-8")
        r = subprocess.run([sys.executable, "-m", "unittest", "-v"], cwd=root, capture_output=True, text=True,
                           timeout=60, env={"PATH": "/usr/bin:/bin", "TZ": "UTC", "PYTHONDONTWRITEBYTECODE": "1"})
        failed = sorted(line.split(" ")[0] for line in r.stderr.splitlines() if line.endswith(("FAIL", "ERROR")))
        assert failed == [test], (kind, variant, failed)


def _play(seed: int) -> list[str]:
    from airgap.envs.agents import make_agent
    from airgap.envs.env import AirgapEnv
    from airgap.envs.runner import play

    env = AirgapEnv(suite="office-hard", world_seed=seed, sandbox="pool", pool_size=1)
    failures = []
    try:
        for t in _pr_tasks(seed):
            for spec, want in (("oracle", 1.0), ("noop", 0.0), ("decoy", 0.0)):
                agent = make_agent(spec)
                obs, info = env.reset(seed=0, options={"task_id": t.id})
                agent.reset(obs, info)
                out = play(env, agent, obs, info)
                if out.reward != want or not out.terminated:
                    failures.append(f"world {seed} {t.id} {spec}: reward {out.reward}, want {want}: "
                                    f"{out.info.get('grades')}")
                if spec == "oracle" and out.info.get("score") != 1.0:
                    failures.append(f"world {seed} {t.id}: oracle score {out.info.get('score')}")
            for k, case in enumerate(t.audit):  # the task's own scripted cases (the careless conflict merge)
                env.reset(seed=0, options={"task_id": t.id})
                reward, info, done = 0.0, {}, False
                for call in case["calls"]:
                    _, reward, done, trunc, info = env.step({"tool": call["tool"], "args": dict(call.get("args", {}))})
                    if done or trunc:
                        break
                if not done or reward != case["reward"]:
                    failures.append(f"world {seed} {t.id} audit case {k + 1}: reward {reward}, want "
                                    f"{case['reward']}: {info.get('grades')}")
    finally:
        env.close()
    return failures


@pytest.fixture(scope="module")
def played(sandbox_image):
    pool = ThreadPoolExecutor(max_workers=len(EPISODES))
    runs = {seed: pool.submit(_play, seed) for seed in EPISODES}
    yield runs
    pool.shutdown(wait=True, cancel_futures=True)


@pytest.mark.parametrize("seed", EPISODES)
def test_oracle_1_noop_0_decoy_0(seed, played):
    failures = played[seed].result()
    assert not failures, f"{len(failures)} failure(s):\n" + "\n".join(failures[:20])
