"""``app``: the ASGI app that OpenEnv's manifest (``openenv.yaml``, ``app:``) and ``uvicorn`` name, set up from the environment.

``AIRGAP_OPENENV_SUITE`` (default ``webqa``), ``AIRGAP_OPENENV_MAX_SESSIONS`` (default 8), ``AIRGAP_OPENENV_LOG_DIR``
(episode logs; none by default). ``airgap openenv serve`` serves the same app with options.
"""
from __future__ import annotations

import os

from .server import create_airgap_app

app = create_airgap_app(os.environ.get("AIRGAP_OPENENV_SUITE", "webqa"),
                        max_sessions=int(os.environ.get("AIRGAP_OPENENV_MAX_SESSIONS", "8")),
                        log_dir=os.environ.get("AIRGAP_OPENENV_LOG_DIR") or None)
