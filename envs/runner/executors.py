"""Executors: where episodes run. ``local`` runs them in worker processes on this machine; ``ray`` on a Ray cluster.

An executor takes a list of :class:`Job` and yields one result row per job, in order of
completion. Each worker keeps one env (and so one warm sandbox pool) for all its episodes; a
harness failure in a job becomes a row with an ``error`` (retried on resume), never a crash.
Ray is imported only when the ``ray`` executor runs (``pip install airgap[ray]``).
"""
from __future__ import annotations

import multiprocessing as mp
import os
import traceback
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Protocol

from airgap.envs.agents import make_agent
from airgap.envs.agents.engine import ENV_VAR, EngineServer, abstract_address, engine_model

from .episode import run_episode


@dataclass(frozen=True)
class Job:
    """One episode to play: which task, with which seed, by which agent."""

    task_id: str
    seed: int
    agent: str


@dataclass(frozen=True)
class EnvSpec:
    """How a worker makes its env: ``gymnasium.make(env_id, log_dir=log_dir, **env_kwargs)``."""

    env_id: str
    env_kwargs: dict
    log_dir: str
    suite: str | None = None  # passed to make_agent (the oracle finds tasks of a suite given by path)
    agent_options: dict = field(default_factory=dict)  # passed to make_agent (e.g. price_per_mtok); kinds take what they use


class Executor(Protocol):
    def run(self, spec: EnvSpec, jobs: list[Job]) -> Iterator[dict]: ...


EXECUTORS: dict[str, Callable[..., Executor]] = {}


def register_executor(name: str):
    """Register an executor factory under ``name`` (``--executor NAME``); a name already taken is an error."""

    def deco(factory):
        old = EXECUTORS.get(name)
        if old is not None and old is not factory:
            raise ValueError(f"an executor named {name!r} is already registered ({old.__qualname__})")
        EXECUTORS[name] = factory
        return factory

    return deco


class ExecutorError(ValueError):
    """An executor that cannot run as asked (unknown name, Ray missing, a cluster without sandbox slots); the message says what to do."""


def make_executor(name: str, **kwargs: Any) -> Executor:
    if name not in EXECUTORS:
        raise ExecutorError(f"unknown executor {name!r}; known: {', '.join(sorted(EXECUTORS))}")
    return EXECUTORS[name](**kwargs)


# --- worker side (also usable in-process) ----------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def worker_init(spec: EnvSpec) -> None:
    _WORKER.clear()
    _WORKER.update(spec=spec, env=None)


def _env():
    import gymnasium as gym

    import airgap.envs  # noqa: F401 - registers the ids

    if _WORKER.get("env") is None:
        spec: EnvSpec = _WORKER["spec"]
        _WORKER["env"] = gym.make(spec.env_id, log_dir=spec.log_dir, **spec.env_kwargs)
    return _WORKER["env"]


def worker_run(job: Job) -> dict:
    """Play one job in this worker's env; a harness failure comes back as a row with ``error``."""
    try:
        spec: EnvSpec = _WORKER["spec"]
        agent = make_agent(job.agent, suite=spec.suite, **spec.agent_options)
        return run_episode(_env(), agent, job.task_id, job.seed, job.agent)
    except Exception as e:  # a harness failure: recorded, retried on resume, never a crash of the evaluation
        env = _WORKER.pop("env", None)
        if env is not None:
            try:
                env.close()
            except Exception:  # noqa: BLE001 - the env is already broken; the error below says why
                pass
        return {"task_id": job.task_id, "seed": job.seed, "error": f"{type(e).__name__}: {e}",
                "traceback": traceback.format_exc(limit=8)}


def worker_close() -> None:
    env = _WORKER.pop("env", None)
    if env is not None:
        env.close()


@register_executor("local")
class LocalExecutor:
    """Worker processes on this machine (``spawn``: no thread state is forked), ``workers`` at a time."""

    def __init__(self, workers: int = 2, **options: Any):
        if options:
            raise ExecutorError(f"the local executor takes no {', '.join(sorted(options))}; "
                                "--ray-address goes with --executor ray")
        self.workers = max(1, int(workers))

    def run(self, spec: EnvSpec, jobs: list[Job]) -> Iterator[dict]:
        if not jobs:
            return
        workers = min(self.workers, len(jobs))
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=worker_init,
                                 initargs=(spec,)) as pool:
            pending = {pool.submit(worker_run, job) for job in jobs}
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    yield fut.result()
            # each worker closes its env (and returns its sandboxes) before the pool goes away
            for f in [pool.submit(worker_close) for _ in range(workers)]:
                f.result()


