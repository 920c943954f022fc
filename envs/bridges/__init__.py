"""Bridges: Airgap inside other frameworks (Inspect AI, ControlArena, OpenEnv, TRL).

``bridges.inspect``: an Inspect AI sandbox provider and the suites as Inspect tasks; ``bridges.control_arena``: the
``airgap`` ControlArena setting and Airgap's monitors as its monitors; ``bridges.openenv``: the suites through OpenEnv's
server (``airgap openenv serve``); ``bridges.trl``: a suite as TRL's GRPO environment, dataset and reward.

Each bridge is an optional extra (``pip install airgap[inspect]``, ``airgap[control]``, ``airgap[openenv]``,
``airgap[trl]``) and is imported only by that framework's entry point (or its own command), never by ``import airgap.envs``.
"""
