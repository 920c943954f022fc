"""The local model engine: one process per machine loads ``hf:PATH`` (or ``vllm:PATH``) once and serves every worker's episodes.

Workers render prompts and count tokens themselves (they hold the tokenizer, which is small);
the engine only turns token ids into new token ids. Requests from different episodes that arrive
together share a forward pass (dynamic batching):

* the batcher takes the first waiting request, then waits up to ``window_ms`` for more (it stops
  waiting early once every connected worker has a request in), up to ``max_batch`` rows;
* prompts are left-padded, with an attention mask and position ids counted from each row's own
  first token, so a row's result does not depend on what it was batched with: greedy decoding
  gives an episode the same tokens at batch size 1 and 8, and sampling draws from a generator
  seeded per request;
* ``hf`` runs its own KV-cached decoding loop (each row stops at its own stop token or budget);
  ``vllm`` hands the batch to vLLM's offline ``LLM`` with prefix caching on, so the turns of a
  multi-turn episode reuse the KV cache of the prompt prefix they share.

IPC: :func:`serving` (used by ``run_evaluation`` for the local executor) starts the engine process from the driver,
listening on a unix socket in a private temporary folder (``multiprocessing.connection``, with an
auth key), and puts the address in ``$AIRGAP_ENGINES`` so worker processes spawned afterwards find
it. The engine exits when the driver leaves :func:`serving`, and on its own if the driver dies
(it watches its parent). A worker whose engine is gone gets :class:`EngineGone`, which says so.
With ``--executor ray`` the same :class:`EngineServer` runs inside one Ray actor per node, on an
abstract unix socket (gone with the actor's process, however it ends), and each episode actor is
handed its node's address (``airgap.envs.runner.executors``).
Without an engine in ``$AIRGAP_ENGINES`` (one process, a notebook), :func:`engine_for` loads the
model in-process, once per process.
"""
from __future__ import annotations

import contextlib
import inspect
import json
import os
import queue
import secrets
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from .model import ModelSpecError, parse_model_spec

ENV_VAR = "AIRGAP_ENGINES"
KINDS = ("hf", "vllm")  # the model kinds the engine serves
VLLM_MISSING = ("vllm:PATH needs vLLM, which is not installed here: on a machine with a GPU, "
                "`pip install 'airgap[vllm]'` (or `pip install vllm`); without one, use hf:PATH")


class EngineGone(RuntimeError):
    """The shared model engine this worker was told about cannot be reached (the driver stopped it, or it died)."""


class EngineError(RuntimeError):
    """The engine answered with an error (a model that failed to load, a generation that failed)."""


@dataclass
class Request:
    """One generation: prompt token ids in, at most ``max_new_tokens`` new ids out (stop tokens are the model's)."""

    ids: list[int]
    max_new_tokens: int = 256
    do_sample: bool = False
    temperature: float = 1.0
    seed: int = 0


def engine_model(spec: str) -> tuple[str, str] | None:
    """``("hf" | "vllm", absolute folder)`` when ``spec`` is a model spec the engine serves; None for any other spec
    (a scripted agent, an endpoint, or a spec too malformed to name a folder: making its agent says what is wrong)."""
    try:
        parsed = parse_model_spec(spec)
    except ModelSpecError:
        return None
    return (parsed.kind, parsed.target) if parsed.kind in KINDS else None


def check_model_dir(kind: str, path: str) -> None:
    if not os.path.isdir(path):
        raise FileNotFoundError(f"{kind} agent: {path} is not a folder; give a local model folder (config.json, weights, tokenizer files)")


def context_length(config: Any, default: int = 4096) -> int:
    """The model's own context length from its config (an object or the dict of config.json)."""
    get = config.get if isinstance(config, dict) else (lambda k: getattr(config, k, None))
    text = get("text_config")  # multimodal configs keep the language model's settings here
    if text is not None and not isinstance(text, (int, str)):
        return context_length(text, default)
    for key in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length", "n_ctx", "max_seq_len"):
        value = get(key)
        if isinstance(value, int) and value > 0:
            return value
    return default


# --- backends: token ids in, token ids out -------------------------------------------------------------------


