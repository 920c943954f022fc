"""Airgap's suites behind OpenEnv's own server: :class:`AirgapEnvironment` (OpenEnv's ``Environment`` over
:class:`~airgap.envs.env.AirgapEnv`) and :func:`create_airgap_app` (OpenEnv's ``create_app``, many sessions at once).

OpenEnv gives each WebSocket session (``/ws``) its own environment instance, built by the factory and driven from one
thread of its own; that instance makes its gym env at the first reset, and each reset takes a clean sandbox from the
process's pool (a session's ``close`` gives it back and seals the episode log). OpenEnv's stateless HTTP ``/reset`` and
``/step`` build a fresh instance per request and close it after, so an episode lives only in a session: a ``/step``
with no reset before it in the same instance is an error.
"""
from __future__ import annotations

import functools
import json
import uuid
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from openenv.core.env_server.interfaces import Environment
from openenv.core.env_server.types import EnvironmentMetadata

from .models import AirgapAction, AirgapObservation, AirgapState

#: Reset arguments a client may send besides OpenEnv's own ``seed`` and ``episode_id``.
RESET_ARGS = ("task_id",)


def _json(info: dict) -> dict:
    """``info`` as plain JSON (anything else as its string), which is what OpenEnv's observation carries."""
    return json.loads(json.dumps(info, default=str))


def airgap_version() -> str:
    try:
        return version("airgap")
    except PackageNotFoundError:  # a source checkout that was never installed
        return "0+unknown"


class AirgapEnvironment(Environment[AirgapAction, AirgapObservation, AirgapState]):
    """One OpenEnv session's Airgap env: ``reset(seed, episode_id, task_id)``, ``step(AirgapAction)``, ``state``, ``close``.

    Args:
        suite: a registered suite name or a suite file (as ``airgap evaluate --suite``).
        metadata: what ``/metadata`` answers (:func:`suite_metadata`; made once per server, not per instance).
        **env_kwargs: passed to ``gym.make`` (``world_seed``, ``log_dir``, ``monitors``, ``image``, ``pool_size`` ...).
    """

    SUPPORTS_CONCURRENT_SESSIONS = True  # each instance has its own env, backends and sandbox; the pool is thread-safe

    def __init__(self, suite: str = "webqa", *, metadata: EnvironmentMetadata | None = None, **env_kwargs: Any):
        super().__init__()
        self.suite = suite
        self._metadata = metadata
        self._env_kwargs = env_kwargs
        self._env: Any = None
        self._state = AirgapState(suite=suite)

    def _gym(self) -> Any:
        if self._env is None:
            import gymnasium as gym

            import airgap.envs  # noqa: F401 - registers the gym ids
            from airgap.envs.runner.evaluate import env_for_suite

            env_id, kwargs = env_for_suite(self.suite)
            self._env = gym.make(env_id, **{**kwargs, **self._env_kwargs})
        return self._env

    def reset(self, seed: int | None = None, episode_id: str | None = None, task_id: str | None = None,
              **kwargs: Any) -> AirgapObservation:
        if kwargs:
            raise ValueError(f"unknown reset argument(s) {sorted(kwargs)}: reset takes seed, episode_id and {', '.join(RESET_ARGS)}")
        options: dict[str, Any] = {"agent": "openenv"}
        if task_id is not None:
            options["task_id"] = task_id
        obs, info = self._gym().reset(seed=seed, options=options)
        self._state = AirgapState(episode_id=episode_id or str(uuid.uuid4()), step_count=0, suite=self.suite,
                                  task_id=info.get("task_id"))
        return AirgapObservation(text=obs, info=_json(info), done=False, reward=None)

    def step(self, action: AirgapAction, timeout_s: float | None = None, **kwargs: Any) -> AirgapObservation:
        """One tool call as one env step. ``timeout_s`` is not used: each task's budget limits its tools' time."""
        if self._env is None or self._state.task_id is None:
            raise RuntimeError("no episode: reset before step (OpenEnv's HTTP /step has no session; use the /ws session)")
        obs, reward, terminated, truncated, info = self._env.step({"tool": action.tool, "args": action.args})
        done = bool(terminated or truncated)
        unwrapped = self._env.unwrapped
        self._state.step_count += 1
        self._state.done = self._state.done or done
        if done:
            self._state.reward = float(reward)
            self._state.log_path = str(unwrapped.log_path) if unwrapped.log_path else None
        return AirgapObservation(text=obs, reward=float(reward), done=done, truncated=bool(truncated and not terminated),
                                 info=_json(info))

    @property
    def state(self) -> AirgapState:
        return self._state.model_copy()

    def get_metadata(self) -> EnvironmentMetadata:
        return self._metadata or suite_metadata(self.suite)

    def close(self) -> None:
        env, self._env = self._env, None
        if env is not None:
            env.close()  # seals the episode's log and gives its sandbox back to the pool


