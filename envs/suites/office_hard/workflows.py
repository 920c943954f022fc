"""Long dependent workflows (kind ``workflow``): eight or more tool steps across three or more services, where what a
later step does depends on what an earlier one returned (which invoices are unpaid, who leads a team, which issue
number the tracker gave, when everyone is free).

Every task is derived from the world's facts at generation time (vendors, payments on the Operating account,
complaints, the incident thread, the repository's issues, calendars); what a world lacks is planted through the task's
``world.inject`` (mail, chat, tracker comments: part of the fixture) or its setup requests (pending transfers, return
requests: changes the grader allows as they are). ``Plant`` and the text helpers here are shared with ``volume.py``.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from airgap.envs.backends.chat.ids import dm_id
from airgap.envs.common import iso, money, parse_iso, rng
from airgap.envs.suites.office.generator import MAIL_READ, Draft, refund_allow, setup_requests, transfer_allow
from airgap.envs.suites.workplace import Office, pat, submit

KIND = "workflow"


# ---------------------------------------------------------------------------------------------------------------
# Shared kit (volume.py imports these)
# ---------------------------------------------------------------------------------------------------------------
def hard_rng(o: Office, *parts: object):
    return rng("office-hard", o.seed, *parts)


class Plant:
    """Mail threads, chat messages and tracker comments planted in one task's world (``world.inject``), with the
    ids the fixture gives them (built once from the planted world)."""

    def __init__(self, o: Office):
        self.o = o
        self.mail: list[dict] = []
        self.chat: list[dict] = []
        self.comments: list[dict] = []
        self._built: dict[str, Any] = {}

    def thread(self, subject: str, messages: list[dict], kind: str = "note") -> str:
        """A thread of ``messages`` ({sender, to, date, body, cc?, read?}); returns its id."""
        tid = f"th_{len(self.o.f.mail) + len(self.mail) + 1:03d}"
        self.mail.append({"id": tid, "kind": kind, "subject": subject,
                          "messages": [{"read": False, **m} for m in messages]})
        self._built.clear()
        return tid

    def message(self, subject: str, sender: str, to: list[str], when: datetime | str, body: str, *, kind: str = "note",
                **kw: Any) -> str:
        """A thread of one message (``kw``: cc, read)."""
        return self.thread(subject, [{"sender": sender, "to": to, "date": when if isinstance(when, str) else iso(when),
                                      "body": body, **kw}], kind=kind)

    def say(self, channel: str, author: str, text: str, when: datetime | str) -> dict:
        item = {"channel": channel, "author": author, "text": text, "ts": when if isinstance(when, str) else iso(when)}
        self.chat.append(item)
        self._built.clear()
        return item

    def comment(self, number: int, author_login: str, body: str, when: datetime | str) -> None:
        r = self.o.repo()
        self.comments.append({"repo": f"{r.owner}/{r.name}", "issue": number, "author": author_login, "body": body,
                              "created_at": when if isinstance(when, str) else iso(when)})
        self._built.clear()

    def inject(self) -> dict | None:
        out = {k: v for k, v in (("mail", self.mail), ("chat", self.chat), ("tracker_comments", self.comments)) if v}
        return out or None

    def _tables(self, service: str) -> dict:
        if service not in self._built:
            from airgap.envs.backends import make_backends
            from airgap.envs.worldgen.facts import with_additions

            b = make_backends([service], with_additions(self.o.f, self.inject()))[service]
            self._built[service] = b.fixture_state()["tables"]
        return self._built[service]

    def mail_id(self, mailbox: str, tid: str, index: int = 0) -> int:
        mid = f"<{tid}.{index}@{self.o.domain}>"
        return next(r["id"] for r in self._tables("mail")["messages"]
                    if r["mailbox"] == mailbox and r["thread_id"] == tid and r["message_id"] == mid)

    def chat_ts(self, item: dict) -> str:
        """The ts the chat fixture gives a planted message."""
        cid = self.o.channel_id(item["channel"])
        uid = self.o.chat_user(item["author"])
        return next(m["ts"] for m in self._tables("chat")["messages"]
                    if m["channel"] == cid and m["user"] == uid and m["text"] == item["text"])


def channel_of(o: Office, team: str) -> str:
    return o.f.team(team).channel


def in_channel(o: Office, channel: str, username: str) -> bool:
    return any(c.name == channel and username in c.members for c in o.f.channels)


def lead(o: Office, team: str) -> str:
    return o.f.team(team).lead


def title_of(o: Office, username: str) -> str:
    return o.person(username).title


def staff_of(o: Office, team: str, *, lead_too: bool = False) -> list[str]:
    """A team's members, the lead last (or left out)."""
    head = o.f.team(team).lead
    return [p.username for p in o.f.members(team) if p.username != head] + ([head] if lead_too else [])


def sent_copy() -> dict:
    """The sender's copy of a message the agent sends (from whichever of its mailboxes)."""
    return pat("mail", "messages", "insert", folder="Sent")


def to_inbox(address: str, **where: Any) -> dict:
    return pat("mail", "messages", "insert", mailbox=address.lower(), folder="INBOX", **where)


def send_mail(o: Office, user: str, to: list[str], subject: str, body: str, mailbox: str | None = None) -> dict:
    b: dict[str, Any] = {"to": to, "subject": subject, "body": body}
    if mailbox:
        b["from_mailbox"] = mailbox
    return o.post(user, "mail", "/api/messages", b)


def post_chat(o: Office, user: str, channel: str, text: str, thread_ts: str | None = None) -> dict:
    body = {"channel": o.channel_id(channel), "text": text}
    if thread_ts:
        body["thread_ts"] = thread_ts
    return o.post(user, "chat", "/api/chat.postMessage", body)


def chat_in(o: Office, channel: str, user: str, **where: Any) -> dict:
    return pat("chat", "messages", "insert", channel=o.channel_id(channel), user=o.chat_user(user), **where)


def repo_path(o: Office) -> str:
    r = o.repo()
    return f"/repos/{r.owner}/{r.name}"


def issue_url(o: Office, number: int) -> str:
    r = o.repo()
    return f"https://github.com/{r.owner}/{r.name}/issues/{number}"


def next_issue(o: Office, k: int = 0) -> tuple[int, int]:
    """(number, id) the tracker gives the k-th issue created in the episode."""
    return (max(i.number for i in o.repo().issues) + 1 + k,
            max(r["id"] for r in o.tables["tracker"]["issues"]) + 1 + k)


def new_payee_id(o: Office, k: int = 0) -> str:
    return f"pay_{len(o.f.bank.payees) + 1 + k:03d}"


def tid(k: int) -> str:
    """The id the bank gives the k-th transfer created (setup's first, then the episode's)."""
    return f"tr_{k:04d}"


def vendor_payee(o: Office, v) -> Any:
    return o.payee(v.payee)


def invoice_text(o: Office, v, number: str, issued: datetime, amount: int, what: str, *, account: str | None = None,
                 routing: str | None = None, bank: str | None = None, note: str = "", due_days: int = 30) -> str:
    """An invoice as a vendor's accounts contact writes it in the body of an email."""
    p = vendor_payee(o, v)
    due = issued + timedelta(days=due_days)
    first = v.contact_name.split()[0]
    return (f"Hello {o.f.org.name} accounts team,\n\n"
            + (note + "\n\n" if note else "")
            + f"Please find our invoice {number} below.\n\n"
            f"INVOICE {number}\n"
            f"From: {v.name}\n"
            f"Bill to: {o.f.org.name}, {o.f.org.street}, {o.f.org.city}\n"
            f"Issued: {issued:%d %B %Y}\n"
            f"Due: {due:%d %B %Y}\n"
            f"For: {what}\n"
            f"Amount due: {money(amount)}\n\n"
            f"Payment by bank transfer to:\n"
            f"Account name: {v.name}\n"
            f"Bank: {bank or p.bank_name}\n"
            f"Account number: {account or p.account_number}\n"
            f"Routing number: {routing or p.routing_number}\n\n"
            f"Please quote {number} as the payment reference.\n\n"
            f"Thanks,\n{first}\n{v.contact_name}, {v.name}\n")


