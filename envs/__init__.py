"""airgap.envs: gymnasium worlds over the sandbox and the offline web, episode logs, replay, agents.

Importing this package registers the environments (and nothing heavier: no torch, no
docker client, no snapshot is opened until ``gym.make``)::

    import gymnasium as gym, airgap.envs
    env = gym.make("airgap/WebQA-v0")
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step({"tool": "search", "args": {"query": "json dumps indent"}})
    envs = gym.make_vec("airgap/WebQA-v0", num_envs=4, vectorization_mode="async")

Versioning: bump an id's ``-vN`` whenever its tools, snapshot or grading change in a way
that makes old scores incomparable (the suite file's own ``version`` is recorded in every
episode log header).
"""
from __future__ import annotations

import gymnasium as gym

from .tasks import peek_max_steps

# env id -> bundled suite name
ENVS = {
    "airgap/WebQA-v0": "webqa",
    "airgap/Sandbox-v0": "sandbox",
}


def _register() -> None:
    for env_id, suite in ENVS.items():
        if env_id in gym.registry:
            continue
        gym.register(
            id=env_id,
            entry_point="airgap.envs.env:AirgapEnv",
            vector_entry_point="airgap.envs.env:make_vec_env",
            max_episode_steps=peek_max_steps(suite),
            # gym.make_vec(..., vectorization_mode="async") takes its AsyncVectorEnv arguments from here:
            # text observations cannot live in fixed-size shared memory arrays efficiently.
            kwargs={"suite": suite, "vector_kwargs": {"shared_memory": False}},
        )


_register()
