"""The exception types callers of airgap.sandbox need to catch."""
from __future__ import annotations


class SandboxError(RuntimeError):
    """Anything that stops a sandbox from doing its job. The message says what to do next."""


class SandboxTimeout(SandboxError):
    """A request through the gateway took longer than its timeout; the app handling it was cancelled."""
