"""AirgapEnv against the real Docker engine, on the fixture suite (sandbox-only tasks); the fuzz test
also browses the bundled snapshot."""
from __future__ import annotations

import json

import gymnasium as gym
import pytest
import yaml
from envs_helpers import MINI, owned_containers, run_episode, run_vector, wait_until

import airgap.envs  # noqa: F401 - registers the ids
from airgap.envs.agents import make_agent
from airgap.envs.env import AirgapEnv
from airgap.sandbox import close_shared_pools


@pytest.fixture
def env(sandbox_image):
    e = AirgapEnv(MINI, render_mode="ansi")
    yield e
    e.close()


def test_oracle_solves_and_noop_fails_every_fixture_task(env):
    for task in env.suite.tasks:
        _, reward, info, _ = run_episode(env, make_agent("oracle", suite=MINI), options={"task_id": task.id})
        assert reward == 1.0, (task.id, info.get("grades"))
        _, reward, info, _ = run_episode(env, make_agent("noop"), options={"task_id": task.id})
        assert reward == 0.0, (task.id, info.get("grades"))


BAD_ACTIONS = [
    ("{not json", "bad_json"),
    ("", "bad_json"),
    ({"tool": "rm_rf"}, "unknown_tool"),
    ({"tool": "reset"}, "unknown_tool"),
    ({"tool": "shell", "args": {"cmd": "ls"}}, "bad_args"),
    ({"tool": "shell", "args": {"command": 5}}, "bad_args"),
    ({"tool": "shell", "args": "not an object"}, "bad_json"),
    ([{"tool": "shell"}, {"tool": "shell"}], "bad_action"),
    (3.5, "bad_action"),
    ({"tool": "shell", "args": {"command": "sleep 10", "timeout": 0.5}}, "timeout"),
    ({"tool": "read_file", "args": {"path": "/no/such/file"}}, "file_error"),
    ({"tool": "write_file", "args": {"path": "/etc/passwd", "content": "x"}}, "file_error"),
    ({"tool": "search", "args": {"query": "x"}}, "unknown_tool"),  # not in this world's tools
]


@pytest.mark.parametrize("action,kind", BAD_ACTIONS)
def test_bad_input_becomes_an_error_observation(env, action, kind):
    env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(action)
    assert info["error"] == kind and info["ok"] is False and info["error_count"] == 1, (obs, info)
    assert obs.startswith(f"[error: {kind}]")
    assert reward == 0.0 and not terminated and not truncated
    if kind in ("bad_json", "unknown_tool", "bad_action"):
        assert '{"tool": "shell", "args": {"command": <string>' in obs  # says how to call
    obs, *_ , info = env.step({"tool": "shell", "args": {"command": "echo still alive"}})
    assert "still alive" in obs and info["ok"]


def test_info_has_tool_schemas_on_reset_and_structured_fields_on_step(env):
    obs, info = env.reset(seed=0, options={"task_id": "mini-code"})
    assert obs.startswith("What does Python print") and "submit" in obs
    assert [t["function"]["name"] for t in info["tools"]] == ["shell", "python", "read_file", "write_file", "submit"]
    assert info["task_id"] == "mini-code" and info["suite"] == "mini" and info["step"] == 0
    _, _, _, _, info = env.step('{"tool": "python", "args": {"code": "print(1)"}}')
    assert info == {"step": 1, "tool": "python", "ok": True, "error": None, "truncated_output": False, "error_count": 0}
    assert env.render().startswith("[step 1] python(")


def test_long_output_is_capped_with_a_marker(sandbox_image):
    env = AirgapEnv(MINI, max_output=2000)
    try:
        env.reset(seed=0)
        obs, *_, info = env.step({"tool": "shell", "args": {"command": "seq 1 20000"}})
        assert info["truncated_output"] and len(obs) < 2200 and "left out" in obs
        assert obs.splitlines()[1] == "1" and obs.rstrip().endswith("20000")  # head and tail kept
        assert info["output_file"] == "/tmp/airgap-output/step-1.txt" and f"saved in {info['output_file']}" in obs
    finally:
        env.close()


def test_step_budget_truncates(env):
    env.reset(seed=0)
    for i in range(1, 9):
        obs, reward, terminated, truncated, info = env.step({"tool": "shell", "args": {"command": "true"}})
        assert truncated == (i == 8) and not terminated
    assert "step budget" in obs
    obs, *_, info = env.step({"tool": "shell", "args": {"command": "true"}})
    assert info["error"] == "episode_over"


