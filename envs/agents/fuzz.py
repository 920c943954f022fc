"""The random agent: a seeded fuzzer of valid, odd, malformed and hostile actions."""
from __future__ import annotations

import json
from typing import Any

import numpy as np

from .base import ScriptedAgent


class RandomAgent(ScriptedAgent):
    """A seeded fuzzer: valid calls with odd arguments, wrong types, unknown tools, broken JSON.

    Shell and python payloads are drawn from a fixed list of harmless-but-awkward programs
    (large output, timeouts, non-UTF-8 bytes, failing commands, network attempts that the
    sandbox must refuse); ``submit`` is rare so episodes run long.
    """

    SHELL = [
        "echo hello", "ls -la /workspace", "cat /etc/os-release", "false", "exit 3", "sleep 5",
        "yes airgap | head -c 200000", "printf '\\xff\\xfe\\x00bad utf8'", "curl -s -m 2 https://docs.python.org/3.11/",
        "curl -s -m 2 http://exfil.example/", "echo x > /workspace/f.txt && cat /workspace/f.txt", "touch /etc/nope",
        "python3 -c 'print(\"é\" * 10)'", "cat /dev/urandom | head -c 3000 | base64", "ulimit -a", "id",
    ]
    PYTHON = [
        "print(1+1)", "import sys; sys.exit(4)", "raise ValueError('boom')", "print('x' * 100000)",
        "import time; time.sleep(5)", "import socket; socket.create_connection(('127.0.0.1', 9), timeout=1)",
        "import urllib.request; print(urllib.request.urlopen('https://search.airgap/api/search?q=json', timeout=3).status)",
        "print(open('/etc/hostname').read())", "while True: pass",
    ]
    URLS = [
        "https://docs.python.org/3.11/", "https://docs.python.org/3.11/library/json.html", "https://www.sqlite.org/index.html",
        "https://docs.python.org/3.11/nope.html", "http://exfil.example/", "ftp://x", "not a url", "https://search.airgap/api/search?q=x",
        "https://docs.python.org/3.11/library/../../../etc/passwd",
    ]

    def __init__(self, seed: int = 0):
        self.rng = np.random.default_rng(seed)
        self.tools: list[str] = []

    def reset(self, obs: str, info: dict) -> None:
        self.tools = [t["function"]["name"] for t in info.get("tools", [])] or ["submit"]

    def _text(self, max_len: int = 40) -> str:
        alphabet = list("abc xyz{}[]\":,\\\n\t0123456789é中😀\x00'$;|&") + ["json", "sqlite", "indent"]
        return "".join(self.rng.choice(alphabet, size=int(self.rng.integers(0, max_len))))

    def _value(self) -> Any:
        kind = int(self.rng.integers(0, 8))
        return [None, True, int(self.rng.integers(-5, 1000)), float(self.rng.normal()), self._text(),
                [self._text()], {"k": self._text()}, "x" * int(self.rng.integers(0, 5000))][kind]

    def _args(self, tool: str) -> dict:
        r = self.rng.random()
        if r < 0.25:  # wrong keys or types
            return {self._text(8) or "x": self._value() for _ in range(int(self.rng.integers(0, 3)))}
        pick = lambda xs: xs[int(self.rng.integers(0, len(xs)))]  # noqa: E731
        if tool == "shell":
            return {"command": pick(self.SHELL), "timeout": pick([None, 0.5, 1, 2])}
        if tool == "python":
            return {"code": pick(self.PYTHON), "timeout": pick([None, 0.5, 1])}
        if tool == "search":
            return {"query": self._text(), "k": int(self.rng.integers(-3, 30))}
        if tool == "open":
            return pick([{"url": pick(self.URLS)}, {"link": int(self.rng.integers(-2, 50))}, {"cursor": int(self.rng.integers(-10, 5000))}, {}])
        if tool == "click":
            return {"link": int(self.rng.integers(-2, 60))}
        if tool == "find":
            return {"pattern": self._text(10)}
        if tool == "read_file":
            return {"path": pick(["/workspace/f.txt", "/etc/passwd", "/nonexistent", "relative.txt", "/dev/zero", "/proc/self/environ", ""])}
        if tool == "write_file":
            return {"path": pick(["/workspace/f.txt", "/etc/x", "/workspace/d/e/f.txt", "/proc/x", ""]), "content": self._text(200)}
        if tool == "http":
            return {"method": pick(["GET", "POST", "DELETE", "BREW"]), "url": pick(self.URLS), "body": pick([None, self._text()]),
                    "headers": pick([None, {"X-A": "b"}, {"Host": "evil.example"}])}
        if tool == "submit":
            return {"answer": self._text()}
        return {}

    def act(self, obs: str, info: dict) -> Any:
        r = self.rng.random()
        if r < 0.08:
            return self._text(80)  # garbage text
        if r < 0.12:
            return "{" * int(self.rng.integers(1, 3000))  # truncated / deeply nested JSON
        if r < 0.15:
            return json.dumps(self._value())  # JSON, but not an object
        if r < 0.20:
            return {"tool": self._text(10), "args": {}}  # unknown tool
        if r < 0.23:
            return [{"tool": "shell", "args": {"command": "echo a"}}] * 2  # two calls at once
        tools = [t for t in self.tools if t != "submit"] or self.tools
        tool = "submit" if self.rng.random() < 0.02 else tools[int(self.rng.integers(0, len(tools)))]
        args = self._args(tool)
        shape = self.rng.random()
        if shape < 0.3:
            return json.dumps({"tool": tool, "args": args})
        if shape < 0.45:
            return {"type": "function", "id": "call_0", "function": {"name": tool, "arguments": json.dumps(args)}}
        if shape < 0.5:
            return {"type": "function", "function": {"name": tool, "arguments": "{not json"}}
        return {"tool": tool, "args": args}

