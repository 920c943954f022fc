"""The Agent protocol and agent specs: ``make_agent("oracle" | "noop" | "random:3" | "hf:PATH" | "openai:URL#MODEL")``.

A spec is a registered agent kind (``@register_agent``: the scripted ones, ``sandbox:CMD``) or a model spec
(:mod:`.model`: ``hf:PATH``, ``vllm:PATH``, ``openai:URL#MODEL``, a registered provider), which makes a
:class:`~.chat.ChatAgent` over that model.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Protocol

from .chat import ChatAgent
from .model import is_model_spec, make_model, parse_model_spec, providers


class Agent(Protocol):
    """What the runner drives. ``reset`` starts an episode, ``act`` picks the next action.

    ``observe(action, obs, info)`` tells the agent of a step it did not choose (the replayed
    prefix of ``airgap replay fork``), so it continues from the same history as if it had.
    ``last_call`` is the agent's last model call (``input``, ``output``, ``usage``,
    ``latency_s``, ``model``) or None; the runner writes it to the log as a ``model`` event.

    Optional: ``attach(env)``, when the agent has it, is called by :func:`~airgap.envs.runner.play`
    with the episode's (unwrapped) env before the first ``act``, so the agent can log its own events
    (``env.record``: retries, a program's model calls) and reach the episode's sandbox (``sandbox:CMD``);
    ``usage`` (a dict of numbers: prompt/completion tokens, latency_s, retries, cost_usd), when the
    agent has it, is the current episode's totals, reset by ``reset``.
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
        old = AGENTS.get(kind)
        if old is not None and old[0] is not factory:
            raise ValueError(f"an agent kind named {kind!r} is already registered ({old[0].__qualname__})")
        AGENTS[kind] = (factory, usage)
        return factory

    return deco


def agent_forms() -> str:
    """The accepted agent specs, for errors and help: the registered kinds, then the model specs."""
    from . import builtin  # noqa: F401 - registers the built-in kinds

    return ", ".join([u for _, u in AGENTS.values()] + [p.usage for p in providers().values()])


def check_agent_spec(spec: str, *, model: Any = None) -> None:
    """Raise ValueError (saying what is accepted) for an agent spec, or a ``model`` option, that cannot work; builds nothing."""
    from . import builtin  # noqa: F401 - registers the built-in kinds

    if isinstance(model, str):
        parse_model_spec(model)
    kind = spec.partition(":")[0]
    if kind not in AGENTS:
        if not is_model_spec(spec):
            raise ValueError(f"unknown agent spec {spec!r}; use one of: {agent_forms()}")
        parse_model_spec(spec)


def make_agent(spec: str, *, suite: str | None = None, **options: Any) -> Agent:
    """Build an agent from its spec string. ``suite`` helps ``oracle`` find tasks given by path.

    ``options`` (e.g. ``price_per_mtok=(0.15, 0.6)``, ``key_env="MY_KEY"``, ``model="openai:URL#MODEL"``) go to
    the kinds (and the model providers) whose factory takes them by name; a kind with no use for an option ignores
    it, so a runner can pass the same options whatever the agent. Options that are None are not passed.
    """
    from . import builtin  # noqa: F401 - registers the built-in kinds

    kind, _, rest = spec.partition(":")
    options = {k: v for k, v in options.items() if v is not None}
    if kind not in AGENTS:
        if is_model_spec(spec):  # a model spec: the chat agent over that model
            return ChatAgent(make_model(spec, **options))
        raise ValueError(f"unknown agent spec {spec!r}; use one of: {agent_forms()}")
    factory = AGENTS[kind][0]
    params = inspect.signature(factory).parameters
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        options = {k: v for k, v in options.items() if k in params}
    return factory(rest, suite, **options)
