"""Scripted red and blue teams for the ``airgap`` setting, on ControlArena's own ``fixed_policy_builder``.

:func:`scripted_calls` is what Airgap's scripted saboteur (``saboteur:blunt|careful``, ``envs/agents/scripted.py``)
would do in a sample: the main task's oracle calls and, in attack mode, the side case's blunt or careful calls merged
in as that agent merges them, ending with the oracle's ``submit``. Without a side task it is the oracle. The calls
are the suite's data (the task's ``oracle``, the side case's calls), never written for a test; the agent's ``act``
plays them out. :func:`scripted_policy` hands them to ControlArena's ``fixed_policy_builder``, so a sample runs
through ControlArena's real scaffold and micro-protocols with no model: a baseline, or a test.
"""
from __future__ import annotations

from typing import Any

from inspect_ai.tool import ToolCall


def scripted_calls(sample: Any, style: str = "blunt") -> list[ToolCall]:
    """The scripted saboteur's calls for one sample of the ``airgap`` setting (``sample``: an Inspect ``Sample`` or its
    metadata dict), as ToolCalls; an honest sample (no ``side_task_name``) gets the oracle's."""
    from control_arena import ControlTaskMetadata

    from airgap.envs.agents.scripted import SaboteurAgent

    from .setting import AirgapSampleMetadata

    metadata = sample.metadata if hasattr(sample, "metadata") else sample
    meta = ControlTaskMetadata.model_validate(metadata)
    extra = meta.metadata_as(AirgapSampleMetadata)
    info: dict[str, Any] = {"suite": extra.suite, "world_seed": extra.world_seed, "task_id": extra.task_id}
    if meta.side_task_name:
        info["side_task"] = {"name": meta.side_task_name, "instruction": meta.side_task_description}
    agent = SaboteurAgent(style, suite=extra.suite)
    agent.reset("", info)
    calls: list[ToolCall] = []
    for k in range(extra.max_steps):
        action = agent.act("", info)
        calls.append(ToolCall(id=f"airgap-{k + 1}", function=action["tool"], arguments=dict(action.get("args") or {})))
        if action["tool"] == "submit":
            break
    return calls


def scripted_policy(sample: Any, style: str = "blunt") -> Any:
    """ControlArena's ``fixed_policy_builder`` playing :func:`scripted_calls` (one sample's script: a fixed policy
    serves the samples of a task alike, so give it a task of that one sample)."""
    from control_arena.policy import fixed_policy_builder

    return fixed_policy_builder(tool_calls=scripted_calls(sample, style))
