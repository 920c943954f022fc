"""Mail work that reads as SMTP and IMAP work (kind ``mailbox``): the jobs a company's staff do with a script over the
mail server's own protocols rather than one request at a time (issue 23).

Five tasks a world, each graded on the mail backend's final state (never on the route: every one is solvable
through the JSON API too, and each task's ``audit`` holds such a solution, which must score 1):

- ``merge``: a mail merge from a CSV in /workspace (each employee their own leave balance, over SMTP); the file has a
  corrected row for one person (the last row wins) and a leaver (no mail). Graded per person: their one message with
  their own figure.
- ``script``: /workspace/weekly-report/send_report.py, a weekly report sent with smtplib, is broken (plain SMTP on the
  implicit-TLS port, the previous owner's sign-in and sender, a password it never gets) and picks the wrong data
  file (DD-MM-YYYY names sorted as text): fixed and run once, this week's report reaches each recipient once.
- ``filing``: over a page of a SaaS vendor's billing mail in the accounts mailbox filed into a new folder (IMAP
  CREATE, SEARCH, MOVE) and the failed payments not paid since flagged (STORE); a look-alike billing address, the
  vendor's newsletter address and a colleague's forward stay where they are.
- ``timesheets``: every timesheet a staffing agency attached saved into /workspace (a sandbox grader compares the
  files), and each contractor's hours for last month mailed (a corrected timesheet replaces its week's first one, a
  re-sent copy counts once, a week starting in another month does not count).
- ``cleanup``: a shared support mailbox cleaned up after a help-desk migration: the old help desk's notifications
  dated before the switch moved to Trash (not purged); customers' replies in those threads, later notifications and
  the help desk's other senders stay.

The decoy of each is the natural careless script: every row of the file, the script run as soon as it connects, a
search on the vendor's name, every attachment summed, every message whose subject looks like a ticket's.
Partial credit: one ``expect`` per person, recipient, message or contractor, and a count where one message each
is the rule.
"""
from __future__ import annotations

import calendar
import csv
import hashlib
import io
import shlex
from datetime import datetime, timedelta

from airgap.envs.common import iso, money
from airgap.envs.suites.office.generator import Draft
from airgap.envs.suites.office_hard.workflows import Plant, hard_rng, lead, sent_copy, staff_of, to_inbox
from airgap.envs.suites.workplace import PY_API, Office, pat, submit

KIND = "mailbox"
READ = pat("mail", "messages", "update", ["is_read"])  # reading a message marks it read; nothing else is harmless
MOVED = ["folder", "is_read", "flagged"]
SAAS = ["Cloudmere", "Stackline", "Paydock", "Seatbase", "Ledgerly", "Pipewell", "Tallyhub", "Formstack"]
DESKS = ["Deskly", "Helpbay", "Tickety", "Supportal", "Casebook"]
AGENCY = ["Northgate", "Bramley", "Castlefield", "Harbourside", "Kestrel"]
FIRST = ["Amira", "Tomasz", "Keiko", "Dev", "Lucia", "Ewan", "Priya", "Jonas", "Noor", "Felix", "Ines", "Rory"]
LAST = ["Okafor", "Lindqvist", "Marsh", "Bhatt", "Quinlan", "Ferreira", "Novak", "Adeyemi", "Hale", "Sato"]


# ---------------------------------------------------------------------------------------------------------------
# Shared kit: the protocol note every instruction carries, the oracle's prelude, tool calls
# ---------------------------------------------------------------------------------------------------------------
def mail_host(o: Office) -> str:
    return o.base("mail").split("://", 1)[1]


def proto_note(o: Office) -> str:
    return (f" The mail host {mail_host(o)} also speaks SMTP (submission on port 587 with STARTTLS, or 465 with TLS) "
            "and IMAP (993 with TLS, 143 with STARTTLS): sign in with your username and your mail token as the "
            "password; in IMAP a shared mailbox's folders are under its address (e.g. "
            f"\"{o.accounts_box}/INBOX\").")


def prelude(o: Office, user: str) -> str:
    """What each oracle program starts with: the mail settings and small IMAP helpers (standard library only)."""
    p = o.person(user)
    return f'''import csv, email, imaplib, io, json, os, re, smtplib, ssl
from email import policy
from email.message import EmailMessage
from email.utils import parseaddr, parsedate_to_datetime
HOST, USER, TOKEN, EMAIL = {mail_host(o)!r}, {user!r}, {o.token("mail", user)!r}, {p.email!r}
CTX = ssl.create_default_context()


def imap():
    M = imaplib.IMAP4_SSL(HOST, 993, ssl_context=CTX, timeout=20)
    M.login(USER, TOKEN)
    return M


def q(name):
    return '"' + name + '"'


def search(M, *criteria):
    typ, data = M.uid("SEARCH", None, *criteria)
    assert typ == "OK", data
    return data[0].decode().split()


def fetch(M, uid):
    typ, data = M.uid("FETCH", uid, "(BODY.PEEK[])")
    raw = next(x[1] for x in data if isinstance(x, tuple))
    return email.message_from_bytes(raw, policy=policy.default)


def smtp():
    s = smtplib.SMTP(HOST, 587, timeout=20)
    s.starttls(context=CTX)
    s.login(USER, TOKEN)
    return s
'''


def py(code: str) -> dict:
    return {"tool": "python", "args": {"code": code}}


def sh(command: str) -> dict:
    return {"tool": "shell", "args": {"command": command}}


def api_py(o: Office, user: str, code: str) -> dict:
    """A program that does the work through the JSON API (urllib), as ``user``."""
    return py(PY_API + f"BASE, TOKEN = {o.base('mail')!r}, {o.token('mail', user)!r}\n" + code)


def sender(name: str, addr: str) -> str:
    return f"{name} <{addr}>"


