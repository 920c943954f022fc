"""The built-in agent kinds, registered by spec: oracle, decoy, noop, random[:SEED], hf:PATH, openai:URL#MODEL, sandbox:CMD."""
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


@register_agent("noop", "noop")
def _noop(rest: str, suite: str | None):
    from .scripted import NoopAgent

    return NoopAgent()


@register_agent("random", "random[:SEED]")
def _random(rest: str, suite: str | None):
    from .fuzz import RandomAgent

    return RandomAgent(seed=int(rest) if rest else 0)


@register_agent("hf", "hf:PATH")
def _hf(rest: str, suite: str | None):
    if not rest:
        raise ValueError("hf agent needs a path: hf:/models/my-model")
    from .hf import HFAgent

    return HFAgent(rest)


@register_agent("vllm", "vllm:PATH")
def _vllm(rest: str, suite: str | None):
    if not rest:
        raise ValueError("vllm agent needs a path: vllm:/models/my-model")
    from .hf import HFAgent

    return HFAgent(rest, kind="vllm")


def _url_model(rest: str) -> tuple[str, str]:
    url, _, model = rest.partition("#")
    if not url.startswith(("http://", "https://")) or not model:
        raise ValueError("openai agent spec is openai:URL#MODEL, e.g. openai:http://127.0.0.1:8000/v1#qwen2.5-7b")
    return url, model


@register_agent("openai", "openai:URL#MODEL")
def _openai(rest: str, suite: str | None, key_env: str | None = None, price_per_mtok=None):
    url, model = _url_model(rest)
    from .openai import OpenAIAgent

    return OpenAIAgent(url, model, key_env=key_env, price_per_mtok=price_per_mtok)


@register_agent("sandbox", "sandbox:CMD (with --agent-model openai:URL#MODEL)")
def _sandbox(rest: str, suite: str | None, model: str | None = None, key_env: str | None = None, price_per_mtok=None):
    """An agent program run inside the episode's sandbox; its model calls go to https://llm.airgap/v1."""
    from .program import ProgramAgent

    return ProgramAgent(rest, model=model, key_env=key_env, price_per_mtok=price_per_mtok)
