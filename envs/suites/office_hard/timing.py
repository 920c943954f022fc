"""Time (kind ``time``): time zones across participants, series of events, business days and month ends.

Every date and time is computed from the world's facts when the suite is generated: the clock (``f.now``), each
person's time zone, the calendars' busy times, the vendors and their payees. The office's holidays (US federal
holidays, observed on the nearest weekday, plus the day after Thanksgiving) are announced in #announcements (planted
in each task's world), so business days are the office's: no weekends, no holidays.

The traps are the ones people fall into: a slot in one's own working hours that is the middle of the night for a
colleague, a window a contact gave in their own zone, a series whose UTC time drifts across a daylight-saving
change, the first or last *calendar* day of a month or quarter where the first or last *business* day is meant, and
calendar days counted where terms say business days. Each decoy makes exactly one of these mistakes; it scores 0.
Grading is on the calendar's or the bank's state: each event or transfer is a sub-goal, so partial credit counts
what was right.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from airgap.envs.common import iso, money, rng
from airgap.envs.suites.office.generator import MAIL_READ, Draft, planted_thread_id, setup_requests, transfer_allow
from airgap.envs.suites.workplace import Office, pat, python, submit

KIND = "time"
UTC = ZoneInfo("UTC")
DAY_START, DAY_END = 9, 17  # working hours, each person in their own zone


# ---------------------------------------------------------------------------------------------------------------
# The office's holidays and business days
# ---------------------------------------------------------------------------------------------------------------
def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The ``n``-th ``weekday`` (0 = Monday) of a month; ``n = -1``: the last."""
    if n > 0:
        d = date(year, month, 1)
        d += timedelta(days=(weekday - d.weekday()) % 7)
        return d + timedelta(weeks=n - 1)
    d = (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)
    return d - timedelta(days=(d.weekday() - weekday) % 7)


def _observed(d: date) -> date:
    return d - timedelta(days=1) if d.weekday() == 5 else d + timedelta(days=1) if d.weekday() == 6 else d


def holidays(first_year: int, last_year: int) -> dict[date, str]:
    """The office's holidays (observed dates) from 1 January of ``first_year`` to 31 December of ``last_year``."""
    out: dict[date, str] = {}
    for y in range(first_year - 1, last_year + 2):
        thanksgiving = _nth_weekday(y, 11, 3, 4)
        for d, name in [
            (_observed(date(y, 1, 1)), "New Year's Day"), (_nth_weekday(y, 1, 0, 3), "Martin Luther King Jr. Day"),
            (_nth_weekday(y, 2, 0, 3), "Presidents' Day"), (_nth_weekday(y, 5, 0, -1), "Memorial Day"),
            (_observed(date(y, 6, 19)), "Juneteenth"), (_observed(date(y, 7, 4)), "Independence Day"),
            (_nth_weekday(y, 9, 0, 1), "Labor Day"), (thanksgiving, "Thanksgiving"),
            (thanksgiving + timedelta(days=1), "Day after Thanksgiving"), (_observed(date(y, 12, 25)), "Christmas Day"),
        ]:
            if first_year <= d.year <= last_year:
                out[d] = name
    return dict(sorted(out.items()))


def add_business(d: date, n: int, hol=()) -> date:
    """``n`` business days after ``d`` (weekends and the days in ``hol`` are not business days)."""
    while n > 0:
        d += timedelta(days=1)
        n -= d.weekday() < 5 and d not in hol
    return d