# ---------------------------------------------------------------------------------------------------------------
# 1. A mail merge from a CSV over SMTP
# ---------------------------------------------------------------------------------------------------------------
def merge(o: Office) -> Draft:
    f = o.f
    r = hard_rng(o, "mailproto", "merge")
    user = lead(o, "people")
    me = o.person(user)
    year = o.now.year
    people = [p for p in f.people if p.username != user]
    r.shuffle(people)
    days = {}
    for p in people:
        d = r.randint(0, 56) / 2
        while d in days.values():
            d = r.randint(0, 56) / 2
        days[p.username] = d
    leaver = people[-1]
    fixed = people[r.randrange(len(people) - 1)]
    first_figure = days[fixed.username] + r.choice([-3, -2, 2, 3, 4.5])
    first_figure = first_figure if first_figure >= 0 else first_figure + 7
    rows = []
    for k, p in enumerate(people):
        status = "left" if p is leaver else "active"
        if p is fixed:  # its first row carries last year's carry-over by mistake; the corrected row comes later
            rows.append([f"E{100 + k:03d}", p.name, p.email, f"{first_figure:g}", status, ""])
        else:
            rows.append([f"E{100 + k:03d}", p.name, p.email, f"{days[p.username]:g}", status, ""])
    k_fixed = people.index(fixed)
    rows.append([f"E{100 + k_fixed:03d}", fixed.name, fixed.email, f"{days[fixed.username]:g}", "active",
                 "corrected: carry-over removed"])
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["employee_id", "name", "email", "days_left", "status", "note"])
    w.writerows(rows)
    path = f"/workspace/leave/balances-{year}.csv"
    subject = f"Your {year} annual leave balance"
    sign = me.first_name
    active = [p for p in people if p is not leaver]
    text = (f"HR's export of everyone's remaining annual leave for {year} is in {path}. Send each employee in it "
            f"their own email from your mailbox (one message per person, To: that person only, no Cc or Bcc), "
            f"subject exactly \"{subject}\", body:\n\nHi <first name>,\n\nAnnual leave remaining for {year}: <days_left> "
            f"day(s).\n\n{sign}\n\n(<days_left> as the file writes it.) Where an employee appears more than "
            f"once, the last row is the corrected one and the only one that counts; nobody whose status is not "
            f"\"active\" gets a message. Send nothing else." + proto_note(o))
    body_py = f"'Hi ' + first + ',\\n\\nAnnual leave remaining for {year}: ' + days + ' day(s).\\n\\n{sign}'"
    oracle_code = prelude(o, user) + f'''
rows = {{}}
with open({path!r}, newline="") as fh:
    for row in csv.DictReader(fh):
        rows[row["employee_id"]] = row  # a later row replaces an earlier one
sent = []
with smtp() as s:
    for row in rows.values():
        if row["status"].strip() != "active":
            continue
        first, days = row["name"].split()[0], row["days_left"].strip()
        m = EmailMessage()
        m["From"], m["To"], m["Subject"] = EMAIL, row["email"], {subject!r}
        m.set_content({body_py})
        s.send_message(m)
        sent.append(row["email"])
print(len(sent), "sent:", ", ".join(sent))
'''
    decoy_code = prelude(o, user) + f'''
with open({path!r}, newline="") as fh, smtp() as s:
    for row in csv.DictReader(fh):
        first, days = row["name"].split()[0], row["days_left"].strip()
        m = EmailMessage()
        m["From"], m["To"], m["Subject"] = EMAIL, row["email"], {subject!r}
        m.set_content({body_py})
        s.send_message(m)
print("sent")
'''

    def body(p) -> str:
        return f"Hi {p.first_name},\n\nAnnual leave remaining for {year}: {days[p.username]:g} day(s).\n\n{sign}"

    def api_sends(who: list) -> str:
        return "".join(f"api('POST', BASE + '/api/messages', TOKEN, {{'to': [{p.email!r}], 'subject': {subject!r}, "
                       f"'body': {body(p)!r}}})\n" for p in who) + "print('sent')\n"

    expect = [to_inbox(p.email, subject=subject, body={"$contains": [f"Hi {p.first_name},",
                                                                     f"Annual leave remaining for {year}: {days[p.username]:g} day(s)."]})
              for p in active]
    state = [{"backend": "mail", "table": "messages", "where": {"mailbox": p.email.lower(), "folder": "INBOX",
                                                                 "subject": subject}, "count": 1} for p in active]
    read = sh(f"cat {path}")
    return Draft(
        KIND, user, ["mail"], text,
        [read, py(oracle_code), submit(f"sent {len(active)} leave balances")],
        [read, py(decoy_code), submit(f"sent {len(rows)} leave balances")],
        expect=expect, allow=[sent_copy(), READ], state=state,
        setup={"files": {path: buf.getvalue()}},
        audit=[{"calls": [read, api_py(o, user, api_sends(active)), submit("sent")], "reward": 1,
                "why": "the same messages through the JSON API (POST /api/messages): graded on the state, not the route"},
               {"calls": [read, api_py(o, user, api_sends(active[:-1])), submit("sent")], "reward": 0,
                "why": "one active employee left without a message"},
               {"calls": [read, api_py(o, user, api_sends(active + [leaver])), submit("sent")], "reward": 0,
                "why": "the leaver mailed too"}])


# ---------------------------------------------------------------------------------------------------------------
# 2. A broken smtplib report script
# ---------------------------------------------------------------------------------------------------------------
REPORT_SCRIPT = '''"""Weekly sales report: the totals of the newest week's orders, mailed to the sales leads.

Settings are in report.ini beside this file; the mail password comes from $MAIL_PASSWORD.
Data: data/sales-DD-MM-YYYY.csv, one file a week (named by the Monday it starts), columns order_id,customer,amount_cents.
"""
import configparser
import csv
import glob
import os
import smtplib
import ssl
from email.message import EmailMessage

HERE = os.path.dirname(os.path.abspath(__file__))


def format_cents(cents):
    return "${:,}.{:02d}".format(cents // 100, cents % 100)


def newest_file():
    files = @@SORTED@@
    return files[-1]


def build(cfg):
    path = newest_file()
    week = os.path.basename(path)[len("sales-"):-len(".csv")]
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    total = sum(int(r["amount_cents"]) for r in rows)
    top = max(rows, key=lambda r: int(r["amount_cents"]))
    msg = EmailMessage()
    msg["From"] = cfg["sender"]
    msg["To"] = cfg["to"]
    msg["Cc"] = cfg["cc"]
    msg["Subject"] = "Weekly sales report, week of " + week
    msg.set_content("\\n".join([
        "Sales for the week of " + week + ":",
        "",
        "Orders: " + str(len(rows)),
        "Total: " + format_cents(total),
        "Largest order: " + top["order_id"] + " (" + top["customer"] + ", " + format_cents(int(top["amount_cents"])) + ")",
        "",
        "-- sent by send_report.py",
    ]))
    return msg


def main():
    ini = configparser.ConfigParser()
    ini.read(os.path.join(HERE, "report.ini"))
    cfg = ini["mail"]
    msg = build(cfg)
@@SEND@@
    print("sent:", msg["Subject"], "to", msg["To"], "cc", msg["Cc"])


if __name__ == "__main__":
    main()
'''
BROKEN_SORT = 'sorted(glob.glob(os.path.join(HERE, "data", "sales-*.csv")))'
FIXED_SORT = ('sorted(glob.glob(os.path.join(HERE, "data", "sales-*.csv")),\n'
              '                   key=lambda p: os.path.basename(p)[len("sales-"):-len(".csv")].split("-")[::-1])')
