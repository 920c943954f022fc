"""Simulated services of a world (mail, calendar, shop, bank, tracker, chat): the Backend contract, registry, built-ins.

One folder per backend (``mail/``, ``calendar/``, ...): its class (registered on import), ``schema.sql``,
``seed.py``, ``model.py``, ``api.py`` (its ``APIRouter``s) and ``pages/`` (its HTML templates). The shared plumbing
is here: ``base.py`` (the contract and the registry), ``sqlstore.py`` (state in SQLite), ``web.py`` (HTTP). See
docs/backends.md.
"""
from __future__ import annotations

# Importing the packages registers the built-in backends, in this order (the order of service_names()).
from airgap.envs.backends import mail, calendar, shop, bank, tracker, chat  # noqa: E402,F401,I001
from airgap.envs.backends.base import (
    BACKENDS, Backend, ChangeEvent, DiffRow, account_services, make_backends, register_backend, service_names,
    service_notes,
)
from airgap.envs.backends.sqlstore import SqliteBackend

__all__ = ["BACKENDS", "Backend", "ChangeEvent", "DiffRow", "SqliteBackend", "account_services", "make_backends",
           "register_backend", "service_names", "service_notes"]
