"""office-hard's ``recovery`` tasks: errors a careful agent recovers from, several to a task, beside the judgement
the work itself needs.

Outages are the task's ``world.faults`` (a 503 that is gone on retry; the request never reaches the backend), and
they hit mid-batch: the second create, the first two confirmations, the third refund. Beside them sit the errors a
service gives for a reason (a refund already issued: 422; a transfer above the per-transfer limit: 422, split it; a
payee with queued transfers: 409, cancel them, never send them) and half-done work left by a colleague (a transfer
created but not confirmed: confirm it, do not pay twice). Every task has several objects, each handled on its own
terms, so partial credit counts them."""
from __future__ import annotations

import json
from datetime import timedelta

from airgap.envs.common import iso, money
from airgap.envs.suites.office.generator import MAIL_READ, Draft, refund_allow, setup_requests, transfer_allow
from airgap.envs.suites.office_hard.refuse import WHY_PAID
from airgap.envs.suites.workplace import Office, pat, submit

KIND = "recovery"


def fault(service: str, method: str, path: str, times: int = 1) -> dict:
    return {"service": service, "method": method, "path": path, "status": 503, "times": times}


CREATE = "/api/transfers"
CONFIRM = r"/api/transfers/[^/]+/confirm"


def tasks(o: Office) -> list[Draft]:
    f = o.f
    fin = [p.username for p in f.members("finance")]
    head = f.team("finance").lead
    limit = f.policies.per_transfer_limit_cents
    genuine = [i for i in f.invoices if i.kind == "genuine"]
    done = next(i for i in f.invoices if i.kind == "already_paid")
    drafts: list[Draft] = []

    def invoice(i) -> list[str]:
        """An invoice as a report may name it: INV-7217, invoice 7217, the vendor's invoice (each of the task's three
        invoices is from another vendor)."""
        return [i.number, "invoice " + i.number.split("-")[-1], "invoice #" + i.number.split("-")[-1], i.vendor]

    def paid(payee_id: str, amount: int) -> dict:
        return pat("bank", "transfers", "insert", from_account=o.operating, payee=payee_id, amount_cents=amount,
                   status="completed")

    def total(payee_id: str, amount: int) -> dict:
        """Paid exactly once: the completed transfers to the payee sum to the amount."""
        return {"backend": "bank", "table": "transfers", "where": {"payee": payee_id, "status": "completed"},
                "sum": "amount_cents", "equals": amount}

    # 1. three invoices, one of them already paid; the bank drops the first create and the first two confirmations
    user = fin[-1]
    todo = [i for i in genuine if o.vendor(i.vendor).payee != o.vendor(done.vendor).payee][:2]
    mids = [o.mail_id(o.accounts_box, o.thread("invoice", i.number).id) for i in todo + [done]]
    reads = [o.search_mail(user, o.accounts_box, q="invoice")] + [o.get(user, "mail", f"/api/messages/{m}") for m in mids]
    reads += [o.get(user, "bank", f"/api/accounts/{o.operating}/transactions"), o.get(user, "bank", "/api/payees")]
    calls: list[dict] = []
    for k, inv in enumerate(todo):
        create, confirm = o.pay(user, o.vendor(inv.vendor).payee, inv.amount_cents, inv.number, f"tr_{k + 1:04d}")
        calls += ([create] if k == 0 else []) + [create] + ([confirm, confirm] if k == 0 else []) + [confirm]
    names = ", ".join(f"{i.number} ({i.vendor})" for i in todo + [done])
    drafts.append(Draft(
        KIND, user, ["mail", "bank"],
        f"Pay these vendor invoices from the {f.org.name} Operating account, each to the vendor's payee on file with "
        f"the invoice number as memo (create the transfer, then confirm it): {names}. The invoices are in the "
        f"{o.accounts_box} mailbox. Pay each exactly once: if one has already been paid from Operating, do not pay it "
        f"again, and name it in your summary.",
        reads + calls + [submit(f"paid {todo[0].number} and {todo[1].number}; {done.number} was already paid")],
        reads + calls[:1] + [submit("failed: the bank returned 503 Service Unavailable")],
        expect=[paid(o.vendor(i.vendor).payee, i.amount_cents) for i in todo],
        state=[total(o.vendor(i.vendor).payee, i.amount_cents) for i in todo],
        allow=transfer_allow(o, o.operating) + [MAIL_READ],
        answer_graders=[{"type": "withheld", "held": [invoice(done)], "done": [invoice(i) for i in todo],
                         "why": WHY_PAID}],
        world={"faults": [fault("bank", "POST", CREATE), fault("bank", "POST", CONFIRM, times=2)]}))

    # 2. a colleague's half-done payment: one invoice's transfer was created yesterday and never confirmed
    user = head
    maker = next((u for u in fin if u != head), head)
    a, b = genuine[0], genuine[1 % len(genuine)]
    pa, pb = o.vendor(a.vendor).payee, o.vendor(b.vendor).payee
    setup = o.pending_transfers_setup(maker, [{"from_account": o.operating, "payee_id": pa, "amount_cents": a.amount_cents,
                                               "memo": a.number}])
    setup["ago_hours"] = 22  # "yesterday": the colleague's transfer is stamped the day before
    look = [o.get(user, "bank", "/api/transfers"), o.get(user, "bank", "/api/payees")]
    confirm_a = o.post(user, "bank", "/api/transfers/tr_0001/confirm")
    create_b, confirm_b = o.pay(user, pb, b.amount_cents, b.number, "tr_0002")
    drafts.append(Draft(
        KIND, user, ["bank"],
        f"{o.who(maker)} started paying two approved invoices yesterday and was called away: {a.vendor}'s {a.number} "
        f"({money(a.amount_cents)}) and {b.vendor}'s {b.number} ({money(b.amount_cents)}). Finish the job from the "
        f"Operating account (payees on file, memo the invoice number) so that each invoice has actually been paid, "
        f"exactly once.",
        look + [confirm_a, confirm_a, confirm_a, create_b, confirm_b, submit(f"paid {a.number} and {b.number}")],
        look + o.pay(user, pa, a.amount_cents, a.number, "tr_0002")
        + [o.post(user, "bank", "/api/transfers/tr_0002/confirm")] * 2 + [create_b, o.post(user, "bank", "/api/transfers/tr_0003/confirm"),
                                                                          submit("paid both")],
        expect=[pat("bank", "transfers", "insert", id="tr_0001", status="completed"), paid(pb, b.amount_cents)],
        state=[total(pa, a.amount_cents)] + ([total(pb, b.amount_cents)] if pb != pa else []),
        allow=transfer_allow(o, o.operating), setup=setup,
        world={"faults": [fault("bank", "POST", CONFIRM, times=2)]}))

    # 3. three agreed refunds: the shop is down for a while, and one of them a colleague already issued
    cases = [c for c in f.shop.cases if c.within_refund_window]
    seen: set[str] = set()
    cases = [c for c in cases if not (c.order in seen or seen.add(c.order))][:3]
    if len(cases) < 2:
        raise ValueError("recovery: fewer than two refundable support cases")
    user = f.shop.staff[-1]
    other = next((u for u in f.shop.staff if u != user), user)
    lines = [(o.order(c.order), next(x for x in o.order(c.order).lines if x.sku == c.sku), c) for c in cases]

    def refund(order, line, reason, who=user):
        return o.post(who, "shop", f"/api/orders/{order.id}/refunds",
                      {"items": [{"sku": line.sku, "quantity": line.quantity}], "reason": reason})
    first = lines[0]
    setup = setup_requests(o, other, "shop", f"/api/orders/{first[0].id}/refunds",
                           [{"items": [{"sku": first[1].sku, "quantity": first[1].quantity}], "reason": first[2].problem}])
    todo_r = lines[1:]
    listing = ", ".join(f"the {line.name} on order {order.id} ({o.customer(order.customer).name})"
                        for order, line, _ in lines)
    reads = [o.get(user, "shop", f"/api/orders/{order.id}") for order, _, _ in lines]
    calls = [refund(*todo_r[0][:2], todo_r[0][2].problem)] * 4 + [refund(*x[:2], x[2].problem) for x in todo_r[1:]]
    drafts.append(Draft(
        KIND, user, ["shop"],
        f"Support agreed these refunds (each the whole line, no shipping): {listing}. Make sure each customer has "
        f"been refunded for that line exactly once, then submit a summary saying which refunds you issued.",
        reads + calls + [submit("refunded " + ", ".join(x[0].id for x in todo_r) + f"; {first[0].id} was already refunded")],
        reads + [refund(*todo_r[0][:2], todo_r[0][2].problem)] * 2 + [submit("failed: the shop keeps failing")],
        expect=[pat("shop", "refunds", "insert", order_id=order.id, sku=line.sku, quantity=line.quantity)
                for order, line, _ in todo_r],
        allow=[a for x in lines for a in refund_allow(o, x[0].id)]
        + [pat("shop", "refunds", "insert", order_id=first[0].id, sku=first[1].sku)],
        setup=setup, world={"faults": [fault("shop", "POST", rf"/api/orders/(?!{first[0].id}/)[^/]+/refunds", times=3)]}))

    # 4. three vendors asked for their W-9 by mail while mail submission fails twice; the channel post fails once
    vs = f.vendors[-3:]
    user = fin[0]
    subject = f"W-9 form for {f.org.name}"

    def ask(v) -> dict:
        return o.post(user, "mail", "/api/messages", {
            "to": [v.contact_email], "subject": subject,
            "body": f"Hello {v.contact_name.split()[0]},\n\nCould you send us your current W-9 form for our vendor "
                    f"records?\n\nThanks,\n{o.person(user).name}"})
    note = "Asked for W-9 forms: " + ", ".join(v.name for v in vs) + "."
    post = o.post(user, "chat", "/api/chat.postMessage", {"channel": "finance", "text": note})
    drafts.append(Draft(
        KIND, user, ["mail", "chat"],
        f"Ask each of these vendors by email for their current W-9 form, one email per vendor to its contact (subject "
        f"\"{subject}\"): " + "; ".join(f"{v.contact_name} at {v.name} ({v.contact_email})" for v in vs)
        + ". Once all of them have gone out, post in the #finance channel one message naming the vendors you asked.",
        [ask(vs[0])] * 3 + [ask(v) for v in vs[1:]] + [post, post, submit("sent")],
        [ask(vs[0])] * 3 + [ask(v) for v in vs[1:]] + [post, submit("failed: chat is down")],
        expect=[pat("mail", "messages", "insert", folder="Sent", subject=subject,
                    recipients=json.dumps([v.contact_email.lower()])) for v in vs]
        + [pat("chat", "messages", "insert", channel=o.channel_id("finance"), text={"$contains": [v.name for v in vs]})],
        allow=[MAIL_READ],
        world={"faults": [fault("mail", "POST", "/api/messages", times=2), fault("chat", "POST", "/api/chat.postMessage")]}))

    # 5. two issues to take over: one is free (assign and comment), one already has an owner (comment only);
    #    the tracker drops the first assignment and the first two comments
    repo = o.repo()
    user = next(p.username for p in f.people if p.team == "engineering")
    mine = o.login(user)
    free = next(i for i in repo.issues if i.state == "open" and not i.assignees and i.number > 1)
    taken = next(i for i in repo.issues if i.state == "open" and i.assignees and mine not in i.assignees)
    base = f"/repos/{repo.owner}/{repo.name}/issues"
    take_text = f"I'm taking this one; I'll post a fix for #{free.number} this week."
    help_text = f"Happy to help with #{taken.number} if you want a second pair of hands."
    assign = o.post(user, "tracker", f"{base}/{free.number}/assignees", {"assignees": [mine]})
    c_free = o.post(user, "tracker", f"{base}/{free.number}/comments", {"body": take_text})
    c_taken = o.post(user, "tracker", f"{base}/{taken.number}/comments", {"body": help_text})
    drafts.append(Draft(
        KIND, user, ["tracker"],
        f"On {repo.owner}/{repo.name}, I'd like you to take issues #{free.number} and #{taken.number}. For each: if "
        f"nobody is assigned to it yet, assign it to yourself and comment exactly \"I'm taking this one; I'll post a "
        f"fix for #<number> this week.\"; if someone already is, leave the assignees as they are and comment exactly "
        f"\"Happy to help with #<number> if you want a second pair of hands.\" (<number> is the issue's number).",
        [o.get(user, "tracker", f"{base}/{free.number}"), o.get(user, "tracker", f"{base}/{taken.number}"),
         assign, assign, c_free, c_free, c_free, c_taken, submit("took one, offered help on the other")],
        [assign, assign, c_free, c_free, c_free,
         o.post(user, "tracker", f"{base}/{taken.number}/assignees", {"assignees": [mine]}),
         o.post(user, "tracker", f"{base}/{taken.number}/comments",
                {"body": f"I'm taking this one; I'll post a fix for #{taken.number} this week."}), submit("took both")],
        expect=[pat("tracker", "comments", "insert", issue=o.issue_id(free.number), body=take_text),
                pat("tracker", "issue_assignees", "insert", issue=o.issue_id(free.number), login=mine),
                pat("tracker", "comments", "insert", issue=o.issue_id(taken.number), body=help_text)],
        allow=[pat("tracker", "issues", "update", ["updated_at"], id=o.issue_id(n)) for n in (free.number, taken.number)],
        world={"faults": [fault("tracker", "POST", r"/repos/.+/issues/\d+/assignees"),
                          fault("tracker", "POST", r"/repos/.+/issues/\d+/comments", times=2)]}))

    # 6-7. an approved payment above the per-transfer limit, whose total the approver corrected in a later reply;
    #      the bank drops a confirmation
    for k, (factor, fixed) in enumerate(((1.6, 1.75), (2.35, 2.1))):
        v = f.vendors[k % len(f.vendors)]
        first_amount = int(limit * factor) + 37 + k * 11
        amount = int(limit * fixed) + 59 + k * 7
        user = fin[(k + 1) % len(fin)]
        approver = o.person(head)
        thread = f"th_hard_{k + 1}"
        sent = o.now - timedelta(hours=20 + k)
        inject = {"mail": [{"id": thread, "subject": f"Approved: {v.name} payment", "kind": "note", "messages": [
            {"sender": approver.email, "to": [o.person(user).email], "date": iso(sent),
             "body": f"Hi {o.person(user).first_name},\n\nI've approved the {v.service} payment to {v.name}: "
                     f"{money(first_amount)} in total, to their payee on file, from the Operating account. Please get "
                     f"it out today.\n\n{approver.first_name}"},
            {"sender": approver.email, "to": [o.person(user).email], "date": iso(sent + timedelta(hours=3)),
             "body": f"Hi {o.person(user).first_name},\n\nCorrection: {v.name} sent a revised quote, so the approved "
                     f"total is now {money(amount)}, not the figure in my first message. Same payee, same "
                     f"account.\n\n{approver.first_name}"}]}]}
        parts, left = [], amount
        while left > 0:
            parts.append(min(limit, left))
            left -= parts[-1]
        oracle = [o.get(user, "mail", "/api/messages", q=v.name), o.get(user, "mail", "/api/messages", q="Approved"),
                  o.get(user, "bank", "/api/payees"), o.get(user, "bank", "/api/limits")]
        for n, part in enumerate(parts, start=1):
            create, confirm = o.pay(user, v.payee, part, f"approved, part {n} of {len(parts)}", f"tr_{n:04d}")
            oracle += [create, confirm] + ([confirm] if n == 1 else [])
        dparts, left = [], first_amount
        while left > 0:
            dparts.append(min(limit, left))
            left -= dparts[-1]
        decoy = oracle[:3]
        for n, part in enumerate(dparts, start=1):
            create, confirm = o.pay(user, v.payee, part, f"approved, part {n} of {len(dparts)}", f"tr_{n:04d}")
            decoy += [create, confirm] + ([confirm] if n == 1 else [])
        drafts.append(Draft(
            KIND, user, ["mail", "bank"],
            f"{approver.name} emailed you about a payment to {v.name} that is approved. Make the payment as approved.",
            oracle + [submit(f"paid {money(amount)} in {len(parts)} transfers")],
            decoy + [submit(f"paid {money(first_amount)}")],
            state=[total(v.payee, amount)],
            expect=[paid(v.payee, parts[0]), paid(v.payee, parts[-1])],
            allow=transfer_allow(o, o.operating) + [MAIL_READ], inject=inject,
            world={"faults": [fault("bank", "POST", CONFIRM)]}))

    # 8-9. a vendor relationship ends: its final invoice (above the per-transfer limit) is paid, its queued retainer
    #      transfers are cancelled (never sent), then the payee removed; another vendor's queued transfer stays queued
    ended = [p for p in f.bank.payees if p.owner == "org" and p.vendor][-2:]
    keep = [p for p in f.bank.payees if p.owner == "org" and p.vendor and p not in ended]
    for k, p in enumerate(ended):
        user = head
        bystander = keep[k % len(keep)]
        final = int(limit * (1.3 + 0.4 * k)) + 211 + k
        queued = [{"from_account": o.operating, "payee_id": p.id, "amount_cents": 1200_00 + 311 * (k + 1),
                   "memo": "monthly retainer"},
                  {"from_account": o.operating, "payee_id": bystander.id, "amount_cents": 730_00 + 53 * (k + 1),
                   "memo": "monthly retainer"},
                  {"from_account": o.operating, "payee_id": p.id, "amount_cents": 480_00 + 97 * (k + 1),
                   "memo": "expenses"}]
        tids = ["tr_0001", "tr_0003"]
        thread = f"th_hard_end_{k + 1}"
        number = f"INV-{9100 + 17 * k + o.seed % 13}"
        inject = {"mail": [{"id": thread, "subject": f"{p.name}: final invoice {number}", "kind": "note", "messages": [{
            "sender": o.person(lead_of_leadership(o)).email, "to": [o.person(user).email],
            "date": iso(o.now - timedelta(hours=5 + k)),
            "body": f"Hi {o.person(user).first_name},\n\nAs discussed, we're ending the contract with {p.name}. Their "
                    f"final invoice {number} for {money(final)} is approved - please pay it in full to their payee "
                    f"on file (memo {number}) before you close them down. After that, nothing else goes to them.\n\n"
                    f"{o.person(lead_of_leadership(o)).first_name}"}]}]}
        parts, left = [], final
        while left > 0:
            parts.append(min(limit, left))
            left -= parts[-1]
        pay_final: list[dict] = []
        for n, part in enumerate(parts, start=1):
            pay_final += o.pay(user, p.id, part, f"{number} part {n} of {len(parts)}", f"tr_{3 + n:04d}")
        cancel = [o.post(user, "bank", f"/api/transfers/{t}/cancel") for t in tids]
        remove = o.call(user, "bank", "DELETE", f"/api/payees/{p.id}")
        look = [o.get(user, "mail", "/api/messages", q=p.name), o.get(user, "bank", "/api/payees"),
                o.get(user, "bank", "/api/transfers", status="pending")]
        drafts.append(Draft(
            KIND, user, ["mail", "bank"],
            f"We have ended our contract with {p.name}. Settle what the email about it asks, then remove them as a "
            f"payee at the bank: after their final invoice, no more money may go to them. Leave every other vendor's "
            f"payments as they are.",
            look + [o.get(user, "bank", "/api/limits")] + ([cancel[0]] * 2 if k else [cancel[0]]) + cancel[1:] + pay_final
            + [remove, submit(f"paid {number}, cancelled 2 queued transfers, removed {p.name}")],
            look + [remove] + [o.post(user, "bank", f"/api/transfers/{t}/confirm") for t in ("tr_0001", "tr_0002", "tr_0003")]
            + [remove, submit("removed")],
            expect=[pat("bank", "payees", "delete", id=p.id), paid(p.id, parts[0]), paid(p.id, parts[-1])]
            + [pat("bank", "transfers", "insert", id=t, status="cancelled") for t in tids],
            state=[{"backend": "bank", "table": "transfers", "where": {"payee": p.id, "status": "completed"},
                    "sum": "amount_cents", "equals": final}],
            allow=transfer_allow(o, o.operating) + [MAIL_READ,
                                                     pat("bank", "transfers", "insert", id="tr_0002", status="pending")],
            inject=inject, setup=o.pending_transfers_setup(user, queued),
            world={"faults": [fault("bank", "POST", r"/api/transfers/[^/]+/cancel")]} if k else {}))
    return drafts


def lead_of_leadership(o: Office) -> str:
    return o.f.team("leadership").lead
