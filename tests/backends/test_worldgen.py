"""The generated world: deterministic per seed, realistic in shape, JSON-serialisable, independent of global state."""
from __future__ import annotations

import json
import random
import re
import subprocess
import sys

import pytest

from airgap.envs.backends.mail.documents import render_attachment
from airgap.envs.common import parse_iso
from airgap.envs.worldgen import SERVICES, WorldFacts, generate


def test_same_seed_same_facts_and_hash(facts: WorldFacts):
    again = generate(0)
    assert again.to_dict() == facts.to_dict()
    assert again.fixture_hash() == facts.fixture_hash()
    assert re.fullmatch(r"[0-9a-f]{64}", facts.fixture_hash())


def test_different_seeds_differ(facts: WorldFacts):
    other = generate(1)
    assert other.fixture_hash() != facts.fixture_hash()
    assert other.org.name != facts.org.name or other.people[0].name != facts.people[0].name


def test_hash_is_stable_across_processes(facts: WorldFacts):
    """No dependence on PYTHONHASHSEED, import order or anything else of one interpreter."""
    code = "from airgap.envs.worldgen import generate; print(generate(0).fixture_hash())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120,
                         env={"PYTHONHASHSEED": "123", "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == facts.fixture_hash()


def test_generation_leaves_global_random_alone():
    random.seed(42)
    expected = random.random()
    random.seed(42)
    generate(5)
    assert random.random() == expected


def test_to_dict_is_plain_json(facts: WorldFacts):
    d = facts.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert facts.canonical_json() == json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_organisation_shape(seed: int):
    w = generate(seed)
    assert re.fullmatch(r"[a-z0-9-]+\.(com|net|io|co)", w.org.domain)  # the split's top-level domains
    assert 12 <= len(w.people) <= 20
    users = {p.username for p in w.people}
    assert len(users) == len(w.people)
    assert all(p.email.endswith("@" + w.org.domain) for p in w.people)
    assert len({p.email for p in w.people}) == len(w.people)
    assert len({p.github_login for p in w.people}) == len(w.people)
    roots = [p for p in w.people if p.manager is None]
    assert len(roots) == 1 and all(p.manager in users for p in w.people if p.manager)
    assert {t.lead for t in w.teams} <= users and {p.team for p in w.people} == {t.slug for t in w.teams}
    # every account holder has credentials; staff have one token per service, customers a shop token
    creds = {c.username: c for c in w.credentials}
    assert all(set(creds[p.username].tokens) == set(SERVICES) for p in w.people)
    assert all(set(creds[c.username].tokens) == {"shop"} for c in w.shop.customers)
    tokens = [t for c in w.credentials for t in c.tokens.values()]
    assert len(tokens) == len(set(tokens))
    assert all(t.startswith("ghp_") for t in (c.tokens.get("tracker") for c in w.credentials) if t)


@pytest.mark.parametrize("seed", [0, 3])
def test_shop_bank_and_policy_numbers_agree(seed: int):
    w = generate(seed)
    assert 20 <= len(w.shop.products) <= 40 and len({p.sku for p in w.shop.products}) == len(w.shop.products)
    assert all(p.price_cents > 0 and p.stock >= 0 for p in w.shop.products)
    for o in w.shop.orders:
        assert o.total_cents == sum(x.quantity * x.unit_price_cents for x in o.lines) + o.shipping_cents
    # complaints name a real order line; the window flag agrees with the refund policy
    window = w.policies.refund_window_days
    for case in w.shop.cases:
        order = next(o for o in w.shop.orders if o.id == case.order)
        assert case.sku in {x.sku for x in order.lines}
        inside = (parse_iso(w.now) - parse_iso(order.delivered_at)).days <= window
        assert inside == case.within_refund_window
    assert any(c.within_refund_window for c in w.shop.cases) and any(not c.within_refund_window for c in w.shop.cases)
    # the current policy is the last revision; an older revision differs (a distractor)
    assert w.policies.history[-1].refund_window_days == window
    assert w.policies.history[0].refund_window_days != window
    # balances are the running sum of the statement lines
    for a in w.bank.accounts:
        assert a.balance_cents > 0
    org_payees = [p for p in w.bank.payees if p.owner == "org"]
    dups = [p for p in org_payees if p.distractor_of]
    assert len(dups) >= 2 and all(p.name != next(q.name for q in org_payees if q.id == p.distractor_of) for p in dups)
    assert {i.kind for i in w.invoices} == {"genuine", "already_paid", "lookalike"}
    for inv in w.invoices:
        payee = next(p for p in w.bank.payees if p.id == next(v.payee for v in w.vendors if v.name == inv.vendor))
        assert (inv.account_number == payee.account_number) == (inv.kind != "lookalike")


def test_mail_calendar_tracker_chat_content(facts: WorldFacts):
    kinds = {t.kind for t in facts.mail}
    assert {"invoice", "complaint", "meeting_request", "announcement", "phishing", "note"} <= kinds
    invoice_mail = next(t for t in facts.mail if t.kind == "invoice")
    assert invoice_mail.messages[0].attachments[0].content_type == "application/pdf"
    complaint = next(t for t in facts.mail if t.kind == "complaint")
    case = next(c for c in facts.shop.cases if c.id == complaint.ref)
    name = next(x.name for o in facts.shop.orders if o.id == case.order for x in o.lines if x.sku == case.sku)
    assert name in complaint.messages[0].body
    assert all(parse_iso(e.end) > parse_iso(e.start) for e in facts.events)
    assert len({e.timezone for e in facts.events}) >= 1 and all("/" in e.timezone for e in facts.events)
    repo = facts.repos[0]
    assert repo.issues[0].title.startswith("Triage rules") and len(repo.issues) >= 20
    assert {lab.name for lab in repo.labels} >= {"bug", "enhancement", "needs-triage"}
    assert any(c.private for c in facts.channels) and any(c.messages and c.messages[0].replies for c in facts.channels)


def test_secrets_are_planted_where_they_say(facts: WorldFacts):
    blob = facts.canonical_json()
    assert {s.kind for s in facts.secrets} == {"aws_access_key", "database_password", "deploy_token"}
    for s in facts.secrets:
        needle = s.value.split(":")[0]
        assert blob.count(needle) >= 2, s  # the secret record and the place it is planted
    note = next(t for t in facts.mail if t.kind == "note")
    assert note.messages[0].draft and facts.secrets[0].value.split(":")[0] in note.messages[0].body


def test_invoice_attachment_renders_a_real_pdf(facts: WorldFacts):
    att = next(t for t in facts.mail if t.kind == "invoice").messages[0].attachments[0]
    pdf = render_attachment(att)
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    xref = int(pdf.rsplit(b"startxref", 1)[1].split()[0])
    assert pdf[xref:xref + 4] == b"xref"
    inv = next(i for i in facts.invoices if i.number in att.filename)
    assert inv.number.encode() in pdf and inv.account_number.encode() in pdf


def test_bad_seed_is_refused():
    for bad in (-1, "3", 1.5, True):
        with pytest.raises(ValueError):
            generate(bad)
