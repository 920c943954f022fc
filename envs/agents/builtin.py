"""The built-in agent kinds, registered by spec: oracle, decoy, noop, random[:SEED], hf:PATH, openai:URL#MODEL."""
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


@register_agent("openai", "openai:URL#MODEL")
def _openai(rest: str, suite: str | None):
    url, _, model = rest.partition("#")
    if not url.startswith(("http://", "https://")) or not model:
        raise ValueError("openai agent spec is openai:URL#MODEL, e.g. openai:http://127.0.0.1:8000/v1#qwen2.5-7b")
    from .openai import OpenAIAgent

    return OpenAIAgent(url, model)