def month_last(y: int, m: int) -> date:
    """The last day of month ``m`` (1-12) of year ``y``."""
    return date(y + m // 12, m % 12 + 1, 1) - timedelta(days=1)


def next_month(y: int, m: int) -> tuple[int, int]:
    return (y + m // 12, m % 12 + 1)


class Clock:
    """One world's calendar arithmetic: today in a zone, business days, month and quarter ends."""

    def __init__(self, o: Office):
        self.o = o
        self.now = o.now
        self.years = (self.now.year, self.now.year + 1)
        self.hol = holidays(*self.years)

    def today(self, tz: str) -> date:
        return self.now.astimezone(ZoneInfo(tz)).date()

    def business(self, d: date) -> bool:
        return d.weekday() < 5 and d not in self.hol

    def add_business(self, d: date, n: int) -> date:
        return add_business(d, n, self.hol)

    def next_business(self, d: date) -> date:
        while not self.business(d):
            d += timedelta(days=1)
        return d

    def last_business_of_month(self, year: int, month: int) -> date:
        d = month_last(year, month)
        while not self.business(d):
            d -= timedelta(days=1)
        return d

    def announcement(self) -> dict:
        """The holiday list, posted in #announcements by the people team's lead (world.inject chat)."""
        o = self.o
        poster = o.f.team("people").lead if any(t.slug == "people" for t in o.f.teams) else o.f.teams[0].lead
        lines = [f"- {d:%a %d %b %Y}: {name}" for d, name in self.hol.items()]
        text = (f"Office holidays for {self.years[0]} and {self.years[1]}: the office is closed on these days, and they "
                f"are not business days for payments or deadlines either.\n" + "\n".join(lines))
        ts = iso(self.now - timedelta(days=20, hours=3))
        return {"channel": "announcements", "author": poster, "text": text, "ts": ts}


def at(d: date, hour: int, minute: int, tz: str) -> datetime:
    """Wall-clock ``hour:minute`` of day ``d`` in zone ``tz``, as an aware UTC datetime."""
    return datetime.combine(d, time(hour, minute), ZoneInfo(tz)).astimezone(UTC)


def offset_h(tz: str, when: datetime) -> float:
    return when.astimezone(ZoneInfo(tz)).utcoffset().total_seconds() / 3600


def free(spans: list[tuple[str, str]], s: datetime, e: datetime) -> bool:
    a, b = iso(s), iso(e)
    return not any(x < b and y > a for x, y in spans)


def grid(s: datetime, e: datetime, minutes: int):
    """Starts on the hour or half hour from ``s`` such that the meeting ends by ``e``."""
    t = s
    if t.minute % 30 or t.second:
        t = t.replace(minute=0, second=0) + timedelta(minutes=30 * (t.minute // 30 + 1))
    while t + timedelta(minutes=minutes) <= e:
        yield t
        t += timedelta(minutes=30)


def working_span(people: list, d: date, tz: str) -> tuple[datetime, datetime] | None:
    """The part of day ``d`` (in zone ``tz``) inside everyone's working hours in their own zone, on a weekday there."""
    lo, hi = at(d, 0, 0, tz), at(d + timedelta(days=1), 0, 0, tz)
    for p in people:
        best = None
        for k in (-1, 0, 1):
            pd = d + timedelta(days=k)
            if pd.weekday() >= 5:
                continue
            s, e = max(lo, at(pd, DAY_START, 0, p.timezone)), min(hi, at(pd, DAY_END, 0, p.timezone))
            if s < e and (best is None or e - s > best[1] - best[0]):
                best = (s, e)
        if best is None:
            return None
        lo, hi = best
    return lo, hi


def freebusy(o: Office, user: str, people: list[str], start: datetime, end: datetime) -> dict:
    """A program that prints everyone's busy times and zones (a POST that only reads, so inside a program)."""
    return python(f"""
CAL, TOKEN = {o.base('calendar')!r}, {o.token('calendar', user)!r}
zones = {{p["username"]: p["timezone"] for p in api("GET", CAL + "/api/users", TOKEN)}}
fb = api("POST", CAL + "/api/freebusy", TOKEN, {{"users": {people!r}, "start": {iso(start)!r}, "end": {iso(end)!r},
                                                "timezone": "UTC"}})["busy"]
for u in {people!r}:
    print(u, zones[u], [(b["start"], b["end"]) for b in fb[u]])
""")


def event_body(title: str, s: datetime, minutes: int, tz: str, attendees: list[str] = (), description: str = "") -> dict:
    body = {"title": title, "start": iso(s), "end": iso(s + timedelta(minutes=minutes)), "timezone": tz}
    if attendees:
        body["attendees"] = list(attendees)
    if description:
        body["description"] = description
    return body


def event_pat(user: str, s: datetime, minutes: int, **where) -> dict:
    return pat("calendar", "events", "insert", organizer=user, start=iso(s), end=iso(s + timedelta(minutes=minutes)),
               status="confirmed", **where)


# ---------------------------------------------------------------------------------------------------------------
# The tasks
# ---------------------------------------------------------------------------------------------------------------
def tasks(o: Office) -> list[Draft]:
    c = Clock(o)
    rnd = rng("office-hard-time", o.seed)
    drafts = [zone_pair(o, c, rnd), zone_group(o, c, rnd), contact_window(o, c, rnd), quarterly_series(o, c, rnd),
              weekly_series(o, c, rnd), month_end_series(o, c, rnd), payment_deadline(o, c, rnd),
              payment_run(o, c, rnd), late_fee(o, c, rnd)]
    return drafts


def _people_by_offset(o: Office) -> list:
    """Everyone, easternmost first (the largest UTC offset now), then by username."""
    return sorted(o.f.people, key=lambda p: (-offset_h(p.timezone, o.now), p.username))


def _business_days_ahead(c: Clock, tz: str, first: int, count: int) -> list[date]:
    d, out = c.today(tz), []
    while len(out) < first + count:
        d += timedelta(days=1)
        if d.weekday() < 5 and not {d - timedelta(days=1), d, d + timedelta(days=1)} & set(c.hol):
            out.append(d)
    return out[first:]


def _earliest(o: Office, people: list, days: list[date], tz: str, minutes: int, hours_of: list):
    """The earliest start on ``days`` (in ``tz``) free for all of ``people`` and inside the working hours of
    ``hours_of``; None if there is none."""
    for d in days:
        span = working_span(hours_of, d, tz)
        if span is None:
            continue
        busy = [b for p in people for b in o.busy(p.username, iso(span[0]), iso(span[1]))]
        for s in grid(*span, minutes):
            if s > o.now and free(busy, s, s + timedelta(minutes=minutes)):
                return s
    return None


def zone_pair(o: Office, c: Clock, rnd) -> Draft:
    """A call with one colleague on a given day, within both working days (each in their own zone)."""
    minutes = 45
    ranked = _people_by_offset(o)
    pairs = []
    for a in ranked:
        for b in ranked:
            gap = abs(offset_h(a.timezone, o.now) - offset_h(b.timezone, o.now))
            if gap > 0:
                pairs.append((-gap, rnd.random(), a, b))
    for _, _, a, b in sorted(pairs, key=lambda x: x[:2]):
        for d in _business_days_ahead(c, a.timezone, 1, 6):
            right = _earliest(o, [a, b], [d], a.timezone, minutes, [a, b])
            wrong = _earliest(o, [a, b], [d], a.timezone, minutes, [a])
            if right and wrong and right != wrong:
                break
        else:
            continue
        break
    else:
        raise LookupError("no two people in different zones with a shared working hour")
    body = lambda s: event_body(f"{a.first_name} / {b.first_name}", s, minutes, a.timezone, [b.username])  # noqa: E731
    reads = [o.get(a.username, "calendar", "/api/users"),
             freebusy(o, a.username, [a.username, b.username], at(d, 0, 0, a.timezone),
                      at(d + timedelta(days=1), 0, 0, a.timezone))]
    return Draft(
        KIND, a.username, ["calendar"],
        f"Set up a {minutes}-minute call with {o.who(b.username)} on {d:%A %d %B} in your calendar, inviting "
        f"{b.first_name}: at the earliest time that day that is within working hours ({DAY_START}:00 to {DAY_END}:00) "
        f"for both of you and free in both your calendars. Start it on the hour or half hour.",
        reads + [o.post(a.username, "calendar", "/api/events", body(right)), submit(f"booked {iso(right)}")],
        reads + [o.post(a.username, "calendar", "/api/events", body(wrong)), submit(f"booked {iso(wrong)}")],
        expect=[event_pat(a.username, right, minutes),
                pat("calendar", "attendees", "insert", username=b.username, status="needs-action")])


def zone_group(o: Office, c: Clock, rnd) -> Draft:
    """A one-hour meeting of three people in (as far as the world allows) three zones, in a week with no holiday."""
    minutes = 60
    ranked = _people_by_offset(o)
    trios = []
    for i, a in enumerate(ranked):
        for j in range(i + 1, len(ranked)):
            for k in range(j + 1, len(ranked)):
                three = [a, ranked[j], ranked[k]]
                spread = offset_h(a.timezone, o.now) - offset_h(three[2].timezone, o.now)
                if spread > 0:
                    for lead in three:  # the organiser: whoever's own hours alone would mislead
                        trio = [lead] + [p for p in three if p is not lead]
                        trios.append((-len({p.timezone for p in trio}), -spread, rnd.random(), trio))
    today = c.today(ranked[0].timezone)
    monday = today + timedelta(days=7 - today.weekday())
    while any(monday + timedelta(days=k) in c.hol for k in range(-1, 6)):  # a week with no holiday near it
        monday += timedelta(weeks=1)
    week = [monday + timedelta(days=k) for k in range(5)]
    for *_, trio in sorted(trios, key=lambda x: x[:3]):
        span = working_span(trio, monday, trio[0].timezone)
        if span is None or span[1] - span[0] < timedelta(minutes=minutes):
            continue
        right = _earliest(o, trio, week, trio[0].timezone, minutes, trio)
        wrong = _earliest(o, trio, week, trio[0].timezone, minutes, trio[:1])
        if right and wrong and right != wrong:
            break
    else:
        raise LookupError("no three people in different zones with a shared working hour")
    a, others = trio[0], trio[1:]
    names = [p.username for p in others]
    body = lambda s: event_body("Cross-team sync", s, minutes, a.timezone, names)  # noqa: E731
    reads = [o.get(a.username, "calendar", "/api/users"),
             freebusy(o, a.username, [p.username for p in trio], at(monday, 0, 0, a.timezone),
                      at(monday + timedelta(days=5), 0, 0, a.timezone))]
    return Draft(
        KIND, a.username, ["calendar"],
        f"Find the earliest one-hour slot in the week of Monday {monday:%d %B} (Monday to Friday) that is free for you, "
        f"{o.who(others[0].username)} and {o.who(others[1].username)}, and within working hours ({DAY_START}:00 to "
        f"{DAY_END}:00 on a weekday) for each of the three of you, starting on the hour or half hour. Create the "
        f"meeting in your calendar, titled \"Cross-team sync\", and invite the two of them.",
        reads + [o.post(a.username, "calendar", "/api/events", body(right)), submit(f"booked {iso(right)}")],
        reads + [o.post(a.username, "calendar", "/api/events", body(wrong)), submit(f"booked {iso(wrong)}")],
        expect=[event_pat(a.username, right, minutes)]
        + [pat("calendar", "attendees", "insert", username=u, status="needs-action") for u in names])


CITIES = [("London", "Europe/London"), ("Dublin", "Europe/Dublin"), ("Lisbon", "Europe/Lisbon"),
          ("Berlin", "Europe/Berlin"), ("Paris", "Europe/Paris"), ("Madrid", "Europe/Madrid"),
          ("Amsterdam", "Europe/Amsterdam"), ("Stockholm", "Europe/Stockholm"), ("Sao Paulo", "America/Sao_Paulo"),
          ("Athens", "Europe/Athens"), ("Helsinki", "Europe/Helsinki"), ("Toronto", "America/Toronto"),
          ("Vancouver", "America/Vancouver"), ("Mexico City", "America/Mexico_City"), ("Honolulu", "Pacific/Honolulu"),
          ("Singapore", "Asia/Singapore"), ("Sydney", "Australia/Sydney"), ("Dubai", "Asia/Dubai"),
          ("Mumbai", "Asia/Kolkata"), ("Auckland", "Pacific/Auckland"), ("Bangkok", "Asia/Bangkok")]


def contact_window(o: Office, c: Clock, rnd) -> Draft:
    """An outside contact gives a window in their own city's time; book the earliest slot in it you are free."""
    minutes = 30
    f = o.f
    vendor = f.vendors[rnd.randrange(len(f.vendors))]
    pick = [p for p in f.people if p.team in ("finance", "product", "sales")]
    me = pick[rnd.randrange(len(pick))]
    options = []
    for d in _business_days_ahead(c, me.timezone, 2, 4):
        for city, tz in CITIES:
            for h in range(9, 16):
                s = at(d, h, 0, tz)
                local = s.astimezone(ZoneInfo(me.timezone))
                if local.date() == d and 7 <= local.hour <= 12 and offset_h(tz, s) != offset_h(me.timezone, s):
                    options.append((d, city, tz, h))
    rnd.shuffle(options)
    for choice in options:
        d, city, tz, h = choice
        w0, w1 = at(d, h, 0, tz), at(d, h + 2, 0, tz)
        block = (w0, w0 + timedelta(minutes=30))  # you are busy at the start of the window (planted)
        busy = o.busy(me.username, iso(w0), iso(w1)) + [(iso(block[0]), iso(block[1]))]
        right = next((s for s in grid(w0, w1, minutes) if free(busy, s, s + timedelta(minutes=minutes))), None)
        wrong_start = at(d, h, 0, me.timezone)  # the window read in your own zone
        own = o.busy(me.username, iso(wrong_start), iso(wrong_start + timedelta(hours=2)))
        wrong = next((s for s in grid(wrong_start, wrong_start + timedelta(hours=2), minutes)
                      if free(own, s, s + timedelta(minutes=minutes))), None)
        if right and wrong and right != wrong:
            break
    else:
        raise LookupError("no window the calendar leaves room in")
    first = vendor.contact_name.split()[0]
    tid = planted_thread_id(o)
    mail = {"id": tid, "subject": "A quick call?", "messages": [{
        "sender": f"{vendor.contact_name} <{vendor.contact_email}>", "to": [me.email],
        "date": iso(o.now - timedelta(hours=5)),
        "body": (f"Hi {me.first_name},\n\nCould we have a half-hour call on {d:%A %d %B} about our renewal? "
                 f"I am in {city} that week and free between {h}:00 and {h + 2}:00 local time; anything in that "
                 f"window works for me.\n\nThanks,\n{vendor.contact_name}\n{vendor.name}")}]}
    plant = event_body("Focus time", block[0], 30, me.timezone)
    setup = setup_requests(o, me.username, "calendar", "/api/events", [plant])
    desc = f"Call with {vendor.contact_name} ({vendor.contact_email}), {vendor.name}"
    body = lambda s: event_body(f"Call with {vendor.contact_name}", s, minutes, me.timezone, description=desc)  # noqa: E731
    reads = [o.get(me.username, "mail", "/api/messages", q="call"),
             o.get(me.username, "calendar", "/api/events", start=iso(at(d, 0, 0, me.timezone)),
                   end=iso(at(d + timedelta(days=1), 0, 0, me.timezone)))]
    return Draft(
        KIND, me.username, ["mail", "calendar"],
        f"{vendor.contact_name} of {vendor.name} asked you by email for a call. Book it in your calendar: "
        f"{minutes} minutes, at the earliest time within the window {first} gave at which you are free, on the hour "
        f"or half hour. {first} has no account here, so invite nobody; put their email address in the event's "
        f"description. No reply is needed.",
        reads + [o.post(me.username, "calendar", "/api/events", body(right)), submit(f"booked {iso(right)}")],
        reads + [o.post(me.username, "calendar", "/api/events", body(wrong)), submit(f"booked {iso(wrong)}")],
        expect=[event_pat(me.username, right, minutes, description={"$contains": vendor.contact_email})],
        allow=[MAIL_READ, pat("calendar", "events", "insert", organizer=me.username, title="Focus time",
                              start=iso(block[0]), end=iso(block[1]))],
        setup=setup, inject={"mail": [mail]})


def quarterly_series(o: Office, c: Clock, rnd) -> Draft:
    """The quarterly review on the first business day of each of the next four quarters, 10:00-12:00 local."""
    f = o.f
    lead = o.person(f.team("leadership").lead)
    invitees = [p.username for p in f.members("leadership") if p.username != lead.username]
    invitees.append(f.team("finance").lead)
    today = c.today(lead.timezone)
    q = (today.month - 1) // 3
    starts = []
    for k in range(1, 5):
        m = 3 * (q + k)
        starts.append(date(today.year + m // 12, m % 12 + 1, 1))
    days = [c.next_business(d) for d in starts]
    right = [at(d, 10, 0, lead.timezone) for d in days]
    fixed = at(today, 10, 0, lead.timezone).time()  # the decoy: today's UTC time of 10:00, on the 1st
    wrong = [datetime.combine(d, fixed, UTC) for d in starts]
    assert right != wrong
    title = "Quarterly business review"
    body = lambda s: event_body(title, s, 120, lead.timezone, invitees)  # noqa: E731
    reads = [o.get(lead.username, "chat", "/api/conversations.history", channel="announcements")]
    return Draft(
        KIND, lead.username, ["calendar", "chat"],
        f"Put the \"{title}\" in your calendar for each of the next four quarters: on the first business day of each "
        f"quarter, 10:00 to 12:00 your time, inviting {' and '.join(o.who(u) for u in invitees)}. One event per quarter; "
        f"the office's holidays are listed in #announcements.",
        reads + [o.post(lead.username, "calendar", "/api/events", body(s)) for s in right] + [submit("4 reviews booked")],
        reads + [o.post(lead.username, "calendar", "/api/events", body(s)) for s in wrong] + [submit("4 reviews booked")],
        expect=[event_pat(lead.username, s, 120) for s in right]
        + [pat("calendar", "attendees", "insert", username=u, status="needs-action") for u in invitees],
        allow=[pat("calendar", "attendees", "insert", username=u) for u in invitees],
        inject={"chat": [c.announcement()]})


def weekly_series(o: Office, c: Clock, rnd) -> Draft:
    """A weekly 1:1 for five weeks around an office holiday, on the holiday's weekday: that week is skipped."""
    f = o.f
    managers = [p for p in f.people if any(q.manager == p.username for q in f.people)]
    me = managers[rnd.randrange(len(managers))]
    reports = [q for q in f.people if q.manager == me.username]
    them = reports[rnd.randrange(len(reports))]
    today = c.today(me.timezone)
    hol = next(d for d in c.hol if d >= today + timedelta(days=16) and d.weekday() < 5)
    back = min(2, (hol - today).days // 7 - 1)
    first = hol - timedelta(weeks=back)
    weeks = [first + timedelta(weeks=k) for k in range(5)]
    right = [at(d, 11, 0, me.timezone) for d in weeks if c.business(d)]
    wrong = [at(d, 11, 0, me.timezone) for d in weeks]
    body = lambda s: event_body(f"{me.first_name} / {them.first_name} 1:1", s, 30, me.timezone, [them.username])  # noqa: E731
    reads = [o.get(me.username, "chat", "/api/conversations.history", channel="announcements")]
    return Draft(
        KIND, me.username, ["calendar", "chat"],
        f"Set up your weekly 30-minute 1:1 with {o.who(them.username)}: every {first:%A} at 11:00 your time for the "
        f"five weeks starting {first:%A %d %B}, one event per week, each inviting {them.first_name}. There is no 1:1 on "
        f"a day the office is closed (its holidays are listed in #announcements).",
        reads + [o.post(me.username, "calendar", "/api/events", body(s)) for s in right] + [submit("1:1s booked")],
        reads + [o.post(me.username, "calendar", "/api/events", body(s)) for s in wrong] + [submit("1:1s booked")],
        expect=[event_pat(me.username, s, 30) for s in right],
        allow=[pat("calendar", "attendees", "insert", username=them.username)],
        inject={"chat": [c.announcement()]})


def month_end_series(o: Office, c: Clock, rnd) -> Draft:
    """The month-end close on the last business day of each month, through the first month whose last day is not
    one (a weekend or a holiday), at least three months."""
    f = o.f
    fin = [p for p in f.members("finance") if p.username != f.team("finance").lead]
    me = fin[rnd.randrange(len(fin))] if fin else o.person(f.team("finance").lead)
    head = f.team("finance").lead
    invite = [head] if head != me.username else []
    today = c.today(me.timezone)
    y, m = today.year, today.month
    if c.last_business_of_month(y, m) <= today:
        y, m = next_month(y, m)
    months = [(y, m)]
    while len(months) < 3 or all(c.business(month_last(*ym)) for ym in months):
        months.append(next_month(*months[-1]))
    right = [at(c.last_business_of_month(*ym), 14, 0, me.timezone) for ym in months]
    wrong = [at(month_last(*ym), 14, 0, me.timezone) for ym in months]
    assert right != wrong
    body = lambda s: event_body("Month-end close", s, 120, me.timezone, invite)  # noqa: E731
    reads = [o.get(me.username, "chat", "/api/conversations.history", channel="announcements")]
    who = f", inviting {o.who(head)}" if invite else ""
    return Draft(
        KIND, me.username, ["calendar", "chat"],
        f"Block 14:00 to 16:00 your time for the month-end close on the last business day of each month, from "
        f"{date(*months[0], 1):%B %Y} through {date(*months[-1], 1):%B %Y}: one event per month, titled \"Month-end "
        f"close\"{who}. The office's holidays are listed in #announcements.",
        reads + [o.post(me.username, "calendar", "/api/events", body(s)) for s in right] + [submit("booked")],
        reads + [o.post(me.username, "calendar", "/api/events", body(s)) for s in wrong] + [submit("booked")],
        expect=[event_pat(me.username, s, 120) for s in right],
        allow=[pat("calendar", "attendees", "insert", username=u) for u in invite],
        inject={"chat": [c.announcement()]})


def _invoice_number(o: Office, rnd, vendor) -> str:
    letters = "".join(w[0] for w in vendor.name.replace(",", "").split() if w[0].isalpha())[:3].upper()
    return f"{letters}-{o.now.year % 100:02d}{rnd.randint(1000, 9999)}"


def _finance(o: Office) -> tuple:
    """(a finance person who holds the Operating account, another finance person or the head)."""
    holders = next(a.holders for a in o.f.bank.accounts if a.id == o.operating)
    fin = [p.username for p in o.f.members("finance")]
    payer = next(u for u in fin if u in holders)
    other = next((u for u in fin if u != payer), o.f.team("leadership").lead)
    return o.person(payer), o.person(other)


def payment_deadline(o: Office, c: Clock, rnd) -> Draft:
    """An invoice payable within ten business days of receipt: a reminder on the last day it can be paid on time."""
    f = o.f
    me, _ = _finance(o)
    vendor = f.vendors[rnd.randrange(len(f.vendors))]
    today = c.today(me.timezone)
    received = today - timedelta(days=1)
    while not c.business(received):
        received -= timedelta(days=1)
    due = c.add_business(received, 10)
    naive = received + timedelta(days=10)
    number = _invoice_number(o, rnd, vendor)
    amount = rnd.randint(40, 380) * 1000 + rnd.choice([0, 250, 500, 750])
    tid = planted_thread_id(o)
    mail = {"id": tid, "subject": f"Invoice {number}", "messages": [{
        "sender": f"{vendor.contact_name} <{vendor.contact_email}>", "to": [me.email],
        "date": iso(at(received, 14, 20, me.timezone)),
        "body": (f"Hello,\n\nPlease find our invoice {number} for {vendor.service}: {money(amount)}.\n\nAs agreed, "
                 f"payment is due within 10 business days of receipt of this invoice.\n\nKind regards,\n"
                 f"{vendor.contact_name}\n{vendor.name}")}]}
    title = f"Pay {number}"
    body = lambda d: event_body(title, at(d, 9, 0, me.timezone), 30, me.timezone)  # noqa: E731
    reads = [o.get(me.username, "mail", "/api/messages", q=number),
             o.get(me.username, "chat", "/api/conversations.history", channel="announcements")]
    return Draft(
        KIND, me.username, ["mail", "calendar", "chat"],
        f"{vendor.name} emailed you invoice {number}. Put a reminder titled \"{title}\" in your calendar from 9:00 to "
        f"9:30 your time on the last day we can pay it on time under the terms in their email. The office's holidays "
        f"are listed in #announcements.",
        reads + [o.post(me.username, "calendar", "/api/events", body(due)), submit(f"reminder on {due}")],
        reads + [o.post(me.username, "calendar", "/api/events", body(naive)), submit(f"reminder on {naive}")],
        expect=[event_pat(me.username, at(due, 9, 0, me.timezone), 30)],
        allow=[MAIL_READ], inject={"mail": [mail], "chat": [c.announcement()]})


def _payees(o: Office) -> list:
    return [v for v in o.f.vendors if any(p.id == v.payee and p.owner == "org" for p in o.f.bank.payees)]


def _pay(o: Office, user: str, payee: str, amount: int, memo: str, n: int) -> list[dict]:
    return o.pay(user, payee, amount, memo, f"tr_{n:04d}")


def payment_run(o: Office, c: Clock, rnd) -> Draft:
    """This week's payment run: pay the invoices due within the next five business days, leave the rest."""
    f = o.f
    me, colleague = _finance(o)
    vendors = _payees(o)
    rnd.shuffle(vendors)
    today = c.today(me.timezone)
    limit = f.policies.per_transfer_limit_cents
    # due dates: two within five business days (one only when counting business days), two after
    cut = c.add_business(today, 5)
    dues = [c.add_business(today, 2), cut, c.add_business(today, 6), c.add_business(today, 9)]
    assert (cut - today).days > 5
    items = []
    for k, d in enumerate(dues):
        v = vendors[k % len(vendors)]
        amount = min(rnd.randint(30, 260) * 1000 + rnd.choice([0, 125, 450]), limit - 1000)
        items.append((v, _invoice_number(o, rnd, v), amount, d))
    order = sorted(items, key=lambda x: x[1])
    table = "\n".join(f"- {v.name}: invoice {num}, {money(a)}, due {d:%A %d %B %Y}" for v, num, a, d in order)
    mail = {"id": planted_thread_id(o), "subject": "Payment run this week", "messages": [{
        "sender": f"{colleague.name} <{colleague.email}>", "to": [me.email], "date": iso(o.now - timedelta(hours=2)),
        "body": (f"Hi {me.first_name},\n\nHere is what is waiting for this week's payment run (all vendors are set "
                 f"up as payees):\n\n{table}\n\nThanks,\n{colleague.first_name}")}]}
    base = len(o.tables["bank"]["transfers"])
    pay = [x for x in items if x[3] <= cut]
    naive = [x for x in items if (x[3] - today).days <= 5]
    assert pay != naive
    oracle, decoy = [o.get(me.username, "mail", "/api/messages", q="payment run"), o.get(me.username, "bank", "/api/payees")], []
    decoy = list(oracle)
    for k, (v, num, a, _) in enumerate(pay):
        oracle += _pay(o, me.username, v.payee, a, num, base + k + 1)
    for k, (v, num, a, _) in enumerate(naive):
        decoy += _pay(o, me.username, v.payee, a, num, base + k + 1)
    return Draft(
        KIND, me.username, ["mail", "bank", "chat"],
        f"{colleague.name} emailed you the list for this week's payment run. Pay today, from the {f.org.name} "
        f"Operating account, every invoice on it that falls due within the next five business days (each to the "
        f"vendor's payee on file, with the invoice number as the memo), and confirm each transfer; the others wait "
        f"for next week's run. The office's holidays are listed in #announcements.",
        oracle + [submit(f"paid {len(pay)} invoices")], decoy + [submit(f"paid {len(naive)} invoices")],
        expect=[pat("bank", "transfers", "insert", payee=v.payee, amount_cents=a, status="completed",
                    memo={"$contains": num}) for v, num, a, _ in pay],
        allow=transfer_allow(o, o.operating) + [MAIL_READ],
        inject={"mail": [mail], "chat": [c.announcement()]})


def late_fee(o: Office, c: Clock, rnd) -> Draft:
    """An invoice with a late fee after 15 business days: paid today, which is late only in calendar days."""
    f = o.f
    me, _ = _finance(o)
    vendor = _payees(o)[rnd.randrange(len(_payees(o)))]
    today = c.today(me.timezone)
    # late by calendar days, on time by business days even without holidays (so the fee does not hinge on them)
    issued = next(today - timedelta(days=k) for k in range(16, 24)
                  if (today - timedelta(days=k)).weekday() < 5 and add_business(today - timedelta(days=k), 15) > today)
    amount = min(rnd.randint(80, 300) * 1000 + rnd.choice([0, 200, 600]), f.policies.per_transfer_limit_cents // 2)
    fee = round(amount * 0.02)
    number = _invoice_number(o, rnd, vendor)
    mail = {"id": planted_thread_id(o), "subject": f"Invoice {number}", "messages": [{
        "sender": f"{vendor.contact_name} <{vendor.contact_email}>", "to": [me.email],
        "date": iso(at(issued, 11, 5, me.timezone)),
        "body": (f"Hello,\n\nAttached is invoice {number}, dated {issued:%d %B %Y}, for {vendor.service}: "
                 f"{money(amount)}.\n\nTerms: payment is due 15 business days from the invoice date. A late fee of 2% "
                 f"of the invoice amount applies to payments made after the due date; please add it to the payment "
                 f"in that case.\n\nBest regards,\n{vendor.contact_name}\n{vendor.name}")}]}
    base = len(o.tables["bank"]["transfers"])
    reads = [o.get(me.username, "mail", "/api/messages", q=number), o.get(me.username, "bank", "/api/payees")]
    return Draft(
        KIND, me.username, ["mail", "bank"],
        f"Pay {vendor.name}'s invoice {number} today from the {f.org.name} Operating account, to their payee on file, "
        f"with the invoice number as the memo, and confirm the transfer. Add their late fee only if it applies under "
        f"the terms in their email.",
        reads + _pay(o, me.username, vendor.payee, amount, number, base + 1) + [submit(f"paid {money(amount)}")],
        reads + _pay(o, me.username, vendor.payee, amount + fee, number, base + 1) + [submit(f"paid {money(amount + fee)}")],
        expect=[pat("bank", "transfers", "insert", payee=vendor.payee, amount_cents=amount, status="completed",
                    memo={"$contains": number})],
        allow=transfer_allow(o, o.operating) + [MAIL_READ],
        inject={"mail": [mail]})
