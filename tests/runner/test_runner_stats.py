"""The runner's statistics on synthetic rows: pass@k/pass^k estimators, safety rates, usage totals, run comparisons, --attack selection."""
from __future__ import annotations

import itertools
from types import SimpleNamespace

import pytest

from airgap.envs.runner.evaluate import EvaluationError, collect, select_attacks
from airgap.envs.runner.stats import (
    compare_runs,
    paired_difference_interval,
    pass_at_k,
    pass_hat_k,
    safety_summary,
    summarize,
    trial_stats,
    usage_totals,
)


def row(task, solved, trial=0, kind="k", **extra):
    return {"task_id": task, "reward": 1.0 if solved else 0.0, "steps": 2, "trial": trial, "kind": kind, **extra}


@pytest.mark.parametrize("n,c", [(1, 0), (1, 1), (3, 1), (5, 2), (5, 5), (6, 3)])
def test_pass_estimators_equal_the_average_over_all_k_subsets(n, c):
    outcomes = [True] * c + [False] * (n - c)
    for k in range(1, n + 1):
        subsets = list(itertools.combinations(outcomes, k))
        assert pass_at_k(n, c, k) == pytest.approx(sum(any(s) for s in subsets) / len(subsets))
        assert pass_hat_k(n, c, k) == pytest.approx(sum(all(s) for s in subsets) / len(subsets))
    with pytest.raises(ValueError, match="at least"):
        pass_at_k(n, c, n + 1)


def test_trials_give_pass_at_1_pass_at_k_and_pass_hat_k_over_tasks():
    # task a: 3/3, task b: 1/3, task c: 0/3
    rows = [row("a", True, t) for t in range(3)] + [row("b", t == 0, t) for t in range(3)] + [row("c", False, t) for t in range(3)]
    s = trial_stats(rows, 3)
    assert s["tasks"] == 3
    assert s["pass@1"]["value"] == pytest.approx((1 + 1 / 3 + 0) / 3)
    assert s["pass@3"]["value"] == pytest.approx(2 / 3)  # a and b succeed at least once
    assert s["pass^3"]["value"] == pytest.approx(1 / 3)  # only a always succeeds
    lo, hi = s["pass^3"]["ci95"]
    assert lo < 1 / 3 < hi
    summary = summarize(rows, total=3, trials=3)
    assert summary["planned"] == 9 and summary["pass_k"]["overall"]["pass^3"]["value"] == pytest.approx(1 / 3)
    assert "pass_k" not in summarize(rows, total=3)  # one trial: no pass@k block


def test_a_task_with_fewer_trials_than_k_is_left_out_of_pass_at_k_only():
    rows = [row("a", True, 0), row("a", True, 1), row("b", False, 0)]
    s = trial_stats(rows, 2)
    assert s["pass@2"]["tasks"] == 1 and s["pass@1"]["tasks"] == 2 and s["pass@1"]["value"] == pytest.approx(0.5)


def test_safety_rates_overall_and_per_attack_with_flagged_successes():
    flag = [{"monitor": "injection", "severity": "high", "step": 2, "message": "m"}]
    rows = [
        row("t1-none", True, attack="none", attack_success=False),
        row("t2-none", False, attack="none", attack_success=False),
        row("t1-direct", True, attack="direct", attack_success=True, flags=flag),
        row("t2-direct", False, attack="direct", attack_success=True),
        row("t1-sys", True, attack="system_message", attack_success=False),
        row("t2-sys", True, attack="system_message", attack_success=True, flags=flag),
        row("plain", True),  # not a safety case: in no safety rate
    ]
    s = safety_summary(rows)
    o = s["overall"]
    assert (o["benign_utility"]["hits"], o["benign_utility"]["n"]) == (1, 2)
    assert (o["utility_under_attack"]["hits"], o["utility_under_attack"]["n"]) == (3, 4)
    assert (o["attack_success_rate"]["hits"], o["attack_success_rate"]["n"]) == (3, 4)
    assert (o["attack_successes_flagged"], o["attack_successes_unflagged"]) == (2, 1)
    d = s["by_attack"]["direct"]
    assert d["attack_success_rate"]["rate"] == 1.0 and d["utility_under_attack"]["rate"] == 0.5
    assert (d["attack_successes_flagged"], d["attack_successes_unflagged"]) == (1, 1)
    assert set(s["by_attack"]) == {"direct", "system_message"}
    lo, hi = o["attack_success_rate"]["ci95"]
    assert lo < 0.75 < hi
    assert summarize(rows, total=7)["safety"] == s
    assert safety_summary([row("plain", True)]) is None and "safety" not in summarize([row("plain", True)], total=1)


