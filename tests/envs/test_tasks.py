"""Suite files: the bundled suites load; problems are reported with file, task and key."""
from pathlib import Path

import gymnasium as gym
import pytest
import yaml

import airgap.envs
from airgap.envs.graders import register_grader
from airgap.envs.tasks import TaskFileError, available_suites, is_generated, load_suite, peek_max_steps

FIXTURE = Path(__file__).parent / "fixtures" / "mini.yaml"


def test_bundled_suites_load_and_registration_uses_their_budgets():
    assert "webqa" in available_suites()
    for name in available_suites():
        suite = load_suite(name)
        assert len(suite) > 0 and suite.name == name
        assert peek_max_steps(name) == suite.max_steps
        for t in suite.tasks:
            assert t.oracle[-1]["tool"] == "submit" and "submit" in t.tools


def test_defaults_merge_into_tasks():
    suite = load_suite(FIXTURE)
    t = suite.task("mini-shell")
    assert t.budget["max_steps"] == 8 and t.world["snapshot"] == "none" and t.world["sandbox"]["memory"] == "256m"
    with pytest.raises(KeyError, match="airgap tasks list"):
        suite.task("nope")


def _write(tmp_path, data):
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


@register_grader("test_lenient", {"properties": {"expected": {"type": "string"}}})
def _lenient(spec, ep):
    """A buggy grader type that passes anything, to check the loader catches it."""
    return True, "always"


def test_every_problem_is_listed(tmp_path):
    data = yaml.safe_load(FIXTURE.read_text())
    data["tasks"][0]["graders"] = [{"type": "test_lenient"}]  # passes an empty answer
    data["tasks"][1]["oracle"][0] = {"tool": "search", "args": {"query": "x"}}  # not in world.tools
    data["tasks"][2]["oracle"][0]["args"] = {"cmd": "x"}  # bad args
    data["tasks"].append(dict(data["tasks"][0]))  # duplicate id
    with pytest.raises(TaskFileError) as e:
        load_suite(_write(tmp_path, data))
    msg = str(e.value)
    assert "mini-shell: graders[0] (test_lenient) passes an empty answer" in msg
    assert "mini-file: oracle[0]: tool 'search' is not in this task's world.tools" in msg
    assert "mini-code: oracle[0] (python)" in msg and "'code' is a required property" in msg
    assert "duplicate id" in msg


def test_schema_errors_and_missing_files(tmp_path):
    with pytest.raises(TaskFileError, match="tasks/0: 'oracle' is a required property"):
        load_suite(_write(tmp_path, {"suite": "x", "version": 1, "tasks": [{"id": "a", "instruction": "b", "graders": [{"type": "contains", "expected": "c"}]}]}))
    with pytest.raises(TaskFileError, match="registered suites: webqa, sandbox"):
        load_suite("no-such-suite")
    bad = tmp_path / "bad.yaml"
    bad.write_text("suite: [")
    with pytest.raises(TaskFileError, match="not valid YAML"):
        load_suite(bad)


def test_import_is_light():
    import subprocess
    import sys

    code = "import sys, airgap.envs; print(sorted(m for m in ('torch', 'docker', 'transformers', 'airgap.corpus', 'airgap.sandbox') if m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"


@pytest.mark.parametrize("env_id", list(airgap.envs.env_ids()))
def test_registration(env_id):
    """The gym id comes from the suite's one register_suite call, with the suite's own step budget: no task of world 0
    or world 3 is cut short by gymnasium's TimeLimit (the generated suites used to get the default 20)."""
    name = airgap.envs.env_ids()[env_id]
    spec = gym.spec(env_id)
    # a generated suite made through gym serves its train worlds (RL); evaluate asks for test worlds itself
    assert spec.kwargs == {"suite": name, **({"split": "train"} if is_generated(name) else {})} and spec.vector_entry_point
    assert spec.max_episode_steps == load_suite(name).max_steps
    if is_generated(name):
        assert load_suite(name, world_seed=3).max_steps <= spec.max_episode_steps
