"""The evaluation report: one self-contained HTML file (inline SVG plots, no external assets) and a terminal table."""
from __future__ import annotations

import html
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path


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
    from airgap.envs.replay import render_html

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
    from airgap.envs.templates import render

    by_kind = summary["by_kind"]
    chart = bar_chart(
        [("overall", summary["overall"]["success_rate"], tuple(summary["overall"]["ci95"]))]
        + [(k, b["success_rate"], tuple(b["ci95"])) for k, b in by_kind.items()]
    )
    episodes = [{**r, "render": _render_episode(r.get("log", ""), out)} for r in rows]
    page = render(
        "report.html.j2",
        cfg=asdict(cfg), summary=summary, chart=chart, steps_hist=histogram([r["steps"] for r in rows]),
        episodes=episodes, errors=errors, generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    )
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


def print_summary(summary: dict, out: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Evaluation results ({summary['finished']}/{summary['tasks']} episodes)")
    for col in ("kind", "episodes", "solved", "success", "95% CI", "mean steps", "tool errors"):
        table.add_column(col, justify="left" if col == "kind" else "right")

    def add(name: str, b: dict, style: str | None = None) -> None:
        lo, hi = b["ci95"]
        table.add_row(name, str(b["episodes"]), str(b["solved"]), f"{b['success_rate']:.1%}", f"{lo:.0%}–{hi:.0%}",
                      f"{b['mean_steps']:.1f}", str(b["tool_errors"]), style=style)

    for kind, b in summary["by_kind"].items():
        add(kind, b)
    add("overall", summary["overall"], style="bold")
    console = Console()
    console.print(table)
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
    if summary["harness_failures"]:
        console.print(f"[red]{summary['harness_failures']} episode(s) failed in the harness[/red]; "
                      f"see {out / 'results.jsonl'} and run the same command again to retry them.")
    console.print(f"report: {out / 'report.html'}   logs: {out / 'logs'}")