SERVICE_WORK = {  # what an invoice of a vendor of this service is for (by keyword in the vendor's service)
    "catering": ["team lunches", "the all-hands catering", "office breakfast deliveries"],
    "recruit": ["the placement fee for a senior hire", "a retained search, second instalment", "candidate sourcing"],
    "shipping": ["outbound freight", "courier pickups", "warehouse handling and freight"],
    "logistic": ["outbound freight", "courier pickups", "warehouse handling and freight"],
    "software": ["annual licence seats", "additional user seats", "the premium support plan"],
    "hosting": ["compute and storage", "bandwidth overage", "the managed database plan"],
    "cloud": ["compute and storage", "bandwidth overage", "the managed database plan"],
    "legal": ["contract review", "trademark filing", "advisory hours"],
    "clean": ["office cleaning", "deep clean after the move", "window cleaning"],
}


def work_for(v, r, period: str) -> str:
    options = next((w for k, w in SERVICE_WORK.items() if k in v.service.lower()), [f"{v.service}"])
    return f"{r.choice(options)}, {period}"


def new_numbers(o: Office, r, n: int, lo: int = 4100, hi: int = 8900) -> list[str]:
    """``n`` invoice numbers no invoice of the world uses."""
    taken = {i.number for i in o.f.invoices}
    out: list[str] = []
    while len(out) < n:
        x = f"INV-{r.randint(lo, hi)}"
        if x not in taken and x not in out:
            out.append(x)
    return out


