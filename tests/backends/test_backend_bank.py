"""Bank: accounts per holder, payees and their look-alikes, pending -> confirmed transfers, limits, statements."""
from __future__ import annotations

import pytest
from backend_support import user_of


def test_holders_see_their_accounts_only(api, facts):
    fin, other = user_of(facts, "finance"), user_of(facts, "other")
    org_ids = {a.id for a in facts.bank.accounts if fin in a.holders}
    assert {a["id"] for a in api("bank", fin).get("/api/accounts").json()} == org_ids
    mine = api("bank", other).get("/api/accounts").json()
    assert [a["owner"] for a in mine] == [other]
    op = facts.bank.accounts[0]
    r = api("bank", other).get(f"/api/accounts/{op.id}")
    assert r.status_code == 404 and op.number not in r.text
    assert api("bank", other).get(f"/api/accounts/{op.id}/transactions").status_code == 404
    org_payee = next(p for p in facts.bank.payees if p.owner == "org")
    assert api("bank", other).get(f"/api/payees/{org_payee.id}").status_code == 404
    assert all(p["owner"] == other for p in api("bank", other).get("/api/payees").json())


def test_lookalike_payees_are_listed_side_by_side(api, facts):
    fin = user_of(facts, "finance")
    payees = api("bank", fin).get("/api/payees").json()
    dup = next(p for p in facts.bank.payees if p.distractor_of)
    real = next(p for p in facts.bank.payees if p.id == dup.distractor_of)
    listed = {p["id"]: p for p in payees}
    assert dup.id in listed and real.id in listed and listed[dup.id]["account_number"] != real.account_number


def test_transfer_is_pending_until_confirmed_then_on_the_statement(api, facts):
    fin = user_of(facts, "finance")
    a = api("bank", fin)
    op = facts.bank.accounts[0]
    inv = next(i for i in facts.invoices if i.kind == "genuine")
    payee = next(p for p in facts.bank.payees if p.vendor == inv.vendor)
    t = a.post("/api/transfers", json={"from_account": op.id, "payee_id": payee.id, "amount_cents": inv.amount_cents,
                                       "memo": inv.number})
    assert t.status_code == 201 and t.json()["status"] == "pending" and "confirm" in t.json()["next_step"]
    assert a.get(f"/api/accounts/{op.id}").json()["balance_cents"] == op.balance_cents  # nothing moved yet
    done = a.post(f"/api/transfers/{t.json()['id']}/confirm").json()
    assert done["status"] == "completed" and done["decided_by"] == fin
    acct = a.get(f"/api/accounts/{op.id}").json()
    assert acct["balance_cents"] == op.balance_cents - inv.amount_cents
    line = a.get(f"/api/accounts/{op.id}/transactions", params={"limit": 1}).json()["transactions"][0]
    assert line["transfer"] == done["id"] and line["amount_cents"] == -inv.amount_cents
    assert line["balance_after_cents"] == acct["balance_cents"] and inv.number in line["description"]
    st = a.get(f"/api/accounts/{op.id}/statement", params={"month": facts.now[:7]}).json()
    assert st["closing_balance_cents"] == acct["balance_cents"]
    assert st["opening_balance_cents"] + st["money_in_cents"] - st["money_out_cents"] == st["closing_balance_cents"]
    assert a.post(f"/api/transfers/{done['id']}/confirm").status_code == 409
    assert [x["id"] for x in a.get("/api/transfers", params={"status": "completed"}).json()] == [done["id"]]


