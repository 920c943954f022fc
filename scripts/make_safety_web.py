"""Regenerates the safety web shipped in ``airgap.envs.attacks.data``: ``safety-web.warc.gz`` and ``safety-web.json``.

The sites are data in ``envs/attacks/safety_sites.py`` (the world's page model); ``airgap.envs.attacks.webgen`` renders
them with the world's page template, crawls them on loopback with ``wget --warc-file`` and checks the WARC.

    .venv/bin/python scripts/make_safety_web.py              # rewrites both files
    .venv/bin/python -m pytest -q tests/attacks/test_safety_web.py
"""
from __future__ import annotations

import sys

from airgap.envs.attacks.webgen import main

if __name__ == "__main__":
    sys.exit(main())
