"""The office suite, generated per world seed: world 0's suite is exactly the golden file, every world gives the same 48
tasks (ids and kinds), another world is another suite (tokens, invoices), and in the real env every task's oracle scores
1 while doing nothing and its decoy (the obvious thing done to the wrong object) both score 0, in world 0, in world 5
and in world 111 (a world that lacks several things the tasks pick, so that they are planted or varied)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from airgap.envs.suites.office import generator
from airgap.envs.tasks import load_suite
from airgap.envs.tasks.registry import SUITES

GOLDEN = Path(generator.__file__).with_name("seed-0.yaml")
# The worlds played in the real env: 0 (the golden one), 5 (the issue's) and 111, which has two refundable complaints
# and no wrong-item one, a customer with no other refundable order, nobody sharing a first name, no new issue to triage,
# no open duplicates, no invitation that clashes and nobody with a second event that day, among others: together the
# three take every branch of the generator's that worlds 0, 5 and 41 took before the world's text was authored.
PLAYED = (0, 5, 111)
SEEDS = range(100)


@pytest.fixture(scope="module")
def golden() -> dict:
    return yaml.safe_load(GOLDEN.read_text(encoding="utf-8"))


def test_world_0_is_the_golden_file(golden):
    # the golden copy is the suite as served: the generator's data, each task put in its split's framing
    assert SUITES["office"].data(0) == golden, f"{GOLDEN.name} is stale: airgap tasks dump office --seed 0 -o {GOLDEN}"
    # another process with another hash seed (set and dict orders) generates the same suite
    code = ("import json, sys; import airgap.envs; from airgap.envs.tasks.registry import SUITES; "
            "sys.stdout.write(json.dumps(SUITES['office'].data(0)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONHASHSEED": "12345"}).stdout
    assert json.loads(out) == golden


def test_every_world_gives_the_same_48_tasks(golden):
    want = [(t["id"], t["kind"]) for t in golden["tasks"]]
    assert len(want) == 48
    with ProcessPoolExecutor(max_workers=2) as pool:  # generation is CPU work: both cores
        got = dict(zip(SEEDS, pool.map(_ids_and_kinds, SEEDS, chunksize=10), strict=True))
    for seed in SEEDS:
        assert got[seed] == (seed, want), f"world {seed}"


def _ids_and_kinds(seed: int) -> tuple[int, list[tuple[str, str]]]:
    data = generator.generate(seed)
    return data["world"]["world_seed"], [(t["id"], t["kind"]) for t in data["tasks"]]


@pytest.mark.parametrize("seed", [101, 106])
def test_a_world_with_one_refundable_line_generates(seed):
    """Regression: a world whose shop has a single refundable line (one delivered order inside the refund window, with
    one item: world 101 now, world 106 before the shop's industry was drawn) failed with an IndexError, as the refund
    family found no wrong line for its decoy. Its decoy is now the complaint outside the window (which the shop
    refuses), and the world still gives the same 48 tasks."""
    from datetime import timedelta

    from airgap.envs.common import parse_iso
    from airgap.envs.worldgen import generate

    data = generator.generate(seed)
    assert len(data["tasks"]) == 48
    f = generate(seed)
    window = timedelta(days=f.policies.refund_window_days)
    refundable = [(o.id, x.sku) for o in f.shop.orders if o.delivered_at
                  and parse_iso(o.delivered_at) + window >= parse_iso(f.now) for x in o.lines]
    if len(refundable) == 1:  # the case of the bug (world 101 as generated today)
        outside = next(c for c in f.shop.cases if not c.within_refund_window)
        first = data["tasks"][0]
        refunds = [c["args"]["url"] for c in first["decoy"] if c["args"].get("url", "").endswith("/refunds")]
        assert len(refunds) == 1 and refunds[0].endswith(f"/api/orders/{outside.order}/refunds"), refunds


def test_another_world_is_another_suite():
    def tokens(suite) -> set[str]:
        return {m for t in suite.tasks for m in re.findall(r"token (\S+)$", t.instruction, re.M)}

    def invoices(suite) -> set[str]:
        return {m for t in suite.tasks for m in re.findall(r"\bINV-\d+", t.instruction + json.dumps(t.oracle))}

    zero, five = load_suite("office", world_seed=0), load_suite("office", world_seed=5)
    assert tokens(zero) and tokens(five) and not tokens(zero) & tokens(five)
    assert invoices(zero) and invoices(five) and invoices(zero) != invoices(five)
    assert [t.id for t in zero.tasks] == [t.id for t in five.tasks]
    assert [t.instruction for t in zero.tasks] != [t.instruction for t in five.tasks]


@pytest.mark.parametrize("seed", PLAYED)
def test_the_suite_has_the_promised_shape(seed):
    suite = load_suite("office", world_seed=seed)
    assert suite.name == "office" and len(suite) == 48
    multi = [t for t in suite.tasks if len(t.world["backends"]) >= 2]
    programs = [t for t in suite.tasks if any(c["tool"] in ("python", "shell") for c in t.oracle)]
    assert len(multi) >= 15 and len(programs) >= 10, (len(multi), len(programs))
    for k, t in enumerate(suite.tasks, start=1):
        assert t.id == f"office-{k:03d}" and t.kind and t.decoy, t.id
        assert t.budget["max_steps"] >= len(t.oracle) + 4 and t.budget["max_steps"] >= len(t.decoy), t.id
        state = [g for g in t.graders if g["type"] == "backend_state"]
        assert len(state) == 1 and state[0]["strict"], t.id
        assert all(p["backend"] in t.world["backends"] for key in ("expect", "allow", "state")
                   for p in state[0].get(key, [])), t.id
        assert t.world["world_seed"] == seed and t.world["snapshot"] == "none", t.id
        for name in t.world["backends"]:  # the agent is told where each service is and how to authenticate
            assert re.search(rf"^- {name} \(.*token \S+$", t.instruction, re.M), (t.id, name)


def _play(env, agent_spec: str, task_id: str) -> tuple[float, list[str], list[dict]]:
    """One episode with a built-in agent: the reward, what went wrong at the tool level (every oracle and decoy request
    must be accepted by the services: a decoy is caught by the graders, not refused), and the graders' verdicts."""
    from airgap.envs.agents import make_agent
    from airgap.envs.runner import play

    agent = make_agent(agent_spec)
    obs, info = env.reset(seed=0, options={"task_id": task_id})
    agent.reset(obs, info)
    problems: list[str] = []

    def check(k, action, result):
        obs, _, _, _, info = result
        tool = action["tool"]
        if tool == "http" and not re.match(r"HTTP 2\d\d\b", obs):
            problems.append(f"step {k} http {action['args']['method']} {action['args']['url']}: {obs[:300]}")
        elif tool in ("python", "shell") and not obs.startswith("[exit code 0]"):
            problems.append(f"step {k} {tool}: {obs[:600]}")
        elif not info.get("ok", True):
            problems.append(f"step {k} {tool}: {obs[:300]}")

    out = play(env, agent, obs, info, on_step=check)
    if not out.terminated:
        problems.append(f"the episode did not end with submit ({out.steps} steps)")
    if agent_spec == "oracle" and out.reward != 1.0:
        problems.append(f"grades: {out.info.get('grades')}")
    return out.reward, problems, out.info.get("grades") or []


def _play_world(seed: int) -> list[str]:
    """Every task of world ``seed`` with the oracle (1), noop (0) and decoy (0) agents, in one env of its own."""
    from airgap.envs.env import AirgapEnv

    suite = load_suite("office", world_seed=seed)
    env = AirgapEnv(suite="office", world_seed=seed, sandbox="pool", pool_size=1)
    failures = []
    try:
        for t in suite.tasks:
            for spec, want in (("oracle", 1.0), ("noop", 0.0), ("decoy", 0.0)):
                reward, problems, grades = _play(env, spec, t.id)
                state_ok = next(g["passed"] for g in grades if g["type"] == "backend_state")
                if spec == "decoy" and len(t.graders) == 1 and state_ok:  # no answer grader: the state must catch it
                    problems.append(f"backend_state passed the decoy: {grades}")
                if reward != want or problems:
                    failures.append(f"world {seed} {t.id} ({t.kind}) {spec}: reward {reward}, want {want}; "
                                    + "; ".join(problems))
    finally:
        env.close()
    return failures


@pytest.fixture(scope="module")
def played_worlds(request, sandbox_image):
    """The worlds' episodes, started together (one env and sandbox each, in threads) when the first test asks."""
    wanted = sorted({item.callspec.params["seed"] for item in request.session.items
                     if item.originalname == "test_oracle_scores_1_noop_0_and_decoy_0_on_every_task"})
    pool = ThreadPoolExecutor(max_workers=len(wanted) or 1)
    runs = {seed: pool.submit(_play_world, seed) for seed in wanted}
    yield runs
    pool.shutdown(wait=True, cancel_futures=True)


@pytest.mark.parametrize("seed", PLAYED)
def test_oracle_scores_1_noop_0_and_decoy_0_on_every_task(seed, played_worlds):
    failures = played_worlds[seed].result()
    assert not failures, f"{len(failures)} failure(s):\n" + "\n".join(failures)
