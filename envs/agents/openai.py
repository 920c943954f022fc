"""openai:URL#MODEL — any OpenAI-compatible /chat/completions endpoint as a :class:`~.model.Model`, through the official ``openai`` client.

:class:`ModelClient` is one endpoint: a chat-completions call with a request timeout and bounded
exponential backoff with jitter on 429, 5xx, timeouts and dropped connections (the client's own
retries are off, so each retry is seen, counted and logged). It reads the reply as raw JSON and
:func:`normalize_reply` smooths the differences between servers (vLLM, llama.cpp's server, the
OpenAI API): tool-call ``arguments`` as a JSON string or as an object, missing call ids or types,
a missing ``usage``. :class:`OpenAIModel` is the provider registered for ``openai:URL#MODEL``: a chat
agent takes it, and so does a sandboxed agent program's in-world model endpoint (:mod:`.program`).
"""
from __future__ import annotations

import json
import os
import random
import time
from typing import Any, Callable
from urllib.parse import urlsplit

from .model import Model, ModelSpec, Reply, endpoint_spec, prices_from, register_model

#: Statuses worth another try: rate limits, request timeouts, conflicts and every server error.
RETRY_STATUSES = frozenset({408, 409, 429})

#: The NAME of the variable holding the API key (default OPENAI_API_KEY), for a runner or a user to set.
KEY_ENV_ENV = "AIRGAP_AGENT_KEY_ENV"


class ModelCallError(RuntimeError):
    """A model call that failed for good (retries spent, or an error no retry can fix); the message says what to do."""


def resolve_key(key_env: str | None = None) -> str:
    """The API key: from ``$key_env`` when named (it must be set), else ``$OPENAI_API_KEY``, else a placeholder
    (local servers such as vLLM and llama.cpp accept any key)."""
    key_env = key_env or os.environ.get(KEY_ENV_ENV) or None
    if key_env:
        key = os.environ.get(key_env)
        if not key:
            raise ValueError(f"the API key variable {key_env} is not set; export {key_env}=... or drop --agent-key-env")
        return key
    return os.environ.get("OPENAI_API_KEY") or "no-key"


def _tool_calls(msg: dict) -> list[dict]:
    """The message's tool calls in the OpenAI shape, whatever shape the server sent."""
    calls = msg.get("tool_calls")
    if isinstance(calls, dict):  # a single call not wrapped in a list
        calls = [calls]
    out = []
    for i, c in enumerate(calls or []):
        if not isinstance(c, dict):
            continue
        fn = c.get("function") if isinstance(c.get("function"), dict) else {k: c[k] for k in ("name", "arguments") if k in c}
        if not fn.get("name"):
            continue
        args = fn.get("arguments")
        if args is None or args == "":
            args = "{}"
        elif not isinstance(args, str):  # llama.cpp and some vLLM parsers send the object itself
            args = json.dumps(args, ensure_ascii=False)
        out.append({"id": c.get("id") or f"call_{i}", "type": c.get("type") or "function",
                    "function": {"name": fn["name"], "arguments": args}})
    return out


def normalize_reply(reply: Any) -> tuple[dict, dict]:
    """(assistant message, usage) from a chat-completions reply of any OpenAI-compatible server.

    The message always has ``role``, ``content`` (a string, possibly empty) and ``tool_calls`` (a
    list of ``{"id", "type": "function", "function": {"name", "arguments": "<json string>"}}``,
    possibly empty); usage always has integer ``prompt_tokens``, ``completion_tokens`` and ``total_tokens``.
    """
    if not isinstance(reply, dict) or not reply.get("choices"):
        raise ModelCallError(f"the server's reply has no choices: {str(reply)[:300]!r}; is this an OpenAI-compatible "
                             "/chat/completions endpoint?")
    choice = reply["choices"][0] or {}
    msg = dict(choice.get("message") or {})
    content = msg.get("content")
    if isinstance(content, list):  # content parts
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    msg = {"role": "assistant", "content": content or "", "tool_calls": _tool_calls(msg)}
    usage = reply.get("usage") or {}
    pt, ct = int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
    return msg, {"prompt_tokens": pt, "completion_tokens": ct, "total_tokens": int(usage.get("total_tokens") or pt + ct)}


