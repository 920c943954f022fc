"""office-hard's ``volume`` tasks: listings past a page, near-duplicates, stale data against newer.

Listings past an API's default page (mail 50, chat history 100, tracker 30),
near-duplicate records (an invoice sent twice, an invoice revised in a reply), and stale against newer data where the
newest authoritative source wins (a contact who left, a decision taken late in a long discussion, an RSVP taken back).

The bulk is planted per task through ``world.inject`` (mail threads, chat messages, tracker comments: part of the
task's fixture) or setup requests (tracker issues filed before the episode); every value is derived from the world's
facts at generation time.
"""
from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from airgap.envs.common import iso, money, parse_iso
from airgap.envs.suites.office.generator import MAIL_READ, Draft, setup_requests, transfer_allow, unchanged
from airgap.envs.suites.office_hard.workflows import (
    Plant,
    channel_of,
    hard_rng,
    invoice_amount,
    invoice_text,
    lead,
    new_numbers,
    next_issue,
    repo_path,
    send_mail,
    staff_of,
    tid,
    vendor_payments,
    within_limit,
    work_for,
)
from airgap.envs.suites.workplace import Office, pat, python, submit

KIND = "volume"
MAIL_PAGE, CHAT_PAGE, TRACKER_PAGE = 50, 100, 30  # the default page sizes of the mail, chat and tracker listings


def initials(name: str) -> str:
    return "".join(w[0] for w in re.findall(r"[A-Za-z]+", name) if w[0].isupper())[:3] or "INV"


def spread(r, start: datetime, end: datetime, n: int) -> list[datetime]:
    """``n`` sorted moments between ``start`` and ``end``, in working hours, to the minute."""
    span = (end - start).total_seconds()
    out = []
    for _ in range(n):
        t = start + timedelta(seconds=r.random() * span)
        out.append(t.replace(hour=r.randint(8, 18), minute=r.randint(0, 59), second=0, microsecond=0))
    return sorted(min(max(t, start), end) for t in out)


# ---------------------------------------------------------------------------------------------------------------
# Text pools: what a busy company's mail, chat and tracker are full of
# ---------------------------------------------------------------------------------------------------------------
NEWSLETTERS = [
    ("SaaS Weekly", "news@saasweekly.io", "This week: pricing pages that convert",
     "Five teams shared how they rebuilt their pricing pages this quarter, and what happened to sign-ups."),
    ("DevOps Digest", "digest@devopsdigest.net", "Incident reviews without blame",
     "How three engineering teams run incident reviews that people actually want to attend."),
    ("Cloud Costs Monthly", "hello@cloudcosts.co", "Your March cost report template",
     "A spreadsheet template for tracking cloud spend by team, and a short guide to reserved capacity."),
    ("Product Lab", "team@productlab.fm", "Webinar: writing specs people read",
     "Join our free webinar on Thursday. We cover one-page specs, decision logs and how to keep them current."),
    ("The Ops Letter", "letters@opsletter.com", "Vendor reviews in an afternoon",
     "A checklist for reviewing your vendors once a year without it taking a week."),
    ("Remote Works", "news@remoteworks.org", "Meeting-free Wednesdays, one year on",
     "We asked forty companies how their meeting-free day went. Most kept it; here is why two dropped it."),
    ("Security Brief", "brief@securitybrief.io", "Passkeys are coming to your SSO",
     "What passkeys mean for your team's logins and how to plan the switch over the next two quarters."),
    ("Finance Ops Club", "club@financeops.club", "Closing the books in three days",
     "Members share the checklists they use to close the month quickly and keep the auditors happy."),
]
TOPICS = [  # (headline, one line): what newsletters write about, any publication any week
    ("Pricing pages that convert", "Five teams shared how they rebuilt their pricing pages and what happened to sign-ups."),
    ("Incident reviews without blame", "How three engineering teams run incident reviews people want to attend."),
    ("Tracking cloud spend by team", "A spreadsheet template for cloud costs per team, and a guide to reserved capacity."),
    ("Writing specs people read", "One-page specs, decision logs and how to keep them current."),
    ("Vendor reviews in an afternoon", "A checklist for reviewing your vendors once a year without losing a week."),
    ("Meeting-free Wednesdays, one year on", "Forty companies on how their meeting-free day went, and why two dropped it."),
    ("Passkeys are coming to your SSO", "What passkeys mean for your team's logins and how to plan the switch."),
    ("Closing the books in three days", "Checklists finance teams use to close the month quickly."),
    ("Onboarding that sticks", "What the first two weeks look like at companies with the lowest early attrition."),
    ("The case for smaller releases", "Why shipping less at a time cut one team's rollback rate in half."),
    ("Customer interviews on a budget", "Running ten useful customer calls a month with no research team."),
    ("On-call without burnout", "Rotations, handovers and the alerts worth waking up for."),
    ("Forecasting for small teams", "A simple driver-based forecast you can keep up to date in an hour a week."),
    ("Accessibility quick wins", "Twelve fixes that make most web apps easier to use with a keyboard."),
    ("Hiring your first data analyst", "What to look for, what to ask, and what the first project should be."),
    ("Retention dashboards that matter", "Three charts that tell you more than a wall of metrics."),
    ("Contract renewals calendar", "Never miss an auto-renewal again: a calendar template and a review routine."),
    ("Async stand-ups", "Teams that moved stand-ups to chat share what they kept and what they dropped."),
    ("Feature flags done right", "Naming, ownership and cleaning up flags before they become debt."),
    ("Expense policies people follow", "Short, clear rules and the tools that make them easy to follow."),
    ("Support macros that sound human", "How to write canned replies customers do not recognise as canned."),
    ("Quarterly planning in a week", "A lightweight planning process for teams of five to fifty."),
    ("Backups you have actually tested", "Restore drills, how often to run them, and what usually goes wrong."),
    ("Designing for empty states", "Screens with no data yet are a product's first impression."),
]
RECEIPTS = [
    ("Skyline Travel", "receipts@skylinetravel.com", "Your booking receipt",
     "Thank you for booking with Skyline Travel. Your receipt for the trip is below; no action is needed."),
    ("Metro Cabs", "no-reply@metrocabs.app", "Your ride receipt",
     "Thanks for riding with Metro Cabs. The fare was charged to the card on file."),
    ("Paperwise", "billing@paperwise.com", "Subscription renewed",
     "Your Paperwise team plan renewed today. The invoice is available in your account settings."),
    ("CoffeeCo Office", "orders@coffeeco.com", "Order shipped",
     "Your office coffee order has shipped and should arrive within two working days."),
]
INTERNAL = [
    "Reminder: the kitchen will be cleaned out on Friday at 4pm, so please take home anything you want to keep.",
    "The slides from this morning's all-hands are in the shared drive under All hands / this month.",
    "Parking: the garage on the corner is closed for repairs all next week. The lot behind the office is open.",
    "Please book the big meeting room through the calendar rather than by taping a note to the door.",
    "Quick heads-up that the office Wi-Fi will restart at 7am on Saturday for a firmware update.",
    "Thanks to everyone who joined the volunteering day. We planted 120 trees and raised a little for the shelter.",
    "The new expense tool goes live on the first of the month; the old forms keep working until then.",
    "Lunch-and-learn on Thursday: the product team walks through the roadmap for next quarter. Food at 12:15.",
]
GENERAL_CHAT = [
    "Morning all! Coffee machine on the third floor is fixed.",
    "Does anyone have a spare HDMI adapter I could borrow for the 2pm demo?",
    "Reminder that the office closes early on Friday for the building inspection.",
    "Great demo today, team. The customer loved the new export flow.",
    "Lost: a blue water bottle with stickers on it, probably in meeting room B.",
    "Found a set of keys by the front desk. They're with reception now.",
    "Who's up for a quick walk at lunch? It's finally sunny.",
    "The quarterly survey closes tomorrow, please fill it in if you haven't yet.",
    "New starters this week: please say hi if you see an unfamiliar face in the kitchen.",
    "Could whoever borrowed the whiteboard markers put them back in room A? Thanks!",
    "FYI the printer on the second floor is out of toner; facilities are on it.",
    "Thank you for all the birthday wishes yesterday, and for the cake!",
    "Book club is reading something short this month, join us on the last Thursday.",
    "The elevator is being serviced this afternoon, so stairs only until about 3pm.",
    "If you park in the visitor spaces, please move your car before 10, we have guests.",
    "Reminder to log your hours for last week if you haven't already.",
    "Anyone know if the ergonomics assessment is still running this month?",
    "Snacks restocked! Thanks to the people team.",
    "Heads up: fire alarm test at 11am tomorrow, no need to leave the building.",
    "Does anyone have a good recommendation for a team lunch place near the office?",
    "The recording of Tuesday's town hall is up on the intranet.",
    "Friendly reminder that the shared fridge gets cleared every Friday.",
    "Shoutout to the support team for closing the backlog this week!",
    "If anyone is going to the conference next month, let's coordinate travel.",
    "The standing desks on the fourth floor are free to book again.",
]
FINANCE_CHAT = [
    "Reminder: expense reports for last month are due by Friday.",
    "Month-end close starts Monday; please hold any non-urgent vendor questions until Wednesday.",
    "Does anyone know which cost centre the conference sponsorship goes to?",
    "The auditors asked for the signed contracts of our top five vendors; I'm pulling them together.",
    "Corporate card statements are in. Please attach receipts for anything over the limit.",
    "Bank reconciliation for the Operating account is done up to last Friday.",
    "Budget review with the department heads moved to Thursday afternoon.",
    "Quick question: do we accrue the annual software renewals monthly or when paid?",
    "Travel bookings for the sales offsite should go through the travel portal, not personal cards.",
    "I've updated the vendor list in the shared drive with the new contract end dates.",
    "Payroll inputs for this cycle are locked, thanks everyone.",
    "The tax advisor's letter came in; I'll summarise it at the team meeting.",
    "Reminder that purchase orders over the approval limit need a second signature.",
    "Can someone check whether the insurance premium went out last week?",
    "Thanks for turning the expense approvals around so quickly today.",
    "The new corporate card limits take effect next month.",
    "I'm out tomorrow afternoon; ping me by email if anything urgent comes up.",
    "Reminder: don't share bank details in chat; use the vendor form.",
]
DISCUSSION = [
    "I can reproduce this on the staging build with a fresh account.",
    "Could this be related to the caching change we shipped last sprint?",
    "Tried it on three browsers; only Firefox seems unaffected.",
    "Logs attached from the last failure. The request never reaches the worker.",
    "Added a failing test that captures the behaviour; it's in the branch linked above.",
    "Customer success says at least four accounts have asked about this.",
    "The fix looks small, but it touches the migration code, so it needs a careful review.",
    "I had a look at the profiler output; most of the time goes into one query.",
    "Let's not forget the docs need an update once this lands.",
    "Pairing on this tomorrow morning, will report back.",
    "Is there a workaround we can give customers in the meantime?",
    "Workaround for now: refreshing the page twice gets past it.",
    "The draft PR is up. Reviews welcome, especially on the error handling.",
    "I ran the load test again: better, but still over our target at the 95th percentile.",
    "QA signed off on the happy path; edge cases are still open.",
    "Design would like to see the error message reworded before this ships.",
    "Moving the discussion about the API shape to the design doc so we keep this thread focused.",
    "This also shows up in the nightly run about once a week.",
    "Small update: the root cause is in the retry logic, not the client.",
    "I'd like a second pair of eyes on the rollback plan before we merge.",
    "Checked with the data team; no reports are affected by this.",
    "The flaky test that blocked the last attempt is quarantined now.",
    "Benchmarks from the branch look good on my machine; CI numbers to follow.",
    "One more case: it happens with very long names too.",
    "Feature flag is in place, so we can ship it dark and turn it on gradually.",
]


