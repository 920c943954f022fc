"""The registered ids over the bundled snapshot and suites: check_env, every oracle solves its task, a
do-nothing agent scores 0 on every task, and gym.make_vec with 4 async envs runs episodes to completion."""
from __future__ import annotations

import gymnasium as gym
import pytest
from envs_helpers import owned_containers, run_episode, run_vector, wait_until
from gymnasium.utils.env_checker import check_env

import airgap.envs
from airgap.envs.agents import make_agent

IDS = list(airgap.envs.env_ids())
# office and worldqa have their own, stricter checks: tests/envs/test_office.py (oracle 1, noop 0, decoy 0, every
# request 2xx) and tests/worldgen/test_worldqa_env.py (two worlds, and every answer shown on the oracle's path); the
# safety suites (558 cases) theirs over a sample of every style and slot: tests/attacks/test_safety_suites.py; office-hard
# its own in tests/envs/test_office_hard.py (oracle 1, noop 0, decoy 0 on two worlds)
ORACLE_IDS = [i for i in IDS if i not in ("airgap/Office-v0", "airgap/OfficeHard-v0", "airgap/WorldQA-v0")
              and not i.startswith("airgap/Safety")]


@pytest.mark.parametrize("env_id", IDS)
def test_check_env(env_id, default_snapshot):
    env = gym.make(env_id)
    try:
        check_env(env.unwrapped)
        assert env.unwrapped.metadata["render_modes"] == ["ansi"]
    finally:
        env.close()


@pytest.mark.parametrize("env_id", ORACLE_IDS)
def test_oracle_solves_every_task_and_noop_scores_zero(env_id, default_snapshot):
    env = gym.make(env_id)
    failures = []
    try:
        for task in env.unwrapped.tasks:
            _, reward, info, _ = run_episode(env, make_agent("oracle"), options={"task_id": task.id})
            if reward != 1.0:
                failures.append(("oracle", task.id, info.get("grades")))
            _, reward, info, _ = run_episode(env, make_agent("noop"), options={"task_id": task.id})
            if reward != 0.0:
                failures.append(("noop", task.id, info.get("grades")))
    finally:
        env.close()
    assert not failures, failures


def test_make_vec_4_async_envs_run_to_completion(default_snapshot):
    envs = gym.make_vec("airgap/WebQA-v0", num_envs=4, vectorization_mode="async")
    pids = [p.pid for p in envs.processes]
    try:
        rewards = run_vector(envs, [make_agent("oracle") for _ in range(4)], episodes_each=2)
        assert len(rewards) >= 8 and all(r == 1.0 for r in rewards), rewards
    finally:
        envs.close()
    assert wait_until(lambda: not owned_containers(pids)), "the workers' sandboxes were not removed"


def test_webqa_same_seed_and_actions_give_identical_observations(default_snapshot):
    """Web pages, search results and code output are pure functions of the snapshot, seed and actions."""

    def run():
        env = gym.make("airgap/WebQA-v0")
        try:
            out = []
            for seed in (11, 12, 13):
                obs, info = env.reset(seed=seed)
                agent = make_agent("oracle")
                agent.reset(obs, info)
                out.append(obs)
                while True:
                    obs, reward, terminated, truncated, info = env.step(agent.act(obs, info))
                    out.append((obs, reward, sorted(info.items(), key=str)))
                    if terminated or truncated:
                        break
            return out
        finally:
            env.close()

    first = run()
    assert len(first) > 6 and first == run()
