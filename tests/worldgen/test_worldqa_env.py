"""The worldqa tasks run against each world's real snapshot: through the real env for worlds 0 and 1 (every oracle
scores 1, a do-nothing submit scores 0), and for more worlds without Docker, replaying each oracle's calls against the
snapshot; both check that the oracle's observations show every expected answer (the task is solvable from what the
tools return, not only from what the oracle was told)."""
from __future__ import annotations

import pytest
import yaml
from worldgen_helpers import oracle_view, unshown_answers

from airgap.corpus import Snapshot
from airgap.envs.agents import make_agent
from airgap.envs.env import AirgapEnv
from airgap.envs.suites.worldqa.generator import generate as worldqa_suite
from airgap.envs.suites.worldqa.generator import worldqa_tasks
from airgap.envs.worldgen.site import ensure_world_snapshot


def _play(env, agent, task_id: str) -> tuple[float, list[str], dict]:
    obs, info = env.reset(options={"task_id": task_id})
    agent.reset(obs, info)
    seen = []
    for _ in range(40):
        obs, reward, terminated, truncated, info = env.step(agent.act(obs, info))
        seen.append(obs)
        if terminated or truncated:
            return reward, seen, info
    raise AssertionError(f"{task_id}: the episode did not end")


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_oracle_solves_every_task_and_noop_scores_zero(seed, tmp_path, sandbox_image, wget):
    path = tmp_path / f"worldqa-{seed}.yaml"
    path.write_text(yaml.safe_dump(worldqa_suite(seed), sort_keys=False))
    env = AirgapEnv(suite=str(path), pool_size=4)
    failures = []
    try:
        for task in env.tasks:
            reward, seen, info = _play(env, make_agent("oracle", suite=str(path)), task.id)
            if reward != 1.0:
                failures.append(("oracle", task.id, info.get("grades")))
            failures += [("not shown", task.id, g) for g in unshown_answers(task.to_dict(), "\n".join(seen[:-1]))]
            reward, _, info = _play(env, make_agent("noop"), task.id)
            if reward != 0.0:
                failures.append(("noop", task.id, info.get("grades")))
    finally:
        env.close()
    assert not failures, failures


@pytest.mark.parametrize("seed", [2, 3])
def test_oracle_paths_show_the_answers_in_more_worlds(seed, wget):
    snap = Snapshot.open(str(ensure_world_snapshot(seed)))
    bad = [(t["id"], unshown_answers(t, oracle_view(snap, t))) for t in worldqa_tasks(seed) if t["kind"] != "backend"]
    assert not [b for b in bad if b[1]], bad
