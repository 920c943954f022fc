"""`airgap replay verify|show|html` through the real CLI, and the HTML page read back from headless Chromium's DOM."""
from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser

import pytest
from typer.testing import CliRunner

from airgap.envs.cli import app
from airgap.envs.replay import load_episode

runner = CliRunner()


def cli(*args):
    return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})


def test_verify_exit_codes_ok_tampered_truncated(episode, tmp_path, make_episode):
    r = cli("replay", "verify", episode)
    assert r.exit_code == 0 and "ok" in r.output

    tampered = tmp_path / "t.jsonl"
    ls = episode.read_bytes().splitlines(keepends=True)
    ls[4], ls[5] = ls[5], ls[4]
    tampered.write_bytes(b"".join(ls))
    shutil.copytree(str(episode) + ".blobs", str(tampered) + ".blobs")
    r = cli("replay", "verify", "--json", episode, tampered)
    assert r.exit_code == 1
    rows = [json.loads(x) for x in r.output.splitlines()]
    assert rows[0]["status"] == "ok"
    assert rows[1]["status"] == "tampered" and rows[1]["first_bad"] == 4

    truncated = tmp_path / "u.jsonl"
    make_episode(truncated, close=False)
    r = cli("replay", "verify", truncated)
    assert r.exit_code == 2 and "truncated" in r.output


def test_show_transcript_and_one_step(episode):
    r = cli("replay", "show", episode, "--lines", "2")
    assert r.exit_code == 0, r.output
    for k in (1, 2, 3):
        assert f"Step {k}" in r.output
    assert "submit" in r.output and "egress_attempt" in r.output and "more lines" in r.output
    r = cli("replay", "show", episode, "--step", "1")
    assert r.exit_code == 0
    assert r.output.count("line of output") >= 600  # the whole output (and the exec event), never cut
    r = cli("replay", "show", episode, "--step", "9")
    assert r.exit_code == 1 and "no step 9" in r.output


class _DomSteps(HTMLParser):
    """Collects, from Chromium's serialised DOM, each step section's tool, observation text and
    whether its output <details> is open; plus external references (there must be none)."""

    def __init__(self):
        super().__init__()
        self.steps: list[dict] = []
        self.external: list[str] = []
        self.ids: dict[str, str] = {}
        self._in_obs = False
        self._cur_id = None
        self._details_open: bool | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("src", "href"):
            v = a.get(key) or ""
            if v and not v.startswith("#"):
                self.external.append(v)
        if tag == "link":
            self.external.append(str(a))
        if tag == "section" and "step" in (a.get("class") or "").split():
            self.steps.append({"step": int(a["data-step"]), "tool": a.get("data-tool"), "obs": "", "open": None})
        if tag == "details" and "output" in (a.get("class") or "").split():
            self.steps[-1]["open"] = "open" in a
            self.steps[-1]["lines"] = int(a["data-lines"])
        if tag == "pre" and "observation" in (a.get("class") or "").split():
            self._in_obs = True
        if a.get("id"):
            self._cur_id = a["id"]
            self.ids.setdefault(self._cur_id, "")

    def handle_endtag(self, tag):
        if tag == "pre":
            self._in_obs = False
        self._cur_id = None if tag in ("b", "h1", "pre") else self._cur_id

    def handle_data(self, data):
        if self._in_obs:
            self.steps[-1]["obs"] += data
        if self._cur_id:
            self.ids[self._cur_id] += data


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium is not installed")
def test_html_page_in_headless_chromium_shows_every_step(episode, tmp_path):
    out = tmp_path / "episode.html"
    r = cli("replay", "html", episode, "-o", out)
    assert r.exit_code == 0, r.output
    cmd = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(cmd + ["--dump-dom", out.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    p = _DomSteps()
    p.feed(dom.stdout)
    ep = load_episode(episode)
    assert [s["step"] for s in p.steps] == [s.index for s in ep.steps] == [1, 2, 3]
    assert [s["tool"] for s in p.steps] == ["shell", "shell", "submit"]
    for dom_step, s in zip(p.steps, ep.steps, strict=False):
        assert dom_step["obs"] == s.text  # full output, character for character
    assert p.steps[0]["open"] is False and p.steps[0]["lines"] == 601  # long output starts collapsed
    assert p.steps[1]["open"] is True
    assert p.ids["verify"].strip() == "verified" and p.ids["n-steps"] == "3" and p.ids["reward"] == "1.0"
    assert "egress_attempt" in p.ids["flags"]
    assert p.external == []  # self-contained: nothing to fetch

    shot = tmp_path / "shot.png"
    s = subprocess.run(cmd + ["--window-size=1200,1600", f"--screenshot={shot}", out.as_uri()],
                       capture_output=True, text=True, timeout=120)
    assert s.returncode == 0 and shot.stat().st_size > 10_000  # a rendered page, not a blank one
