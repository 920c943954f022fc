"""Bridges: Airgap inside other frameworks (``bridges.inspect``: an Inspect AI sandbox provider and the suites as Inspect tasks).

Each bridge is an optional extra (``pip install airgap[inspect]``) and is imported only by that framework's entry point,
never by ``import airgap.envs``.
"""
