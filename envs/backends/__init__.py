"""Simulated services of a world (mail, calendar, shop, bank, tracker, chat): the Backend contract, registry, built-ins.

One folder per backend (``mail/``, ``calendar/``, ...): its class (registered on import), ``schema.sql``,
``seed.py``, ``model.py``, ``api.py`` (its ``APIRouter``s) and ``pages/`` (its HTML templates). The shared plumbing
is here: ``base.py`` (the contract and the registry), ``sqlstore.py`` (state in SQLite), ``web.py`` (HTTP). See
docs/backends.md.
"""
from __future__ import annotations

import importlib

from airgap.envs.backends.base import (
    BACKENDS,
    Backend,
    ChangeEvent,
    DiffRow,
    account_services,
    make_backends,
    register_backend,
    service_names,
    service_notes,
)
from airgap.envs.backends.sqlstore import SqliteBackend

#: The built-in backends, registered in this order (the order of service_names(), hence of every world's services).
BUILTIN = ("mail", "calendar", "shop", "bank", "tracker", "chat")
for _name in BUILTIN:
    importlib.import_module(f"airgap.envs.backends.{_name}")

__all__ = ["BACKENDS", "BUILTIN", "Backend", "ChangeEvent", "DiffRow", "SqliteBackend", "account_services", "make_backends",
           "register_backend", "service_names", "service_notes"]