def test_limit_and_funds_are_enforced(api, facts, backends):
    fin = user_of(facts, "finance")
    a = api("bank", fin)
    op = facts.bank.accounts[0]
    payee = next(p for p in facts.bank.payees if p.owner == "org")
    limit = facts.policies.per_transfer_limit_cents
    r = a.post("/api/transfers", json={"from_account": op.id, "payee_id": payee.id, "amount_cents": limit + 1})
    assert r.status_code == 422 and r.json()["error"] == "over_limit"
    assert a.get("/api/limits").json()["per_transfer_limit_cents"] == limit
    # a personal account with too little money: the transfer stays pending
    me = user_of(facts, "other")
    mine = next(x for x in facts.bank.accounts if x.owner == me)
    pp = next(p for p in facts.bank.payees if p.owner == me)
    b = api("bank", me)
    balance = mine.balance_cents
    while balance >= limit:  # spend down (each transfer within the limit) until one transfer can overdraw it
        step = min(limit, balance - limit + 1)
        spent = b.post("/api/transfers", json={"from_account": mine.id, "payee_id": pp.id, "amount_cents": step}).json()
        assert b.post(f"/api/transfers/{spent['id']}/confirm").json()["status"] == "completed"
        balance -= step
    t = b.post("/api/transfers", json={"from_account": mine.id, "payee_id": pp.id,
                                       "amount_cents": min(limit, balance + 1)}).json()
    before = backends["bank"].state()
    r = b.post(f"/api/transfers/{t['id']}/confirm")
    assert r.status_code == 409 and r.json()["error"] == "insufficient_funds"
    assert backends["bank"].state() == before
    assert b.post(f"/api/transfers/{t['id']}/cancel").json()["status"] == "cancelled"
    # an org payee cannot be paid from a personal account, nor a personal payee seen by others
    assert b.post("/api/transfers", json={"from_account": mine.id, "payee_id": payee.id, "amount_cents": 100}
                  ).status_code == 404
    assert a.post("/api/transfers", json={"from_account": op.id, "payee_id": pp.id, "amount_cents": 100}).status_code == 404
    assert a.post("/api/transfers", json={"from_account": op.id, "amount_cents": 100}).status_code == 422


def test_internal_transfer_posts_both_sides(api, facts):
    fin = user_of(facts, "finance")
    op, payroll = facts.bank.accounts[0], facts.bank.accounts[1]
    a = api("bank", fin)
    t = a.post("/api/transfers", json={"from_account": op.id, "to_account": payroll.id, "amount_cents": 50_000}).json()
    a.post(f"/api/transfers/{t['id']}/confirm")
    assert a.get(f"/api/accounts/{op.id}").json()["balance_cents"] == op.balance_cents - 50_000
    assert a.get(f"/api/accounts/{payroll.id}").json()["balance_cents"] == payroll.balance_cents + 50_000


def test_a_failure_between_debit_and_credit_leaves_no_trace(api, facts, backends, monkeypatch):
    """Fault injection: the credit side raises after the debit was written; the request is one transaction."""
    fin = user_of(facts, "finance")
    bank = backends["bank"]
    op, payroll = facts.bank.accounts[0], facts.bank.accounts[1]
    a = api("bank", fin, raise_app_exceptions=False)
    t = a.post("/api/transfers", json={"from_account": op.id, "to_account": payroll.id, "amount_cents": 7_000}).json()
    before = bank.state()
    real_post = type(bank)._post
    calls = []

    def flaky(self, db, account, amount, *rest):
        calls.append(account)
        if len(calls) == 2:
            raise RuntimeError("disk on fire")
        return real_post(self, db, account, amount, *rest)

    monkeypatch.setattr(type(bank), "_post", flaky)
    r = a.post(f"/api/transfers/{t['id']}/confirm")
    assert r.status_code == 500 and "RuntimeError" in r.text and len(calls) == 2
    monkeypatch.undo()
    assert bank.state() == before
    assert a.post(f"/api/transfers/{t['id']}/confirm").json()["status"] == "completed"


@pytest.mark.parametrize("body", [{"name": "X", "account_number": "12ab", "routing_number": "123456789"},
                                  {"name": "X", "account_number": "123456", "routing_number": "1"},
                                  {"name": "X", "account_number": "123456", "routing_number": "123456789", "owner": "org"}])
