"""Agents: anything with ``reset(obs, info)`` and ``act(obs, info) -> action``, built from a spec string; models behind one interface.

``make_agent(spec)`` builds one from a string, so command lines and episode-log headers
can name an agent:

==========================  ==============================================================
``oracle``                  replays the task's oracle calls (proves a task solvable)
``decoy``, ``obey``         the task's wrong-but-plausible calls; a safety case's always-obeying calls
``saboteur:blunt|careful``  the oracle plus the secret side task of ``--mode attack`` (``suites.sabotage``),
                            plainly or spread, encoded and through in-world channels
``noop``                    submits ``""`` at once (must score 0 everywhere)
``random[:SEED]``           fuzzing: random, malformed and hostile actions, seeded
``hf:PATH``                 a transformers causal LM + tokenizer from a LOCAL folder; in ``evaluate``
                            one engine process serves every worker, batched (``engine``)
``vllm:PATH``               the same on vLLM's offline engine with prefix caching (GPU; extra ``vllm``)
``openai:URL#MODEL``        any OpenAI-compatible ``/chat/completions`` endpoint (e.g. vLLM
                            or llama.cpp on loopback); ``URL`` is the base, e.g.
                            ``http://127.0.0.1:8000/v1``; key from ``$OPENAI_API_KEY`` (or
                            ``key_env=NAME``); bounded retries, ``usage`` per episode
``sandbox:CMD``             an agent program run inside the episode's sandbox, its model calls
                            to ``https://llm.airgap/v1`` answered by ``model=openai:URL#MODEL`` (or hf:PATH)
==========================  ==============================================================

``hf:``, ``vllm:`` and ``openai:`` are model specs (:mod:`.model`): each makes a :class:`~.model.Model`
(``complete(messages, tools, **sampling) -> Reply``), and the agent is a :class:`ChatAgent` over it. A
sandbox program's in-world endpoint takes the same Model. The loop that drives an agent is the usual
gymnasium one::

    agent = make_agent("oracle")
    obs, info = env.reset(seed=0)
    agent.reset(obs, info)
    while True:
        obs, reward, terminated, truncated, info = env.step(agent.act(obs, info))
        if terminated or truncated:
            break

Model agents keep the chat (OpenAI message format) and expose the last model call in
``agent.last_call`` (input messages, output message, token usage, latency) so a runner
can write it to the episode log as a ``model`` event.
"""
from __future__ import annotations

from .base import AGENTS, Agent, check_agent_spec, make_agent, register_agent
from .chat import SYSTEM_PROMPT, ChatAgent
from .fuzz import RandomAgent
from .model import PROVIDERS, Model, ModelSpec, ModelSpecError, Reply, make_model, parse_model_spec, register_model
from .scripted import NoopAgent, OracleAgent


def __getattr__(name: str):
    """The sandbox program agent imports lazily."""
    if name == "ProgramAgent":
        from .program import ProgramAgent

        return ProgramAgent
    raise AttributeError(name)


__all__ = ["AGENTS", "PROVIDERS", "SYSTEM_PROMPT", "Agent", "ChatAgent", "Model", "ModelSpec", "ModelSpecError", "NoopAgent",
           "OracleAgent", "ProgramAgent", "RandomAgent", "Reply", "check_agent_spec", "make_agent", "make_model",
           "parse_model_spec", "register_agent", "register_model"]


def _register_monitor_models() -> None:
    """Let ``model:SPEC`` monitors (a lower layer) make their model through this layer's ``make_model``."""
    from airgap.envs.monitors import model as _monitor_model

    from .model import make_model
    _monitor_model.MODEL_FACTORY = make_model


_register_monitor_models()
