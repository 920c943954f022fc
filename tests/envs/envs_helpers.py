"""Helpers shared by the env tests (imported by name: tests/ folders are not packages)."""
from __future__ import annotations

import os
import time
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
MINI = str(FIXTURES / "mini.yaml")


def owned_containers(pids=None) -> list[str]:
    """Ids of the containers (running or not) that processes ``pids`` (default: this one) created."""
    import docker

    client = docker.from_env()
    pids = {str(p) for p in (pids or [os.getpid()])}
    out = []
    # The low-level list (no per-container inspect): others remove containers concurrently.
    for c in client.api.containers(all=True, filters={"label": "airgap.project"}):
        if (c.get("Labels") or {}).get("airgap.owner_pid") in pids:
            out.append(c["Id"])
    return out


def wait_until(predicate, timeout: float = 60.0, every: float = 0.2) -> bool:
    """Poll ``predicate`` (containers are removed in the background); a bound, not a timing assertion."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return predicate()


def run_episode(env, agent, seed=None, options=None, max_steps=100):
    """Play one episode; returns (observations, total reward, last info, steps)."""
    obs, info = env.reset(seed=seed, options=options)
    agent.reset(obs, info)
    observations, total = [obs], 0.0
    for step in range(1, max_steps + 1):
        obs, reward, terminated, truncated, info = env.step(agent.act(obs, info))
        observations.append(obs)
        total += reward
        if terminated or truncated:
            return observations, total, info, step
    raise AssertionError(f"episode did not end within {max_steps} steps")


def run_vector(envs, agents, episodes_each: int = 1, max_steps: int = 500) -> list[float]:
    """Drive a vector env (next-step autoreset) until every sub-env finished ``episodes_each`` episodes."""
    import numpy as np

    from airgap.envs.env import split_vector_info

    n = len(agents)
    obs, info = envs.reset(seed=0)
    infos = split_vector_info(info, n)
    for i in range(n):
        agents[i].reset(obs[i], infos[i])
    finished = np.zeros(n, dtype=int)
    restarted = np.zeros(n, dtype=bool)
    rewards: list[float] = []
    for _ in range(max_steps):
        obs, reward, terminated, truncated, info = envs.step(tuple(agents[i].act(obs[i], infos[i]) for i in range(n)))
        infos = split_vector_info(info, n)
        for i in range(n):
            if restarted[i]:  # with next-step autoreset this step was the sub-env's reset
                agents[i].reset(obs[i], infos[i])
                restarted[i] = False
            elif terminated[i] or truncated[i]:
                rewards.append(float(reward[i]))
                finished[i] += 1
                restarted[i] = True
        if (finished >= episodes_each).all():
            return rewards
    raise AssertionError(f"vector env did not finish: {finished}")
