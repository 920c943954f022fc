"""Helpers shared by the sandbox tests (a module, not a conftest, so tests can import it by name)."""
from __future__ import annotations


async def echo_app(scope, receive, send):
    """A tiny ASGI app: answers with what it was asked (method, scheme, host, path, body)."""
    assert scope["type"] == "http"
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    host = dict(scope["headers"]).get(b"host", b"").decode()
    text = f"{scope['method']} {scope['scheme']}://{host}{scope['path']} body={body.decode()}"
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": text.encode()})
