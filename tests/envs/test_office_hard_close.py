"""office-hard's close family read as an agent must read it: a solver written apart from the generator, from only what
the agent sees (the planted mail and its attachments' text, the payment run's transfers as the setup makes them,
the payee list, the instruction's rules), finds every graded balance; and each slip a batch script could make (the
email's date for the issue date, the first version of a re-issued invoice, a reminder's copy counted again, credit
notes, cancelled or look-alike transfers counted, payments netted per vendor, an `INV-` only pattern, the first
number of a memo naming two, PDFs left unread) fails every task it applies to. No Docker: seconds."""
from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest

from airgap.envs.suites.office_hard import close
from airgap.envs.suites.workplace import Office

SLIPS = ["email-date", "first-version-wins", "count-copies", "no-credits", "count-cancelled", "count-lookalike",
         "vendor-level", "inv-regex", "first-number"]


def solve(o, d, slip: str | None = None) -> dict[str, int]:
    """Each vendor's balance in cents, as the instruction's rules give it from the texts (with ``slip`` made)."""
    period = re.search(r"Close (\w+ \d{4})", d.text).group(1)
    ym = datetime.strptime(period, "%B %Y").strftime("%Y-%m")
    docs = []
    for t in d.inject["mail"]:
        for m in t["messages"]:
            att = "" if slip == "no-attachments" else "\n".join(a["text"] for a in m.get("attachments", []))
            docs.append((m["date"], m["body"] + "\n" + att))
    docs.sort(reverse=(slip == "first-version-wins"))
    inv, credits, rate = {}, {}, {}
    for date, body in docs:
        for blk in re.split(r"\n(?=(?:REVISED )?INVOICE |CREDIT NOTE |STATEMENT)", body):
            m = re.match(r"(REVISED )?INVOICE (\S+)\n(.+)\n", blk)
            if m:
                amt = re.search(r"Amount due: (EUR ([\d,\.]+)|\$([\d,\.]+) USD)", blk)
                cents = int(Decimal((amt.group(2) or amt.group(3)).replace(",", "")) * 100)
                issued = date[:10] if slip == "email-date" else re.search(r"Issued: (\S+)", blk).group(1)
                if slip == "count-copies" and m.group(2) in inv and not m.group(1):
                    inv[m.group(2) + "#"] = (m.group(3), issued, cents, amt.group(2) is not None)
                else:
                    inv[m.group(2)] = (m.group(3), issued, cents, amt.group(2) is not None)
            m = re.match(r"CREDIT NOTE (\S+)\n", blk)
            if m and slip != "no-credits":
                n = re.search(r"Against invoice: (\S+)", blk).group(1)
                credits[n] = credits.get(n, 0) + int(Decimal(re.search(r"Credit: \$([\d,\.]+)", blk).group(1).replace(",", "")) * 100)
            m = re.search(r"STATEMENT OF ACCOUNT - .*\n(.+)\n", blk)
            if m and "1 EUR =" in blk:
                rate[m.group(1)] = Decimal(re.search(r"1 EUR = ([\d\.]+) USD", blk).group(1))
    on_file = {v.name: v.payee for v in o.f.vendors}
    cmds = d.setup["commands"]
    bodies = [json.loads(re.search(r"-d '(.*?)'", c).group(1)) for c in cmds if c.endswith("/api/transfers")]
    status = {m.group(1): ("completed" if m.group(2) == "confirm" else "cancelled")
              for m in (re.search(r"/api/transfers/(tr_\d+)/(\w+)$", c) for c in cmds) if m}
    bal = {}
    for n, (v, issued, cents, eur) in inv.items():
        if issued[:7] != ym:
            continue
        usd = int((Decimal(cents) * rate[v]).quantize(Decimal(1), rounding=ROUND_HALF_UP)) if eur else cents
        bal[v] = bal.get(v, 0) + usd - credits.get(n, 0)
    by_payee = {p: v for v, p in on_file.items()}
    for k, b in enumerate(bodies):
        tid, payee, amt, memo = f"tr_{k+1:04d}", b["payee_id"], b["amount_cents"], b["memo"]
        pat = r"INV-\d+" if slip == "inv-regex" else r"[A-Z]+-\d+"
        named = [n for n in re.findall(pat, memo) if n in inv]
        if slip == "first-number":
            named = named[:1]
        if status[tid] != "completed" and slip != "count-cancelled":
            continue
        if slip == "vendor-level":
            if payee in by_payee:
                bal[by_payee[payee]] -= amt
            continue
        if not named:
            continue
        v = inv[named[0]][0]
        if payee != on_file[v] and slip != "count-lookalike":
            continue
        if all(inv[n][1][:7] == ym for n in named):
            bal[v] -= amt if slip != "first-number" else min(amt, inv[named[0]][2])
    return bal


def graded(d) -> list[int]:
    """The balances the task's graders hold: each transfer's amount and each approval or summary figure."""
    return sorted([p["where"]["amount_cents"] for p in d.expect if p["table"] == "transfers"]
                  + [round(p["where"]["body"]["$amount"] * 100) for p in d.expect if p["table"] == "messages"
                     and "$amount" in str(p["where"].get("body")) and "thread_id" not in p["where"]])


@pytest.mark.parametrize("seed", [0, 1])
def test_a_careful_reader_finds_every_balance_and_each_slip_fails(seed):
    o = Office(seed)
    for (mode, as_pdf, fx), d in zip(close.VARIANTS, close.tasks(o), strict=True):
        want = graded(d)
        assert sorted(solve(o, d).values()) == want, (mode, as_pdf, fx)
        for slip in SLIPS + (["no-attachments"] if as_pdf else []):
            assert sorted(solve(o, d, slip).values()) != want, (slip, mode, as_pdf, fx)
