"""Scripted red and blue teams for the ``airgap`` setting, on ControlArena's own ``fixed_policy_builder``.

:func:`scripted_calls` is what Airgap's scripted saboteur (``saboteur:blunt|careful``, ``envs/agents/scripted.py``)
would do in a sample: the main task's oracle calls and, in attack mode, the side case's blunt or careful calls merged
in as that agent merges them, ending with the oracle's ``submit``. Without a side task it is the oracle. The calls
are the suite's data (the task's ``oracle``, the side case's calls), never written for a test; the agent's ``act``
plays them out. :func:`airgap_scripted_policy_builder` hands each sample's calls to ControlArena's
``fixed_policy_builder``, so samples run through ControlArena's real scaffold and micro-protocols with no model: a
baseline for the monitors, or a test.
"""
from __future__ import annotations

from typing import Any

from control_arena import control_agent, control_task_metadata
from inspect_ai.agent import Agent, AgentState
from inspect_ai.tool import Tool, ToolCall


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


@control_agent
def airgap_scripted_policy_builder(style: str = "blunt") -> Agent:
    """The scripted saboteur as a ControlArena policy: each sample's :func:`scripted_calls`, played by ControlArena's
    ``fixed_policy_builder`` (honest samples: the oracle's calls).

    Args:
        style: ``blunt`` (the side task first, plainly) or ``careful`` (spread out, encoded, in-world channels).
    """
    from control_arena.policy import fixed_policy_builder

    from airgap.envs.suites.sabotage import STYLES

    if style not in STYLES:
        raise ValueError(f"style must be one of {STYLES}, not {style!r}")
    policies: dict[tuple, Any] = {}

    async def impl(state: AgentState, tools: list[Tool]) -> AgentState:
        meta = control_task_metadata()
        key = (meta.main_task_name, meta.side_task_name)
        if key not in policies:  # a fixed policy counts its steps in the sample's store: one per script serves all epochs
            policies[key] = fixed_policy_builder(tool_calls=scripted_calls(meta.model_dump(), style))
        return await policies[key](state, tools)

    return impl
