"""The ray executor past one node: a two-node Ray cluster on this machine (Ray's own ``ray.cluster_utils.Cluster``: the
head and one worker raylet, each with one ``sandbox`` slot and one CPU), an ``hf:`` agent (a tiny random model) with
one engine actor per node, a node lost mid-run, and a resume through the CLI's ``--ray-address``.

What it shows: the episodes land on both nodes (every row names the node that played it, ``ray_node``); each node's
episodes are served by that node's own engine actor; the logs written on the worker node are shipped back to the
driver's folder; removing the worker node mid-run turns its episode in flight into an error row naming that node and
the run still ends (the actor asked to replace the lost one never finds a slot, the head finishes the queue); the
resume redoes exactly the failed episodes and the run is complete, every log verified and every reward the one its
own signed log records. Nothing is mocked: real raylets, real sandboxes, a real (tiny) model on CPU.
"""
from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest
from tiny_model import make_tiny_model

from airgap.envs.logs import read_log, verify
from airgap.envs.runner import EvalConfig, read_results, run_evaluation

ray = pytest.importorskip("ray", reason="the ray executor's tests need Ray: pip install -e '.[test]'")

TASKS = 8
SUITE = """suite: ray-cluster
version: 1
world: {snapshot: none, tools: [shell, submit], sandbox: {memory: 256m}}
budget: {max_steps: 2, tool_timeout: 10, total_tool_seconds: 30}
tasks:
""" + "".join(f"  - id: t{k}\n    kind: qa\n    instruction: \"Say {k}.\"\n"
              f"    graders: [{{type: normalized_match, expected: ['{k}']}}]\n"
              f"    oracle: [{{tool: submit, args: {{answer: '{k}'}}}}]\n" for k in range(TASKS))


@pytest.fixture(scope="module")
def cluster():
    """Head and one worker raylet on this machine, one `sandbox` slot and one CPU each; this process its driver."""
    from ray.cluster_utils import Cluster

    node = dict(num_cpus=1, resources={"sandbox": 1}, object_store_memory=80 * 1024 * 1024)
    c = Cluster(initialize_head=True, head_node_args={**node, "include_dashboard": False})
    c.add_node(**node)
    c.wait_for_nodes()
    ray.init(address=c.address, log_to_driver=False)
    yield c
    ray.shutdown()
    c.shutdown()


def _engine_of(out, row: dict) -> set[tuple]:
    """(id, pid, shared) of the engine named by the `model` events of a row's episode."""
    return {(e["engine"]["id"], e["engine"]["pid"], e["engine"]["shared"])
            for e in read_log(out / row["log"])[1] if e.get("type") == "model"}


def _logged_reward(out, row: dict) -> float:
    """The sum of the step rewards the episode's log records (its `observation` events): what the row's reward is."""
    return sum(float(e.get("reward") or 0) for e in read_log(out / row["log"])[1] if e.get("type") == "observation")


def test_episodes_spread_over_two_nodes_one_engine_each_and_a_lost_node_is_redone_on_resume(tmp_path, sandbox_image, cluster):
    head = cluster.head_node.node_id
    [worker_node] = cluster.worker_nodes
    worker = worker_node.node_id
    assert ray.get_runtime_context().get_node_id() == head  # the driver (this process) sits on the head's raylet
    tiny = make_tiny_model(tmp_path / "tiny", "hermes", context_length=2048)
    suite = tmp_path / "suite.yaml"
    suite.write_text(SUITE)
    out = tmp_path / "run"
    cfg = EvalConfig(suite=str(suite), agent=f"hf:{tiny}", out=str(out), executor="ray",
                     executor_options={"address": cluster.address}, env_kwargs={"pool_size": 1})

    # 1. the evaluation runs on both nodes; once the worker node has finished an episode, it is removed (its raylet
    # and every process of it: its episode actor mid-episode or about to take the next one, its engine actor)
    failed: list[BaseException] = []

    def evaluate() -> None:
        try:
            run_evaluation(cfg)
        except BaseException as e:  # noqa: BLE001 - reported by the assertion below
            failed.append(e)

    runner = threading.Thread(target=evaluate, daemon=True)
    runner.start()
    deadline = time.monotonic() + 240
    while runner.is_alive() and time.monotonic() < deadline and not any(
            r.get("ray_node") == worker and "error" not in r for r in read_results(out)):
        time.sleep(0.1)
    assert not failed, failed
    assert len(read_results(out)) < TASKS, "the run ended before the worker node could be removed"
    cluster.remove_node(worker_node)
    runner.join(timeout=180)
    assert not runner.is_alive(), "the evaluation hung after a node was lost"
    assert not failed, failed

    lines = read_results(out)
    assert sorted(r["task_id"] for r in lines) == [f"t{k}" for k in range(TASKS)]  # every episode has a row
    errors = [r for r in lines if "error" in r]
    before = [r for r in lines if "error" not in r]
    assert errors, "no episode was in flight on the lost node"
    for r in errors:  # the lost node's episode, named as such
        assert r["ray_node"] == worker and r["error"].startswith("Ray worker lost mid-episode"), r
    assert {r["ray_node"] for r in before} == {head, worker}  # the episodes landed on every node
    engines = {node: set().union(*(_engine_of(out, r) for r in before if r["ray_node"] == node)) for node in (head, worker)}
    for node, seen in engines.items():  # every model call of a node's episodes: that node's one shared engine
        assert len(seen) == 1 and next(iter(seen))[2] is True, (node, seen)
    assert engines[head] != engines[worker]  # two engine actors, one per node
    for r in before:  # the worker node's logs were written there and shipped into the driver's folder
        assert r["log"].startswith("logs/") and verify(out / r["log"]).status == "ok" and r["signature"]

    # 2. resume from another driver process, the CLI with --ray-address: only the failed episodes run again, on the
    # node that is left, through a fresh engine actor there
    done = subprocess.run([sys.executable, "-m", "airgap.envs.cli", "evaluate", "--suite", str(suite), "--agent", f"hf:{tiny}",
                           "--out", str(out), "--executor", "ray", "--ray-address", cluster.address],
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    final = read_results(out)
    redone = final[len(lines):]
    assert sorted(r["task_id"] for r in redone) == sorted(r["task_id"] for r in errors)
    assert all("error" not in r and r["ray_node"] == head for r in redone)
    assert engines[head].isdisjoint(set().union(*(_engine_of(out, r) for r in redone)))  # not the first run's engine

    # 3. complete and correct: one finished row per task (the first run's rows untouched), each log verified, each
    # reward the one its own signed log records
    finished = {r["task_id"]: r for r in final if "error" not in r}
    assert sorted(finished) == [f"t{k}" for k in range(TASKS)]
    assert all(finished[r["task_id"]] == r for r in before)
    for r in finished.values():
        assert verify(out / r["log"]).status == "ok" and r["signature"]
        assert r["reward"] == _logged_reward(out, r)

    from airgap.sandbox.cleanup import gc

    gc()  # what the lost node's episode actor left (its owner pid is dead): removed as `airgap sandbox gc` would
