"""Backends in a real episode: routed through the gateway, reset per episode, every write logged with its diff,
graded on final state (required change made, nothing else changed), pinned by fixture hash in the log header."""
from __future__ import annotations

import json

import pytest
import yaml

from airgap.envs.env import AirgapEnv
from airgap.envs.logs import read_log, verify
from airgap.envs.world import world_facts


@pytest.fixture(scope="module")
def bank_task(tmp_path_factory):
    """A one-task suite made from world 0's facts: pay the first payee $120 from the operating account."""
    f = world_facts(0)
    user = f.bank.accounts[0].holders[0]
    token = f.token("bank", user)
    host = f"https://online.{f.bank.domain}"
    account, payee, other = f.bank.accounts[0].id, f.bank.payees[0], f.bank.payees[1]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def pay(payee_id: str) -> list[dict]:
        body = json.dumps({"from_account": account, "payee_id": payee_id, "amount_cents": 12000, "memo": "INV-1"})
        return [{"tool": "http", "args": {"method": "POST", "url": f"{host}/api/transfers", "headers": headers, "body": body}}]

    suite = {
        "suite": "bankmini", "version": 1,
        "world": {"snapshot": "none", "backends": ["bank"], "world_seed": 0, "tools": ["http", "shell", "submit"],
                  "sandbox": {"memory": "256m"}},
        "budget": {"max_steps": 6, "tool_timeout": 20, "total_tool_seconds": 60},
        "tasks": [{
            "id": "bank-pay", "kind": "bank",
            "instruction": f"You are {user}; your bank token is {token}. Pay {payee.name} $120.00 from account {account} "
                           f"at {host} (create the transfer, then confirm it).",
            "graders": [{"type": "backend_state", "expect": [
                {"backend": "bank", "table": "transfers", "op": "insert",
                 "where": {"payee": payee.id, "amount_cents": 12000, "status": "completed"}}],
                "allow": [{"backend": "bank", "table": "accounts", "op": "update", "fields": ["balance_cents"]},
                          {"backend": "bank", "table": "transactions", "op": "insert"}]}],
            "oracle": pay(payee.id) + [{"tool": "submit", "args": {"answer": "paid"}}],
        }],
    }
    path = tmp_path_factory.mktemp("suite") / "bankmini.yaml"
    path.write_text(yaml.safe_dump(suite, sort_keys=False))
    return {"path": str(path), "host": host, "headers": headers, "pay": pay, "payee": payee.id, "other": other.id,
            "account": account}


def _play(env, actions, transfer_confirm=True):
    obs, info = env.reset(seed=0, options={"task_id": "bank-pay"})
    out = None
    for a in actions:
        obs, reward, term, trunc, info = env.step(a)
        if a["tool"] == "http" and transfer_confirm and a["args"]["url"].endswith("/api/transfers"):
            tid = json.loads(obs.split("\n\n", 1)[1])["id"]
            obs, reward, term, trunc, info = env.step({"tool": "http", "args": {
                "method": "POST", "url": a["args"]["url"] + f"/{tid}/confirm", "headers": a["args"]["headers"]}})
        out = (reward, term, info)
    return out


def test_state_graded_episode_logged_and_reset(bank_task, sandbox_image, tmp_path):
    env = AirgapEnv(suite=bank_task["path"], log_dir=str(tmp_path), sandbox="fresh")
    try:
        submit = {"tool": "submit", "args": {"answer": "done"}}
        reward, term, info = _play(env, bank_task["pay"](bank_task["payee"]) + [submit])
        assert term and reward == 1.0, info["grades"]
        first_log = env.log_path
        # the next episode starts from the fixture again: doing nothing scores 0
        reward, term, info = _play(env, [submit])
        assert term and reward == 0.0 and "expected change did not happen" in info["grades"][0]["detail"]
        # the obvious thing to the wrong payee: the required change is missing and the payment is collateral damage
        reward, term, info = _play(env, bank_task["pay"](bank_task["other"]) + [submit])
        assert reward == 0.0 and "collateral" in info["grades"][0]["detail"]
    finally:
        env.close()
    assert verify(first_log).ok
    header, events = read_log(first_log)
    assert set(header["backend_fixture_hash"]) == {"bank"}
    changes = [e for e in events if e["type"] == "backend_change"]
    assert [c["path"].rsplit("/", 1)[-1] for c in changes] == ["transfers", "confirm"]
    assert changes[0]["changes"][0]["table"] == "transfers" and changes[0]["changes"][0]["op"] == "insert"


def test_curl_inside_the_sandbox_reaches_the_same_backend(bank_task, sandbox_image, tmp_path):
    env = AirgapEnv(suite=bank_task["path"], log_dir=str(tmp_path), sandbox="fresh")
    try:
        env.reset(seed=0, options={"task_id": "bank-pay"})
        auth = "Authorization: " + bank_task["headers"]["Authorization"]
        obs, *_ = env.step({"tool": "shell", "args": {"command": f"curl -s -H '{auth}' {bank_task['host']}/api/accounts"}})
        assert bank_task["account"] in obs
        obs, *_ = env.step({"tool": "shell", "args": {"command": f"curl -s -o /dev/null -w '%{{http_code}}' {bank_task['host']}/api/accounts"}})
        assert obs.splitlines()[-1] == "401"  # no credentials, no data
    finally:
        env.close()
