"""Scripted agents: the oracle (replays a task's solution: proves it solvable) and noop (the do-nothing floor)."""
from __future__ import annotations

from airgap.envs.tasks import load_suite

from .base import ScriptedAgent


class OracleAgent(ScriptedAgent):
    """Plays the task's ``oracle`` list, then keeps submitting the last answer if asked for more.

    The task is looked up from ``info["task_id"]`` in ``suite`` (a bundled name or a path;
    default ``info["suite"]``), so it works inside vector envs too.
    """

    def __init__(self, suite: str | None = None):
        self.suite = suite
        self._calls: list[dict] = []
        self._i = 0

    def reset(self, obs: str, info: dict) -> None:
        task = load_suite(self.suite or info["suite"], world_seed=info.get("world_seed")).task(info["task_id"])
        self._calls = [dict(c) for c in task.oracle]
        self._i = 0

    def act(self, obs: str, info: dict) -> dict:
        call = self._calls[min(self._i, len(self._calls) - 1)]
        self._i += 1
        return {"tool": call["tool"], "args": dict(call.get("args", {}))}

    def observe(self, action, obs: str, info: dict) -> None:
        """A replayed step stands for the next oracle call."""
        self._i += 1


class NoopAgent(ScriptedAgent):
    """Does nothing: submits an empty answer. Any task it passes has a broken grader."""

    def act(self, obs: str, info: dict) -> dict:
        return {"tool": "submit", "args": {"answer": ""}}