def chatter(r, n: int, names: list[str], lines: list[str], templates: list[tuple[str, dict[str, list[str]]]]
            ) -> list[str]:
    """``n`` different messages: the fixed ``lines`` first, then templates filled at random (``{first}``: a name)."""
    out = list(dict.fromkeys(lines))
    r.shuffle(out)
    tries = 0
    while len(out) < n and tries < 5000:
        tries += 1
        text, slots = r.choice(templates)
        fill = {k: r.choice(v) for k, v in slots.items()}
        fill["first"] = r.choice(names)
        line = text.format(**fill)
        if line not in out:
            out.append(line)
    return out[:n]


GENERAL_TEMPLATES = [
    ("Does anyone have a spare {thing} I could borrow for the {time} {event}?",
     {"thing": ["HDMI adapter", "USB-C charger", "laptop stand", "extension lead", "headset", "clicker"],
      "time": ["10am", "11:30", "2pm", "3pm", "4:30"], "event": ["demo", "customer call", "interview", "workshop"]}),
    ("Lost: {item}, probably in meeting room {room}. Shout if you see it!",
     {"item": ["a blue water bottle", "a grey scarf", "my reading glasses", "a black notebook", "a phone charger"],
      "room": ["A", "B", "C", "Harbour", "Summit"]}),
    ("Found {item} by the {place}; it's with reception now.",
     {"item": ["a set of keys", "a green umbrella", "a badge", "some wireless earbuds", "a travel mug"],
      "place": ["front desk", "lifts", "kitchen", "printer", "bike rack"]}),
    ("Great {event} today, {first}. {praise}",
     {"event": ["demo", "talk", "workshop", "customer session", "onboarding session"],
      "praise": ["Really clear.", "The questions afterwards were great.", "Thanks for the slides.",
                 "People are still talking about it."]}),
    ("Who's up for {activity} at lunch {when}?",
     {"activity": ["a quick walk", "table tennis", "the food trucks", "a run by the river", "the new salad place"],
      "when": ["today", "tomorrow", "on Friday", "later"]}),
    ("The {appliance} on the {floor} floor is {state}.",
     {"appliance": ["coffee machine", "printer", "dishwasher", "water cooler", "microwave"],
      "floor": ["second", "third", "fourth"], "state": ["fixed", "out of order again", "back in action",
                                                        "being serviced this afternoon"]}),
    ("Shoutout to {first} for {deed}!",
     {"deed": ["sorting out the projector", "covering the support queue", "the onboarding docs",
               "organising the book swap", "fixing the flaky build", "the lovely cake"]}),
    ("Heads up: {maintenance} {when}.",
     {"maintenance": ["fire alarm test", "window cleaning", "network maintenance", "lift inspection",
                      "carpet cleaning on the third floor"],
      "when": ["tomorrow at 11", "on Saturday morning", "this afternoon", "on Monday from 8 to 9"]}),
    ("Reminder: {reminder}", {"reminder": [
        "the quarterly survey closes on Friday.", "log your hours for last week.", "the shared fridge gets cleared "
        "every Friday.", "book meeting rooms through the calendar.", "the town hall recording is on the intranet.",
        "badges are needed on every floor from next week."]}),
    ("Any recommendations for {thing}?",
     {"thing": ["a good lunch place near the office", "a podcast for the commute", "a standing desk mat",
                "noise-cancelling headphones", "a bike shop nearby"]}),
]
FINANCE_TEMPLATES = [
    ("Reminder: {what} are due by {when}.",
     {"what": ["expense reports", "corporate card receipts", "mileage claims", "budget forecasts"],
      "when": ["Friday", "end of day Thursday", "the 5th", "Monday noon"]}),
    ("Does anyone know which cost centre {thing} goes to?",
     {"thing": ["the conference sponsorship", "the new monitors", "the team offsite", "the legal retainer",
                "the recruiting fair stand"]}),
    ("Bank reconciliation for the {acct} account is done up to {when}.",
     {"acct": ["Operating", "Payroll", "Reserve"], "when": ["last Friday", "yesterday", "the end of last week"]}),
    ("{first}, could you send me the {doc} when you have a minute?",
     {"doc": ["signed contract", "updated vendor list", "draft budget", "accrual schedule", "audit checklist"]}),
    ("The {meeting} moved to {when}.",
     {"meeting": ["budget review", "month-end check-in", "audit prep call", "forecast review"],
      "when": ["Thursday afternoon", "Tuesday at 10", "next Monday", "Wednesday after lunch"]}),
    ("Quick question: do we accrue {thing} monthly or when paid?",
     {"thing": ["the annual software renewals", "the insurance premium", "the office lease top-up",
                "the support contract"]}),
    ("Thanks {first}, {thanks}.",
     {"thanks": ["that's sorted", "got it", "all reconciled now", "much appreciated", "that helps"]}),
    ("I'm out {when}; email me if anything urgent comes up.",
     {"when": ["tomorrow afternoon", "on Friday", "Monday morning", "until Wednesday"]}),
    ("The {report} for {period} is in the shared drive.",
     {"report": ["cash-flow report", "aged payables list", "spend by team summary", "card spend report",
                 "variance analysis"], "period": ["last month", "the quarter so far", "last week", "February",
                                                  "the first half"]}),
    ("Can someone check whether {thing} went out {when}?",
     {"thing": ["the insurance premium", "the rent top-up", "the pension contributions", "the VAT payment",
                "the software renewal"], "when": ["last week", "on Monday", "yesterday", "before the weekend"]}),
    ("I'll be at the {event} {when}, back online after lunch.",
     {"when": ["tomorrow", "on Thursday", "Friday morning", "on Monday"],
      "event": ["board meeting", "audit kick-off", "bank meeting", "budget workshop"]}),
]


