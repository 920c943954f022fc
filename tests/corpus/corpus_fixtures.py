"""Fixture data for the corpus tests: a tiny site, a loopback server with odd encodings, an ASGI app on a socket."""
from __future__ import annotations

import contextlib
import gzip
import http.server
import os
import socket
import threading
import time
from collections.abc import Iterator

import uvicorn

PAGES = {
    "index.html": "<html><head><title>Fixture Home</title></head><body><h1>Welcome</h1>"
                  "<p>Start at the <a href='volcano.html'>volcano page</a> or <a href='teapot.html'>teapots</a>, "
                  "<a href='chunked.html'>chunked</a>, <a href='gz.html'>gzip</a>, <a href='cafe.html'>café</a>, "
                  "<a href='missing.html'>a dead link</a>.</p></body></html>",
    "volcano.html": "<html><head><title>Volcanoes of Iceland</title></head><body><h1>Volcanoes</h1>"
                    "<p>Eyjafjallajokull erupted in 2010 and its ash cloud grounded flights across Europe. "
                    "Magma chambers and basalt lava fields cover the island.</p>"
                    "<p><a href='index.html'>home</a></p></body></html>",
    "teapot.html": "<html><head><title>Porcelain teapots</title></head><body>"
                   "<p>A porcelain teapot keeps oolong tea warm; glazing stops the clay absorbing flavour.</p>"
                   "</body></html>",
}
CHUNKED = (b"<html><head><title>Chunked transfer</title></head><body><p>Zeppelin airships used hydrogen "
           b"lifting gas until the Hindenburg disaster.</p></body></html>")
GZ = (b"<html><head><title>Gzip encoded</title></head><body><p>Marmalade is a fruit preserve made from "
      b"Seville oranges, sugar and water.</p></body></html>")
# Latin-1 bytes, charset only in the HTML meta tag
CAFE = ("<html><head><meta charset='iso-8859-1'><title>Caf\xe9 cr\xe8me</title></head><body>"
        "<p>Le caf\xe9 cr\xe8me se boit \xe0 Paris, with a croissant.</p></body></html>").encode("latin-1")


class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802 - stdlib name
        if self.path == "/chunked.html":
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(CHUNKED), 40):
                part = CHUNKED[i : i + 40]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
            return
        if self.path == "/gz.html":
            data = gzip.compress(GZ, mtime=0)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        if self.path == "/cafe.html":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(CAFE)))
            self.end_headers()
            self.wfile.write(CAFE)
            return
        super().do_GET()


def write_site(root: str) -> None:
    os.makedirs(root, exist_ok=True)
    for name, html in PAGES.items():
        with open(os.path.join(root, name), "w", encoding="utf-8") as f:
            f.write(html)


REAL = "https://fixture.example/"


@contextlib.contextmanager
def serve_in_thread(app) -> Iterator[str]:
    """Run an ASGI app with uvicorn on 127.0.0.1 (an ephemeral port) in a thread; yields its base URL."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(400):
        if server.started:
            break
        time.sleep(0.025)
    else:
        raise RuntimeError("uvicorn did not start within 10 s")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
