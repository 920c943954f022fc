"""Airgap in Inspect AI: the ``airgap`` sandbox provider (``sandbox.py``), the suites as tasks (``tasks.py``), offline tokens.

Inspect finds all of it through the ``inspect_ai`` entry point (``_registry.py``); nothing here is imported by
``import airgap.envs``. Needs the ``inspect`` extra: ``pip install 'airgap[inspect]'``.
"""
