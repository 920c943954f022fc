"""Simulated services of a world (mail, calendar, shop, bank, tracker, chat): the Backend contract, registry, built-ins."""
from __future__ import annotations

# Importing the modules registers the built-in backends.
from airgap.envs.backends import bank, calendar, chat, mail, shop, tracker  # noqa: E402,F401,I001
from airgap.envs.backends.base import BACKENDS, Backend, ChangeEvent, DiffRow, make_backends, register_backend
from airgap.envs.backends.sqlstore import SqliteBackend

__all__ = ["BACKENDS", "Backend", "ChangeEvent", "DiffRow", "SqliteBackend", "make_backends", "register_backend"]