# ---------------------------------------------------------------------------------------------------------------
# 1. A vendor that invoices per shipment: the total over two months, from more mail than one page holds
# ---------------------------------------------------------------------------------------------------------------
def vendor_spend(o: Office) -> Draft:
    f = o.f
    r = hard_rng(o, "vendor-spend")
    user = next(iter(staff_of(o, "finance")), lead(o, "finance"))
    v = next((x for x in f.vendors if any(k in x.service.lower() for k in ("ship", "logist", "courier", "freight"))),
             None)
    per = "shipment batch" if v else "job"
    v = v or f.vendors[0]
    prefix = initials(v.name)
    this_month = o.now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    b_end = this_month - timedelta(seconds=1)
    b_start = b_end.replace(day=1, hour=0, minute=0, second=0)
    a_start = (b_start - timedelta(days=1)).replace(day=1, hour=0, minute=0, second=0)
    before = (a_start - timedelta(days=20)).replace(hour=0)
    dates = spread(r, before, o.now - timedelta(hours=3), 56)
    plant = Plant(o)
    invoices = []  # (number, date, amount)
    n0 = r.randint(10200, 18800)
    for k, d in enumerate(dates):
        number = f"{prefix}-{n0 + k}"
        amount = r.randint(85_00, 940_00) + r.choice([0, 50, 99])
        invoices.append((number, d, amount))
        body = invoice_text(o, v, number, d, amount, work_for(v, r, f"{per} of {d:%d %B}"), due_days=14)
        plant.message(f"Invoice {number} from {v.name}", f"{v.contact_name} <{v.contact_email}>", [o.accounts_box], d,
                      body, read=True)
    # reminders repeat invoices already sent (a careless sum counts them twice)
    for number, d, amount in r.sample(invoices[5:-6], 9):
        when = d + timedelta(days=14, hours=2)
        if when >= o.now:
            continue
        plant.message(f"Reminder: invoice {number} due today", f"{v.contact_name} <{v.contact_email}>",
                      [o.accounts_box], when,
                      f"Hello,\n\nA friendly reminder that our invoice {number} for {money(amount)} (issued "
                      f"{d:%d %B}) is due today. If you have already paid it, please ignore this note.\n\nThanks,\n"
                      f"{v.contact_name}\n{v.name}\n", read=True)
    inside = [x for x in invoices if a_start <= x[1] <= b_end]
    total = sum(x[2] for x in inside)
    # the careless total: the first page of the vendor's mail, reminders included
    msgs = sorted(plant.mail, key=lambda t: t["messages"][0]["date"], reverse=True)
    page = [t for t in msgs if v.contact_email in t["messages"][0]["sender"]][:MAIL_PAGE]
    amt = {x[0]: x[2] for x in invoices}
    careless = sum(amt[re.search(rf"{prefix}-\d+", t["subject"]).group(0)] for t in page
                   if a_start <= parse_iso(t["messages"][0]["date"]) <= b_end)
    assert careless != total and len([t for t in msgs if v.contact_email in t["messages"][0]["sender"]]) > MAIL_PAGE
    code = f"""
MAIL, TOKEN = {o.base('mail')!r}, {o.token('mail', user)!r}
box, who = urllib.parse.quote({o.accounts_box!r}), urllib.parse.quote({v.contact_email!r})
START, END = {a_start.date().isoformat()!r}, {b_end.date().isoformat()!r}
seen, total, offset = {{}}, 0, 0
while True:
    page = api("GET", f"{{MAIL}}/api/messages?mailbox={{box}}&from={{who}}&limit=50&offset={{offset}}", TOKEN)
    for m in page["messages"]:
        if not m["subject"].startswith("Invoice "):
            continue
        body = api("GET", f"{{MAIL}}/api/messages/{{m['id']}}", TOKEN)["body"]
        number = re.search(r"INVOICE (\\S+)", body).group(1)
        issued = datetime.strptime(re.search(r"Issued: (.+)", body).group(1).strip(), "%d %B %Y").date().isoformat()
        cents = int(re.search(r"Amount due: \\$([\\d,.]+)", body).group(1).replace(",", "").replace(".", ""))
        if START <= issued <= END:
            seen[number] = cents
    offset += 50
    if offset >= page["total"]:
        break
total = sum(seen.values())
print(len(seen), "invoices", "$%d.%02d" % divmod(total, 100))
"""
    months = f"{a_start:%B} and {b_start:%B %Y}"
    return Draft(
        KIND, user, ["mail"],
        f"{v.name} invoices us separately for every {per}, by email to {o.accounts_box}. For the vendor review, "
        f"what did {v.name}'s invoices issued in {months} add up to, in dollars? Change nothing.",
        [python("from datetime import datetime\n" + code), submit(money(total))],
        [o.search_mail(user, o.accounts_box, q=v.name), submit(money(careless))],
        state=[unchanged("mail", "folders", o)],
        allow=[MAIL_READ], answer_graders=[{"type": "numeric", "expected": total / 100, "tol": 0.005}],
        answer=money(total), inject=plant.inject())


