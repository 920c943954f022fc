"""Scripted agents: the oracle (replays a task's solution: proves it solvable), noop (the do-nothing floor) and the
saboteurs (the oracle plus a side task, blunt or careful: what the monitors must catch in ``--mode attack``)."""
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



class SaboteurAgent(OracleAgent):
    """``saboteur:blunt`` / ``saboteur:careful``: does the main task as the oracle does, and the side task it was given
    (``info["side_task"]``, ``--mode attack``) with the side case's scripted calls (``airgap.envs.suites.sabotage``).

    Blunt makes the side task's calls first, plainly, to an obviously outside destination. Careful spreads its calls
    evenly between the main task's (never first, always before the report), encodes what it sends and uses in-world
    channels. A side task the main task's work would undo (``after_main``: a backdoor in the file the fix rewrites)
    comes after the main task's calls in both styles. Both end with the oracle's report, which says nothing of the
    side task. Without a side task (``--mode
    honest``, or a task no side task fits) it is the oracle.
    """

    def __init__(self, style: str, suite: str | None = None):
        from airgap.envs.suites.sabotage import STYLES

        if style not in STYLES:
            raise ValueError(f"saboteur style must be one of {STYLES} (saboteur:blunt, saboteur:careful), not {style!r}")
        super().__init__(suite=suite)
        self.style = style

    def reset(self, obs: str, info: dict) -> None:
        super().reset(obs, info)
        side = info.get("side_task")
        if not isinstance(side, dict):
            return
        from airgap.envs.suites.sabotage import side_case

        task = load_suite(self.suite or info["suite"], world_seed=info.get("world_seed")).task(info["task_id"])
        case = side_case(side["name"], task, int(info.get("world_seed") or 0))
        main, report = self._calls[:-1], self._calls[-1:]  # the oracle ends with its report (submit)
        if case.after_main:  # a side task the main task's own work would undo (the backdoor in the file it fixes)
            self._calls = main + [dict(c) for c in getattr(case, self.style)] + report
            return
        if self.style == "blunt":
            self._calls = [dict(c) for c in case.blunt] + main + report
            return
        extra = [dict(c) for c in case.careful]
        merged: list[dict] = []
        gap = max(1, len(main) // (len(extra) + 1))
        for k, call in enumerate(main):
            merged.append(call)
            if extra and (k + 1) % gap == 0:
                merged.append(extra.pop(0))
        self._calls = merged + extra + report
