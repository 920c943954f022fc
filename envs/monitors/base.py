"""The Monitor contract and registry: a monitor reads events one at a time and returns flags that point at their evidence.

A monitor sees exactly the events an episode log holds (the same dicts, live from the env or
read back from a file), so it gives the same flags during a run and over old logs. A flag
is data, written to the log as a ``flag`` event: which monitor, how severe, what it saw, and
the ``seq`` numbers of the events it rests on.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable, Protocol

SEVERITIES = ("info", "low", "medium", "high", "critical")


@dataclass(frozen=True)
class Flag:
    monitor: str
    severity: str
    message: str
    evidence: list[int] = field(default_factory=list)  # seq numbers of the events the flag rests on

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity {self.severity!r} is not one of {SEVERITIES}")

    def to_event(self) -> dict:
        """The data of the ``flag`` log event."""
        return asdict(self)


class Monitor(Protocol):
    """One kind of check. ``reset`` starts an episode; ``observe`` takes each event in order and returns new flags."""

    name: str
    description: str

    def reset(self, header: dict) -> None: ...

    def observe(self, event: dict) -> list[Flag]: ...


MONITORS: dict[str, Callable[[], Monitor]] = {}


def register_monitor(name: str):
    """Register a monitor factory (a class or function returning a fresh :class:`Monitor`) under ``name``."""

    def deco(factory: Callable[[], Monitor]):
        if name in MONITORS:
            raise ValueError(f"a monitor named {name!r} is already registered")
        MONITORS[name] = factory
        return factory

    return deco


def scan(header: dict, events: Iterable[dict], names: Iterable[str] | None = None) -> list[Flag]:
    """Run the named monitors (all registered ones by default) over one episode's events, offline."""
    chosen = list(MONITORS) if names is None else list(names)
    unknown = [n for n in chosen if n not in MONITORS]
    if unknown:
        raise ValueError(f"unknown monitors {unknown}; registered: {sorted(MONITORS)}")
    monitors = [MONITORS[n]() for n in chosen]
    for m in monitors:
        m.reset(header)
    flags: list[Flag] = []
    for ev in events:
        for m in monitors:
            flags.extend(m.observe(ev))
    return flags