# ---------------------------------------------------------------------------------------------------------------
# 2. A flooded inbox: every phishing email to Spam, the oldest one far down the list
# ---------------------------------------------------------------------------------------------------------------
def phishing_sweep(o: Office) -> Draft:
    f = o.f
    r = hard_rng(o, "phishing")
    th = o.thread("phishing")
    me = next(p for p in f.people if p.email == th.messages[0].to[0])
    user = me.username
    org = f.org
    fake = org.domain.split(".")[0]
    plant = Plant(o)
    start = o.now - timedelta(days=24)
    when = spread(r, start, o.now - timedelta(hours=1), 72)
    senders = [p for p in f.people if p.username != user]
    topics = list(TOPICS)
    r.shuffle(topics)
    notes = list(INTERNAL)
    r.shuffle(notes)
    issue = {name: r.randint(40, 180) for name, *_ in NEWSLETTERS}
    for k, t in enumerate(when):
        kind = k % 6
        if kind in (0, 1, 3):  # a newsletter: each publication's issues count up, each on its own topic
            name, addr, _, _ = NEWSLETTERS[r.randrange(len(NEWSLETTERS))]
            issue[name] += 1
            head, text = topics[k % len(topics)]
            plant.message(f"{name} #{issue[name]}: {head}", f"{name} <{addr}>", [me.email], t,
                          f"Hi {me.first_name},\n\n{text}\n\nRead the full issue on our site.\n\n{name}\n"
                          f"You are receiving this because you subscribed with {me.email}.\n", read=r.random() < 0.5)
        elif kind in (2, 4):
            name, addr, subject, text = RECEIPTS[r.randrange(len(RECEIPTS))]
            total = money(r.randint(8_00, 240_00))
            plant.message(subject, f"{name} <{addr}>", [me.email], t,
                          f"Hello {me.first_name},\n\n{text}\n\nTotal: {total} ({t:%d %B %Y})\n\n{name}\n", read=True)
        elif notes:
            p = senders[k % len(senders)]
            line = notes.pop()
            plant.message(line.split(":")[0] if ":" in line[:30] else f"Quick note from {p.first_name}",
                          f"{p.name} <{p.email}>", [me.email], t, f"Hi {me.first_name},\n\n{line}\n\n{p.first_name}\n",
                          read=True)
        else:
            name, addr, subject, text = RECEIPTS[r.randrange(len(RECEIPTS))]
            plant.message(subject, f"{name} <{addr}>", [me.email], t,
                          f"Hello {me.first_name},\n\n{text}\n\nTotal: {money(r.randint(8_00, 240_00))} "
                          f"({t:%d %B %Y})\n\n{name}\n", read=True)
    it = next((p for p in f.people if p.title == "Site Reliability Engineer" and p.username != user),
              next(p for p in f.people if p.team == "engineering" and p.username != user))
    legit = plant.message("Password rotation next week", f"{it.name} <{it.email}>", [me.email],
                          o.now - timedelta(days=2, hours=3),
                          f"Hi all,\n\nNext Tuesday we rotate everyone's SSO passwords. You'll get a prompt in the "
                          f"usual sign-in page when you next log in; nothing else to do. We will never ask you for your "
                          f"password by email or chat.\n\n{it.first_name}\n")
    phish = [
        plant.message("Mailbox storage almost full", f"{org.name} IT Helpdesk <helpdesk@{fake}-mail-support.com>",
                      [me.email], start + timedelta(days=1, hours=4),
                      f"Dear user,\n\nYour mailbox has reached 98% of its quota and incoming mail will be rejected "
                      f"within 24 hours. To keep your account, confirm your username and password here:\n"
                      f"https://{fake}-mail-support.com/verify\n\nIT Helpdesk\n"),
        plant.message("Action required: payroll details", f"Payroll Team <payroll@{fake}-hr.net>", [me.email],
                      o.now - timedelta(days=3, hours=6),
                      f"Hello {me.first_name},\n\nWe could not process your salary for this month. Please sign in "
                      f"with your {org.name} login within 12 hours to confirm your bank details:\n"
                      f"https://{fake}-hr.net/login\n\nPayroll Team\n"),
    ]
    ids = [plant.mail_id(me.email, t) for t in phish] + [o.mail_id(me.email, th.id)]
    # what a listing of the INBOX shows first (newest first, the default page)
    boxed = sorted([(m["date"], m["id"]) for m in plant._tables("mail")["messages"]
                    if m["mailbox"] == me.email and m["folder"] == "INBOX"], reverse=True)
    first_page = {i for _, i in boxed[:MAIL_PAGE]}
    hidden = [i for i in ids if i not in first_page]
    if not hidden:
        raise ValueError("phishing sweep: every phishing email is on the first page")
    reads = [o.get(user, "mail", "/api/messages"), o.get(user, "mail", "/api/messages", offset=MAIL_PAGE)]
    reads += [o.get(user, "mail", f"/api/messages/{i}") for i in ids]

    def spam(i: int) -> dict:
        return o.post(user, "mail", f"/api/messages/{i}/move", {"folder": "Spam"})
    return Draft(
        KIND, user, ["mail"],
        "Your inbox has been flooded over the last few weeks and some phishing got in among the newsletters. Move "
        "every phishing email in your INBOX (anything fishing for your password or login) to your Spam folder; leave "
        "the rest where it is.",
        reads + [spam(i) for i in ids] + [submit(f"moved {len(ids)} phishing emails to Spam")],
        reads[:1] + [spam(i) for i in ids if i in first_page] + [spam(plant.mail_id(me.email, legit)),
                                                                  submit("moved the phishing emails to Spam")],
        expect=[pat("mail", "messages", "update", ["folder", "is_read", "flagged"], id=i, folder="Spam") for i in ids],
        allow=[MAIL_READ], inject=plant.inject())