class HFBackend:
    """A transformers causal LM; batched, KV-cached, padding-aware decoding."""

    name = "hf"

    def __init__(self, path: str, *, device: str | None = None, dtype: str | None = None, threads: int | None = None):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.torch = torch
        self.path, self.threads = path, threads  # torch's intra-op threads, set in the thread that runs generate()
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
        torch_dtype = getattr(torch, dtype) if dtype else (torch.bfloat16 if self.device.startswith("cuda") else torch.float32)
        self.model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True, dtype=torch_dtype).to(self.device).eval()
        self.stop_ids = stop_ids(tok, getattr(self.model, "generation_config", None))
        self.pad_id = tok.pad_token_id if tok.pad_token_id is not None else (min(self.stop_ids) if self.stop_ids else 0)
        self.context_length = context_length(self.model.config)
        params = inspect.signature(self.model.forward).parameters
        self._cache_arg = "cache" if "cache" in params else "past_key_values"  # renamed in transformers 5
        self._last_only = {"logits_to_keep": 1} if "logits_to_keep" in params else {}

    def generate(self, reqs: list[Request]) -> list[list[int]]:
        torch = self.torch
        if self.threads and torch.get_num_threads() != self.threads:
            torch.set_num_threads(self.threads)
        n, width = len(reqs), max(len(r.ids) for r in reqs)
        ids = torch.full((n, width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((n, width), dtype=torch.long)
        for i, r in enumerate(reqs):  # left padding: every row's last prompt token is in the last column
            ids[i, width - len(r.ids):] = torch.tensor(r.ids, dtype=torch.long)
            mask[i, width - len(r.ids):] = 1
        ids, mask = ids.to(self.device), mask.to(self.device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)  # each row counts from its own first real token
        gens = [torch.Generator().manual_seed(r.seed) if r.do_sample else None for r in reqs]
        out: list[list[int]] = [[] for _ in reqs]
        done = [r.max_new_tokens <= 0 for r in reqs]
        past = None
        with torch.inference_mode():
            while not all(done):
                res = self.model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True,
                                 **{self._cache_arg: past}, **self._last_only)
                past = res["cache"] if "cache" in res else res["past_key_values"]
                logits = res.logits[:, -1, :].float().cpu()
                greedy = logits.argmax(-1).tolist()
                nxt = []
                for i, r in enumerate(reqs):
                    if done[i]:
                        nxt.append(self.pad_id)
                        continue
                    if r.do_sample:
                        probs = torch.softmax(logits[i] / max(r.temperature, 1e-5), -1)
                        tok = int(torch.multinomial(probs, 1, generator=gens[i]))
                    else:
                        tok = greedy[i]
                    out[i].append(tok)
                    done[i] = tok in self.stop_ids or len(out[i]) >= r.max_new_tokens
                    nxt.append(tok)
                ids = torch.tensor(nxt, dtype=torch.long, device=self.device)[:, None]
                mask = torch.cat([mask, torch.ones((n, 1), dtype=torch.long, device=self.device)], dim=1)
                positions = positions[:, -1:] + 1
        return out


class VLLMBackend:
    """vLLM's offline engine (``vllm.LLM``) with prefix caching. Untested on the CPU-only machines this project is built on."""

    name = "vllm"

    def __init__(self, path: str, **llm_kwargs: Any):
        try:
            from vllm import LLM
        except ImportError as e:
            raise ImportError(VLLM_MISSING) from e
        self.path = path
        self.llm = LLM(model=path, enable_prefix_caching=True, seed=0, **llm_kwargs)
        engine = getattr(self.llm, "llm_engine", None)
        model_config = getattr(engine, "model_config", None)
        self.context_length = int(getattr(model_config, "max_model_len", 0) or _config_context_length(path))
        self.stop_ids: set[int] = set()  # vLLM stops at the model's own stop tokens itself

    def generate(self, reqs: list[Request]) -> list[list[int]]:
        from vllm import SamplingParams

        params = [SamplingParams(max_tokens=r.max_new_tokens, temperature=r.temperature if r.do_sample else 0.0,
                                 seed=r.seed if r.do_sample else None, skip_special_tokens=False) for r in reqs]
        outs = self.llm.generate([{"prompt_token_ids": list(r.ids)} for r in reqs], params, use_tqdm=False)
        return [list(o.outputs[0].token_ids) for o in outs]


def stop_ids(tokenizer: Any, generation_config: Any = None) -> set[int]:
    """The ids generation stops at: the tokenizer's eos and the generation config's ``eos_token_id`` (an int or a list)."""
    ids: set[int] = set()
    for value in (getattr(tokenizer, "eos_token_id", None), getattr(generation_config, "eos_token_id", None)):
        if isinstance(value, int):
            ids.add(value)
        elif isinstance(value, (list, tuple)):
            ids.update(int(v) for v in value)
    return ids


def _config_context_length(path: str) -> int:
    try:
        with open(os.path.join(path, "config.json"), encoding="utf-8") as f:
            return context_length(json.load(f))
    except (OSError, ValueError):
        return 4096


def load_backend(kind: str, path: str, **kwargs: Any):
    check_model_dir(kind, path)
    if kind == "vllm":
        return VLLMBackend(path, **kwargs)
    return HFBackend(path, **kwargs)


# --- the batcher: one thread feeding the backend ----------------------------------------------------------------


class _Pending:
    __slots__ = ("req", "done", "result", "error", "batch")

    def __init__(self, req: Request):
        self.req, self.done, self.result, self.error, self.batch = req, threading.Event(), None, None, 0


class Batcher:
    """Collects requests from many threads and runs them through the backend in batches."""

    def __init__(self, backend: Any, *, window_ms: float = 5.0, max_batch: int = 16):
        self.backend, self.window, self.max_batch = backend, window_ms / 1000.0, max(1, int(max_batch))
        self.queue: queue.Queue[_Pending] = queue.Queue()
        self.clients = 1  # how many callers may be waiting at once (the server sets it to its connection count)
        self.stats = {"requests": 0, "batches": 0, "max_batch": 0, "generated_tokens": 0}
        self._thread = threading.Thread(target=self._loop, name="airgap-batcher", daemon=True)
        self._thread.start()

    def submit(self, req: Request) -> tuple[list[int], int]:
        """Generate for one request (blocks); returns the new ids and the size of the batch it ran in."""
        p = _Pending(req)
        self.queue.put(p)
        p.done.wait()
        if p.error is not None:
            raise EngineError(p.error)
        return p.result, p.batch

    def _loop(self) -> None:
        while True:
            batch = [self.queue.get()]
            deadline = time.monotonic() + self.window
            while len(batch) < self.max_batch:
                try:
                    if len(batch) >= self.clients:  # everyone who could ask has asked: take what is queued, go
                        batch.append(self.queue.get_nowait())
                        continue
                    batch.append(self.queue.get(timeout=max(0.0, deadline - time.monotonic())))
                except queue.Empty:
                    break
            try:
                results = self.backend.generate([p.req for p in batch])
                error = None
            except Exception as e:  # noqa: BLE001 - every waiting request is told; the engine keeps serving
                results, error = [None] * len(batch), f"generation failed: {type(e).__name__}: {e}"
            self.stats["requests"] += len(batch)
            self.stats["batches"] += 1
            self.stats["max_batch"] = max(self.stats["max_batch"], len(batch))
            for p, res in zip(batch, results, strict=True):
                p.result, p.error, p.batch = res, error, len(batch)
                self.stats["generated_tokens"] += len(res or [])
                p.done.set()


# --- clients: what an agent holds ------------------------------------------------------------------------------


class LocalEngine:
    """The model in this process (no IPC): the ``hf:PATH`` path for a single process."""

    def __init__(self, kind: str, path: str, **kwargs: Any):
        self.kind, self.path = kind, path
        self.backend = load_backend(kind, path, **kwargs)
        self.batcher = Batcher(self.backend)
        self.info = {"id": uuid.uuid4().hex[:12], "pid": os.getpid(), "kind": kind, "path": path,
                     "context_length": self.backend.context_length, "stop_ids": sorted(self.backend.stop_ids), "shared": False}

    def generate(self, req: Request) -> tuple[list[int], dict]:
        ids, batch = self.batcher.submit(req)
        return ids, {"id": self.info["id"], "pid": self.info["pid"], "batch": batch, "shared": False}

    def stats(self) -> dict:
        return {**self.info, **self.batcher.stats, "loads": 1}


DRIVER_OWNER = "the evaluation's driver process, so the driver stopped or died"


class RemoteEngine:
    """A connection from a worker to the engine its driver started (a process of the driver's, or a Ray actor on this node).

    ``owner`` says, in :class:`EngineGone`'s message, who owns the engine and so why it may be gone.
    """

    def __init__(self, address: str, authkey: bytes, kind: str, path: str, owner: str | None = None):
        self.address, self.authkey, self.kind, self.path = address, authkey, kind, path
        self.owner = owner or DRIVER_OWNER
        self._conn = None
        self._lock = threading.Lock()
        self.info = self._call({"op": "info"})

    def _call(self, msg: dict) -> Any:
        from multiprocessing.connection import Client

        with self._lock:
            try:
                if self._conn is None:
                    self._conn = Client(self.address, family="AF_UNIX", authkey=self.authkey)
                self._conn.send(msg)
                reply = self._conn.recv()
            except (OSError, EOFError) as e:
                self._conn = None
                raise EngineGone(
                    f"the shared model engine for {self.kind}:{self.path} at {shown(self.address)} is gone ({type(e).__name__}: {e}); "
                    f"it is owned by {self.owner}. Run the evaluation "
                    "again (finished episodes are kept), or unset $" + ENV_VAR + " to load the model in this process"
                ) from None
        if "error" in reply:
            raise EngineError(f"the model engine for {self.kind}:{self.path} says: {reply['error']}")
        return reply["result"]

    def generate(self, req: Request) -> tuple[list[int], dict]:
        res = self._call({"op": "generate", "request": asdict(req)})
        return res["ids"], {"id": self.info["id"], "pid": self.info["pid"], "batch": res["batch"], "shared": True}

    def stats(self) -> dict:
        return self._call({"op": "stats"})


_ENGINES: dict[tuple[str, str], Any] = {}
_ENGINES_LOCK = threading.Lock()


def engine_for(kind: str, path: str, **load_kwargs: Any) -> LocalEngine | RemoteEngine:
    """This process's engine for a model: the shared one named in ``$AIRGAP_ENGINES``, else loaded here (once per process).

    ``load_kwargs`` (``device``, ``dtype``; None values ignored) apply when the model is loaded here.
    """
    path = os.path.realpath(os.path.expanduser(path))
    check_model_dir(kind, path)
    key = (kind, path)
    with _ENGINES_LOCK:
        if key not in _ENGINES:
            served = json.loads(os.environ.get(ENV_VAR) or "{}").get(f"{kind}:{path}")
            if served:
                _ENGINES[key] = RemoteEngine(served["address"], bytes.fromhex(served["authkey"]), kind, path, served.get("owner"))
            else:
                _ENGINES[key] = LocalEngine(kind, path, **{k: v for k, v in load_kwargs.items() if v is not None})
        return _ENGINES[key]


# --- the engine process ----------------------------------------------------------------------------------------


class EngineServer:
    """The engine's server side, in the process that hosts it: a listener on ``address`` (auth key), a thread per
    connection, and the batcher over the loaded backend. Used by the engine process :func:`serving` spawns and by
    the Ray executor's per-node engine actor (``airgap.envs.runner.executors.EngineActor``)."""

    def __init__(self, kind: str, path: str, address: str, authkey: bytes, options: dict | None = None):
        from multiprocessing.connection import Listener

        self.kind, self.path, self.address, self.options = kind, path, address, options or {}
        self.listener = Listener(address, family="AF_UNIX", authkey=authkey)
        self.state: dict[str, Any] = {"batcher": None, "error": None, "connections": 0}
        self.ready = threading.Event()
        self.info = {"id": uuid.uuid4().hex[:12], "pid": os.getpid(), "kind": kind, "path": path, "shared": True}
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def load(self) -> None:
        """Load the model (blocks); a failure is kept and told to every worker that asks."""
        state, options = self.state, self.options
        try:
            backend = load_backend(self.kind, self.path, **options.get("backend", {}))
            with self.lock:
                state["batcher"] = Batcher(backend, window_ms=options.get("window_ms", 5.0), max_batch=options.get("max_batch", 16))
                state["batcher"].clients = max(1, state["connections"])
            self.info.update(context_length=backend.context_length, stop_ids=sorted(backend.stop_ids))
        except Exception as e:  # noqa: BLE001 - told to every worker that asks
            state["error"] = f"loading {self.kind}:{self.path} failed: {type(e).__name__}: {e}"
        self.ready.set()

    def stats(self) -> dict:
        batcher = self.state["batcher"]
        return {**self.info, **(batcher.stats if batcher else {}), "loads": int(batcher is not None),
                "connections": self.state["connections"]}

    def _handle(self, conn) -> None:
        state, lock = self.state, self.lock
        with lock:
            state["connections"] += 1
            if state["batcher"] is not None:
                state["batcher"].clients = state["connections"]
        try:
            while True:
                try:
                    msg = conn.recv()
                except (EOFError, OSError):
                    return
                self.ready.wait()
                if state["error"]:
                    conn.send({"error": state["error"]})
                    continue
                op = msg.get("op")
                try:
                    if op == "info":
                        result: Any = self.info
                    elif op == "stats":
                        result = self.stats()
                    elif op == "generate":
                        ids, batch = state["batcher"].submit(Request(**msg["request"]))
                        result = {"ids": ids, "batch": batch}
                    else:
                        raise EngineError(f"unknown op {op!r}")
                    conn.send({"result": result})
                except Exception as e:  # noqa: BLE001 - the worker gets the message, the engine keeps serving
                    conn.send({"error": f"{type(e).__name__}: {e}"})
        finally:
            with lock:
                state["connections"] -= 1
                if state["batcher"] is not None:
                    state["batcher"].clients = max(1, state["connections"])
            conn.close()

    def _accept(self) -> None:
        while True:
            try:
                conn = self.listener.accept()
            except (OSError, EOFError):  # a client that failed the auth handshake, or the listener closed
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()


def _serve(kind: str, path: str, address: str, authkey: bytes, parent_pid: int, bound: Any, options: dict) -> None:
    """Engine process main: listen, load the model, answer requests until the parent goes away."""
    server = EngineServer(kind, path, address, authkey, options)
    bound.send(os.getpid())
    bound.close()

    def watch_parent() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        shutil.rmtree(os.path.dirname(address), ignore_errors=True)  # the driver's clean-up will not run
        os._exit(0)  # the driver died without stopping us: do not outlive it

    threading.Thread(target=watch_parent, daemon=True).start()
    server.load()
    threading.Event().wait()  # serve until terminated (by the driver, or by watch_parent)


def abstract_address(prefix: str = "airgap-model-engine-") -> str:
    """A Linux abstract unix socket name (no file: the name goes when the process that holds it goes, even on SIGKILL)."""
    return "\0" + prefix + secrets.token_hex(8)


def shown(address: str) -> str:
    """An address as people write it (an abstract socket's leading NUL as ``@``)."""
    return "@" + address[1:] if address.startswith("\0") else address


@contextlib.contextmanager
def serving(spec: str, *, window_ms: float = 5.0, max_batch: int = 16, **backend: Any) -> Iterator[dict | None]:
    """Run the shared engine for ``spec`` (``hf:PATH`` / ``vllm:PATH``) while the block runs; other specs: nothing.

    Yields ``{"kind", "path", "address", "pid"}`` (or None). Worker processes started inside the
    block find the engine through ``$AIRGAP_ENGINES``; the engine process is stopped on exit.
    """
    parsed = engine_model(spec)
    if parsed is None:
        yield None
        return
    kind, path = parsed
    check_model_dir(kind, path)
    if kind == "vllm":
        import importlib.util

        if importlib.util.find_spec("vllm") is None:
            raise ImportError(VLLM_MISSING)
    import multiprocessing as mp

    folder = tempfile.mkdtemp(prefix="airgap-model-engine-")
    address = os.path.join(folder, "engine.sock")
    authkey = secrets.token_bytes(16)
    ctx = mp.get_context("spawn")
    bound_r, bound_w = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_serve, name=f"airgap-engine-{kind}", daemon=True,
                       args=(kind, path, address, authkey, os.getpid(), bound_w,
                             {"window_ms": window_ms, "max_batch": max_batch, "backend": backend}))
    old = os.environ.get(ENV_VAR)
    try:
        proc.start()
        bound_w.close()
        if not bound_r.poll(120):
            raise EngineError(f"the model engine for {spec} did not start listening within 120 s")
        pid = bound_r.recv()
        served = json.loads(old or "{}")
        served[f"{kind}:{path}"] = {"address": address, "authkey": authkey.hex()}
        os.environ[ENV_VAR] = json.dumps(served)
        with _ENGINES_LOCK:  # a client of a stopped engine in this process must not be reused
            _ENGINES.pop((kind, path), None)
        yield {"kind": kind, "path": path, "address": address, "pid": pid}
    finally:
        if old is None:
            os.environ.pop(ENV_VAR, None)
        else:
            os.environ[ENV_VAR] = old
        with _ENGINES_LOCK:
            _ENGINES.pop((kind, path), None)
        if proc.is_alive():
            proc.terminate()
            proc.join(10)
            if proc.is_alive():
                proc.kill()
                proc.join(5)
        shutil.rmtree(folder, ignore_errors=True)