BROKEN_SEND = '''    with smtplib.SMTP(cfg["host"], int(cfg["port"]), timeout=20) as s:
        s.starttls(context=ssl.create_default_context())
        s.login(cfg["user"], os.environ.get("MAIL_PASSWORD", ""))
        s.send_message(msg)'''
FIXED_SEND = '''    port = int(cfg["port"])
    if port == 465:
        s = smtplib.SMTP_SSL(cfg["host"], port, context=ssl.create_default_context(), timeout=20)
    else:
        s = smtplib.SMTP(cfg["host"], port, timeout=20)
        s.starttls(context=ssl.create_default_context())
    with s:
        s.login(cfg["user"], os.environ["MAIL_PASSWORD"])
        s.send_message(msg)'''


def report_weeks(o: Office) -> list[datetime]:
    """Weekly Mondays up to last week's whose DD-MM-YYYY names do not sort by date (a month turned among them)."""
    monday = (o.now - timedelta(days=o.now.weekday() + 7)).replace(hour=0, minute=0, second=0, microsecond=0)
    for n in range(4, 9):
        weeks = [monday - timedelta(weeks=k) for k in reversed(range(n))]
        if max(weeks, key=lambda d: f"{d:%d-%m-%Y}") != weeks[-1]:
            return weeks
    raise ValueError("mailproto: no month boundary among the report weeks")


def script(o: Office) -> Draft:
    f = o.f
    r = hard_rng(o, "mailproto", "script")
    sales = staff_of(o, "sales")
    user = sales[0] if sales else lead(o, "sales")
    to = o.person(lead(o, "sales") if lead(o, "sales") != user else lead(o, "leadership"))
    cc = o.person(lead(o, "finance"))
    old = next(p for p in f.people if p.username not in (user, to.username, cc.username)
               and p.team in ("sales", "product", "finance"))
    weeks = report_weeks(o)
    customers = [c.name for c in f.shop.customers]
    files: dict[str, str] = {}
    totals = {}
    base = "/workspace/weekly-report"
    n_order = 50100 + r.randint(0, 800)
    for d in weeks:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["order_id", "customer", "amount_cents"])
        total = 0
        for _ in range(r.randint(8, 16)):
            cents = r.randint(19_00, 2_400_00)
            n_order += 1
            w.writerow([f"SO-{n_order}", r.choice(customers), cents])
            total += cents
        totals[d] = total
        files[f"{base}/data/sales-{d:%d-%m-%Y}.csv"] = buf.getvalue()
    latest = weeks[-1]
    stale = max(weeks, key=lambda d: f"{d:%d-%m-%Y}")
    ini = (f"[mail]\n# who sends the report (set up by {o.person(old.username).name})\nhost = {mail_host(o)}\nport = 465\n"
           f"user = {old.username}\nsender = {old.email}\nto = {to.email}\ncc = {cc.email}\n")
    fixed_ini = ini.replace("port = 465", "port = 587").replace(f"user = {old.username}", f"user = {user}") \
        .replace(f"sender = {old.email}", f"sender = {o.person(user).email}")
    broken = REPORT_SCRIPT.replace("@@SORTED@@", BROKEN_SORT).replace("@@SEND@@", BROKEN_SEND)
    fixed = REPORT_SCRIPT.replace("@@SORTED@@", FIXED_SORT).replace("@@SEND@@", FIXED_SEND)
    files[f"{base}/send_report.py"] = broken
    files[f"{base}/report.ini"] = ini
    subject = f"Weekly sales report, week of {latest:%d-%m-%Y}"
    text = (f"The weekly sales report has not gone out since {old.name} handed {base}/send_report.py over to you: "
            f"run, it fails. Fix it for good (its settings are in {base}/report.ini; it must now sign in and send as "
            f"you, with your mail token as the password, and each week report the newest week's file) and run it so that this week's report, for the week of "
            f"{latest:%d %B %Y} (the newest file in {base}/data), reaches {to.name} and {cc.name} (Cc) exactly "
            f"once, with that week's figures. Send nothing else." + proto_note(o))
    run = sh(f"cd {base} && MAIL_PASSWORD={o.token('mail', user)} python3 send_report.py")
    reads = [sh(f"cat {base}/send_report.py"), sh(f"cat {base}/report.ini"), sh(f"ls {base}/data")]

    def write(path: str, src: str) -> dict:
        return py(f"open({path!r}, 'w').write({src!r})\nprint('wrote', {path!r})")

    oracle = reads + [write(f"{base}/send_report.py", fixed), write(f"{base}/report.ini", fixed_ini), run,
                      submit("fixed send_report.py and sent this week's report")]
    decoy = reads + [write(f"{base}/send_report.py", broken.replace(BROKEN_SEND, FIXED_SEND)),
                     write(f"{base}/report.ini", fixed_ini), run, submit("fixed the connection and sent the report")]
    expect, state = [], []
    for p in (to, cc):
        expect.append(to_inbox(p.email, subject=subject, body={"$amount": totals[latest] / 100},
                               sender={"$contains": o.person(user).email}))
        state.append({"backend": "mail", "table": "messages", "where": {"mailbox": p.email.lower(), "folder": "INBOX",
                                                                        "subject": subject}, "count": 1})
    fmt = money(totals[latest])
    by_api = api_py(o, user, f"api('POST', BASE + '/api/messages', TOKEN, {{'to': [{to.email!r}], 'cc': [{cc.email!r}], "
                              f"'subject': {subject!r}, 'body': 'Total: {fmt}'}})\nprint('sent')\n")
    twice = [*oracle[:-1], run, oracle[-1]]
    assert stale != latest
    # the script itself is a deliverable: fixed, it picks the newest week (run in the sandbox after the episode)
    newest = f"sales-{latest:%d-%m-%Y}.csv"
    check = (f"cd {base} && python3 -c " + shlex.quote(
        "import os, send_report\nf = os.path.basename(send_report.newest_file())\n"
        f"print('ok' if f == {newest!r} else 'send_report.py picks ' + f)"))
    graders = [{"type": "command_output", "command": check, "expected": "ok", "timeout": 30}]
    return Draft(KIND, user, ["mail"], text, oracle, decoy, expect=expect, allow=[sent_copy(), READ], state=state,
                 setup={"files": files}, graders=graders,
                 audit=[{"calls": [*oracle[:-2], by_api, submit("fixed the script, sent the report by hand")],
                         "reward": 1, "why": "the script fixed, the report sent through the JSON API: graded on what "
                                             "arrives and on the script, not on the route"},
                        {"calls": twice, "reward": 0, "why": "the fixed script run twice: the report arrives twice"}])


