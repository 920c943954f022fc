"""The ``office-hard`` suite for one world seed: every family module's drafts, finished as the office suite's are
(ids ``office-hard-NNN``, the same preamble, backend-state graders strict where the instruction is)."""
from __future__ import annotations

import importlib

from airgap.envs.suites.office.generator import TOOLS, collect, finish
from airgap.envs.suites.workplace import Office
from airgap.envs.worldgen.facts import SERVICES

MAX_STEPS = 80  # the registered budget (long workflows need 30+ calls); tasks inherit it
# One module per kind of hardness, in the order their tasks are numbered.
FAMILIES = ["workflows", "volume", "errors", "ask", "refuse", "timing", "coding", "unprompted", "close", "mailproto",
            "pullrequests"]


def family_modules() -> list:
    out = []
    for name in FAMILIES:
        try:
            out.append(importlib.import_module(f"{__package__}.{name}"))
        except ModuleNotFoundError as e:
            if e.name != f"{__package__}.{name}":
                raise
    return out


def generate(seed: int = 0) -> dict:
    o = Office(seed)
    drafts = collect(o, [mod.tasks for mod in family_modules()])
    return {
        "suite": "office-hard",
        "version": 1,
        "description": (f"The office suite's hard level on world {seed} ({o.f.org.name}): long workflows across "
                        "services, listings past a page, near-duplicates, errors to recover from, asking a colleague, "
                        "refusing what policy forbids, time zones, and a bug to fix; graded on final state with "
                        "partial credit."),
        "world": {"snapshot": "none", "backends": list(SERVICES), "world_seed": seed, "tools": TOOLS,
                  "sandbox": {"memory": "256m"}},
        "budget": {"max_steps": MAX_STEPS, "tool_timeout": 30, "total_tool_seconds": 600},
        "tasks": [finish(o, d, k + 1, prefix="office-hard", max_steps=MAX_STEPS) for k, d in enumerate(drafts)],
    }