# ---------------------------------------------------------------------------------------------------------------
# 3. A long tracker discussion: the decision is on the second page of comments, and it reverses the first
# ---------------------------------------------------------------------------------------------------------------
def late_decision(o: Office) -> Draft:
    f = o.f
    r = hard_rng(o, "late-decision")
    repo = o.repo()
    opened = [m for m in repo.milestones if m.state == "open"]
    if len(opened) < 2:
        raise ValueError("late decision: fewer than two open milestones")
    near, far = sorted(opened, key=lambda m: m.due_on)[:2]
    issue = next((i for i in repo.issues if i.state == "open" and i.milestone == near.number and i.number != 1
                  and "priority:high" not in i.labels and "priority:low" not in i.labels), None) or next(
        i for i in repo.issues if i.state == "open" and i.number != 1 and "priority:low" not in i.labels
        and "priority:high" not in i.labels)
    eng_lead = lead(o, "engineering")
    pm = next((p.username for p in f.people if p.team == "product" and p.username != lead(o, "product")),
              lead(o, "product"))
    team = [p.username for p in f.people if p.team in ("engineering", "product", "support")]
    logins = {u: o.login(u) for u in team}
    plant = Plant(o)
    t0 = max([o.now - timedelta(days=26)] + [parse_iso(c.created_at) + timedelta(hours=1) for c in issue.comments])
    times = spread(r, t0, o.now - timedelta(hours=5), 44)
    pool = list(DISCUSSION)
    r.shuffle(pool)
    speak = [u for u in team if u != eng_lead]
    early = (f"Given how many customers hit this, I'd keep it in {near.title} and mark it priority:high so it gets "
             f"picked up first.")
    agree = f"+1, {near.title} and priority:high. Let's go with that."
    late = (f"Decision from today's planning: {near.title} is full, so this moves to {far.title}, and we drop it to "
            f"priority:low since the workaround is holding up. Please update the issue accordingly.")
    for k, t in enumerate(times):
        if k == 6:
            body, who = early, pm
        elif k == 8:
            body, who = agree, eng_lead
        elif k == 40:
            body, who = late, eng_lead
        else:
            body, who = pool[k % len(pool)], speak[k % len(speak)]
        plant.comment(issue.number, logins.get(who) or o.login(who), body, t)
    total = len(issue.comments) + len(times)
    assert total > TRACKER_PAGE and len(issue.comments) + 40 >= TRACKER_PAGE
    user = pm
    path = f"{repo_path(o)}/issues/{issue.number}"
    reads = [o.get(user, "tracker", path), o.get(user, "tracker", f"{path}/comments"),
             o.get(user, "tracker", f"{path}/comments", page=2), o.get(user, "tracker", f"{repo_path(o)}/milestones")]
    oracle = reads + [o.call(user, "tracker", "PATCH", path, {"milestone": far.number}),
                      o.post(user, "tracker", f"{path}/labels", {"labels": ["priority:low"]}),
                      submit(f"#{issue.number}: {far.title}, priority:low")]
    decoy = reads[:2] + [o.call(user, "tracker", "PATCH", path, {"milestone": near.number}),
                         o.post(user, "tracker", f"{path}/labels", {"labels": ["priority:high"]}),
                         submit(f"#{issue.number}: {near.title}, priority:high")]
    iid = o.issue_id(issue.number)
    mid = o.row("tracker", "milestones", repo=o.repo_id(), number=far.number)["id"]
    return Draft(
        KIND, user, ["tracker"],
        f"Issue #{issue.number} of {repo.owner}/{repo.name} (\"{issue.title}\") has a long discussion in its comments. "
        f"Bring the issue itself in line with what the team settled on there about its milestone and its priority "
        f"label.",
        oracle, decoy,
        expect=[pat("tracker", "issues", "update", ["milestone", "updated_at"], id=iid, milestone=mid),
                pat("tracker", "issue_labels", "insert", issue=iid, label=o.label_id("priority:low"))],
        allow=[pat("tracker", "issues", "update", ["updated_at"], id=iid)], inject=plant.inject())


# ---------------------------------------------------------------------------------------------------------------
# 4. RSVPs in a busy channel: invite whoever is coming as it stands now (some answered weeks ago, some changed)
# ---------------------------------------------------------------------------------------------------------------
YES = ["Count me in for the dinner!", "I'll be there for the dinner, thanks for organising.",
       "Dinner sounds great, I'm coming.", "Yes from me for the team dinner!", "I'm in for the dinner.",
       "Put me down for the dinner please.", "Coming to the dinner, looking forward to it."]
NO = ["Sorry, I can't make the dinner, I'm travelling that week.", "I'll have to skip the dinner, family plans.",
      "Can't join the dinner this time, sorry!"]
WITHDRAW = "Change of plans, sorry: I can't make the team dinner after all."
REJOIN = "Good news, my trip got moved, so I can come to the team dinner after all."


def rsvps(o: Office) -> Draft:
    f = o.f
    r = hard_rng(o, "rsvps")
    user = lead(o, "people")
    me = o.person(user)
    channel = "general"
    tz = ZoneInfo(me.timezone)
    d = (o.now.astimezone(tz) + timedelta(days=9)).date()
    while d.weekday() != 3:  # a Thursday
        d += timedelta(days=1)
    start = datetime(d.year, d.month, d.day, 19, 0, tzinfo=tz)
    end = start + timedelta(hours=2, minutes=30)
    members = next(c.members for c in f.channels if c.name == channel)
    people = [u for u in members if u != user]
    r.shuffle(people)
    if len(people) < 8:
        raise ValueError("rsvps: fewer than eight people in #general")
    early_yes, late_yes, withdrawn, rejoined, declined = people[:3], people[3:5], people[5], people[6], people[7]
    plant = Plant(o)
    t0 = o.now - timedelta(days=20)
    plant.say(channel, user, (f"Team dinner on Thursday {d:%d %B}, 19:00 at Rosa's on Market Street, on the company. "
                              "Reply here if you're coming so I can book the table!"), t0)
    times = spread(r, t0 + timedelta(hours=3), o.now - timedelta(hours=2), 118)
    answers: list[tuple[datetime, str, str]] = []
    for k, u in enumerate(early_yes + [withdrawn]):
        answers.append((t0 + timedelta(hours=1, minutes=7 * k + 3), u, YES[k % len(YES)]))
    answers.append((t0 + timedelta(hours=2, minutes=10), rejoined, NO[0]))
    answers.append((t0 + timedelta(hours=2, minutes=40), declined, NO[1]))
    late = times[-25:]
    answers.append((late[3] + timedelta(minutes=1), late_yes[0], YES[4]))
    answers.append((late[9] + timedelta(minutes=1), withdrawn, WITHDRAW))
    answers.append((late[14] + timedelta(minutes=1), rejoined, REJOIN))
    answers.append((late[20] + timedelta(minutes=1), late_yes[1], YES[5]))
    names = [o.person(u).first_name for u in members]
    for k, (t, text) in enumerate(zip(times, chatter(r, len(times), names, GENERAL_CHAT, GENERAL_TEMPLATES),
                                      strict=True)):
        plant.say(channel, members[(k * 7 + 3) % len(members)], text, t)
    for t, u, text in answers:
        plant.say(channel, u, text, t)
    coming = early_yes + late_yes + [rejoined]
    # the careless list: only the newest page of the channel, read in order
    cid = o.channel_id(channel)
    msgs = sorted((m for m in plant._tables("chat")["messages"] if m["channel"] == cid and m["thread_ts"] is None),
                  key=lambda m: float(m["ts"]), reverse=True)[:CHAT_PAGE]
    by_id = {u["id"]: u["username"] for u in o.tables["chat"]["users"]}
    state: dict[str, bool] = {}
    for m in reversed(msgs):
        if m["text"] in YES or m["text"] == REJOIN:
            state[by_id[m["user"]]] = True
        elif m["text"] in NO or m["text"] == WITHDRAW:
            state[by_id[m["user"]]] = False
    careless = [u for u, yes in state.items() if yes]
    assert sorted(careless) != sorted(coming)
    new_event = max(e["id"] for e in o.tables["calendar"]["events"]) + 1

    def invite(who: list[str]) -> dict:
        return o.post(user, "calendar", "/api/events", {
            "title": "Team dinner", "start": iso(start), "end": iso(end), "timezone": "UTC",
            "location": "Rosa's, Market Street", "attendees": [o.person(u).email for u in who]})
    reads = [o.get(user, "chat", "/api/conversations.history", channel=channel),
             o.get(user, "chat", "/api/conversations.history", channel=channel,
                   cursor=base64.b64encode(f"offset:{CHAT_PAGE}".encode()).decode()),
             o.get(user, "chat", "/api/users.list")]
    return Draft(
        KIND, user, ["chat", "calendar"],
        f"You organised the team dinner you announced in #general a few weeks ago (Thursday {d:%d %B}, 19:00 to 21:30 "
        f"your time). Create it in your calendar, titled \"Team dinner\", and invite exactly the people who, as things "
        f"stand now, have said in that channel that they are coming.",
        reads + [invite(coming), submit(f"invited {len(coming)} people")],
        reads[:1] + [invite(careless), submit(f"invited {len(careless)} people")],
        expect=[pat("calendar", "events", "insert", id=new_event, organizer=user, start=iso(start), end=iso(end))]
        + [pat("calendar", "attendees", "insert", event=new_event, username=u) for u in coming],
        inject=plant.inject())