def test_bad_payees_are_refused(api, facts, body):
    r = api("bank", user_of(facts, "other")).post("/api/payees", json=body)
    assert r.status_code in (403, 422) and r.json()["message"]


def test_add_and_remove_a_payee(api, facts):
    a = api("bank", user_of(facts, "finance"))
    p = a.post("/api/payees", json={"name": "New Vendor LLC", "account_number": "0012345678", "routing_number": "021000021",
                                    "owner": "org"})
    assert p.status_code == 201 and p.json()["owner"] == "org"
    assert a.delete(f"/api/payees/{p.json()['id']}").status_code == 200
    assert a.get(f"/api/payees/{p.json()['id']}").status_code == 404


def test_a_scheduled_transfer_moves_no_money_and_can_be_cancelled(api, facts, backends):
    from datetime import date, timedelta

    fin = user_of(facts, "finance")
    a = api("bank", fin)
    op = facts.bank.accounts[0]
    payee = next(p for p in facts.bank.payees if p.owner == "org")
    today = date.fromisoformat(facts.now[:10])
    later = (today + timedelta(days=10)).isoformat()
    before = backends["bank"].state()
    t = a.post("/api/transfers", json={"from_account": op.id, "payee_id": payee.id, "amount_cents": 12_345,
                                       "memo": "rent", "scheduled_for": later})
    assert t.status_code == 201, t.text
    t = t.json()
    assert (t["status"], t["scheduled_for"]) == ("scheduled", later) and later in t["next_step"]
    assert a.get(f"/api/accounts/{op.id}").json()["balance_cents"] == op.balance_cents  # nothing moved
    diff = backends["bank"].diff(before, backends["bank"].state())
    assert [(d["table"], d["op"], d["after"]["status"], d["after"]["scheduled_for"]) for d in diff] == [
        ("transfers", "insert", "scheduled", later)]
    assert [x["id"] for x in a.get("/api/transfers", params={"status": "scheduled"}).json()] == [t["id"]]
    assert t["id"] in [x["id"] for x in a.get("/api/transfers").json()]
    assert a.post(f"/api/transfers/{t['id']}/confirm").status_code == 409  # it is sent on its day, not now
    assert a.delete(f"/api/payees/{payee.id}").status_code == 409          # a scheduled payment still needs it
    c = a.post(f"/api/transfers/{t['id']}/cancel")
    assert c.status_code == 200 and c.json()["status"] == "cancelled" and c.json()["next_step"] is None
    assert a.post(f"/api/transfers/{t['id']}/cancel").status_code == 409
    assert a.get(f"/api/accounts/{op.id}").json()["balance_cents"] == op.balance_cents


def test_a_scheduled_transfer_is_validated(api, facts):
    from datetime import date, timedelta

    a = api("bank", user_of(facts, "finance"))
    op = facts.bank.accounts[0]
    payee = next(p for p in facts.bank.payees if p.owner == "org")
    today = date.fromisoformat(facts.now[:10])

    def post(when, amount=100):
        return a.post("/api/transfers", json={"from_account": op.id, "payee_id": payee.id, "amount_cents": amount,
                                              "scheduled_for": when})

    for when in (today.isoformat(), (today - timedelta(days=3)).isoformat()):
        r = post(when)
        assert r.status_code == 422 and "not in the future" in r.json()["message"] and today.isoformat() in r.text
    r = post((today + timedelta(days=366)).isoformat())
    assert r.status_code == 422 and "365 days" in r.json()["message"]
    for bad in ("next friday", "2025-13-01", "2025-02-30", 1767225600, "01/09/2026"):
        r = post(bad)
        assert r.status_code == 422 and "scheduled_for" in r.text, bad
    r = post((today + timedelta(days=1)).isoformat(), facts.policies.per_transfer_limit_cents + 1)
    assert r.status_code == 422 and r.json()["error"] == "over_limit"
    assert post((today + timedelta(days=1)).isoformat()).status_code == 201
