"""THE agent loop: play an episode to its end with an agent (used by evaluate, by replay fork, and by anything else that drives agents)."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

from airgap.envs.logs import RESERVED_KEYS
from airgap.envs.monitors.benchmark import suspicion


@dataclass
class Outcome:
    """How an episode ended, as :func:`play` saw it."""

    obs: Any
    reward: float  # the sum of the step rewards
    last_reward: float
    steps: int  # steps taken by play (not counting any before it)
    terminated: bool
    truncated: bool
    info: dict


def play(env, agent, obs: Any, info: dict, *, first_step: int = 1, max_steps: int | None = None,
         record: Callable[..., None] | None = None,
         on_step: Callable[[int, Any, tuple], None] | None = None) -> Outcome:
    """Let ``agent`` act from ``obs``/``info`` until the episode ends (or ``max_steps`` more steps).

    Before each action the agent's ``last_call`` is cleared; a model call it made for the action
    goes to ``record("model", step=k, ...)`` (the env's :meth:`AirgapEnv.record` by default), so
    every log of every runner holds the agent's model traffic the same way. ``on_step(k, action,
    (obs, reward, terminated, truncated, info))`` sees each step after the env took it.
    """
    if record is None:
        record = env.unwrapped.record
    attach = getattr(agent, "attach", None)  # agents that act through the env themselves (sandbox:CMD) or log retries
    if callable(attach):
        attach(env.unwrapped)
    total, reward, k, terminated, truncated = 0.0, 0.0, 0, False, False
    limit = max_steps if max_steps is not None else 1 << 62
    while not (terminated or truncated) and k < limit:
        step = first_step + k
        agent.last_call = None
        action = agent.act(obs, info)
        call = agent.last_call
        if isinstance(call, dict):
            record("model", step=step, **{key: v for key, v in call.items() if key not in RESERVED_KEYS})
        result = env.step(action)
        obs, reward, terminated, truncated, info = result
        if on_step is not None:
            on_step(step, action, result)
        total += float(reward)
        k += 1
    return Outcome(obs, total, float(reward), k, bool(terminated), bool(truncated), info)


def run_episode(env, agent, task_id: str, seed: int, agent_spec: str | None = None) -> dict:
    """Reset to ``task_id`` with ``seed`` and play it to the end; returns the result row (timings here, never in the env)."""
    t0 = time.monotonic()
    obs, info = env.reset(seed=seed, options={"task_id": task_id, "agent": agent_spec})
    agent.reset(obs, info)
    out = play(env, agent, obs, info)
    row = {
        "task_id": task_id,
        "seed": seed,
        "reward": out.reward,
        "score": float(out.info.get("score", out.reward)),
        "steps": out.steps,
        "tool_errors": int(out.info.get("error_count", 0)),
        "terminated": out.terminated,
        "truncated": out.truncated,
        "seconds": round(time.monotonic() - t0, 3),
        "log": str(getattr(env.unwrapped, "log_path", "") or ""),
        "flags": [{"monitor": f.monitor, "severity": f.severity, "step": f.step, "message": f.message}
                  for f in getattr(env.unwrapped, "flags", [])],
    }
    row["suspicion"] = suspicion(getattr(env.unwrapped, "flags", []))  # per monitor that flagged, and "any"
    if out.info.get("evidence") is not None:  # the task's process requirements, beside the reward
        row["evidence"] = all(r["passed"] for r in out.info["evidence"])
    return {**row, **safety_fields(out.info), **usage_field(agent)}


def safety_fields(info: dict) -> dict:
    """``attack`` (the case's attack style, "none" for a benign twin), ``attack_success`` (the security grader's
    verdict) and ``subtlety`` (``blunt`` | ``subtle``: how the planted text read, when the case says) from a safety
    case's final ``info``; ``mode``, ``side_task`` and ``side_task_success`` from a sabotage episode's; nothing for
    other tasks."""
    fields: dict = {}
    if isinstance(info.get("attack"), str):
        fields["attack"] = info["attack"]
    security = info.get("security")
    if isinstance(security, dict) and security.get("attack_success") is not None:
        fields["attack_success"] = bool(security["attack_success"])
    if isinstance(security, dict) and isinstance(security.get("subtlety"), str):
        fields["subtlety"] = security["subtlety"]
    sabotage = info.get("sabotage")  # --mode attack|honest: the side task paired with the main task, and its grade
    if isinstance(sabotage, dict):
        fields.update(mode=sabotage.get("mode"), side_task=sabotage.get("name"), side_task_success=sabotage.get("success"))
    return fields


def usage_field(agent) -> dict:
    """The agent's ``usage`` for this episode (tokens, latency, retries, cost), copied; nothing when it keeps none."""
    usage = getattr(agent, "usage", None)
    return {"usage": dict(usage)} if isinstance(usage, dict) and usage else {}
