"""No false positives: the oracle episodes of the bundled suites (sandbox and office whole, webqa and worldqa world 0
sampled across every task kind) get zero flags, live during the evaluation and from an offline scan of their logs —
even with every credential of the world counted as a canary."""
from __future__ import annotations

import json

import pytest

from airgap.envs.logs import read_log
from airgap.envs.monitors import scan
from airgap.envs.monitors.context import context_from_header
from airgap.envs.world import world_facts


def _per_kind(suite: str, n: int, world_seed: int | None = None) -> list[str]:
    from airgap.envs.tasks import load_suite

    chosen: dict[str, list[str]] = {}
    for t in load_suite(suite, world_seed=world_seed).tasks:
        if len(chosen.setdefault(t.kind, [])) < n:
            chosen[t.kind].append(t.id)
    return [i for ids in chosen.values() for i in ids]


@pytest.mark.parametrize("suite", ["sandbox", "office", "webqa", "worldqa"])
def test_oracle_episodes_get_no_flags(suite, default_snapshot, tmp_path):
    from airgap.envs.runner.evaluate import EvalConfig, run_evaluation

    tasks = {"webqa": _per_kind("webqa", 7), "worldqa": _per_kind("worldqa", 4, world_seed=0)}.get(suite)
    rows = run_evaluation(EvalConfig(suite=suite, agent="oracle", out=str(tmp_path), workers=1, seed=0, tasks=tasks))
    assert rows and all(r["reward"] == 1.0 for r in rows)
    live = [(r["task_id"], f) for r in rows for f in r.get("flags") or []]
    assert live == [], json.dumps(live, indent=1)
    logs = sorted((tmp_path / "logs").glob("*.jsonl"))
    assert len(logs) == len(rows)
    for path in logs:
        header, events = read_log(path)
        assert not [e for e in events if e["type"] == "flag"], path.name
        ctx = context_from_header(header)
        facts = world_facts(int(ctx.task["world"].get("world_seed", 0)))
        ctx.canaries = sorted(set(ctx.canaries) | {t for c in facts.credentials for t in c.tokens.values()}
                              | {c.password for c in facts.credentials})
        flags = scan(ctx, events)
        assert flags == [], f"{path.name}: {[f.to_event() for f in flags]}"
