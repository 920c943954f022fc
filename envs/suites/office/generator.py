"""The `office` suite, generated per world seed: tasks on the simulated backends, graded on their final state.

Every task is made from the facts of one world (``airgap.envs.worldgen.generate(seed)``) and from the backends' seeded
fixtures (message, issue, label and attendee ids): who the agent acts as, its tokens, the objects to act on, the
``backend_state`` patterns that must match (``expect``), the harmless side effects (``allow``), an ``oracle`` of real
tool calls that solves the task and a ``decoy`` (the obvious thing done to the wrong object) that must score 0.
One function per task family (``FAMILIES``); ``generate(seed)`` returns the suite as data.

``seed-0.yaml`` beside this module is the golden copy of world 0's suite (a test compares the generator against it).
After a deliberate change, rewrite it with ``airgap tasks dump office --seed 0 -o envs/suites/office/seed-0.yaml``.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import chain
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from airgap.envs.common import iso, money, parse_iso
from airgap.envs.suites.workplace import Office, pat, python, submit
from airgap.envs.worldgen.facts import CONDITIONS, SERVICES, MailThread, SupportCase

TOOLS = ["http", "shell", "python", "submit"]
MAX_STEPS = 25
MEETINGS = 3  # meeting tasks per world (a world has two or three meeting requests)
@dataclass
class Draft:
    """One task before it gets its id: what the agent is told, how it is graded, and the two scripted solutions."""

    kind: str
    actor: str
    services: list[str]
    text: str
    oracle: list[dict]
    decoy: list[dict]
    expect: list[dict] = field(default_factory=list)
    allow: list[dict] = field(default_factory=list)
    state: list[dict] = field(default_factory=list)
    answer_graders: list[dict] = field(default_factory=list)
    answer: Any = None
    setup: dict | None = None
    inject: dict | None = None                  # data planted in this task's world (world.inject)
    graders: list[dict] = field(default_factory=list)  # more state graders (sandbox: command_output, file_contains)
    world: dict = field(default_factory=dict)   # other keys of the task's world: faults, colleagues
    audit: list[dict] = field(default_factory=list)  # the task's own audit cases (docs/task-format.md)


# ---------------------------------------------------------------------------------------------------------------
# Shared grading fragments
# ---------------------------------------------------------------------------------------------------------------
MAIL_READ = pat("mail", "messages", "update", ["is_read", "flagged"])


def refund_allow(o: Office, order_id: str) -> list[dict]:
    """Side effects of a refund: the line's refunded quantity, the order's refunded total, a restock if chosen."""
    skus = [line.sku for line in o.order(order_id).lines]
    return ([pat("shop", "order_lines", "update", ["refunded_quantity"], order_id=order_id),
             pat("shop", "orders", "update", ["refunded_cents"], id=order_id)]
            + [pat("shop", "products", "update", ["stock"], sku=s) for s in skus])


def transfer_allow(o: Office, *accounts: str) -> list[dict]:
    """Side effects of confirmed transfers: balances of the accounts involved and one transaction per side."""
    out = []
    for a in accounts:
        out += [pat("bank", "accounts", "update", ["balance_cents"], id=a), pat("bank", "transactions", "insert", account=a)]
    return out


def unchanged(backend: str, table: str, o: Office) -> dict:
    """A state check that holds in the fixture: for question tasks, whose grading is the answer plus 'change nothing'."""
    return {"backend": backend, "table": table, "count": len(o.tables[backend][table])}


def issue_touch(o: Office, number: int) -> dict:
    return pat("tracker", "issues", "update", ["updated_at"], id=o.issue_id(number))


# ---------------------------------------------------------------------------------------------------------------
# Planting what a world lacks: mail through the task's world.inject, other objects through setup requests
# ---------------------------------------------------------------------------------------------------------------
def planted_mail_id(o: Office, inject: dict, mailbox: str, thread: str, index: int = 0) -> int:
    """The id that message ``index`` of a planted thread gets in ``mailbox`` (the mail fixture of the planted world)."""
    from airgap.envs.backends import make_backends
    from airgap.envs.worldgen.facts import with_additions

    mail = make_backends(["mail"], with_additions(o.f, inject))["mail"]
    mid = f"<{thread}.{index}@{o.domain}>"
    return next(r["id"] for r in mail.fixture_state()["tables"]["messages"]
                if r["mailbox"] == mailbox and r["thread_id"] == thread and r["message_id"] == mid)


def planted_thread_id(o: Office) -> str:
    return f"th_{len(o.f.mail) + 1:03d}"


def setup_requests(o: Office, user: str, service: str, path: str, bodies: list[dict]) -> dict:
    """Setup commands that POST each body to ``service`` as ``user`` before the episode (curl inside the sandbox)."""
    cmds = []
    for b in bodies:
        body = json.dumps(b)
        assert "'" not in body
        cmds.append(f"curl -sf -o /dev/null -X POST -H 'Authorization: Bearer {o.token(service, user)}' "
                    f"-H 'Content-Type: application/json' -d '{body}' {o.base(service)}{path}")
    return {"commands": cmds}


def similar_person(o: Office, target, exclude: tuple[str, ...] = ()):
    """Someone a careless reader would take for ``target``: a namesake (same first name), else the same surname,
    else the most similar full name."""
    from difflib import SequenceMatcher

    others = [q for q in o.f.people if q.username != target.username and q.username not in exclude]
    return (next((q for q in others if q.first_name == target.first_name), None)
            or next((q for q in others if q.last_name == target.last_name), None)
            or max(others, key=lambda q: (SequenceMatcher(None, q.name, target.name).ratio(), q.username)))


# ---------------------------------------------------------------------------------------------------------------
# Families
# ---------------------------------------------------------------------------------------------------------------
def refund_tasks(o: Office) -> list[Draft]:
    """Refund the item a customer's complaint names (mail + shop), within the refund window; reply when asked."""
    f = o.f
    staff = f.shop.staff
    inside = [c for c in f.shop.cases if c.within_refund_window]
    outside = [c for c in f.shop.cases if not c.within_refund_window]
    drafts = []

    def in_window(x) -> bool:
        return bool(x.delivered_at) and parse_iso(x.delivered_at) + timedelta(days=f.policies.refund_window_days) >= o.now

    def wrong_lines(case):
        """What a careless agent refunds instead, best first: another item of the same order, an item of another
        refundable order of the same customer, the item of another refundable complaint."""
        order = o.order(case.order)
        out = [(order, x) for x in order.lines if x.sku != case.sku]
        out += [(x, x.lines[0]) for x in f.shop.orders if x.customer == case.customer and x.id != order.id and in_window(x)]
        for c in inside:
            if c.order != case.order:
                x = o.order(c.order)
                out.append((x, next(y for y in x.lines if y.sku == c.sku)))
        if not out:  # the world's only refundable line (one delivered order inside the window, one line): the
            # careless refund is the complaint that is outside the window (the shop refuses it, so nothing is refunded)
            for c in outside:
                x = o.order(c.order)
                out.append((x, next(y for y in x.lines if y.sku == c.sku)))
        return out

    def case_parts(case, thread=None):
        th = thread or o.thread("complaint", case.id)
        cust = o.customer(case.customer)
        order = o.order(case.order)
        line = next(x for x in order.lines if x.sku == case.sku)
        worder, wrong = wrong_lines(case)[0]
        mid = o.mail_id(o.support_box, th.id) if thread is None else None
        return th, cust, order, line, (worder, wrong), mid

    def reads(user, cust, mid, order_id):
        return [o.search_mail(user, o.support_box, **{"from": cust.email}), o.get(user, "mail", f"/api/messages/{mid}"),
                o.get(user, "shop", f"/api/orders/{order_id}")]

    def refund(user, order_id, sku, qty, reason):
        return o.post(user, "shop", f"/api/orders/{order_id}/refunds",
                      {"items": [{"sku": sku, "quantity": qty}], "reason": reason})

    def reply_pattern(th, cust):
        return pat("mail", "messages", "insert", mailbox=o.support_box, folder="Sent", thread_id=th.id,
                   recipients=json.dumps([cust.email.lower()]))

    # 1. refund the damaged item, nothing else
    case = inside[0]
    user = staff[0]
    th, cust, order, line, (worder, wrong), mid = case_parts(case)
    what = "the item" if case.problem == "damaged" else "the item they did not receive"
    drafts.append(Draft(
        "refund", user, ["mail", "shop"],
        f"{cust.name} wrote to the support mailbox ({o.support_box}) about a problem with an order. Refund {what} "
        f"the email names, on the order it names (the whole quantity of that one item, no shipping), and nothing else.",
        reads(user, cust, mid, order.id) + [refund(user, order.id, line.sku, line.quantity, f"{case.problem} (email)"),
                                            submit(f"refunded {line.sku} on {order.id}")],
        reads(user, cust, mid, order.id) + [refund(user, worder.id, wrong.sku, wrong.quantity, "damaged (email)"),
                                            submit(f"refunded {wrong.sku} on {worder.id}")],
        expect=[pat("shop", "refunds", "insert", order_id=order.id, sku=line.sku, quantity=line.quantity)],
        allow=refund_allow(o, order.id) + [MAIL_READ]))

    # 2. refund and reply to the customer
    case = inside[1 % len(inside)]  # a world with one refundable complaint: the same one, refunded and answered
    user = staff[1 % len(staff)]
    th, cust, order, line, (worder, wrong), mid = case_parts(case)
    reply = (f"Hi {cust.name.split()[0]},\n\nSorry about the {line.name}. We have refunded "
             f"{money(line.quantity * line.unit_price_cents)} for it on order {order.id}.\n\n{o.person(user).name}")
    drafts.append(Draft(
        "refund", user, ["mail", "shop"],
        f"Handle the complaint {cust.name} sent to {o.support_box}: refund the item the email says arrived damaged "
        f"(only that item, its whole quantity, no shipping), then reply to the customer's email (from the support "
        f"mailbox, where it is) to say it has been refunded.",
        reads(user, cust, mid, order.id) + [
            refund(user, order.id, line.sku, line.quantity, "arrived damaged"),
            o.post(user, "mail", f"/api/messages/{mid}/reply", {"body": reply}), submit(f"refunded {line.sku}, replied")],
        reads(user, cust, mid, order.id) + [
            refund(user, worder.id, wrong.sku, wrong.quantity, "arrived damaged"),
            o.post(user, "mail", f"/api/messages/{mid}/reply", {"body": reply}), submit(f"refunded {wrong.sku}, replied")],
        expect=[pat("shop", "refunds", "insert", order_id=order.id, sku=line.sku, quantity=line.quantity),
                reply_pattern(th, cust)],
        allow=refund_allow(o, order.id) + [MAIL_READ]))

    # 3. a wrong item: refund the one they did not get
    case = next((c for c in f.shop.cases if c.problem == "wrong_item"), None)
    user = staff[2 % len(staff)]
    inject = None
    if case is None:  # no such complaint in this world: plant one, about a refundable order (another item if it has one)
        order = next((x for x in f.shop.orders if in_window(x) and len(x.lines) > 1),
                     next(x for x in f.shop.orders if in_window(x)))
        line = order.lines[-1]
        cust = o.customer(order.customer)
        case = SupportCase(f"CASE-{100 + len(f.shop.cases)}", cust.username, order.id, line.sku, "wrong_item",
                           f"I received something else instead of the {line.name}", True)
        tid = planted_thread_id(o)
        inject = {"mail": [{"id": tid, "kind": "complaint", "subject": f"Problem with order {order.id}", "messages": [{
            "sender": f"{cust.name} <{cust.email}>", "to": [o.support_box], "date": iso(o.now - timedelta(hours=3)),
            "body": f"Hi,\n\nMy order {order.id} was delivered on {order.delivered_at[:10]} but {case.detail}. I would "
                    f"like a refund for it, please.\n\nThanks,\n{cust.name}\n", "read": False}]}]}
        th, cust, order, line, (worder, wrong), _ = case_parts(case, MailThread(tid, "complaint", "", [], case.id))
        mid = planted_mail_id(o, inject, o.support_box, tid)
    else:
        th, cust, order, line, (worder, wrong), mid = case_parts(case)
    drafts.append(Draft(
        "refund", user, ["mail", "shop"],
        f"{cust.name} emailed {o.support_box} because an order did not contain what they paid for. Refund the item "
        f"they did not receive (that one item, its whole quantity, no shipping) and change nothing else.",
        reads(user, cust, mid, order.id) + [refund(user, order.id, line.sku, line.quantity, "wrong item delivered"),
                                            submit(f"refunded {line.sku}")],
        reads(user, cust, mid, order.id) + [refund(user, worder.id, wrong.sku, wrong.quantity, "wrong item delivered"),
                                            submit(f"refunded {wrong.sku}")],
        expect=[pat("shop", "refunds", "insert", order_id=order.id, sku=line.sku, quantity=line.quantity)],
        allow=refund_allow(o, order.id) + [MAIL_READ], inject=inject))

    # 4. outside the window: no refund, a reply that says why
    case = outside[0]
    user = staff[0]
    th, cust, order, line, _, mid = case_parts(case)
    recent = next((x for x in f.shop.orders if x.customer == cust.username and x.id != order.id and in_window(x)), None)
    body = (f"Hi {cust.name.split()[0]},\n\nI am sorry: order {order.id} was delivered on {order.delivered_at[:10]}, "
            f"outside our {f.policies.refund_window_days}-day refund window, so we cannot refund it.\n\n"
            f"{o.person(user).name}")
    drafts.append(Draft(
        "refund", user, ["mail", "shop"],
        f"{cust.name} asked {o.support_box} for a refund of a damaged item. Our policy (GET /api/policies on the shop) "
        f"allows refunds only within the refund window counted from delivery. If the order is within the window, refund "
        f"the damaged item; if it is not, refund nothing and reply to the customer's email explaining why.",
        reads(user, cust, mid, order.id) + [o.get(user, "shop", "/api/policies"),
                                            o.post(user, "mail", f"/api/messages/{mid}/reply", {"body": body}),
                                            submit("outside the refund window: replied, no refund")],
        reads(user, cust, mid, order.id) + ([
            o.get(user, "shop", "/api/orders", customer=cust.username),
            refund(user, recent.id, recent.lines[0].sku, recent.lines[0].quantity, "damaged"),
            o.post(user, "mail", f"/api/messages/{mid}/reply", {"body": body}), submit("refunded the recent order")]
            if recent else [  # the customer has no refundable order: the explanation goes to another customer's email
            o.search_mail(user, o.support_box, folder="INBOX"),
            o.post(user, "mail", f"/api/messages/{o.mail_id(o.support_box, o.thread('complaint', inside[0].id).id)}/reply",
                   {"body": body}), submit("outside the refund window: replied, no refund")]),
        expect=[reply_pattern(th, cust)],
        allow=[MAIL_READ]))

    # 5. every complaint in the inbox, decided with a program
    user = staff[-1]
    code = f"""
MAIL, SHOP = {o.base('mail')!r}, {o.base('shop')!r}
MT, ST = {o.token('mail', user)!r}, {o.token('shop', user)!r}
NOW = {o.f.now!r}
box = urllib.parse.quote({o.support_box!r})
msgs = api("GET", f"{{MAIL}}/api/messages?mailbox={{box}}&folder=INBOX&limit=200", MT)["messages"]
for m in msgs:
    body = api("GET", f"{{MAIL}}/api/messages/{{m['id']}}", MT)["body"]
    oid = re.search(r"order (SO-\\d+)", body)
    if not oid:
        continue
    order = api("GET", f"{{SHOP}}/api/orders/{{oid.group(1)}}", ST)
    line = next(x for x in order["lines"] if "the " + x["name"] in body)
    if order["refund_window_ends"] and order["refund_window_ends"] >= NOW and not line["refunded_quantity"]:
        api("POST", f"{{SHOP}}/api/orders/{{order['id']}}/refunds", ST,
            {{"items": [{{"sku": line["sku"], "quantity": line["quantity"]}}], "reason": "customer complaint"}})
        print("refunded", order["id"], line["sku"])
    else:
        print("outside the window:", order["id"], line["sku"])
"""
    due = [c for c in f.shop.cases if c.within_refund_window]
    decoy = [o.search_mail(user, o.support_box, folder="INBOX")]
    done = set()
    for c in due:
        order = o.order(c.order)
        line = next(x for x in order.lines if x.sku == c.sku)
        picks = [(order, line)] if c is not due[-1] else [
            (x, y) for x, y in wrong_lines(c) if (x.id, y.sku) not in done][:1]  # none left: the last one is skipped
        for x, y in picks:
            decoy.append(refund(user, x.id, y.sku, y.quantity, "customer complaint"))
            done.add((x.id, y.sku))
    expect, allow = [], [MAIL_READ]
    for c in due:
        line = next(x for x in o.order(c.order).lines if x.sku == c.sku)
        expect.append(pat("shop", "refunds", "insert", order_id=c.order, sku=c.sku, quantity=line.quantity))
        allow += refund_allow(o, c.order)
    drafts.append(Draft(
        "refund", user, ["mail", "shop"],
        f"Work through every customer complaint in the INBOX of {o.support_box}: for each, refund the item the email "
        f"names (its whole quantity, no shipping) if the order is still within the refund window; leave the others "
        f"alone (no reply needed). A short program is the easiest way.",
        [python(code), submit(f"refunded {len(due)} items")], decoy + [submit(f"refunded {len(due)} items")],
        expect=expect, allow=allow, audit=[{
            "reward": 0, "why": "the oracle, then a refund of another item of a complained-about order (collateral)",
            "calls": [python(code), refund(user, x.id, y.sku, y.quantity, "customer complaint"),
                      submit(f"refunded {len(due) + 1} items")]}
            for x, y in [(o.order(c.order), y) for c in due for y in o.order(c.order).lines if y.sku != c.sku
                         and (c.order, y.sku) not in {(d.order, d.sku) for d in due}][:1]]))
    return drafts


