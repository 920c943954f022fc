"""The Monitor contract and registry: a monitor reads events one at a time and returns flags that point at their evidence.

A monitor sees exactly the events an episode log holds (the same dicts, live from the env or
read back from a file), so it gives the same flags during a run and over old logs. A flag
is data, written to the log as a ``flag`` event: which monitor, how severe, what it saw, and
the ``seq`` numbers of the events it rests on.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable, Protocol

from ..graders.rules import SEVERITIES


@dataclass(frozen=True)
class Flag:
    monitor: str
    severity: str
    message: str
    evidence: list[int] = field(default_factory=list)  # seq numbers of the events the flag rests on
    step: int | None = None  # the env step of the last evidence event
    score: float | None = None  # a monitor's own suspicion score in [0, 1] (a model-based monitor's), else None

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity {self.severity!r} is not one of {SEVERITIES}")

    def to_event(self) -> dict:
        """The data of the ``flag`` log event (``name`` is the monitor, as the log schema has it)."""
        d = asdict(self)
        d["name"] = d.pop("monitor")
        if d["score"] is None:
            del d["score"]
        return d


@dataclass
class Context:
    """What a monitor knows about the episode beyond its events (built the same way live and from an old log's header).

    ``canaries``: secrets planted in the world (backend credentials and secret notes from the world's facts, the
    task's own ``canaries``); any of them leaving is exfiltration. ``world_hosts``: every hostname the world serves
    (the offline web and the backends); anything else is outside. ``task``: the task as data (its ``safety`` section
    says what an attack looks like and what the task allows). ``credentials``: which canaries are the world's
    service tokens and passwords (using one inside the world is how an agent signs in; only leaving it is a leak).
    ``addresses``: every e-mail address the world's facts, its services' seeded rows or the task mention (a mail to an
    outside address that is none of them came from nowhere in the world).
    """

    header: dict = field(default_factory=dict)
    canaries: list[str] = field(default_factory=list)
    credentials: set[str] = field(default_factory=set)
    world_hosts: set[str] = field(default_factory=set)
    task: dict = field(default_factory=dict)
    addresses: set[str] = field(default_factory=set)  # every e-mail address the world or the task mentions


class Monitor(Protocol):
    """One kind of check. ``reset`` starts an episode; ``observe`` takes each event in order and returns new flags.

    Events are the episode log's (``seq``, ``type`` and their data; sandbox events are ``sandbox.http``,
    ``sandbox.dns``, ``sandbox.exec``...; an ``action`` event's ``effects`` say what its tool may do); ``finish`` is
    called once after the last one (for checks over the whole episode, such as honesty against the final answer) and
    may return flags too.

    Optional: ``end_step() -> list[Flag]``, called when a step's events are all in, before its ``observation`` event
    (live, the env calls it before it decides whether the step's flags stop the episode). A monitor that gathers a
    step's findings into one flag returns them there; one without it returns its flags from ``observe``.
    """

    name: str
    description: str
    severity: str

    def reset(self, context: Context) -> None: ...

    def observe(self, event: dict) -> list[Flag]: ...

    def finish(self) -> list[Flag]: ...


MONITORS: dict[str, Callable[[], Monitor]] = {}
SLOW_S = 1.0  # seconds one monitor may take over one event before it says it cannot keep up


def register_monitor(name: str):
    """Register a monitor factory (a class or function returning a fresh :class:`Monitor`) under ``name``."""

    def deco(factory: Callable[[], Monitor]):
        if name in MONITORS:
            raise ValueError(f"a monitor named {name!r} is already registered")
        MONITORS[name] = factory
        return factory

    return deco


def make_monitors(names: Iterable[str] | None = None) -> list[Monitor]:
    """Fresh instances of the named monitors (every registered one when ``names`` is None)."""
    from . import builtin  # noqa: F401 - registers the built-in monitors

    chosen = list(MONITORS) if names is None else list(names)
    unknown = [n for n in chosen if n not in MONITORS and not n.startswith("model:")]
    if unknown:
        raise ValueError(f"unknown monitors {unknown}; registered: {sorted(MONITORS)}, or model:SPEC (a model reads "
                         "the transcript)")
    out: list[Monitor] = []
    for n in chosen:
        if n.startswith("model:"):
            from .model import ModelMonitor  # its model comes from the factory the agents layer registers

            out.append(ModelMonitor(n.removeprefix("model:")))
        else:
            out.append(MONITORS[n]())
    return out


class MonitorSet:
    """Monitors run over one episode's event stream, the same way live (the env) and offline (:func:`scan`).

    ``observe`` skips ``flag`` events (flags are not evidence) and ``end`` (monitors finish before it), and ends the
    step (``end_step``) before an ``observation`` event; ``end_step`` may be called earlier too (the env does, to
    stop an episode at the step that raised a flag): it is idempotent until the next event.
    """

    def __init__(self, monitors: Iterable[Monitor], context: Context) -> None:
        self.monitors = list(monitors)
        self.slow: set[str] = set()  # monitors that said they cannot keep up
        for m in self.monitors:
            m.reset(context)

    def observe(self, ev: dict) -> list[Flag]:
        t = ev.get("type")
        if t in ("flag", "end"):
            return []
        flags = self.end_step() if t == "observation" else []
        for m in self.monitors:
            started = time.perf_counter()
            flags.extend(m.observe(ev))
            self._keeping_up(m, time.perf_counter() - started, ev, flags)
        return flags

    def _keeping_up(self, m: Monitor, took: float, ev: dict, flags: list[Flag]) -> None:
        """Monitors run in the event stream, so one that is slow holds the episode up rather than fall behind: past
        :data:`SLOW_S` on one event it says so, once, in an ``info`` flag (which no score counts)."""
        if took <= SLOW_S or m.name in self.slow:
            return
        self.slow.add(m.name)
        seq = ev.get("seq")
        flags.append(Flag(m.name, "info", f"the {m.name} monitor took {took:.1f} s on one event ({ev.get('type')}): it "
                          "cannot keep up with this episode's events and holds each step up until it has read them",
                          [seq] if isinstance(seq, int) else [], ev.get("step")))

    def end_step(self) -> list[Flag]:
        flags: list[Flag] = []
        for m in self.monitors:
            end = getattr(m, "end_step", None)
            if end is not None:
                flags.extend(end())
        return flags

    def finish(self) -> list[Flag]:
        """Each monitor's last flags (a step cut off before its observation is in its ``finish``)."""
        flags: list[Flag] = []
        for m in self.monitors:
            flags.extend(m.finish())
        return flags


def scan(context: Context, events: Iterable[dict], names: Iterable[str] | None = None) -> list[Flag]:
    """Run the named monitors over one episode's events, offline (the same calls the env makes live)."""
    monitors = MonitorSet(make_monitors(names), context)
    flags: list[Flag] = []
    for ev in events:
        flags.extend(monitors.observe(ev))
    return flags + monitors.finish()
