"""The ``inspect_ai`` entry point: what Inspect imports to find Airgap (the sandbox provider, the tasks), offline tokens.

Inspect imports this module when it loads its extensions (at every eval's start, and to resolve ``airgap/...``
names). It first puts tiktoken's ``o200k_base`` in tiktoken's cache from the file the ``inspect`` extra ships
(:mod:`.offline`), so Inspect's token counts work with no network; a failure there is a warning, never a failed import.
"""
from __future__ import annotations

import logging

from .offline import OfflineTokensError, ensure_o200k_base

try:
    ensure_o200k_base()
except (OfflineTokensError, OSError) as _e:
    logging.getLogger(__name__).warning("airgap: Inspect's token counts need tiktoken's o200k_base offline: %s", _e)

from . import sandbox  # noqa: E402,F401 - registers the `airgap` sandbox provider
