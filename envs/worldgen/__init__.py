"""A generated organisation per world seed: the facts every backend fixture and generated site of one world share."""
from __future__ import annotations

from airgap.envs.worldgen.facts import SERVICES, WorldFacts, generate

__all__ = ["SERVICES", "WorldFacts", "generate"]
