"""Train and test worlds share nothing the split declares: 100 train worlds against 20 test worlds.

The world-level axes (industries, host names, surnames and so every person, organisation, brand and company name,
the authored text templates and their families) are read from the generated facts of all 120 worlds. The
task-level ones (task framings, attack phrasings, task kinds) need each generated suite built for a world, so they
are checked on a sample of 4 train and 3 test worlds per suite here (all 120 worlds:
``python scripts/check_splits.py``). Every task kind must appear in both splits, so success per kind compares.
"""
from __future__ import annotations

import json

import pytest

from airgap.envs.tasks import SUITES, is_generated
from airgap.envs.tasks.shift import declaration, shift_hash, task_axes
from airgap.envs.worldgen.facts import INDUSTRIES, generate
from airgap.envs.worldgen.splits import SPLITS, family_of, index_of, label, pools, region, split_of, surname_part, world_seed

TRAIN, TEST = [world_seed("train", i) for i in range(100)], [world_seed("test", i) for i in range(20)]
GENERATED = [name for name in SUITES if is_generated(name)]


def axes(seed: int) -> dict[str, set]:
    """What world ``seed`` was made of, per declared axis."""
    f = generate(seed)
    hosts = {f.org.domain, f.shop.domain, f.bank.domain, *(v.domain for v in f.vendors)}
    surnames = {p.last_name for p in f.people} | {c.name.split()[-1] for c in f.shop.customers}
    own = {f.org.domain, f.shop.domain, *(v.domain for v in f.vendors)}  # named in the split's top-level domains
    return {"industry": {f.org.industry}, "host": hosts, "own_host": own, "surname": surnames, "org": {f.org.name, f.shop.brand, f.bank.name},
            "template": set(f.provenance["text"]), "vendor": {v.name for v in f.vendors}}


@pytest.fixture(scope="module")
def worlds() -> dict[str, dict[str, set]]:
    out = {}
    for split, seeds in (("train", TRAIN), ("test", TEST)):
        acc: dict[str, set] = {}
        for s in seeds:
            for k, v in axes(s).items():
                acc.setdefault(k, set()).update(v)
        out[split] = acc
    return out


@pytest.mark.parametrize("axis", ["industry", "host", "surname", "org", "template", "vendor"])
def test_no_test_world_value_appears_in_any_train_world(worlds, axis):
    shared = worlds["train"][axis] & worlds["test"][axis]
    assert not shared, f"{axis}: {sorted(shared)[:10]} in both train and test worlds"
    assert worlds["train"][axis] and worlds["test"][axis]


def test_each_split_draws_only_from_its_declared_region(worlds):
    assert worlds["train"]["industry"] <= set(region("train").industries)
    assert worlds["test"]["industry"] <= set(region("test").industries)
    assert len(worlds["train"]["industry"]) >= 2 and len(worlds["test"]["industry"]) >= 2  # the worlds vary inside it
    for split in ("train", "test"):
        assert {h.rsplit(".", 1)[1] for h in worlds[split]["own_host"]} <= set(region(split).tlds)
    assert {surname_part(s) for s in worlds["train"]["surname"]} == {0}
    assert {surname_part(s) for s in worlds["test"]["surname"]} == {1}
    by_id = {_tid(t): family_of(t) for t in _all_templates()}
    assert {by_id[i] for i in worlds["train"]["template"]} == {"a"}
    assert {by_id[i] for i in worlds["test"]["template"]} == {"b"}


def test_the_regions_name_real_industries_and_train_and_test_share_none():
    for split in SPLITS:
        assert set(region(split).industries) <= set(INDUSTRIES), split
    tr, te = region("train"), region("test")
    for axis in ("industries", "org_suffixes", "bank_suffixes", "tlds", "name_parts", "text", "framings"):
        assert not set(getattr(tr, axis)) & set(getattr(te, axis)), axis


def test_world_seeds_carry_their_split():
    assert world_seed("test", 3) == 3 and world_seed("train", 3) == 2_000_003 and world_seed("dev", 0) == 1_000_000
    assert [split_of(s) for s in (0, 999_999, 1_000_000, 2_000_007)] == ["test", "test", "dev", "train"]
    assert index_of(2_000_007) == 7 and label(2_000_007) == "train/7"
    with pytest.raises(ValueError, match="unknown split"):
        world_seed("holdout", 0)
    with pytest.raises(ValueError, match="outside every split"):
        split_of(3_000_000)
    assert generate(3).split == "test" and generate(world_seed("train", 3)).split == "train"


@pytest.mark.parametrize("suite", GENERATED)
def test_task_framings_attack_phrasings_and_kinds_are_split(suite):
    train, test = task_axes(suite, TRAIN[:4]), task_axes(suite, TEST[:3])
    (tv, tp, tk), (sv, sp, sk) = (train["framings"], train["phrasings"], train["kinds"]), \
        (test["framings"], test["phrasings"], test["kinds"])
    assert tv and sv and not tv & sv, f"framings in both: {tv & sv}"
    assert {v[0] for v in tv} == {"a"} and {v[0] for v in sv} == {"b"}
    assert not tp & sp, f"attack phrasings in both: {sorted(tp & sp)[:5]}"
    if suite.startswith("safety-"):
        assert tp and sp
    assert tk == sk, f"task kinds only in train: {tk - sk}, only in test: {sk - tk}"


@pytest.mark.parametrize("suite", GENERATED)
def test_every_generated_suite_declares_its_shift(suite):
    d = declaration(suite)
    assert d["suite"] == suite and suite in d["suites"] and d["world"]["splits"].keys() == set(SPLITS)
    for axis in (d.get("axes") or {}).values():
        assert set(axis) >= set(SPLITS) and axis.get("what")
    h = shift_hash(suite)
    assert h.startswith("sha256:") and h == shift_hash(suite)


def test_fixed_suites_have_no_split():
    assert declaration("webqa") is None and shift_hash("webqa") is None


def _all_templates() -> list:
    return [t for pool in pools() for t in pool if t != ""]


def _tid(t) -> str:
    from airgap.envs.worldgen.splits import template_id

    return template_id(t)


def test_the_cli_prints_a_suites_splits():
    from typer.testing import CliRunner

    from airgap.envs.cli import app

    r = CliRunner().invoke(app, ["tasks", "splits", "office", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["shift_hash"] == shift_hash("office") and set(d["world"]["splits"]) == set(SPLITS)
    r = CliRunner().invoke(app, ["tasks", "splits", "webqa"])
    assert r.exit_code == 0 and "no worlds to split" in r.output
    r = CliRunner().invoke(app, ["tasks", "splits", "nope"])
    assert r.exit_code == 2 and "airgap tasks list" in r.output
