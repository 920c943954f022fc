"""The office suite: the file is exactly what scripts/make_office_suite.py generates, and in the real env every task's
oracle scores 1 while doing nothing and its decoy (the obvious thing done to the wrong object) both score 0."""
from __future__ import annotations

import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

from airgap.envs.tasks import TASKS_DIR, load_suite

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "make_office_suite.py"
SUITE = TASKS_DIR / "office.yaml"


def _generator() -> dict:
    """The generator script's namespace (scripts/ is not a package)."""
    return runpy.run_path(str(SCRIPT), run_name="make_office_suite")


def test_the_suite_file_is_what_the_generator_writes():
    gen = _generator()
    text = gen["dump"](gen["build_suite"](0))
    assert text == SUITE.read_text(encoding="utf-8"), "envs/tasks/office.yaml is stale: run scripts/make_office_suite.py"
    # another process with another hash seed (set and dict orders) writes the same bytes
    code = (f"import runpy, sys; g = runpy.run_path({str(SCRIPT)!r}, run_name='make_office_suite'); "
            "sys.stdout.write(g['dump'](g['build_suite'](0)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONHASHSEED": "12345"}).stdout
    assert out == text


def test_the_suite_has_the_promised_shape():
    suite = load_suite(SUITE)
    assert suite.name == "office" and len(suite) >= 40
    multi = [t for t in suite.tasks if len(t.world["backends"]) >= 2]
    programs = [t for t in suite.tasks if any(c["tool"] in ("python", "shell") for c in t.oracle)]
    assert len(multi) >= 15 and len(programs) >= 10, (len(multi), len(programs))
    for k, t in enumerate(suite.tasks, start=1):
        assert t.id == f"office-{k:03d}" and t.kind and t.decoy, t.id
        assert t.budget["max_steps"] >= len(t.oracle) + 4 and t.budget["max_steps"] >= len(t.decoy), t.id
        state = [g for g in t.graders if g["type"] == "backend_state"]
        assert len(state) == 1 and state[0]["strict"], t.id
        assert all(p["backend"] in t.world["backends"] for key in ("expect", "allow", "state")
                   for p in state[0].get(key, [])), t.id
        assert t.world["world_seed"] == 0 and t.world["snapshot"] == "none", t.id
        for name in t.world["backends"]:  # the agent is told where each service is and how to authenticate
            assert re.search(rf"^- {name} \(.*token \S+$", t.instruction, re.M), (t.id, name)


def _play(env, agent_spec: str, task_id: str) -> tuple[float, list[str], list[dict]]:
    """One episode with a built-in agent: the reward, what went wrong at the tool level (every oracle and decoy request
    must be accepted by the services: a decoy is caught by the graders, not refused), and the graders' verdicts."""
    from airgap.envs.agents import make_agent
    from airgap.envs.runner import play

    agent = make_agent(agent_spec)
    obs, info = env.reset(seed=0, options={"task_id": task_id})
    agent.reset(obs, info)
    problems: list[str] = []

    def check(k, action, result):
        obs, _, _, _, info = result
        tool = action["tool"]
        if tool == "http" and not re.match(r"HTTP 2\d\d\b", obs):
            problems.append(f"step {k} http {action['args']['method']} {action['args']['url']}: {obs[:300]}")
        elif tool in ("python", "shell") and not obs.startswith("[exit code 0]"):
            problems.append(f"step {k} {tool}: {obs[:600]}")
        elif not info.get("ok", True):
            problems.append(f"step {k} {tool}: {obs[:300]}")

    out = play(env, agent, obs, info, on_step=check)
    if not out.terminated:
        problems.append(f"the episode did not end with submit ({out.steps} steps)")
    if agent_spec == "oracle" and out.reward != 1.0:
        problems.append(f"grades: {out.info.get('grades')}")
    return out.reward, problems, out.info.get("grades") or []


def test_oracle_scores_1_noop_0_and_decoy_0_on_every_task(sandbox_image):
    from airgap.envs.env import AirgapEnv

    suite = load_suite(SUITE)
    env = AirgapEnv(suite="office", sandbox="pool", pool_size=1)
    failures = []
    try:
        for t in suite.tasks:
            for spec, want in (("oracle", 1.0), ("noop", 0.0), ("decoy", 0.0)):
                reward, problems, grades = _play(env, spec, t.id)
                state_ok = next(g["passed"] for g in grades if g["type"] == "backend_state")
                if spec == "decoy" and len(t.graders) == 1 and state_ok:  # no answer grader: the state must catch it
                    problems.append(f"backend_state passed the decoy: {grades}")
                if reward != want or problems:
                    failures.append(f"{t.id} ({t.kind}) {spec}: reward {reward}, want {want}; " + "; ".join(problems))
    finally:
        env.close()
    assert not failures, f"{len(failures)} failure(s):\n" + "\n".join(failures)