def test_same_seed_and_actions_give_identical_observations(sandbox_image):
    actions = [
        {"tool": "shell", "args": {"command": "ls /workspace; cat /workspace/*"}},
        "{broken",
        {"tool": "python", "args": {"code": "import random; random.seed(1); print(random.random())"}},
        {"tool": "write_file", "args": {"path": "a.txt", "content": "é\n"}},
        {"tool": "read_file", "args": {"path": "a.txt"}},
        {"tool": "submit", "args": {"answer": "4"}},
    ]

    def run():
        env = AirgapEnv(MINI)
        try:
            out = []
            for seed in (5, 6):
                obs, info = env.reset(seed=seed)
                out.append((obs, json.dumps(info, sort_keys=True)))
                for a in actions:
                    obs, r, term, trunc, info = env.step(a)
                    out.append((obs, r, term, trunc, json.dumps(info, sort_keys=True)))
            return out
        finally:
            env.close()

    assert run() == run()


def test_seeded_task_order(sandbox_image):
    env = AirgapEnv(MINI)
    try:
        a = [env.reset(seed=1)[1]["task_id"]] + [env.reset()[1]["task_id"] for _ in range(2)]
        b = [env.reset(seed=1)[1]["task_id"]] + [env.reset()[1]["task_id"] for _ in range(2)]
        assert a == b and sorted(a) == sorted(t.id for t in env.suite.tasks)
    finally:
        env.close()


