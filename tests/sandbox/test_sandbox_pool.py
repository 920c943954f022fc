"""SandboxPool overflow and the per-process shared pools (one per config and size; fork- and exit-safe)."""
from __future__ import annotations

import multiprocessing
import os

import pytest
from sandbox_helpers import containers, wait_for

from airgap.sandbox import SandboxConfig, SandboxError, SandboxPool, close_shared_pools, shared_pool

pytestmark = pytest.mark.docker


def _running(**labels: str) -> set[str]:
    return {c["labels"]["airgap.sandbox"] for c in containers(**labels) if c["status"] == "running"}


def test_overflow_starts_a_fresh_sandbox_and_release_closes_it(sandbox_image):
    with SandboxPool(size=1, config=SandboxConfig(image=sandbox_image)) as pool:
        pooled = pool.acquire()
        assert pool.in_use == 1
        with pytest.raises(SandboxError, match="no sandbox became ready"):
            pool.acquire(timeout=0.5)  # without overflow a caller waits for the one pooled sandbox
        extra = pool.acquire(overflow=True)
        assert extra.id != pooled.id and extra.exec("echo hi").stdout == "hi\n"
        assert pool.in_use == 1  # the overflow sandbox is not one of the pool's
        pool.release(extra)
        assert containers(**{"airgap.sandbox": extra.id}) == [] and not extra.alive()
        assert pool.in_use == 1 and pool.ready == 0  # closed, not queued for reuse, nothing started in its place
        pool.release(pooled)
        assert pool.in_use == 0
        assert wait_for(lambda: pool.ready == 1, 120), "the pool did not recycle the pooled sandbox"
        again = pool.acquire(overflow=True)  # one is warm again, so overflow takes it from the pool
        assert pool.in_use == 1 and again.id == pooled.id and pool.recycled == 1  # the pooled one, recycled
        pool.release(again)
    assert wait_for(lambda: containers(**{"airgap.owner_pid": str(os.getpid())}) == [])


def test_shared_pool_is_one_per_config_and_size(sandbox_image):
    try:
        pool = shared_pool(SandboxConfig(image=sandbox_image), 0)  # size 0: no container needed to check identity
        assert shared_pool(SandboxConfig(image=sandbox_image), 0) is pool  # equal configs share it
        assert shared_pool(SandboxConfig(image=sandbox_image, memory="256m"), 0) is not pool
        close_shared_pools()
        with pytest.raises(SandboxError, match="closed"):
            pool.acquire(timeout=1)
        assert shared_pool(SandboxConfig(image=sandbox_image), 0) is not pool
    finally:
        close_shared_pools()


def _worker(conn, config: SandboxConfig, parents: SandboxPool) -> None:
    """A multiprocessing worker (as gymnasium's AsyncVectorEnv starts them): it ends with os._exit."""
    pool = shared_pool(config, 1)
    ready = wait_for(lambda: pool.ready == 1, 120)
    conn.send({"pid": os.getpid(), "parents": pool is parents, "ready": ready})
    conn.close()


def test_shared_pools_are_per_process_and_closed_when_a_worker_exits(sandbox_image):
    config = SandboxConfig(image=sandbox_image)
    me = {"airgap.owner_pid": str(os.getpid())}
    try:
        parents = shared_pool(config, 1)
        assert wait_for(lambda: parents.ready == 1, 120)
        [warm] = _running(**me)
        ctx = multiprocessing.get_context("fork")
        ours, theirs = ctx.Pipe()
        child = ctx.Process(target=_worker, args=(theirs, config, parents))
        child.start()
        assert ours.poll(180), "the worker did not report"
        report = ours.recv()
        child.join(120)
        assert child.exitcode == 0
        assert report["ready"] and not report["parents"]  # the child started its own pool
        assert containers(**{"airgap.owner_pid": str(report["pid"])}) == []  # removed by the worker on its way out
        assert _running(**me) == {warm} and parents.ready == 1  # the parent's pool was not touched
    finally:
        close_shared_pools()
    assert wait_for(lambda: containers(**me) == [])
