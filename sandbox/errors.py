"""The one exception type callers of airgap.sandbox need to catch."""
from __future__ import annotations


class SandboxError(RuntimeError):
    """Anything that stops a sandbox from doing its job. The message says what to do next."""
