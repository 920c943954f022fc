"""Bridges: Airgap inside other frameworks (``bridges.inspect``: an Inspect AI sandbox provider and the suites as
Inspect tasks; ``bridges.control_arena``: the ``airgap`` ControlArena setting and Airgap's monitors as its monitors).

Each bridge is an optional extra (``pip install airgap[inspect]``, ``airgap[control]``) and is imported only by that
framework's entry point, never by ``import airgap.envs``.
"""