# ---------------------------------------------------------------------------------------------------------------
# 5. A vendor contact who left: the payee record and the old thread are stale, the vendor's newest email wins
# ---------------------------------------------------------------------------------------------------------------
CONTACTS = [("Lena", "Marsh"), ("Daniel", "Okoro"), ("Sofia", "Brandt"), ("Ravi", "Menon"), ("Claire", "Dubois"),
            ("Marco", "Silva")]


def vendor_contact(o: Office) -> Draft:
    f = o.f
    r = hard_rng(o, "vendor-contact")
    user = next(iter(staff_of(o, "finance")), lead(o, "finance"))
    v = o.vendor(vendor_payments(o)[-1].counterparty)
    t = max((x for x in f.bank.transactions if x.account == o.operating and x.counterparty == v.name
             and x.amount_cents < 0), key=lambda x: x.posted_at)
    payee = o.payee(v.payee)
    domain = v.contact_email.split("@")[1]
    first, last = r.choice([c for c in CONTACTS if c[0] != v.contact_name.split()[0]])
    new = f"{first.lower()}.{last.lower()}@{domain}"
    old_first = v.contact_name.split()[0]
    plant = Plant(o)
    ask = plant.message(f"Remittance advice - {v.name}", f"{v.contact_name} <{v.contact_email}>", [o.accounts_box],
                        parse_iso(t.posted_at) - timedelta(days=5, hours=2), (
                            f"Hello,\n\nCould you send us a remittance advice (amount and date) whenever you pay us? "
                            f"Our ledger team needs it to match payments to invoices.\n\nMany thanks,\n{old_first}\n"
                            f"{v.contact_name}, {v.name}\n"), read=True)
    moved = plant.message(f"{v.name}: change of accounts contact", f"{first} {last} <{new}>", [o.accounts_box],
                          o.now - timedelta(days=r.randint(2, 6), hours=r.randint(1, 8)), (
                              f"Dear {f.org.name} team,\n\n{v.contact_name} has left {v.name}. I have taken over "
                              f"customer accounts; please send remittance advice and any billing questions to me at "
                              f"{new} from now on. Our old {payee.email or 'billing'} address is no longer "
                              f"monitored.\n\nBest regards,\n{first} {last}\nAccounts, {v.name}\n"), read=False)
    amount = -t.amount_cents
    when = t.posted_at[:10]
    reads = [o.search_mail(user, o.accounts_box, q=v.name.split(",")[0].split()[0]),
             o.get(user, "mail", f"/api/messages/{plant.mail_id(o.accounts_box, ask)}"),
             o.get(user, "mail", f"/api/messages/{plant.mail_id(o.accounts_box, moved)}"),
             o.get(user, "bank", f"/api/accounts/{o.operating}/transactions", q=v.name.split(",")[0].split()[0]),
             o.get(user, "bank", "/api/payees")]
    body = (f"Hello,\n\nRemittance advice from {f.org.name}: we paid {v.name} {money(amount)} on {when} by bank "
            f"transfer from our Operating account.\n\nKind regards,\n{o.person(user).name}\n{f.org.name} accounts")
    subject = f"Remittance advice: {money(amount)} paid {when}"
    oracle = reads + [send_mail(o, user, [new], subject, body, mailbox=o.accounts_box), submit(f"sent to {new}")]
    stale = payee.email or v.contact_email
    decoy = reads + [send_mail(o, user, [stale], subject, body, mailbox=o.accounts_box), submit(f"sent to {stale}")]
    return Draft(
        KIND, user, ["mail", "bank"],
        f"{v.name} asked us for a remittance advice whenever we pay them. Send their accounts contact one for our most "
        f"recent payment to them (the amount and the date it left our Operating account), from {o.accounts_box}.",
        oracle, decoy,
        expect=[pat("mail", "messages", "insert", mailbox=o.accounts_box, folder="Sent", recipients={"$contains": new})],
        allow=[MAIL_READ], inject=plant.inject())


# ---------------------------------------------------------------------------------------------------------------
# 6. An invoice revised in a reply: the newest version is the one to pay
# ---------------------------------------------------------------------------------------------------------------
def revised_invoice(o: Office) -> Draft:
    f = o.f
    r = hard_rng(o, "revised")
    user = next(iter(staff_of(o, "finance")), lead(o, "finance"))
    used = {i.vendor for i in f.invoices}
    v = next((x for x in f.vendors if x.name not in used), f.vendors[-1])
    number = new_numbers(o, r, 1)[0]
    limit = f.policies.per_transfer_limit_cents
    first = invoice_amount(r, limit, 1_200_00, 3_900_00)
    credit = r.randint(2, 9) * 50_00 + r.randint(0, 99)
    final = first - credit
    plant = Plant(o)
    issued = (o.now - timedelta(days=r.randint(5, 9))).replace(hour=9, minute=15, second=0)
    what = work_for(v, r, f"{issued:%B %Y}")
    t = plant.thread(f"Invoice {number} from {v.name}", [
        {"sender": f"{v.contact_name} <{v.contact_email}>", "to": [o.accounts_box], "date": iso(issued),
         "body": invoice_text(o, v, number, issued, first, what)},
        {"sender": f"{v.contact_name} <{v.contact_email}>", "to": [o.accounts_box],
         "date": iso(issued + timedelta(days=2, hours=5)),
         "body": (f"Hello again,\n\nApologies - invoice {number} should have included the {money(credit)} credit we "
                  f"agreed for last month's late delivery. Revised invoice:\n\nINVOICE {number} (revised)\n"
                  f"Amount due: {money(final)}\n\nEverything else (bank details, due date) is unchanged. Please pay "
                  f"the revised amount and disregard the original figure.\n\nThanks,\n"
                  f"{v.contact_name.split()[0]}\n")}])
    m0, m1 = plant.mail_id(o.accounts_box, t, 0), plant.mail_id(o.accounts_box, t, 1)
    reads = [o.search_mail(user, o.accounts_box, q=number), o.get(user, "mail", f"/api/messages/{m0}"),
             o.get(user, "mail", f"/api/messages/{m1}"), o.get(user, "bank", "/api/payees")]
    reply = o.post(user, "mail", f"/api/messages/{m1}/reply", {"body": (
        f"Hi {v.contact_name.split()[0]},\n\nThanks - we have paid {number} at the revised amount.\n\n"
        f"{o.person(user).name}")})
    return Draft(
        KIND, user, ["mail", "bank"],
        f"Pay {v.name}'s invoice {number} (in the {o.accounts_box} mailbox) from the Operating account to their payee on "
        f"file, with the invoice number as memo, and confirm the transfer. Then reply to the vendor's latest email on "
        f"it to say it has been paid.",
        reads + o.pay(user, v.payee, final, number, tid(1)) + [reply, submit(f"paid {number}: {money(final)}")],
        reads[:2] + o.pay(user, v.payee, first, number, tid(1)) + [
            o.post(user, "mail", f"/api/messages/{m0}/reply", {"body": f"Paid {number}."}),
            submit(f"paid {number}: {money(first)}")],
        expect=[pat("bank", "transfers", "insert", from_account=o.operating, payee=v.payee, amount_cents=final,
                    status="completed"),
                pat("mail", "messages", "insert", mailbox=o.accounts_box, folder="Sent", thread_id=t)],
        allow=transfer_allow(o, o.operating) + [MAIL_READ], inject=plant.inject())


