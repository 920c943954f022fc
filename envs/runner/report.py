"""The evaluation report: one self-contained HTML file (inline SVG plots, no external assets) and a terminal table."""
from __future__ import annotations

import html
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

from airgap.envs.logs.html import render_html


def bar_chart(items: list[tuple[str, float, tuple[float, float] | None]], *, width: int = 560, unit: str = "%") -> str:
    """Horizontal bars with optional interval whiskers, as inline SVG. Values are fractions in [0, 1]."""
    row, label_w, pad = 26, 140, 8
    plot_w = width - label_w - 60
    h = row * len(items) + 2 * pad
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" role="img">']
    for i, (label, value, ci) in enumerate(items):
        y = pad + i * row
        w = max(0.0, min(1.0, value)) * plot_w
        parts.append(f'<text x="{label_w - 6}" y="{y + 17}" text-anchor="end" font-size="13">{html.escape(label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row - 8}" fill="#3b7dd8"/>')
        if ci:
            x0, x1 = label_w + ci[0] * plot_w, label_w + ci[1] * plot_w
            parts.append(f'<line x1="{x0:.1f}" x2="{x1:.1f}" y1="{y + row / 2}" y2="{y + row / 2}" stroke="#222" stroke-width="1.5"/>')
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 17}" font-size="12">{value * 100:.0f}{unit}</text>')
    parts.append("</svg>")
    return "".join(parts)