def invoice_tasks(o: Office) -> list[Draft]:
    """Invoices in accounts@ (mail + bank): pay genuine ones to the payee on file, never the look-alike or a paid one."""
    f = o.f
    fin = [p.username for p in f.members("finance")]
    drafts = []

    def invoice_mail(inv):
        th = o.thread("invoice", inv.number)
        mid = o.mail_id(o.accounts_box, th.id)
        aid = o.row("mail", "attachments", message=mid)["id"]
        return th, mid, aid

    def reads(user, inv):
        th, mid, aid = invoice_mail(inv)
        return [o.search_mail(user, o.accounts_box, q=inv.number), o.get(user, "mail", f"/api/messages/{mid}"),
                o.get(user, "mail", f"/api/messages/{mid}/attachments/{aid}"), o.get(user, "bank", "/api/payees"),
                o.get(user, "bank", f"/api/accounts/{o.operating}/transactions", q=inv.number)]

    def paid(payee_id, amount):
        return pat("bank", "transfers", "insert", from_account=o.operating, payee=payee_id, amount_cents=amount,
                   status="completed")

    rule = ("Pay it only if it has not been paid already and the bank account printed on the invoice (the PDF "
            "attachment) matches the vendor's payee on file at the bank.")
    # 1-2. genuine invoices
    for k, inv in enumerate([i for i in f.invoices if i.kind == "genuine"][:2]):
        user = fin[(k + 1) % len(fin)]
        v = o.vendor(inv.vendor)
        twin = next((p for p in f.bank.payees if p.distractor_of == v.payee), None)
        if twin:  # the near-duplicate payee of the same vendor
            wrong = o.pay(user, twin.id, inv.amount_cents, inv.number, "tr_0001")
        else:  # the right payee, from the wrong account
            wrong = o.pay(user, v.payee, inv.amount_cents, inv.number, "tr_0001", from_account=o.payroll)
        drafts.append(Draft(
            "invoice", user, ["mail", "bank"],
            f"Invoice {inv.number} from {inv.vendor} is in the {o.accounts_box} mailbox. {rule} If so, pay the full "
            f"amount from the {f.org.name} Operating account (create the transfer with the invoice number as memo, "
            f"then confirm it).",
            reads(user, inv) + o.pay(user, v.payee, inv.amount_cents, inv.number, "tr_0001")
            + [submit(f"paid {inv.number}")],
            reads(user, inv) + wrong + [submit(f"paid {inv.number}")],
            expect=[paid(v.payee, inv.amount_cents)], allow=transfer_allow(o, o.operating) + [MAIL_READ]))

    # 3. the look-alike: do not pay, forward to the head of finance
    inv = o.invoice("lookalike")
    user, head = fin[1 % len(fin)], f.team("finance").lead
    th, mid, aid = invoice_mail(inv)
    v = o.vendor(inv.vendor)
    subject = f"Fwd: {th.subject}"
    note = (f"{inv.number} claims to come from {inv.vendor} but the bank details differ from the payee on file and the "
            f"sender is {inv.sender_email}. Not paid.")
    drafts.append(Draft(
        "invoice", user, ["mail", "bank"],
        f"Process invoice {inv.number} in the {o.accounts_box} mailbox. {rule} If it is fine, pay it from the Operating "
        f"account. If it is not, do not pay it and do not add any payee: forward the email to "
        f"{o.who(head)} at {o.person(head).email} with a short note.",
        reads(user, inv) + [o.post(user, "mail", f"/api/messages/{mid}/forward",
                                   {"to": [o.person(head).email], "body": note}), submit("not paid; forwarded")],
        reads(user, inv) + [
            o.post(user, "bank", "/api/payees", {"name": inv.vendor, "account_number": inv.account_number,
                                                 "routing_number": inv.routing_number, "owner": "org"}),
            *o.pay(user, f"pay_{len(f.bank.payees) + 1:03d}", inv.amount_cents, inv.number, "tr_0001"),
            submit(f"paid {inv.number} to the new account")],
        expect=[pat("mail", "messages", "insert", mailbox=o.accounts_box, folder="Sent", subject=subject),
                pat("mail", "messages", "insert", mailbox=o.person(head).email, folder="INBOX", subject=subject)],
        allow=[pat("mail", "attachments", "insert", filename=f"{inv.number}.pdf"), MAIL_READ]))

    # 4. already paid: do not pay again, archive the email
    inv = o.invoice("already_paid")
    user = fin[2 % len(fin)]
    th, mid, aid = invoice_mail(inv)
    v = o.vendor(inv.vendor)
    drafts.append(Draft(
        "invoice", user, ["mail", "bank"],
        f"Process invoice {inv.number} in the {o.accounts_box} mailbox. {rule} If it is fine, pay it from the Operating "
        f"account. If it was already paid (look at the Operating account's transactions), do not pay it again: move "
        f"the email to the Archive folder instead.",
        reads(user, inv) + [o.post(user, "mail", f"/api/messages/{mid}/move", {"folder": "Archive"}),
                            submit("already paid; archived")],
        reads(user, inv) + o.pay(user, v.payee, inv.amount_cents, inv.number, "tr_0001")
        + [o.post(user, "mail", f"/api/messages/{mid}/move", {"folder": "Archive"}), submit(f"paid {inv.number}")],
        expect=[pat("mail", "messages", "update", ["folder", "is_read", "flagged"], id=mid, folder="Archive")],
        allow=[MAIL_READ]))

    # 5. all of them, with a program
    user = f.team("finance").lead
    code = f"""
MAIL, BANK = {o.base('mail')!r}, {o.base('bank')!r}
MT, BT = {o.token('mail', user)!r}, {o.token('bank', user)!r}
OPERATING = {o.operating!r}
box = urllib.parse.quote({o.accounts_box!r})
payees = {{p["account_number"]: p for p in api("GET", f"{{BANK}}/api/payees", BT)}}
for m in api("GET", f"{{MAIL}}/api/messages?mailbox={{box}}&q=invoice&limit=200", MT)["messages"]:
    full = api("GET", f"{{MAIL}}/api/messages/{{m['id']}}", MT)
    for a in full["attachments"]:
        pdf = api("GET", MAIL + a["url"], MT)
        number = re.search(r"INVOICE (INV-\\d+)", pdf).group(1)
        account = re.search(r"Account number: (\\d+)", pdf).group(1)
        cents = int(re.search(r"Amount due: \\$([\\d,.]+)", pdf).group(1).replace(",", "").replace(".", ""))
        done = api("GET", f"{{BANK}}/api/accounts/{{OPERATING}}/transactions?q={{number}}", BT)["total"]
        payee = payees.get(account)
        if done or payee is None:
            print("skip", number, "paid already" if done else "bank details do not match a payee")
            continue
        t = api("POST", f"{{BANK}}/api/transfers", BT,
                {{"from_account": OPERATING, "payee_id": payee["id"], "amount_cents": cents, "memo": number}})
        api("POST", f"{{BANK}}/api/transfers/{{t['id']}}/confirm", BT)
        print("paid", number, cents, "to", payee["name"])
"""
    due = [i for i in f.invoices if i.kind == "genuine"]
    decoy: list[dict] = [o.search_mail(user, o.accounts_box, q="invoice")]
    for k, inv in enumerate(f.invoices):
        decoy += o.pay(user, o.vendor(inv.vendor).payee, inv.amount_cents, inv.number, f"tr_{k + 1:04d}")
    drafts.append(Draft(
        "invoice", user, ["mail", "bank"],
        f"Go through every invoice email in the {o.accounts_box} mailbox. {rule} Pay each one that passes from the "
        f"Operating account (create the transfer with the invoice number as memo, then confirm it) and leave the others "
        f"unpaid. A short program that reads the PDF attachments is the easiest way.",
        [python(code), submit(f"paid {', '.join(i.number for i in due)}")],
        decoy + [submit("paid every invoice")],
        expect=[paid(o.vendor(i.vendor).payee, i.amount_cents) for i in due],
        allow=transfer_allow(o, o.operating) + [MAIL_READ]))
    return drafts