class ModelClient:
    """One OpenAI-compatible endpoint, called with the official client; bounded retries with backoff and jitter.

    Args:
        base_url: e.g. ``http://127.0.0.1:8000/v1`` (a trailing ``/chat/completions`` is dropped).
        model: the model name the server knows.
        key_env: the environment variable holding the API key (default ``OPENAI_API_KEY``).
        timeout: seconds for one request (connect, read, write) before it counts as a timeout.
        max_retries: retries after the first attempt (so at most ``max_retries + 1`` requests).
        backoff_s, max_backoff_s: the delay before retry k is ``min(max_backoff_s, backoff_s * 2**k)``,
            half of it fixed and half random (jitter), or the server's ``Retry-After`` when longer
            (capped at ``max_backoff_s``).
    """

    def __init__(self, base_url: str, model: str, *, key_env: str | None = None, timeout: float = 120.0,
                 max_retries: int = 5, backoff_s: float = 0.5, max_backoff_s: float = 8.0, seed: int | None = None):
        import httpx
        import openai

        base = base_url.rstrip("/")
        if base.endswith("/chat/completions"):
            base = base[: -len("/chat/completions")]
        self.base_url, self.model = base, model
        self.max_retries, self.backoff_s, self.max_backoff_s = int(max_retries), float(backoff_s), float(max_backoff_s)
        self._rng = random.Random(seed)
        self._openai = openai
        http_client = None
        if urlsplit(base).hostname in ("127.0.0.1", "localhost", "::1"):
            # A kept-alive connection to a loopback server (uvicorn: vLLM, a stand-in) costs about 45 ms a call with the
            # client's transport here, a fresh one about 4.5 ms (scripts/bench_program_agent.py); remote endpoints keep
            # their connections (TLS handshakes cost more than that).
            limits = getattr(openai, "DEFAULT_CONNECTION_LIMITS", None)
            http_client = openai.DefaultHttpxClient(limits=type(limits)(max_connections=100, max_keepalive_connections=0)
                                                    if limits is not None else None)
        self.client = openai.OpenAI(base_url=base, api_key=resolve_key(key_env), max_retries=0, http_client=http_client,
                                    timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)))

    def _retryable(self, e: Exception) -> tuple[bool, int | None]:
        o = self._openai
        if isinstance(e, o.APIStatusError):
            return (e.status_code in RETRY_STATUSES or e.status_code >= 500), e.status_code
        return isinstance(e, (o.APITimeoutError, o.APIConnectionError)), None

    def _delay(self, retry: int, e: Exception) -> float:
        cap = min(self.max_backoff_s, self.backoff_s * (2 ** retry))
        delay = cap / 2 + self._rng.uniform(0, cap / 2)
        response = getattr(e, "response", None)
        after = response.headers.get("retry-after") if response is not None else None
        try:
            delay = max(delay, min(float(after), self.max_backoff_s)) if after else delay
        except ValueError:  # an HTTP date: keep the computed delay
            pass
        return delay

    def complete(self, body: dict, on_retry: Callable[[dict], None] | None = None) -> tuple[dict, dict]:
        """POST ``body`` to /chat/completions (``model`` set to this client's); returns (raw reply JSON, meta).

        ``on_retry`` is called with a dict (attempt, error, status, delay_s) before each retry's sleep. ``meta`` has ``latency_s`` (all attempts and waits), ``retries`` and ``errors`` (one line per failed attempt).
        Raises :class:`ModelCallError` when the retries are spent or the error is one no retry can fix.
        """
        o = self._openai
        kwargs = {k: v for k, v in body.items() if k not in ("model", "stream", "stream_options")}
        extra = {k: kwargs.pop(k) for k in list(kwargs) if k not in _KNOWN_PARAMS}
        t0 = time.monotonic()
        errors: list[str] = []
        for attempt in range(self.max_retries + 1):
            try:
                raw = self.client.chat.completions.with_raw_response.create(model=self.model, extra_body=extra or None, **kwargs)
                try:
                    reply = json.loads(raw.text)
                except json.JSONDecodeError:
                    raise ModelCallError(f"{self.base_url} answered with a body that is not JSON: {raw.text[:300]!r}") from None
                return reply, {"latency_s": time.monotonic() - t0, "retries": attempt, "errors": errors}
            except o.APIError as e:
                retryable, status = self._retryable(e)
                what = f"HTTP {status}" if status is not None else type(e).__name__
                errors.append(f"{what}: {str(e)[:200]}")
                if not retryable:
                    hint = (" (check the key: OPENAI_API_KEY or --agent-key-env NAME)" if status in (401, 403)
                            else " (check the URL and the model name)" if status == 404 else "")
                    raise ModelCallError(f"model call to {self.base_url} failed with {what}{hint}: {str(e)[:300]}") from None
                if attempt == self.max_retries:
                    break
                delay = self._delay(attempt, e)
                if on_retry is not None:
                    on_retry({"attempt": attempt + 1, "error": errors[-1], "status": status, "delay_s": round(delay, 3)})
                time.sleep(delay)
        raise ModelCallError(f"model call to {self.base_url} failed {len(errors)} times ({'; '.join(errors[-3:])}); "
                             "is the server up and not overloaded? Rerun the same command to resume")