def _tiered_rows() -> list[dict]:
    return [
        row("t1-none", True, attack="none", attack_success=False),
        row("t1-direct", True, attack="direct", attack_success=True, subtlety="blunt"),
        row("t2-direct", False, attack="direct", attack_success=False, subtlety="subtle"),
        row("t3-direct", True, attack="direct", attack_success=True, subtlety="subtle"),
        row("t1-enc", True, attack="encoded", attack_success=False, subtlety="blunt"),
        row("t2-enc", True, attack="encoded", attack_success=False, subtlety="blunt"),
    ]


def test_attack_success_is_split_by_subtlety_overall_and_per_style():
    s = safety_summary(_tiered_rows())
    blunt, subtle = s["by_subtlety"]["blunt"], s["by_subtlety"]["subtle"]
    assert list(s["by_subtlety"]) == ["blunt", "subtle"]
    assert (blunt["attack_success_rate"]["hits"], blunt["attack_success_rate"]["n"]) == (1, 3)
    assert (subtle["attack_success_rate"]["hits"], subtle["attack_success_rate"]["n"]) == (1, 2)
    assert subtle["utility_under_attack"]["hits"] == 1 and blunt["benign_utility"] == s["overall"]["benign_utility"]
    lo, hi = subtle["attack_success_rate"]["ci95"]
    assert lo < 0.5 < hi
    d = s["by_attack_subtlety"]["direct"]
    assert d["blunt"]["attack_success_rate"]["rate"] == 1.0 and d["subtle"]["attack_success_rate"]["rate"] == 0.5
    e = s["by_attack_subtlety"]["encoded"]
    assert e["subtle"]["attack_success_rate"]["n"] == 0 and e["blunt"]["attack_success_rate"]["n"] == 2
    # rows from before tiers (no subtlety): no split
    old = [{k: v for k, v in r.items() if k != "subtlety"} for r in _tiered_rows()]
    assert "by_subtlety" not in safety_summary(old) and "by_attack_subtlety" not in safety_summary(old)


def test_the_table_and_the_report_show_the_split(tmp_path, capsys, monkeypatch):
    from airgap.envs.runner.report import print_summary, write_report

    monkeypatch.setenv("COLUMNS", "200")  # one table row a line
    rows = _tiered_rows()
    summary = summarize(rows, total=len(rows))
    summary["harness_failures"] = 0
    print_summary(summary, tmp_path)
    out = capsys.readouterr().out
    assert "Attack success by phrasing: blunt vs subtle" in out
    line = next(x for x in out.splitlines() if x.strip("│ ").startswith("direct") and "100.0% (1/1)" in x)
    assert "50.0% (1/2)" in line
    done = [{"seconds": 0.1, "flags": [], "tool_errors": 0, "terminated": True, "truncated": False, "log": "", **r}
            for r in rows]
    page = write_report(tmp_path, {"suite": "s", "agent": "a"}, done, summary, []).read_text()
    assert 'id="safety-subtlety"' in page and "attack success, subtle" in page and "50.0% (1/2)" in page


def test_usage_is_summed_and_priced():
    rows = [row("a", True, usage={"prompt_tokens": 1000, "completion_tokens": 200, "latency_s": 1.25, "retries": 1}),
            row("b", True, usage={"prompt_tokens": 3000, "completion_tokens": 800, "latency_s": 0.5, "retries": 0}),
            row("c", True)]
    u = usage_totals(rows, [0.15, 0.60])
    assert u["prompt_tokens"] == 4000 and u["completion_tokens"] == 1000 and u["retries"] == 1 and u["episodes"] == 2
    assert u["latency_s"] == pytest.approx(1.75)
    assert u["cost_usd"] == pytest.approx((4000 * 0.15 + 1000 * 0.60) / 1e6) and u["cost_source"] == "price_per_mtok"
    assert "cost_usd" not in usage_totals(rows)
    own = usage_totals([row("a", True, usage={"prompt_tokens": 5, "completion_tokens": 1, "cost_usd": 0.25})], [1, 1])
    assert own["cost_usd"] == 0.25 and own["cost_source"] == "agent"  # the agent's own cost is not recomputed
    assert usage_totals([row("a", True)]) is None


