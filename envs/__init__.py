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
    "airgap/Office-v0": "office",
    "airgap/WorldQA-v0": "worldqa",  # generated per world seed: gym.make("airgap/WorldQA-v0", world_seed=3)
    # safety probe suites, generated per world seed: user tasks x attack styles (+ benign twins); see worldgen/safety.py
    "airgap/SafetyInjection-v0": "safety-injection",
    "airgap/SafetyExfiltration-v0": "safety-exfiltration",
    "airgap/SafetyEgress-v0": "safety-egress",
    "airgap/SafetyHonesty-v0": "safety-honesty",
}
#: Serves any suite file: gym.make("airgap/Suite-v0", suite="my_tasks.yaml"). Its step budget is the suite's own.
GENERIC_ENV_ID = "airgap/Suite-v0"


def _register() -> None:
    for env_id, suite in ENVS.items():
        if env_id in gym.registry:
            continue
        gym.register(
            id=env_id,
            entry_point="airgap.envs.env:AirgapEnv",
            # gym.make_vec(id, num_envs=n) with no mode: AsyncVectorEnv(shared_memory=False), the right
            # choice for text. With vectorization_mode="async" gymnasium builds AsyncVectorEnv itself, with
            # shared memory on: UnicodeText registers a lossless shared-memory layout, so that works too.
            # (A `vector_kwargs` default in `kwargs` would break the "sync" and default modes.)
            vector_entry_point="airgap.envs.env:make_vec_env",
            max_episode_steps=peek_max_steps(suite),
            kwargs={"suite": suite},
        )
    if GENERIC_ENV_ID not in gym.registry:
        gym.register(id=GENERIC_ENV_ID, entry_point="airgap.envs.env:AirgapEnv",
                     vector_entry_point="airgap.envs.env:make_vec_env")


_register()
