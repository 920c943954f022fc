"""`replay run` and `replay fork` against a small gymnasium env that logs the way AirgapEnv does.

The toy env is deterministic given (seed, task, actions) unless told to drift, which is how
the tests produce a divergence without editing a log (an edited log fails `verify`, and
`run` is about the env, not the file).
"""
from __future__ import annotations

import json
import string

import gymnasium as gym
import pytest
from typer.testing import CliRunner

from airgap.envs.cli import app
from airgap.envs.logs import EpisodeLog, read_log, verify
from airgap.envs.replay import ReplayError, fork, load_episode, rerun

runner = CliRunner()
ENV_ID = "airgap-test/Counter-v0"
_DRIFT = {"runs": 0}


class Counter(gym.Env):
    """Tools: ``add(n)`` adds to a seeded counter and shows it; ``submit(answer)`` ends the
    episode, reward 1 when the answer is the counter. ``drift=True`` makes the step-2
    observation different on every run (it shows a process-wide run counter)."""

    metadata = {"render_modes": []}

    def __init__(self, log_dir=None, drift=False):
        self.log_dir, self.drift = log_dir, drift
        self.observation_space = gym.spaces.Text(1000, charset=string.printable)
        self.action_space = gym.spaces.Text(1000, charset=string.printable)
        self.log = None

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.task = (options or {}).get("task_id", "count-1")
        self.value = int(self.np_random.integers(0, 100))
        self.k = 0
        self.run = _DRIFT["runs"]
        _DRIFT["runs"] += 1
        obs = f"Task {self.task}: the counter starts at {self.value}."
        if self.log_dir:
            self.log = EpisodeLog(f"{self.log_dir}/{self.task}.s{seed}.r{self.run}.jsonl",
                                  {"env_id": ENV_ID, "task_id": self.task, "seed": seed,
                                   "env_kwargs": {"drift": self.drift}, "agent": (options or {}).get("agent")})
            self.log.append("reset", step=0, observation=obs, info={}, seed=seed, options=options)
        return obs, {}

    def step(self, action):
        self.k += 1
        call = json.loads(action) if isinstance(action, str) else action
        if self.log:
            self.log.append("action", step=self.k, action=action, tool=call["tool"], args=call["args"])
            self.log.append("validation", step=self.k, ok=True, error=None)
            self.log.sink({"type": "exec", "sandbox": "toy", "via": "init", "cmd": ["add"], "exit_code": 0})
        reward, done = 0.0, False
        if call["tool"] == "add":
            self.value += int(call["args"]["n"])
            obs = f"counter = {self.value}"
            if self.drift and self.k == 2:  # differs on every run: a nondeterministic env
                obs += f" (run {self.run})"
        else:
            done = True
            reward = 1.0 if str(call["args"]["answer"]) == str(self.value) else 0.0
            obs = f"submitted {call['args']['answer']}"
        if self.log:
            self.log.append("observation", step=self.k, observation=obs, reward=reward, terminated=done,
                            truncated=False, info={})
            if done:
                self.log.close(reward=reward, terminated=True, truncated=False, steps=self.k)
                self.log = None
        return obs, reward, done, False, {}

    def close(self):
        if self.log:
            self.log.close(status="closed")
            self.log = None


if ENV_ID not in gym.registry:
    gym.register(ENV_ID, entry_point=Counter)


class Oracle:
    """Reads the counter from the observations and submits it."""

    def reset(self, obs, info):
        self.value = int(obs.rstrip(".").split()[-1])

    def observe(self, action, obs, info):
        if obs.startswith("counter = "):
            self.value = int(obs.split()[2])

    def act(self, obs, info):
        if obs.startswith("counter = "):
            self.value = int(obs.split()[2])
        return {"tool": "submit", "args": {"answer": str(self.value)}}


def _record(tmp_path, drift=False, actions=None):
    env = gym.make(ENV_ID, log_dir=str(tmp_path), drift=drift)
    obs, _ = env.reset(seed=3, options={"task_id": "count-7"})
    value = int(obs.rstrip(".").split()[-1])
    actions = actions or [{"tool": "add", "args": {"n": 2}}, '{"tool": "add", "args": {"n": 5}}',
                          {"tool": "submit", "args": {"answer": str(value + 7)}}]
    for a in actions:
        obs, reward, term, trunc, _ = env.step(a)
    env.close()
    (log,) = sorted(tmp_path.glob("count-7.*.jsonl"))
    return log


