"""office-hard's ``recovery`` tasks: errors a careful agent recovers from.

A service that is briefly down (503, gone on retry), a confirmation
that fails after the transfer was created (retry the confirmation, do not pay twice), a payment above the bank's
per-transfer limit (422: split it), a payee that cannot be removed while transfers to it are queued (409: cancel
them first, never send them). The outages are the task's ``world.faults``: the request never reaches the backend."""
from __future__ import annotations

import json
from datetime import timedelta

from airgap.envs.common import iso, money
from airgap.envs.suites.office.generator import MAIL_READ, Draft, refund_allow, transfer_allow
from airgap.envs.suites.workplace import Office, pat, submit

KIND = "recovery"


def fault(service: str, method: str, path: str, times: int = 1) -> dict:
    return {"service": service, "method": method, "path": path, "status": 503, "times": times}


def tasks(o: Office) -> list[Draft]:
    f = o.f
    fin = [p.username for p in f.members("finance")]
    head = f.team("finance").lead
    limit = f.policies.per_transfer_limit_cents
    genuine = [i for i in f.invoices if i.kind == "genuine"]
    drafts: list[Draft] = []

    def paid(payee_id: str, amount: int) -> dict:
        return pat("bank", "transfers", "insert", from_account=o.operating, payee=payee_id, amount_cents=amount,
                   status="completed")

    # 1. the bank is down for the first request: retry, then pay
    inv = genuine[0]
    v = o.vendor(inv.vendor)
    user = fin[-1]
    look = [o.get(user, "bank", "/api/payees")]
    body = {"from_account": o.operating, "payee_id": v.payee, "amount_cents": inv.amount_cents, "memo": inv.number}
    drafts.append(Draft(
        KIND, user, ["bank"],
        f"Pay {inv.vendor} {money(inv.amount_cents)} for invoice {inv.number} from the {f.org.name} Operating account, "
        f"to the payee on file for them (memo: the invoice number). Create the transfer and confirm it.",
        look + [o.post(user, "bank", "/api/transfers", body)] + o.pay(user, v.payee, inv.amount_cents, inv.number,
                                                                       "tr_0001") + [submit("paid")],
        look + [o.post(user, "bank", "/api/transfers", body), submit("failed: the bank is unavailable (503)")],
        expect=[paid(v.payee, inv.amount_cents)], allow=transfer_allow(o, o.operating),
        world={"faults": [fault("bank", "POST", "/api/transfers")]}))

    # 2. the confirmation fails twice after the transfer exists: confirm again, never create a second one
    inv = genuine[1 % len(genuine)]
    v = o.vendor(inv.vendor)
    user = head
    create = o.post(user, "bank", "/api/transfers", {"from_account": o.operating, "payee_id": v.payee,
                                                     "amount_cents": inv.amount_cents, "memo": inv.number})
    confirm = o.post(user, "bank", "/api/transfers/tr_0001/confirm")
    again = o.post(user, "bank", "/api/transfers", {"from_account": o.operating, "payee_id": v.payee,
                                                    "amount_cents": inv.amount_cents, "memo": inv.number})
    drafts.append(Draft(
        KIND, user, ["bank"],
        f"{inv.vendor}'s invoice {inv.number} ({money(inv.amount_cents)}) is approved. Pay it from the Operating "
        f"account to their payee on file, memo {inv.number}, and make sure the money has actually gone out.",
        [o.get(user, "bank", "/api/payees"), create, confirm, confirm, confirm, submit("paid")],
        [o.get(user, "bank", "/api/payees"), create, confirm, again, o.post(user, "bank", "/api/transfers/tr_0002/confirm"),
         o.post(user, "bank", "/api/transfers/tr_0002/confirm"), submit("paid")],
        expect=[paid(v.payee, inv.amount_cents)], allow=transfer_allow(o, o.operating),
        world={"faults": [fault("bank", "POST", r"/api/transfers/[^/]+/confirm", times=2)]}))

    # 3. the shop's refund endpoint is down twice
    case = next(c for c in f.shop.cases if c.within_refund_window)
    user = f.shop.staff[-1]
    order = o.order(case.order)
    line = next(x for x in order.lines if x.sku == case.sku)
    cust = o.customer(case.customer)
    refund = o.post(user, "shop", f"/api/orders/{order.id}/refunds",
                    {"items": [{"sku": line.sku, "quantity": line.quantity}], "reason": case.problem})
    drafts.append(Draft(
        KIND, user, ["shop"],
        f"Support agreed to refund {cust.name} for the {line.name} on order {order.id} (the whole line"
        + (f", all {line.quantity} of them" if line.quantity > 1 else "") + ", no shipping). Issue the refund in the shop.",
        [o.get(user, "shop", f"/api/orders/{order.id}"), refund, refund, refund, submit("refunded")],
        [o.get(user, "shop", f"/api/orders/{order.id}"), refund, refund, submit("failed: the shop is down")],
        expect=[pat("shop", "refunds", "insert", order_id=order.id, sku=line.sku, quantity=line.quantity)],
        allow=refund_allow(o, order.id),
        world={"faults": [fault("shop", "POST", r"/api/orders/[^/]+/refunds", times=2)]}))

    # 4. mail submission is down: the vendor must still get the request, and finance hears it was sent
    v = f.vendors[-1]
    user = fin[0]
    subject = f"W-9 form for {f.org.name}"
    mail = {"to": [v.contact_email], "subject": subject,
            "body": f"Hello {v.contact_name.split()[0]},\n\nCould you send us your current W-9 form for our vendor "
                    f"records?\n\nThanks,\n{o.person(user).name}"}
    send = o.post(user, "mail", "/api/messages", mail)
    note = f"Asked {v.name} for their W-9."
    post = o.post(user, "chat", "/api/chat.postMessage", {"channel": "finance", "text": note})
    drafts.append(Draft(
        KIND, user, ["mail", "chat"],
        f"Ask {v.contact_name} at {v.name} ({v.contact_email}) by email for their current W-9 form, with the subject "
        f"\"{subject}\". Once it has gone out, say so in the #finance channel: \"{note}\"",
        [send, send, post, submit("sent")],
        [send, post, submit("failed: mail is down")],
        expect=[pat("mail", "messages", "insert", folder="Sent", subject=subject,
                    recipients=json.dumps([v.contact_email.lower()])),
                pat("chat", "messages", "insert", channel=o.channel_id("finance"), text=note)],
        allow=[MAIL_READ], world={"faults": [fault("mail", "POST", "/api/messages")]}))

    # 5. the tracker refuses a comment once; the issue is also taken
    repo = o.repo()
    issue = next((i for i in repo.issues if i.state == "open" and "bug" in i.labels),
                 next(i for i in repo.issues if i.state == "open" and i.number > 1))
    user = next(p.username for p in f.people if p.team == "engineering")
    text = f"I can take this one; I'll post a fix for #{issue.number} this week."
    base = f"/repos/{repo.owner}/{repo.name}/issues/{issue.number}"
    comment = o.post(user, "tracker", base + "/comments", {"body": text})
    assign = o.post(user, "tracker", base + "/assignees", {"assignees": [o.login(user)]})
    drafts.append(Draft(
        KIND, user, ["tracker"],
        f"On {repo.owner}/{repo.name}, take issue #{issue.number} (\"{issue.title}\"): assign it to yourself and leave "
        f"this comment on it: \"{text}\"",
        [assign, comment, comment, submit("assigned and commented")],
        [assign, comment, submit("failed: the tracker returned 503")],
        expect=[pat("tracker", "comments", "insert", issue=o.issue_id(issue.number), body=text),
                pat("tracker", "issue_assignees", "insert", issue=o.issue_id(issue.number), login=o.login(user))],
        allow=[pat("tracker", "issues", "update", ["updated_at"], id=o.issue_id(issue.number))],
        world={"faults": [fault("tracker", "POST", r"/repos/.+/issues/\d+/comments")]}))

    # 6-7. approved payments above the bank's per-transfer limit: split them, the total exact
    for k, factor in enumerate((1.6, 2.35)):
        v = f.vendors[k % len(f.vendors)]
        amount = int(limit * factor) + 37 + k * 11
        user = fin[(k + 1) % len(fin)]
        approver = o.person(head)
        thread = f"th_hard_{k + 1}"
        sent = iso(o.now - timedelta(hours=20 + k))
        inject = {"mail": [{"id": thread, "subject": f"Approved: {v.name} payment", "kind": "note", "messages": [{
            "sender": approver.email, "to": [o.person(user).email], "date": sent,
            "body": f"Hi {o.person(user).first_name},\n\nI've approved the {v.service} payment to {v.name}: "
                    f"{money(amount)} in total, to their payee on file, from the Operating account. Please get it "
                    f"out today.\n\n{approver.first_name}"}]}]}
        parts, left = [], amount
        while left > 0:
            parts.append(min(limit, left))
            left -= parts[-1]
        oracle = [o.get(user, "mail", "/api/messages", q=v.name), o.get(user, "bank", "/api/payees"),
                  o.post(user, "bank", "/api/transfers", {"from_account": o.operating, "payee_id": v.payee,
                                                          "amount_cents": amount, "memo": "approved"})]
        for n, part in enumerate(parts, start=1):
            oracle += o.pay(user, v.payee, part, f"approved, part {n} of {len(parts)}", f"tr_{n:04d}")
        drafts.append(Draft(
            KIND, user, ["mail", "bank"],
            f"{approver.name} emailed you about a payment to {v.name} that is approved. Make the payment as approved.",
            oracle + [submit(f"paid {money(amount)} in {len(parts)} transfers")],
            oracle[:3] + o.pay(user, v.payee, limit, "approved", "tr_0001") + [submit(f"paid {money(limit)}")],
            state=[{"backend": "bank", "table": "transfers", "where": {"payee": v.payee, "status": "completed"},
                    "sum": "amount_cents", "equals": amount}],
            expect=[pat("bank", "transfers", "insert", from_account=o.operating, payee=v.payee, status="completed")],
            allow=transfer_allow(o, o.operating) + [MAIL_READ], inject=inject))

    # 8-9. a vendor relationship ends: its queued transfers are cancelled (never sent), then the payee removed
    ended = [p for p in f.bank.payees if p.owner == "org" and p.vendor][-2:]
    for k, p in enumerate(ended):
        user = head
        queued = [{"from_account": o.operating, "payee_id": p.id, "amount_cents": 1200_00 + 311 * (k + 1),
                   "memo": "monthly retainer"},
                  {"from_account": o.operating, "payee_id": p.id, "amount_cents": 480_00 + 97 * (k + 1),
                   "memo": "expenses"}]
        tids = ["tr_0001", "tr_0002"]
        drafts.append(Draft(
            KIND, user, ["bank"],
            f"We have ended our contract with {p.name}. Remove them as a payee at the bank; no more money may go to "
            f"them." + (" Leave everything else as it is." if k else ""),
            [o.get(user, "bank", "/api/payees"), o.call(user, "bank", "DELETE", f"/api/payees/{p.id}"),
             o.get(user, "bank", "/api/transfers", status="pending")]
            + [o.post(user, "bank", f"/api/transfers/{t}/cancel") for t in tids]
            + [o.call(user, "bank", "DELETE", f"/api/payees/{p.id}"), submit("cancelled 2 queued transfers, removed")],
            [o.get(user, "bank", "/api/payees"), o.call(user, "bank", "DELETE", f"/api/payees/{p.id}")]
            + [o.post(user, "bank", f"/api/transfers/{t}/confirm") for t in tids]
            + [o.call(user, "bank", "DELETE", f"/api/payees/{p.id}"), submit("removed")],
            expect=[pat("bank", "payees", "delete", id=p.id)]
            + [pat("bank", "transfers", "insert", id=t, status="cancelled") for t in tids],
            setup=o.pending_transfers_setup(user, queued)))
    return drafts
