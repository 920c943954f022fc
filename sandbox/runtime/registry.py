"""Container runtimes by name: ``get_runtime()`` is Docker unless another runtime is registered and asked for."""
from __future__ import annotations

import importlib
from typing import Any, Callable, Union

from ..errors import SandboxError
from .base import ContainerRuntime

DEFAULT_RUNTIME = "docker"
Factory = Callable[..., ContainerRuntime]
# Built-ins are named by "module:attribute" so the registry imports nothing until a runtime is asked for.
_RUNTIMES: dict[str, Union[Factory, str]] = {"docker": "airgap.sandbox.runtime.docker:DockerRuntime"}


def register_runtime(name: str, factory: Factory | str) -> None:
    """Make ``get_runtime(name)`` call ``factory`` (a class, or "module:attribute" imported on first use)."""
    _RUNTIMES[name] = factory


def available_runtimes() -> list[str]:
    """Every registered runtime name."""
    return sorted(_RUNTIMES)


def get_runtime(name: str | None = None, **options: Any) -> ContainerRuntime:
    """A new runtime instance (``options`` go to its constructor, e.g. ``base_url``, ``timeout``)."""
    name = name or DEFAULT_RUNTIME
    factory = _RUNTIMES.get(name)
    if factory is None:
        raise SandboxError(f"no container runtime {name!r}; registered: {', '.join(available_runtimes())}")
    if isinstance(factory, str):
        module, _, attr = factory.partition(":")
        factory = _RUNTIMES[name] = getattr(importlib.import_module(module), attr)
    return factory(**options)
