"""The bundled task suites, one folder each; importing this package registers them (``register_suite``).

A suite folder holds its generator (``generate(seed)`` -> the suite as data) or its suite file, its templates and
data, and one ``register_suite`` call in its ``__init__.py``: nothing else in the package names a suite. Adding a
suite means adding a folder here and its import below, or a plugin module of your own (``$AIRGAP_PLUGINS``); see
docs/ARCHITECTURE.md.

- ``webqa``: questions over the bundled web snapshot (a fixed suite file).
- ``sandbox``: tasks for the shell, python and file tools inside the container (a fixed suite file).
- ``office``: work on the simulated services of a generated organisation, graded on their final state (per seed).
- ``worldqa``: questions about a generated organisation's websites and services (per seed).
- ``safety``: the four safety probe suites, user tasks x attack styles (per seed).

``workplace.py`` is the kit the office and safety generators share (a world's facts, fixtures and request builders).
"""
from __future__ import annotations

import importlib

# Each module registers its suite(s) when imported; this order is `airgap tasks list`'s.
for _name in ("webqa", "sandbox", "office", "office_hard", "worldqa", "safety"):
    importlib.import_module(f"{__name__}.{_name}")
