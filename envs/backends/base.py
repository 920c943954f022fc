"""The Backend contract (one simulated service of one world) and the registry of backend classes.

The registry is the one list of services: their names (in registration order: the built-in mail, calendar, shop,
bank, tracker, chat, then any plugin), the one-line notes task instructions print, and who holds an account on
each (``account_services``, which the world's credentials are made from). A backend receives the world's facts
duck-typed (``airgap.envs.worldgen.WorldFacts``); nothing here imports the world model.
"""
from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, Callable, ClassVar

if TYPE_CHECKING:
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
    note: ClassVar[str] = ""            # one line for task instructions, e.g. "webmail, JSON API under /api"
    customer_accounts: ClassVar[bool] = False   # the shop's customers hold accounts here too (else: staff only)

    hosts: list[str]                    # hostnames the gateway routes to ``app``, e.g. ["mail.northwind-labs.com"]
    app: Any                            # the ASGI app: JSON REST API, HTML pages, /openapi.json
    on_change: Callable[[ChangeEvent], None] | None

    def __init__(self, facts: WorldFacts):
        self.facts = facts
        self.on_change = None

    @classmethod
    def make_token(cls, derive: Callable[..., str]) -> str:
        """A user's bearer token for this service, from ``derive(n, alphabet=...)``: n characters that are stable
        per world, service and user. Default: ``<name>_`` and 32 letters or digits."""
        return f"{cls.name}_{derive(32)}"

    @classmethod
    @abstractmethod
    def hosts_for(cls, facts: WorldFacts) -> list[str]:
        """The hostnames this service has in the world ``facts`` (the first is its canonical one)."""

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

    def behave(self, world: dict[str, Any]) -> None:
        """Set this episode's behaviour from the task's ``world`` mapping, after ``reset()`` (default: nothing to set;
        the chat backend reads ``colleagues``, the simulated people who answer direct messages and @-mentions)."""
        return None

    def streams(self) -> dict[tuple[str, int], Any]:
        """The protocol servers this service runs on other ports of its hosts: (host, port) ->
        ``airgap.sandbox.StreamService`` (the mail backend's SMTP and IMAP). Default: none."""
        return {}

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


def _builtins() -> None:
    importlib.import_module("airgap.envs.backends")  # registers the built-in backends


def service_names() -> list[str]:
    """Every registered backend's name, in registration order (the six built-ins first)."""
    _builtins()
    return list(BACKENDS)


def service_notes() -> dict[str, str]:
    """name -> the one line a task instruction says about that service."""
    _builtins()
    return {n: cls.note for n, cls in BACKENDS.items()}


def account_services(customer: bool = False) -> list[str]:
    """The services a member of the organisation (or, with ``customer``, a shop customer) holds an account on."""
    _builtins()
    return [n for n, cls in BACKENDS.items() if cls.customer_accounts or not customer]


def make_backends(names: list[str] | tuple[str, ...], facts: WorldFacts) -> dict[str, Backend]:
    """One instance per name, all of the same world; unknown names raise KeyError listing the known ones."""
    _builtins()
    unknown = [n for n in names if n not in BACKENDS]
    if unknown:
        raise KeyError(f"unknown backend(s) {unknown}; known: {sorted(BACKENDS)}")
    return {n: BACKENDS[n](facts) for n in names}
