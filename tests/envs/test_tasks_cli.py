"""`airgap tasks list|show|check` through the real command group."""
import json

from envs_helpers import MINI
from typer.testing import CliRunner

from airgap.envs.cli.tasks import app

runner = CliRunner()


def test_list_shows_every_registered_id_and_suite_with_counts():
    r = runner.invoke(app, ["list", "--json"])
    assert r.exit_code == 0, r.output
    rows = {row["env_id"]: row for row in json.loads(r.output)}
    assert rows["airgap/WebQA-v0"]["suite"] == "webqa" and rows["airgap/WebQA-v0"]["tasks"] >= 60
    assert rows["airgap/Sandbox-v0"]["suite"] == "sandbox" and rows["airgap/Sandbox-v0"]["tasks"] >= 20
    table = runner.invoke(app, ["list"]).output
    assert "airgap/WebQA-v0" in table and "airgap/Sandbox-v0" in table


def test_show_and_check():
    r = runner.invoke(app, ["show", "webqa-001", "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["id"] == "webqa-001"
    assert "webqa-001" in runner.invoke(app, ["show", "webqa-001"]).output
    r = runner.invoke(app, ["show", "nope-999"])
    assert r.exit_code == 1 and "airgap tasks list" in r.output
    r = runner.invoke(app, ["check", MINI])
    assert r.exit_code == 0 and "3 tasks, OK" in r.output
    r = runner.invoke(app, ["check", "/no/such.yaml"])
    assert r.exit_code == 1 and "not found" in r.output
