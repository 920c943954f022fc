"""The ``inspect_ai`` entry point: what Inspect imports to find Airgap (the sandbox provider, the tasks), offline tokens.

Inspect imports this module when it loads its extensions (at every eval's start, and to resolve ``airgap/...``
names). It first puts tiktoken's ``o200k_base`` in tiktoken's cache from the file the ``inspect`` extra ships
(:mod:`.offline`), so Inspect's token counts work with no network; a failure there is a warning, never a failed import.
Then it registers the ``airgap`` sandbox provider and every suite as the task ``airgap/<suite>``.
"""
from __future__ import annotations

import logging

from . import sandbox, tasks  # noqa: F401 - importing sandbox registers the `airgap` sandbox provider
from .offline import OfflineTokensError, ensure_o200k_base

try:
    ensure_o200k_base()
except (OfflineTokensError, OSError) as _e:
    logging.getLogger(__name__).warning("airgap: Inspect's token counts need tiktoken's o200k_base offline: %s", _e)

tasks.register_all()