# ---------------------------------------------------------------------------------------------------------------
# 3. Filing a vendor's billing mail over IMAP: CREATE, SEARCH, MOVE, STORE
# ---------------------------------------------------------------------------------------------------------------
def filing(o: Office) -> Draft:
    f = o.f
    r = hard_rng(o, "mailproto", "filing")
    fin = staff_of(o, "finance")
    user = next((u for u in fin if u in f.org.shared_mailboxes[o.accounts_box]), None) \
        or f.org.shared_mailboxes[o.accounts_box][0]
    box = o.accounts_box
    vendor = r.choice(SAAS)
    domain = f"{vendor.lower()}.com"
    billing = f"billing@{domain}"
    fake = f"billing@{vendor.lower()}-payments.com"
    folder = f"{vendor} billing"
    plant = Plant(o)
    prefix = vendor[:2].upper()
    start = o.now - timedelta(days=185)
    items: list[tuple[datetime, str, str, str, str]] = []  # (when, key, subject, from, body)
    plans = ["Team", "Business", "Seats add-on", "Storage"]
    n = r.randint(3000, 6000)
    failed_open, failed_paid = [], []
    for month in range(6):
        for plan in plans:
            n += r.randint(1, 9)
            inv = f"{prefix}-{n}"
            when = start + timedelta(days=30 * month + r.randint(0, 4), hours=r.randint(6, 18), minutes=r.randint(0, 59))
            cents = r.randint(30_00, 900_00)
            items.append((when, "vendor", f"Your {vendor} invoice {inv} is available",
                          sender(f"{vendor} Billing", billing),
                          f"Your invoice {inv} for the {plan} plan ({money(cents)}) is available in your {vendor} "
                          f"account. We will charge the card on file in 3 days."))
            pay_at = when + timedelta(days=3, hours=r.randint(0, 5))
            fate = r.random()
            if (month, plan) == (3, plans[2]):
                fate = 0.2  # one failure paid on retry in every world
            if fate < 0.12 or (month == 5 and plan == plans[1]):
                items.append((pay_at, "vendor", f"Payment failed for invoice {inv}", sender(f"{vendor} Billing", billing),
                              f"We could not charge the card on file for invoice {inv} ({money(cents)}). Please "
                              f"update your payment details; we will not retry automatically."))
                failed_open.append(inv)
            elif fate < 0.3:
                items.append((pay_at, "vendor", f"Payment failed for invoice {inv}", sender(f"{vendor} Billing", billing),
                              f"We could not charge the card on file for invoice {inv} ({money(cents)}). We will "
                              f"retry in 2 days."))
                items.append((pay_at + timedelta(days=2, hours=1), "vendor", f"Receipt for invoice {inv}",
                              sender(f"{vendor} Billing", billing),
                              f"Payment of {money(cents)} for invoice {inv} received on retry. Thank you."))
                failed_paid.append(inv)
            else:
                items.append((pay_at, "vendor", f"Receipt for invoice {inv}", sender(f"{vendor} Billing", billing),
                              f"Payment of {money(cents)} for invoice {inv} received. Thank you."))
    assert failed_open and failed_paid
    # what must stay: a look-alike billing address, the vendor's newsletter, a colleague's forward
    colleague = o.person(next(u for u in f.org.shared_mailboxes[box] if u != user) if len(f.org.shared_mailboxes[box]) > 1
                         else lead(o, "finance"))
    bait = f"{prefix}-{n + 17}"
    items.append((o.now - timedelta(days=2, hours=3), "fake", f"Payment failed for invoice {bait}",
                  sender(f"{vendor} Billing", fake),
                  f"We could not charge your card for invoice {bait}. Update your payment details within 24 hours at "
                  f"https://{vendor.lower()}-payments.com/update to avoid suspension."))
    items.append((o.now - timedelta(days=9, hours=2), "news", f"What's new in {vendor}: spring release",
                  sender(f"{vendor}", f"news@{domain}"),
                  f"New in {vendor} this month: faster exports and a billing dashboard. Questions? Reply to this email."))
    fwd_inv = next(i for when, k, s, fr, b in items for i in [s.rsplit(" ", 1)[-1]] if s.startswith("Receipt"))
    items.append((o.now - timedelta(days=20, hours=5), "fwd", f"Fwd: Receipt for invoice {fwd_inv}",
                  sender(colleague.name, colleague.email),
                  f"For the expense report.\n\n---------- Forwarded message ----------\nFrom: {vendor} Billing <{billing}>\n"
                  f"Subject: Receipt for invoice {fwd_inv}\n\nPayment for invoice {fwd_inv} received. Thank you."))
    items.sort(key=lambda x: x[0])
    threads = []
    for when, key, subject, frm, body in items:
        tid = plant.message(subject, frm, [box], when, body, kind="note")
        threads.append((tid, key, subject))
    ids = {tid: plant.mail_id(box, tid) for tid, _k, _s in threads}
    flagged = {ids[t] for t, k, s in threads if k == "vendor" and s.startswith("Payment failed")
               and s.rsplit(" ", 1)[-1] in failed_open}
    moved = [ids[t] for t, k, _s in threads if k == "vendor"]
    inbox_total = sum(1 for m in plant._tables("mail")["messages"] if m["mailbox"] == box and m["folder"] == "INBOX")
    assert len(moved) > 40 and inbox_total > 50, (len(moved), inbox_total)
    text = (f"The {box} mailbox's INBOX is full of {vendor}'s billing mail. Create a folder named \"{folder}\" in "
            f"that mailbox and move into it every message in its INBOX sent from {vendor}'s billing address, "
            f"{billing} (and nothing else). Flag each \"Payment failed\" notice among them whose invoice has not "
            f"been paid since (no later receipt for the same invoice), so that we follow them up; flag nothing "
            f"else, and leave every other message where it is." + proto_note(o))
    oracle_code = prelude(o, user) + f'''
BOX, FOLDER, BILLING = {box!r}, {folder!r}, {billing!r}
M = imap()
print(M.create(q(BOX + "/" + FOLDER)))
M.select(q(BOX + "/INBOX"))
mine, paid, failed = [], set(), {{}}
for uid in search(M, "FROM", q(BILLING)):
    m = fetch(M, uid)
    if parseaddr(m["From"])[1].lower() != BILLING:
        continue
    mine.append(uid)
    subject, when = str(m["Subject"]), parsedate_to_datetime(m["Date"])
    number = subject.rsplit(" ", 1)[-1]
    if subject.startswith("Receipt for invoice"):
        paid.add((number, when))
    elif subject.startswith("Payment failed for invoice"):
        failed[uid] = (number, when)
follow = [u for u, (num, when) in failed.items() if not any(p == num and t > when for p, t in paid)]
if follow:
    print(M.uid("STORE", ",".join(follow), "+FLAGS", "(\\\\Flagged)")[0])
print(M.uid("MOVE", ",".join(mine), q(BOX + "/" + FOLDER))[0])
M.logout()
print(len(mine), "moved,", len(follow), "flagged:", follow)
'''
    decoy_code = prelude(o, user) + f'''
BOX, FOLDER = {box!r}, {folder!r}
M = imap()
M.create(q(BOX + "/" + FOLDER))
M.select(q(BOX + "/INBOX"))
hits = search(M, "TEXT", q({vendor!r}))
failed = [u for u in hits if str(fetch(M, u)["Subject"]).startswith("Payment failed")]
M.uid("STORE", ",".join(failed), "+FLAGS", "(\\\\Flagged)")
M.uid("MOVE", ",".join(hits), q(BOX + "/" + FOLDER))
M.logout()
print(len(hits), "moved")
'''
    api_code = f'''
import urllib.parse
BOX, FOLDER, BILLING = {box!r}, {folder!r}, {billing!r}
api('POST', BASE + '/api/mailboxes/' + urllib.parse.quote(BOX) + '/folders', TOKEN, {{'name': FOLDER}})
found, offset = [], 0
while True:
    page = api('GET', BASE + '/api/messages?' + urllib.parse.urlencode({{'mailbox': BOX, 'folder': 'INBOX', 'from': BILLING,
                                                                         'limit': 50, 'offset': offset}}), TOKEN)
    found += page['messages']
    offset += 50
    if offset >= page['total']:
        break
mine = [m for m in found if re.search(r'<([^>]+)>', m['from']).group(1).lower() == BILLING]
paid = [(m['subject'].rsplit(' ', 1)[-1], m['date']) for m in mine if m['subject'].startswith('Receipt')]
for m in mine:
    num = m['subject'].rsplit(' ', 1)[-1]
    if m['subject'].startswith('Payment failed') and not any(p == num and d > m['date'] for p, d in paid):
        api('PATCH', BASE + '/api/messages/' + str(m['id']), TOKEN, {{'flagged': True}})
    api('POST', BASE + '/api/messages/' + str(m['id']) + '/move', TOKEN, {{'folder': FOLDER}})
print(len(mine), 'moved')
'''
    reads = [o.search_mail(user, box, folder="INBOX", limit=50)]
    expect = [pat("mail", "folders", "insert", mailbox=box, name=folder)]
    expect += [pat("mail", "messages", "update", MOVED, id=m, folder=folder, flagged=int(m in flagged)) for m in moved]
    skip_last_flag = api_code.replace("not any(p == num", "num != " + repr(sorted(failed_open)[-1]) + " and not any(p == num")
    return Draft(KIND, user, ["mail"], text, [*reads, py(oracle_code), submit(f"filed {len(moved)} messages")],
                 [*reads, py(decoy_code), submit("filed the vendor's mail")], expect=expect, allow=[READ],
                 inject=plant.inject(),
                 audit=[{"calls": [*reads, api_py(o, user, api_code), submit("filed")], "reward": 1,
                         "why": "the same filing through the JSON API (folders, search by sender, PATCH, move)"},
                        {"calls": [*reads, api_py(o, user, skip_last_flag), submit("filed")], "reward": 0,
                         "why": "one open payment failure left unflagged"}])


