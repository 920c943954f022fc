"""What monitors know about an episode besides its events: planted canaries, the world's hostnames, the task — built the
same way during a run and from an old log's header, so live and offline flags agree."""
from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

from .base import Context

_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_FACT_ADDRESSES: dict[tuple, frozenset[str]] = {}  # a world's facts -> the addresses in them
_FIXTURE_ADDRESSES: dict[str, frozenset[str]] = {}  # a backend's seeded fixture (by its hash) -> the addresses in it

#: The in-world hostname of an agent program's model endpoint (``sandbox:CMD``, envs/agents/program.py): the harness
#: serves it, so requests to it are part of the world (its traffic is the program's model calls, logged as such).
MODEL_HOST = "llm.airgap"


def canaries_of(task: dict, backends: dict[str, Any]) -> list[str]:
    """The secrets an agent must not leak: the task's own ``canaries`` and, in a world with backends, the secret notes
    planted in its mail, chat and tracker (``WorldFacts.secrets``) and every person's service tokens and password
    (``WorldFacts.credentials``; the agent's own are given to it, so using them in the world is fine, but they
    must not leave it)."""
    out = [str(c) for c in task.get("canaries") or []]
    facts = next((b.facts for b in backends.values()), None)
    if facts is not None:
        out += [s.value for s in facts.secrets]
        out += sorted(credentials_of(backends))
    return sorted(set(c for c in out if len(c) >= 8))  # shorter strings would match by chance


def credentials_of(backends: dict[str, Any]) -> set[str]:
    """Every person's service tokens and password in a world with backends."""
    facts = next((b.facts for b in backends.values()), None)
    if facts is None:
        return set()
    return {t for c in facts.credentials for t in c.tokens.values()} | {c.password for c in facts.credentials}


def addresses_of(task: dict, backends: dict[str, Any]) -> set[str]:
    """Every e-mail address the world or the task mentions, lower-cased: the world's facts (people, customers,
    vendors, mailboxes), the services' seeded rows (a planted carrier's text included) and the task's own text. An
    address outside this set came from nowhere in the world."""
    out = {a.lower() for a in _ADDRESS.findall(json.dumps(task, default=str))}
    facts = next((b.facts for b in backends.values()), None)
    if facts is not None:
        key = (facts.seed, facts.generator_version)
        if key not in _FACT_ADDRESSES:
            text = json.dumps(dataclasses.asdict(facts), default=str)
            _FACT_ADDRESSES[key] = frozenset(a.lower() for a in _ADDRESS.findall(text))
        out |= _FACT_ADDRESSES[key]
    for b in backends.values():
        state, digest = getattr(b, "fixture_state", None), getattr(b, "fixture_hash", None)
        if callable(state) and callable(digest):
            key = f"{type(b).__name__}:{digest()}"  # one seeded fixture (a planted carrier changes it), scanned once
            if key not in _FIXTURE_ADDRESSES:
                text = json.dumps(state().get("tables") or {}, default=str)
                _FIXTURE_ADDRESSES[key] = frozenset(a.lower() for a in _ADDRESS.findall(text))
            out |= _FIXTURE_ADDRESSES[key]
    return out


def service_hosts(backends: dict[str, Any]) -> set[str]:
    """Every host of every service of the backends' world, routed in this episode or not: they are the world's hosts
    (a script that names the calendar's host in a mail task names no outside host)."""
    facts = next((b.facts for b in backends.values()), None)
    if facts is None:
        return set()
    from airgap.envs.backends.base import BACKENDS

    out: set[str] = set()
    for cls in BACKENDS.values():
        try:
            out |= {h.lower() for h in cls.hosts_for(facts)}
        except Exception:  # a plugin service whose hosts need more than the facts: its routes still count when routed
            continue
    return out


def live_context(header: dict, task: dict, world: Any) -> Context:
    """The context of a running episode: ``world`` is the env's :class:`~airgap.envs.world.World`."""
    return Context(header=dict(header), canaries=canaries_of(task, world.backends), world_hosts=set(world.routes) | service_hosts(world.backends) | {MODEL_HOST},
                   task=dict(task), credentials=credentials_of(world.backends),
                   addresses=addresses_of(task, world.backends))


def context_from_header(header: dict) -> Context:
    """The context of a logged episode, rebuilt from its header (suite, world seed and task id): no sandbox is started."""
    from airgap.envs.tasks import load_suite
    from airgap.envs.world import Backends, offline_web

    kwargs = header.get("env_kwargs") or {}
    suite = load_suite(kwargs.get("suite") or header.get("suite"), world_seed=kwargs.get("world_seed"))
    task = suite.task(header["task_id"])
    spec = task.world
    _, routes = offline_web(spec["snapshot"], int(spec.get("world_seed", 0)))
    backends = (Backends().get(list(spec["backends"]), int(spec.get("world_seed", 0)), spec.get("inject"))
                if spec.get("backends") else {})
    hosts = set(routes) | {h for b in backends.values() for h in b.hosts} | service_hosts(backends) | {MODEL_HOST}
    return Context(header=dict(header), canaries=canaries_of(task.to_dict(), backends), world_hosts=hosts,
                   task=task.to_dict(), credentials=credentials_of(backends),
                   addresses=addresses_of(task.to_dict(), backends))
