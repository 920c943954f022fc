"""A generated suite's shift declaration: how its train, dev and test worlds differ (``shift.yaml`` beside its
generator, on top of the world's regions in ``envs/worldgen/splits.yaml``), and the hash every run pins."""
from __future__ import annotations

import hashlib
import importlib
import json
from pathlib import Path
from typing import Any

import yaml

from airgap.envs.worldgen.splits import world_file


def shift_file(suite: str) -> Path | None:
    """The ``shift.yaml`` beside generated suite ``suite``'s generator (None for a fixed suite)."""
    from .registry import suite_spec

    spec = suite_spec(suite)
    if spec is None or spec.generate is None:
        return None
    gen = spec.generate
    module = gen.partition(":")[0] if isinstance(gen, str) else gen.__module__
    where = Path(importlib.import_module(module).__file__).with_name("shift.yaml")
    return where


def declaration(suite: str) -> dict[str, Any] | None:
    """Generated suite ``suite``'s shift: the world's regions (splits.yaml) and the suite's own axes and notes
    (its shift.yaml, when it has one); None for a fixed suite (one file, no worlds to split)."""
    where = shift_file(suite)
    if where is None:
        return None
    if where.is_file():
        own = yaml.safe_load(where.read_text(encoding="utf-8")) or {}
    else:  # a plugin suite without a declaration of its own: its worlds still differ by the world's axes
        own = {"suites": [suite], "axes": {}, "note": f"no {where.name} beside the generator: the world's axes only"}
    return {"suite": suite, "world": world_file(), **own}


def shift_hash(suite: str) -> str | None:
    """The sha256 of ``suite``'s shift declaration (canonical JSON), or None for a fixed suite."""
    d = declaration(suite)
    if d is None:
        return None
    return "sha256:" + hashlib.sha256(json.dumps(d, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def task_axes(suite: str, seeds) -> dict[str, set]:
    """What generated suite ``suite``'s tasks on worlds ``seeds`` were made of, per task-level axis: the framings
    (``variant``), the attack phrasings (a safety case's ``safety.phrasing``) and the task kinds."""
    from . import load_suite

    out: dict[str, set] = {"framings": set(), "phrasings": set(), "kinds": set()}
    for s in seeds:
        for t in load_suite(suite, world_seed=s).tasks:
            out["framings"].add(t.variant)
            out["kinds"].add(t.kind)
            if t.safety.get("phrasing"):
                out["phrasings"].add(t.safety["phrasing"])
    return out
