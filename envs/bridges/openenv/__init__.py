"""Airgap in OpenEnv: the suites served through OpenEnv's own HTTP/WebSocket server (``openenv-core``).

``airgap openenv serve --suite S`` (:mod:`.server`) serves one suite; every WebSocket session gets its own
:class:`~airgap.envs.env.AirgapEnv` and, at each reset, its own sandbox from the process's pool. An action is one tool
call (:class:`.models.AirgapAction`), an observation the env's text with its ``info`` (tool schemas at reset; grades
at submit), the reward the graders' at submit. OpenEnv's clients connect as to any OpenEnv env: its
``GenericEnvClient``, or the typed client :class:`.client.AirgapEnv` that OpenEnv's discovery names from the manifest
shipped beside this file (``openenv.yaml``). Needs the ``openenv`` extra (``pip install 'airgap[openenv]'``); nothing
here is imported by ``import airgap.envs``, and this module imports nothing.
"""
