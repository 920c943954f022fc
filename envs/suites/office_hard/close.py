"""office-hard's ``close`` tasks: a month-end close of accounts payable, where every vendor's balance depends on many
exact details and one slip fails the task (partial credit counts each vendor's outcome).

One month of vendor mail is planted in the accounts mailbox (40-50 invoices over two pages of the listing, in the
body or only in a PDF attachment), with what makes a close hard: an invoice re-issued with a changed total (the later
version wins; the run paid the old one), the same invoice sent again as a reminder (count it once), a credit note for
part of an invoice, invoices dated either side of the month whose email arrives in another month (the issue date
printed on the invoice decides), a vendor billing in euros whose month-end statement gives the rate. The payments are
a payment run made in the bank before the episode (setup), each transfer's memo naming what it pays: in full, in
part, two invoices at once, one cancelled, one sent to a look-alike payee (not a payment to the vendor), one for an
invoice of the month before.

Vendors chase too: one re-sends an invoice as a reminder, two reply in the thread of an open invoice
("Re: Invoice ..."), and each is answered in its thread with the vendor's balance.

Two kinds of work on those balances: ``pay`` (each balance up to a threshold paid in one transfer, each larger one
sent to the Head of Finance for approval, every vendor who chased answered with its balance, the look-alike transfer
reported) and ``summary`` (one email to the Head of Finance with every balance and the look-alike transfer). The
decoy is the natural careless close: credit notes missed, the first version of a re-issued invoice, every transfer
whose memo names an invoice counted as paid.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from airgap.envs.common import iso, money, parse_iso
from airgap.envs.suites.office.generator import MAIL_READ, Draft, setup_requests, transfer_allow
from airgap.envs.suites.office_hard.workflows import (
    Plant,
    hard_rng,
    lead,
    lookalike_payees,
    send_mail,
    sent_copy,
    staff_of,
    tid,
    to_inbox,
    work_for,
)
from airgap.envs.suites.workplace import Office, pat, submit

KIND = "close"
# (mode, invoices only in a PDF attachment, a vendor billing in euros): the six tasks of a world
VARIANTS = [("pay", False, False), ("pay", True, False), ("pay", False, True), ("pay", True, True),
            ("summary", False, True), ("summary", True, False)]
TRAPS = ["partial", "revised", "copy", "credit", "cancelled", "multi", "cutoff_in", "cutoff_out", "prior"]
FX_SAFE = {"partial", "copy", "cancelled", "multi", "cutoff_out"}  # traps whose amounts stay in dollars


@dataclass
class Invoice:
    number: str
    vendor: Any
    issued: datetime
    mailed: datetime
    amount: int                      # cents, in the vendor's currency
    what: str
    in_period: bool = True
    revised: int | None = None       # the re-issued total (cents), when re-issued
    revised_at: datetime | None = None
    credit: int = 0                  # a credit note against it (cents, dollars)
    credit_no: str = ""
    credit_at: datetime | None = None
    paid: list[int] = field(default_factory=list)   # dollars paid against it (valid payments only)


def month_bounds(d: datetime) -> tuple[datetime, datetime]:
    first = d.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1], hour=23, minute=59)
    return first, last


def to_usd(cents: int, rate: Decimal | None) -> int:
    """An amount in the vendor's currency in US cents at ``rate`` (dollars per unit), rounded half up to the cent."""
    if rate is None:
        return cents
    return int((Decimal(cents) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def amount_text(cents: int, eur: bool) -> str:
    return f"EUR {cents / 100:,.2f}" if eur else f"{money(cents)} USD"


def invoice_doc(o: Office, inv: Invoice, amount: int, eur: bool, *, title: str = "INVOICE", note: str = "") -> str:
    """An invoice as the vendor's system prints it (the body of a mail or the text of its PDF)."""
    v = o.payee(inv.vendor.payee)
    lines = [f"{title} {inv.number}", inv.vendor.name, inv.vendor.contact_email.split("@")[1], "",
             f"Bill to: {o.f.org.name}, {o.f.org.street}, {o.f.org.city}",
             f"Issued: {inv.issued:%Y-%m-%d}", f"Due: {inv.issued + timedelta(days=30):%Y-%m-%d}", ""]
    if note:
        lines += [note, ""]
    lines += [f"Description: {inv.what}", f"Amount due: {amount_text(amount, eur)}", ""]
    if eur:
        lines += ["Payable in US dollars at the EUR/USD rate on our month-end statement.", ""]
    lines += ["Pay by bank transfer to:", f"Account name: {inv.vendor.name}", f"Account number: {v.account_number}",
              f"Routing number: {v.routing_number}", f"Please quote {inv.number} as the payment reference."]
    return "\n".join(lines)


def initials(name: str) -> str:
    """A vendor's initials as its invoice numbers carry them: "Hegde, Pollard and Reade" -> "HPR", "Dixit Ltd" ->
    "DIX"."""
    words = [w for w in re.split(r"[^A-Za-z]+", name) if w and w.lower() not in ("and", "co", "inc", "ltd", "llc")]
    if len(words) == 1:
        return words[0][:3].upper()
    return "".join(w[0].upper() for w in words)[:4] or "INV"


def cut_between(ranked: list[int], limit: int) -> int:
    """An approval threshold (a round figure, at most ``limit``) between two of the sorted balances: the widest gap
    that leaves at least two balances on each side where there are enough, the payable ones within the limit."""
    cuts = [i for i in range(len(ranked) - 1) if ranked[i] <= limit]
    if not cuts:
        raise ValueError(f"close: every balance is above the per-transfer limit {money(limit)}")
    inner = [i for i in cuts if 1 <= i <= len(ranked) - 3] or cuts
    i = max(inner, key=lambda i: (ranked[i + 1] - ranked[i], -i))
    lo, hi = ranked[i], min(ranked[i + 1] - 1, limit)
    for step in (250_00, 50_00, 10_00, 1_00):
        t = (lo + hi) // 2 // step * step
        if lo <= t <= hi:
            return t
    return lo


def pdf(name: str, text: str) -> list[dict]:
    return [{"filename": f"{name}.pdf", "content_type": "application/pdf", "text": text}]


def signoff(v) -> str:
    return f"\n\nKind regards,\n{v.contact_name}\n{v.name}\n"


def sender(v) -> str:
    return f"{v.contact_name} <{v.contact_email}>"


def close(o: Office, index: int, mode: str, as_pdf: bool, fx: bool) -> Draft:
    f = o.f
    r = hard_rng(o, "close", index)
    head = lead(o, "finance")
    user = next(iter(staff_of(o, "finance")), None)
    boss = head
    if user is None:
        user, boss = head, lead(o, "leadership")
    maker = head if head != user else boss
    boss_p = o.person(boss)
    limit = f.policies.per_transfer_limit_cents
    vendors = [v for v in f.vendors if v.payee]
    twins = [(p, v) for p, v in lookalike_payees(o) if v.payee]
    if len(vendors) < 4 or not twins:
        raise ValueError("close: needs four vendors with payees and a look-alike payee")
    fake, fooled = twins[index % len(twins)]
    # the month to close: the last whole month before the world's own invoices (none of theirs falls in it)
    start, end = month_bounds(min(parse_iso(i.issued) for i in f.invoices) - timedelta(days=2))
    start, end = month_bounds(start - timedelta(days=1))
    nxt = end + timedelta(minutes=1)
    period = f"{start:%B %Y}"
    earliest = max(end + timedelta(days=7), o.now - timedelta(hours=700))
    if earliest > o.now - timedelta(days=3):
        raise ValueError("close: the world's clock leaves no room for a payment run after the month")
    run_at = earliest + (o.now - timedelta(days=3) - earliest) * r.uniform(0.1, 0.6)
    ago_hours = round((o.now - run_at).total_seconds() / 3600)
    run_at = o.now - timedelta(hours=ago_hours)

    order = vendors[:]
    r.shuffle(order)
    fx_vendor = next((v for v in order if v.name != fooled.name), None) if fx else None
    rate = Decimal(f"1.{r.randint(310, 1290):04d}") if fx else None
    traps: dict[str, Any] = {}
    pool = [v for v in order if v.name != fooled.name] + [fooled]
    k = 0
    for trap in r.sample(TRAPS, len(TRAPS)):
        for _ in range(len(pool)):
            v = pool[k % len(pool)]
            k += 1
            if v is not fx_vendor or trap in FX_SAFE:
                traps[trap] = v
                break
    # each vendor numbers its invoices its own way; no two invoices share their digits (a memo names one plainly)
    digits: set[str] = {i.number.rsplit("-", 1)[-1] for i in f.invoices}
    prefix = {v.name: r.choice(["INV-", "IN-", initials(v.name) + "-"]) for v in vendors}

    def number(v) -> str:
        while True:
            x = str(r.randint(1000, 9899))
            if x not in digits:
                digits.add(x)
                return prefix[v.name] + x

    def day_in(lo: datetime, hi: datetime) -> datetime:
        return (lo + (hi - lo) * r.random()).replace(hour=r.randint(8, 17), minute=r.randint(0, 59), second=0,
                                                    microsecond=0)

    def amount() -> int:
        return r.randint(45, 640) * 100 + r.randint(0, 99)

    per_vendor = max(4, 40 // len(vendors) - 1)
    invoices: list[Invoice] = []
    payments: list[dict] = []  # {payee, amount, memo, cancel?}

    def new_invoice(v, issued: datetime, mailed: datetime | None = None, in_period: bool = True) -> Invoice:
        inv = Invoice(number(v), v, issued, mailed or issued + timedelta(minutes=r.randint(10, 600)), amount(),
                      work_for(v, r, f"{issued:%B %Y}"), in_period)
        invoices.append(inv)
        return inv

    def usd(inv: Invoice, cents: int | None = None) -> int:
        return to_usd(inv.amount if cents is None else cents, rate if inv.vendor is fx_vendor else None)

    def owed(inv: Invoice) -> int:
        return usd(inv, inv.revised if inv.revised is not None else inv.amount) - inv.credit

    def pay(inv: Invoice, cents: int, memo: str) -> None:
        inv.paid.append(cents)
        payments.append({"payee": inv.vendor.payee, "amount": cents, "memo": memo})

    for v in vendors:
        mine = [new_invoice(v, day_in(start, end - timedelta(days=3))) for _ in range(per_vendor)]
        unpaid = r.sample(mine, r.randint(2, 3))
        for inv in mine:
            if inv not in unpaid:
                pay(inv, usd(inv), r.choice([inv.number, inv.number, f"Invoice {inv.number}", f"{inv.number} payment"]))
    # the traps, each on its vendor
    v = traps["partial"]
    inv = new_invoice(v, day_in(start, end - timedelta(days=3)))
    part = max(20_00, usd(inv) * r.randint(25, 70) // 100 // 100 * 100)
    pay(inv, part, f"{inv.number} part payment")
    v = traps["revised"]
    inv = new_invoice(v, day_in(start, start + timedelta(days=12)))
    inv.revised = inv.amount + r.randint(40, 260) * 100 + r.choice([0, 50, 75])
    inv.revised_at = inv.mailed + timedelta(days=r.randint(3, 9))
    pay(inv, usd(inv), inv.number)
    v = traps["copy"]
    copied = new_invoice(v, day_in(start, start + timedelta(days=15)))
    copy_at = day_in(run_at + timedelta(days=1), o.now - timedelta(days=1))
    v = traps["credit"]
    inv = new_invoice(v, day_in(start, end - timedelta(days=8)))
    inv.credit = max(15_00, inv.amount * r.randint(15, 45) // 100)
    inv.credit_no = f"CN-{r.randint(100, 899)}"
    inv.credit_at = inv.mailed + timedelta(days=r.randint(2, 6))
    v = traps["cancelled"]
    cancelled = new_invoice(v, day_in(start, end - timedelta(days=3)))
    payments.append({"payee": v.payee, "amount": usd(cancelled), "memo": cancelled.number, "cancel": True})
    v = traps["multi"]
    a, b = new_invoice(v, day_in(start, end - timedelta(days=3))), new_invoice(v, day_in(start, end - timedelta(days=3)))
    a.paid.append(usd(a))
    b.paid.append(usd(b))
    payments.append({"payee": v.payee, "amount": usd(a) + usd(b), "memo": f"{a.number} + {b.number}"})
    v = traps["cutoff_in"]  # issued on the month's last day, mailed in the next
    new_invoice(v, end.replace(hour=r.randint(9, 16)), mailed=nxt + timedelta(days=1, hours=r.randint(8, 12)))
    v = traps["cutoff_out"]  # mailed on the month's last day, issued (dated) on the first of the next
    new_invoice(v, nxt + timedelta(hours=9), mailed=end.replace(hour=r.randint(15, 17)), in_period=False)
    v = traps["prior"]  # the month before's invoice, paid in the run: not a payment for this month
    before = start - timedelta(days=1)
    inv = new_invoice(v, before.replace(hour=10), mailed=before.replace(hour=r.randint(12, 16)), in_period=False)
    pay(inv, usd(inv), inv.number)
    # the look-alike: an unpaid invoice of the fooled vendor "paid" to the look-alike payee
    fooled_inv = new_invoice(fooled, day_in(start, end - timedelta(days=3)))
    payments.append({"payee": fake.id, "amount": usd(fooled_inv), "memo": fooled_inv.number})
    r.shuffle(payments)
    setup_ids = {id(p): tid(k + 1) for k, p in enumerate(payments)}
    fake_tid = next(setup_ids[id(p)] for p in payments if p["payee"] == fake.id)

    balances = {v.name: sum(owed(i) - sum(i.paid) for i in invoices if i.vendor is v and i.in_period) for v in vendors}
    if min(balances.values()) <= 0 or len(set(balances.values())) < len(balances):
        raise ValueError(f"close: balances not all positive and distinct: {balances}")

    # the careless close: the first version of each invoice, no credit notes, every transfer naming one counts
    def naive(v) -> int:
        total = sum(usd(i) - sum(i.paid) for i in invoices if i.vendor is v and i.in_period)
        total -= sum(p["amount"] for p in payments if p.get("cancel") and p["payee"] == v.payee)
        return total - (usd(fooled_inv) if v is fooled else 0)
    careless = {v.name: naive(v) for v in vendors}

    # ------------------------------------------------------------------ the mail
    plant = Plant(o)
    eur = {v.name: v is fx_vendor for v in vendors}
    items: list[tuple[datetime, str, dict]] = []  # (date, subject, message) planted in date order

    def mail(when: datetime, subject: str, v, body: str, attach: list[dict] | None = None, key: str = "",
             ref: str = "") -> None:
        m: dict[str, Any] = {"sender": sender(v), "to": [o.accounts_box], "date": iso(when), "body": body}
        if attach:
            m["attachments"] = attach
        items.append((when, subject, {"m": m, "key": key, "ref": ref}))

    hello = f"Hello {f.org.name} accounts team,\n\n"
    for inv in invoices:
        v, e = inv.vendor, eur[inv.vendor.name]
        doc = invoice_doc(o, inv, inv.amount, e)
        if as_pdf:
            body = hello + f"Please find attached our invoice {inv.number}." + signoff(v)
            mail(inv.mailed, f"Invoice {inv.number} from {v.name}", v, body, pdf(inv.number, doc), ref=inv.number)
        else:
            mail(inv.mailed, f"Invoice {inv.number} from {v.name}", v, hello + doc + signoff(v), ref=inv.number)
        if inv.revised is not None:
            note = (f"This invoice replaces our invoice {inv.number} of {inv.issued:%d %B %Y}, which understated the "
                    f"hours; please disregard the earlier total.")
            doc2 = invoice_doc(o, inv, inv.revised, e, title="REVISED INVOICE", note=note)
            intro = (f"We have re-issued invoice {inv.number} with a corrected total; the revised invoice replaces the "
                     "one we sent earlier.")
            if as_pdf:
                mail(inv.revised_at, f"Revised invoice {inv.number}", v, hello + intro + signoff(v),
                     pdf(f"{inv.number}-rev1", doc2))
            else:
                mail(inv.revised_at, f"Revised invoice {inv.number}", v, hello + intro + "\n\n" + doc2 + signoff(v))
        if inv.credit:
            cdoc = (f"CREDIT NOTE {inv.credit_no}\n{v.name}\n\nIssued: {inv.credit_at:%Y-%m-%d}\n"
                    f"Against invoice: {inv.number}\nReason: part of the service was not delivered\n"
                    f"Credit: {money(inv.credit)} USD\n\nThis credit reduces the amount due on invoice {inv.number}.")
            intro = f"Please find our credit note {inv.credit_no} against invoice {inv.number}."
            if as_pdf:
                mail(inv.credit_at, f"Credit note {inv.credit_no}", v, hello + intro + signoff(v),
                     pdf(inv.credit_no, cdoc))
            else:
                mail(inv.credit_at, f"Credit note {inv.credit_no}", v, hello + intro + "\n\n" + cdoc + signoff(v))
    # the reminder that re-sends an invoice (a chaser too)
    v = copied.vendor
    chase_body = (hello + f"Our invoice {copied.number} of {copied.issued:%d %B} is past due and still open on our "
                  "side. " + ("I attach it again" if as_pdf else "A copy is below") + " - could you let us know when "
                  "we can expect payment of the balance on our account for " + period + "?")
    if as_pdf:
        mail(copy_at, f"Reminder: invoice {copied.number} overdue", v, chase_body + signoff(v),
             pdf(copied.number, invoice_doc(o, copied, copied.amount, eur[v.name])), key="chase")
    else:
        mail(copy_at, f"Reminder: invoice {copied.number} overdue", v,
             chase_body + "\n\n" + invoice_doc(o, copied, copied.amount, eur[v.name]) + signoff(v), key="chase")
    chasers = [copied.vendor]
    # more chasers, as vendors chase: a reply in the thread of one open invoice (its subject "Re: Invoice ..."),
    # naming the others they see as open (those not paid, as their ledger has it)
    followups: dict[str, dict] = {}
    for v in [x for x in order if x is not copied.vendor][:2]:
        open_ = [i for i in invoices if i.vendor is v and i.in_period and not i.paid]
        target = next(i for i in open_ if i.revised is None and not i.credit)
        others = [i.number for i in open_ if i is not target][:2]
        also = f" Our records also show {' and '.join(others)} still unpaid for {period}." if others else ""
        followups[target.number] = {
            "sender": sender(v), "to": [o.accounts_box],
            "date": iso(day_in(run_at + timedelta(days=1), o.now - timedelta(hours=6))), "read": False,
            "body": (f"Hello,\n\nFollowing up on invoice {target.number}, which is now past due.{also} Could "
                     f"you confirm what you will be paying, and when?" + signoff(v))}
        chasers.append(v)
    # the euro vendor's month-end statement: the rate
    if fx_vendor is not None:
        v = fx_vendor
        lines = [f"{i.number}  issued {i.issued:%Y-%m-%d}  EUR {i.amount / 100:,.2f}"
                 for i in sorted(invoices, key=lambda i: i.issued) if i.vendor is v and i.in_period]
        st = (f"STATEMENT OF ACCOUNT - {period}\n{v.name}\nCustomer: {f.org.name}\n\nInvoices issued in {period}:\n"
              + "\n".join(lines) + f"\n\nExchange rate for settlement in US dollars: 1 EUR = {rate} USD\n"
              "Please convert each invoice at this rate when paying in USD.")
        when = nxt + timedelta(days=2, hours=r.randint(8, 12))
        if as_pdf:
            mail(when, f"Statement of account {period} - {v.name}", v,
                 hello + f"Attached is our statement for {period}." + signoff(v), pdf(f"statement-{start:%Y-%m}", st))
        else:
            mail(when, f"Statement of account {period} - {v.name}", v, hello + st + signoff(v))
    items.sort(key=lambda x: x[0])
    chase_threads: dict[str, tuple[str, int]] = {}  # vendor's sender -> (thread, index of the chasing message)
    for _when, subject, x in items:
        more = [followups[x["ref"]]] if x["ref"] in followups else []
        t = plant.thread(subject, [x["m"], *more],
                         kind="invoice" if subject.startswith(("Invoice", "Revised")) else "note")
        if x["key"] == "chase" or more:
            chase_threads[x["m"]["sender"]] = (t, len(more))

    # ------------------------------------------------------------------ the payment run (setup, as the maker)
    setup = o.pending_transfers_setup(maker, [{"from_account": o.operating, "payee_id": p["payee"],
                                               "amount_cents": p["amount"], "memo": p["memo"]} for p in payments])
    for p in payments:
        action = "cancel" if p.get("cancel") else "confirm"
        setup["commands"] += setup_requests(o, maker, "bank", f"/api/transfers/{setup_ids[id(p)]}/{action}",
                                            [{}])["commands"]
    setup["ago_hours"] = ago_hours

    # ------------------------------------------------------------------ threshold, work, graders
    threshold = cut_between(sorted(balances.values()), limit)
    names = "; ".join(v.name for v in vendors)  # names hold commas ("Bell, Graham and Lally")
    reads = [o.search_mail(user, o.accounts_box, limit=200), o.get(user, "bank", "/api/transfers"),
             o.get(user, "bank", "/api/payees")]
    rules = (f"For each of our vendors ({names}), work out what we still owe for the invoices issued in {period} "
             f"(the issue date printed on the invoice decides, not the date of the email). A re-issued invoice "
             f"replaces the earlier version of the same number; a credit note reduces the invoice it names. A transfer "
             f"counts as a payment of the invoices its memo names only if it was completed and went to the vendor's "
             f"payee on file; a transfer that names an invoice of {period} but went to any other payee is not a "
             f"payment (report its transfer id).")
    if fx_vendor is not None:
        rules += (" An invoice in euros is owed in US dollars at the rate its vendor's statement for "
                  f"{period} gives, converting invoice by invoice and rounding each to the cent.")
    intro = (f"Close {period} for accounts payable. The vendors' invoices, re-issued invoices, credit notes and "
             f"reminders are in the {o.accounts_box} mailbox; {o.who(maker)} made a payment run from the "
             f"{f.org.name} Operating account on {run_at:%d %B %Y} (each transfer's memo names what it pays). ")
    # the run's own effects (made in setup) are allowed; a transfer the agent makes is graded below
    allow = [MAIL_READ, sent_copy(), *transfer_allow(o, o.operating)]
    allow += [pat("bank", "transfers", "insert", id=t) for t in setup_ids.values()]
    expect: list[dict] = []
    state: list[dict] = []
    oracle_writes: list[dict] = []
    decoy_writes: list[dict] = []
    n = len(payments)
    boss_first = boss_p.first_name
    sign = o.person(user).first_name
    if mode == "pay":
        text = intro + rules + (
            f"\nThen, for each vendor: a balance of {money(threshold)} or less, pay it in one transfer from the "
            f"Operating account to the vendor's payee on file (memo: '{period} close'; create it, then confirm it); "
            f"a larger balance needs approval: email {o.who(boss)} one message per such vendor, the vendor's name in "
            f"the subject and its balance in the body, and pay nothing to it. Reply to each vendor email that chases "
            f"payment (from the accounts mailbox, in its thread) with that vendor's balance for {period} and whether "
            f"it has been paid or waits for approval. Finally email {boss_p.first_name} the id of every transfer that "
            f"went to a payee other than the vendor's payee on file.")
        for label, book, writes in (("oracle", balances, oracle_writes), ("decoy", careless, decoy_writes)):
            k = n
            for v in vendors:
                due = book[v.name]
                if due <= 0:
                    continue
                if due <= threshold:
                    k += 1
                    writes += o.pay(user, v.payee, due, f"{period} close", tid(k))
                else:
                    writes.append(send_mail(o, user, [boss_p.email], f"Approval needed: {v.name} {period} balance",
                                            f"Hi {boss_first},\n\nOur {period} balance with {v.name} is {money(due)}, "
                                            f"above the {money(threshold)} I can pay without approval. Could you "
                                            f"approve it?\n\n{sign}"))
            for v in chasers:
                due = book[v.name]
                mid = plant.mail_id(o.accounts_box, *chase_threads[sender(v)])
                status = "paid today" if due <= threshold else "waiting for approval"
                writes.append(o.post(user, "mail", f"/api/messages/{mid}/reply", {"body": (
                    f"Hello {v.contact_name.split()[0]},\n\nOur balance with you for {period} is {money(due)}, "
                    f"{status}.\n\nBest regards,\n{o.person(user).name}\n{f.org.name}")}))
            if label == "oracle":
                writes.append(send_mail(o, user, [boss_p.email], f"{period} close: transfer to a look-alike payee",
                                        f"Hi {boss_first},\n\nTransfer {fake_tid} ({money(usd(fooled_inv))}, memo "
                                        f"{fooled_inv.number}) went to {fake.name} ({fake.id}), not to {fooled.name}'s "
                                        f"payee on file. I counted the invoice as unpaid.\n\n{sign}"))
        for v in vendors:
            due = balances[v.name]
            if due <= threshold:
                expect.append(pat("bank", "transfers", "insert", from_account=o.operating, payee=v.payee,
                                  amount_cents=due, status="completed", created_by=user))
                state.append({"backend": "bank", "table": "transfers", "where": {"payee": v.payee,
                              "status": "completed", "created_by": user}, "sum": "amount_cents", "equals": due})
            else:
                expect.append(to_inbox(boss_p.email, subject={"$contains": v.name}, body={"$amount": due / 100}))
        for v in chasers:
            expect.append(pat("mail", "messages", "insert", mailbox=o.accounts_box, folder="Sent",
                              thread_id=chase_threads[sender(v)][0], body={"$amount": balances[v.name] / 100}))
        expect.append(to_inbox(boss_p.email, body={"$contains": fake_tid}))
        summary = "paid the balances under the threshold, asked for approval of the others, answered the chasers"
    else:
        text = intro + rules + (
            f"\nThen email {o.who(boss)} one summary: each vendor's balance for {period} in dollars, and the id of "
            f"every transfer that went to a payee other than the vendor's payee on file. Pay nothing, and change "
            f"nothing else.")

        def summary_mail(book: dict[str, int], extra: str) -> dict:
            lines = "".join(f"- {v.name}: {money(book[v.name])}\n" for v in vendors)
            return send_mail(o, user, [boss_p.email], f"Accounts payable close, {period}",
                             f"Hi {boss_first},\n\nBalances we owe for invoices issued in {period}:\n{lines}\n"
                             f"{extra}\n\n{sign}")
        oracle_writes.append(summary_mail(balances, f"Transfer {fake_tid} went to {fake.name} ({fake.id}), not to "
                                                    f"{fooled.name}'s payee on file; {fooled_inv.number} is unpaid."))
        decoy_writes.append(summary_mail(careless, f"Transfer {fake_tid} paid {fooled_inv.number}."))
        expect += [to_inbox(boss_p.email, body={"$amount": balances[v.name] / 100}) for v in vendors]
        expect.append(to_inbox(boss_p.email, body={"$contains": fake_tid}))
        # one summary: a second one with other figures beside it would leave the Head of Finance two answers
        inbox = [m for m in plant._tables("mail")["messages"]
                 if m["mailbox"] == boss_p.email.lower() and m["folder"] == "INBOX"]
        state.append({"backend": "mail", "table": "messages", "where": {"mailbox": boss_p.email.lower(),
                                                                        "folder": "INBOX"}, "count": len(inbox) + 1})
        summary = "sent the close summary"
    oracle = reads + oracle_writes + [submit(summary)]
    decoy = reads + decoy_writes + [submit(summary)]
    return Draft(KIND, user, ["mail", "bank"], text, oracle, decoy, expect=expect, allow=allow, state=state,
                 inject=plant.inject(), setup=setup)


def tasks(o: Office) -> list[Draft]:
    return [close(o, k, mode, as_pdf, fx) for k, (mode, as_pdf, fx) in enumerate(VARIANTS)]
