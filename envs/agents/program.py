"""sandbox:CMD — an agent program with its own loop, run inside the episode's sandbox, its model calls routed by the gateway.

The program runs in the container as the agent user (``CMD`` through ``sh -c`` in ``/workspace``) and
sees an OpenAI-compatible endpoint at an in-world hostname, ``https://llm.airgap/v1`` (plain http works
too), which the gateway routes to a host-side ASGI app (:class:`ProgramBridge`). That app serves:

==============================  ==================================================================
``POST /v1/chat/completions``   answered by the host-side model (the *upstream*: a :class:`~.model.Model`, e.g.
                                ``openai:URL#MODEL`` given as ``--agent-model``); each call is a ``model`` event
``GET  /v1/models``             the one model name
``GET  /v1/task``               ``{"instruction", "tools", "task_id", "max_steps"}``
``POST /v1/tools/NAME``         JSON arguments -> one env step of tool NAME (logged, budgeted and graded
                                like any step) -> ``{"observation", "ok", "error", "step", "done"}``
``POST /v1/submit``             ``{"answer": "..."}``: the final answer; the episode ends (also ``/submit``)
==============================  ==================================================================

The program's environment has ``OPENAI_BASE_URL``/``OPENAI_API_BASE`` (that endpoint), a placeholder
``OPENAI_API_KEY`` (the real key stays on the host), ``AIRGAP_MODEL``, ``AIRGAP_TASK`` (the instruction),
``AIRGAP_SUBMIT_URL``, ``AIRGAP_TOOLS_URL``, and ``SSL_CERT_FILE``/``REQUESTS_CA_BUNDLE`` pointing at the
environment's CA so ``requests``/``httpx`` trust it as ``urllib`` and ``curl`` do.

It fits the one agent loop (:func:`airgap.envs.runner.play`): :class:`ProgramAgent` is an ordinary
agent whose ``act`` starts the program on the first step and then waits for the program's next
request: a tool call becomes the action (its observation goes back as the HTTP reply at the next
``act``), a submit becomes ``submit(answer)``, and the program's exit becomes ``submit`` with the last
non-empty line of its stdout as the answer. The task's usual graders score it. Commands the program
runs itself (not through ``/v1/tools``) are inside its one ``sandbox.exec`` event; the ``program_exit``
event lists the files under ``/workspace`` it created, changed or deleted.

The upstream is the same :class:`~.model.Model` a chat agent takes, built from a model spec by
:func:`~.model.make_model` (``openai:URL#MODEL`` with its retries, ``hf:PATH``/``vllm:PATH`` through the shared
engine, or any registered provider), or handed over as an object. A request's ``messages`` and ``tools`` and its
other keys (sampling) go to ``Model.complete``; the reply goes back in the chat-completions shape.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import json
import os
import queue
import threading
import time
from typing import Any

from airgap.envs.monitors.context import MODEL_HOST  # "llm.airgap": a world host for the monitors

from .model import Model, ModelSpecError, add_usage, make_model, new_usage, prices_from
from .openai import ModelCallError

MODEL_ENV = "AIRGAP_AGENT_MODEL"  # the upstream spec when none is passed (``--agent-model``)
_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"  # inside the container: the environment's CA (airgap.sandbox.config)

# A stdlib program run before and after the agent program: path -> sha256 of every file under /workspace.
_MANIFEST = (
    "import hashlib,json,os\n"
    "out={}\n"
    "for d,_,fs in os.walk('/workspace'):\n"
    "  for f in fs:\n"
    "    p=os.path.join(d,f)\n"
    "    try:\n"
    "      with open(p,'rb') as h: out[p]=hashlib.sha256(h.read()).hexdigest()\n"
    "    except OSError: out[p]=None\n"
    "print(json.dumps(out))\n"
)


def _stream(reply: dict, message: dict) -> list[bytes]:
    """The reply as server-sent events (one chunk with the whole message), for programs that ask to stream."""
    choice = (reply.get("choices") or [{}])[0]
    delta: dict[str, Any] = {"role": "assistant", "content": message.get("content")}
    if message.get("tool_calls"):
        delta["tool_calls"] = [{"index": i, **c} for i, c in enumerate(message["tool_calls"])]
    base = {"id": reply.get("id", "chatcmpl-airgap"), "object": "chat.completion.chunk", "created": reply.get("created", 0),
            "model": reply.get("model", "")}
    chunks = [{**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]},
              {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": choice.get("finish_reason") or "stop"}],
               "usage": reply.get("usage")}]
    return [f"data: {json.dumps(c)}\n\n".encode() for c in chunks] + [b"data: [DONE]\n\n"]


class ProgramBridge:
    """The host side of ``llm.airgap`` for one agent program: the model proxy, the task, the tools and submit.

    Requests from inside the container arrive on the gateway's event loop; a tool call or a submit is
    put on ``inbox`` for the agent's ``act`` (the runner's thread) and the reply waits on a future.
    """

    def __init__(self, agent: ProgramAgent):
        from starlette.applications import Starlette
        from starlette.routing import Route

        self.agent = agent
        self.app = Starlette(routes=[
            Route("/v1/chat/completions", self._chat, methods=["POST"]),
            Route("/v1/models", self._models, methods=["GET"]),
            Route("/v1/task", self._task, methods=["GET"]),
            Route("/v1/tools", self._tools, methods=["GET"]),
            Route("/v1/tools/{name}", self._tool, methods=["POST"]),
            Route("/v1/submit", self._submit, methods=["POST"]),
            Route("/submit", self._submit, methods=["POST"]),
        ])

    @staticmethod
    def _error(status: int, message: str):
        from starlette.responses import JSONResponse

        return JSONResponse({"error": {"message": message, "type": "airgap"}}, status_code=status)

    @staticmethod
    async def _json(request) -> Any:
        raw = await request.body()
        return json.loads(raw) if raw.strip() else {}

    async def _chat(self, request):
        from starlette.responses import JSONResponse, StreamingResponse

        agent = self.agent
        try:
            body = await self._json(request)
        except json.JSONDecodeError as e:
            return self._error(400, f"the request body is not JSON ({e})")
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return self._error(400, "a chat-completions request needs a JSON object with a 'messages' list")
        model = agent.upstream
        if model is None:
            return self._error(503, "no host-side model for this program: run it with --agent-model openai:URL#MODEL "
                                    f"(or set ${MODEL_ENV})")
        step = agent.step
        sampling = {k: v for k, v in body.items() if k not in ("messages", "tools", "model", "stream", "stream_options")}
        call = functools.partial(model.complete, body["messages"], body.get("tools"), on_retry=agent.on_retry, **sampling)
        try:
            reply = await asyncio.get_running_loop().run_in_executor(None, call)
        except ModelCallError as e:
            agent.record("model", step=step, input=body.get("messages"), output=None, error=str(e),
                         model=model.name, source="sandbox")
            return self._error(502, str(e))
        add_usage(agent.usage, reply)
        agent.record("model", step=step, input=body.get("messages"), output=reply.message, usage=reply.usage,
                     latency_s=reply.latency_s, model=model.name, retries=reply.retries, source="sandbox", **reply.meta)
        out: dict[str, Any] = {"role": "assistant", "content": reply.text if reply.text or not reply.tool_calls else None}
        if reply.tool_calls:
            out["tool_calls"] = reply.tool_calls
        raw = reply.raw or {}
        choice = (raw.get("choices") or [{}])[0] or {}
        reply = {**raw, "choices": [{**choice, "message": out}], "usage": {**reply.usage, **(raw.get("usage") or {})}}
        if body.get("stream"):
            chunks = _stream(reply, out)

            async def gen():
                for c in chunks:
                    yield c

            return StreamingResponse(gen(), media_type="text/event-stream")
        return JSONResponse(reply)

    async def _models(self, request):
        from starlette.responses import JSONResponse

        up = self.agent.upstream
        return JSONResponse({"object": "list", "data": [{"id": up.name, "object": "model", "owned_by": "airgap"}] if up else []})

    async def _task(self, request):
        from starlette.responses import JSONResponse

        return JSONResponse(self.agent.task_view)

    async def _tools(self, request):
        from starlette.responses import JSONResponse

        return JSONResponse(self.agent.task_view.get("tools", []))

    async def _wait(self, item: tuple) -> Any:
        fut: concurrent.futures.Future = item[-1]
        self.agent.inbox.put(item)
        return await asyncio.wait_for(asyncio.wrap_future(fut), timeout=self.agent.timeout)

    async def _tool(self, request):
        from starlette.responses import JSONResponse

        try:
            args = await self._json(request)
        except json.JSONDecodeError as e:
            return self._error(400, f"tool arguments must be a JSON object ({e})")
        if not isinstance(args, dict):
            return self._error(400, "tool arguments must be a JSON object, e.g. {\"command\": \"ls\"}")
        try:
            result = await self._wait(("tool", request.path_params["name"], args, concurrent.futures.Future()))
        except asyncio.TimeoutError:
            return self._error(504, "the tool call got no result in time")
        return JSONResponse(result)

    async def _submit(self, request):
        from starlette.responses import JSONResponse

        try:
            body = await self._json(request)
        except json.JSONDecodeError as e:
            return self._error(400, f"submit takes {{\"answer\": \"...\"}} ({e})")
        answer = body.get("answer") if isinstance(body, dict) else body
        fut: concurrent.futures.Future = concurrent.futures.Future()
        fut.set_result(None)
        self.agent.inbox.put(("submit", "" if answer is None else str(answer), fut))
        return JSONResponse({"ok": True, "answer": "" if answer is None else str(answer),
                             "note": "submitted: the episode ends and is graded; exit now"})


class ProgramAgent:
    """``sandbox:CMD``: run ``CMD`` inside the episode's sandbox as the agent; see the module docstring.

    Needs the env: the runner's ``play`` calls :meth:`attach` before the first ``act``.

    Args:
        cmd: the program's command line (``sh -c`` in ``/workspace``), e.g. ``python3 /workspace/agent.py``.
        model: the host-side model: a spec, e.g. ``openai:http://127.0.0.1:8000/v1#qwen`` (default ``$AIRGAP_AGENT_MODEL``),
            or a :class:`~.model.Model` (the same object a chat agent takes).
        key_env, price_per_mtok: for a model built from a spec (the API key's variable; ``(in, out)`` US$ per million tokens).
        timeout: seconds the program may run in all before it is killed (its episode then ends with ``submit``).
        files: ``{path: bytes | str}`` written into the sandbox before the program starts (a scaffold, a config).
    """

    last_call: dict | None = None

    def __init__(self, cmd: str, *, model: str | Model | None = None, key_env: str | None = None, price_per_mtok: Any = None,
                 timeout: float = 900.0, files: dict[str, bytes | str] | None = None):
        if not cmd.strip():
            raise ValueError("sandbox agent needs a command: sandbox:'python3 /workspace/agent.py' (with --agent-model openai:URL#MODEL)")
        self.cmd, self.timeout, self.files = cmd, float(timeout), dict(files or {})
        model = model or os.environ.get(MODEL_ENV) or None
        if isinstance(model, str):
            try:
                model = make_model(model, key_env=key_env, price_per_mtok=price_per_mtok)
            except ModelSpecError as e:
                raise ValueError(f"{e} (a sandbox program's model: --agent-model openai:URL#MODEL)") from None
        self.upstream: Model | None = model
        self.prices = model.prices if model is not None else prices_from(price_per_mtok)
        self.usage = new_usage(self.prices)
        self.bridge = ProgramBridge(self)
        self.inbox: queue.Queue = queue.Queue()
        self.task_view: dict = {}
        self.step = 1
        self.env: Any = None
        self._waiting: concurrent.futures.Future | None = None
        self._thread: threading.Thread | None = None
        self._started = False
        self.exit_grace = 10.0  # seconds a program that submitted gets to exit before the episode ends

    # -- the runner's side

    def attach(self, env: Any) -> None:
        """The episode's env (unwrapped): its sandbox runs the program, its gateway serves ``llm.airgap``, its log records."""
        self.env = env

    def record(self, type_: str, **data: Any) -> None:
        record = getattr(self.env, "record", None)
        if record is not None:
            record(type_, **data)

    def on_retry(self, retry: dict) -> None:
        """A retry of the upstream's call, logged as it happens (``model_retry``, ``source: sandbox``)."""
        self.record("model_retry", step=self.step, model=getattr(self.upstream, "name", None), source="sandbox", **retry)

    def reset(self, obs: str, info: dict) -> None:
        self._finish_waiting("[the episode is over]")
        self.inbox = queue.Queue()
        self.usage = new_usage(self.prices)
        self.task_view = {"instruction": obs, "tools": json.loads(json.dumps(info.get("tools", []))),
                          "task_id": info.get("task_id"), "max_steps": info.get("max_steps")}
        self.step, self._started, self._thread = 1, False, None

    def observe(self, action: Any, obs: str, info: dict) -> None:
        raise ValueError("a sandbox program cannot take over a forked episode (its own loop cannot be replayed into); "
                         "fork with a step-by-step agent (openai:, hf:) instead")

    def act(self, obs: str, info: dict) -> Any:
        self.step = int(info.get("step", 0)) + 1
        if not self._started:
            self._start()
        else:
            self._finish_waiting({"observation": obs, "ok": info.get("ok"), "error": info.get("error"),
                                  "step": info.get("step"), "done": False})
        try:
            item = self.inbox.get(timeout=self.timeout + 60)
        except queue.Empty:
            return {"tool": "submit", "args": {"answer": ""}}
        if item[0] == "tool":
            self._waiting = item[3]
            return {"tool": item[1], "args": item[2]}
        if item[0] == "submit":  # give the program a moment to exit, so its program_exit event is in the log
            if self._thread is not None:
                self._thread.join(timeout=self.exit_grace)
            return {"tool": "submit", "args": {"answer": item[1]}}
        return {"tool": "submit", "args": {"answer": item[1]}}  # the program exited: its last stdout line

    def _finish_waiting(self, result: Any) -> None:
        fut, self._waiting = self._waiting, None
        if fut is not None and not fut.done():
            fut.set_result(result if isinstance(result, dict) else {"observation": result, "ok": False,
                                                                     "error": "episode_over", "done": True})

    # -- the program

    def _start(self) -> None:
        env = self.env
        sandbox = getattr(env, "sandbox", None) if env is not None else None
        if sandbox is None or not hasattr(env, "add_routes"):
            raise RuntimeError("a sandbox:CMD agent needs the episode's env: call agent.attach(env.unwrapped) after "
                               "env.reset (airgap.envs.runner.play does this)")
        env.add_routes({MODEL_HOST: self.bridge.app})
        for path, content in self.files.items():
            sandbox.write_file(path, content.encode() if isinstance(content, str) else content)
        base = f"https://{MODEL_HOST}/v1"
        penv = {"OPENAI_BASE_URL": base, "OPENAI_API_BASE": base, "OPENAI_API_KEY": "airgap-in-world",
                "AIRGAP_LLM_URL": base, "AIRGAP_MODEL": getattr(self.upstream, "name", "") or "",
                "AIRGAP_SUBMIT_URL": f"{base}/submit", "AIRGAP_TOOLS_URL": f"{base}/tools",
                "AIRGAP_TASK": self.task_view.get("instruction") or "", "SSL_CERT_FILE": _CA_BUNDLE,
                "REQUESTS_CA_BUNDLE": _CA_BUNDLE}
        before = self._manifest(sandbox)
        self.record("program_start", step=self.step, command=self.cmd, endpoint=base,
                    model=getattr(self.upstream, "name", None), timeout_s=self.timeout)
        self._started = True
        inbox = self.inbox

        def run() -> None:
            t0 = time.monotonic()
            try:
                r = sandbox.exec(self.cmd, timeout=self.timeout, env=penv, max_output=1 << 20)
                stdout = r.stdout if isinstance(r.stdout, str) else r.stdout.decode("utf-8", "replace")
                stderr = r.stderr if isinstance(r.stderr, str) else r.stderr.decode("utf-8", "replace")
                outcome = {"exit_code": r.exit_code, "timed_out": r.timed_out, "oom_killed": r.oom_killed}
            except Exception as e:  # noqa: BLE001 - the sandbox went away (the episode ended) or broke: reported below
                stdout, stderr, outcome = "", "", {"exit_code": None, "error": f"{type(e).__name__}: {e}"}
            lines = [ln.strip() for ln in stdout.splitlines() if ln.strip()]
            answer = lines[-1][:4000] if lines else ""
            changed = self._changes(before, sandbox)
            self.record("program_exit", step=self.step, duration_s=round(time.monotonic() - t0, 3), answer=answer,
                        stdout_tail=stdout[-4000:], stderr_tail=stderr[-4000:], files_changed=changed, usage=dict(self.usage),
                        **outcome)
            fut: concurrent.futures.Future = concurrent.futures.Future()
            fut.set_result(None)
            inbox.put(("exit", answer, fut))

        self._thread = threading.Thread(target=run, name="airgap-program", daemon=True)
        self._thread.start()

    @staticmethod
    def _manifest(sandbox: Any) -> dict | None:
        try:
            r = sandbox.exec(["python3", "-c", _MANIFEST], timeout=30, max_output=1 << 22)
            return json.loads(r.stdout) if r.exit_code == 0 else None
        except Exception:  # noqa: BLE001 - no manifest, no diff; the program still runs
            return None

    def _changes(self, before: dict | None, sandbox: Any) -> list[dict] | None:
        """The files under /workspace the program created, changed or deleted (None when it cannot be told)."""
        after = self._manifest(sandbox) if before is not None else None
        if after is None or before is None:
            return None
        out = [{"path": p, "change": "created" if p not in before else "modified", "sha256": h}
               for p, h in sorted(after.items()) if before.get(p, "-") != h]
        return out + [{"path": p, "change": "deleted"} for p in sorted(set(before) - set(after))]

    def close(self) -> None:
        self._finish_waiting("[the episode is over]")