# --- Ray -------------------------------------------------------------------------------------------------------

SANDBOX_RESOURCE = "sandbox"  # the custom Ray resource: how many sandboxes a node runs at once


class EpisodeActor:
    """One Ray actor = one worker with one env (one warm sandbox pool), holding one ``sandbox`` slot of its node.

    Its sandboxes carry its own pid as owner: if the actor dies without running a handler (a killed
    worker, a lost node), ``airgap sandbox gc`` on that node, and any later pool start there, removes them.
    """

    def __init__(self, spec: EnvSpec, driver_node: str | None = None, ship_logs: bool | None = None,
                 engines: dict[str, dict] | None = None):
        import json
        import tempfile

        import ray

        here = ray.get_runtime_context().get_node_id()
        self.node = here
        served = (engines or {}).get(here)
        if served:  # hf:/vllm: agents made in this actor become clients of this node's engine actor
            os.environ[ENV_VAR] = json.dumps({**json.loads(os.environ.get(ENV_VAR) or "{}"), **served})
        # logs land in the driver's folder when this node shares it; otherwise they are written here and shipped back
        self.ship = ship_logs if ship_logs is not None else here != driver_node
        if self.ship:
            spec = EnvSpec(spec.env_id, spec.env_kwargs, tempfile.mkdtemp(prefix="airgap-logs-"), spec.suite, spec.agent_options)
        worker_init(spec)

    def pid(self) -> int:
        return os.getpid()

    def where(self) -> dict:
        """``{"id", "host", "pid"}``: the Ray node this actor was placed on, its host name and this worker's pid."""
        import socket

        return {"id": self.node, "host": socket.gethostname(), "pid": os.getpid()}

    def run(self, job: Job) -> dict:
        row = worker_run(job)
        row["ray_node"] = self.node  # which node played it: a lost node's episodes, and how the cluster spread them
        if self.ship and row.get("log") and os.path.isfile(row["log"]):
            with open(row["log"], "rb") as f:
                row["_log_bytes"] = f.read()
            os.unlink(row["log"])
        return row

    def close(self) -> None:
        worker_close()


class EngineActor:
    """One Ray actor per node for ``hf:PATH`` / ``vllm:PATH`` agents: the node's shared model engine.

    It loads the model once and serves it with the local engine's own server
    (:class:`airgap.envs.agents.engine.EngineServer`: dynamic batching, auth key) on a Linux abstract unix
    socket, so the socket goes with the actor's process however it ends (killed at the end of the
    evaluation, crashed, or killed by Ray because its owner, the driver, died). The episode actors of the
    node connect to it exactly as the local executor's workers connect to the driver's engine process.
    """

    def __init__(self, agent_spec: str, options: dict | None = None):
        import secrets

        import ray

        kind, path = engine_model(agent_spec)
        self.node = ray.get_runtime_context().get_node_id()
        self.key, self.authkey = f"{kind}:{path}", secrets.token_bytes(16)
        self.server = EngineServer(kind, path, abstract_address(), self.authkey, options)
        self.server.load()

    def ready(self) -> dict:
        """``{"node", "pid", "served": {key: {address, authkey, owner}}}``, or ``{"node", "error"}`` when the model did not load."""
        if self.server.state["error"]:
            return {"node": self.node, "error": self.server.state["error"]}
        owner = (f"the evaluation's engine actor on Ray node {self.node[:12]} (pid {os.getpid()}), so the evaluation "
                 "ended or that actor died (killed, out of memory, node lost)")
        return {"node": self.node, "pid": os.getpid(),
                "served": {self.key: {"address": self.server.address, "authkey": self.authkey.hex(), "owner": owner}}}

    def stats(self) -> dict:
        return self.server.stats()


def _import_ray():
    try:
        import ray
    except ImportError:
        raise ExecutorError("--executor ray needs Ray: pip install 'airgap[ray]'") from None
    return ray


def _land(row: dict, log_dir: str) -> dict:
    """A log shipped back from another node is written into the driver's log folder, and the row points there."""
    data = row.pop("_log_bytes", None)
    if data is not None:
        target = os.path.join(log_dir, os.path.basename(row["log"]))
        with open(target, "wb") as f:
            f.write(data)
        row["log"] = target
    return row


