#!/usr/bin/env python3
"""Benchmark the sandbox browser: step latency (one BrowserGym-style action -> its observation) on the offline web.

A real sandbox of the browser image routed to the bundled offline web; the real Chromium in it driven through the
tools of ``envs/tools/webagent.py`` (Playwright over the DevTools pipe bridged out of the container). One step is the
tool call as an env makes it: the action, the page settling, the bids marked and the accessibility tree read and
rendered as text; a screenshot is timed separately. The steps cycle through: goto the search engine, fill its box,
press Enter (a form submission: a search), click the first result, go back, scroll.
Also measured: the browser's start (exec, Chromium, Playwright's CDP connection) and the sandbox's start.

Usage: .venv/bin/python scripts/bench_browser.py [--steps 48] [--json]
Timings depend on the machine and its load (2 shared cores here): compare within a run.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import time


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(p / 100 * (len(xs) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=48)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    from airgap.corpus import default_routes
    from airgap.envs.tools import ToolContext
    from airgap.envs.tools.webagent import BROWSER_TOOLS as T
    from airgap.envs.tools.webagent import PageBrowser
    from airgap.sandbox import Sandbox, SandboxConfig
    from airgap.sandbox.browser import BrowserSession
    from airgap.sandbox.image import DEFAULT_IMAGE, variant_tag

    config = SandboxConfig(image=variant_tag("browser", DEFAULT_IMAGE), memory="1g", pids=1024, nofile=4096)
    t0 = time.perf_counter()
    with Sandbox(config, routes=default_routes()) as sb:
        t1 = time.perf_counter()
        b = PageBrowser(BrowserSession(sb))
        t2 = time.perf_counter()
        ctx = ToolContext(sandbox=sb, chromium=b)
        by_action: dict[str, list[float]] = {}
        shots: list[float] = []
        obs_chars: list[int] = []
        queries = ["sqlite limits", "python dataclasses", "asyncio tasks", "sqlite json", "pathlib glob", "regex"]

        def step(name: str, **kw) -> str:
            s = time.perf_counter()
            text = T[name](ctx, kw).text
            by_action.setdefault(name, []).append((time.perf_counter() - s) * 1000)
            obs_chars.append(len(text))
            return text

        n = 0
        while n < args.steps:
            obs = step("goto", url="https://search.airgap/")
            box = re.search(r"\[(\w+)\] textbox", obs).group(1)
            step("fill", bid=box, value=queries[(n // 6) % len(queries)])
            obs = step("press", bid=box, key_comb="Enter")
            link = re.search(r"\[(\w+)\] link '(?!Next|Previous)", obs)
            step("click", bid=link.group(1)) if link else step("scroll", delta_x=0, delta_y=400)
            step("go_back")
            step("scroll", delta_x=0, delta_y=600)
            s = time.perf_counter()
            b.screenshot()
            shots.append((time.perf_counter() - s) * 1000)
            n += 6
        b.close()
    steps = [x for xs in by_action.values() for x in xs]
    result = {
        "steps": len(steps), "step_ms_p50": round(statistics.median(steps), 1), "step_ms_p99": round(pct(steps, 99), 1),
        "by_action_ms_p50": {k: round(statistics.median(v), 1) for k, v in by_action.items()},
        "screenshot_ms_p50": round(statistics.median(shots), 1), "screenshot_ms_p99": round(pct(shots, 99), 1),
        "observation_chars_p50": int(statistics.median(obs_chars)),
        "sandbox_start_s": round(t1 - t0, 2), "browser_start_s": round(t2 - t1, 2),
    }
    if args.json:
        print(json.dumps(result))
        return
    for k, v in result.items():
        print(f"{k:24} {v}")


if __name__ == "__main__":
    main()
