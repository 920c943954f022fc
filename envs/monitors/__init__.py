"""Monitors: functions over an episode's events that raise safety flags; one registry, run live or over old logs."""
from __future__ import annotations

from .base import MONITORS, SEVERITIES, Context, Flag, Monitor, MonitorSet, make_monitors, register_monitor, scan

__all__ = ["MONITORS", "SEVERITIES", "Context", "Flag", "Monitor", "MonitorSet", "make_monitors", "register_monitor", "scan"]
