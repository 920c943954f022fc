#!/usr/bin/env python3
"""Replay task oracles in real sandboxes (needs Docker and the airgap/base image; not a pytest module).

    .venv/bin/python scripts/run_in_sandbox.py            # sandbox suite + webqa code tasks
    .venv/bin/python scripts/run_in_sandbox.py --full     # every task of both suites through AirgapEnv
                                                                   # on the bundled snapshot (built if missing;
                                                                   # AIRGAP_SNAPSHOT_DIR picks where)

* sandbox tasks without the web, and webqa ``code`` tasks: through ``AirgapEnv`` with the oracle agent
  (reward must be 1) and the noop agent (reward must be 0), in a copy of the suite whose world has
  ``snapshot: none`` (so this works before the bundled snapshot exists);
* ``web-in-sandbox`` tasks: the oracle's last command runs in a ``Sandbox`` whose gateway routes
  docs.python.org and www.sqlite.org to the local Debian doc files (the snapshot's source); its output
  must carry the answer and the gateway must have seen every ``url_visited`` URL.

Complements check_suites.py (which replays everything locally, without Docker).
"""
from __future__ import annotations

import mimetypes
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "envs"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

SITES = {"docs.python.org": ("/3.11/", Path("/usr/share/doc/python3.11/html")),
         "www.sqlite.org": ("/", Path("/usr/share/doc/sqlite3"))}


def static_site(host: str):
    prefix, root = SITES[host]

    async def app(scope, receive, send):
        path = scope["path"]
        f = root / path[len(prefix):] if path.startswith(prefix) else None
        if f is not None and f.is_dir():
            f = f / "index.html"
        if f is None or not f.is_file():
            await send({"type": "http.response.start", "status": 404, "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": b"not found"})
            return
        ctype = (mimetypes.guess_type(str(f))[0] or "text/html").encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", ctype)]})
        await send({"type": "http.response.body", "body": f.read_bytes()})

    return app


def run_env(suite_file: Path, keep, full: bool = False) -> int:
    from envs_helpers import run_episode

    import airgap.envs  # noqa: F401
    from airgap.envs.agents import make_agent
    from airgap.envs.env import AirgapEnv
    from airgap.sandbox import close_shared_pools

    d = yaml.safe_load(suite_file.read_text())
    if not full:
        d["world"]["snapshot"] = "none"
        d["world"]["tools"] = [t for t in d["world"]["tools"] if t not in ("search", "open", "find", "click")]
        d["tasks"] = [t for t in d["tasks"] if keep(t)]
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / suite_file.name
        path.write_text(yaml.safe_dump(d, sort_keys=False))
        env = AirgapEnv(str(path))
        try:
            for task in env.suite.tasks:
                _, r1, i1, _ = run_episode(env, make_agent("oracle", suite=str(path)), options={"task_id": task.id})
                _, r0, i0, _ = run_episode(env, make_agent("noop"), options={"task_id": task.id})
                ok = r1 == 1.0 and r0 == 0.0
                bad += not ok
                print(f"{task.id}: oracle {r1} noop {r0}" + ("" if ok else f"  FAIL {i1.get('grades')} {i0.get('grades')}"), flush=True)
        finally:
            env.close()
            close_shared_pools()
    return bad


def run_web(suite_file: Path) -> int:
    from check_suites import ANSWER_GRADERS, answer_grader, as_list

    from airgap.sandbox.sandbox import Sandbox

    d = yaml.safe_load(suite_file.read_text())
    bad = 0
    for t in d["tasks"]:
        if t.get("kind") != "web-in-sandbox":
            continue
        events: list[dict] = []
        with Sandbox(routes={h: static_site(h) for h in SITES}, sink=events.append) as sb:
            step = t["oracle"][-2]
            cmd = step["args"]["command"] if step["tool"] == "shell" else ["python3", "-c", step["args"]["code"]]
            r = sb.exec(cmd, timeout=30)
        seen = {e.get("url") for e in events if e.get("type") == "http" and (e.get("status") or 0) < 400}
        last = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
        graders = [g for g in t["graders"] if g["type"] in ANSWER_GRADERS]
        ok_answer = any(answer_grader(g, last) for g in graders) or str(t["answer"]).lstrip("-") in last
        urls = [u for g in t["graders"] if g["type"] == "url_visited" for u in as_list(g["url"])]
        ok = r.exit_code == 0 and ok_answer and all(u in seen for u in urls)
        bad += not ok
        print(f"{t['id']}: exit {r.exit_code}, output {last[-80:]!r}, fetched {sorted(seen)}" + ("" if ok else "  FAIL"), flush=True)
    return bad


def main() -> int:
    tasks = ROOT / "envs" / "tasks"
    if "--full" in sys.argv:
        from airgap.corpus.defaults import ensure_default_snapshot

        ensure_default_snapshot(progress=False)
        bad = run_env(tasks / "webqa.yaml", None, full=True) + run_env(tasks / "sandbox.yaml", None, full=True)
        print("all passed" if not bad else f"{bad} task(s) failed")
        return 1 if bad else 0
    bad = run_env(tasks / "sandbox.yaml", lambda t: t.get("kind") != "web-in-sandbox")
    bad += run_env(tasks / "webqa.yaml", lambda t: t.get("kind") == "code")
    bad += run_web(tasks / "sandbox.yaml")
    print("all passed" if not bad else f"{bad} task(s) failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