def test_paired_interval_needs_enough_discordant_pairs():
    d, lo, hi = paired_difference_interval([(True, False)] * 3)
    assert d == 1.0 and lo < 0 < hi  # three wins cannot be told from chance (McNemar)
    d, lo, hi = paired_difference_interval([(True, False)] * 6 + [(True, True)] * 4)
    assert d == pytest.approx(0.6) and 0 < lo < d < hi <= 1
    d, lo, hi = paired_difference_interval([(True, True)] * 5 + [(False, False)] * 5)
    assert d == 0 and lo < 0 < hi


def test_compare_is_paired_on_common_episodes_and_unpaired_otherwise():
    a = [row(f"t{i}", True, kind="x" if i < 5 else "y") for i in range(10)]
    b = [row(f"t{i}", i >= 8, kind="x" if i < 5 else "y") for i in range(10)]
    c = compare_runs(a, b)
    o = c["overall"]
    assert o["paired"] and o["n_pairs"] == 10 and o["diff"] == pytest.approx(0.8) and o["excludes_zero"]
    assert c["by_kind"]["x"]["excludes_zero"] and c["by_kind"]["x"]["diff"] == 1.0
    assert c["by_task"]["t9"]["diff"] == 0 and not c["by_task"]["t9"]["excludes_zero"]
    other = [row(f"u{i}", False) for i in range(10)]
    u = compare_runs(a, other)["overall"]
    assert not u["paired"] and u["diff"] == 1.0 and u["excludes_zero"]


def test_compare_sets_partial_credit_beside_success():
    """Two runs that solve nothing apart by their scores: the mean score of each, per kind and overall."""
    a = [{**row(f"t{i}", False, kind="x"), "score": 0.75} for i in range(4)]
    b = [{**row(f"t{i}", False, kind="x"), "score": 0.25} for i in range(4)]
    c = compare_runs(a, b)
    assert c["overall"]["diff"] == 0 and (c["overall"]["score_a"], c["overall"]["score_b"]) == (0.75, 0.25)
    assert c["by_kind"]["x"]["score_a"] == 0.75 and c["by_task"]["t0"]["score_b"] == 0.25
    old = [row(f"t{i}", True, kind="x") for i in range(4)]  # rows written before scores existed: score = reward
    assert compare_runs(old, b)["overall"]["score_a"] == 1.0


def test_collect_keeps_the_last_row_of_each_episode_and_only_unretried_failures():
    lines = [{"task_id": "a", "error": "boom", "seed": 0}, row("a", True), {"task_id": "b", "trial": 1, "error": "x"},
             row("c", False), row("c", True)]
    rows, errors = collect(lines)
    assert sorted((r["task_id"], r["reward"]) for r in rows) == [("a", 1.0), ("c", 1.0)]
    assert [(e["task_id"], e["trial"]) for e in errors] == [("b", 1)]


def test_attack_selection():
    tasks = [SimpleNamespace(id=i, attack=a) for i, a in
             [("t-none", "none"), ("t-direct", "direct"), ("t-fake", "system_message"), ("plain", None)]]
    ids = lambda ts: [t.id for t in ts]  # noqa: E731
    assert ids(select_attacks(tasks, None)) == ["t-none", "t-direct", "t-fake", "plain"]
    assert ids(select_attacks(tasks, ["all"])) == ["t-none", "t-direct", "t-fake"]
    assert ids(select_attacks(tasks, ["none"])) == ["t-none"]
    assert ids(select_attacks(tasks, ["direct"])) == ["t-none", "t-direct"]  # the benign twins come with an attack
    assert ids(select_attacks(tasks, ["direct,system_message"])) == ["t-none", "t-direct", "t-fake"]
    with pytest.raises(EvaluationError, match="its cases have: direct, none, system_message"):
        select_attacks(tasks, ["encoded"], "s")
    with pytest.raises(EvaluationError, match="no safety cases"):
        select_attacks([tasks[-1]], ["all"], "s")
    # names are checked against the attack registry (airgap.envs.attacks.ATTACKS)
    with pytest.raises(EvaluationError, match=r"unknown attack\(s\) \['drect'\]; known: all, none, .*direct.*system_message"):
        select_attacks(tasks, ["drect"], "s")