@register_executor("ray")
class RayExecutor:
    """Episodes as calls on Ray actors, one actor per ``sandbox`` slot of the cluster, results in order of completion.

    ``address``: "auto" (the running cluster), ``ray://host:port`` or ``host:port``; None connects to Ray
    when this process already did ``ray.init`` and otherwise starts a local Ray with ``workers`` sandbox slots.
    On a cluster, start each node with ``ray start ... --resources '{"sandbox": N}'``: N is how many
    sandboxes (episodes) the node runs at once, and the number of actors is the cluster's total. A worker
    that dies mid-episode gives that episode an error row (retried on resume) and is replaced. Every row names the
    node that played it (``ray_node``, the Ray node id). A lost node takes its actors with it: their episodes become
    error rows naming that node, their replacements wait for a slot that may never come back, and the run ends on
    the nodes that remain (if none has a ``sandbox`` slot left, the rest of the queue becomes error rows); a resume
    redoes them all.

    ``hf:PATH`` / ``vllm:PATH`` agents: one :class:`EngineActor` per node holds the model (on the node's GPUs) and
    serves every episode actor of that node; the engine actors are owned by the driver and killed when the run
    ends. An engine actor that dies gives the node's episodes ``EngineGone`` error rows (retried on resume).
    """

    def __init__(self, workers: int = 2, address: str | None = None, ship_logs: bool | None = None,
                 engine_options: dict | None = None, engine_timeout: float = 900.0):
        self.workers = max(1, int(workers))
        self.address = address
        self.ship_logs = ship_logs
        self.engine_options = engine_options or {}  # EngineServer options: window_ms, max_batch, backend (device, dtype...)
        self.engine_timeout = float(engine_timeout)  # seconds for every node's engine actor to load the model

    def _start_engines(self, ray, jobs: list[Job], actors: list) -> dict[str, dict]:
        """One :class:`EngineActor` per node with sandbox slots for each ``hf:``/``vllm:`` agent of the jobs, placed
        on that node (node affinity) and given the node's GPUs; returns ``{node id: {key: served}}`` for the episode
        actors. A model that does not load (or an actor that cannot be placed in time) stops the run before any episode."""
        specs = sorted({job.agent for job in jobs if engine_model(job.agent)})
        if not specs:
            return {}
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        nodes = [n for n in ray.nodes() if n.get("Alive") and n.get("Resources", {}).get(SANDBOX_RESOURCE, 0) > 0]
        engine_cls = ray.remote(EngineActor)
        for node in nodes:
            gpus = node["Resources"].get("GPU", 0) / len(specs)
            for agent in specs:
                actors.append(engine_cls.options(num_cpus=0, num_gpus=gpus, max_restarts=0, scheduling_strategy=
                                                 NodeAffinitySchedulingStrategy(node["NodeID"], soft=False)).remote(agent, self.engine_options))
        try:
            infos = ray.get([a.ready.remote() for a in actors], timeout=self.engine_timeout)
        except ray.exceptions.GetTimeoutError:
            raise ExecutorError(f"the model engine actors for {', '.join(specs)} did not load within {self.engine_timeout:.0f} s "
                                "(a node's GPUs taken by something else? a very large model? raise executor_options "
                                "engine_timeout)") from None
        except ray.exceptions.RayError as e:
            raise ExecutorError(f"a model engine actor for {', '.join(specs)} died while loading: "
                                f"{type(e).__name__}: {str(e).splitlines()[0][:300]}") from None
        served: dict[str, dict] = {}
        for info in infos:
            if "error" in info:
                raise ExecutorError(f"the model engine on Ray node {info['node'][:12]}: {info['error']} "
                                    "(every node needs the model folder at the same path)")
            served.setdefault(info["node"], {}).update(info["served"])
        return served

    def _connect(self, ray) -> bool:
        """Connect (or start a local Ray); True when this executor started Ray and so shuts it down."""
        if ray.is_initialized():
            return False
        try:
            if self.address:
                ray.init(address=self.address, log_to_driver=False)
                return True
            ray.init(num_cpus=os.cpu_count() or 1, resources={SANDBOX_RESOURCE: self.workers},
                     include_dashboard=False, log_to_driver=False)
        except ConnectionError as e:
            raise ExecutorError(f"cannot reach the Ray cluster at {self.address!r} ({e}); start it with `ray start --head "
                                f"--resources '{{\"{SANDBOX_RESOURCE}\": N}}'` or give its address with --ray-address") from None
        return True

    def run(self, spec: EnvSpec, jobs: list[Job]) -> Iterator[dict]:
        if not jobs:
            return
        ray = _import_ray()
        started = self._connect(ray)
        actors: list = []  # placed episode actors, alive as far as the driver knows (their envs are closed at the end)
        starting: dict = {}  # where() call -> an episode actor asked for and not yet placed on a node
        engine_actors: list = []
        node_of: dict = {}  # placed actor -> its Ray node id
        try:
            slots = int(ray.cluster_resources().get(SANDBOX_RESOURCE, 0))
            if slots < 1:
                raise ExecutorError(f"the Ray cluster has no {SANDBOX_RESOURCE!r} resource; start each node with "
                                    f"`ray start ... --resources '{{\"{SANDBOX_RESOURCE}\": N}}'` (N sandboxes at once)")
            if not self.address and not started:
                slots = min(slots, self.workers)  # a Ray this process started itself: --workers at a time
            driver_node = ray.get_runtime_context().get_node_id()
            engines = self._start_engines(ray, jobs, engine_actors)
            actor_cls = ray.remote(num_cpus=0, resources={SANDBOX_RESOURCE: 1}, max_restarts=0)(EpisodeActor)

            def new_actor() -> None:
                a = actor_cls.remote(spec, driver_node, self.ship_logs, engines)
                starting[a.where.remote()] = a

            def lost(job: Job, why: str, node: str | None) -> dict:
                return {"task_id": job.task_id, "seed": job.seed, "error": why, **({"ray_node": node} if node else {})}

            queue = deque(jobs)
            inflight: dict = {}
            idle: list = []
            for _ in range(min(slots, len(jobs))):
                new_actor()
            # a job goes to an actor once it is placed: an actor that replaces one lost with its node may never be
            # placed (the cluster shrank), and the run goes on, and ends, on the actors that are
            while inflight or (queue and starting):
                ready, _ = ray.wait([*inflight, *starting], num_returns=1, timeout=None if inflight else 10.0)
                if not ready:  # nothing running, only actors waiting for a slot: does the cluster still have any?
                    if int(ray.cluster_resources().get(SANDBOX_RESOURCE, 0)) < 1:
                        while queue:
                            yield lost(queue.popleft(), f"no Ray node with a {SANDBOX_RESOURCE!r} slot is left in the "
                                       "cluster (nodes lost); run the evaluation again to resume", None)
                    continue
                ref = ready[0]
                if ref in starting:
                    actor = starting.pop(ref)
                    try:
                        node_of[actor] = ray.get(ref)["id"]
                        actors.append(actor)
                        idle.append(actor)
                    except ray.exceptions.RayError as e:  # it could not start (its node lost, its constructor failed)
                        ray.kill(actor, no_restart=True)
                        if not inflight and not starting and not idle:
                            why = f"no episode actor could start: {type(e).__name__}: {str(e).splitlines()[0][:300]}"
                            while queue:
                                yield lost(queue.popleft(), why, None)
                else:
                    actor, job = inflight.pop(ref)
                    try:
                        row = _land(ray.get(ref), spec.log_dir)
                        idle.append(actor)
                    except ray.exceptions.RayError as e:  # the worker died (killed, out of memory, node lost)
                        actors.remove(actor)
                        ray.kill(actor, no_restart=True)
                        row = lost(job, f"Ray worker lost mid-episode: {type(e).__name__}: {str(e).splitlines()[0][:300]}",
                                   node_of.get(actor))
                        if queue:
                            new_actor()
                    yield row
                while queue and idle:
                    actor, job = idle.pop(), queue.popleft()
                    inflight[actor.run.remote(job)] = (actor, job)
        finally:
            # each actor closes its env (returns its sandboxes) before it goes; one that cannot is killed, and
            # what it leaves is labelled with its dead pid, so the next pool start or `airgap sandbox gc` removes it
            try:
                if actors:  # a dead one's call fails at once; the others get up to 120 s together
                    ray.wait([a.close.remote() for a in actors], num_returns=len(actors), timeout=120)
            except Exception:  # noqa: BLE001 - clean-up on the way out; gc is the backstop
                pass
            for a in actors + list(starting.values()) + engine_actors:  # the engine actors last: their processes, models and sockets go
                ray.kill(a, no_restart=True)
            if started:
                ray.shutdown()
