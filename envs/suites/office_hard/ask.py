"""office-hard's ``ask`` tasks: ask a colleague in chat, don't guess.

Requests that leave out what only a colleague knows — the amount and payee of a
deposit someone booked, the order a customer phoned about, the issue mentioned in a stand-up, the address of an
outside accountant. The colleague answers a direct message in chat (``world.colleagues``: rule-based, from the
world's facts; anything off-topic gets "no idea"); some send the agent on to the person who does know. The decoy
acts on the most plausible guess. Sub-goals: asked the right person, then each action done right."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from airgap.envs.backends.chat.ids import dm_id
from airgap.envs.common import iso, money, parse_iso
from airgap.envs.suites.office.generator import MAIL_READ, Draft, refund_allow, transfer_allow
from airgap.envs.suites.workplace import Office, pat, submit

KIND = "ask"
NO_IDEA = "Sorry, no idea - that's not something I've been involved in."


@dataclass
class Hop:
    """One colleague to ask: who, what the agent asks (the oracle's words), what they answer on topic."""

    who: str
    question: str
    answer: str
    topic: str  # regex of the words that make a question on topic for them


def conversation(o: Office, actor: str, hops: list[Hop]) -> tuple[list[dict], dict, list[dict], list[dict]]:
    """(the oracle's chat calls, world.colleagues, expect 'asked' patterns, allow patterns) for asking ``hops`` in turn."""
    # asking around (a DM to the wrong person, a question in the team's channel) is fine: any message may be posted
    calls, people, asked = [], {}, []
    allow = [pat("chat", "channels", "insert"), pat("chat", "members", "insert"), pat("chat", "messages", "insert")]
    me = o.chat_user(actor)
    for h in hops:
        channel = dm_id(o.seed, actor, h.who)
        calls += [o.post(actor, "chat", "/api/conversations.open", {"users": h.who}),
                  o.post(actor, "chat", "/api/chat.postMessage", {"channel": channel, "text": h.question}),
                  o.get(actor, "chat", "/api/conversations.history", channel=channel)]
        people[h.who] = {"rules": [{"match": h.topic, "reply": h.answer}], "default": NO_IDEA}
        asked.append(pat("chat", "messages", "insert", channel=channel, user=me))
    return calls, people, asked, allow


def tasks(o: Office) -> list[Draft]:
    f = o.f
    rnd = o.rnd
    fin = [p.username for p in f.members("finance")]
    people = {p.username: p for p in f.people}
    others = [p.username for p in f.people if p.team not in ("finance", "support")]
    drafts: list[Draft] = []
    org_payees = [p for p in f.bank.payees if p.owner == "org" and p.vendor]
    limit = f.policies.per_transfer_limit_cents

    # 1-3. a deposit someone else arranged: amount and payee only they know (3: they point to whoever booked it)
    events = ["team offsite", "customer workshop", "quarterly planning day"]
    for k, what in enumerate(events):
        payee = org_payees[(k + 1) % len(org_payees)]
        decoy = org_payees[(k + 2) % len(org_payees)]
        amount = (limit // 3 // 100 + 173 * (k + 1)) * 100 + 45 * k
        organiser = others[k % len(others)]
        user = fin[k % len(fin)]
        memo = f"{what} deposit"
        answer = (f"Yes - it's {money(amount)} to {payee.name} (they're already set up as a payee at the bank). "
                  f"Put \"{memo}\" as the memo, please. Thanks!")
        hops = [Hop(organiser, f"Hi! What's the deposit for the {what} - how much, and to whom?", answer,
                    r"deposit|how much|amount|pay|venue|who|whom|details|" + what.split()[-1])]
        lead = f"{people[organiser].name} ({people[organiser].title})"
        inject = None
        topic = r"deposit|how much|amount|pay|venue|who|whom|details|" + what.split()[-1]
        if k == 0:  # an older written note in a channel gives another figure and payee; the answer now wins
            where = next(c.name for c in f.channels if organiser in c.members and c.name != "random")
            stale = (f"Heads-up for finance: the {what} deposit will probably be {money(amount - 350_00)} to "
                     f"{decoy.name}. I'll confirm the final figure once the booking is done.")
            inject = {"chat": [{"channel": where, "author": organiser, "text": stale,
                                "ts": iso(o.now - timedelta(days=6, hours=3))}]}
            hops = [Hop(organiser, f"Hi! What's the final deposit for the {what} - how much, and to whom?",
                        f"The booking changed since my note in #{where}: it's {money(amount)} to {payee.name} (already "
                        f"a payee at the bank). Put \"{memo}\" as the memo, please.", topic)]
        if k == 1:  # a partial answer: the amount, and who has the rest
            booker = others[(k + 3) % len(others)]
            hops = [Hop(organiser, f"Hi! What's the deposit for the {what} - how much, and to whom?",
                        f"The deposit is {money(amount)} - but {people[booker].name} signed the contract with the "
                        f"venue, so ask them which payee it goes to. Memo \"{memo}\", please.", topic),
                    Hop(booker, f"Hi! {people[organiser].first_name} says you signed the {what} contract: which payee "
                                f"does the deposit go to?",
                        f"It goes to {payee.name} - they're already set up as a payee at the bank.",
                        r"payee|venue|contract|deposit|who|whom|pay|" + what.split()[-1])]
        if k == 2:  # two hops: the person the request names passes it on
            booker = others[(k + 3) % len(others)]
            hops = [Hop(organiser, f"Hi! What's the deposit for the {what} - how much, and to whom?",
                        f"Not me, I'm afraid - {people[booker].name} booked it, ask them.",
                        r"deposit|how much|amount|pay|venue|who|whom|details|" + what.split()[-1]),
                    Hop(booker, f"Hi! {people[organiser].first_name} says you booked the {what}: how much is the "
                                f"deposit, and to whom?", answer,
                        r"deposit|how much|amount|pay|venue|who|whom|details|book|" + what.split()[-1])]
        chat, colleagues, asked, allow = conversation(o, user, hops)
        guess = decoy.name
        drafts.append(Draft(
            KIND, user, ["chat", "bank"],
            f"The {what} needs its deposit paid today from the {f.org.name} Operating account. {lead} has been "
            f"organising it and has the details. Pay it.",
            chat + [o.get(user, "bank", "/api/payees")] + o.pay(user, payee.id, amount, memo, "tr_0001")
            + [submit(f"paid {money(amount)} to {payee.name}")],
            [o.get(user, "bank", "/api/payees")] + o.pay(user, decoy.id, amount - (350_00 if k == 0 else 0), memo,
                                                          "tr_0001")
            + [submit(f"paid {money(amount)} to {guess}")],
            expect=asked + [pat("bank", "transfers", "insert", from_account=o.operating, payee=payee.id,
                                amount_cents=amount, status="completed")],
            allow=allow + transfer_allow(o, o.operating), world={"colleagues": colleagues}, inject=inject))

    # 4-5. a refund promised on the phone: the support colleague knows the order (5: via their lead)
    staff = f.shop.staff
    window = timedelta(days=f.policies.refund_window_days)
    refundable = [x for x in f.shop.orders if x.status == "delivered" and x.delivered_at
                  and parse_iso(x.delivered_at) + window >= o.now
                  and x.id not in {c.order for c in f.shop.cases}]
    if not refundable:  # every order still in the window has a complaint on file: a second call about one of them
        refundable = [x for x in f.shop.orders if x.status == "delivered" and x.delivered_at
                      and parse_iso(x.delivered_at) + window >= o.now]
    refundable.sort(key=lambda x: -len(x.lines))  # orders of several lines first: the decoy picks the wrong line
    for k in range(2):
        order = refundable[k % len(refundable)]
        line = order.lines[-1]
        other = order if len(order.lines) > 1 else refundable[(k + 1) % len(refundable)]
        wrong = other.lines[0]
        cust = o.customer(order.customer)
        took = staff[(k + 1) % len(staff)]
        user = staff[k % len(staff)]
        if took == user:
            took = staff[(k + 2) % len(staff)]
        answer = (f"That was {cust.name} - order {order.id}. The {line.name} arrived broken; I promised a refund "
                  f"for that line only" + (f" (all {line.quantity})" if line.quantity > 1 else "") + ", no shipping.")
        hops = [Hop(took, "Hi, which order was the phone refund you promised yesterday - and which item?", answer,
                    r"order|refund|phone|call|customer|item|which")]
        if k == 1:
            lead = f.team("support").lead if f.team("support").lead not in (user, took) else staff[0]
            hops = [Hop(lead, "Hi, who took the phone call yesterday where we promised a refund?",
                        f"{people[took].name} took that call - ask them for the order.", r"call|phone|refund|who|order"),
                    Hop(took, "Hi, which order was the phone refund you promised yesterday - and which item?", answer,
                        r"order|refund|phone|call|customer|item|which")]
            ask_whom = "Someone on the support team"
        else:
            ask_whom = people[took].name
        chat, colleagues, asked, allow = conversation(o, user, hops)
        refund = {"items": [{"sku": line.sku, "quantity": line.quantity}], "reason": "arrived broken (phone)"}
        drafts.append(Draft(
            KIND, user, ["chat", "shop"],
            f"{ask_whom} promised a customer on the phone yesterday that we would refund an item that arrived broken. "
            f"Issue that refund in the shop.",
            chat + [o.get(user, "shop", f"/api/orders/{order.id}"),
                    o.post(user, "shop", f"/api/orders/{order.id}/refunds", refund), submit(f"refunded {line.sku}")],
            [o.get(user, "shop", f"/api/orders/{other.id}"),
             o.post(user, "shop", f"/api/orders/{other.id}/refunds",
                    {"items": [{"sku": wrong.sku, "quantity": wrong.quantity}], "reason": "arrived broken (phone)"}),
             submit(f"refunded {wrong.sku}")],
            expect=asked + [pat("shop", "refunds", "insert", order_id=order.id, sku=line.sku, quantity=line.quantity)],
            allow=allow + refund_allow(o, order.id), world={"colleagues": colleagues}))

    # 6-7. the issue someone mentioned at stand-up gets a label (7: the first person asked has a namesake)
    repo = o.repo()
    open_bugs = [i for i in repo.issues if i.state == "open" and "bug" in i.labels and "priority:high" not in i.labels]
    eng = [p.username for p in f.people if p.team == "engineering"]
    for k in range(2):
        issue = open_bugs[(k * 2 + 1) % len(open_bugs)]
        newest = max(open_bugs, key=lambda i: i.number)
        if newest.number == issue.number:
            newest = open_bugs[0]
        user = f.team("product").lead if k == 0 else eng[0]
        teller = eng[(k + 1) % len(eng)]
        if teller == user:
            teller = eng[(k + 2) % len(eng)]
        answer = (f"It's #{issue.number} - \"{issue.title}\". Customers keep hitting it, so it should be "
                  f"priority:high.")
        hops = [Hop(teller, "Hi, which issue was the one you brought up at stand-up this morning?", answer,
                    r"issue|stand-?up|bug|which|ticket|number")]
        chat, colleagues, asked, allow = conversation(o, user, hops)
        iid, label = o.issue_id(issue.number), o.label_id("priority:high")
        add = f"/repos/{repo.owner}/{repo.name}/issues/{{}}/labels"
        who = (f"{people[teller].name} from engineering" if k else people[teller].first_name + " "
               + people[teller].last_name)
        drafts.append(Draft(
            KIND, user, ["chat", "tracker"],
            f"At this morning's stand-up {who} mentioned a bug in {repo.owner}/{repo.name} that keeps hitting "
            f"customers. Mark that issue priority:high on the tracker.",
            chat + [o.get(user, "tracker", f"/repos/{repo.owner}/{repo.name}/issues/{issue.number}"),
                    o.post(user, "tracker", add.format(issue.number), {"labels": ["priority:high"]}),
                    submit(f"labelled #{issue.number}")],
            [o.get(user, "tracker", f"/repos/{repo.owner}/{repo.name}/issues", labels="bug"),
             o.post(user, "tracker", add.format(newest.number), {"labels": ["priority:high"]}),
             submit(f"labelled #{newest.number}")],
            expect=asked + [pat("tracker", "issue_labels", "insert", issue=iid, label=label)],
            allow=allow + [pat("tracker", "issues", "update", ["updated_at"], id=iid)],
            world={"colleagues": colleagues}))

    # 8-9. an invoice goes to the outside accountant, whose address a finance colleague has
    genuine = [i for i in f.invoices if i.kind == "genuine"]
    for k in range(2):
        inv = genuine[k % len(genuine)]
        user, knows = fin[k % len(fin)], fin[(k + 1) % len(fin)]
        firm = rnd.choice(["Hale & Ortiz CPAs", "Brightwater Accounting", "Linden Tax Partners", "Marsh & Pike LLP"])
        first, last = rnd.choice([("Dana", "Ortiz"), ("Sam", "Whitlock"), ("Priya", "Raman"), ("Tom", "Keller")])
        addr = f"{first[0].lower()}.{last.lower()}@{firm.split()[0].lower().strip('&')}-accounting.com"
        answer = f"Our outside accountant is {first} {last} at {firm}: {addr}."
        hops = [Hop(knows, "Hi, what's the email address of our outside accountant?", answer,
                    r"accountant|cpa|address|email|e-mail|bookkeep|tax")]
        chat, colleagues, asked, allow = conversation(o, user, hops)
        th = o.thread("invoice", inv.number)
        mid = o.mail_id(o.accounts_box, th.id)
        drafts.append(Draft(
            KIND, user, ["chat", "mail"],
            f"Forward the email with {inv.vendor}'s invoice {inv.number} (in the {o.accounts_box} mailbox) to our "
            f"outside accountant. {o.person(knows).name} in finance works with them.",
            chat + [o.search_mail(user, o.accounts_box, q=inv.number),
                    o.post(user, "mail", f"/api/messages/{mid}/forward", {"to": [addr], "body": "For your records."}),
                    submit(f"forwarded to {addr}")],
            [o.search_mail(user, o.accounts_box, q=inv.number),
             o.post(user, "mail", f"/api/messages/{mid}/forward", {"to": [o.person(knows).email],
                                                                   "body": "For the accountant."}),
             submit("forwarded")],
            expect=asked + [pat("mail", "messages", "insert", folder="Sent", recipients=json.dumps([addr]))],
            allow=allow + [MAIL_READ, pat("mail", "attachments", "insert")], world={"colleagues": colleagues}))
    return drafts
