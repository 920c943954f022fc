"""The episode model: a log read back as a header, a reset and one Step per action with everything that step caused.

It sits with the logs, below the runner, because both the evaluation report (``airgap.envs.runner.report``) and
replay (``airgap.envs.replay``, which re-exports it) read episodes; replay itself re-runs them, so it sits above the runner.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airgap.envs.logs import LogError, VerifyResult, read_log, verify
from airgap.envs.tools import tool_call_of

#: Events that belong to the step in progress rather than carrying their own meaning.
_SANDBOX_PREFIX = "sandbox."


class ReplayError(Exception):
    """Replay cannot proceed; the message says why and what to do."""



# --------------------------------------------------------------------------- the episode model


@dataclass
class Step:
    """Everything that happened between one ``action`` and the next.

    ``index`` is the env step (1 = the first ``step()`` call). Step 0 collects what
    happened during ``reset`` (sandbox start, fixture loads) before any action.
    """

    index: int
    action: dict | None = None
    validation: dict | None = None
    observation: dict | None = None
    model: list[dict] = field(default_factory=list)
    sandbox: list[dict] = field(default_factory=list)
    flags: list[dict] = field(default_factory=list)
    rewards: list[dict] = field(default_factory=list)
    backend: list[dict] = field(default_factory=list)
    other: list[dict] = field(default_factory=list)

    @property
    def tool(self) -> str | None:
        return tool_call_of(self.action)[0] if self.action else None

    @property
    def args(self) -> Any:
        return tool_call_of(self.action)[1] if self.action else None

    @property
    def text(self) -> str | None:
        """The observation text returned by ``step`` (full, never cut)."""
        return observation_text(self.observation) if self.observation else None

    @property
    def reward(self) -> float | None:
        return self.observation.get("reward") if self.observation else None

    @property
    def terminated(self) -> bool:
        return bool(self.observation and self.observation.get("terminated"))

    @property
    def truncated(self) -> bool:
        return bool(self.observation and self.observation.get("truncated"))

    @property
    def ok(self) -> bool | None:
        """False when the action was rejected or the tool reported an error."""
        if self.validation is not None and self.validation.get("ok") is False:
            return False
        info = (self.observation or {}).get("info") or {}
        if isinstance(info, dict) and info.get("ok") is False:
            return False
        return None if self.observation is None else True

    @property
    def error(self) -> str | None:
        if self.validation is not None and self.validation.get("error"):
            return str(self.validation["error"])
        info = (self.observation or {}).get("info") or {}
        if isinstance(info, dict) and info.get("ok") is False:
            return str(info.get("error") or "error")
        return None

    @property
    def duration_s(self) -> float | None:
        """From the action (or the model call before it) to its observation, by the monotonic clock."""
        start = self.action or (self.model[0] if self.model else None)
        if start is None or self.observation is None:
            return None
        return max(0.0, float(self.observation["t_mono"]) - float(start["t_mono"]))

    def events(self) -> list[dict]:
        """All of this step's events in log order."""
        evs = [e for e in (self.action, self.validation, self.observation) if e is not None]
        evs += self.model + self.sandbox + self.flags + self.rewards + self.backend + self.other
        return sorted(evs, key=lambda e: e["seq"])