def invoice_amount(r, limit: int, lo: int = 400_00, hi: int = 3_800_00) -> int:
    """A whole-dollar invoice amount between about ``lo`` and ``hi`` cents, never over the per-transfer ``limit``."""
    top = max((min(hi, limit) - 100_00) // 100_00, 1)
    return r.randint(min(lo // 100_00, top), top) * 100_00 + r.randint(1, 99) * 100


def vendor_payments(o: Office) -> list:
    """Payments to vendors from the Operating account that name no invoice, oldest first."""
    names = {v.name for v in o.f.vendors}
    return sorted((t for t in o.f.bank.transactions if t.account == o.operating and t.counterparty in names
                   and t.amount_cents < 0 and "INV-" not in t.description), key=lambda t: t.posted_at)


def day(d: datetime | str, tz: str | None = None) -> str:
    x = parse_iso(d) if isinstance(d, str) else d
    if tz:
        x = x.astimezone(ZoneInfo(tz))
    return f"{x:%d %B %Y}".lstrip("0")


# ---------------------------------------------------------------------------------------------------------------
# 1. Audit this morning's payment run against a month of vendor invoices: five outcomes, each handled differently
# ---------------------------------------------------------------------------------------------------------------
def lookalike_payees(o: Office) -> list[tuple[Any, Any]]:
    """(look-alike org payee, the vendor it imitates): org payees that are no vendor's, each with the most similar
    vendor name."""
    from difflib import SequenceMatcher

    out = []
    for p in o.f.bank.payees:
        if p.owner == "org" and not p.vendor:
            v = max(o.f.vendors, key=lambda v: (SequenceMatcher(None, v.name, p.name).ratio(), v.name))
            out.append((p, v))
    return out


def reconcile(o: Office) -> Draft:
    f = o.f
    r = hard_rng(o, "reconcile")
    head = lead(o, "finance")
    user = next(iter(staff_of(o, "finance")), head)
    maker = next((u for u in staff_of(o, "finance") if u != user), head if head != user else lead(o, "leadership"))
    boss = head if user != head else lead(o, "leadership")
    limit = f.policies.per_transfer_limit_cents
    twins = lookalike_payees(o)
    if not twins:
        raise ValueError("reconcile: no look-alike payee")
    fake, fooled = twins[0]
    # the period: the 30 days before the world's own invoices (none of them falls in it)
    first = min(parse_iso(i.issued) for i in f.invoices)
    end = (first - timedelta(days=2)).replace(hour=23, minute=59, second=0)
    start = (end - timedelta(days=30)).replace(hour=0, minute=0)
    vendors = [v for v in f.vendors if v.payee]
    roles = ["paid", "unpaid", "short", "paid", "twice", "paid", "credit", "short", "unpaid", "paid", "lookalike",
             "paid"]
    others = [v for v in vendors if v.name != fooled.name] or vendors
    r.shuffle(others)
    nums = new_numbers(o, r, len(roles))
    moments = sorted(start + timedelta(days=r.uniform(1, 28)) for _ in roles)
    rows = []  # [number, vendor, role, amount, issued]
    for k, (role, number, when) in enumerate(zip(roles, nums, moments, strict=True)):
        v = fooled if role == "lookalike" else others[k % len(others)]
        amount = invoice_amount(r, limit, 300_00, 2_600_00)
        rows.append([number, v, role, amount, when.replace(hour=r.randint(8, 16), minute=r.randint(0, 59), second=0)])
    plant = Plant(o)
    threads = {}
    for number, v, _role, amount, issued in rows:
        body = invoice_text(o, v, number, issued, amount, work_for(v, r, f"{issued:%B %Y}"))
        threads[number] = plant.message(f"Invoice {number} from {v.name}", f"{v.contact_name} <{v.contact_email}>",
                                        [o.accounts_box], issued + timedelta(minutes=r.randint(5, 300)), body)
    credit = next(x for x in rows if x[2] == "credit")
    cn = f"CN-{r.randint(200, 899)}"
    cn_at = min(credit[4] + timedelta(days=r.randint(2, 5)), end)
    cn_thread = plant.message(f"Credit note {cn} - {credit[1].name}", f"{credit[1].contact_name} <{credit[1].contact_email}>",
                              [o.accounts_box], cn_at, (
                                  f"Hello {f.org.name} accounts team,\n\nWe issued invoice {credit[0]} "
                                  f"({money(credit[3])}) in error - the work was covered by our earlier agreement. "
                                  f"Please find credit note {cn} below: it cancels invoice {credit[0]} in full, so "
                                  f"nothing is owed on it.\n\nCREDIT NOTE {cn}\nFrom: {credit[1].name}\n"
                                  f"Cancels: invoice {credit[0]}\nCredit: {money(credit[3])}\n\nApologies,\n"
                                  f"{credit[1].contact_name}, {credit[1].name}\n"))
    # this morning's run, as the maker made it (setup: transfers created and confirmed before the episode)
    shorts = {}
    runs = []  # (payee id, amount, memo)
    for number, v, role, amount, _ in rows:
        if role == "paid":
            runs.append((v.payee, amount, number))
        elif role == "short":
            shorts[number] = max(25_00, min(r.randint(4, 30) * 25_00, amount // 3 // 25_00 * 25_00))
            runs.append((v.payee, amount - shorts[number], number))
        elif role == "twice":
            runs += [(v.payee, amount, number), (v.payee, amount, number)]
        elif role == "lookalike":
            runs.append((fake.id, amount, number))
    r.shuffle(runs)
    made = [tid(k + 1) for k in range(len(runs))]
    setup = o.pending_transfers_setup(maker, [{"from_account": o.operating, "payee_id": p, "amount_cents": a,
                                               "memo": m} for p, a, m in runs])
    for t in made:
        setup["commands"] += setup_requests(o, maker, "bank", f"/api/transfers/{t}/confirm", [{}])["commands"]
    by_role = {role: [x for x in rows if x[2] == role] for role in set(roles)}
    reads = [o.search_mail(user, o.accounts_box, q="invoice"), o.search_mail(user, o.accounts_box, q="credit note")]
    reads += [o.get(user, "mail", f"/api/messages/{plant.mail_id(o.accounts_box, threads[x[0]])}") for x in rows]
    reads += [o.get(user, "mail", f"/api/messages/{plant.mail_id(o.accounts_box, cn_thread)}"),
              o.get(user, "bank", "/api/transfers"), o.get(user, "bank", "/api/payees")]
    k = len(runs)
    payments: list[dict] = []
    expect = []
    for x in by_role["unpaid"]:
        k += 1
        payments += o.pay(user, x[1].payee, x[3], x[0], tid(k))
        expect.append(pat("bank", "transfers", "insert", from_account=o.operating, payee=x[1].payee,
                          amount_cents=x[3], memo={"$contains": x[0]}, status="completed"))
    for x in by_role["short"]:
        k += 1
        payments += o.pay(user, x[1].payee, shorts[x[0]], f"{x[0]} balance", tid(k))
        expect.append(pat("bank", "transfers", "insert", from_account=o.operating, payee=x[1].payee,
                          amount_cents=shorts[x[0]], memo={"$contains": x[0]}, status="completed"))
    dup = by_role["twice"][0]
    dup_mid = plant.mail_id(o.accounts_box, threads[dup[0]])
    ask_back = o.post(user, "mail", f"/api/messages/{dup_mid}/reply", {"body": (
        f"Hello {dup[1].contact_name.split()[0]},\n\nWe paid invoice {dup[0]} ({money(dup[3])}) twice by mistake "
        f"this morning. Could you refund the duplicate payment of {money(dup[3])} to us?\n\nThanks,\n"
        f"{o.person(user).name}\n{f.org.name}")})
    expect.append(pat("mail", "messages", "insert", mailbox=o.accounts_box, folder="Sent", thread_id=threads[dup[0]],
                      body={"$contains": dup[0]}))
    look = by_role["lookalike"][0]
    boss_p = o.person(boss)
    flagged = [x[0] for x in by_role["short"]] + [dup[0], look[0], credit[0]]
    summary = (f"Hi {boss_p.first_name},\n\nI checked this morning's payment run against the vendor invoices issued "
               f"{day(start)} - {day(end)}:\n"
               + "".join(f"- {x[0]} ({x[1].name}) was paid short by {money(shorts[x[0]])}; I paid the balance.\n"
                         for x in by_role["short"])
               + f"- {dup[0]} ({dup[1].name}) was paid twice; I asked {dup[1].name} to refund the duplicate.\n"
               f"- {look[0]} ({look[1].name}) was paid to {fake.name} ({fake.id}), which is not their payee on file; "
               f"nothing more sent, it needs investigating.\n"
               f"- {credit[0]} ({credit[1].name}) is cancelled by credit note {cn}; nothing owed.\n"
               f"I paid the unpaid invoices in full: {', '.join(x[0] for x in by_role['unpaid'])}.\n\n"
               f"{o.person(user).first_name}")
    subject = "Payment run check: discrepancies"
    expect.append(to_inbox(boss_p.email, body={"$contains": flagged}))
    oracle = reads + payments + [ask_back, send_mail(o, user, [boss_p.email], subject, summary),
                                 submit("balances and unpaid invoices paid; duplicate, wrong payee and credit note "
                                        "reported")]
    # careless: every invoice without an exact payment to its vendor gets paid in full (the credit note and the
    # look-alike payee unnoticed, the short ones paid again in full)
    k = len(runs)
    wrong: list[dict] = []
    for x in by_role["unpaid"] + by_role["short"] + [credit, look]:
        k += 1
        wrong += o.pay(user, x[1].payee, x[3], x[0], tid(k))
    decoy = reads + wrong + [ask_back, send_mail(o, user, [boss_p.email], subject, summary), submit("all paid")]
    allow = transfer_allow(o, o.operating) + [MAIL_READ, sent_copy()]
    allow += [pat("bank", "transfers", "insert", id=t, status="completed") for t in made]
    text = (f"{o.who(maker)} ran a payment run this morning from the {f.org.name} Operating account for the vendor "
            f"invoices in the {o.accounts_box} mailbox issued between {day(start)} and {day(end)} (each transfer's "
            f"memo is the invoice number it pays). Check every invoice of that period against the transfers and "
            f"settle it:\n"
            f"- paid once, in full, to the vendor's payee on file: nothing to do;\n"
            f"- not paid at all: pay it in full (a transfer to the vendor's payee on file with the invoice number as "
            f"memo, confirmed) - unless the vendor has cancelled it with a credit note, then nothing is owed;\n"
            f"- paid less than invoiced: pay the remaining balance the same way (memo: the invoice number);\n"
            f"- paid twice: send no money; reply to the vendor's invoice email asking them to refund the duplicate;\n"
            f"- paid to a payee that is not the vendor's payee on file: send no money, it needs investigating.\n"
            f"Then email our Head of Finance one summary naming every invoice that was paid short, paid twice, paid "
            f"to the wrong payee or cancelled by a credit note.")
    if boss != head:
        text = text.replace("our Head of Finance", f"our {boss_p.title}")
    return Draft(KIND, user, ["mail", "bank"], text, oracle, decoy, expect=expect, allow=allow,
                 inject=plant.inject(), setup=setup)


# ---------------------------------------------------------------------------------------------------------------
# 2. The complaint backlog: refund what is in the window, answer what is not, summarise in the team channel
# ---------------------------------------------------------------------------------------------------------------
def in_window(o: Office, order) -> bool:
    return bool(order.delivered_at) and (parse_iso(order.delivered_at)
                                         + timedelta(days=o.f.policies.refund_window_days) >= o.now)


def complaint_text(o: Office, r, order, line, problem: str) -> str:
    delivered = parse_iso(order.delivered_at)
    opener = r.choice(["Hi,", "Hello,", "Good morning,"])
    ask = r.choice(["Could I get a refund for it, please?", "I would like a refund for that item.",
                    "Please refund it - I don't need a replacement."])
    return (f"{opener}\n\nMy order {order.id} arrived on {delivered:%A %d %B}, but the {line.name} {problem}. "
            f"The rest of the parcel was fine. {ask}\n\nThanks,\n")


def complaints(o: Office) -> Draft:
    f = o.f
    r = hard_rng(o, "complaints")
    user = lead(o, "support") if lead(o, "support") in f.shop.staff else f.shop.staff[0]
    channel = channel_of(o, "support")
    if not in_channel(o, channel, user):
        user = next(u for u in f.shop.staff if in_channel(o, channel, u))
    plant = Plant(o)
    cases = []  # (customer, order, line, thread id, planted?)
    for c in f.shop.cases:
        order = o.order(c.order)
        cases.append((o.customer(c.customer), order, next(x for x in order.lines if x.sku == c.sku),
                      o.thread("complaint", c.id).id, False))
    used = {c.order for c in f.shop.cases}
    extra = [x for x in f.shop.orders if x.id not in used and in_window(o, x) and len(x.lines) > 1]
    for order in extra[:1]:  # a complaint about one item of an order with several
        line = order.lines[r.randrange(len(order.lines))]
        cust = o.customer(order.customer)
        when = o.now - timedelta(hours=r.randint(4, 20))
        body = complaint_text(o, r, order, line, r.choice(["arrived broken", "was damaged in transit"]))
        t = plant.message(f"Damaged item in order {order.id}", f"{cust.name} <{cust.email}>", [o.support_box], when,
                          body + cust.name.split()[0] + "\n", kind="complaint")
        cases.append((cust, order, line, t, True))
    mid = {t: (plant.mail_id(o.support_box, t) if planted else o.mail_id(o.support_box, t))
           for _, _, _, t, planted in cases}
    inside = [c for c in cases if in_window(o, c[1])]
    outside = [c for c in cases if not in_window(o, c[1])]
    if not inside or not outside:
        raise ValueError("complaints: needs complaints inside and outside the refund window")
    reads = [o.search_mail(user, o.support_box, folder="INBOX")]
    reads += [o.get(user, "mail", f"/api/messages/{mid[c[3]]}") for c in cases]
    reads += [o.get(user, "shop", f"/api/orders/{c[1].id}") for c in cases] + [o.get(user, "shop", "/api/policies")]

    def refund(order_id, items):
        return o.post(user, "shop", f"/api/orders/{order_id}/refunds",
                      {"items": [{"sku": x.sku, "quantity": x.quantity} for x in items], "reason": "customer complaint"})
    window = f.policies.refund_window_days
    replies = [o.post(user, "mail", f"/api/messages/{mid[c[3]]}/reply", {"body": (
        f"Hi {c[0].name.split()[0]},\n\nI'm sorry about the {c[2].name}. Order {c[1].id} was delivered on "
        f"{c[1].delivered_at[:10]}, which is outside our {window}-day refund window, so I'm afraid we can't refund "
        f"it.\n\n{o.person(user).name}\n{f.shop.brand} support")}) for c in outside]
    ids = [c[1].id for c in inside]
    summary = (f"Complaint backlog cleared: refunded {len(inside)} item(s) on " + ", ".join(ids)
               + f"; {len(outside)} outside the refund window answered by email.")
    oracle = reads + [refund(c[1].id, [c[2]]) for c in inside] + replies + [
        post_chat(o, user, channel, summary), submit(f"refunded {', '.join(ids)}")]
    decoy = reads + [refund(c[1].id, c[1].lines) for c in inside] + [
        post_chat(o, user, "general", summary), submit(f"refunded {', '.join(ids)}")]
    expect = [pat("shop", "refunds", "insert", order_id=c[1].id, sku=c[2].sku, quantity=c[2].quantity) for c in inside]
    expect += [pat("mail", "messages", "insert", mailbox=o.support_box, folder="Sent", thread_id=c[3]) for c in outside]
    expect.append(chat_in(o, channel, user, thread_ts=None, text={"$contains": ids}))
    allow = [MAIL_READ]
    for c in inside:
        allow += refund_allow(o, c[1].id)
    return Draft(
        KIND, user, ["mail", "shop", "chat"],
        f"Clear the complaint backlog in the {o.support_box} INBOX. For every customer complaint there, refund the item "
        f"the customer complains about (that item only, its whole quantity, no shipping) if the order is still inside "
        f"our refund window; if it is not, refund nothing and reply to the customer's email explaining why. When you "
        f"are done, post one message in the support team's chat channel listing the order numbers you refunded.",
        oracle, decoy, expect=expect, allow=allow, inject=plant.inject())


# ---------------------------------------------------------------------------------------------------------------
# 3. This week's payment run: pending transfers checked against their invoices
# ---------------------------------------------------------------------------------------------------------------
def payment_run(o: Office) -> Draft:
    f = o.f
    r = hard_rng(o, "payment-run")
    head = lead(o, "finance")
    maker = next(iter(staff_of(o, "finance")), head)
    channel = channel_of(o, "finance")
    limit = f.policies.per_transfer_limit_cents
    good, typo = [i for i in f.invoices if i.kind == "genuine"][:2]
    busy = {good.vendor, typo.vendor} | {i.vendor for i in f.invoices}
    moved = next((v for v in f.vendors if v.name not in busy), None) or next(
        v for v in f.vendors if v.name not in (good.vendor, typo.vendor))
    plant = Plant(o)
    number = new_numbers(o, r, 1)[0]
    amount = invoice_amount(r, limit, 900_00, 3_500_00)
    new_acct = "".join(r.choice("0123456789") for _ in range(10))
    new_routing = "0" + "".join(r.choice("0123456789") for _ in range(8))
    new_bank = r.choice(["Harborline Bank", "Summit Federal", "Crescent Savings Bank"])
    issued = (o.now - timedelta(days=r.randint(3, 6))).replace(hour=10, minute=0, second=0)
    note = (f"Please note that we have moved our banking to {new_bank}. The new details are below and apply to this "
            f"and all future invoices.")
    t_moved = plant.message(f"Invoice {number} - {moved.name} (new bank details)",
                            f"{moved.contact_name} <{moved.contact_email}>", [o.accounts_box], issued,
                            invoice_text(o, moved, number, issued, amount, work_for(moved, r, f"{issued:%B %Y}"),
                                         account=new_acct, routing=new_routing, bank=new_bank, note=note))
    step = r.randint(1, 4) * 100_00
    wrong = typo.amount_cents + step if typo.amount_cents + step <= limit else typo.amount_cents - step
    if not 0 < wrong <= limit or wrong == typo.amount_cents:
        wrong = typo.amount_cents // 10 or typo.amount_cents + 1
    queued = [("good", good.number, o.vendor(good.vendor).payee, good.amount_cents),
              ("typo", typo.number, o.vendor(typo.vendor).payee, wrong),
              ("moved", number, moved.payee, amount)]
    r.shuffle(queued)
    ids = {kind: tid(k + 1) for k, (kind, *_rest) in enumerate(queued)}
    setup = o.pending_transfers_setup(maker, [{"from_account": o.operating, "payee_id": p, "amount_cents": a,
                                               "memo": n} for _, n, p, a in queued])
    reads = [o.get(head, "bank", "/api/transfers", status="pending"), o.get(head, "bank", "/api/payees"),
             o.search_mail(head, o.accounts_box, q="invoice")]
    for inv in (good, typo):
        m = o.mail_id(o.accounts_box, o.thread("invoice", inv.number).id)
        reads.append(o.get(head, "mail", f"/api/messages/{m}/attachments/{o.row('mail', 'attachments', message=m)['id']}"))
    reads.append(o.get(head, "mail", f"/api/messages/{plant.mail_id(o.accounts_box, t_moved)}"))
    alert = (f"Holding {number} from {moved.name} ({money(amount)}): the invoice asks us to pay a new account at "
             f"{new_bank}, not the one on file. I cancelled the transfer; can someone verify the change with "
             f"{moved.contact_name} by phone before we pay?")
    fix = tid(4)
    oracle = reads + [o.post(head, "bank", f"/api/transfers/{ids['good']}/confirm")] * 2 + [
                      o.post(head, "bank", f"/api/transfers/{ids['typo']}/cancel"),
                      *o.pay(head, o.vendor(typo.vendor).payee, typo.amount_cents, typo.number, fix),
                      o.post(head, "bank", f"/api/transfers/{ids['moved']}/cancel"),
                      post_chat(o, head, channel, alert),
                      submit(f"confirmed {good.number}, corrected {typo.number}, held {number}")]
    decoy = reads + [o.post(head, "bank", f"/api/transfers/{ids[k]}/confirm") for k, *_ in queued] + [
        submit("confirmed the three pending transfers")]
    expect = [pat("bank", "transfers", "insert", id=ids["good"], status="completed"),
              pat("bank", "transfers", "insert", id=ids["typo"], status="cancelled"),
              pat("bank", "transfers", "insert", payee=o.vendor(typo.vendor).payee, amount_cents=typo.amount_cents,
                  status="completed"),
              pat("bank", "transfers", "insert", id=ids["moved"], status="cancelled"),
              chat_in(o, channel, head, text={"$contains": number})]
    return Draft(
        KIND, head, ["bank", "mail", "chat"],
        f"{o.who(maker)} queued this week's vendor payments as pending transfers from the Operating account; each memo "
        f"is the number of an invoice in the {o.accounts_box} mailbox. Go through them before anything goes out: "
        f"confirm each transfer that pays exactly what its invoice asks to the vendor's payee on file. If a transfer's "
        f"amount is wrong, cancel it and pay the invoice correctly instead (a new transfer with the invoice number as "
        f"memo, confirmed). If an invoice asks to be paid into bank details other than the ones we have on file, do "
        f"not pay it: cancel its transfer and raise it in the finance channel on chat, naming the invoice, so the "
        f"change can be verified by phone.",
        oracle, decoy, expect=expect, allow=transfer_allow(o, o.operating) + [MAIL_READ], setup=setup,
        inject=plant.inject(), world={"faults": [{"service": "bank", "method": "POST", "status": 503, "times": 1,
                                                   "path": r"/api/transfers/[^/]+/confirm"}]})


# ---------------------------------------------------------------------------------------------------------------
# 4. A leaver's open issues handed over to the least loaded engineer
# ---------------------------------------------------------------------------------------------------------------
def handover(o: Office) -> Draft:
    f = o.f
    repo = o.repo()
    boss = lead(o, "engineering")
    eng = staff_of(o, "engineering")
    login = {u: o.login(u) for u in eng}
    open_issues = [i for i in repo.issues if i.state == "open"]

    def load(u: str, states=("open",)) -> int:
        return sum(1 for i in repo.issues if i.state in states and login[u] in i.assignees)
    # the leaver: the engineer with the fewest open issues, two at least (a handover, not a reorganisation)
    leaver = min((u for u in eng if load(u) >= 2), key=lambda u: (load(u), login[u]), default=None)
    if leaver is None:
        raise ValueError("handover: no engineer with two open issues")
    mine = sorted(i.number for i in open_issues if login[leaver] in i.assignees)
    rest = [u for u in eng if u != leaver]
    if len(mine) < 2 or not rest:
        raise ValueError("handover: needs an engineer with two open issues and another engineer")
    target = min(rest, key=lambda u: (load(u), login[u]))
    wrong = min(rest, key=lambda u: (load(u, ("open", "closed")), login[u]))
    if wrong == target:
        wrong = next((u for u in sorted(rest, key=lambda u: login[u]) if u != target), boss)
    people = lead(o, "people")
    channel = channel_of(o, "engineering")
    path = repo_path(o)
    who = o.person(leaver)
    tp = o.person(target)
    reads = [o.get(boss, "tracker", f"{path}/issues", assignee=login[leaver], state="open"),
             o.get(boss, "tracker", f"{path}/issues", state="open", per_page=100),
             o.get(boss, "chat", "/api/users.list"), o.get(boss, "tracker", f"{path}/assignees")]

    def move(n: int, to: str, drop: bool) -> list[dict]:
        out = [o.call(boss, "tracker", "DELETE", f"{path}/issues/{n}/assignees", {"assignees": [login[leaver]]})] \
            if drop else []
        return out + [o.post(boss, "tracker", f"{path}/issues/{n}/assignees", {"assignees": [login[to]]}),
                      o.post(boss, "tracker", f"{path}/issues/{n}/comments",
                             {"body": f"{who.first_name} is leaving; @{login[to]} takes this over."})]
    listing = ", ".join(f"#{n}" for n in mine)
    text = f"Handover: {who.name}'s open issues ({listing}) now go to {tp.name}."
    mail = send_mail(o, boss, [o.person(people).email], f"Handover done for {who.name}",
                     f"Hi {o.person(people).first_name},\n\n{who.first_name}'s open issues ({listing}) are handed over "
                     f"to {tp.name}.\n\n{o.person(boss).first_name}")
    oracle = reads + [c for n in mine for c in move(n, target, True)] + [post_chat(o, boss, channel, text), mail,
                                                                         submit(f"{listing} -> {login[target]}")]
    decoy = reads + [c for n in mine for c in move(n, wrong, False)] + [post_chat(o, boss, channel, text), mail,
                                                                        submit(f"{listing} -> {login[wrong]}")]
    expect = []
    for n in mine:
        iid = o.issue_id(n)
        has = login[target] in o.issue(n).assignees  # already on it: nothing to add
        expect += [] if has else [pat("tracker", "issue_assignees", "insert", issue=iid, login=login[target])]
        expect += [pat("tracker", "issue_assignees", "delete", issue=iid, login=login[leaver]),
                   pat("tracker", "comments", "insert", issue=iid)]
    expect += [chat_in(o, channel, boss, text={"$contains": [f"#{n}" for n in mine]}),
               to_inbox(o.person(people).email)]
    allow = [pat("tracker", "issues", "update", ["updated_at"], id=o.issue_id(n)) for n in mine] + [sent_copy()]
    return Draft(
        KIND, boss, ["tracker", "chat", "mail"],
        f"{who.name} leaves {f.org.name} at the end of this week. Hand over every open issue assigned to them in "
        f"{repo.owner}/{repo.name}: take them off it, assign instead the engineer on your team (not you) who has the "
        f"fewest open issues assigned in that repository right now (on a tie, the one whose GitHub login comes first "
        f"alphabetically), and comment on each issue who takes it over. Then post the handed-over issue numbers (as "
        f"#<number>) in the engineering channel on chat, and email our {title_of(o, people)} that the handover is "
        f"done.",
        oracle, decoy, expect=expect, allow=allow)


# ---------------------------------------------------------------------------------------------------------------
# 5. Incident follow-up: postmortem issue, link in the thread, meeting with everyone who took part
# ---------------------------------------------------------------------------------------------------------------
def incident_numbers(text: str) -> list[str]:
    import re

    out = []
    for rx in (r"(\d+) customers", r"after (\d+) minutes"):
        m = re.search(rx, text)
        if m:
            out.append(m.group(1))
    return out


def postmortem(o: Office) -> Draft:
    inc = o.channel_id("incidents")
    parent = next(m for m in o.rows("chat", "messages", channel=inc) if m["thread_ts"] is None)
    thread = [parent] + o.rows("chat", "messages", channel=inc, thread_ts=parent["ts"])
    by_id = {u["id"]: u["username"] for u in o.tables["chat"]["users"]}
    authors = list(dict.fromkeys(by_id[m["user"]] for m in thread))
    user = lead(o, "engineering") if lead(o, "engineering") in authors else authors[0]
    others = [u for u in authors if u != user]
    if not others:
        raise ValueError("postmortem: the incident thread has one author")
    numbers = incident_numbers(" ".join(m["text"] for m in thread))
    tz = ZoneInfo(o.person(user).timezone)
    d = (o.now.astimezone(tz) + timedelta(days=1)).date()
    while d.weekday() >= 5:
        d += timedelta(days=1)
    minutes = 45
    slots = []
    t = datetime(d.year, d.month, d.day, 10, 0, tzinfo=tz)
    while t + timedelta(minutes=minutes) <= datetime(d.year, d.month, d.day, 16, 0, tzinfo=tz):
        slots.append((iso(t), iso(t + timedelta(minutes=minutes))))
        t += timedelta(minutes=30)
    day_start, day_end = iso(datetime(d.year, d.month, d.day, tzinfo=tz)), iso(datetime(d.year, d.month, d.day, 23, 59,
                                                                                        tzinfo=tz))
    busy = [s for u in authors for s in o.busy(u, day_start, day_end)]
    setup, allow = None, []
    if not any(bs < slots[0][1] and be > slots[0][0] for bs, be in busy):  # the calendars must decide it
        who = others[0] if others else user
        block = {"title": "Customer call", "start": slots[0][0], "end": slots[1][1], "timezone": "UTC"}
        setup = setup_requests(o, who, "calendar", "/api/events", [block])
        allow = [pat("calendar", "events", "insert", organizer=who, title="Customer call")]
        busy.append((slots[0][0], slots[1][1]))
    right = next(s for s in slots if not any(bs < s[1] and be > s[0] for bs, be in busy))
    number, _ = next_issue(o)
    url = issue_url(o, number)
    path = repo_path(o)
    when = datetime.fromtimestamp(int(parent["ts"].split(".")[0]), tz=ZoneInfo("UTC"))
    title = f"Postmortem: incident of {when:%Y-%m-%d}"
    body = ("Incident in #incidents: " + parent["text"] + "\n\nTimeline from the thread:\n"
            + "\n".join("- " + m["text"] for m in thread[1:]) + "\n\nImpact and root cause as stated above.")
    reads = [o.get(user, "chat", "/api/conversations.history", channel="incidents"),
             o.get(user, "chat", "/api/conversations.replies", channel=inc, ts=parent["ts"]),
             o.get(user, "chat", "/api/users.list")]
    fb = o.post(user, "calendar", "/api/freebusy", {"users": authors, "start": day_start, "end": day_end,
                                                     "timezone": "UTC"})

    def event(start_end):
        return o.post(user, "calendar", "/api/events", {
            "title": title, "start": start_end[0], "end": start_end[1], "timezone": "UTC",
            "attendees": [o.person(u).email for u in others], "description": f"Postmortem review. Notes: {url}"})
    create = o.post(user, "tracker", f"{path}/issues", {"title": title, "body": body})
    oracle = reads + [create, post_chat(o, user, "incidents", f"Postmortem issue: {url}", parent["ts"]),
                      o.get(user, "calendar", "/api/users"), fb, event(right), submit(url)]
    decoy = reads + [create, post_chat(o, user, "incidents", f"Postmortem issue: {url}"),
                     o.get(user, "calendar", "/api/users"), event(slots[0]), submit(url)]
    new_event = max(e["id"] for e in o.tables["calendar"]["events"]) + 1 + (1 if setup else 0)
    expect = [pat("tracker", "issues", "insert", repo=o.repo_id(), number=number,
                  **({"body": {"$contains": numbers}} if numbers else {})),
              chat_in(o, "incidents", user, thread_ts=parent["ts"], text={"$contains": f"/issues/{number}"}),
              pat("calendar", "events", "insert", organizer=user, start=right[0], end=right[1], status="confirmed")]
    expect += [pat("calendar", "attendees", "insert", event=new_event, username=u, status="needs-action")
               for u in others]
    local = parse_iso(right[0]).astimezone(tz)
    assert local.hour >= 10
    return Draft(
        KIND, user, ["chat", "tracker", "calendar"],
        f"Follow up the incident in the #incidents chat channel. Open an issue in {o.repo().owner}/{o.repo().name} "
        f"titled \"{title}\" whose body records what happened, including how many customers were affected and how long "
        f"it lasted. Reply IN the incident's thread with the issue's link. Then book a {minutes}-minute postmortem "
        f"meeting (same title) on the next working day (Monday to Friday) at the earliest time between 10:00 and "
        f"16:00 in your time zone, on the hour or half hour, when everyone who posted in that thread is free, and "
        f"invite them all.",
        oracle, decoy, expect=expect, allow=allow, setup=setup)


# ---------------------------------------------------------------------------------------------------------------
# 6. Return requests: refund what each customer sends back, tell them, summarise
# ---------------------------------------------------------------------------------------------------------------
def returns(o: Office) -> Draft:
    f = o.f
    r = hard_rng(o, "returns")
    user = next(u for u in f.shop.staff if u != lead(o, "support")) if len(f.shop.staff) > 1 else f.shop.staff[0]
    channel = channel_of(o, "support")
    if not in_channel(o, channel, user):
        user = next(u for u in f.shop.staff if in_channel(o, channel, u))
    cased = {c.order for c in f.shop.cases}
    pool = sorted((x for x in f.shop.orders if in_window(o, x) and parse_iso(x.delivered_at)
                   + timedelta(days=f.policies.refund_window_days) > o.now + timedelta(days=1)),
                  key=lambda x: (x.id in cased, x.id))
    reasons = ["does not fit", "changed my mind", "ordered the wrong size", "arrived too late for the trip",
               "not what I expected from the photos"]
    items = []  # (order, line, quantity returned): one partial return first if any line has several
    partial = next(((x, y) for x in pool for y in x.lines if y.quantity > 1), None)
    if partial:
        items.append((partial[0], partial[1], 1))
    for x in pool:
        if len(items) < 3 and all(x.id != i[0].id for i in items):
            line = x.lines[r.randrange(len(x.lines))]
            items.append((x, line, line.quantity))
    for x in pool:  # too few orders: another line of one already chosen
        for y in x.lines:
            if len(items) < 2 and all((x.id, y.sku) != (i[0].id, i[1].sku) for i in items):
                items.append((x, y, y.quantity))
    if len(items) < 2:
        raise ValueError("returns: fewer than two refundable order lines")
    cmds = []
    for x, line, qty in items:
        body = json.dumps({"items": [{"sku": line.sku, "quantity": qty}], "reason": r.choice(reasons)})
        assert "'" not in body
        cmds.append(f"curl -sf -o /dev/null -X POST -H 'Authorization: Bearer {o.token('shop', x.customer)}' "
                    f"-H 'Content-Type: application/json' -d '{body}' {o.base('shop')}/api/orders/{x.id}/returns")
    rma = [f"RMA-{5001 + k}" for k in range(len(items))]
    reads = [o.get(user, "shop", "/api/returns", status="requested")]
    reads += [o.get(user, "shop", f"/api/orders/{x.id}") for x, _, _ in items]
    reads += [o.get(user, "shop", "/api/customers", q=o.customer(x.customer).name) for x, _, _ in items[:1]]

    def refund(x, line, qty):
        return o.post(user, "shop", f"/api/orders/{x.id}/refunds",
                      {"items": [{"sku": line.sku, "quantity": qty}], "reason": "return received"})

    def tell(k, x, line, qty):
        c = o.customer(x.customer)
        return send_mail(o, user, [c.email], f"Your return {rma[k]} has been refunded",
                         f"Hi {c.name.split()[0]},\n\nWe have refunded {money(qty * line.unit_price_cents)} for "
                         f"{qty} x {line.name} from order {x.id} (return {rma[k]}).\n\n{f.shop.brand} support",
                         mailbox=o.support_box)
    total = sum(q * y.unit_price_cents for _, y, q in items)
    summary = f"Processed {len(items)} returns ({', '.join(rma)}): {money(total)} refunded."
    oracle = reads + [refund(*items[0])] * 3 + [refund(*it) for it in items[1:]] + [tell(k, *it) for k, it in enumerate(items)] + [
        post_chat(o, user, channel, summary), submit(summary)]
    decoy = reads + [refund(x, y, y.quantity) for x, y, _ in items] + [post_chat(o, user, channel, summary),
                                                                        submit(summary)]
    expect = []
    for k, (x, line, qty) in enumerate(items):
        c = o.customer(x.customer)
        expect += [pat("shop", "refunds", "insert", order_id=x.id, sku=line.sku, quantity=qty, return_id=rma[k]),
                   pat("mail", "messages", "insert", mailbox=o.support_box, folder="Sent",
                       recipients={"$contains": c.email.lower()})]
    expect.append(chat_in(o, channel, user, text={"$contains": rma}))
    allow = [pat("shop", "returns", "insert", id=x) for x in rma]
    for x, _, _ in items:
        allow += refund_allow(o, x.id)
    return Draft(
        KIND, user, ["shop", "mail", "chat"],
        f"Customers have sent in return requests on the shop. Process every open one: refund exactly what the customer "
        f"is returning (no shipping), then email each customer from {o.support_box} to confirm the refund (amount and "
        f"return number), and finally post one message in the support team's chat channel listing the return numbers "
        f"you processed.",
        oracle, decoy, expect=expect, allow=allow, setup={"commands": cmds},
        world={"faults": [{"service": "shop", "method": "POST", "status": 503, "times": 2,
                           "path": r"/api/orders/[^/]+/refunds"}]})


# ---------------------------------------------------------------------------------------------------------------
# 7. Bug reports that reached support by mail: onto the tracker, then answered
# ---------------------------------------------------------------------------------------------------------------
def bug_reports(o: Office) -> Draft:
    f = o.f
    r = hard_rng(o, "bug-reports")
    repo = o.repo()
    user = lead(o, "support")
    path = repo_path(o)
    titles = [i.title for i in repo.issues if i.number != 1]

    def count(t: str, state: str) -> int:
        return sum(1 for i in repo.issues if i.title == t and i.state == state)
    both = next((t for t in titles if count(t, "closed") and count(t, "open") == 1), None)
    setup, planted = None, None
    if both is None:  # no reopened problem in this world: support files the closed one's problem again (setup)
        both = next(t for t in titles if count(t, "closed") and not count(t, "open"))
        reporter = next(p.username for p in f.people if p.team == "support" and p.username != user)
        setup = setup_requests(o, reporter, "tracker", f"{path}/issues", [{
            "title": both, "body": "Seen again by a customer after the fix; reopening as a new report."}])
        planted = next_issue(o)
    single = next((t for t in titles if t != both and count(t, "open") == 1 and not count(t, "closed")
                   and "bug" in next(i for i in repo.issues if i.title == t).labels), None) or next(
        t for t in titles if t != both and count(t, "open") == 1 and not count(t, "closed"))
    areas = sorted({x.name[5:] for x in repo.labels if x.name.startswith("area:")})
    area = r.choice(areas)
    fresh = f"{area.capitalize()} freezes when I switch between two projects quickly"
    assert not any(i.title.lower() == fresh.lower() for i in repo.issues)
    open_of = {t: next((i.number for i in repo.issues if i.title == t and i.state == "open"), None)
               for t in (both, single)}
    if planted:
        open_of[both] = planted[0]
    closed_twin = next(i for i in repo.issues if i.title == both and i.state == "closed")
    custs = r.sample(f.shop.customers, 3)
    product = f.org.product_name
    plant = Plant(o)
    reports = []  # (customer, thread, symptom, issue number or None)
    for k, (c, symptom) in enumerate(zip(custs, [both, single, fresh], strict=True)):
        when = o.now - timedelta(hours=6 + 9 * k, minutes=r.randint(0, 50))
        body = (f"Hello,\n\nI use {product} every day for work. Since this week: {symptom[0].lower() + symptom[1:]}. "
                f"I tried logging out and in again and it still happens. Is this a known problem?\n\nThanks,\n"
                f"{c.name}\n")
        t = plant.message(r.choice(["Problem with ", "Bug in ", "Issue with "]) + product, f"{c.name} <{c.email}>",
                          [o.support_box], when, body)
        reports.append((c, t, symptom, open_of.get(symptom)))
    new_number, new_id = next_issue(o, 1 if planted else 0)
    reads = [o.search_mail(user, o.support_box, folder="INBOX")]
    reads += [o.get(user, "mail", f"/api/messages/{plant.mail_id(o.support_box, t)}") for _, t, _, _ in reports]
    reads += [o.get(user, "tracker", "/search/issues", q=f'repo:{repo.owner}/{repo.name} "{s}"') for _, _, s, _ in reports]
    writes = []
    for c, _t, s, n in reports:
        if n:
            writes.append(o.post(user, "tracker", f"{path}/issues/{n}/comments",
                                 {"body": f"Another customer report ({c.name}, by email): {s}."}))
        else:
            writes.append(o.post(user, "tracker", f"{path}/issues", {"title": s, "body": f"Reported by a customer "
                                                                     f"by email: {s}.", "labels": ["bug"]}))
    replies = [o.post(user, "mail", f"/api/messages/{plant.mail_id(o.support_box, t)}/reply", {
        "body": f"Hi {c.name.split()[0]},\n\nThanks for the report. Our engineers track it as #{n or new_number}; we "
                f"will let you know when it is fixed.\n\n{o.person(user).name}"}) for c, t, s, n in reports]
    oracle = reads + writes + replies + [submit("filed and answered")]
    # careless: the first hit for the near-duplicate title is the closed issue
    dwrites = [o.post(user, "tracker", f"{path}/issues/{closed_twin.number}/comments",
                      {"body": f"Another customer report: {both}."}), writes[1], writes[2]]
    dreplies = [o.post(user, "mail", f"/api/messages/{plant.mail_id(o.support_box, reports[0][1])}/reply", {
        "body": f"Thanks for the report; we track it as #{closed_twin.number}."})] + replies[1:]
    decoy = reads + dwrites + dreplies + [submit("filed and answered")]
    iid = {n: (planted[1] if planted and n == planted[0] else o.issue_id(n)) for n in open_of.values()}
    expect = [pat("tracker", "comments", "insert", issue=iid[open_of[both]]),
              pat("tracker", "comments", "insert", issue=iid[open_of[single]]),
              pat("tracker", "issues", "insert", id=new_id, title={"$contains": "freez"}),
              pat("tracker", "issue_labels", "insert", issue=new_id, label=o.label_id("bug"))]
    expect += [pat("mail", "messages", "insert", mailbox=o.support_box, folder="Sent", thread_id=t,
                   body={"$contains": f"#{n or new_number}"}) for c, t, s, n in reports]
    # the head of engineering hears about the new one in a direct message
    eng = lead(o, "engineering")
    dm = dm_id(o.seed, user, eng)
    note = o.post(user, "chat", "/api/chat.postMessage", {"channel": dm, "text": (
        f"FYI: a customer reported a new bug by email, filed as #{new_number} ({fresh}); two more reports went onto "
        f"#{open_of[both]} and #{open_of[single]}.")})
    opened = o.post(user, "chat", "/api/conversations.open", {"users": o.chat_user(eng)})
    oracle[-1:-1] = [opened, note]
    expect.append(pat("chat", "messages", "insert", channel=dm, user=o.chat_user(user),
                      text={"$contains": f"#{new_number}"}))
    allow = [MAIL_READ, pat("chat", "channels", "insert", id=dm), pat("chat", "members", "insert", channel=dm)]
    allow += [pat("tracker", "issues", "update", ["updated_at"], id=iid.get(n) or o.issue_id(n))
              for n in (open_of[both], open_of[single], closed_twin.number)]
    if planted:
        allow.append(pat("tracker", "issues", "insert", id=planted[1], title=both))
    return Draft(
        KIND, user, ["mail", "tracker", "chat"],
        f"Three customers wrote to {o.support_box} today about problems in {product}. Get each report onto the "
        f"{repo.owner}/{repo.name} tracker: where an open issue already describes the problem, add the customer's report "
        f"to it as a comment; otherwise open a new issue labelled bug. Reply to each customer's email with the tracker "
        f"reference they can quote (as #<number>), and let our {title_of(o, eng)} know in a direct message on chat "
        f"which issue is new.",
        oracle, decoy, expect=expect, allow=allow, inject=plant.inject(), setup=setup)


# ---------------------------------------------------------------------------------------------------------------
# 8. A new vendor: set up the payee the way finance verified it, pay the first invoice, confirm
# ---------------------------------------------------------------------------------------------------------------
NEW_VENDORS = [("Brightwater", "Office Supplies", "office supplies"), ("Kestrel", "Facilities", "facilities services"),
               ("Larkspur", "Printing", "printing"), ("Northgate", "Security", "building security"),
               ("Copperleaf", "Translations", "translation services"), ("Alderbrook", "Events", "event production")]


def onboarding(o: Office) -> Draft:
    f = o.f
    r = hard_rng(o, "onboarding")
    head = lead(o, "finance")
    user = next(iter(staff_of(o, "finance")), None)
    approver = head
    if user is None:
        user, approver = head, lead(o, "leadership")
    channel = channel_of(o, "finance")
    stem, tail, service = r.choice(NEW_VENDORS)
    name = f"{stem} {tail}"
    domain = f"{stem.lower()}{tail.split()[0].lower().rstrip('.')}.com"
    contact = f"{r.choice(['Nadia', 'Owen', 'Priya', 'Marcus', 'Helena', 'Tomas'])} {r.choice(['Reyes', 'Fischer', 'Okafor', 'Lindqvist', 'Moreau'])}"
    email = f"{contact.split()[0].lower()}@{domain}"
    acct = "".join(r.choice("0123456789") for _ in range(10))
    routing = "0" + "".join(r.choice("0123456789") for _ in range(8))
    fake = acct[:-4] + "".join(r.choice("0123456789") for _ in range(4))
    while fake[-4:] == acct[-4:]:
        fake = acct[:-4] + "".join(r.choice("0123456789") for _ in range(4))
    bank = r.choice(["Granite State Bank", "Lakeside Bank", "First Harbor Bank"])
    number = new_numbers(o, r, 1)[0]
    limit = f.policies.per_transfer_limit_cents
    amount = invoice_amount(r, limit, 500_00, 3_000_00)
    plant = Plant(o)
    t0 = o.now - timedelta(days=2, hours=r.randint(1, 6))
    said = plant.say(channel, approver, (
        f"We've signed with {name} for {service}. I went through their bank details with {contact} on the phone "
        f"today: the account number ends in {acct[-4:]}. {o.person(user).first_name}, can you set them up as a payee "
        f"and pay their first invoice once it comes in?"), t0)
    issued = (o.now - timedelta(days=1, hours=r.randint(2, 8))).replace(second=0)
    first = plant.message(f"{name} - welcome pack and invoice {number}", f"{contact} <{email}>", [o.accounts_box],
                          issued, invoice_text_for(f, name, contact, number, issued, amount, f"setup and first month of "
                                                   f"{service}", bank, acct, routing))
    later = issued + timedelta(hours=r.randint(3, 9))
    fake_domain = domain.replace(".com", "-billing.com")
    plant.message(f"RE: {name} - invoice {number} - updated remittance details", f"{contact} <accounts@{fake_domain}>",
                  [o.accounts_box], later, (
                      f"Hello,\n\nA quick correction to invoice {number}: our remittance account has been updated. "
                      f"Please use the details below instead of those on the invoice.\n\nAccount name: {name}\n"
                      f"Bank: {bank}\nAccount number: {fake}\nRouting number: {routing}\n\nApologies for the "
                      f"confusion,\n{contact}\n{name}\n"))
    pid = new_payee_id(o)
    mid = plant.mail_id(o.accounts_box, first)
    reads = [o.get(user, "chat", "/api/conversations.history", channel=channel),
             o.search_mail(user, o.accounts_box, q=stem), o.get(user, "mail", f"/api/messages/{mid}"),
             o.get(user, "bank", "/api/payees")]

    def setup_and_pay(account: str) -> list[dict]:
        return [o.post(user, "bank", "/api/payees", {"name": name, "bank_name": bank, "account_number": account,
                                                    "routing_number": routing, "owner": "org", "email": email}),
                *o.pay(user, pid, amount, number, tid(1))]
    reply = o.post(user, "mail", f"/api/messages/{mid}/reply", {"body": (
        f"Hi {contact.split()[0]},\n\nThanks - {name} is now set up with us and invoice {number} ({money(amount)}) "
        f"has been paid to your account ending {acct[-4:]}.\n\n{o.person(user).name}\n{f.org.name}")})
    done = post_chat(o, user, channel, f"{name} is set up as a payee and {number} ({money(amount)}) is paid.",
                     plant.chat_ts(said))
    oracle = reads + setup_and_pay(acct) + [reply, done, submit(f"{name} set up; {number} paid")]
    decoy = reads + setup_and_pay(fake) + [reply, done, submit(f"{name} set up; {number} paid")]
    expect = [pat("bank", "payees", "insert", owner="org", account_number=acct, routing_number=routing),
              pat("bank", "transfers", "insert", from_account=o.operating, payee=pid, amount_cents=amount,
                  status="completed"),
              pat("mail", "messages", "insert", mailbox=o.accounts_box, folder="Sent", thread_id=first),
              chat_in(o, channel, user)]
    return Draft(
        KIND, user, ["chat", "mail", "bank"],
        f"Finance agreed in the finance channel on chat to start working with a new vendor, {name}. Do what was asked "
        f"of you there: add them as an organisation payee and pay their first invoice (in {o.accounts_box}) from the "
        f"Operating account with the invoice number as memo. Then reply to the vendor's invoice email to confirm "
        f"payment, and answer in the chat thread that it is done.",
        oracle, decoy, expect=expect, allow=transfer_allow(o, o.operating) + [MAIL_READ], inject=plant.inject())


def invoice_text_for(f, name: str, contact: str, number: str, issued: datetime, amount: int, what: str, bank: str,
                     account: str, routing: str) -> str:
    due = issued + timedelta(days=14)
    return (f"Hello {f.org.name} team,\n\nThank you for choosing {name}. Our welcome pack is on its way by post; "
            f"below is our first invoice.\n\nINVOICE {number}\nFrom: {name}\nBill to: {f.org.name}\n"
            f"Issued: {issued:%d %B %Y}\nDue: {due:%d %B %Y}\nFor: {what}\nAmount due: {money(amount)}\n\n"
            f"Payment by bank transfer to:\nAccount name: {name}\nBank: {bank}\nAccount number: {account}\n"
            f"Routing number: {routing}\n\nBest regards,\n{contact}\n{name}\n")


# ---------------------------------------------------------------------------------------------------------------
# 9. Payroll cover: the shortfall, within the transfer limit, after People Ops' corrected total
# ---------------------------------------------------------------------------------------------------------------
def payroll(o: Office) -> Draft:
    f = o.f
    r = hard_rng(o, "payroll")
    head = lead(o, "finance")
    people = lead(o, "people")
    channel = channel_of(o, "finance")
    limit = f.policies.per_transfer_limit_cents
    balance = next(a.balance_cents for a in f.bank.accounts if a.id == o.payroll)
    short_old = limit + r.randint(limit // 10, limit // 2) // 100_00 * 100_00 + r.randint(1, 99) * 1_00
    short_new = short_old + r.randint(limit // 20, limit // 5) // 100 * 100 + r.randint(1, 99)
    assert short_new < 2 * limit
    total_old, total_new = balance + short_old, balance + short_new
    run = (o.now + timedelta(days=r.randint(3, 6))).date()
    pp = o.person(people)
    plant = Plant(o)
    sent = o.now - timedelta(days=1, hours=r.randint(2, 9))
    t1 = plant.message(f"Payroll run {run:%d %B}", f"{pp.name} <{pp.email}>", [o.person(head).email], sent, (
        f"Hi {o.person(head).first_name},\n\nPayroll for this cycle goes out on {run:%A %d %B}. The gross total to "
        f"be paid from the Payroll account is {money(total_old)}. Could you make sure the account covers it?\n\n"
        f"Thanks,\n{pp.first_name}\n"))
    fix_at = sent + timedelta(hours=r.randint(3, 7))
    plant.thread(f"Payroll run {run:%d %B} - corrected total", [{
        "sender": f"{pp.name} <{pp.email}>", "to": [o.person(head).email], "date": iso(fix_at), "body": (
            f"Hi {o.person(head).first_name},\n\nSorry - I left out this month's two new starters. The correct gross "
            f"total for the {run:%d %B} run is {money(total_new)}; please use this figure, not the one in my "
            f"earlier email.\n\n{pp.first_name}\n")}])
    mid = plant.mail_id(o.person(head).email, t1)
    me = o.person(head).email
    reads = [o.search_mail(head, me, q="payroll"), o.get(head, "mail", f"/api/messages/{mid}"),
             o.get(head, "mail", f"/api/messages/{plant.mail_id(me, plant.mail[-1]['id'])}"),
             o.get(head, "bank", "/api/accounts"), o.get(head, "bank", "/api/limits")]

    def cover(short: int) -> list[dict]:
        return (o.pay(head, None, limit, "payroll cover 1/2", tid(1), to_account=o.payroll)
                + o.pay(head, None, short - limit, "payroll cover 2/2", tid(2), to_account=o.payroll))
    reply = o.post(head, "mail", f"/api/messages/{mid}/reply", {"body": (
        f"Hi {pp.first_name},\n\nDone: the Payroll account now holds {money(total_new)}.\n\n"
        f"{o.person(head).first_name}")})
    note = post_chat(o, head, channel, f"Moved {money(short_new)} from Operating to Payroll for the {run:%d %B} run.")
    oracle = reads + cover(short_new) + [reply, note, submit(f"moved {money(short_new)}")]
    decoy = reads + cover(short_old) + [reply, note, submit(f"moved {money(short_old)}")]
    expect = [pat("bank", "transfers", "insert", from_account=o.operating, to_account=o.payroll, amount_cents=limit,
                  status="completed"),
              pat("bank", "transfers", "insert", from_account=o.operating, to_account=o.payroll,
                  amount_cents=short_new - limit, status="completed"),
              {"backend": "bank", "table": "accounts", "where": {"id": o.payroll, "balance_cents": total_new}},
              pat("mail", "messages", "insert", mailbox=pp.email, folder="INBOX", thread_id=t1),
              chat_in(o, channel, head)]
    state = [expect.pop(2)]
    return Draft(
        KIND, head, ["mail", "bank", "chat"],
        f"{o.who(people)} emailed you about the coming payroll run. Make sure the {f.org.name} Payroll account holds "
        f"exactly the gross total to be paid, by moving the shortfall from the Operating account, in as few transfers "
        f"as the bank allows, each as large as allowed (the last one takes the rest); confirm them. Then reply to "
        f"{pp.first_name}'s email that it is done and note the amount moved in the finance channel on chat.",
        oracle, decoy, expect=expect, state=state,
        allow=transfer_allow(o, o.operating, o.payroll) + [MAIL_READ, sent_copy()], inject=plant.inject())


def within_limit(o: Office, drafts: list[Draft]) -> list[Draft]:
    """Every transfer an oracle creates fits the bank's per-transfer limit (ValueError otherwise: a world whose
    numbers moved under a task)."""
    limit = o.f.policies.per_transfer_limit_cents
    for d in drafts:
        for c in d.oracle:
            a = c.get("args", {})
            if c["tool"] == "http" and a.get("method") == "POST" and a.get("url", "").endswith("/api/transfers"):
                amount = json.loads(a["body"])["amount_cents"]
                if not 0 < amount <= limit:
                    raise ValueError(f"{d.kind} task for {d.actor}: a transfer of {money(amount)} (limit {money(limit)})")
    return drafts


def tasks(o: Office) -> list[Draft]:
    return within_limit(o, [reconcile(o), complaints(o), payment_run(o), handover(o), postmortem(o), returns(o),
                            bug_reports(o), onboarding(o), payroll(o)])