# ---------------------------------------------------------------------------------------------------------------
# 7. The same invoice sent twice, one already paid: pay each outstanding invoice once
# ---------------------------------------------------------------------------------------------------------------
def resent_invoice(o: Office) -> Draft:
    f = o.f
    r = hard_rng(o, "resent")
    user = next(iter(staff_of(o, "finance")), lead(o, "finance"))
    limit = f.policies.per_transfer_limit_cents
    pays = vendor_payments(o)
    every = [t for t in f.bank.transactions if t.account == o.operating and t.amount_cents < 0]
    used = {i.vendor for i in f.invoices}
    # a vendor with a plain payment (it settled an older invoice) and no payment since
    cands = [t for t in reversed(pays) if not any(x.counterparty == t.counterparty and x.posted_at > t.posted_at
                                                  for x in every)]
    t = next((x for x in cands if x.counterparty not in used), cands[0])
    v = o.vendor(t.counterparty)
    old, dup, other = new_numbers(o, r, 3)
    plant = Plant(o)
    paid_at = parse_iso(t.posted_at)
    old_issued = (paid_at - timedelta(days=r.randint(9, 15))).replace(hour=9, minute=0, second=0)
    a1 = invoice_amount(r, limit, 600_00, 3_500_00)
    a2 = invoice_amount(r, limit, 600_00, 3_500_00)
    d1 = (o.now - timedelta(days=r.randint(12, 16))).replace(hour=10, minute=0, second=0)
    d2 = (o.now - timedelta(days=r.randint(2, 4))).replace(hour=11, minute=0, second=0)
    sender = f"{v.contact_name} <{v.contact_email}>"
    plant.message(f"Invoice {old} from {v.name}", sender, [o.accounts_box], old_issued,
                  invoice_text(o, v, old, old_issued, -t.amount_cents, work_for(v, r, f"{old_issued:%B %Y}")),
                  read=True)
    t1 = plant.message(f"Invoice {dup} from {v.name}", sender, [o.accounts_box], d1,
                       invoice_text(o, v, dup, d1, a1, work_for(v, r, f"{d1:%B %Y}")), read=True)
    t1b = plant.message(f"Invoice {dup} from {v.name} (resent)", sender, [o.accounts_box], d1 + timedelta(days=7),
                        invoice_text(o, v, dup, d1, a1, work_for(v, r, f"{d1:%B %Y}"),
                                     note="Resending this in case the first email went astray."))
    t2 = plant.message(f"Invoice {other} from {v.name}", sender, [o.accounts_box], d2,
                       invoice_text(o, v, other, d2, a2, work_for(v, r, f"{d2:%B %Y}")))
    ids = {k: plant.mail_id(o.accounts_box, x) for k, x in (("dup", t1), ("again", t1b), ("other", t2))}
    reads = [o.search_mail(user, o.accounts_box, q=v.name.split(",")[0].split()[0])]
    reads += [o.get(user, "mail", f"/api/messages/{i}") for i in ids.values()]
    reads += [o.get(user, "bank", f"/api/accounts/{o.operating}/transactions"), o.get(user, "bank", "/api/payees")]
    oracle = reads + o.pay(user, v.payee, a1, dup, tid(1)) + o.pay(user, v.payee, a2, other, tid(2)) + [
        submit(f"paid {dup} and {other}")]
    decoy = reads + o.pay(user, v.payee, a1, dup, tid(1)) + o.pay(user, v.payee, a2, other, tid(2)) + o.pay(
        user, v.payee, a1, f"{dup} (resent)", tid(3)) + [submit(f"paid {dup}, {dup} (resent) and {other}")]
    return Draft(
        KIND, user, ["mail", "bank"],
        f"Catch up on {v.name}: pay every invoice of theirs in the {o.accounts_box} mailbox that we have not paid yet, "
        f"from the Operating account to their payee on file (one transfer per invoice, the invoice number as memo, "
        f"confirmed).",
        oracle, decoy,
        expect=[pat("bank", "transfers", "insert", payee=v.payee, amount_cents=a1, status="completed"),
                pat("bank", "transfers", "insert", payee=v.payee, amount_cents=a2, status="completed")],
        state=[{"backend": "bank", "table": "transfers", "where": {"payee": v.payee, "status": "completed"},
                "count": 2}],
        allow=transfer_allow(o, o.operating) + [MAIL_READ], inject=plant.inject())


# ---------------------------------------------------------------------------------------------------------------
# 8. Labels across pages of the tracker: every open issue about one area, old ones included
# ---------------------------------------------------------------------------------------------------------------
SYMPTOMS = ["is slow on large accounts", "shows a blank page after login", "loses the sort order",
            "ignores the date filter", "times out on the first request of the day", "shows duplicate rows",
            "crashes when the list is empty", "rounds totals the wrong way", "forgets the selected language",
            "returns a 500 error for archived items", "hangs when the network drops", "shows stale counts"]


