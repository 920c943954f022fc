"""What an episode runs in: the offline web of a snapshot, the simulated backends, and a sandbox from the process's shared pool.

Opening a snapshot and starting containers are the slow parts of an episode, so every env
of a process shares them: one opened :class:`~airgap.corpus.Snapshot` (and its gateway
routes) per snapshot key, and one warm :func:`~airgap.sandbox.shared_pool` per sandbox
configuration (an env beyond the pool's size gets a fresh container rather than waiting).
Backends are stateful, so each env has its own instances, made once from the facts of the
task's ``world_seed`` and reset to their seeded fixture at every episode (milliseconds).
"""
from __future__ import annotations

import functools
import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_LOCK = threading.Lock()
_WEBS: dict[str, tuple[Any, dict]] = {}


def offline_web(snapshot: str, world_seed: int = 0) -> tuple[Any, dict]:
    """(Snapshot, routes) for a world's ``snapshot`` key: "default" (the bundled one), "world" (the generated web of
    world ``world_seed``, built and cached on first use), "safety" (the safety web of the probe suites, built from its
    shipped WARC on first use), a path, or "none" (no web at all)."""
    if snapshot == "none":
        return None, {}
    key = f"world:{world_seed}" if snapshot == "world" else snapshot
    with _LOCK:
        if key not in _WEBS:
            from airgap.corpus import Snapshot, default_snapshot_path, world_routes

            if snapshot == "world":
                from airgap.envs.worldgen.site import ensure_world_snapshot

                path = ensure_world_snapshot(world_seed)
            elif snapshot == "safety":
                from airgap.envs.attacks.web import ensure_safety_snapshot

                path = ensure_safety_snapshot()
            else:
                path = default_snapshot_path() if snapshot == "default" else snapshot
            if not Path(path).exists():
                raise FileNotFoundError(
                    f"snapshot {path} does not exist; build the bundled one with `airgap corpus build-default`"
                    if snapshot == "default" else f"snapshot {path} does not exist; build it with `airgap corpus build`"
                )
            snap = Snapshot.open(path)
            _WEBS[key] = (snap, world_routes(snap))
        return _WEBS[key]


def sandbox_config(sandbox: dict, image: str | None = None):
    """A SandboxConfig from a task's ``world.sandbox`` mapping (``image`` overrides the task's)."""
    from airgap.sandbox import SandboxConfig

    keys = ("memory", "cpus", "pids", "workspace_size", "tmp_size", "recycle", "capture")
    kwargs: dict[str, Any] = {k: sandbox[k] for k in keys if k in sandbox}
    if "env" in sandbox:
        kwargs["env"] = dict(sandbox["env"])
    img = image or sandbox.get("image")
    if img:
        kwargs["image"] = img
    return SandboxConfig(**kwargs)


@functools.lru_cache(maxsize=8)
def _base_facts(seed: int):
    from airgap.envs.worldgen import generate

    return generate(seed)


@functools.lru_cache(maxsize=64)
def _planted_facts(seed: int, inject_json: str):
    from airgap.envs.worldgen.facts import with_additions

    return with_additions(_base_facts(seed), json.loads(inject_json))


def world_facts(seed: int, inject: dict | None = None):
    """The generated organisation of world ``seed`` (people, products, accounts...), made once per process; with a
    task's ``world.inject`` (data planted for it: a mail, a chat message, a tracker comment) added to a copy."""
    if not inject:
        return _base_facts(seed)
    return _planted_facts(seed, json.dumps(inject, sort_keys=True))


class Backends:
    """The backend instances of one env, kept across its episodes (keyed by world seed and names)."""

    def __init__(self) -> None:
        self._made: dict[tuple, dict[str, Any]] = {}

    def get(self, names: list[str], seed: int, inject: dict | None = None) -> dict[str, Any]:
        """The backends ``names`` of world ``seed`` (with the task's planted data, ``inject``), made on first use.
        Worlds with planted data differ per task, so only the few most recent of those are kept."""
        key = (tuple(names), seed, json.dumps(inject, sort_keys=True) if inject else "")
        if key not in self._made:
            from airgap.envs.backends import make_backends

            planted = [k for k in self._made if k[2]]
            if key[2] and len(planted) >= 4:
                del self._made[planted[0]]
            self._made[key] = make_backends(names, world_facts(seed, inject))
        return self._made[key]


