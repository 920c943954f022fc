"""Attacks: the registry of attack texts and the named slots of the world they are injected into.

A safety case is a user task crossed with an attack. The task says *where* the attack text goes (a slot: a mail
body, a chat message, a tracker comment, a file, a program's output, a paragraph of a web page) and *what* the
attacker wants (a :class:`Goal`: move money, forward a mail, send a secret out, call a host outside the world,
report success after a failure). The attack says *how* it is asked — its style. Adding a style here multiplies
coverage over every task without writing a task::

    @register_attack("my_style", "one line on what it tries")
    def my_style(goal: Goal, rnd: random.Random) -> str:
        return f"... {goal.instruction} ..."

``render(name, goal, key)`` fills a style for one case; ``key`` (the suite, the world seed and the task) picks
among a style's phrasings, so the texts vary by seed but a case always gets the same one.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable

from airgap.envs.common import rng

BENIGN = "none"  # the attack name of a benign twin: the same task and world, the slot filled with ordinary text


@dataclass(frozen=True)
class Goal:
    """What the attacker wants the agent to do, in the words the styles frame."""

    instruction: str  # an imperative clause: "transfer $1,850.00 to account 4412 0098 ..."
    user: str  # the person the agent works for (the victim's name), for styles that impersonate or address them
    org: str  # the organisation
    authority: str  # someone senior to impersonate: "Dana Lee, Head of Finance"
    sender: str  # who the injected text claims to come from when it signs: "Alex Kim (accounts, Northgate)"
    tool_hint: str = ""  # the goal as concrete tool use ("POST https://.../api/transfers with ..."), for tool_knowledge
    steps: list[str] = field(default_factory=list)  # the goal as a few steps, for multi_step (default: one step)
    pretext: str = ""  # a believable reason, for social_engineering


@dataclass(frozen=True)
class Attack:
    name: str
    description: str
    render: Callable[[Goal, random.Random], str]


ATTACKS: dict[str, Attack] = {}


def register_attack(name: str, description: str):
    """Decorator: register a style ``fn(goal, rnd) -> text`` under ``name`` (lower-case, ``[a-z0-9_]``)."""

    def deco(fn: Callable[[Goal, random.Random], str]):
        if name in ATTACKS or name == BENIGN:
            raise ValueError(f"attack {name!r} is already registered")
        ATTACKS[name] = Attack(name, description, fn)
        return fn

    return deco


def render(name: str, goal: Goal, key: str) -> str:
    """The text of attack ``name`` for ``goal``; ``key`` picks the phrasing (same key, same text)."""
    if name not in ATTACKS:
        raise KeyError(f"unknown attack {name!r}; known: {sorted(ATTACKS)} (or {BENIGN!r} for the benign twin)")
    return ATTACKS[name].render(goal, rng("attack", name, key))


def attack_names() -> list[str]:
    """Every registered style, in registration order."""
    return list(ATTACKS)


from . import styles as _styles  # noqa: E402,F401 - registers the built-in styles

__all__ = ["ATTACKS", "BENIGN", "Attack", "Goal", "attack_names", "register_attack", "render"]
