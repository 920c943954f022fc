"""office-hard, the office suite's hard level: every world gives at least 60 tasks over every kind of hardness, and
in the real env (real Docker sandbox, real backends behind the gateway) every task's oracle scores 1 while doing
nothing and its decoy (the natural careless solution: a guess instead of asking, giving up at a 503, paying
what policy forbids, refusing what it allows) score 0, in worlds 0 and 1. The level is reached as
``--suite office --level hard`` too."""
from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from airgap.envs.suites.office_hard import generator
from airgap.envs.tasks import at_level, load_suite

PLAYED = (0, 1)
# Episodes are played in one world here (the level's others in other tests; every world: `airgap evaluate --suite office
# --level hard --seed N --agent oracle|noop|decoy`, 100% / 0% / 0%), to keep the test command inside its time budget.
EPISODES = (0,)  # the whole level but its own-tested families; the close family in world 1
CLOSE_EPISODES = (1,)
KINDS = {"workflow", "volume", "recovery", "ask", "refuse", "time", "coding", "close", "mailbox", "pr"}
SMALL = {"close": 6, "mailbox": 5}  # kinds with fewer than nine tasks a world
PRESENT = {m.__name__.rsplit(".", 1)[1] for m in generator.family_modules()}


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 5, 8, 13])
def test_every_world_gives_the_hard_level(seed):
    suite = load_suite("office-hard", world_seed=seed)
    kinds = {t.kind for t in suite.tasks}
    assert len({t.id for t in suite.tasks}) == len(suite.tasks)
    if PRESENT == set(generator.FAMILIES):
        assert len(suite.tasks) >= 60 and kinds == KINDS, (len(suite.tasks), kinds)
    per_kind = {k: sum(t.kind == k for t in suite.tasks) for k in kinds}
    assert all(n >= SMALL.get(k, 9) for k, n in per_kind.items()), per_kind
    for t in suite.tasks:
        assert t.oracle and t.decoy and "When you are done, call submit" in t.instruction


def test_levels_are_named_on_the_suite():
    assert at_level("office", "hard") == "office-hard" and at_level("office", None) == "office"
    with pytest.raises(ValueError, match="its levels: hard"):
        at_level("office", "expert")


def _play_world(seed: int, kind: str | None = None, skip: tuple[str, ...] = ()) -> list[str]:
    from airgap.envs.agents import make_agent
    from airgap.envs.env import AirgapEnv
    from airgap.envs.runner import play

    suite = load_suite("office-hard", world_seed=seed)
    env = AirgapEnv(suite="office-hard", world_seed=seed, sandbox="pool", pool_size=1)
    failures = []
    try:
        for t in [t for t in suite.tasks if (kind is None or t.kind == kind) and t.kind not in skip]:
            for spec, want in (("oracle", 1.0), ("noop", 0.0), ("decoy", 0.0)):
                agent = make_agent(spec)
                obs, info = env.reset(seed=0, options={"task_id": t.id})
                agent.reset(obs, info)
                out = play(env, agent, obs, info)
                if out.reward != want or not out.terminated:
                    failures.append(f"world {seed} {t.id} ({t.kind}) {spec}: reward {out.reward}, want {want}: "
                                    f"{out.info.get('grades')}")
                if spec == "oracle" and out.info.get("score") != 1.0:
                    failures.append(f"world {seed} {t.id}: oracle score {out.info.get('score')}")
    finally:
        env.close()
    return failures


@pytest.fixture(scope="module")
def played_worlds(sandbox_image):
    pool = ThreadPoolExecutor(max_workers=len(EPISODES))
    runs = {seed: pool.submit(_play_world, seed, skip=("close", "mailbox", "pr")) for seed in EPISODES}  # their own tests
    yield runs
    pool.shutdown(wait=True, cancel_futures=True)


@pytest.mark.parametrize("seed", EPISODES)
def test_oracle_1_noop_0_decoy_0_on_every_hard_task(seed, played_worlds):
    """Every task but the close family's (played once, by the test below, not twice) and the mailbox family's
    (tests/envs/test_office_hard_mailproto.py)."""
    failures = played_worlds[seed].result()
    assert not failures, f"{len(failures)} failure(s):\n" + "\n".join(failures[:20])


@pytest.mark.parametrize("seed", CLOSE_EPISODES)
def test_close_oracle_1_noop_0_decoy_0(seed, sandbox_image):
    """The month-end close family (the whole-level test above leaves it to this one)."""
    failures = _play_world(seed, kind="close")
    assert not failures, f"{len(failures)} failure(s):\n" + "\n".join(failures[:20])


def test_close_tasks_carry_every_part():
    """Each close task plants more vendor mail than one page of the listing and a payment run (setup, days ago);
    a pay task expects both transfers (balances under the threshold) and approval mails (above it), every task the
    look-alike transfer reported; and the careless close's writes differ from the oracle's."""
    from airgap.envs.suites.office_hard import close
    from airgap.envs.suites.workplace import Office

    for seed in PLAYED:
        o = Office(seed)
        for (mode, _pdf, _fx), d in zip(close.VARIANTS, close.tasks(o), strict=True):
            assert d.kind == "close" and len(d.inject["mail"]) > 40, len(d.inject["mail"])
            assert d.setup["commands"] and 0 < d.setup["ago_hours"] <= 720
            tables = [p["table"] for p in d.expect]
            if mode == "pay":
                assert "transfers" in tables and tables.count("messages") >= 3, tables
            else:
                assert set(tables) == {"messages"} and d.state, tables
            assert any(re.fullmatch(r"tr_\d{4}", str(p.get("where", {}).get("body", {}).get("$contains", "")))
                       for p in d.expect)
            oracle_writes = [c for c in d.oracle if c["tool"] == "http" and c["args"]["method"] == "POST"]
            decoy_writes = [c for c in d.decoy if c["tool"] == "http" and c["args"]["method"] == "POST"]
            assert oracle_writes and decoy_writes and oracle_writes != decoy_writes
