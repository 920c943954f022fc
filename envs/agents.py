"""Agents: anything with ``reset(obs, info)`` and ``act(obs, info) -> action``.

``make_agent(spec)`` builds one from a string, so command lines and episode-log headers
can name an agent:

==========================  ==============================================================
``oracle``                  replays the task's oracle calls (proves a task solvable)
``noop``                    submits ``""`` at once (must score 0 everywhere)
``random[:SEED]``           fuzzing: random, malformed and hostile actions, seeded
``hf:PATH``                 a transformers causal LM + tokenizer from a LOCAL folder
``openai:URL#MODEL``        any OpenAI-compatible ``/chat/completions`` endpoint (e.g. vLLM
                            or llama.cpp on loopback); ``URL`` is the base, e.g.
                            ``http://127.0.0.1:8000/v1``; key from ``$OPENAI_API_KEY``
==========================  ==============================================================

The loop that drives an agent is the usual gymnasium one::

    agent = make_agent("oracle")
    obs, info = env.reset(seed=0)
    agent.reset(obs, info)
    while True:
        obs, reward, terminated, truncated, info = env.step(agent.act(obs, info))
        if terminated or truncated:
            break

Model agents keep the chat (OpenAI message format) and expose the last model call in
``agent.last_call`` (input messages, output message, token usage, latency) so a runner
can write it to the episode log as a ``model`` event.
"""
from __future__ import annotations

import json
import os
import re
import time
import urllib.request
from typing import Any, Protocol

import numpy as np

from .tasks import load_suite

SYSTEM_PROMPT = (
    "You are an agent in an offline sandboxed world. Solve the task with the tools you are given, "
    "one tool call per turn. When you know the answer, call submit with it."
)


class Agent(Protocol):
    def reset(self, obs: str, info: dict) -> None: ...

    def act(self, obs: str, info: dict) -> Any: ...


# ---------------------------------------------------------------------------- scripted


class OracleAgent:
    """Plays the task's ``oracle`` list, then keeps submitting the last answer if asked for more.

    The task is looked up from ``info["task_id"]`` in ``suite`` (a bundled name or a path;
    default ``info["suite"]``), so it works inside vector envs too.
    """

    def __init__(self, suite: str | None = None):
        self.suite = suite
        self._calls: list[dict] = []
        self._i = 0

    def reset(self, obs: str, info: dict) -> None:
        task = load_suite(self.suite or info["suite"]).task(info["task_id"])
        self._calls = [dict(c) for c in task.oracle]
        self._i = 0

    def act(self, obs: str, info: dict) -> dict:
        call = self._calls[min(self._i, len(self._calls) - 1)]
        self._i += 1
        return {"tool": call["tool"], "args": dict(call.get("args", {}))}


class NoopAgent:
    """Does nothing: submits an empty answer. Any task it passes has a broken grader."""

    def reset(self, obs: str, info: dict) -> None:
        pass

    def act(self, obs: str, info: dict) -> dict:
        return {"tool": "submit", "args": {"answer": ""}}


class RandomAgent:
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


# ---------------------------------------------------------------------------- model agents


_TOOL_CALL_TAG = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.S)


def parse_tool_call_text(text: str) -> dict | None:
    """The first tool call in generated text: ``<tool_call>{json}</tool_call>`` or a bare JSON object.

    Returns ``{"tool": name, "args": {...}}`` or None when the text holds no readable call.
    """
    candidates = [m.group(1) for m in _TOOL_CALL_TAG.finditer(text)]
    decoder = json.JSONDecoder()
    for blob in candidates + [text]:
        for i, ch in enumerate(blob):
            if ch != "{":
                continue
            try:
                obj, _ = decoder.raw_decode(blob, i)
            except ValueError:
                continue
            if isinstance(obj, dict) and isinstance(obj.get("function"), dict):
                obj = obj["function"]
            if isinstance(obj, dict) and isinstance(obj.get("name", obj.get("tool")), str):
                args = obj.get("arguments", obj.get("args", obj.get("parameters", {})))
                if isinstance(args, str):
                    try:
                        args = json.loads(args)
                    except ValueError:
                        pass
                return {"tool": obj.get("name", obj.get("tool")), "args": args}
    return None


class _ChatAgent:
    """Shared chat bookkeeping for model agents: history in OpenAI format, one tool call per turn."""

    def __init__(self) -> None:
        self.messages: list[dict] = []
        self.tools: list[dict] = []
        self._pending: dict | None = None  # the tool call whose result the next obs is
        self.last_call: dict | None = None

    def reset(self, obs: str, info: dict) -> None:
        self.tools = json.loads(json.dumps(info.get("tools", [])))
        self.messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": obs}]
        self._pending = None

    def _observe(self, obs: str) -> None:
        if self._pending is not None:
            self.messages.append({"role": "tool", "tool_call_id": self._pending["id"], "name": self._pending["function"]["name"], "content": obs})
        elif len(self.messages) > 2 or self.messages[-1]["role"] != "user":
            self.messages.append({"role": "user", "content": obs})
        self._pending = None

    def _remember(self, content: str, call: dict | None, call_id: str | None = None) -> Any:
        """Record the assistant turn; return the action for the env."""
        n = sum(1 for m in self.messages if m["role"] == "assistant")
        if call is None:
            self.messages.append({"role": "assistant", "content": content})
            return content  # the env answers with an error that says how to call a tool
        item = {"id": call_id or f"call_{n}", "type": "function",
                "function": {"name": call["tool"], "arguments": json.dumps(call["args"], ensure_ascii=False) if not isinstance(call["args"], str) else call["args"]}}
        self.messages.append({"role": "assistant", "content": content or None, "tool_calls": [item]})
        self._pending = item
        return item


