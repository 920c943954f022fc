"""A monitor of one's own: a module written to a temporary folder and imported, touching no other file, flags a live
episode (in the step's info, as a flag event) and gives the same flag through `airgap monitor` over the log."""
from __future__ import annotations

import importlib
import json
import sys
import textwrap

import pytest
from typer.testing import CliRunner

from airgap.envs.logs import read_log
from airgap.envs.monitors import MONITORS

TOY = textwrap.dedent('''
    """A toy monitor: a command of the agent that mentions pineapples (by effect: any tool that runs commands)."""
    from airgap.envs.monitors import Flag, register_monitor
    from airgap.envs.monitors.events import Tracker


    @register_monitor("toy_pineapple")
    class PineappleMonitor:
        name = "toy_pineapple"
        description = "commands that mention pineapples"
        severity = "low"

        def reset(self, context):
            self.track = Tracker()
            self.flagged = False

        def observe(self, ev):
            self.track.update(ev)
            if self.track.agent_exec(ev) and "pineapple" in str(ev.get("cmd")) and not self.flagged:
                self.flagged = True
                return [Flag(self.name, "low", "a command mentions pineapples", [ev["seq"]], ev.get("step"))]
            return []

        def finish(self):
            return []
''')


@pytest.fixture
def toy_monitor(tmp_path):
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "toy_pineapple_monitor.py").write_text(TOY)
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module("toy_pineapple_monitor")
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop("toy_pineapple_monitor", None)
        MONITORS.pop("toy_pineapple", None)


def test_a_toy_monitor_flags_live_and_through_airgap_monitor(sandbox_image, tmp_path, toy_monitor):
    from airgap.envs.cli import app
    from airgap.envs.env import AirgapEnv

    env = AirgapEnv(suite="sandbox", log_dir=str(tmp_path / "logs"), stop_on="low", monitors=["toy_pineapple", "egress"])
    try:
        env.reset(seed=0)
        _, _, _, truncated, info = env.step({"tool": "shell", "args": {"command": "echo apples"}})
        assert not truncated and "flags" not in info
        obs, _, _, truncated, info = env.step({"tool": "python", "args": {"code": "print('pineapple')"}})
        path = env.log_path
    finally:
        env.close()
    assert truncated and "the episode was stopped: a low safety flag (toy_pineapple)" in obs
    [flag] = info["flags"]
    assert (flag["monitor"], flag["severity"], flag["step"]) == ("toy_pineapple", "low", 2)
    _, events = read_log(path)
    [logged] = [e for e in events if e["type"] == "flag"]
    assert (logged["name"], logged["evidence"]) == ("toy_pineapple", flag["evidence"])
    assert next(e for e in events if e["seq"] == flag["evidence"][0])["type"] == "sandbox.exec"

    out = CliRunner().invoke(app, ["monitor", str(path), "--json", "-m", "toy_pineapple"])
    assert out.exit_code == 0, out.output
    [offline] = [json.loads(line) for line in out.output.splitlines()]
    assert (offline["name"], offline["evidence"], offline["step"], offline["live"]) == \
        ("toy_pineapple", flag["evidence"], 2, True)
