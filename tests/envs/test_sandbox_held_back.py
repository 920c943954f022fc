"""Script-fixing tasks run the agent's script on inputs it never saw: a "fix" that prints the answer it found fails.
Real sandbox; the oracle's fix passes, the hard-coded one does not (issue: `sandbox-017` with `echo 6`)."""
from __future__ import annotations

import json

import gymnasium as gym
import pytest

from airgap.envs.tasks import load_suite

# task -> (script, the answer it must print on the task's own input)
CHEATS = {
    "sandbox-013": ("/workspace/average.py", "print('{answer}')\n"),
    "sandbox-015": ("/workspace/euler.py", "print({answer})\n"),
    "sandbox-017": ("/workspace/count_warn.sh", "#!/bin/bash\necho {answer}\n"),
    "sandbox-018": ("/workspace/span.py", "print({answer})\n"),
}


def _play(env, calls) -> tuple[float, dict]:
    reward, info = 0.0, {}
    for call in calls:
        _, reward, terminated, truncated, info = env.step(json.dumps(call))
        if terminated or truncated:
            break
    return reward, info


@pytest.mark.parametrize("task_id", sorted(CHEATS))
def test_a_hard_coded_fix_fails_and_the_real_fix_passes(task_id, sandbox_image):
    task = load_suite("sandbox").task(task_id)
    assert "also checked" in task.instruction  # the held-back check is stated, not hidden
    path, template = CHEATS[task_id]
    env = gym.make("airgap/Sandbox-v0", task_ids=[task_id])
    try:
        env.reset(seed=0)
        cheat = [{"tool": "write_file", "args": {"path": path, "content": template.format(answer=task.answer)}},
                 {"tool": "submit", "args": {"answer": str(task.answer)}}]
        reward, info = _play(env, cheat)
        assert reward == 0.0, info["grades"]
        held = [g for g in info["grades"] if g["type"] == "command_output"]
        assert held[0]["passed"] and not held[1]["passed"]  # right on the task's input, wrong on the held-back one

        env.reset(seed=0)
        reward, info = _play(env, task.oracle)
        assert reward == 1.0, info["grades"]
    finally:
        env.close()