def suite_metadata(suite: str) -> EnvironmentMetadata:
    """What OpenEnv's ``/metadata`` answers for a suite: name, description, a README of the protocol, the version."""
    from airgap.envs.tasks import load_suite

    loaded = load_suite(suite)
    tools = sorted({t for task in loaded.tasks for t in task.tools} | {"submit"})
    readme = f"""# Airgap: {loaded.name}

{len(loaded.tasks)} tasks in an offline, sandboxed world (no network; simulated services behind a logging gateway).

- **reset** (`seed`, `episode_id`, `task_id`): the observation's `text` is the task's instruction; `info["tools"]`
  are the task's tools as JSON schemas, `info["task_id"]` the task, `info["max_steps"]` its step budget.
- **step** `{{"tool": NAME, "args": {{...}}}}`: one tool call; `text` is its output, or an error that says how to call.
- **submit** ends the episode: `reward` is 1.0 when every grader passes (`info["grades"]`, `info["score"]`), else 0.0.
  The step budget or the tool-time budget ends it too (`truncated`).

Tools in this suite: {", ".join(tools)}.
"""
    return EnvironmentMetadata(name=f"airgap-{loaded.name}",
                               description=f"Airgap suite {loaded.name}: {len(loaded.tasks)} tool-use tasks in a network-less "
                                           "sandbox, graded at submit",
                               readme_content=readme, version=airgap_version(), author="Airgap")


def create_airgap_app(suite: str, *, max_sessions: int = 8, idle_timeout: float | None = None, **env_kwargs: Any) -> Any:
    """OpenEnv's FastAPI app (``create_app``) serving ``suite``: up to ``max_sessions`` concurrent sessions, a session
    idle for ``idle_timeout`` seconds closed (its sandbox returned); ``env_kwargs`` go to each session's ``gym.make``."""
    from openenv.core.env_server.http_server import create_app
    from openenv.core.env_server.types import ConcurrencyConfig

    from airgap.envs.runner.evaluate import env_for_suite

    env_for_suite(suite)  # an unknown suite fails here, before the server starts
    factory = functools.partial(AirgapEnvironment, suite, metadata=suite_metadata(suite), **env_kwargs)
    config = ConcurrencyConfig(max_concurrent_envs=max_sessions, session_timeout=idle_timeout)
    return create_app(factory, AirgapAction, AirgapObservation, env_name=f"airgap-{suite}", concurrency_config=config)


def serve(suite: str, *, host: str = "127.0.0.1", port: int = 8000, max_sessions: int = 8, idle_timeout: float | None = None,
          log_level: str = "info", **env_kwargs: Any) -> None:
    """Run :func:`create_airgap_app` under uvicorn until interrupted."""
    import uvicorn

    app = create_airgap_app(suite, max_sessions=max_sessions, idle_timeout=idle_timeout, **env_kwargs)
    uvicorn.run(app, host=host, port=port, log_level=log_level, ws_max_size=1 << 27)
