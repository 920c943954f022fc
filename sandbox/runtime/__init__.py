"""Where containers come from: the :class:`ContainerRuntime` interface, a registry of runtimes, and Docker.

Sandbox, SandboxPool, cleanup and the image builder talk only to a ``ContainerRuntime``; ``docker.py``
holds every Docker-only call. Another engine (a remote host, Kubernetes) is one more class registered
with :func:`register_runtime`.
"""
from .base import PROJECT_LABEL, PROJECT_LABELS, ContainerRuntime, ContainerState, ExecOutput
from .registry import DEFAULT_RUNTIME, available_runtimes, get_runtime, register_runtime

__all__ = ["ContainerRuntime", "ContainerState", "ExecOutput", "PROJECT_LABEL", "PROJECT_LABELS", "DEFAULT_RUNTIME",
           "available_runtimes", "get_runtime", "register_runtime"]