def test_close_returns_the_sandbox_every_time(sandbox_image, tmp_path):
    env = AirgapEnv(MINI, sandbox="fresh")
    env.reset(seed=0)
    sb = env._sb
    assert sb.alive()
    env.close()
    assert env._sb is None and not sb.alive()
    env.close()  # twice is fine

    # a task whose setup fails: reset raises (a task bug), and the sandbox still goes back
    data = yaml.safe_load(open(MINI))
    data["tasks"][0]["setup"]["commands"] = ["exit 7"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    before = set(owned_containers())
    env = AirgapEnv(str(bad), sandbox="fresh")
    with pytest.raises(RuntimeError, match="setup command 'exit 7' failed"):
        env.reset(options={"task_id": "mini-shell"})
    assert env._sb is None
    env.close()
    assert wait_until(lambda: set(owned_containers()) <= before)


def test_episode_log_records_the_episode(sandbox_image, tmp_path):
    from airgap.envs.logs import read_log, verify

    env = gym.make("airgap/Sandbox-v0", suite=MINI, log_dir=str(tmp_path))
    try:
        run_episode(env, make_agent("oracle", suite=MINI), seed=3, options={"task_id": "mini-file"})
    finally:
        env.close()
    (log,) = tmp_path.glob("*.jsonl")
    assert verify(log).status == "ok"
    header, events = read_log(log)
    assert header["env_id"] == "airgap/Sandbox-v0" and header["task_id"] == "mini-file" and header["seed"] == 3
    assert header["task_version"] == 1 and header["env_kwargs"]["suite"] == MINI
    types = [e["type"] for e in events]
    assert types[types.index("reset") + 1 : types.index("reset") + 4] == ["action", "validation", "sandbox.file_read"]
    assert "sandbox.exec" in types and types[-1] == "end" and "reward" in types
    assert events[-1]["reward"] == 1.0


def test_fuzzing_1000_actions_never_crashes_and_leaks_nothing(sandbox_image, default_snapshot, tmp_path):
    """A seeded fuzzer over every tool; the env answers each action and every container goes away."""
    data = {
        "suite": "fuzz", "version": 1,
        "world": {"snapshot": "default", "tools": ["search", "open", "find", "click", "shell", "python", "read_file", "write_file", "http"]},
        "budget": {"max_steps": 150, "tool_timeout": 0.5, "total_tool_seconds": 30},
        "tasks": [{"id": "fuzz-1", "instruction": "Anything.", "graders": [{"type": "contains", "expected": "zzz-never"}],
                   "oracle": [{"tool": "submit", "args": {"answer": "zzz-never"}}]}],
    }
    suite = tmp_path / "fuzz.yaml"
    suite.write_text(yaml.safe_dump(data))
    before = set(owned_containers())
    env = AirgapEnv(str(suite), max_output=4000)
    agent = make_agent("random:1234")
    errors: dict[str, int] = {}
    worked: dict[str, int] = {}  # tool -> successful calls
    steps = 0
    try:
        obs, info = env.reset(seed=0)
        agent.reset(obs, info)
        while steps < 1000:
            obs, reward, terminated, truncated, info = env.step(agent.act(obs, info))
            steps += 1
            assert env.observation_space.contains(obs) and reward in (0.0, 1.0)
            errors[info["error"]] = errors.get(info["error"], 0) + 1
            if info["ok"]:
                worked[info["tool"]] = worked.get(info["tool"], 0) + 1
            if terminated or truncated:
                obs, info = env.reset()
                agent.reset(obs, info)
    finally:
        env.close()
        close_shared_pools()
    assert "internal" not in errors, errors  # no tool crashed on its input
    assert errors.get(None, 0) > 100 and errors.get("bad_json", 0) > 10 and errors.get("bad_args", 0) > 10, errors
    assert {"search", "open", "shell", "python", "write_file"} <= set(worked), worked  # the world was really used
    assert wait_until(lambda: set(owned_containers()) <= before), "containers leaked"


@pytest.mark.parametrize("mode,num_envs", [("async", 4), (None, 2), ("sync", 2)])
def test_make_vec_runs_episodes_to_completion(sandbox_image, mode, num_envs):
    """async: gymnasium's AsyncVectorEnv with UnicodeText shared memory; None: our vector entry point
    (shared_memory=False); sync: in-process."""
    envs = gym.make_vec("airgap/Sandbox-v0", num_envs=num_envs, vectorization_mode=mode, suite=MINI)
    pids = [p.pid for p in getattr(envs, "processes", [])]
    try:
        rewards = run_vector(envs, [make_agent("oracle", suite=MINI) for _ in range(num_envs)], episodes_each=2)
        assert len(rewards) >= 2 * num_envs and all(r == 1.0 for r in rewards), rewards
    finally:
        envs.close()
    if pids:
        assert wait_until(lambda: not owned_containers(pids)), "the workers' sandboxes were not removed"


def test_a_sandbox_killed_mid_episode_is_an_error_observation_not_a_crash(sandbox_image):
    import docker

    before = set(owned_containers())
    env = AirgapEnv(MINI, sandbox="fresh")
    try:
        env.reset(seed=0, options={"task_id": "mini-shell"})
        docker.from_env().containers.get(env._sb.container_id).kill()
        obs, reward, terminated, truncated, info = env.step({"tool": "shell", "args": {"command": "echo hi"}})
        assert info["error"] == "sandbox_error" and "died" in obs, obs
        obs, reward, terminated, truncated, info = env.step({"tool": "submit", "args": {"answer": "4"}})
        assert terminated and reward == 1.0  # this task's grader reads only the answer
    finally:
        env.close()
    assert wait_until(lambda: set(owned_containers()) <= before), "the dead sandbox's container was left behind"


def test_an_episode_with_no_step_leaves_no_log(sandbox_image, tmp_path):
    """reset, reset, close with no step: no file at all; reset, one step, close: one log, verified, whose header and
    reset event were held until that step; a killed writer after a step still leaves an honest prefix (the writer's
    own test)."""
    from airgap.envs.logs import read_log, verify

    env = gym.make("airgap/Sandbox-v0", suite=MINI, log_dir=str(tmp_path))
    try:
        env.reset(seed=1, options={"task_id": "mini-shell"})
        env.reset(seed=2, options={"task_id": "mini-file"})
        assert env.unwrapped.log_path is not None and not env.unwrapped.log_path.exists()  # not on disk before a step
    finally:
        env.close()
    assert list(tmp_path.iterdir()) == [] and env.unwrapped.log_path is None

    env = gym.make("airgap/Sandbox-v0", suite=MINI, log_dir=str(tmp_path))
    try:
        env.reset(seed=3, options={"task_id": "mini-shell"})
        env.step({"tool": "shell", "args": {"command": "wc -l < /workspace/data.csv"}})
        log = env.unwrapped.log_path
        assert log.exists()  # on disk from the first step on, written through
        _, events = read_log(log)
        types = [e["type"] for e in events]
        assert types.index("sandbox.file_write") < types.index("reset") < types.index("action")  # the setup, then reset
        assert types[-1] == "observation"
    finally:
        env.close()
    assert list(tmp_path.glob("*.jsonl")) == [log] and verify(log).status == "ok"
    header, events = read_log(log)
    assert header["task_id"] == "mini-shell" and header["seed"] == 3
    assert events[-1]["type"] == "end" and events[-1]["status"] == "closed" and events[-1]["steps"] == 1
