"""The Agent protocol and agent specs: ``make_agent("oracle" | "noop" | "random:3" | "hf:PATH" | "openai:URL#MODEL")``."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol


class Agent(Protocol):
    """What the runner drives. ``reset`` starts an episode, ``act`` picks the next action.

    ``observe(action, obs, info)`` tells the agent of a step it did not choose (the replayed
    prefix of ``airgap replay fork``), so it continues from the same history as if it had.
    ``last_call`` is the agent's last model call (``input``, ``output``, ``usage``,
    ``latency_s``, ``model``) or None; the runner writes it to the log as a ``model`` event.
    """

    last_call: dict | None

    def reset(self, obs: str, info: dict) -> None: ...

    def act(self, obs: str, info: dict) -> Any: ...

    def observe(self, action: Any, obs: str, info: dict) -> None: ...


class ScriptedAgent:
    """Base for agents without a model: no model calls, and a replayed step changes nothing they keep."""

    last_call: dict | None = None

    def reset(self, obs: str, info: dict) -> None:
        pass

    def observe(self, action: Any, obs: str, info: dict) -> None:
        pass


AgentFactory = Callable[[str, "str | None"], Agent]  # (the spec after "kind:", suite) -> agent
AGENTS: dict[str, tuple[AgentFactory, str]] = {}


def register_agent(kind: str, usage: str):
    """Register a factory for specs ``kind`` or ``kind:REST``; ``usage`` is shown in errors and --help."""

    def deco(factory: AgentFactory) -> AgentFactory:
        AGENTS[kind] = (factory, usage)
        return factory

    return deco


def make_agent(spec: str, *, suite: str | None = None) -> Agent:
    """Build an agent from its spec string. ``suite`` helps ``oracle`` find tasks given by path."""
    from . import builtin  # noqa: F401 - registers the built-in kinds

    kind, _, rest = spec.partition(":")
    if kind not in AGENTS:
        raise ValueError(f"unknown agent spec {spec!r}; use one of: {', '.join(u for _, u in AGENTS.values())}")
    return AGENTS[kind][0](rest, suite)
