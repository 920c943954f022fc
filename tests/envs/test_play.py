"""`airgap play` in a real terminal: tmux runs it, the test types as a person would (send-keys) and reads the screen
(capture-pane). Real Docker sandbox and services; nothing stands in for the terminal or the env."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from airgap.envs.logs import verify
from airgap.envs.tasks import load_suite

ROOT = Path(__file__).resolve().parents[2]
AIRGAP = Path(sys.executable).with_name("airgap")
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (scripts/setup.sh installs it)")


class Tmux:
    """One detached tmux session running a command in a wide window."""

    def __init__(self, command: list[str]):
        self.name = f"airgap-play-{uuid.uuid4().hex[:8]}"
        subprocess.run(["tmux", "new-session", "-d", "-s", self.name, "-x", "200", "-y", "50",
                        " ".join(map(_quote, command)) + "; echo EXIT=$?; sleep 600"], check=True, cwd=ROOT)

    def type(self, text: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, "-l", text], check=True)
        subprocess.run(["tmux", "send-keys", "-t", self.name, "Enter"], check=True)

    def screen(self) -> str:
        return subprocess.run(["tmux", "capture-pane", "-p", "-J", "-S", "-2000", "-t", self.name],
                              capture_output=True, text=True, check=True).stdout

    def wait_for(self, text: str, timeout: float = 240.0) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.3)
        raise AssertionError(f"{text!r} not on screen after {timeout:.0f} s:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


def _quote(s: str) -> str:
    return "'" + s.replace("'", "'\\''") + "'"


@pytest.fixture
def tmux_play(sandbox_image, tmp_path):
    sessions = []

    def start(*args: str) -> Tmux:
        t = Tmux([str(AIRGAP), "play", *args, "--log-dir", str(tmp_path / "logs")])
        sessions.append(t)
        return t

    yield start
    for t in sessions:
        t.close()


def test_office_005_played_in_a_terminal_scores_1_and_writes_a_signed_log(tmux_play, tmp_path):
    task = load_suite("office", world_seed=0).task("office-005")
    t = tmux_play("--suite", "office", "--task", "office-005")
    screen = t.wait_for("airgap> ")
    assert "Work through every customer complaint" in screen and "office-005" in screen
    t.type(":tools")
    # (the instruction itself ends "End with submit(answer)": wait for a line only the :tools listing prints)
    assert "http(method, url, headers?, body?)" in t.wait_for("python(code, timeout?)")
    for call in task.oracle[:-1]:
        t.type(json.dumps(call))
    t.type("submit refunded the complaints within the window")
    screen = t.wait_for("EXIT=")
    assert "reward 1" in screen and "backend_state" in screen and "EXIT=0" in screen
    logs = list((tmp_path / "logs").glob("*.jsonl"))
    assert len(logs) == 1 and verify(logs[0]).status == "ok"
    assert Path(str(logs[0]) + ".sig").exists() or any(p.suffix == ".sig" for p in logs[0].parent.iterdir())


def test_short_forms_errors_and_a_wrong_answer(tmux_play):
    t = tmux_play("--suite", "tests/envs/fixtures/mini.yaml", "--task", "mini-shell")
    t.wait_for("airgap> ")
    t.type("nosuchtool x")
    t.wait_for("no tool 'nosuchtool' in this task")
    t.type("shell wc -l < /workspace/data.csv; echo '[section] [x.strip() for x in f]'")
    assert "[section] [x.strip() for x in f]" in t.wait_for("step 1: shell")  # brackets are text, not markup
    t.type("python")
    t.type("print(sum(1 for _ in open('/workspace/data.csv')))")
    t.type(".")
    t.wait_for("step 2: python")
    t.type("submit 5")
    screen = t.wait_for("EXIT=")
    assert "reward 0" in screen and "numeric" in screen and "EXIT=1" in screen
