"""airgap.sandbox: isolated, network-less containers, the logging gateway, the in-container init, pools.

```python
from airgap.sandbox import Sandbox, SandboxConfig
with Sandbox(SandboxConfig(memory="256m"), routes={"example.org": asgi_app}, sink=print) as sb:
    sb.exec("curl -s https://example.org/").stdout
```
See docs/CONTRACTS.md for the whole surface, and DESIGN.md (Isolation) for why it looks like this.
"""
from .config import SandboxConfig
from .errors import SandboxError, SandboxTimeout
from .events import EventSink, JsonlSink
from .gateway import HttpResponse, StreamService, StreamSession
from .pool import SandboxPool, close_shared_pools, shared_pool
from .runtime.docker import engine_reachable
from .sandbox import ExecResult, Sandbox

__all__ = ["Sandbox", "SandboxConfig", "SandboxPool", "ExecResult", "HttpResponse", "JsonlSink", "SandboxError",
           "SandboxTimeout", "EventSink", "StreamService", "StreamSession", "shared_pool", "close_shared_pools",
           "engine_reachable"]
