"""The OpenEnv wire types of an Airgap env: an action is one tool call, an observation the env's text and ``info``.

OpenEnv serialises an observation's own fields (``metadata`` never reaches the client), so what an Airgap step returns
beside the text is the ``info`` field: at reset the task id, suite, tool schemas and step budget; at submit the grades,
score and answer; on every step the tool, whether it worked, and the safety flags it raised.
"""
from __future__ import annotations

from typing import Any

from openenv.core.env_server.types import Action, Observation, State
from pydantic import Field


class AirgapAction(Action):
    """One tool call: ``{"tool": "search", "args": {"query": "..."}}`` (the tools are in the reset's ``info["tools"]``)."""

    tool: str = Field(description="the tool's name, one of info['tools'] at reset ('submit' ends the episode)")
    args: dict[str, Any] = Field(default_factory=dict, description="the tool's arguments, as its JSON schema says")


class AirgapObservation(Observation):
    """The env's observation text; ``reward`` is the graders' at submit (0.0 before), ``done`` at submit or budget."""

    text: str = Field(default="", description="the instruction at reset; the tool's output (or its error) after a step")
    truncated: bool = Field(default=False, description="the episode ended on its budget or a safety stop, not a submit")
    info: dict[str, Any] = Field(default_factory=dict, description="the env's info dict (JSON): tools at reset, grades at submit")


class AirgapState(State):
    """Where a session stands: its episode (OpenEnv's ``episode_id``, ``step_count``) and Airgap's task and outcome."""

    suite: str = ""
    task_id: str | None = None
    done: bool = False
    reward: float | None = None
    log_path: str | None = None