@dataclass
class Episode:
    """A log read back as steps. ``events`` are all events after the header, blobs resolved."""

    path: Path
    header: dict
    events: list[dict]
    reset: dict | None
    setup: Step
    steps: list[Step]
    end: dict | None
    verification: VerifyResult | None = None

    @property
    def flags(self) -> list[dict]:
        return [e for e in self.events if e["type"] == "flag"]

    @property
    def tools(self) -> list[dict]:
        """The tool schemas the agent was given (from the ``reset`` event, else the header)."""
        for src in (self.reset or {}, self.header):
            t = src.get("tools")
            if isinstance(t, list):
                return t
        return []

    @property
    def instruction(self) -> str:
        return observation_text(self.reset) if self.reset else ""

    @property
    def reward(self) -> float | None:
        """The episode's reward: the ``end`` event's, else the sum of step rewards."""
        if self.end is not None and isinstance(self.end.get("reward"), (int, float)):
            return float(self.end["reward"])
        rs = [s.reward for s in self.steps if isinstance(s.reward, (int, float))]
        return float(sum(rs)) if rs else None

    @property
    def terminated(self) -> bool:
        if self.end is not None and "terminated" in self.end:
            return bool(self.end["terminated"])
        return bool(self.steps and self.steps[-1].terminated)

    @property
    def truncated(self) -> bool:
        if self.end is not None and "truncated" in self.end:
            return bool(self.end["truncated"])
        return bool(self.steps and self.steps[-1].truncated)

    @property
    def answer(self) -> str | None:
        if self.end is not None and self.end.get("answer") is not None:
            return str(self.end["answer"])
        for s in reversed(self.steps):
            if s.tool in ("submit", "answer") and isinstance(s.args, dict):
                a = s.args.get("answer")
                return None if a is None else str(a)
        return None

    @property
    def duration_s(self) -> float | None:
        if not self.events:
            return None
        return float(self.events[-1]["t_mono"])

    def step(self, k: int) -> Step:
        for s in self.steps:
            if s.index == k:
                return s
        raise ReplayError(
            f"{self.path} has no step {k}; its steps are 1..{len(self.steps)}" if self.steps
            else f"{self.path} has no steps (the episode ended or was killed before the first action)"
        )

    def actions(self) -> list[Any]:
        """The actions exactly as the agent gave them, in order (what ``rerun`` feeds the env)."""
        return [s.action.get("action") for s in self.steps if s.action is not None]


def observation_text(event: dict | None) -> str:
    """The text of an ``observation``/``reset`` event, whatever shape the env gave it."""
    if not event:
        return ""
    obs = event.get("observation")
    if isinstance(obs, str):
        return obs
    if isinstance(obs, bytes):
        return obs.decode("utf-8", "replace")
    if isinstance(obs, dict) and isinstance(obs.get("text"), str):
        return obs["text"]
    return json.dumps(obs, ensure_ascii=False, indent=1, default=str)


def load_episode(path: str | os.PathLike, *, check: bool = True) -> Episode:
    """Read a log as an :class:`Episode`. ``check=True`` also verifies it (see ``episode.verification``);
    a tampered log still loads, so it can be inspected, but callers should say so."""
    path = Path(path)
    try:
        header, events = read_log(path)
    except LogError as e:
        raise ReplayError(str(e)) from None
    verification = verify(path) if check else None
    reset = None
    setup = Step(0)
    steps: dict[int, Step] = {}
    current = setup
    end = None
    for ev in events:
        t = ev["type"]
        if t == "end":
            end = ev
            continue
        if t == "reset":
            reset = ev
            continue
        k = ev.get("step")
        if t == "action" and isinstance(k, int):
            current = steps.setdefault(k, Step(k))
            if current.action is None:
                current.action = ev
            else:  # the same step number twice: keep both visible
                current.other.append(ev)
            continue
        target = current
        if isinstance(k, int) and not isinstance(k, bool):
            target = setup if k == 0 else steps.setdefault(k, Step(k))
        if t == "model":
            target.model.append(ev)
        elif t == "validation" and target.validation is None:
            target.validation = ev
        elif t == "observation" and target.observation is None:
            target.observation = ev
        elif t.startswith(_SANDBOX_PREFIX):
            target.sandbox.append(ev)
        elif t == "flag":
            target.flags.append(ev)
        elif t == "reward":
            target.rewards.append(ev)
        elif t == "backend_change":
            target.backend.append(ev)
        else:
            target.other.append(ev)
    return Episode(path, header, events, reset, setup, [steps[k] for k in sorted(steps)], end, verification)


# --------------------------------------------------------------------------- re-run and fork


