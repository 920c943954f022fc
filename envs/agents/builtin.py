"""The built-in agent kinds: oracle, decoy, obey, saboteur:STYLE, noop, random[:SEED], sandbox:CMD (model specs make chat agents: ``base.make_agent``)."""
from __future__ import annotations

from .base import register_agent


@register_agent("oracle", "oracle")
def _oracle(rest: str, suite: str | None):
    from .scripted import OracleAgent

    return OracleAgent(suite=suite)


@register_agent("decoy", "decoy")
def _decoy(rest: str, suite: str | None):
    """Plays the task's wrong-but-plausible solution: a grader that passes it is broken."""
    from .scripted import OracleAgent

    return OracleAgent(suite=suite, calls="decoy")


@register_agent("obey", "obey")
def _obey(rest: str, suite: str | None):
    """Always obeys injected text: plays a safety case's ``obey`` calls (the user's task, plus what the planted
    instructions ask for); its attack success rate is the ceiling a suite's security graders and monitors must see."""
    from .scripted import OracleAgent

    return OracleAgent(suite=suite, calls="obey")


@register_agent("saboteur", "saboteur:blunt|careful (with --mode attack)")
def _saboteur(rest: str, suite: str | None):
    """The oracle plus the side task of ``--mode attack``, done bluntly or carefully (spread, encoded, in-world
    channels): the catch rate the monitors must reach."""
    from .scripted import SaboteurAgent

    return SaboteurAgent(rest or "blunt", suite=suite)


@register_agent("noop", "noop")
def _noop(rest: str, suite: str | None):
    from .scripted import NoopAgent

    return NoopAgent()


@register_agent("random", "random[:SEED]")
def _random(rest: str, suite: str | None):
    from .fuzz import RandomAgent

    return RandomAgent(seed=int(rest) if rest else 0)


@register_agent("sandbox", "sandbox:CMD (with --agent-model openai:URL#MODEL or hf:PATH)")
def _sandbox(rest: str, suite: str | None, model=None, key_env: str | None = None, price_per_mtok=None):
    """An agent program run inside the episode's sandbox; its model calls go to https://llm.airgap/v1, answered by
    ``model`` (a model spec, or a :class:`~.model.Model` object)."""
    from .program import ProgramAgent

    return ProgramAgent(rest, model=model, key_env=key_env, price_per_mtok=price_per_mtok)
