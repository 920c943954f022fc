"""State graders: what the episode left behind — pages visited through the gateway, files and command output in the sandbox."""
from __future__ import annotations

import re

from .answer import _STR_OR_LIST, _as_list, normalize_url
from .base import Episode, pattern_compiles, register_grader


@register_grader("url_visited", {"properties": {"url": _STR_OR_LIST}, "required": ["url"]}, uses_answer=False)
def url_visited(spec: dict, ep: Episode) -> tuple[bool, str]:
    """Every listed URL was requested through the gateway during the episode with a status below 400.

    The gateway sees the env's own web tools and ``curl``/``requests`` inside the container alike.
    """
    seen = set()
    for ev in ep.http_events:
        status = ev.get("status")
        if isinstance(status, int) and status >= 400:
            continue
        url = ev.get("url")
        if not url and ev.get("host"):
            url = f"https://{ev['host']}{ev.get('path') or '/'}"
        if url:
            seen.add(normalize_url(url))
    missing = [u for u in _as_list(spec["url"]) if normalize_url(u) not in seen]
    return not missing, ("all visited" if not missing else f"not visited: {missing}")


def _read_text(ep: Episode, path: str) -> str | None:
    try:
        return ep.sandbox.read_file(path).decode("utf-8", errors="replace")
    except Exception:  # noqa: BLE001 - a missing or unreadable file simply fails the grader
        return None


@register_grader("file_contains", {"properties": {"path": {"type": "string", "pattern": "^/"}, "pattern": {"type": "string", "minLength": 1}}, "required": ["path", "pattern"]}, uses_answer=False, check=pattern_compiles)
def file_contains(spec: dict, ep: Episode) -> tuple[bool, str]:
    """The file exists in the sandbox and ``re.search(pattern, text, re.MULTILINE)`` matches."""
    text = _read_text(ep, spec["path"])
    if text is None:
        return False, f"{spec['path']} does not exist or cannot be read"
    ok = re.search(spec["pattern"], text, re.M) is not None
    return ok, f"{spec['path']} {'matches' if ok else 'does not match'} {spec['pattern']!r}"


@register_grader("command_output", {"properties": {"command": {"type": "string", "minLength": 1}, "expected": {"type": "string"}, "timeout": {"type": "number", "exclusiveMinimum": 0}}, "required": ["command", "expected"]}, uses_answer=False)
def command_output(spec: dict, ep: Episode) -> tuple[bool, str]:
    """Running ``command`` in the sandbox after the episode exits 0 and its stripped stdout equals ``expected``."""
    try:
        r = ep.sandbox.exec(spec["command"], timeout=float(spec.get("timeout", 30)))
    except Exception as e:  # noqa: BLE001 - a dead sandbox fails the grader, it does not crash grading
        return False, f"could not run {spec['command']!r}: {e}"
    out = r.stdout.decode("utf-8", "replace") if isinstance(r.stdout, bytes) else r.stdout
    ok = r.exit_code == 0 and out.strip() == spec["expected"].strip()
    return ok, f"exit {r.exit_code}, stdout {out.strip()[:200]!r} vs expected {spec['expected'].strip()[:200]!r}"


