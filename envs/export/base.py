"""The exporter registry: a format name -> a function ``(log paths, out folder) -> written paths``; one call adds a format."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterable

Exporter = Callable[[list, "str | os.PathLike"], "Path | Iterable[Path]"]

#: format name -> exporter. Filled by :func:`register_exporter` (the built-ins: ``hf``, ``inspect``, ``jsonl``).
EXPORTERS: dict[str, Exporter] = {}


def register_exporter(name: str) -> Callable[[Exporter], Exporter]:
    """Decorator: make ``fn(paths, out)`` the exporter of format ``name`` (``airgap export --format NAME``). It returns
    the path it wrote or a list of them. A name already registered is an error (no silent overwrite)."""
    if not isinstance(name, str) or not name or name != name.strip():
        raise ValueError(f"an export format needs a plain non-empty name, got {name!r}")

    def deco(fn: Exporter) -> Exporter:
        if name in EXPORTERS:
            raise ValueError(f"an exporter named {name!r} is already registered ({EXPORTERS[name].__module__}."
                             f"{EXPORTERS[name].__qualname__}); pick another name")
        EXPORTERS[name] = fn
        return fn

    return deco


def formats() -> tuple[str, ...]:
    """The registered format names, in registration order."""
    return tuple(EXPORTERS)


def export(paths: Iterable[str | os.PathLike], format: str, out: str | os.PathLike) -> list[Path]:  # noqa: A002
    """Write ``paths`` in ``format`` (a registered name, see :func:`formats`) under ``out``; returns what was written."""
    fn = EXPORTERS.get(format)
    if fn is None:
        raise ValueError(f"unknown export format {format!r}; choose one of {', '.join(formats())}")
    written = fn(list(paths), out)
    return [Path(written)] if isinstance(written, (str, os.PathLike)) else [Path(w) for w in written]
