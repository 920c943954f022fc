"""openai:URL#MODEL — any OpenAI-compatible /chat/completions endpoint."""
from __future__ import annotations

import json
import os
import time
import urllib.request
from typing import Any

from airgap.envs.tools import parse_tool_call_text

from .chat import ChatAgent


class OpenAIAgent(ChatAgent):
    """An OpenAI-compatible chat endpoint, called with the stdlib (no SDK needed)."""

    def __init__(self, base_url: str, model: str, *, temperature: float = 0.0, max_tokens: int = 512, timeout: float = 120.0):
        super().__init__()
        self.url = base_url.rstrip("/") + ("" if base_url.rstrip("/").endswith("/chat/completions") else "/chat/completions")
        self.model, self.temperature, self.max_tokens, self.timeout = model, temperature, max_tokens, timeout

    def act(self, obs: str, info: dict) -> Any:
        self._observe(obs)
        body = {"model": self.model, "messages": self.messages, "temperature": self.temperature, "max_tokens": self.max_tokens}
        if self.tools:
            body.update(tools=self.tools, tool_choice="auto")
        headers = {"content-type": "application/json"}
        if os.environ.get("OPENAI_API_KEY"):
            headers["authorization"] = f"Bearer {os.environ['OPENAI_API_KEY']}"
        req = urllib.request.Request(self.url, data=json.dumps(body).encode(), headers=headers, method="POST")
        t0 = time.monotonic()
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                reply = json.loads(resp.read())
        except OSError as e:
            raise RuntimeError(f"openai agent: {self.url} did not answer ({e}); is the server running?") from e
        msg = reply["choices"][0]["message"]
        self.last_call = {"input": json.loads(json.dumps(self.messages)), "output": msg, "usage": reply.get("usage"),
                          "latency_s": time.monotonic() - t0, "model": self.model}
        content = msg.get("content") or ""
        calls = msg.get("tool_calls") or []
        if calls:  # one call per step: the env takes one; later ones are dropped from the history too
            fn = calls[0]["function"]
            return self._remember(content, {"tool": fn["name"], "args": fn.get("arguments", "{}")}, calls[0].get("id"))
        return self._remember(content, parse_tool_call_text(content))