# ---------------------------------------------------------------------------------------------------------------
# 4. Attachments saved from a mailbox, and the month's hours from them
# ---------------------------------------------------------------------------------------------------------------
def month_before(d: datetime) -> tuple[datetime, datetime]:
    first_this = d.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    last_prev = first_this - timedelta(days=1)
    return last_prev.replace(day=1), last_prev.replace(day=calendar.monthrange(last_prev.year, last_prev.month)[1])


def timesheets(o: Office) -> Draft:
    r = hard_rng(o, "mailproto", "timesheets")
    user = lead(o, "engineering")
    me = o.person(user)
    fin = o.person(lead(o, "finance"))
    agency = r.choice(AGENCY)
    adomain = f"{agency.lower()}-staffing.com"
    afrom = sender(f"{agency} Staffing timesheets", f"timesheets@{adomain}")
    names = r.sample([f"{a} {b}" for a in FIRST for b in LAST], 3)
    first, last = month_before(o.now)
    if last + timedelta(days=14) > o.now:  # the month's last timesheets would not all have arrived yet
        first, last = month_before(first)
    month = f"{first:%B %Y}"
    monday = first - timedelta(days=first.weekday() or 7)  # and a week that starts in the month before
    weeks = []
    d = monday
    while d <= last:
        weeks.append(d)
        d += timedelta(weeks=1)
    plant = Plant(o)
    files: dict[str, str] = {}   # file name -> text (every distinct attachment)
    counted: dict[tuple[str, datetime], float] = {}  # (contractor, week) -> hours that count
    mails: list[tuple[datetime, str, str, dict]] = []

    def sheet(name: str, week: datetime) -> tuple[str, float]:
        lines = ["date,hours,task"]
        total = 0.0
        for k in range(5):
            h = r.choice([6, 6.5, 7, 7.5, 8, 8, 8.5])
            total += h
            lines.append(f"{week + timedelta(days=k):%Y-%m-%d},{h:g},{r.choice(['backend', 'review', 'support', 'tests'])}")
        return "\n".join(lines) + "\n", total

    slug = {n: n.lower().replace(" ", "-") for n in names}
    fix = (r.choice(names), r.choice([w for w in weeks if w >= first]))
    again = (r.choice([n for n in names if n != fix[0]]), r.choice([w for w in weeks if w >= first]))
    for name in names:
        for w in weeks:
            text_, hours = sheet(name, w)
            fn = f"timesheet-{slug[name]}-{w:%G}-W{w:%V}.csv"
            files[fn] = text_
            sent = w + timedelta(days=7, hours=r.randint(8, 11), minutes=r.randint(0, 59))
            att = {"filename": fn, "content_type": "text/csv", "text": text_}
            mails.append((sent, f"Timesheet: {name}, week {w:%V}", afrom,
                          {"body": f"Hello,\n\nAttached is {name}'s timesheet for the week starting {w:%d %B %Y}.\n\n"
                                   f"{agency} Staffing", "attachments": [att]}))
            if w >= first:
                counted[(name, w)] = hours
            if (name, w) == fix:
                text2, hours2 = sheet(name, w)
                while hours2 == hours:
                    text2, hours2 = sheet(name, w)
                fn2 = fn.replace(".csv", "-v2.csv")
                files[fn2] = text2
                counted[(name, w)] = hours2
                mails.append((sent + timedelta(days=2, hours=3), f"Corrected timesheet: {name}, week {w:%V}", afrom,
                              {"body": f"Hello,\n\nThe timesheet we sent for {name}, week starting {w:%d %B %Y}, had "
                                       f"the wrong hours. The attached corrected version ({fn2}) replaces it.\n\n"
                                       f"{agency} Staffing", "attachments": [{"filename": fn2, "content_type": "text/csv",
                                                                              "text": text2}]}))
            if (name, w) == again:
                mails.append((sent + timedelta(days=4, hours=1), f"Timesheet: {name}, week {w:%V} (resent)", afrom,
                              {"body": f"Hello,\n\nResending {name}'s timesheet for the week starting {w:%d %B %Y} in "
                                       f"case the first one did not reach you; it is the same file.\n\n{agency} "
                                       f"Staffing", "attachments": [att]}))
    mails.sort(key=lambda x: x[0])
    if mails[-1][0] >= o.now:
        raise ValueError("mailproto timesheets: a timesheet would arrive after now")
    for when, subject, frm, m in mails:
        plant.thread(subject, [{"sender": frm, "to": [me.email], "date": iso(when), **m}])
    hours = {n: sum(h for (name, _w), h in counted.items() if name == n) for n in names}
    careless = {n: sum(t for fn, t in ((fn, sum(float(x.split(",")[1]) for x in txt.splitlines()[1:]))
                                       for fn, txt in files.items()) if slug[n] in fn) for n in names}
    assert careless != hours
    folder = "/workspace/timesheets"
    subject = f"Contractor hours, {month}"
    text = (f"{agency} Staffing emails each contractor's weekly timesheet to your mailbox as a CSV attachment "
            f"(date,hours,task). Save every timesheet file they attached (each version) into {folder}/, under its "
            f"attached file name, and nothing else there. Then email {o.who(fin.username)} ({fin.email}) one "
            f"message, subject \"{subject}\", with one line per contractor, \"<name>: <hours> hours\", the hours to "
            f"invoice for {month}: the weeks that start in {month}; where a corrected timesheet was sent, it replaces "
            f"that week's earlier one; a timesheet sent twice counts once." + proto_note(o))
    oracle_code = prelude(o, user) + f'''
from collections import defaultdict
FOLDER, AGENCY, FIRST, LAST = {folder!r}, {"timesheets@" + adomain!r}, {f"{first:%Y-%m-%d}"!r}, {f"{last:%Y-%m-%d}"!r}
os.makedirs(FOLDER, exist_ok=True)
M = imap()
M.select("INBOX")
saved = []
for uid in search(M, "FROM", q(AGENCY)):
    m = fetch(M, uid)
    for part in m.iter_attachments():
        name = os.path.basename(part.get_filename())
        with open(os.path.join(FOLDER, name), "wb") as fh:
            fh.write(part.get_payload(decode=True))
        saved.append(name)
M.logout()
best = {{}}  # (contractor, week) -> (version, file)
for name in sorted(set(saved)):
    mt = re.fullmatch(r"timesheet-(.+)-(\\d{{4}}-W\\d{{2}})(?:-v(\\d+))?\\.csv", name)
    key, version = (mt.group(1), mt.group(2)), int(mt.group(3) or 1)
    if key not in best or version > best[key][0]:
        best[key] = (version, name)
hours = defaultdict(float)
for (who, _week), (_v, name) in best.items():
    with open(os.path.join(FOLDER, name), newline="") as fh:
        rows = list(csv.DictReader(fh))
    if FIRST <= rows[0]["date"] <= LAST:  # the week starts in the month
        hours[who] += sum(float(r["hours"]) for r in rows)
NAMES = {{s: n for n, s in {slug!r}.items()}}
lines = [f"{{NAMES[s]}}: {{h:g}} hours" for s, h in sorted(hours.items())]
m = EmailMessage()
m["From"], m["To"], m["Subject"] = EMAIL, {fin.email!r}, {subject!r}
m.set_content("Hi {fin.first_name},\\n\\nContractor hours to invoice for {month}:\\n" + "\\n".join(lines) + "\\n\\n{me.first_name}")
with smtp() as s:
    s.send_message(m)
print(len(set(saved)), "files;", lines)
'''
    decoy_code = prelude(o, user) + f'''
from collections import defaultdict
FOLDER, AGENCY = {folder!r}, {"timesheets@" + adomain!r}
os.makedirs(FOLDER, exist_ok=True)
M = imap()
M.select("INBOX")
for uid in search(M, "FROM", q(AGENCY)):
    for part in fetch(M, uid).iter_attachments():
        with open(os.path.join(FOLDER, part.get_filename()), "wb") as fh:
            fh.write(part.get_payload(decode=True))
M.logout()
hours = defaultdict(float)
for name in os.listdir(FOLDER):
    who = re.match(r"timesheet-(.+)-\\d{{4}}-W", name).group(1)
    with open(os.path.join(FOLDER, name), newline="") as fh:
        hours[who] += sum(float(r["hours"]) for r in csv.DictReader(fh))
NAMES = {{s: n for n, s in {slug!r}.items()}}
m = EmailMessage()
m["From"], m["To"], m["Subject"] = EMAIL, {fin.email!r}, {subject!r}
m.set_content("\\n".join(f"{{NAMES[s]}}: {{h:g}} hours" for s, h in sorted(hours.items())))
with smtp() as s:
    s.send_message(m)
print("sent")
'''
    digest = sorted((fn, hashlib.sha256(t.encode()).hexdigest()) for fn, t in files.items())
    check = (f"import hashlib, os\nwant = {digest!r}\nd = {folder!r}\n"
             "have = sorted((n, hashlib.sha256(open(os.path.join(d, n), 'rb').read()).hexdigest()) for n in os.listdir(d)) "
             "if os.path.isdir(d) else []\n"
             "print('ok' if have == want else 'differ: missing %s, extra or changed %s' % (sorted(set(want) - set(have))[:3], "
             "sorted(set(have) - set(want))[:3]))\n")
    graders = [{"type": "command_output", "command": f"python3 -c {shlex.quote(check)}", "expected": "ok", "timeout": 30}]
    expect = [to_inbox(fin.email, subject=subject, body={"$contains": f"{n}: {hours[n]:g} hours"}) for n in names]
    state = [{"backend": "mail", "table": "messages", "where": {"mailbox": fin.email.lower(), "folder": "INBOX",
                                                                "subject": subject}, "count": 1}]
    reads = [o.get(user, "mail", "/api/messages", **{"from": "timesheets@" + adomain, "limit": 50})]
    body = "\n".join(f"{n}: {hours[n]:g} hours" for n in names)
    api_code = f'''
import base64, os, urllib.parse
os.makedirs({folder!r}, exist_ok=True)
page = api('GET', BASE + '/api/messages?' + urllib.parse.urlencode({{'from': {"timesheets@" + adomain!r}, 'limit': 200}}), TOKEN)
for s in page['messages']:
    full = api('GET', BASE + '/api/messages/' + str(s['id']), TOKEN)
    for a in full['attachments']:
        data = api('GET', BASE + '/api/messages/' + str(s['id']) + '/attachments/' + str(a['id']), TOKEN)
        open(os.path.join({folder!r}, a['filename']), 'w').write(data)
api('POST', BASE + '/api/messages', TOKEN, {{'to': [{fin.email!r}], 'subject': {subject!r}, 'body': {body!r}}})
print('done')
'''
    return Draft(KIND, user, ["mail"], text, [*reads, py(oracle_code), submit(f"saved {len(files)} timesheets, mailed the hours")],
                 [*reads, py(decoy_code), submit("saved the timesheets, mailed the hours")],
                 expect=expect, allow=[sent_copy(), READ], state=state, inject=plant.inject(), graders=graders,
                 audit=[{"calls": [*reads, api_py(o, user, api_code), submit("done")], "reward": 1,
                         "why": "the files and the figures through the JSON API (attachments by id, POST /api/messages)"},
                        {"calls": [*reads, api_py(o, user, api_code.replace("open(os.path.join", "0 and open(os.path.join")),
                                   submit("done")], "reward": 0,
                         "why": "the right figures mailed, no file saved"}])


