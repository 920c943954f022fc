"""Scripted agents: the oracle (replays a task's solution: proves it solvable) and noop (the do-nothing floor)."""
from __future__ import annotations

from airgap.envs.tasks import load_suite

from .base import ScriptedAgent


class OracleAgent(ScriptedAgent):
    """Plays the task's ``oracle`` list (or another list of calls, ``calls="decoy"``), then repeats its last call.

    The task is looked up from ``info["task_id"]`` in ``suite`` (a bundled name or a path;
    default ``info["suite"]``), so it works inside vector envs too.
    """

    def __init__(self, suite: str | None = None, calls: str = "oracle"):
        self.suite = suite
        self.which = calls
        self._calls: list[dict] = []
        self._i = 0

    def reset(self, obs: str, info: dict) -> None:
        task = load_suite(self.suite or info["suite"], world_seed=info.get("world_seed")).task(info["task_id"])
        calls = getattr(task, self.which)
        if not calls:
            raise ValueError(f"task {task.id} has no {self.which!r} calls; the {self.which} agent cannot play it")
        self._calls = [dict(c) for c in calls]
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