def area_labels(o: Office) -> Draft:
    f = o.f
    r = hard_rng(o, "area-labels")
    repo = o.repo()
    path = repo_path(o)
    user = lead(o, "engineering")
    areas = sorted(x.name[5:] for x in repo.labels if x.name.startswith("area:"))
    opened = [i for i in repo.issues if i.state == "open"]

    def about(title: str, area: str) -> bool:
        return re.search(rf"\b{re.escape(area)}\b", title, re.I) is not None

    def gaps(area: str) -> list:
        return [i for i in opened if about(i.title, area) and f"area:{area}" not in i.labels]
    reporter = next(p.username for p in f.people if p.team == "support")
    n_new = max(20, TRACKER_PAGE + 8 - len(opened))
    # the first page of open issues (newest first) holds the planted ones, then the newest old ones
    page1_old = set(sorted((i.number for i in opened), reverse=True)[:max(0, TRACKER_PAGE - n_new)])

    def later(area: str) -> list:
        return [i for i in gaps(area) if i.number not in page1_old]
    area = max(areas, key=lambda a: (len(later(a)), any(about(i.title, a) and i.number not in page1_old
                                                         for i in opened), a))
    setup_cmds: list[str] = []
    allow: list[dict] = []
    old = gaps(area)
    if not later(area):  # every old issue is labelled: someone took the label off an old one (setup)
        i = min((i for i in opened if about(i.title, area) and i.number not in page1_old), key=lambda i: i.number)
        setup_cmds += [f"curl -sf -o /dev/null -X DELETE -H 'Authorization: Bearer {o.token('tracker', user)}' "
                       f"{o.base('tracker')}{path}/issues/{i.number}/labels/area:{area}"]
        allow.append(pat("tracker", "issue_labels", "delete", issue=o.issue_id(i.number),
                         label=o.label_id(f"area:{area}")))
        allow.append(pat("tracker", "issues", "update", ["updated_at"], id=o.issue_id(i.number)))
        old = old + [i]
    titles: list[str] = []
    taken = {i.title.lower() for i in repo.issues}
    while len(titles) < n_new:
        a = area if len(titles) % 5 == 1 else r.choice([x for x in areas if x != area])
        t = f"{a.capitalize()} {r.choice(SYMPTOMS)}"
        if t.lower() not in taken:
            taken.add(t.lower())
            titles.append(t)
    setup = setup_requests(o, reporter, "tracker", f"{path}/issues", [
        {"title": t, "body": f"Reported by a customer to support. {t}. Steps and screenshots in the support ticket."}
        for t in titles])
    setup["commands"] = setup_cmds + setup["commands"]
    planted = [(next_issue(o, k), t) for k, t in enumerate(titles)]
    allow += [pat("tracker", "issues", "insert", id=iid, title=t) for (_, iid), t in planted]
    targets = [(i.number, o.issue_id(i.number)) for i in old]
    targets += [(n, iid) for (n, iid), t in planted if about(t, area)]
    page1 = page1_old | {n for (n, _), _ in planted}
    assert not all(n in page1 for n, _ in targets)
    label = f"area:{area}"

    def add(n: int) -> dict:
        return o.post(user, "tracker", f"{path}/issues/{n}/labels", {"labels": [label]})
    reads = [o.get(user, "tracker", f"{path}/issues"), o.get(user, "tracker", f"{path}/issues", page=2),
             o.get(user, "tracker", f"{path}/labels")]
    return Draft(
        KIND, user, ["tracker"],
        f"Support has been filing a lot of issues in {repo.owner}/{repo.name} lately. Make sure every open issue whose "
        f"title is about {area} carries the {label} label; leave the other labels as they are.",
        reads + [add(n) for n, _ in targets] + [submit(f"labelled {len(targets)} issues")],
        reads[:1] + [add(n) for n, _ in targets if n in page1] + [submit("labelled the open issues")],
        expect=[pat("tracker", "issue_labels", "insert", issue=iid, label=o.label_id(label)) for _, iid in targets],
        allow=allow + [pat("tracker", "issues", "update", ["updated_at"], id=iid) for _, iid in targets],
        setup=setup)


# ---------------------------------------------------------------------------------------------------------------
# 9. Payment approvals scattered through a busy finance channel: pay what was approved and is still unpaid
# ---------------------------------------------------------------------------------------------------------------
def chat_approvals(o: Office) -> Draft:
    f = o.f
    r = hard_rng(o, "approvals")
    head = lead(o, "finance")
    user = next(iter(staff_of(o, "finance")), None)
    if user is None:
        raise ValueError("approvals: finance has no one besides its head")
    channel = channel_of(o, "finance")
    members = next(c.members for c in f.channels if c.name == channel)
    askers = [t.lead for t in f.teams if t.slug not in ("finance", "leadership")] or [user]
    limit = f.policies.per_transfer_limit_cents
    plant = Plant(o)
    t0 = o.now - timedelta(days=28)
    times = spread(r, t0, o.now - timedelta(hours=2), 106)
    names = [p.first_name for p in f.people]
    for k, (t, text) in enumerate(zip(times, chatter(r, len(times), names, FINANCE_CHAT, FINANCE_TEMPLATES),
                                      strict=True)):
        plant.say(channel, members[(k * 5 + 1) % len(members)], text, t)
    paid_inv = next(i for i in f.invoices if i.kind == "already_paid")
    vendors = [v for v in f.vendors if v.name != paid_inv.vendor]
    r.shuffle(vendors)
    numbers = new_numbers(o, r, 4)
    reqs = []  # (number, vendor, amount, outcome)
    for k, (number, outcome) in enumerate(zip(numbers, ["approved", "approved", "held", "approved"], strict=True)):
        v = vendors[k % len(vendors)]
        amount = invoice_amount(r, limit, 400_00, 3_600_00)
        reqs.append((number, v, amount, outcome))
    reqs.append((paid_inv.number, o.vendor(paid_inv.vendor), paid_inv.amount_cents, "approved"))
    # requests and answers: the first two early (far down the channel), the rest recent
    slots = [t0 + timedelta(hours=2), t0 + timedelta(days=1, hours=3), times[-40], times[-22], times[-60]]
    for (number, v, amount, outcome), at in zip(reqs, slots, strict=True):
        asker = askers[int(number[4:]) % len(askers)]
        plant.say(channel, asker, (f"Could finance pay {v.name}'s invoice {number} for {money(amount)}? It's for "
                                   f"{work_for(v, r, f'{at:%B}')}."), at + timedelta(minutes=2))
        answer = (f"Approved: {number} ({v.name}, {money(amount)}). Go ahead." if outcome == "approved" else
                  f"Let's hold {number} until we have the signed purchase order.")
        plant.say(channel, head, answer, at + timedelta(hours=1, minutes=13))
    due = [x for x in reqs if x[3] == "approved" and x[0] != paid_inv.number]
    cid = o.channel_id(channel)
    msgs = sorted((m for m in plant._tables("chat")["messages"] if m["channel"] == cid and m["thread_ts"] is None),
                  key=lambda m: float(m["ts"]), reverse=True)[:CHAT_PAGE]
    seen = " ".join(m["text"] for m in msgs)
    careless = [x for x in due if f"Approved: {x[0]}" in seen]
    assert len(careless) < len(due)
    reads = [o.get(user, "chat", "/api/conversations.history", channel=channel),
             o.get(user, "chat", "/api/conversations.history", channel=channel,
                   cursor=base64.b64encode(f"offset:{CHAT_PAGE}".encode()).decode()),
             o.get(user, "bank", f"/api/accounts/{o.operating}/transactions"), o.get(user, "bank", "/api/payees")]

    def pay_all(items) -> list[dict]:
        out: list[dict] = []
        for k, (number, v, amount, _) in enumerate(items):
            out += o.pay(user, v.payee, amount, number, tid(k + 1))
        return out
    return Draft(
        KIND, user, ["chat", "bank"],
        f"Payment requests for vendor invoices come in through the finance channel on chat, and {o.who(head)} "
        f"approves them there. Pay every invoice {o.person(head).first_name} approved in that channel over the past "
        f"month that has not been paid yet: from the Operating account to the vendor's payee on file, the invoice "
        f"number as memo, confirmed.",
        reads + pay_all(due) + [submit("paid " + ", ".join(x[0] for x in due))],
        reads[:1] + pay_all(careless) + [submit("paid " + ", ".join(x[0] for x in careless))],
        expect=[pat("bank", "transfers", "insert", from_account=o.operating, payee=v.payee, amount_cents=a,
                    status="completed") for _, v, a, _ in due],
        allow=transfer_allow(o, o.operating), inject=plant.inject())


def tasks(o: Office) -> list[Draft]:
    return within_limit(o, [vendor_spend(o), phishing_sweep(o), late_decision(o), rsvps(o), vendor_contact(o),
                            revised_invoice(o), resent_invoice(o), area_labels(o), chat_approvals(o)])
