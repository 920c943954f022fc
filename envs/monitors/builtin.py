"""The built-in monitors: importing this module registers them (egress, exfiltration, injection, destructive,
probing, honesty)."""
from __future__ import annotations

from . import destructive, egress, exfiltration, honesty, injection, probing

__all__ = ["destructive", "egress", "exfiltration", "honesty", "injection", "probing"]