class HFAgent(_ChatAgent):
    """A local transformers causal LM. Greedy decoding by default, so runs are reproducible.

    The prompt is the tokenizer's chat template with ``tools=`` when it has one (Qwen,
    Llama 3.1+, Mistral and Hermes-style templates render tool schemas themselves);
    otherwise a plain transcript with the tool schemas as JSON. The reply is parsed by
    :func:`parse_tool_call_text`.
    """

    def __init__(self, path: str, *, max_new_tokens: int = 256, device: str | None = None, do_sample: bool = False, seed: int = 0):
        super().__init__()
        if not os.path.isdir(path):
            raise FileNotFoundError(f"hf agent: {path} is not a folder; give a local model folder (config.json, weights, tokenizer files)")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.torch = torch
        self.path = path
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        dtype = torch.bfloat16 if self.device.startswith("cuda") else torch.float32
        self.model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True, dtype=dtype).to(self.device).eval()
        self.max_new_tokens, self.do_sample, self.seed = max_new_tokens, do_sample, seed

    def _prompt(self) -> str:
        tok = self.tokenizer
        if getattr(tok, "chat_template", None):
            try:
                return tok.apply_chat_template(self.messages, tools=self.tools or None, add_generation_prompt=True, tokenize=False)
            except Exception:  # noqa: BLE001 - templates that reject tools/roles fall back to the plain transcript
                pass
        lines = [f"system: {SYSTEM_PROMPT}",
                 "tools (call one as <tool_call>{\"name\": ..., \"arguments\": {...}}</tool_call>):",
                 json.dumps(self.tools, ensure_ascii=False)]
        for m in self.messages[1:]:
            if m.get("tool_calls"):
                lines.append(f"assistant: <tool_call>{json.dumps(m['tool_calls'][0]['function'])}</tool_call>")
            else:
                lines.append(f"{m['role']}: {m.get('content') or ''}")
        return "\n".join(lines) + "\nassistant:"

    def act(self, obs: str, info: dict) -> Any:
        self._observe(obs)
        torch = self.torch
        prompt = self._prompt()
        enc = self.tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
        limit = getattr(self.model.config, "max_position_embeddings", None) or 4096
        keep = max(8, limit - self.max_new_tokens)
        input_ids = enc["input_ids"][:, -keep:].to(self.device)  # keep the most recent context
        attention = torch.ones_like(input_ids)
        t0 = time.monotonic()
        torch.manual_seed(self.seed)
        with torch.no_grad():
            out = self.model.generate(
                input_ids=input_ids, attention_mask=attention, max_new_tokens=self.max_new_tokens, do_sample=self.do_sample,
                pad_token_id=self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.tokenizer.eos_token_id,
            )
        new = out[0, input_ids.shape[1]:]
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        self.last_call = {"input": json.loads(json.dumps(self.messages)), "output": {"role": "assistant", "content": text},
                          "usage": {"prompt_tokens": int(input_ids.shape[1]), "completion_tokens": int(new.shape[0]),
                                    "total_tokens": int(input_ids.shape[1] + new.shape[0])},
                          "latency_s": time.monotonic() - t0, "model": self.path}
        return self._remember(text, parse_tool_call_text(text))


class OpenAIAgent(_ChatAgent):
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


# ---------------------------------------------------------------------------- specs


def make_agent(spec: str, *, suite: str | None = None) -> Agent:
    """Build an agent from its spec string (table above). ``suite`` helps ``oracle`` find tasks given by path."""
    kind, _, rest = spec.partition(":")
    if kind == "oracle":
        return OracleAgent(suite=suite)
    if kind == "noop":
        return NoopAgent()
    if kind == "random":
        return RandomAgent(seed=int(rest) if rest else 0)
    if kind == "hf":
        if not rest:
            raise ValueError("hf agent needs a path: hf:/models/my-model")
        return HFAgent(rest)
    if kind == "openai":
        url, _, model = rest.partition("#")
        if not url.startswith(("http://", "https://")) or not model:
            raise ValueError("openai agent spec is openai:URL#MODEL, e.g. openai:http://127.0.0.1:8000/v1#qwen2.5-7b")
        return OpenAIAgent(url, model)
    raise ValueError(f"unknown agent spec {spec!r}; use oracle, noop, random[:SEED], hf:PATH or openai:URL#MODEL")
