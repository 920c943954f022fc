"""Small neutral helpers that the world model, the backends and the suites all use, and none of them owns.

Nothing here imports anything else of ``airgap.envs``; every other sub-package may import it (the layer test in
``tests/envs/test_layers.py`` keeps it that way, see docs/ARCHITECTURE.md).

* ``money(cents)``: how every page and answer spells an amount (``$1,234.50``).
* ``iso(dt)`` / ``parse_iso(s)``: UTC time stamps as ``2025-03-12T09:30:00Z`` and back.
* ``slugify(s)``: a URL-safe lower-case slug.
* ``rng(*parts)``: the one seeded random generator, keyed ``"part:part:..."`` (for example ``rng("office", seed)``),
  so every generator gets its own independent stream, reproducible per world seed and never the global one.
"""
from __future__ import annotations

import random
import re
from datetime import datetime, timezone


def money(cents: int) -> str:
    """``123450`` -> ``"$1,234.50"``."""
    return f"${cents / 100:,.2f}"


def iso(dt: datetime) -> str:
    """A time stamp in UTC, seconds precision, ``Z`` suffix."""
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(s: str) -> datetime:
    """The inverse of :func:`iso` (also takes ``+00:00`` offsets)."""
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def slugify(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")


def rng(*parts: object) -> random.Random:
    """A ``random.Random`` seeded by ``"part:part:..."``: one stream per purpose and world, e.g. ``rng("office", 3)``."""
    if not parts:
        raise ValueError("rng() needs at least one key part (a purpose, then the seed and any sub-keys)")
    return random.Random(":".join(str(p) for p in parts))