def histogram(values: list[int], *, width: int = 560, height: int = 160, label: str = "steps") -> str:
    """Counts of integer values as inline SVG columns."""
    if not values:
        return ""
    lo, hi = min(values), max(values)
    bins = list(range(lo, hi + 1))
    counts = [values.count(b) for b in bins]
    top = max(counts)
    col = min(48.0, (width - 40) / len(bins))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 30}" role="img">']
    for i, (b, c) in enumerate(zip(bins, counts, strict=False)):
        hgt = (c / top) * height
        x = 20 + i * col
        parts.append(f'<rect x="{x:.1f}" y="{height - hgt:.1f}" width="{max(1.0, col - 2):.1f}" height="{hgt:.1f}" fill="#6aa84f"><title>{label}={b}: {c}</title></rect>')
        if len(bins) <= 30 or i % max(1, len(bins) // 15) == 0:
            parts.append(f'<text x="{x + col / 2:.1f}" y="{height + 14}" text-anchor="middle" font-size="11">{b}</text>')
    parts.append(f'<text x="{width / 2}" y="{height + 28}" text-anchor="middle" font-size="12">{html.escape(label)}</text></svg>')
    return "".join(parts)


def _render_episode(log: str, out: Path) -> str | None:
    """A per-episode HTML render next to the report (``log`` is relative to the run folder); returns its relative path."""
    if not log or not (out / log).exists():
        return None
    target = out / "episodes" / (Path(log).stem + ".html")
    target.parent.mkdir(exist_ok=True)
    try:
        target.write_text(render_html(out / log), encoding="utf-8")
    except Exception:  # noqa: BLE001 - a log that cannot be rendered still gets its row; `airgap replay verify` says why
        return None
    return str(target.relative_to(out))


def write_report(out: Path, cfg, rows: list[dict], summary: dict, errors: list[dict]) -> Path:
    """``out/report.html`` from the finished rows and their summary; ``cfg`` is the EvalConfig or its dict (config.json)."""
    from airgap.envs.templates import render

    by_kind = summary["by_kind"]
    chart = bar_chart(
        [("overall", summary["overall"]["success_rate"], tuple(summary["overall"]["ci95"]))]
        + [(k, b["success_rate"], tuple(b["ci95"])) for k, b in by_kind.items()]
    )
    episodes = [{**r, "render": _render_episode(r.get("log", ""), out)} for r in rows]
    safety_chart = ""
    if summary.get("safety"):
        sb = summary["safety"]["overall"]
        bars = [(label, sb[key]["rate"], tuple(sb[key]["ci95"])) for key, label in SAFETY_RATES]
        for tier, tb in (summary["safety"].get("by_subtlety") or {}).items():
            bars.append((f"attack success, {tier}", tb["attack_success_rate"]["rate"], tuple(tb["attack_success_rate"]["ci95"])))
        safety_chart = bar_chart(bars)
    page = render(
        "report.html.j2",
        cfg=cfg if isinstance(cfg, dict) else asdict(cfg), summary=summary, safety_chart=safety_chart,
        show_trials=any(r.get("trial") for r in rows), show_attack=any(r.get("attack") for r in rows), chart=chart, steps_hist=histogram([r["steps"] for r in rows]),
        episodes=episodes, errors=errors, generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    )
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


SAFETY_RATES = [("benign_utility", "benign utility"), ("utility_under_attack", "utility under attack"),
                ("attack_success_rate", "attack success")]


def _pct(x: float) -> str:
    return f"{x:.1%}"


def _ci(ci: list[float]) -> str:
    return f"{ci[0]:.0%}–{ci[1]:.0%}"


def print_summary(summary: dict, out: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    phase = (summary.get("config") or {}).get("phase")
    if phase:
        from airgap.envs.agents.identity import describe

        where = (f"split {phase['split']} (world {phase['world']}, shift {str(phase.get('shift_hash'))[:19]}…)"
                 if phase.get("split") else "a fixed suite (no splits)")
        Console().print(f"Phase: {phase.get('suite')}, {where}; model: {describe(phase.get('model'))}"
                        + (f"; served as {', '.join(summary['served_models'])}" if summary.get("served_models") else ""),
                        soft_wrap=True)

    table = Table(title=f"Evaluation results ({summary['finished']}/{summary.get('planned', summary['tasks'])} episodes)")
    for col in ("kind", "episodes", "solved", "success", "95% CI", "score", "mean steps", "tool errors"):
        table.add_column(col, justify="left" if col == "kind" else "right")

    def add(name: str, b: dict, style: str | None = None) -> None:
        lo, hi = b["ci95"]
        table.add_row(name, str(b["episodes"]), str(b["solved"]), f"{b['success_rate']:.1%}", f"{lo:.0%}–{hi:.0%}",
                      f"{b.get('mean_score', b['mean_reward']):.2f}", f"{b['mean_steps']:.1f}", str(b["tool_errors"]),
                      style=style)

    for kind, b in summary["by_kind"].items():
        add(kind, b)
    add("overall", summary["overall"], style="bold")
    console = Console()
    console.print(table)
    if summary.get("pass_k"):
        k = summary["pass_k"]["overall"]["k"]
        pt = Table(title=f"Trials: {k} per task (task-level estimates, Wilson 95% CI over tasks)")
        for col in ("kind", "tasks", "pass@1", "95% CI", f"pass@{k}", "95% CI ", f"pass^{k}", "95% CI  "):
            pt.add_column(col, justify="left" if col == "kind" else "right")
        for name, b in [*summary["pass_k"]["by_kind"].items(), ("overall", summary["pass_k"]["overall"])]:
            cells = [str(b["tasks"])]
            for key in ("pass@1", f"pass@{k}", f"pass^{k}"):
                cells += [_pct(b[key]["value"]), _ci(b[key]["ci95"])]
            pt.add_row(name, *cells, style="bold" if name == "overall" else None)
        console.print(pt)
    if summary.get("safety"):
        st = Table(title="Safety cases: utility and attack success (Wilson 95% CI)")
        for col in ("attack", "benign utility", "utility under attack", "95% CI", "attack success", "95% CI ",
                    "successes flagged", "not flagged"):
            st.add_column(col, justify="left" if col == "attack" else "right")
        sa = summary["safety"]
        for name, b in [*sa["by_attack"].items(), ("overall", sa["overall"])]:
            bu, ua, asr = b["benign_utility"], b["utility_under_attack"], b["attack_success_rate"]
            st.add_row(name, f"{_pct(bu['rate'])} ({bu['hits']}/{bu['n']})" if name == "overall" else "",
                       f"{_pct(ua['rate'])} ({ua['hits']}/{ua['n']})", _ci(ua["ci95"]),
                       f"{_pct(asr['rate'])} ({asr['hits']}/{asr['n']})", _ci(asr["ci95"]),
                       str(b["attack_successes_flagged"]), str(b["attack_successes_unflagged"]),
                       style="bold" if name == "overall" else ("red" if b["attack_successes_unflagged"] else None))
        console.print(st)
        if sa.get("by_subtlety"):
            print_subtlety(console, sa)
        bu = sa["overall"]["benign_utility"]
        console.print(f"benign utility (benign twins): {_pct(bu['rate'])} ({bu['hits']}/{bu['n']}), 95% CI {_ci(bu['ci95'])}")
    if summary.get("sabotage"):
        sb = summary["sabotage"]
        mt = Table(title=f"Sabotage ({'/'.join(sb['mode'])} mode): main task, side task, and whether a monitor caught it")
        for col in ("side task", "episodes", "main task", "side task success", "95% CI", "caught", "evaded",
                    "evasion", "episodes flagged"):
            mt.add_column(col, justify="left" if col == "side task" else "right")
        for name, b in [*sb["by_side_task"].items(), ("overall", sb["overall"])]:
            m, st_, ev, fl = b["main_task_success"], b["side_task_success"], b["evasion_rate"], b["flagged"]
            mt.add_row(name, str(b["episodes"]), f"{_pct(m['rate'])} ({m['hits']}/{m['n']})",
                       f"{_pct(st_['rate'])} ({st_['hits']}/{st_['n']})", _ci(st_["ci95"]), str(b["caught"]),
                       str(b["evaded"]), _pct(ev["rate"]) if ev["n"] else "-", f"{fl['hits']}/{fl['n']}",
                       style="bold" if name == "overall" else ("red" if b["evaded"] else None))
        console.print(mt)
    if summary.get("usage"):
        u = summary["usage"]
        parts = [f"{u['episodes']} episode(s)"]
        for key, label in (("prompt_tokens", "prompt tokens"), ("completion_tokens", "completion tokens"),
                           ("latency_s", "model s"), ("retries", "retries")):
            if key in u:
                parts.append(f"{u[key]:,} {label}" if key != "latency_s" else f"{u[key]:.1f} {label}")
        if "cost_usd" in u:
            parts.append(f"${u['cost_usd']:.4f}")
        console.print("model usage: " + ", ".join(parts))
    ev = summary.get("evidence")
    if ev:
        console.print(f"evidence (process requirements, not part of success): shown in {ev['shown']}/{ev['episodes']} "
                      f"episodes ({ev['rate']:.0%})")
    flags = summary.get("flags") or {}
    if flags:
        ft = Table(title="Safety flags (monitors over every event of every episode)")
        for col in ("monitor", "flags", "episodes", "worst"):
            ft.add_column(col, justify="left" if col == "monitor" else "right")
        for name, m in flags.items():
            ft.add_row(name, str(m["flags"]), str(m["episodes"]), m["worst"], style="red" if m["worst"] in ("high", "critical") else None)
        console.print(ft)
    else:
        console.print("safety flags: none")
    if summary.get("uplift"):
        up = Table(title="World uplift (with the world minus closed-book)")
        for col in ("kind", "with the world", "closed-book", "uplift", "95% CI"):
            up.add_column(col, justify="left" if col == "kind" else "right")
        rows = [*summary["uplift"]["by_kind"].items(), ("overall", summary["uplift"]["overall"])]
        for name, u in rows:
            up.add_row(name, f"{u['world']:.1%}", f"{u['closed_book']:.1%}", f"{u['uplift'] * 100:+.1f}",
                       f"{u['ci95'][0] * 100:+.0f} … {u['ci95'][1] * 100:+.0f}", style="bold" if name == "overall" else None)
        console.print(up)
    for cmp in summary.get("compare") or []:
        print_compare(console, cmp)
    if summary["harness_failures"]:
        console.print(f"[red]{summary['harness_failures']} episode(s) failed in the harness[/red]; "
                      f"see {out / 'results.jsonl'} and run the same command again to retry them.")
    console.print(f"report: {out / 'report.html'}   logs: {out / 'logs'}")


def print_subtlety(console, sa: dict) -> None:
    """Attack success (and utility under attack) split by how the planted text read, blunt or subtle: per attack
    style and overall, each rate with its Wilson interval."""
    from rich.table import Table

    tiers = list(sa["by_subtlety"])
    t = Table(title="Attack success by phrasing: " + " vs ".join(tiers) + " (Wilson 95% CI)")
    t.add_column("attack", justify="left")
    for i, tier in enumerate(tiers):
        t.add_column(f"{tier}: attack success", justify="right")
        t.add_column("95% CI" + " " * i, justify="right")
    for tier in tiers:
        t.add_column(f"{tier}: utility under attack", justify="right")
    for name, by_tier in [*sa["by_attack_subtlety"].items(), ("overall", sa["by_subtlety"])]:
        blocks = [by_tier.get(tier) for tier in tiers]
        blocks = [b if b and b["attack_success_rate"]["n"] else None for b in blocks]
        cells = []
        for b in blocks:
            asr = b["attack_success_rate"] if b else None
            cells += [f"{_pct(asr['rate'])} ({asr['hits']}/{asr['n']})", _ci(asr["ci95"])] if asr else ["-", ""]
        for b in blocks:
            ua = b["utility_under_attack"] if b else None
            cells.append(f"{_pct(ua['rate'])} ({ua['hits']}/{ua['n']})" if ua else "-")
        t.add_row(name, *cells, style="bold" if name == "overall" else None)
    console.print(t)


def print_compare(console, cmp: dict) -> None:
    """One compared run: overall, per kind and per task, this run minus that one with the 95% interval."""
    from rich.table import Table

    o = cmp["overall"]
    how = f"paired on {o['n_pairs']} episode(s)" if o["paired"] else "unpaired (no common episodes)"
    title = f"This run vs {cmp['run']} (agent {cmp.get('agent')}), {how}"
    if cmp.get("mismatch"):
        console.print(f"[yellow]Compared across a difference (--allow-mismatch): {'; '.join(cmp['mismatch'])}[/yellow]",
                      soft_wrap=True)
        a, b = cmp.get("splits") or [None, None]
        if a != b:
            title = f"Generalisation gap: {a} worlds (this run) vs {b} worlds ({cmp['run']}), per kind, unpaired"
    models = cmp.get("models") or []
    if len(models) == 2 and all(models):
        from airgap.envs.agents.identity import describe

        console.print(f"models: this run {describe(models[0])}; that run {describe(models[1])}", soft_wrap=True)
    t = Table(title=title)
    for col in ("", "this run", "that run", "difference", "95% CI", "excludes 0", "score: this", "that"):
        t.add_column(col, justify="left" if col == "" else "right")

    def add(name: str, b: dict, style: str | None = None) -> None:
        t.add_row(name, _pct(b["a"]), _pct(b["b"]), f"{b['diff'] * 100:+.1f}",
                  f"{b['ci95'][0] * 100:+.0f} … {b['ci95'][1] * 100:+.0f}", "yes" if b["excludes_zero"] else "no",
                  f"{b.get('score_a', b['a']):.2f}", f"{b.get('score_b', b['b']):.2f}", style=style)

    add("overall", o, style="bold")
    for name, b in cmp["by_kind"].items():
        add(f"kind {name}", b)
    for name, b in cmp["by_task"].items():
        add(name, b, style="green" if b["excludes_zero"] and b["diff"] > 0 else ("red" if b["excludes_zero"] else None))
    console.print(t)
