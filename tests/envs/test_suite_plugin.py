"""A suite of one's own, written in a temporary folder, works end to end without touching any file of the package.

The plugin is a package with one ``register_suite`` call and a per-seed generator; ``$AIRGAP_PLUGINS`` names it, so
every process that imports ``airgap.envs`` (the evaluation's workers too) registers it like a bundled suite: it is in
``airgap tasks list``, ``gym.make`` serves it with its own step budget, and ``airgap evaluate --seed N`` runs its
oracle (1) and a do-nothing agent (0) on world N's tasks. Real Docker sandbox, real subprocesses, no mocks.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AIRGAP = Path(sys.executable).with_name("airgap")

PLUGIN_INIT = '''
"""A toy suite: count the lines of a seeded file. Registered by this one call, like a bundled suite."""
from airgap.envs.tasks import register_suite

register_suite("toy-lines", env_id="toyplugin/ToyLines-v0", max_steps=9,
               generate="toyplugin.generator:generate", description="Count the lines of a seeded file.")
'''
PLUGIN_GENERATOR = '''
from airgap.envs.common import rng


def generate(seed: int) -> dict:
    tasks = []
    for i in range(2):
        n = rng("toy-lines", seed, i).randint(3, 40)
        tasks.append({
            "id": f"toy-{i + 1:03d}", "kind": "count",
            "instruction": "How many lines does /workspace/data.txt have? Answer with the number only.",
            "setup": {"files": {"/workspace/data.txt": "".join(f"row {k}\\\\n" for k in range(n))}},
            "graders": [{"type": "numeric", "expected": n, "tol": 0}],
            "oracle": [{"tool": "shell", "args": {"command": "wc -l < /workspace/data.txt"}},
                       {"tool": "submit", "args": {"answer": str(n)}}],
        })
    return {"suite": "toy-lines", "version": 1, "world": {"snapshot": "none", "tools": ["shell", "submit"],
            "world_seed": seed, "sandbox": {"memory": "256m"}}, "budget": {"max_steps": 9}, "tasks": tasks}
'''


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    pkg = tmp_path / "plugins" / "toyplugin"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(textwrap.dedent(PLUGIN_INIT))
    (pkg / "generator.py").write_text(textwrap.dedent(PLUGIN_GENERATOR))
    env = {**os.environ, "AIRGAP_PLUGINS": "toyplugin",
           "PYTHONPATH": os.pathsep.join([str(pkg.parent), os.environ.get("PYTHONPATH", "")])}
    return env


def _py(env: dict, code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_plugin_suite_is_registered_everywhere(plugin):
    out = _py(plugin, textwrap.dedent('''
        import json, gymnasium as gym, airgap.envs
        from airgap.envs.tasks import load_suite
        spec = gym.spec("toyplugin/ToyLines-v0")
        a, b = load_suite("toy-lines", world_seed=0), load_suite("toy-lines", world_seed=7)
        print(json.dumps({"plugins": airgap.envs.PLUGINS, "ids": airgap.envs.env_ids(), "steps": spec.max_episode_steps,
                          "kwargs": spec.kwargs, "answers": [[t.graders[0]["expected"] for t in s.tasks] for s in (a, b)]}))
    '''))
    got = json.loads(out)
    assert got["plugins"] == ["toyplugin"]
    assert got["ids"]["toyplugin/ToyLines-v0"] == "toy-lines" and got["ids"]["airgap/WebQA-v0"] == "webqa"
    assert got["steps"] == 9 and got["kwargs"] == {"suite": "toy-lines", "split": "train"}
    assert got["answers"][0] != got["answers"][1]  # another seed, another world

    listed = subprocess.run([str(AIRGAP), "tasks", "list", "--json"], env=plugin, capture_output=True, text=True,
                            timeout=300, cwd=ROOT)
    assert listed.returncode == 0, listed.stderr
    row = next(r for r in json.loads(listed.stdout) if r["suite"] == "toy-lines")
    assert row["env_id"] == "toyplugin/ToyLines-v0" and row["tasks"] == 2 and row["error"] is None


def test_a_broken_plugin_is_a_clear_error(plugin):
    env = {**plugin, "AIRGAP_PLUGINS": "toyplugin,no_such_plugin_module"}
    out = subprocess.run([sys.executable, "-c", "import airgap.envs"], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and "airgap plugin 'no_such_plugin_module'" in out.stderr


def test_registering_a_suite_twice_is_an_error():
    from airgap.envs.tasks import register_suite

    with pytest.raises(ValueError, match="already registered"):
        register_suite("webqa", env_id="airgap/WebQA-v9", max_steps=5, file=ROOT / "envs/suites/webqa/tasks.yaml")
    with pytest.raises(ValueError, match="env id 'airgap/Office-v0' is already registered"):
        register_suite("office-two", env_id="airgap/Office-v0", max_steps=5, generate=lambda seed: {})


def test_plugin_suite_runs_in_gym_and_evaluate(plugin, sandbox_image, tmp_path):
    out = _py(plugin, textwrap.dedent('''
        import json, gymnasium as gym, airgap.envs
        env = gym.make("toyplugin/ToyLines-v0", world_seed=4)
        obs, info = env.reset(seed=0)
        task = env.unwrapped.task
        for call in task.oracle:
            obs, reward, terminated, truncated, info = env.step(json.dumps(call))
        env.close()
        print(json.dumps({"reward": reward, "terminated": terminated, "world_seed": info.get("world_seed")}))
    '''))
    got = json.loads(out.strip().splitlines()[-1])
    assert got["reward"] == 1.0 and got["terminated"]

    for agent, want in (("oracle", 1.0), ("noop", 0.0)):
        run = tmp_path / f"run-{agent}"
        res = subprocess.run([str(AIRGAP), "evaluate", "--suite", "toy-lines", "--seed", "4", "--agent", agent,
                              "--workers", "2", "--out", str(run)], env=plugin, capture_output=True, text=True,
                             timeout=600, cwd=ROOT)
        assert res.returncode == 0, res.stdout + res.stderr
        rows = [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines()]
        assert sorted(r["task_id"] for r in rows) == ["toy-001", "toy-002"]
        assert all(r["reward"] == want for r in rows), rows
