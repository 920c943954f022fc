"""The Backend contract (one simulated service of one world) and the registry of backend classes."""
from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from typing import Any, Callable, ClassVar

from airgap.envs.worldgen import WorldFacts

ChangeEvent = dict[str, Any]   # {"backend", "method", "path", "status", "changes": [diff rows]}
DiffRow = dict[str, Any]       # {"backend", "table", "id", "op": "insert"|"update"|"delete", "before", "after"}


class Backend(ABC):
    """One simulated service (mail, bank, ...) of one world, served as an ASGI app at realistic hostnames.

    The constructor builds the seeded fixture from ``facts`` once (later instances of the same class and world
    reuse it); ``reset()`` brings the live state back to that fixture in microseconds. ``state()`` and
    ``restore()`` move the whole state as JSON; ``diff(before, after)`` lists changed objects by primary key.
    After every committed state-changing HTTP request, ``on_change`` (when set) is called with
    ``{"backend", "method", "path", "status", "changes": [diff rows]}``, before the response starts.
    """

    name: ClassVar[str]                 # registry key, e.g. "mail"
    title: ClassVar[str] = ""           # one line for `airgap backends list`

    hosts: list[str]                    # hostnames the gateway routes to ``app``, e.g. ["mail.northwind-labs.com"]
    app: Any                            # the ASGI app: JSON REST API, HTML pages, /openapi.json
    on_change: Callable[[ChangeEvent], None] | None

    def __init__(self, facts: WorldFacts):
        self.facts = facts
        self.on_change = None

    @abstractmethod
    def reset(self) -> None:
        """Back to the seeded fixture."""

    @abstractmethod
    def state(self) -> dict[str, Any]:
        """The full state, JSON-serialisable."""

    @abstractmethod
    def restore(self, state: dict[str, Any]) -> None:
        """Replace the live state with ``state`` (as returned by ``state()``); ValueError if it does not fit."""

    @abstractmethod
    def diff(self, before: dict[str, Any], after: dict[str, Any]) -> list[DiffRow]:
        """The objects that differ between two states, by primary key."""

    @abstractmethod
    def fixture_hash(self) -> str:
        """sha256 of the canonical JSON of the seeded fixture's state (what the episode header records)."""

    def token(self, username: str) -> str:
        """The bearer token of ``username`` for this service (from the world's credentials)."""
        return self.facts.token(self.name, username)

    def openapi(self) -> dict[str, Any]:
        return self.app.openapi()

    def emit(self, event: ChangeEvent) -> None:
        if self.on_change is not None:
            self.on_change(event)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} hosts={self.hosts} world={self.facts.seed}>"


BACKENDS: dict[str, type[Backend]] = {}


def register_backend(cls: type[Backend]) -> type[Backend]:
    """Class decorator: make ``cls`` available as ``BACKENDS[cls.name]`` and to ``make_backends``."""
    if not (isinstance(cls, type) and issubclass(cls, Backend)):
        raise TypeError(f"{cls!r} is not a Backend subclass")
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise TypeError(f"{cls.__name__} has no `name`")
    if BACKENDS.get(name, cls) is not cls:
        raise ValueError(f"a backend named {name!r} is already registered ({BACKENDS[name].__qualname__})")
    BACKENDS[name] = cls
    return cls


def make_backends(names: list[str] | tuple[str, ...], facts: WorldFacts) -> dict[str, Backend]:
    """One instance per name, all of the same world; unknown names raise KeyError listing the known ones."""
    importlib.import_module("airgap.envs.backends")  # registers the built-in backends
    unknown = [n for n in names if n not in BACKENDS]
    if unknown:
        raise KeyError(f"unknown backend(s) {unknown}; known: {sorted(BACKENDS)}")
    return {n: BACKENDS[n](facts) for n in names}