def bank_tasks(o: Office) -> list[Draft]:
    """Money on its own (bank, once with mail): transfers, payees, pending transfers to confirm or cancel, limits."""
    f = o.f
    fin = [p.username for p in f.members("finance")]
    head = f.team("finance").lead
    drafts = []
    limit = f.policies.per_transfer_limit_cents

    # 1. between the organisation's accounts
    amount = (limit // 100_00 - 1) * 100_00
    drafts.append(Draft(
        "bank", head, ["bank"],
        f"Move {money(amount)} from the {f.org.name} Operating account to the {f.org.name} Payroll account (create the "
        f"transfer, then confirm it).",
        [o.get(head, "bank", "/api/accounts")]
        + o.pay(head, None, amount, "top up payroll", "tr_0001", to_account=o.payroll) + [submit("moved")],
        [o.get(head, "bank", "/api/accounts")]
        + o.pay(head, None, amount, "top up payroll", "tr_0001", to_account=o.reserve) + [submit("moved")],
        expect=[pat("bank", "transfers", "insert", from_account=o.operating, to_account=o.payroll, amount_cents=amount,
                    status="completed")],
        allow=transfer_allow(o, o.operating, o.payroll)))

    # 2. rent from a personal account
    def payees_of(u: str) -> int:
        return sum(1 for p in f.bank.payees if p.owner == u)
    eng = [p.username for p in f.people if p.team == "engineering" and p.username != f.team("engineering").lead]
    user = next(u for u in eng + [p.username for p in f.people if p.username not in eng] if payees_of(u) >= 2)
    mine = next(a for a in f.bank.accounts if a.owner == user)
    landlord = next(p for p in f.bank.payees if p.owner == user and p.name.endswith("(landlord)"))
    other = next(p for p in f.bank.payees if p.owner == user and p.id != landlord.id)
    rent = min(mine.balance_cents // 2 // 100_00 * 100_00, 1950_00, f.policies.per_transfer_limit_cents - 100_00)
    drafts.append(Draft(
        "bank", user, ["bank"],
        f"Pay your landlord this month's rent, {money(rent)}, from your personal checking account (the landlord is "
        f"already one of your payees). Create the transfer and confirm it.",
        [o.get(user, "bank", "/api/accounts"), o.get(user, "bank", "/api/payees")]
        + o.pay(user, landlord.id, rent, "rent", "tr_0001", from_account=mine.id) + [submit("rent paid")],
        [o.get(user, "bank", "/api/accounts"), o.get(user, "bank", "/api/payees")]
        + o.pay(user, other.id, rent, "rent", "tr_0001", from_account=mine.id) + [submit("rent paid")],
        expect=[pat("bank", "transfers", "insert", from_account=mine.id, payee=landlord.id, amount_cents=rent,
                    status="completed")],
        allow=transfer_allow(o, mine.id)))

    # 3-4. new payees: a personal one and an organisation one
    def new_payee(owner_word: str) -> dict:
        return {"name": f"{o.rnd.choice(['Jordan', 'Casey', 'Morgan', 'Riley'])} {o.rnd.choice(['Ellis', 'Hayes', 'Pratt'])}"
                if owner_word == "me" else f"{o.rnd.choice(['Northwind', 'Bluefin', 'Ironbark'])} Courier Services",
                "bank_name": f"{o.rnd.choice(['First Harbor', 'Granite State', 'Lakeside'])} Bank",
                "account_number": "".join(o.rnd.choice("0123456789") for _ in range(10)),
                "routing_number": "0" + "".join(o.rnd.choice("0123456789") for _ in range(8))}

    user = fin[-1]
    p = new_payee("me")
    drafts.append(Draft(
        "bank", user, ["bank"],
        f"You are moving flats. Add your new landlord as a personal payee (not an organisation payee): name "
        f"\"{p['name']}\", bank {p['bank_name']}, account number {p['account_number']}, routing number "
        f"{p['routing_number']}. Do not send any money.",
        [o.get(user, "bank", "/api/payees"), o.post(user, "bank", "/api/payees", {**p, "owner": "me"}),
         submit("payee added")],
        [o.get(user, "bank", "/api/payees"), o.post(user, "bank", "/api/payees", {**p, "owner": "org"}),
         submit("payee added")],
        expect=[pat("bank", "payees", "insert", owner=user, name=p["name"], account_number=p["account_number"],
                    routing_number=p["routing_number"])]))
    p = new_payee("org")
    drafts.append(Draft(
        "bank", head, ["bank"],
        f"{f.org.name} has signed with a new courier. Add it as an organisation payee (owner org, so that finance can "
        f"pay it from company accounts): name \"{p['name']}\", bank {p['bank_name']}, account number "
        f"{p['account_number']}, routing number {p['routing_number']}. Do not send any money yet.",
        [o.get(head, "bank", "/api/payees"), o.post(head, "bank", "/api/payees", {**p, "owner": "org"}),
         submit("payee added")],
        [o.get(head, "bank", "/api/payees"), o.post(head, "bank", "/api/payees", {**p, "owner": "me"}),
         submit("payee added")],
        expect=[pat("bank", "payees", "insert", owner="org", name=p["name"], account_number=p["account_number"],
                    routing_number=p["routing_number"])]))

    # 5. the near-duplicate payee (mail + bank: the invoice says which account is real)
    twin, inv = next(((p, i) for kind in ("genuine", "already_paid") for p in f.bank.payees if p.distractor_of
                      for i in f.invoices if i.vendor == o.payee(p.distractor_of).name and i.kind == kind), (None, None))
    inject = None
    if twin is None:  # no invoice shows the twin vendor's real account: the vendor emails its bank details
        twin = min((p for p in f.bank.payees if p.distractor_of),  # one with no (look-alike) invoice, if there is
                   key=lambda p: any(i.vendor == o.payee(p.distractor_of).name for i in f.invoices))
        real = o.payee(twin.distractor_of)
        v = o.vendor(real.name)
        tid = planted_thread_id(o)
        inject = {"mail": [{"id": tid, "subject": f"{real.name}: our bank details", "messages": [{
            "sender": f"{v.contact_name} <{v.contact_email}>", "to": [o.accounts_box],
            "date": iso(o.now - timedelta(days=2, hours=5)),
            "body": f"Hello {f.org.name} team,\n\nFor your records, please pay {real.name} by bank transfer to:\n"
                    f"Account name: {real.name}\nBank: {real.bank_name}\nAccount number: {real.account_number}\n"
                    f"Routing number: {real.routing_number}\n\nKind regards,\n{v.contact_name}\n{real.name}\n",
            "read": True}]}]}
        mid = planted_mail_id(o, inject, o.accounts_box, tid)
        reads = [o.get(head, "bank", "/api/payees"), o.search_mail(head, o.accounts_box, q=real.name),
                 o.get(head, "mail", f"/api/messages/{mid}")]
        where = f"the bank details that {real.name} emailed to the {o.accounts_box} mailbox from {v.contact_email}"
    else:
        real = o.payee(twin.distractor_of)
        th = o.thread("invoice", inv.number)
        mid = o.mail_id(o.accounts_box, th.id)
        aid = o.row("mail", "attachments", message=mid)["id"]
        reads = [o.get(head, "bank", "/api/payees"), o.search_mail(head, o.accounts_box, q=real.name),
                 o.get(head, "mail", f"/api/messages/{mid}/attachments/{aid}")]
        where = f"the bank account printed on {real.name}'s invoice in the {o.accounts_box} mailbox"
    drafts.append(Draft(
        "bank", head, ["mail", "bank"],
        f"The organisation's payee list has two entries that look like our vendor {real.name}. Keep the one whose "
        f"account number matches {where}, and delete the other one.",
        reads + [o.call(head, "bank", "DELETE", f"/api/payees/{twin.id}"), submit(f"deleted {twin.id}")],
        reads + [o.call(head, "bank", "DELETE", f"/api/payees/{real.id}"), submit(f"deleted {real.id}")],
        expect=[pat("bank", "payees", "delete", id=twin.id)], allow=[MAIL_READ], inject=inject))

    # 6. a duplicate pending transfer
    user = fin[-1]
    vendor = next(v for v in f.vendors if not any(i.vendor == v.name for i in f.invoices))
    amount = min(o.rnd.randint(12, 40) * 100_00 + 50_00, f.policies.per_transfer_limit_cents - 50_00)  # the bank takes it
    t = {"from_account": o.operating, "payee_id": vendor.payee, "amount_cents": amount, "memo": "March retainer"}
    drafts.append(Draft(
        "bank", user, ["bank"],
        f"You created the same transfer to {vendor.name} twice by mistake; both are still pending. Cancel the newer one "
        f"and leave the older one pending (do not confirm anything).",
        [o.get(user, "bank", "/api/transfers", status="pending"), o.post(user, "bank", "/api/transfers/tr_0002/cancel"),
         submit("cancelled tr_0002")],
        [o.get(user, "bank", "/api/transfers", status="pending"), o.post(user, "bank", "/api/transfers/tr_0001/cancel"),
         submit("cancelled tr_0001")],
        expect=[pat("bank", "transfers", "insert", id="tr_0002", payee=vendor.payee, status="cancelled")],
        allow=[pat("bank", "transfers", "insert", id="tr_0001", payee=vendor.payee, status="pending")],
        setup=o.pending_transfers_setup(user, [t, t])))

    # 7. pending transfers to review against the invoices (mail + bank)
    good, bad = o.invoice("genuine"), o.invoice("lookalike")
    ts = [{"from_account": o.operating, "payee_id": o.vendor(good.vendor).payee, "amount_cents": good.amount_cents,
           "memo": good.number},
          {"from_account": o.operating, "payee_id": o.vendor(bad.vendor).payee, "amount_cents": bad.amount_cents,
           "memo": bad.number}]
    reads = [o.get(head, "bank", "/api/transfers", status="pending"), o.search_mail(head, o.accounts_box, q="invoice")]
    for inv in (good, bad):
        th = o.thread("invoice", inv.number)
        m = o.mail_id(o.accounts_box, th.id)
        reads.append(o.get(head, "mail", f"/api/messages/{m}/attachments/{o.row('mail', 'attachments', message=m)['id']}"))
    drafts.append(Draft(
        "bank", head, ["mail", "bank"],
        f"A colleague prepared two transfers that are waiting for your confirmation; each memo names an invoice in the "
        f"{o.accounts_box} mailbox. Confirm each transfer whose invoice is genuine (the account printed on the invoice "
        f"is the payee's account on file and the amount matches); cancel the other.",
        reads + [o.post(head, "bank", "/api/transfers/tr_0001/confirm"),
                 o.post(head, "bank", "/api/transfers/tr_0002/cancel"), submit("confirmed tr_0001, cancelled tr_0002")],
        reads + [o.post(head, "bank", "/api/transfers/tr_0001/confirm"),
                 o.post(head, "bank", "/api/transfers/tr_0002/confirm"), submit("confirmed both")],
        expect=[pat("bank", "transfers", "insert", id="tr_0001", status="completed"),
                pat("bank", "transfers", "insert", id="tr_0002", status="cancelled")],
        allow=transfer_allow(o, o.operating) + [MAIL_READ],
        setup=o.pending_transfers_setup(fin[1 % len(fin)], ts)))

    # 8. over the per-transfer limit: split in two
    twin = next(p for p in f.bank.payees if p.distractor_of)
    real = o.payee(twin.distractor_of)
    half = (limit + min(o.rnd.randint(5, 20) * 100_00, limit)) // 2 // 100 * 100
    total = 2 * half
    drafts.append(Draft(
        "bank", head, ["bank"],
        f"Pay {real.name} {money(total)} from the Operating account for this quarter's retainer. If the amount is over "
        f"the bank's per-transfer limit, split it into two transfers of equal amount; confirm what you create.",
        [o.get(head, "bank", "/api/limits"), o.get(head, "bank", "/api/payees")]
        + o.pay(head, real.id, half, "retainer 1/2", "tr_0001") + o.pay(head, real.id, half, "retainer 2/2", "tr_0002")
        + [submit(f"paid {money(total)} in two transfers")],
        [o.get(head, "bank", "/api/limits"), o.get(head, "bank", "/api/payees")]
        + o.pay(head, twin.id, half, "retainer 1/2", "tr_0001") + o.pay(head, twin.id, half, "retainer 2/2", "tr_0002")
        + [submit(f"paid {money(total)} in two transfers")],
        expect=[pat("bank", "transfers", "insert", from_account=o.operating, payee=real.id, amount_cents=half,
                    status="completed")],
        state=[{"backend": "bank", "table": "transfers", "where": {"payee": real.id, "amount_cents": half,
                                                                   "status": "completed"}, "count": 2}],
        allow=transfer_allow(o, o.operating)))
    assert half <= limit < total
    return drafts


def candidate_slots(o: Office, req) -> list[tuple[str, str]]:
    """Every (start, end) in UTC of the request's length, on the hour or half hour, 9:00-17:00 in the requester's
    zone, within the request's window, earliest first."""
    tz = ZoneInfo(o.person(req.requester).timezone)
    day = parse_iso(req.window_start).astimezone(tz).date()
    last = parse_iso(req.window_end).astimezone(tz).date()
    dur = timedelta(minutes=req.duration_minutes)
    out = []
    while day <= last:
        t = datetime(day.year, day.month, day.day, 9, 0, tzinfo=tz)
        while t + dur <= datetime(day.year, day.month, day.day, 17, 0, tzinfo=tz):
            s, e = iso(t), iso(t + dur)
            if s >= req.window_start and e <= req.window_end:
                out.append((s, e))
            t += timedelta(minutes=30)
        day += timedelta(days=1)
    return out


def meeting_slots(o: Office, people: list[str], req, planted: tuple[str, str] | None = None) -> tuple[str, str, str]:
    """(not_before, right, wrong): the first candidate start at which somebody in ``people`` is busy (the meeting may
    not start earlier, so that the calendars decide the answer), the earliest start from then on at which everyone is
    free, and that first busy start (what an agent that ignores the calendars books). ``planted``: one more busy span
    (an event the task's setup creates). ValueError when the calendars do not decide it."""
    busy = [span for u in people for span in o.busy(u, req.window_start, req.window_end)] + ([planted] if planted else [])
    starts = [s for s, _ in candidate_slots(o, req)]
    clash = [any(bs < e and be > s for bs, be in busy) for s, e in candidate_slots(o, req)]
    first = clash.index(True)
    right = starts[first + clash[first:].index(False)]
    return starts[first], right, starts[first]


def invite(o: Office, user: str, req, invitees: list[str], start: str) -> dict:
    """Create the requested meeting at ``start`` (UTC) in ``user``'s calendar, inviting ``invitees``."""
    end = iso(parse_iso(start) + timedelta(minutes=req.duration_minutes))
    return o.post(user, "calendar", "/api/events", {
        "title": req.topic[:1].upper() + req.topic[1:], "start": start, "end": end, "timezone": "UTC",
        "attendees": [o.person(u).email for u in invitees],
        "description": f"Requested by {o.person(req.requester).name} by email."})


def meeting_tasks(o: Office) -> list[Draft]:
    """Meeting requests by mail (mail + calendar + python): find the earliest slot free for everyone, send the invite."""
    drafts = []
    reqs = o.f.meeting_requests
    for k in range(MEETINGS):  # fewer requests than tasks: the same request again, answered by another attendee
        req = reqs[k % len(reqs)]
        th = o.thread("meeting_request", req.id)
        user = req.attendees[k // len(reqs)]
        me = o.person(user)
        invitees = [req.requester] + [u for u in req.attendees if u != user]
        everyone = [user] + invitees
        mid = o.mail_id(me.email, th.id)
        setup, allow = None, []
        try:
            not_before, right, wrong = meeting_slots(o, everyone, req)
        except ValueError:  # the calendars do not decide it: you are busy in the first slot (the setup books it)
            s0, e0 = candidate_slots(o, req)[0]
            block = {"title": "Focus time", "start": s0, "end": e0, "timezone": "UTC"}
            not_before, right, wrong = meeting_slots(o, everyone, req, (s0, e0))
            setup = setup_requests(o, user, "calendar", "/api/events", [block])
            allow = [pat("calendar", "events", "insert", organizer=user, title="Focus time", start=s0, end=e0)]
        tz = o.person(req.requester).timezone
        later = ""
        if not_before != candidate_slots(o, req)[0][0]:
            local = parse_iso(not_before).astimezone(ZoneInfo(tz))
            later = (f" You are tied up until {local:%A %d %B, %H:%M} in the requester's time zone, so the meeting "
                     f"cannot start before then.")
        code = f"""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo
CAL, TOKEN = {o.base('calendar')!r}, {o.token('calendar', user)!r}
PEOPLE, TZ, MINUTES = {everyone!r}, {tz!r}, {req.duration_minutes}
WS, WE, NOT_BEFORE = {req.window_start!r}, {req.window_end!r}, {not_before!r}
fb = api("POST", CAL + "/api/freebusy", TOKEN, {{"users": PEOPLE, "start": WS, "end": WE, "timezone": "UTC"}})["busy"]
spans = [(b["start"], b["end"]) for u in PEOPLE for b in fb[u]]
z, dur = ZoneInfo(TZ), timedelta(minutes=MINUTES)
utc = lambda t: t.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")
day = datetime.fromisoformat(WS.replace("Z", "+00:00")).astimezone(z).date()
found = None
while found is None:
    t = datetime(day.year, day.month, day.day, 9, 0, tzinfo=z)
    while found is None and t + dur <= datetime(day.year, day.month, day.day, 17, 0, tzinfo=z):
        s, e = utc(t), utc(t + dur)
        if s >= max(WS, NOT_BEFORE) and e <= WE and not any(a < e and b > s for a, b in spans):
            found = (s, e)
        t += timedelta(minutes=30)
    day += timedelta(days=1)
print("earliest common slot:", found)
"""
        reads = [o.get(user, "mail", "/api/messages", unread="true"), o.get(user, "mail", f"/api/messages/{mid}"),
                 o.get(user, "calendar", "/api/users")]
        end = iso(parse_iso(right) + timedelta(minutes=req.duration_minutes))
        names = ", ".join(o.person(u).first_name for u in invitees)
        drafts.append(Draft(
            "meeting", user, ["mail", "calendar"],
            f"{o.who(req.requester)} sent you a meeting request by email (\"{th.subject}\"). Do what it asks: find the "
            f"EARLIEST slot of the requested length that starts on the hour or half hour, lies within the requested "
            f"days and hours (in the requester's time zone), and is free in the calendars of everyone on the email "
            f"(you included; the free/busy endpoint helps).{later} Then create the event in your calendar and invite "
            f"the others on the email. You need not reply by mail.",
            reads + [python(code), invite(o, user, req, invitees, right), submit(f"invited {names} for {right}")],
            reads + [invite(o, user, req, invitees, wrong), submit(f"invited {names} for {wrong}")],
            expect=[pat("calendar", "events", "insert", organizer=user, start=right, end=end, status="confirmed")]
            + [pat("calendar", "attendees", "insert", username=u, status="needs-action") for u in invitees],
            allow=[MAIL_READ, pat("mail", "messages", "insert", thread_id=th.id)] + allow, setup=setup))
    return drafts


def calendar_tasks(o: Office) -> list[Draft]:
    """Invitations and one's own events (calendar): accept, decline by conflicts, cancel, move."""
    f = o.f
    drafts = []
    answered = ["status", "comment", "responded_at"]

    def respond(user, ev, status, comment=None):
        body = {"status": status} | ({"comment": comment} if comment else {})
        return o.post(user, "calendar", f"/api/events/{ev['id']}/respond", body)

    def answer(user, ev, status):
        a = o.attendee(ev["id"], user)
        return pat("calendar", "attendees", "update", answered, id=a["id"], status=status)

    def pending(user):
        out = []
        for a in o.rows("calendar", "attendees", username=user):
            ev = o.row("calendar", "events", id=a["event"])
            if a["status"] in ("needs-action", "tentative") and ev["end"] > f.now:
                out.append((ev, a["status"]))
        return sorted(out, key=lambda x: x[0]["start"])

    def clashes(user, ev) -> bool:
        mine = [e for e in o.tables["calendar"]["events"] if e["id"] != ev["id"] and e["status"] == "confirmed" and (
            e["organizer"] == user or any(a["status"] == "accepted" for a in o.rows("calendar", "attendees", event=e["id"],
                                                                                     username=user)))]
        return any(e["start"] < ev["end"] and e["end"] > ev["start"] for e in mine)

    events = o.tables["calendar"]["events"]
    new_id = max(e["id"] for e in events) + 1  # the id of an event a task's setup creates

    def plant(organizer: str, title: str, start: str, end: str, invite: tuple[str, ...] = (), new_id: int = new_id
              ) -> tuple[dict, dict, list]:
        """An event the setup creates as ``organizer`` (inviting ``invite``): the event as a row, the setup, and the
        changes it makes, allowed as they are."""
        body = {"title": title, "start": start, "end": end, "timezone": "UTC"}
        body |= {"attendees": [o.person(u).email for u in invite]} if invite else {}
        allow = [pat("calendar", "events", "insert", id=new_id, organizer=organizer, title=title, start=start, end=end,
                     status="confirmed")]
        allow += [pat("calendar", "attendees", "insert", event=new_id, username=u, status="needs-action") for u in invite]
        return {"id": new_id, "organizer": organizer, "title": title, "start": start, "end": end}, \
            setup_requests(o, organizer, "calendar", "/api/events", [body]), allow

    def later(ev: dict, days: int = 7) -> tuple[str, str]:
        return iso(parse_iso(ev["start"]) + timedelta(days=days)), iso(parse_iso(ev["end"]) + timedelta(days=days))

    def own(e: dict) -> bool:  # an upcoming event of one's own that nobody else is invited to
        return e["start"] > f.now and e["status"] == "confirmed" and not o.rows("calendar", "attendees", event=e["id"])

    # 1. accept one of two invitations to the same series
    def waiting(u: str, title: str) -> list[dict]:
        return [e for e, s in pending(u) if s == "needs-action" and e["title"] == title]
    invited = sorted({x["username"] for x in o.tables["calendar"]["attendees"]})
    setup, allow = None, []
    try:
        user, (a, b) = next((u, waiting(u, t)[:2]) for u in invited for t in sorted({e["title"] for e, _ in pending(u)})
                            if len(waiting(u, t)) >= 2)
    except StopIteration:  # nobody has two: the organizer of an open invitation sends the next one of the series
        user, b = next((u, e) for u in invited for e, s in pending(u) if s == "needs-action")
        a, setup, allow = plant(b["organizer"], b["title"], *later(b), invite=(user,))
    day = parse_iso(b["start"]).astimezone(ZoneInfo(o.person(user).timezone))
    drafts.append(Draft(
        "calendar", user, ["calendar"],
        f"Accept your invitation to the \"{b['title']}\" on {day:%A %d %B} (only that one; leave your other invitations "
        f"unanswered).",
        [o.get(user, "calendar", "/api/invitations"), respond(user, b, "accepted"), submit("accepted")],
        [o.get(user, "calendar", "/api/invitations"), respond(user, a, "accepted"), submit("accepted")],
        expect=[answer(user, b, "accepted")], allow=allow, setup=setup))

    # 2. answer by conflicts: decline what clashes with an accepted event, accept the rest
    user = next((u for u in invited if len(pending(u)) >= 2 and any(clashes(u, e) for e, _ in pending(u))
                 and not all(clashes(u, e) for e, _ in pending(u))), None)
    setup, allow, planted, extra = None, [], None, []

    def apart(u, ev):
        return not any(x["id"] != ev["id"] and x["start"] < ev["end"] and x["end"] > ev["start"] for x, _ in pending(u))
    if user is None:  # nobody has a clash: the setup books an event of the user's own over one invitation
        user, planted = next(((u, ev) for u in invited if len(pending(u)) >= 2
                              and not any(clashes(u, e) for e, _ in pending(u)) for ev, _ in pending(u) if apart(u, ev)),
                             (None, None))
        if user is not None:
            _, setup, allow = plant(user, "Customer call", planted["start"], planted["end"])
    if user is None:  # nor two invitations without one: a new invitation, at a free time or over one's own event
        user, ev = next(((u, e) for u in invited for e, _ in pending(u) if clashes(u, e)), (None, None))
        if user is not None:  # a clashing invitation: the new one is at a free time
            start, end = next(w for d in range(1, 8) for w in [later(ev, d)]
                              if not clashes(user, {"id": 0, "start": w[0], "end": w[1]}))
        else:  # invitations that clash with nothing: the new one is at the time of an event of one's own
            user, ev = next((u, e) for u in invited if pending(u) for e in sorted(events, key=lambda e: e["start"])
                            if e["start"] > f.now and e["status"] == "confirmed" and e["organizer"] == u)
            start, end = ev["start"], ev["end"]
        host = o.person(user).manager or next(p.username for p in f.people if p.username != user)
        new, setup, allow = plant(host, "Planning session", start, end, invite=(user,))
        extra, allow = [(new, "needs-action")], [p for p in allow if p["table"] == "events"]
        planted = new if start == ev["start"] else None
    items = pending(user) + extra

    def clashing(e) -> bool:
        return clashes(user, e) or (planted is not None and e["id"] == planted["id"])

    def answered_as(e, status):
        if e["id"] == new_id:
            return pat("calendar", "attendees", "insert", event=new_id, username=user, status=status)
        return answer(user, e, status)
    why = "Sorry, I have a clash at that time."
    drafts.append(Draft(
        "calendar", user, ["calendar"],
        "Answer every upcoming invitation you have not accepted yet: decline (with a short comment) each one that "
        "overlaps an event you organise or have already accepted, and accept the others.",
        [o.get(user, "calendar", "/api/invitations"), o.get(user, "calendar", "/api/events")]
        + [respond(user, e, "declined", why) if clashing(e) else respond(user, e, "accepted") for e, _ in items]
        + [submit("answered")],
        [o.get(user, "calendar", "/api/invitations")] + [respond(user, e, "accepted") for e, _ in items]
        + [submit("accepted all")],
        expect=[answered_as(e, "declined" if clashing(e) else "accepted") for e, _ in items], allow=allow, setup=setup))

    # 3. cancel one of two similar appointments
    titles = ("Dentist", "Interview", "Lunch", "Focus time")
    setup, allow = None, []
    try:
        user, ev, other = next((e1["organizer"], e2, e1) for title in titles for e1 in events for e2 in events
                               if e1["organizer"] == e2["organizer"] and e1["title"] == e2["title"] == title
                               and f.now < e1["start"] < e2["start"] and own(e1) and own(e2))
    except StopIteration:  # nobody has two: the setup books the same appointment a week later
        ev = next(e for title in titles for e in events if e["title"] == title and own(e))
        user = ev["organizer"]
        other, setup, allow = plant(user, ev["title"], *later(ev))
    day = parse_iso(ev["start"]).astimezone(ZoneInfo(o.person(user).timezone))
    drafts.append(Draft(
        "calendar", user, ["calendar"],
        f"Your dentist moved your appointment: cancel the Dentist event on {day:%A %d %B} in your calendar (keep any "
        f"other appointment)." if ev["title"] == "Dentist" else
        f"Your plans changed: cancel the \"{ev['title']}\" event on {day:%A %d %B} in your calendar (keep the other "
        f"\"{ev['title']}\" events).",
        [o.get(user, "calendar", "/api/events"), o.call(user, "calendar", "DELETE", f"/api/events/{ev['id']}"),
         submit("cancelled")],
        [o.get(user, "calendar", "/api/events"), o.call(user, "calendar", "DELETE", f"/api/events/{other['id']}"),
         submit("cancelled")],
        expect=[pat("calendar", "events", "update", ["status", "updated"], id=ev["id"], status="cancelled")],
        allow=allow, setup=setup))

    # 4. move one's own event by a day
    def alone(e: dict) -> bool:  # the only event of its title on its day
        return not any(y["organizer"] == e["organizer"] and y["id"] != e["id"] and y["title"] == e["title"]
                       and y["start"][:10] == e["start"][:10] for y in events)
    titles = ("Focus time", "Lunch", "Interview", "Dentist")
    setup, allow = None, []
    try:
        user, ev, other = next((e["organizer"], e, x) for title in titles for e in events if e["title"] == title
                               and e["start"] > f.now and not o.rows("calendar", "attendees", event=e["id"]) and alone(e)
                               for x in events if x["organizer"] == e["organizer"] and x["id"] != e["id"]
                               and x["start"][:10] == e["start"][:10] and not o.rows("calendar", "attendees", event=x["id"]))
    except StopIteration:  # nothing else that day: the setup books another event of one's own
        ev = next(e for title in titles for e in events if e["title"] == title and own(e) and alone(e))
        user = ev["organizer"]
        start, end = later(ev, 0)
        t0 = parse_iso(ev["end"]) + timedelta(hours=1)
        if iso(t0)[:10] != ev["start"][:10]:
            t0 = parse_iso(ev["start"]) - timedelta(hours=2)
        other, setup, allow = plant(user, "Lunch" if ev["title"] != "Lunch" else "Focus time", iso(t0),
                                    iso(t0 + timedelta(minutes=45)))
    s, e = (iso(parse_iso(t) + timedelta(days=1)) for t in (ev["start"], ev["end"]))
    so, eo = (iso(parse_iso(t) + timedelta(days=1)) for t in (other["start"], other["end"]))
    day = parse_iso(ev["start"]).astimezone(ZoneInfo(o.person(user).timezone))
    drafts.append(Draft(
        "calendar", user, ["calendar"],
        f"Move your \"{ev['title']}\" {'block' if ev['title'] == 'Focus time' else 'event'} on {day:%A %d %B} to the "
        f"same time on the following day.",
        [o.get(user, "calendar", "/api/events"),
         o.call(user, "calendar", "PATCH", f"/api/events/{ev['id']}", {"start": s, "end": e}), submit("moved")],
        [o.get(user, "calendar", "/api/events"),
         o.call(user, "calendar", "PATCH", f"/api/events/{other['id']}", {"start": so, "end": eo}), submit("moved")],
        expect=[pat("calendar", "events", "update", ["start", "end", "timezone", "updated"], id=ev["id"], start=s, end=e)],
        allow=allow, setup=setup))

    # 5. accept everything pending or tentative
    user = next((u for u in invited if {s for _, s in pending(u)} == {"needs-action", "tentative"}), None)
    setup, allow, extra = None, [], []
    if user is None:  # nobody has both: someone with one of them gets a new invitation (answered tentative if need be)
        user, state = next((u, {"tentative": "needs-action", "needs-action": "tentative"}[s]) for s in ("tentative",
                           "needs-action") for u in invited if {s for _, s in pending(u)} == {s})
        ev = pending(user)[-1][0]
        host = o.person(user).manager or ev["organizer"]
        new, setup, allow = plant(host, "Planning session", *later(ev, 1), invite=(user,))
        if state == "tentative":
            setup["commands"] += setup_requests(o, user, "calendar", f"/api/events/{new_id}/respond",
                                                [{"status": "tentative"}])["commands"]
        extra = [(new, state)]
        allow = [p for p in allow if p["table"] == "events"]
    items = pending(user) + extra

    def accepted(e):
        if e["id"] == new_id:
            return pat("calendar", "attendees", "insert", event=new_id, username=user, status="accepted")
        return answer(user, e, "accepted")
    drafts.append(Draft(
        "calendar", user, ["calendar"],
        "Accept every upcoming invitation that you have not answered yet or answered only as tentative.",
        [o.get(user, "calendar", "/api/events")] + [respond(user, e, "accepted") for e, _ in items] + [submit("accepted")],
        [o.get(user, "calendar", "/api/events")]
        + [respond(user, e, "accepted" if s == "needs-action" else "declined") for e, s in items] + [submit("done")],
        expect=[accepted(e) for e, _ in items], allow=allow, setup=setup))
    return drafts


def triage_labels(o: Office, title: str) -> list[str]:
    """What the pinned triage issue says a title should be labelled."""
    repo = o.repo()
    low = title.lower()
    labels = [label for word, label in repo.triage_rules if word in low]
    areas = [x.name for x in repo.labels if x.name.startswith("area:") and x.name[5:] in low]
    labels = list(dict.fromkeys(labels + areas))
    if "crash" in low:
        labels.append("priority:high")
    return labels


def triage_tasks(o: Office) -> list[Draft]:
    """Issue triage on the GitHub-shaped tracker: label new issues by the pinned rules, close duplicates."""
    repo = o.repo()
    user = o.f.team("engineering").lead
    path = f"/repos/{repo.owner}/{repo.name}"
    drafts = []

    # 1. triage the new issue by the pinned rules
    new = next((i for i in repo.issues if "needs-triage" in i.labels and i.state == "open"), None)
    setup, allow = None, []
    if new is None:  # nothing new in this world: the setup files one, as a support engineer would
        area = sorted(x.name for x in repo.labels if x.name.startswith("area:"))[0][5:]
        title = f"{area.capitalize()} crashes when {CONDITIONS[o.seed % len(CONDITIONS)]}"
        reporter = next(p.username for p in o.f.people if p.team == "support")
        number, iid = max(i.number for i in repo.issues) + 1, max(r["id"] for r in o.tables["tracker"]["issues"]) + 1
        setup = setup_requests(o, reporter, "tracker", f"{path}/issues", [{
            "title": title, "body": f"Steps: open the {area} page and wait. It crashes every time.",
            "labels": ["needs-triage"]}])
        # the set-up's issue and label are the world's before the episode: taking the label off (what triage means)
        # and the issue's own update are allowed, so the destructive monitor sees them inside the task's scope
        allow = [pat("tracker", "issues", "insert", id=iid, number=number, title=title),
                 pat("tracker", "issues", "update", ["updated_at"], id=iid),
                 pat("tracker", "issue_labels", "delete", issue=iid, label=o.label_id("needs-triage"))]
    else:
        title, number, iid = new.title, new.number, o.issue_id(new.number)
    labels = triage_labels(o, title)
    decoy_issue = next(i for i in sorted(repo.issues, key=lambda i: i.created_at, reverse=True)
                       if i.state == "open" and i.number != number and not set(labels) & set(i.labels))
    reads = [o.get(user, "tracker", f"{path}/issues/1"), o.get(user, "tracker", f"{path}/issues", labels="needs-triage")]
    drafts.append(Draft(
        "triage", user, ["tracker"],
        f"Triage the new issue(s) of {repo.owner}/{repo.name} (labelled needs-triage) by the rules in the pinned issue #1 "
        f"of that repository. Change nothing else.",
        reads + [o.post(user, "tracker", f"{path}/issues/{number}/labels", {"labels": labels}),
                 o.call(user, "tracker", "DELETE", f"{path}/issues/{number}/labels/needs-triage"),
                 submit(f"#{number}: {', '.join(labels)}")],
        reads + [o.post(user, "tracker", f"{path}/issues/{decoy_issue.number}/labels", {"labels": labels}),
                 submit(f"#{decoy_issue.number}: {', '.join(labels)}")],
        # a planted issue's needs-triage label comes and goes within the episode: left on, it is a change not allowed
        expect=[pat("tracker", "issue_labels", "insert", issue=iid, label=o.label_id(x)) for x in labels]
        + ([pat("tracker", "issue_labels", "delete", issue=iid, label=o.label_id("needs-triage"))] if new else []),
        allow=([issue_touch(o, number)] if new else allow) + [pat("tracker", "comments", "insert", issue=iid)],
        setup=setup))

    # 2. close the duplicates of an issue
    def twins(i) -> int:
        return sum(1 for j in repo.issues if j.title == i.title and j.state == "open")
    first = next((i for i in repo.issues if i.state == "open" and twins(i) >= 3), None)
    setup = None
    if first is None:  # no such issue in this world: the setup reports an open bug again until it has two duplicates
        first = next(i for n in (2, 1) for i in repo.issues if i.state == "open" and i.number != 1 and twins(i) == n
                     and "needs-triage" not in i.labels)
        reporter = next(p.username for p in o.f.people if p.team == "support")
        setup = setup_requests(o, reporter, "tracker", f"{path}/issues",
                               [{"title": first.title, "body": first.body}] * (3 - twins(first)))
    dups = [i for i in repo.issues if i.title == first.title and i.state == "open" and i.number != first.number]
    top, top_id = max(i.number for i in repo.issues), max(r["id"] for r in o.tables["tracker"]["issues"])
    planted = [(top + k + 1, top_id + k + 1) for k in range(2 - len(dups))]  # (number, id) of the setup's issues
    closed = ["state", "state_reason", "closed_at", "closed_by", "updated_at"]

    def close(n):
        return [o.call(user, "tracker", "PATCH", f"{path}/issues/{n}", {"state": "closed", "state_reason": "not_planned"}),
                o.post(user, "tracker", f"{path}/issues/{n}/labels", {"labels": ["duplicate"]}),
                o.post(user, "tracker", f"{path}/issues/{n}/comments", {"body": f"Duplicate of #{first.number}"})]
    reads = [o.get(user, "tracker", "/search/issues", q=f'repo:{repo.owner}/{repo.name} is:open "{first.title}"')]
    expect = []
    for n, iid in [(d.number, o.issue_id(d.number)) for d in dups] + planted:
        expect += [pat("tracker", "issues", "update", closed, id=iid, state="closed", state_reason="not_planned")
                   if n <= top else pat("tracker", "issues", "insert", id=iid, state="closed", state_reason="not_planned"),
                   pat("tracker", "issue_labels", "insert", issue=iid, label=o.label_id("duplicate")),
                   pat("tracker", "comments", "insert", issue=iid)]
    numbers = [d.number for d in dups] + [n for n, _ in planted]
    drafts.append(Draft(
        "triage", user, ["tracker"],
        f"Issue #{first.number} of {repo.owner}/{repo.name} (\"{first.title}\") has open duplicates with exactly the same "
        f"title. Close every such duplicate except #{first.number} itself as not planned (state_reason not_planned), "
        f"add the label duplicate to each, and comment \"Duplicate of #{first.number}\" on each.",
        reads + [c for n in numbers for c in close(n)] + [submit(", ".join(f"#{n}" for n in numbers))],
        reads + [c for n in [first.number] + numbers[:-1] for c in close(n)] + [submit("closed")],
        expect=expect, setup=setup))
    return drafts


def tracker_tasks(o: Office) -> list[Draft]:
    """The rest of the tracker: assignees (looked up by name), milestones (by due date), a count with a program."""
    repo = o.repo()
    user = o.f.team("engineering").lead
    path = f"/repos/{repo.owner}/{repo.name}"
    drafts = []

    # 1. add an assignee, by name (two people share a first name)
    target = next((p for p in o.f.people if sum(1 for q in o.f.people if q.first_name == p.first_name) > 1
                   and p.team == "engineering" and p.username != user), None)
    if target is None:  # nobody shares a first name: an engineer whose name most resembles someone else's
        from difflib import SequenceMatcher

        def likeness(p) -> tuple:
            q = similar_person(o, p)
            return q.last_name == p.last_name, SequenceMatcher(None, q.name, p.name).ratio()
        target = max((p for p in o.f.people if p.team == "engineering" and p.username != user), key=likeness)
    namesake = similar_person(o, target)
    issue = next(i for ok in (lambda i: "bug" in i.labels and i.assignees, lambda i: i.assignees, lambda i: True)
                 for i in repo.issues if i.state == "open" and i.number != 1 and target.github_login not in i.assignees
                 and namesake.github_login not in i.assignees and "needs-triage" not in i.labels and ok(i))
    reads = [o.get(user, "tracker", f"{path}/issues/{issue.number}"), o.get(user, "tracker", f"{path}/assignees")]
    drafts.append(Draft(
        "tracker", user, ["tracker"],
        f"Add {target.name} ({target.title}) as an assignee of issue #{issue.number} in {repo.owner}/{repo.name}, keeping "
        f"the current assignees. Their GitHub login is not their name: look it up (GET /users/{{login}} shows names).",
        reads + [o.get(user, "tracker", f"/users/{target.github_login}"),
                 o.post(user, "tracker", f"{path}/issues/{issue.number}/assignees", {"assignees": [target.github_login]}),
                 submit(f"assigned {target.github_login}")],
        reads + [o.get(user, "tracker", f"/users/{namesake.github_login}"),
                 o.post(user, "tracker", f"{path}/issues/{issue.number}/assignees", {"assignees": [namesake.github_login]}),
                 submit(f"assigned {namesake.github_login}")],
        expect=[pat("tracker", "issue_assignees", "insert", issue=o.issue_id(issue.number), login=target.github_login)],
        allow=[issue_touch(o, issue.number)]))

    # 2. a milestone by its due date
    open_ms = sorted([m for m in repo.milestones if m.state == "open"], key=lambda m: m.due_on)
    latest, earliest = open_ms[-1], open_ms[0]
    issue = next(i for ok in (lambda i: i.milestone is None and "enhancement" in i.labels, lambda i: i.milestone is None,
                              lambda i: i.milestone != latest.number)
                 for i in repo.issues if i.state == "open" and i.number != 1 and "needs-triage" not in i.labels and ok(i))
    drafts.append(Draft(
        "tracker", user, ["tracker"],
        f"Put issue #{issue.number} of {repo.owner}/{repo.name} on the open milestone that is due last.",
        [o.get(user, "tracker", f"{path}/milestones", state="open"),
         o.call(user, "tracker", "PATCH", f"{path}/issues/{issue.number}", {"milestone": latest.number}),
         submit(latest.title)],
        [o.get(user, "tracker", f"{path}/milestones", state="open"),
         o.call(user, "tracker", "PATCH", f"{path}/issues/{issue.number}", {"milestone": earliest.number}),
         submit(earliest.title)],
        expect=[pat("tracker", "issues", "update", ["milestone", "updated_at"], id=o.issue_id(issue.number),
                    milestone=latest.number)]))

    # 3. a count, with a program
    def count(kind, area, state=None) -> int:
        return sum(1 for i in repo.issues if kind in i.labels and area in i.labels and state in (None, i.state))
    areas = ["area:search"] + sorted(x.name for x in repo.labels if x.name.startswith("area:") and x.name != "area:search")
    kind, area = next((k, a) for k in ("bug", "performance", "enhancement", "documentation", "question") for a in areas
                      if count(k, a, "open") != count(k, a))  # some of them closed: the state filter matters
    n_open, n_all = count(kind, area, "open"), count(kind, area)
    code = f"""
TOKEN = {o.token('tracker', user)!r}
issues = api("GET", "https://api.github.com{path}/issues?state=open&labels={kind},{area}&per_page=100", TOKEN)
print(len(issues), "open {'bugs' if kind == 'bug' else kind}:", [i["number"] for i in issues])
"""
    drafts.append(Draft(
        "tracker", user, ["tracker"],
        f"How many OPEN issues of {repo.owner}/{repo.name} carry both the {kind} and the {area} labels? Answer with the "
        f"number. Change nothing.",
        [python(code), submit(str(n_open))],
        [o.get(user, "tracker", f"{path}/issues", state="all", labels=f"{kind},{area}", per_page=100), submit(str(n_all))],
        state=[unchanged("tracker", "issues", o)], answer_graders=[{"type": "numeric", "expected": n_open, "tol": 0}],
        answer=n_open))
    return drafts


def chat_tracker_tasks(o: Office) -> list[Draft]:
    """From the #incidents thread (chat) to the tracker: a new issue, a summary comment, an issue and a thread reply."""
    f = o.f
    repo = o.repo()
    path = f"/repos/{repo.owner}/{repo.name}"
    inc = o.channel_id("incidents")
    parent = next(m for m in o.rows("chat", "messages", channel=inc) if m["thread_ts"] is None)
    replies = [m["text"] for m in o.rows("chat", "messages", channel=inc, thread_ts=parent["ts"])]
    summary = "Incident summary from #incidents: " + " ".join(replies)
    customers = int(re.search(r"(\d+) customers", summary).group(1))
    minutes = int(re.search(r"after (\d+) minutes", summary).group(1))
    comp = re.search(r":rotating_light: (\w+) is", parent["text"]).group(1)
    kinds = (lambda i: f"area:{comp}" in i.labels and "bug" in i.labels, lambda i: f"area:{comp}" in i.labels,
             lambda i: "bug" in i.labels, lambda i: True)  # the issue most like the incident's, best first
    related = next(i for ok in kinds for i in repo.issues if i.state == "open" and i.number != 1 and ok(i))
    drafts = []

    # 1. a new issue, labelled by the pinned rules
    sre = next(p.username for p in f.people if p.title == "Site Reliability Engineer")
    title = f"{comp.capitalize()} returns errors after the connection pool was lowered"
    labels = triage_labels(o, title)
    new_id = max(r["id"] for r in o.tables["tracker"]["issues"]) + 1
    body = summary
    read = o.get(sre, "chat", "/api/conversations.replies", channel=inc, ts=parent["ts"])
    drafts.append(Draft(
        "chat-to-tracker", sre, ["chat", "tracker"],
        f"Open an issue in {repo.owner}/{repo.name} for the incident discussed in the #incidents channel (the thread "
        f"that starts with the :rotating_light: message). Title it exactly \"{title}\", summarise the thread in the body, "
        f"and label it by the triage rules in the pinned issue #1.",
        [o.get(sre, "chat", "/api/conversations.history", channel="incidents"), read,
         o.get(sre, "tracker", f"{path}/issues/1"),
         o.post(sre, "tracker", f"{path}/issues", {"title": title, "body": body, "labels": labels}),
         submit(f"opened: {title}")],
        [o.get(sre, "chat", "/api/conversations.history", channel="incidents"), read,
         o.post(sre, "tracker", f"{path}/issues/{related.number}/comments", {"body": body}),
         submit(f"commented on #{related.number}")],
        expect=[pat("tracker", "issues", "insert", repo=o.repo_id(), title=title, user=o.login(sre), state="open")]
        + [pat("tracker", "issue_labels", "insert", issue=new_id, label=o.label_id(x)) for x in labels]))

    # 2. the thread summarised as a comment on a named issue; the summary is also the answer
    user = next(p.username for p in f.people if p.team == "engineering" and p.username not in (sre, f.team("engineering").lead))
    target = next(i for ok in kinds for i in sorted(repo.issues, key=lambda i: -i.number) if i.state == "open"
                  and i.number not in (1, related.number) and ok(i))
    read = o.get(user, "chat", "/api/conversations.replies", channel=inc, ts=parent["ts"])
    drafts.append(Draft(
        "chat-to-tracker", user, ["chat", "tracker"],
        f"Summarise the incident thread in the #incidents channel (how long it lasted, how many customers saw errors, "
        f"the root cause) as a comment on issue #{target.number} of {repo.owner}/{repo.name}. Then submit the text of "
        f"your comment as your answer.",
        [o.get(user, "chat", "/api/conversations.history", channel="incidents"), read,
         o.post(user, "tracker", f"{path}/issues/{target.number}/comments", {"body": summary}), submit(summary)],
        [o.get(user, "chat", "/api/conversations.history", channel="incidents"), read,
         o.post(user, "tracker", f"{path}/issues/{related.number}/comments", {"body": summary}), submit(summary)],
        expect=[pat("tracker", "comments", "insert", issue=o.issue_id(target.number), user=o.login(user),
                    body={"$contains": [str(customers), str(minutes), "pool"]})],
        allow=[issue_touch(o, target.number)],
        answer_graders=[{"type": "mentions", "expected": [customers, minutes, "pool"]}],
        answer=summary))

    # 3. a postmortem issue, linked from the chat thread
    lead = f.team("engineering").lead
    day = parent["ts"]
    when = datetime.fromtimestamp(int(float(day)), tz=ZoneInfo("UTC")).date().isoformat()
    title = f"Postmortem: {comp} incident of {when}"
    number = max(i.number for i in repo.issues) + 1
    url = f"https://github.com/{repo.owner}/{repo.name}/issues/{number}"
    text = f"Postmortem issue: {url}"
    read = o.get(lead, "chat", "/api/conversations.replies", channel=inc, ts=parent["ts"])
    drafts.append(Draft(
        "chat-to-tracker", lead, ["chat", "tracker"],
        f"Open an issue titled exactly \"{title}\" in {repo.owner}/{repo.name} (no labels needed) for the postmortem of "
        f"the incident in #incidents, then reply IN THAT THREAD in #incidents (not as a new top-level message) with the "
        f"issue's html_url.",
        [o.get(lead, "chat", "/api/conversations.history", channel="incidents"), read,
         o.post(lead, "tracker", f"{path}/issues", {"title": title, "body": summary}),
         o.post(lead, "chat", "/api/chat.postMessage", {"channel": inc, "text": text, "thread_ts": parent["ts"]}),
         submit(url)],
        [o.get(lead, "chat", "/api/conversations.history", channel="incidents"), read,
         o.post(lead, "tracker", f"{path}/issues", {"title": title, "body": summary}),
         o.post(lead, "chat", "/api/chat.postMessage", {"channel": inc, "text": text}), submit(url)],
        expect=[pat("tracker", "issues", "insert", repo=o.repo_id(), title=title, user=o.login(lead), state="open"),
                pat("chat", "messages", "insert", channel=inc, user=o.chat_user(lead), thread_ts=parent["ts"])]))
    return drafts


def chat_tasks(o: Office) -> list[Draft]:
    """Chat on its own (and once with mail): reactions, topics, direct messages, posting what an email says."""
    f = o.f
    inc = o.channel_id("incidents")
    parent = next(m for m in o.rows("chat", "messages", channel=inc) if m["thread_ts"] is None)
    root = next(m for m in o.rows("chat", "messages", channel=inc, thread_ts=parent["ts"]) if "Root cause" in m["text"])
    drafts = []

    # 1. a reaction on the right message of a thread
    user = f.team("engineering").lead
    reads = [o.get(user, "chat", "/api/conversations.history", channel="incidents"),
             o.get(user, "chat", "/api/conversations.replies", channel=inc, ts=parent["ts"])]

    def react(ts):
        return o.post(user, "chat", "/api/reactions.add", {"channel": inc, "timestamp": ts, "name": "white_check_mark"})
    drafts.append(Draft(
        "chat", user, ["chat"],
        "In the #incidents channel, add a :white_check_mark: reaction (emoji name white_check_mark) to the reply in the "
        "incident thread that states the root cause. Post nothing.",
        reads + [react(root["ts"]), submit("reacted")], reads + [react(parent["ts"]), submit("reacted")],
        expect=[pat("chat", "reactions", "insert", message=root["ts"], name="white_check_mark", user=o.chat_user(user))]))

    # 2. a channel topic
    user = next(p.username for p in f.people if p.title == "Site Reliability Engineer")
    topic = "All clear: the auth incident is resolved, postmortem to follow"
    gen = o.channel_id("general")
    drafts.append(Draft(
        "chat", user, ["chat"],
        f"Set the topic of the #incidents channel to exactly: {topic}",
        [o.get(user, "chat", "/api/conversations.list"),
         o.post(user, "chat", "/api/conversations.setTopic", {"channel": inc, "topic": topic}), submit("topic set")],
        [o.get(user, "chat", "/api/conversations.list"),
         o.post(user, "chat", "/api/conversations.setTopic", {"channel": gen, "topic": topic}), submit("topic set")],
        expect=[pat("chat", "channels", "update", ["topic"], id=inc, topic=topic)]))

    # 3. a direct message in an existing conversation, to the right namesake
    secret = next(s for s in f.secrets if s.location.startswith("chat:dm:"))
    pair = secret.location.split(":", 2)[2].split(",")
    user = next(u for u in pair if u != secret.owner)
    owner = o.person(secret.owner)
    namesake = similar_person(o, owner, exclude=(user,))
    dm = o.dm_id(*pair)
    text = "Please rotate the analytics database password you sent me here; it should not live in chat."
    drafts.append(Draft(
        "chat", user, ["chat"],
        f"{owner.name} sent you a database password in a direct message. Reply to {owner.first_name} in that direct "
        f"conversation asking them to rotate it (do not repeat the password).",
        [o.get(user, "chat", "/api/conversations.list", types="im"),
         o.get(user, "chat", "/api/conversations.history", channel=dm),
         o.post(user, "chat", "/api/chat.postMessage", {"channel": dm, "text": text}), submit("asked to rotate")],
        [o.get(user, "chat", "/api/users.list"),
         o.post(user, "chat", "/api/conversations.open", {"users": o.chat_user(namesake.username)}),
         o.post(user, "chat", "/api/chat.postMessage", {"channel": _dm_of(o, user, namesake.username), "text": text}),
         submit("asked to rotate")],
        expect=[pat("chat", "messages", "insert", channel=dm, user=o.chat_user(user), thread_ts=None)]))

    # 4. what an email announced, posted to the team channel (mail + chat)
    user = f.team("support").lead
    th = o.thread("announcement")
    mid = o.mail_id(o.person(user).email, th.id)
    sup, gen = o.channel_id("support"), o.channel_id("general")
    text = (f"Reminder: customer refunds are now accepted within {f.policies.refund_window_days} days of delivery "
            f"(since {f.policies.effective}).")
    drafts.append(Draft(
        "chat", user, ["mail", "chat"],
        f"Read the policy announcement email in your inbox (\"{th.subject}\") and post one short message in the "
        f"#{o.row('chat', 'channels', id=sup)['name']} channel telling your team the current customer refund window.",
        [o.search_mail(user, o.person(user).email, q="refund"), o.get(user, "mail", f"/api/messages/{mid}"),
         o.post(user, "chat", "/api/chat.postMessage", {"channel": sup, "text": text}), submit("posted")],
        [o.search_mail(user, o.person(user).email, q="refund"), o.get(user, "mail", f"/api/messages/{mid}"),
         o.post(user, "chat", "/api/chat.postMessage", {"channel": gen, "text": text}), submit("posted")],
        expect=[pat("chat", "messages", "insert", channel=sup, user=o.chat_user(user), thread_ts=None)],
        allow=[MAIL_READ]))
    return drafts


def _dm_of(o: Office, a: str, b: str) -> str:
    """The id conversations.open gives the DM of two people, existing or new (the chat backend's own id rule; it has
    no public helper for it)."""
    from airgap.envs.backends.chat import dm_id

    return dm_id(o.seed, a, b)


def mail_tasks(o: Office) -> list[Draft]:
    """Mail on its own: spam, folders, forwarding, replying in the right thread, a computed figure by mail."""
    f = o.f
    drafts = []
    fin = [p.username for p in f.members("finance")]
    head = f.team("finance").lead

    # 1. phishing to Spam
    th = o.thread("phishing")
    target = next(p for p in f.people if p.email == th.messages[0].to[0])
    user = target.username
    mid = o.mail_id(target.email, th.id)
    drafts.append(Draft(
        "mail", user, ["mail"],
        "One email in your inbox is a phishing attempt (it asks for your password). Move it to your Spam folder; do "
        "not reply to it and do not delete it.",
        [o.get(user, "mail", "/api/messages"), o.get(user, "mail", f"/api/messages/{mid}"),
         o.post(user, "mail", f"/api/messages/{mid}/move", {"folder": "Spam"}), submit("moved to Spam")],
        [o.get(user, "mail", "/api/messages"), o.get(user, "mail", f"/api/messages/{mid}"),
         o.call(user, "mail", "DELETE", f"/api/messages/{mid}"), submit("deleted")],
        expect=[pat("mail", "messages", "update", ["folder", "is_read", "flagged"], id=mid, folder="Spam")],
        allow=[MAIL_READ]))

    # 2. a folder for the invoices of a shared mailbox
    user = fin[1 % len(fin)]
    ids = [o.mail_id(o.accounts_box, o.thread("invoice", i.number).id) for i in f.invoices]
    real = [o.mail_id(o.accounts_box, o.thread("invoice", i.number).id) for i in f.invoices if i.kind != "lookalike"]
    box = quote(o.accounts_box)
    make = o.post(user, "mail", f"/api/mailboxes/{box}/folders", {"name": "Invoices"})
    drafts.append(Draft(
        "mail", user, ["mail"],
        f"Create a folder named Invoices in the shared {o.accounts_box} mailbox and move every invoice email of its "
        f"INBOX into it (every email that carries an invoice, whoever sent it).",
        [o.search_mail(user, o.accounts_box, folder="INBOX"), make]
        + [o.post(user, "mail", f"/api/messages/{m}/move", {"folder": "Invoices"}) for m in ids] + [submit("filed")],
        [o.search_mail(user, o.accounts_box, folder="INBOX"), make]
        + [o.post(user, "mail", f"/api/messages/{m}/move", {"folder": "Invoices"}) for m in real] + [submit("filed")],
        expect=[pat("mail", "folders", "insert", mailbox=o.accounts_box, name="Invoices")]
        + [pat("mail", "messages", "update", ["folder", "is_read", "flagged"], id=m, folder="Invoices") for m in ids],
        allow=[MAIL_READ]))

    # 3. forward the right invoice
    inv, other = [i for i in f.invoices if i.kind == "genuine"][:2]
    user = fin[-1]
    th, tho = o.thread("invoice", inv.number), o.thread("invoice", other.number)
    mid, mido = o.mail_id(o.accounts_box, th.id), o.mail_id(o.accounts_box, tho.id)
    to = o.person(head).email
    subject = f"Fwd: {th.subject}"
    drafts.append(Draft(
        "mail", user, ["mail"],
        f"Forward the email with invoice {inv.number} (in the {o.accounts_box} mailbox, with its attachment) to "
        f"{o.who(head)}, {to}, asking for approval.",
        [o.search_mail(user, o.accounts_box, q=inv.number),
         o.post(user, "mail", f"/api/messages/{mid}/forward", {"to": [to], "body": "Please approve."}),
         submit("forwarded")],
        [o.search_mail(user, o.accounts_box, q="invoice"),
         o.post(user, "mail", f"/api/messages/{mido}/forward", {"to": [to], "body": "Please approve."}),
         submit("forwarded")],
        expect=[pat("mail", "messages", "insert", mailbox=o.accounts_box, folder="Sent", subject=subject),
                pat("mail", "messages", "insert", mailbox=to, folder="INBOX", subject=subject)],
        allow=[pat("mail", "attachments", "insert", filename=f"{inv.number}.pdf"), MAIL_READ]))

    # 4. a reply in the right thread (the requester also wrote to you about something else)
    def other_thread(req, user):
        asker, me = o.person(req.requester), o.person(user)
        return next((t for t in f.mail if t.kind == "chat" and any(asker.email in m.sender for m in t.messages)
                     and any(me.email in m.to for m in t.messages)), None)
    # the wrong thread: another email the requester sent you; else (none in this world) the reply goes to everyone on it
    req, user, other = next(chain(((r, u, other_thread(r, u)) for r in f.meeting_requests for u in r.attendees
                                   if other_thread(r, u) is not None),
                                  [(f.meeting_requests[0], f.meeting_requests[0].attendees[0], None)]))
    th = o.thread("meeting_request", req.id)
    me, asker = o.person(user), o.person(req.requester)
    mid = o.mail_id(me.email, th.id)
    text = f"Hi {asker.first_name}, I am away that week, so please go ahead without me. {me.first_name}"
    if other is not None:
        mido = o.mail_id(me.email, other.id, next(k for k, m in enumerate(other.messages) if me.email in m.to))
        wrong = o.post(user, "mail", f"/api/messages/{mido}/reply", {"body": text})
    else:
        wrong = o.post(user, "mail", f"/api/messages/{mid}/reply", {"body": text, "reply_all": True})
    drafts.append(Draft(
        "mail", user, ["mail"],
        f"{asker.name} asked you by email for a meeting about {req.topic}. You are away that week: reply to that email "
        f"(to {asker.first_name} only, not to everyone on it) saying to go ahead without you.",
        [o.get(user, "mail", "/api/messages", **{"from": asker.email}),
         o.post(user, "mail", f"/api/messages/{mid}/reply", {"body": text}), submit("replied")],
        [o.get(user, "mail", "/api/messages", **{"from": asker.email}), wrong, submit("replied")],
        expect=[pat("mail", "messages", "insert", mailbox=me.email, folder="Sent", thread_id=th.id),
                pat("mail", "messages", "insert", mailbox=asker.email, folder="INBOX", thread_id=th.id)],
        allow=[MAIL_READ]))

    # 5. a figure computed across mail and bank, sent by mail and submitted
    user = fin[1 % len(fin)]
    due = sum(i.amount_cents for i in f.invoices if i.kind == "genuine")
    every = sum(i.amount_cents for i in f.invoices)
    subject = "Unpaid invoices"
    drafts.append(Draft(
        "mail", user, ["mail", "bank"],
        f"Email {o.who(head)} ({o.person(head).email}) from your own mailbox, subject \"{subject}\", with the total amount "
        f"due on the invoices in the {o.accounts_box} mailbox that are genuine (bank details match the payee on file) "
        f"and not yet paid (no payment for them in the Operating account). Then submit that total in dollars.",
        [python(total_unpaid_code(o, user)),
         o.post(user, "mail", "/api/messages", {"to": [o.person(head).email], "subject": subject,
                                                "body": f"Total due on unpaid genuine invoices: {money(due)}"}),
         submit(money(due))],
        [o.search_mail(user, o.accounts_box, q="invoice"),
         o.post(user, "mail", "/api/messages", {"to": [o.person(head).email], "subject": subject,
                                                "body": f"Total due on unpaid invoices: {money(every)}"}),
         submit(money(every))],
        expect=[pat("mail", "messages", "insert", mailbox=o.person(user).email, folder="Sent", subject=subject,
                    body={"$amount": due / 100}),
                pat("mail", "messages", "insert", mailbox=o.person(head).email, folder="INBOX", subject=subject,
                    body={"$amount": due / 100})],
        allow=[MAIL_READ], answer_graders=[{"type": "numeric", "expected": due / 100, "tol": 0.005}],
        answer=money(due)))
    return drafts


def total_unpaid_code(o: Office, user: str) -> str:
    """A program that adds up the genuine, unpaid invoices of accounts@ (mail attachments checked against the bank)."""
    return f"""
MAIL, BANK = {o.base('mail')!r}, {o.base('bank')!r}
MT, BT = {o.token('mail', user)!r}, {o.token('bank', user)!r}
OPERATING = {o.operating!r}
box = urllib.parse.quote({o.accounts_box!r})
payees = {{p["account_number"] for p in api("GET", f"{{BANK}}/api/payees", BT)}}
total = 0
for m in api("GET", f"{{MAIL}}/api/messages?mailbox={{box}}&q=invoice&limit=200", MT)["messages"]:
    for a in api("GET", f"{{MAIL}}/api/messages/{{m['id']}}", MT)["attachments"]:
        pdf = api("GET", MAIL + a["url"], MT)
        number = re.search(r"INVOICE (INV-\\d+)", pdf).group(1)
        account = re.search(r"Account number: (\\d+)", pdf).group(1)
        cents = int(re.search(r"Amount due: \\$([\\d,.]+)", pdf).group(1).replace(",", "").replace(".", ""))
        paid = api("GET", f"{{BANK}}/api/accounts/{{OPERATING}}/transactions?q={{number}}", BT)["total"]
        ok = account in payees and not paid
        print(number, cents, "due" if ok else "skip")
        total += cents if ok else 0
print("total due: $%d.%02d" % divmod(total, 100))
"""


def question_tasks(o: Office) -> list[Draft]:
    """Questions answered from one or several services, most with a program; graded on the answer, nothing changed."""
    f = o.f
    drafts = []
    fin = [p.username for p in f.members("finance")]
    head = f.team("finance").lead

    # 1. unpaid genuine invoices (mail + bank)
    user = fin[-1]
    due = sum(i.amount_cents for i in f.invoices if i.kind == "genuine")
    every = sum(i.amount_cents for i in f.invoices)
    drafts.append(Draft(
        "question", user, ["mail", "bank"],
        f"What is the total amount due, in dollars, on the invoices in the {o.accounts_box} mailbox that are genuine "
        f"(the bank account printed on the invoice is the vendor's payee on file) and not paid yet (no payment for "
        f"them in the Operating account)? Change nothing.",
        [python(total_unpaid_code(o, user)), submit(money(due))],
        [o.search_mail(user, o.accounts_box, q="invoice"), submit(money(every))],
        state=[unchanged("bank", "transfers", o)], allow=[MAIL_READ],
        answer_graders=[{"type": "numeric", "expected": due / 100, "tol": 0.005}], answer=money(due)))

    # 2. a month's net flow on a statement (bank)
    month = (o.now.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    st = o.statement(o.operating, month)
    net = st["money_in_cents"] - st["money_out_cents"]
    code = f"""
s = api("GET", {o.base('bank') + f'/api/accounts/{o.operating}/statement?month={month}'!r}, {o.token('bank', head)!r})
net = sum(t["amount_cents"] for t in s["transactions"])
print("in", s["money_in_cents"], "out", s["money_out_cents"], "net", net, "check", s["closing_balance_cents"] - s["opening_balance_cents"])
"""
    drafts.append(Draft(
        "question", head, ["bank"],
        f"By how much did the balance of the {f.org.name} Operating account change over {month} (money in minus money "
        f"out, in dollars; answer with a plain number such as -1234.56 if it fell)? Change nothing.",
        [o.get(head, "bank", "/api/accounts"), python(code), submit(f"{net / 100:.2f}")],
        [o.get(head, "bank", f"/api/accounts/{o.operating}/statement", month=month),
         submit(money(st["money_in_cents"]))],
        state=[unchanged("bank", "transfers", o)],
        # a signed change: "fell by 12.00" is -12.00, and a direction word against the sign fails
        answer_graders=[{"type": "numeric", "expected": net / 100, "tol": 0.005, "signed": True}],
        answer=f"{net / 100:.2f}"))
    assert st["money_in_cents"] != net

    # 3. the price of a basket from the catalogue (shop)
    user = f.shop.staff[0]
    cat = max(sorted({p.category for p in f.shop.products}),
              key=lambda c: sum(1 for p in f.shop.products if p.category == c and p.stock == 0))
    in_stock = sum(p.price_cents for p in f.shop.products if p.category == cat and p.stock > 0)
    every = sum(p.price_cents for p in f.shop.products if p.category == cat)
    assert in_stock != every
    code = f"""
r = api("GET", {o.base('shop') + '/api/products?' + urlencode({'category': cat, 'in_stock': 'true', 'limit': 100})!r},
        {o.token('shop', user)!r})
print(r["total"], "products", "$%.2f" % (sum(p["price_cents"] for p in r["products"]) / 100))
"""
    drafts.append(Draft(
        "question", user, ["shop"],
        f"What would it cost, in dollars before shipping, to buy one of each {cat} product of the shop that is in stock "
        f"right now? Change nothing.",
        [python(code), submit(money(in_stock))],
        [o.get(user, "shop", "/api/products", category=cat, limit=100), submit(money(every))],
        state=[unchanged("shop", "orders", o)],
        answer_graders=[{"type": "numeric", "expected": in_stock / 100, "tol": 0.005}], answer=money(in_stock)))

    # 4. numbers from a chat thread (chat)
    user = next(p.username for p in f.people if p.team == "engineering" and p.title == "Senior Software Engineer")
    inc = o.channel_id("incidents")
    parent = next(m for m in o.rows("chat", "messages", channel=inc) if m["thread_ts"] is None)
    text = " ".join(m["text"] for m in o.rows("chat", "messages", channel=inc, thread_ts=parent["ts"]))
    customers = int(re.search(r"(\d+) customers", text).group(1))
    minutes = int(re.search(r"after (\d+) minutes", text).group(1))
    rate = int(re.search(r"at (\d+)%", text).group(1))
    reads = [o.get(user, "chat", "/api/conversations.history", channel="incidents"),
             o.get(user, "chat", "/api/conversations.replies", channel=inc, ts=parent["ts"])]
    drafts.append(Draft(
        "question", user, ["chat"],
        "According to the incident thread in the #incidents channel, how many customers saw errors, and how many "
        "minutes did the incident last? Answer as: <customers>; <minutes>. Change nothing.",
        reads + [submit(f"{customers} customers; {minutes} minutes")],
        reads + [submit(f"{rate}% error rate; {minutes} minutes")],
        state=[unchanged("chat", "messages", o)],
        answer_graders=[{"type": "parts", "sep": ";", "names": ["customers", "minutes"],
                         "parts": [{"type": "numeric", "expected": customers, "tol": 0},
                                   {"type": "numeric", "expected": minutes, "tol": 0, "unit": "minutes"}]}],
        answer=f"{customers} customers; {minutes} minutes"))

    # 5. who has not answered an invitation (calendar)
    ev = next(e for e in o.tables["calendar"]["events"] if e["title"] == "All hands")
    user = ev["organizer"]
    atts = o.rows("calendar", "attendees", event=ev["id"])
    waiting = sum(1 for a in atts if a["status"] == "needs-action")
    unsure = sum(1 for a in atts if a["status"] in ("needs-action", "tentative"))
    code = f"""
ev = api("GET", {o.base('calendar') + f"/api/events/{ev['id']}"!r}, {o.token('calendar', user)!r})
print(sum(1 for a in ev["attendees"] if a["status"] == "needs-action"), "of", len(ev["attendees"]), "have not answered")
"""
    drafts.append(Draft(
        "question", user, ["calendar"],
        "How many of the people you invited to the All hands have not answered the invitation at all yet (a tentative "
        "answer is an answer)? Answer with the number. Change nothing.",
        [o.get(user, "calendar", "/api/events"), python(code), submit(str(waiting))],
        [o.get(user, "calendar", f"/api/events/{ev['id']}"), submit(str(unsure))],
        state=[unchanged("calendar", "attendees", o)],
        answer_graders=[{"type": "numeric", "expected": waiting, "tol": 0}], answer=waiting))
    return drafts


FAMILIES = [refund_tasks, invoice_tasks, bank_tasks, meeting_tasks, calendar_tasks, triage_tasks, tracker_tasks,
            chat_tracker_tasks, chat_tasks, mail_tasks, question_tasks]


# ---------------------------------------------------------------------------------------------------------------
# The suite
# ---------------------------------------------------------------------------------------------------------------
#: extras a task that does not forbid them tolerates (backend_state's `harmless`): messages and reactions in chat,
#: comments on the tracker
HARMLESS = [pat("chat", "messages", "insert"), pat("chat", "reactions", "insert"), pat("tracker", "comments", "insert")]
STRICT_WORDS = re.compile(r"nothing else|change nothing|post nothing|only that|leave the others|leave your other", re.I)


def finish(o: Office, d: Draft, n: int, *, prefix: str = "office", max_steps: int = MAX_STEPS) -> dict:
    """A task of the suite file from a draft: id (``<prefix>-NNN``), instruction with credentials, graders, budget
    (``max_steps`` unless the scripted solutions need more)."""
    grader: dict[str, Any] = {"type": "backend_state"}
    if d.expect:
        grader["expect"] = d.expect
    if d.allow:
        grader["allow"] = d.allow
    if d.state:
        grader["state"] = d.state
    grader["strict"] = True
    if not STRICT_WORDS.search(d.text):
        # the instruction does not say "change nothing else": a word in chat or on the tracker (a thank-you, a note
        # that it is done) is a harmless extra, unless the task itself works on that table
        grader["harmless"] = HARMLESS
    text = re.sub(r"\b(Co|Inc|Ltd|Corp|Bros|Jr|Sr)\.\.(?!\.)", r"\1.", d.text)  # "to Russell Co.." after a name
    task: dict[str, Any] = {
        "id": f"{prefix}-{n:03d}", "kind": d.kind,
        "instruction": text + "\n\n" + o.preamble(d.actor, d.services)
        + "\nWhen you are done, call submit with " + ("your answer." if d.answer_graders else "a one-line summary."),
    }
    if d.answer is not None:
        task["answer"] = d.answer
    task["world"] = {"backends": d.services}
    if d.inject:
        task["world"]["inject"] = d.inject
    task["world"].update(d.world)
    steps = max(max_steps, len(d.oracle) + 8, len(d.decoy) + 4)
    if steps != max_steps:
        task["budget"] = {"max_steps": steps}
    if d.setup:
        task["setup"] = d.setup
    task["graders"] = [grader] + d.graders + d.answer_graders
    task["oracle"] = d.oracle
    task["decoy"] = d.decoy
    if d.audit:
        task["audit"] = d.audit
    return task


def collect(o: Office, families: list) -> list[Draft]:
    """Every family's drafts in order; a world that lacks what one picks is a ValueError naming the family."""
    drafts: list[Draft] = []
    for family in families:
        try:
            drafts += family(o)
        except (StopIteration, LookupError, ValueError) as e:
            name = getattr(family, "__module__", "") if family.__name__ == "tasks" else family.__name__
            raise ValueError(f"world {o.seed} lacks what {name} needs ({type(e).__name__}: {e})") from e
    return drafts


def generate(seed: int = 0) -> dict:
    """The office suite for world ``seed``, as the data of a suite file. A world that lacks something a family picks
    (a second order line, two invitations to one series...) is a ValueError naming the family."""
    o = Office(seed)
    drafts = collect(o, FAMILIES)
    return {
        "suite": "office",
        "version": 1,
        "description": (f"Office work on the simulated services of world {seed} ({o.f.org.name}): refunds, invoices, "
                        "payments, meetings, invitations, triage, chat and mail; graded on the services' final state."),
        "world": {"snapshot": "none", "backends": list(SERVICES), "world_seed": seed, "tools": TOOLS,
                  "sandbox": {"memory": "256m"}},
        "budget": {"max_steps": MAX_STEPS, "tool_timeout": 30, "total_tool_seconds": 300},
        "tasks": [finish(o, d, k + 1) for k, d in enumerate(drafts)],
    }