#: Parameters ``chat.completions.create`` takes by name; anything else a program sends goes in ``extra_body``.
_KNOWN_PARAMS = frozenset({
    "messages", "tools", "tool_choice", "temperature", "top_p", "max_tokens", "max_completion_tokens", "n", "stop",
    "seed", "presence_penalty", "frequency_penalty", "logit_bias", "logprobs", "top_logprobs", "response_format",
    "parallel_tool_calls", "user", "metadata", "reasoning_effort", "service_tier", "store", "modalities",
})




@register_model("openai", "openai:URL#MODEL", endpoint_spec)
class OpenAIModel(Model):
    """An OpenAI-compatible endpoint as a :class:`~.model.Model`: ``name`` is the model name the server knows.

    ``complete`` sends ``messages``, ``tools`` (when given) and the sampling keys as they are (unknown ones in
    the request's extra body), with :class:`ModelClient`'s retries. ``price_per_mtok=(in, out)`` (or
    ``$AIRGAP_PRICE_PER_MTOK``) gives each reply a ``cost_usd``.
    """

    chat_defaults = {"temperature": 0.0, "max_tokens": 512}

    def __init__(self, spec: ModelSpec, *, key_env: str | None = None, price_per_mtok: Any = None, timeout: float = 120.0,
                 max_retries: int = 5, backoff_s: float = 0.5, max_backoff_s: float = 8.0):
        self.spec, self.name = spec, spec.name
        self.prices = prices_from(price_per_mtok)
        self.client = ModelClient(spec.target, spec.name, key_env=key_env, timeout=timeout, max_retries=max_retries,
                                  backoff_s=backoff_s, max_backoff_s=max_backoff_s)
        self.url = self.client.base_url + "/chat/completions"

    def complete(self, messages: list[dict], tools: list[dict] | None = None, *,
                 on_retry: Callable[[dict], None] | None = None, **sampling: Any) -> Reply:
        body: dict = {"messages": messages, **sampling}
        if tools is not None:
            body["tools"] = tools
        raw, meta = self.client.complete(body, on_retry=on_retry)
        msg, usage = normalize_reply(raw)
        served = raw.get("model") if isinstance(raw, dict) else None  # the model the server says answered
        return Reply(text=msg["content"], tool_calls=msg["tool_calls"], usage=usage, latency_s=meta["latency_s"],
                     input=messages, retries=meta["retries"], errors=meta["errors"], cost_usd=self.cost(usage), raw=raw,
                     meta={"served_model": served} if isinstance(served, str) and served else {})