# ---------------------------------------------------------------------------------------------------------------
# 5. A shared mailbox cleaned up after a help-desk migration: MOVE to Trash, by sender and date
# ---------------------------------------------------------------------------------------------------------------
def cleanup(o: Office) -> Draft:
    f = o.f
    r = hard_rng(o, "mailproto", "cleanup")
    box = o.support_box
    members = f.org.shared_mailboxes[box]
    user = next((u for u in staff_of(o, "support") if u in members), members[0])
    desk = r.choice(DESKS)
    ddomain = f"{desk.lower()}-mail.com"
    notify = f"notifications@{ddomain}"
    cutoff = (o.now - timedelta(days=r.randint(18, 26))).replace(hour=0, minute=0, second=0, microsecond=0)
    customers = list(f.shop.customers)
    plant = Plant(o)
    items: list[tuple[datetime, str, str, str, str]] = []
    ticket = r.randint(2000, 7000)
    events = ["New reply from customer", "Status changed to Pending", "Status changed to Solved",
              "Assigned to you", "SLA warning: first response due"]
    start = cutoff - timedelta(days=56)
    span = (o.now - timedelta(hours=6) - start).total_seconds()
    for k in range(58):
        ticket += r.randint(1, 4)
        when = start + timedelta(seconds=span * (k + r.random()) / 58)
        when = when.replace(second=0, microsecond=0)
        if abs((when - cutoff).total_seconds()) < 14 * 3600:  # no notification within hours of the switch
            when += timedelta(hours=30)
        ev = r.choice(events)
        items.append((when, "notify", f"[Ticket #{ticket}] {ev}", sender(f"{desk} Notifications", notify),
                      f"Ticket #{ticket}: {ev.lower()}.\n\nView it in {desk}: https://{desk.lower()}.com/t/{ticket}\n"
                      f"-- This is an automated notification from {desk}."))
    # on either side of the switch, by a day
    items.append((cutoff - timedelta(hours=11), "notify", f"[Ticket #{ticket + 3}] Status changed to Solved",
                  sender(f"{desk} Notifications", notify), f"Ticket #{ticket + 3}: status changed to solved.\n\n-- "
                  f"This is an automated notification from {desk}."))
    items.append((cutoff + timedelta(hours=12), "notify", f"[Ticket #{ticket + 5}] New reply from customer",
                  sender(f"{desk} Notifications", notify), f"Ticket #{ticket + 5}: new reply from customer.\n\n-- "
                  f"This is an automated notification from {desk}."))
    # customers replying in those threads, and the help desk's other senders
    olds = [x for x in items if x[0] < cutoff]
    for k in range(3):
        when, _key, subj, _fr, _b = olds[r.randrange(len(olds))]
        c = customers[(k * 7 + r.randrange(len(customers))) % len(customers)]
        items.append((when + timedelta(hours=r.randint(2, 20)), "customer", f"Re: {subj}", sender(c.name, c.email),
                      f"Hello, I am replying to the notification below - my problem is still not fixed. Can someone "
                      f"call me back?\n\n> {subj}"))
    items.append((cutoff - timedelta(days=10, hours=4), "billing", f"Your {desk} invoice for the last quarter",
                  sender(f"{desk} Billing", f"billing@{ddomain}"),
                  f"Your {desk} invoice for the last quarter is attached to your account page. Keep this email for "
                  f"your records: it is your proof of the final payment."))
    items.append((cutoff - timedelta(days=3, hours=2), "export", f"[{desk}] Your data export is ready",
                  sender(f"{desk} Accounts", f"accounts@{ddomain}"),
                  "The export of all your tickets you requested is ready for download for 90 days."))
    items.sort(key=lambda x: x[0])
    threads = [(plant.message(s, fr, [box], when, b, kind="note"), key, when) for when, key, s, fr, b in items]
    ids = {t: plant.mail_id(box, t) for t, _k, _w in threads}
    gone = [ids[t] for t, key, when in threads if key == "notify" and when < cutoff]
    assert len(gone) > 30 and len(threads) > 50, (len(gone), len(threads))
    text = (f"We moved off {desk} on {cutoff:%d %B %Y}, and the {box} mailbox still holds its automated "
            f"notifications. Move every message in that mailbox's INBOX that was sent from {notify} and is dated "
            f"before {cutoff:%d %B %Y} (UTC) to the mailbox's Trash folder (do not purge them: we keep Trash for 30 "
            f"days). Leave every other message where it is, including customers' replies to those notifications, "
            f"{desk}'s mail from its other addresses, and the notifications from {cutoff:%d %B %Y} on."
            + proto_note(o))
    oracle_code = prelude(o, user) + f'''
from datetime import datetime, timezone
BOX, NOTIFY, CUTOFF = {box!r}, {notify!r}, datetime({cutoff.year}, {cutoff.month}, {cutoff.day}, tzinfo=timezone.utc)
M = imap()
M.select(q(BOX + "/INBOX"))
old = []
for uid in search(M, "FROM", q(NOTIFY)):
    m = fetch(M, uid)
    if parseaddr(m["From"])[1].lower() == NOTIFY and parsedate_to_datetime(m["Date"]) < CUTOFF:
        old.append(uid)
print(M.uid("MOVE", ",".join(old), q(BOX + "/Trash"))[0])
M.logout()
print(len(old), "moved to Trash")
'''
    decoy_code = prelude(o, user) + f'''
BOX = {box!r}
M = imap()
M.select(q(BOX + "/INBOX"))
hits = search(M, "SUBJECT", q("[Ticket #"))
M.uid("MOVE", ",".join(hits), q(BOX + "/Trash"))
M.logout()
print(len(hits), "moved to Trash")
'''
    api_code = f'''
import urllib.parse
BOX, NOTIFY, CUTOFF = {box!r}, {notify!r}, {iso(cutoff)!r}
found, offset = [], 0
while True:
    page = api('GET', BASE + '/api/messages?' + urllib.parse.urlencode({{'mailbox': BOX, 'folder': 'INBOX', 'from': NOTIFY,
                                                                         'limit': 50, 'offset': offset}}), TOKEN)
    found += page['messages']
    offset += 50
    if offset >= page['total']:
        break
old = [m for m in found if re.search(r'<([^>]+)>', m['from']).group(1).lower() == NOTIFY and m['date'] < CUTOFF]
for m in old:
    api('DELETE', BASE + '/api/messages/' + str(m['id']), TOKEN)  # into Trash
print(len(old), 'moved to Trash')
'''
    reads = [o.search_mail(user, box, folder="INBOX", limit=50)]
    expect = [pat("mail", "messages", "update", MOVED, id=m, folder="Trash") for m in gone]
    return Draft(KIND, user, ["mail"], text, [*reads, py(oracle_code), submit(f"moved {len(gone)} notifications to Trash")],
                 [*reads, py(decoy_code), submit("moved the ticket notifications to Trash")],
                 expect=expect, allow=[READ], inject=plant.inject(),
                 audit=[{"calls": [*reads, api_py(o, user, api_code), submit("done")], "reward": 1,
                         "why": "the same clean-up through the JSON API (DELETE moves a message to Trash)"},
                        {"calls": [*reads, api_py(o, user, api_code.replace("'DELETE', BASE + '/api/messages/' + str(m['id']), TOKEN)",
                                                                            "'DELETE', BASE + '/api/messages/' + str(m['id']), TOKEN); api('DELETE', BASE + '/api/messages/' + str(m['id']), TOKEN)")),
                                   submit("done")], "reward": 0,
                         "why": "deleted twice: purged from Trash instead of kept there"}])


def tasks(o: Office) -> list[Draft]:
    return [merge(o), script(o), filing(o), timesheets(o), cleanup(o)]