def test_rerun_matches_a_deterministic_env(tmp_path):
    log = _record(tmp_path)
    assert verify(log).ok
    r = rerun(log, env_overrides={"log_dir": None})
    assert r.ok and r.steps_replayed == r.steps_logged == 3, r.divergences
    res = runner.invoke(app, ["replay", "run", str(log)])
    assert res.exit_code == 0 and "no divergence" in res.output


def test_rerun_reports_the_first_divergence(tmp_path):
    log = _record(tmp_path, drift=True)
    r = rerun(log, env_overrides={"log_dir": None})
    assert not r.ok
    d = r.first
    assert (d.step, d.field) == (2, "observation") and d.replayed.startswith("counter = ") and "(run " in d.replayed
    assert "first difference at character" in d.message
    res = runner.invoke(app, ["replay", "run", str(log)])
    assert res.exit_code == 1 and "step 2" in res.output


def test_episode_model_groups_events_by_step(tmp_path):
    ep = load_episode(_record(tmp_path))
    assert [s.index for s in ep.steps] == [1, 2, 3]
    assert ep.steps[1].tool == "add" and ep.steps[1].args == {"n": 5}
    assert all(len(s.sandbox) == 1 for s in ep.steps)
    assert ep.reward == 1.0 and ep.terminated and ep.actions()[1] == '{"tool": "add", "args": {"n": 5}}'


class CounterNoLog(Counter):
    """The same env without a log_dir: fork must record the new log itself."""

    def __init__(self, drift=False):
        super().__init__(log_dir=None, drift=drift)


if "airgap-test/CounterNoLog-v0" not in gym.registry:
    gym.register("airgap-test/CounterNoLog-v0", entry_point=CounterNoLog)


@pytest.mark.parametrize("env_logs", [True, False], ids=["env-writes-log", "fork-records-log"])
def test_fork_replays_then_hands_over_and_names_its_parent(tmp_path, env_logs):
    parent = _record(tmp_path, actions=[{"tool": "add", "args": {"n": 2}}, {"tool": "add", "args": {"n": 5}},
                                        {"tool": "submit", "args": {"answer": "-1"}}])
    assert load_episode(parent).reward == 0.0  # the parent got it wrong at step 3
    env_id = ENV_ID if env_logs else "airgap-test/CounterNoLog-v0"
    out = tmp_path / "forks"
    r = fork(parent, 2, "oracle", out_dir=out, make_agent=lambda spec: Oracle(),
             make_env=lambda h, **kw: gym.make(env_id, **(kw if env_logs else {})))
    assert r.log.parent == out and r.steps == 3 and r.reward == 1.0 and r.terminated
    v = verify(r.log)
    assert v.ok, v
    header, events = read_log(r.log)
    assert header["parent"] == {"log": str(parent), "head": verify(parent).head, "at_step": 2}
    assert header["agent"]["spec"] == "oracle" and header["seed"] == 3 and header["task_id"] == "count-7"
    acts = [e for e in events if e["type"] == "action"]
    assert len(acts) == 3 and acts[2]["action"]["tool"] == "submit"
    fork_ev = [e for e in events if e["type"] == "fork"]
    assert len(fork_ev) == 1 and fork_ev[0]["step"] == 2
    if env_logs:  # the env's own log: its sandbox events are there too
        assert sum(e["type"] == "sandbox.exec" for e in events) == 3
    else:
        assert [a.get("replayed", False) for a in acts] == [True, True, False]
    # the fork is itself a log that re-runs cleanly
    assert rerun(r.log, make_env=lambda h: gym.make(env_id)).ok


def test_fork_refuses_a_step_outside_the_episode_and_a_diverging_prefix(tmp_path):
    parent = _record(tmp_path, drift=True)
    with pytest.raises(ReplayError, match="outside this episode"):
        fork(parent, 9, "oracle", out_dir=tmp_path / "f", make_agent=lambda s: Oracle())
    with pytest.raises(ReplayError, match="diverged"):
        fork(parent, 2, "oracle", out_dir=tmp_path / "g", make_agent=lambda s: Oracle(),
             make_env=lambda h, **kw: gym.make(ENV_ID, drift=True, **kw))


def test_rerun_can_log_the_rerun_for_comparison(tmp_path):
    log = _record(tmp_path / "orig")
    res = runner.invoke(app, ["replay", "run", str(log), "--log-dir", str(tmp_path / "again")])
    assert res.exit_code == 0, res.output
    (again,) = (tmp_path / "again").glob("*.jsonl")
    assert verify(again).ok
    texts = lambda p: [e["observation"] for e in read_log(p)[1] if e["type"] == "observation"]  # noqa: E731
    assert texts(again) == texts(log)
