"""airgap.sandbox: isolated, network-less containers, the logging gateway, the in-container init, pools.

```python
from airgap.sandbox import Sandbox, SandboxConfig
with Sandbox(SandboxConfig(memory="256m"), routes={"example.org": asgi_app}, sink=print) as sb:
    sb.exec("curl -s https://example.org/").stdout
```
See docs/CONTRACTS.md for the whole surface, and DESIGN.md (Isolation) for why it looks like this.
"""
from .errors import SandboxError
from .events import EventSink, JsonlSink
from .gateway import HttpResponse
from .pool import SandboxPool
from .sandbox import ExecResult, Sandbox, SandboxConfig

__all__ = ["Sandbox", "SandboxConfig", "SandboxPool", "ExecResult", "HttpResponse", "JsonlSink", "SandboxError",
           "EventSink"]