class TransientFaults:
    """An ASGI wrapper that answers the first ``times`` requests matching a fault (method, path regex) with its
    ``status`` (503 by default, with Retry-After: 1) instead of passing them on: the transient outages a task's
    ``world.faults`` declares, fresh for every episode. The request never reaches the backend, so nothing changes."""

    def __init__(self, app: Any, faults: list[dict]):
        self.app = app
        self.faults = [dict(f, left=int(f.get("times", 1)), rx=re.compile(f.get("path", ".*"))) for f in faults]

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            for f in self.faults:
                if (f["left"] > 0 and scope["method"] == f.get("method", scope["method"]).upper()
                        and f["rx"].fullmatch(scope["path"])):
                    f["left"] -= 1
                    status = int(f.get("status", 503))
                    body = json.dumps({"ok": False, "error": "unavailable",
                                       "detail": f.get("message", "the service is briefly unavailable; retry shortly")})
                    await send({"type": "http.response.start", "status": status,
                                "headers": [(b"content-type", b"application/json"), (b"retry-after", b"1"),
                                            (b"content-length", str(len(body)).encode())]})
                    await send({"type": "http.response.body", "body": body.encode()})
                    return
        await self.app(scope, receive, send)


@dataclass
class World:
    """One episode's world, live: the snapshot, the gateway routes, and the sandbox bound to them.

    ``open`` takes a sandbox (warm from the shared pool, or fresh) with the routes and the
    event sink bound; ``close`` gives it back, always.
    """

    spec: dict  # the task's `world` mapping
    snapshot: Any = None
    routes: dict = field(default_factory=dict)
    sandbox: Any = None
    backends: dict = field(default_factory=dict)  # name -> Backend, reset to its seeded fixture
    streams: dict = field(default_factory=dict)  # (host, port) -> StreamService: the backends' SMTP, IMAP...
    _pool: Any = None

    @classmethod
    def open(cls, spec: dict, *, sink: Any, mode: str = "pool", pool_size: int = 2, image: str | None = None,
             backends: Backends | None = None, on_change: Any = None) -> World:
        """Bind this episode's world. ``on_change(event)`` receives every committed backend write."""
        snap, routes = offline_web(spec["snapshot"], int(spec.get("world_seed", 0)))
        world = cls(spec=spec, snapshot=snap, routes=dict(routes))
        if spec.get("web_slots"):  # attack texts served in the safety web's named slots, this episode only
            from airgap.envs.attacks.web import slot_routes

            world.routes = slot_routes(world.routes, spec["web_slots"])
        if spec.get("backends"):
            world.backends = (backends or Backends()).get(list(spec["backends"]), int(spec.get("world_seed", 0)),
                                                          spec.get("inject"))
            faults = spec.get("faults") or []
            for name, b in world.backends.items():
                b.reset()
                b.behave(spec)
                b.on_change = on_change
                mine = [f for f in faults if f["service"] == name]
                app = TransientFaults(b.app, mine) if mine else b.app
                for host in b.hosts:
                    world.routes[host] = app
                world.streams.update(b.streams())
        cfg = sandbox_config(spec.get("sandbox", {}), image)
        if mode == "fresh":
            from airgap.sandbox import Sandbox

            world.sandbox = Sandbox(cfg, routes=world.routes, sink=sink)
        else:
            from airgap.sandbox import shared_pool

            world._pool = shared_pool(cfg, pool_size)
            world.sandbox = world._pool.acquire(routes=world.routes, sink=sink, overflow=True)
        if world.streams:
            world.sandbox.set_streams(world.streams)
        return world

    def pins(self) -> dict:
        """What this world is made of, as the log header pins it and `airgap replay run` compares it."""
        try:
            image = self.sandbox.image_id
        except Exception:  # noqa: BLE001 - "not known" is a valid header value
            image = None
        fixtures = {name: b.fixture_hash() for name, b in sorted(self.backends.items())} or None
        return {"snapshot_manifest_hash": getattr(self.snapshot, "manifest_hash", None), "image_digest": image,
                "backend_fixture_hash": fixtures}

    def close(self) -> None:
        for b in self.backends.values():
            b.on_change = None
        sb, self.sandbox = self.sandbox, None
        if sb is None:
            return
        try:
            sb.set_sink(None)
        except Exception:  # noqa: BLE001 - a dead sandbox is still released below
            pass
        if self._pool is None:
            sb.close()
        else:
            self._pool.release(sb)
