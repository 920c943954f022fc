"""render_html: one self-contained HTML page for an episode (steps, full outputs, sandbox events, flags, rewards)."""
from __future__ import annotations

import base64
import datetime as _dt
import os

from .episode import _SANDBOX_PREFIX, Episode, load_episode

# --------------------------------------------------------------------------- HTML


#: Outputs longer than this many lines start collapsed in the HTML page.
COLLAPSE_LINES = 12
#: A browser episode's screenshots shown inline (PNG as data: URIs, as logged, not downscaled): at most this many,
#: the first ones, each at most MAX_SCREENSHOT_BYTES; past that the page says how many were left out. The page of a
#: 40-step browser episode then stays under about 20 MB.
MAX_SCREENSHOTS = 40
MAX_SCREENSHOT_BYTES = 1 << 19


def _screenshots(ep: Episode) -> dict[int, str]:
    """``id(event)`` -> a ``data:image/png`` URI for the episode's ``browser.screenshot`` events that are shown."""
    out: dict[int, str] = {}
    for step in ep.steps:
        for ev in step.other:
            png = ev.get("png") if ev.get("type") == "browser.screenshot" else None
            if isinstance(png, bytes) and png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) <= MAX_SCREENSHOT_BYTES \
                    and len(out) < MAX_SCREENSHOTS:
                out[id(ev)] = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return out


def _sandbox_summary(ev: dict) -> str:
    """One line for a sandbox event, from the fields the sandbox writes (listed in the log schema)."""
    t = ev["type"][len(_SANDBOX_PREFIX):]
    if t == "exec":
        cmd = ev.get("cmd")
        cmd = " ".join(map(str, cmd)) if isinstance(cmd, list) else cmd
        return f"exec {cmd!s} → exit {ev.get('exit_code')}" + (" (timed out)" if ev.get("timed_out") else "")
    if t == "http":
        return f"{ev.get('method')} {ev.get('url')} → {ev.get('status')}" + (f" ({ev['error']})" if ev.get("error") else "")
    if t == "dns":
        return f"dns {ev.get('name')} ({ev.get('qtype')}) → {'in the world' if ev.get('known') else 'unknown host'}"
    if t == "egress_attempt":
        what = ev.get("url") or ev.get("host") or ev.get("preamble") or ev.get("error") or "?"
        return f"BLOCKED egress via {ev.get('via')}: {what}"
    if t in ("file_read", "file_write"):
        return f"{t.replace('_', ' ')} {ev.get('path')} ({ev.get('size')} bytes)"
    return t.replace("_", " ")


def render_html(episode: Episode | str | os.PathLike) -> str:
    """One self-contained HTML page for an episode: header, steps with tool calls and full
    outputs (long ones collapsed), sandbox events, flags, rewards and timings. No external
    assets: styles are inline and nothing is fetched, so the file opens offline and can be
    attached to a bug report as is."""
    from airgap.envs.templates import render

    ep = episode if isinstance(episode, Episode) else load_episode(episode)
    header_rows = [(k, ep.header.get(k)) for k in (
        "env_id", "task_id", "task_version", "seed", "agent", "started_at", "package_version", "git_revision",
        "snapshot_manifest_hash", "image_digest", "backend_fixture_hash", "env_kwargs", "redaction", "parent",
        "schema_version")]
    shots = _screenshots(ep)
    n_shots = sum(1 for st in ep.steps for ev in st.other if ev.get("type") == "browser.screenshot")
    return render(
        "episode.html.j2",
        screenshot_uri=lambda ev: shots.get(id(ev)),
        screenshots_left_out=n_shots - len(shots), MAX_SCREENSHOTS=MAX_SCREENSHOTS,
        sandbox_summary=_sandbox_summary,
        COLLAPSE_LINES=COLLAPSE_LINES,
        ep=ep,
        header_rows=header_rows,
        end_outcome={k: v for k, v in (ep.end or {}).items() if k not in ("prev", "hash", "seq", "type")},
        generated=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        name=ep.path.name,
    )

