"""airgap.envs: gymnasium worlds over the sandbox and the offline web, episode logs, replay, agents.

Importing this package registers the environments (and nothing heavier: no torch, no
docker client, no snapshot is opened until ``gym.make``)::

    import gymnasium as gym, airgap.envs
    env = gym.make("airgap/WebQA-v0")
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step({"tool": "search", "args": {"query": "json dumps indent"}})
    envs = gym.make_vec("airgap/WebQA-v0", num_envs=4, vectorization_mode="async")

Every suite is registered by one call in its own folder (``envs/suites/<name>/__init__.py``, or a plugin module):
see ``airgap.envs.tasks.registry``. Versioning: bump an id's ``-vN`` whenever its tools, snapshot or grading change in a way
that makes old scores incomparable (the suite file's own ``version`` is recorded in every
episode log header).
"""
from __future__ import annotations

from . import suites as _suites  # noqa: F401 - each bundled suite's folder registers it (envs/suites/<name>/)
from .tasks import GENERIC_ENV_ID, SUITES, load_plugins, register_generic_env

__all__ = ["GENERIC_ENV_ID", "PLUGINS", "SUITES", "env_ids"]

register_generic_env()  # airgap/Suite-v0: any suite file, gym.make("airgap/Suite-v0", suite="my_tasks.yaml")

#: Modules of $AIRGAP_PLUGINS and the `airgap.plugins` entry points (suites, backends, monitors of your own).
PLUGINS = load_plugins()


def env_ids() -> dict[str, str]:
    """Every registered gym id -> its suite name (bundled suites and plugins), from the one suite registry."""
    return {spec.env_id: name for name, spec in SUITES.items()}
