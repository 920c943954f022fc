"""Logs written by the real AirgapEnv (real Docker sandbox): oracle episodes verify, re-run with
zero divergence, render, export and fork.

The quick test uses the env tests' small fixture suite (sandbox-only tasks, no snapshot
needed); the `slow` one runs every built-in task's oracle (the issue's acceptance test).
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

MINI = str(Path(__file__).resolve().parents[1] / "envs" / "fixtures" / "mini.yaml")




def _oracle_episode(env_id, suite, task_id, log_dir, seed=0, env=None):
    """One oracle episode; its log and reward. ``env``: an open env to play it in (one env, one pooled sandbox, for a
    whole suite), else a fresh one for this episode."""
    import gymnasium as gym

    import airgap.envs  # noqa: F401
    from airgap.envs.agents import make_agent

    own = env is None
    env = gym.make(env_id, suite=suite, log_dir=str(log_dir)) if own else env
    try:
        obs, info = env.reset(seed=seed, options={"task_id": task_id})
        agent = make_agent("oracle", suite=suite)
        agent.reset(obs, info)
        reward = 0.0
        while True:
            obs, reward, terminated, truncated, info = env.step(agent.act(obs, info))
            if terminated or truncated:
                break
        path = env.unwrapped.log_path
    finally:
        if own:
            env.close()
    return Path(path), reward


def test_oracle_logs_verify_rerun_render_and_fork(sandbox_image, tmp_path):
    import jsonschema

    from airgap.envs.export import export_hf
    from airgap.envs.logs import read_log, schema, verify
    from airgap.envs.replay import fork, load_episode, render_html, rerun

    validator = jsonschema.Draft202012Validator(schema())
    logs = []
    for task_id in ("mini-shell", "mini-file", "mini-code"):
        log, reward = _oracle_episode("airgap/Sandbox-v0", MINI, task_id, tmp_path)
        assert reward == 1.0
        v = verify(log)
        assert v.ok, v
        header, events = read_log(log, resolve=False)
        for ev in [header, *events]:
            validator.validate(ev)
        assert header["env_id"] == "airgap/Sandbox-v0" and header["task_id"] == task_id and header["seed"] == 0
        types = {e["type"] for e in events}
        assert {"reset", "action", "validation", "observation", "reward", "end"} <= types
        assert any(t.startswith("sandbox.") for t in types)
        r = rerun(log)
        assert r.ok and r.steps_replayed == r.steps_logged > 0, [d.message for d in r.divergences]
        ep = load_episode(log)
        page = render_html(ep)
        assert page.count('<section class="step') == len(ep.steps)
        logs.append(log)

    import datasets

    export_hf(logs, tmp_path / "ds")
    ds = datasets.load_from_disk(str(tmp_path / "ds"))
    assert sorted(ds["task_id"]) == ["mini-code", "mini-file", "mini-shell"] and set(ds["reward"]) == {1.0}

    f = fork(logs[1], 2, "oracle", out_dir=tmp_path / "forks")
    assert f.reward == 1.0 and f.log.parent == tmp_path / "forks"
    assert verify(f.log).ok
    header, events = read_log(f.log)
    assert header["parent"]["log"] == str(logs[1]) and header["parent"]["head"] == verify(logs[1]).head
    assert any(e["type"] == "fork" for e in events) and any(e["type"].startswith("sandbox.") for e in events)


def _suite_tasks(suite):
    from airgap.envs.tasks import load_suite

    return [t.id for t in load_suite(suite).tasks]


@pytest.mark.slow
@pytest.mark.parametrize("env_id,suite", [("airgap/Sandbox-v0", "sandbox"), ("airgap/WebQA-v0", "webqa"),
                                           ("airgap/Office-v0", "office"), ("airgap/WorldQA-v0", "worldqa")])
def test_every_builtin_oracle_episode_reruns_without_divergence(sandbox_image, tmp_path, env_id, suite):
    from airgap.corpus import ensure_default_snapshot
    from airgap.envs.logs import verify
    from airgap.envs.replay import rerun

    ensure_default_snapshot(progress=False)  # both suites use it (the sandbox suite for its curl tasks)
    tasks = _suite_tasks(suite)
    assert tasks, f"suite {suite} has no tasks"
    import gymnasium as gym

    failures = []
    env = gym.make(env_id, suite=suite, log_dir=str(tmp_path))  # one env (one pooled sandbox) plays the whole suite
    try:
        logs = [(task_id, *_oracle_episode(env_id, suite, task_id, tmp_path, env=env)) for task_id in tasks]
    finally:
        env.close()

    def check(item):
        task_id, log, reward = item
        v, r = verify(log), rerun(log)
        if not v.ok or not r.ok or reward != 1.0:
            return task_id, reward, v.status, r.first.message if r.first else None

    with ThreadPoolExecutor(max_workers=3) as pool:  # each re-run in its own env; they mostly wait on the sandbox
        failures = [f for f in pool.map(check, logs) if f]
    assert not failures, failures
