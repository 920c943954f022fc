"""One world, told the same way by every service: each person is one identity (the same login, name and address in mail,
chat, the calendar and the tracker, whose GitHub-style handle maps back to that login), everything made while the world
was set up happened before its "now", the office closes on the holidays' real dates, and every product version the
services' text names is one the docs site released or a milestone the tracker plans."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest

from airgap.envs.backends import make_backends
from airgap.envs.common import parse_iso
from airgap.envs.worldgen import WorldFacts, generate
from airgap.envs.worldgen.site import site_facts

SEEDS = (0, 7, 111)
#: Fields holding a moment of the world's past: when something was created, sent, posted, placed, delivered or began.
PAST = {"created_at", "updated_at", "closed_at", "date", "ts", "created", "posted_at", "placed_at", "delivered_at", "added",
        "since", "issued", "effective", "start_date"}
VERSION = re.compile(r"(?<![\d,.$])v?(\d+)\.(\d+)(?:\.(\d+))?(?![\d.]\d)")


@pytest.fixture(scope="module", params=SEEDS)
def world(request) -> WorldFacts:
    return generate(request.param)


def _person_of_sender(w: WorldFacts, sender: str):
    m = re.fullmatch(r"(.+) <([^>]+)>", sender)
    assert m, sender
    return m.group(1), m.group(2).lower()


def test_one_identity_per_person_across_services(world):
    w = world
    people = {p.username: p for p in w.people}
    tables = {name: b.fixture_state()["tables"] for name, b in make_backends(["mail", "chat", "calendar", "tracker"], w).items()}
    # the directory of each service: login -> (name, email)
    chat = {u["username"]: (u["real_name"], u["email"]) for u in tables["chat"]["users"]}
    calendar = {c["username"]: (c["name"], c["email"]) for c in tables["calendar"]["calendars"]}
    tracker = {u["username"]: (u["name"], u["email"]) for u in tables["tracker"]["users"] if u["type"] == "User"}
    boxes = {b["address"]: b["name"] for b in tables["mail"]["mailboxes"] if b["kind"] == "personal"}
    mail = {a["username"]: (boxes[a["mailbox"]], a["mailbox"]) for a in tables["mail"]["mailbox_access"]
            if a["mailbox"] in boxes}
    want = {u: (p.name, p.email) for u, p in people.items()}
    assert chat == calendar == tracker == mail == want
    # the tracker's handles are one per person and lead back to the same login
    handles = {u["login"]: u["username"] for u in tables["tracker"]["users"] if u["type"] == "User"}
    assert len(handles) == len(people) and all(handles[p.github_login] == u for u, p in people.items())
    # everything the world says someone did names someone who exists, under that service's identity
    logins = set(handles)
    assert all(m.author in people for c in w.channels for x in c.messages for m in [x, *x.replies])
    assert all(set(c.members) <= set(people) for c in w.channels) and all(set(d.members) <= set(people) for d in w.dms)
    assert all(m.author in d.members for d in w.dms for m in d.messages)
    for r in w.repos:
        assert set(r.collaborators) <= logins and r.owner in logins | {w.org.slug}
        for i in r.issues:
            assert {i.author, *i.assignees, *(c.author for c in i.comments)} <= logins, (r.name, i.number)
    for e in w.events:
        assert e.organizer in people and {a.username for a in e.attendees} <= set(people)
    by_email = {p.email: p for p in w.people}
    for t in w.mail:
        for m in t.messages:
            name, email = _person_of_sender(w, m.sender)
            if email in by_email:
                assert by_email[email].name == name, (t.id, m.sender)


def _moments(node, key=None):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _moments(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from _moments(v, key)
    elif isinstance(node, str) and key in PAST and re.match(r"\d{4}-\d\d-\d\d", node):
        yield key, node


def test_everything_made_at_set_up_lies_before_now(world):
    now = parse_iso(world.now)
    moments = list(_moments(world.to_dict()))
    assert len(moments) > 300
    late = [(k, v) for k, v in moments
            if (parse_iso(v) >= now if "T" in v else date.fromisoformat(v) > now.date())]
    assert not late, late[:10]
    # and a complaint is written after its order arrived, an answer after the complaint
    for t in world.mail:
        dates = [parse_iso(m.date) for m in t.messages]
        assert dates == sorted(dates), t.id
        if t.kind == "complaint":
            case = next(c for c in world.shop.cases if c.id == t.ref)
            order = next(o for o in world.shop.orders if o.id == case.order)
            assert parse_iso(order.delivered_at) < dates[0]
    for c in world.channels:
        for m in c.messages:
            assert all(parse_iso(m.ts) < parse_iso(r.ts) for r in m.replies)


def _observed(d: date) -> date:
    """A fixed-date holiday on a Saturday is observed the Friday before, on a Sunday the Monday after."""
    return d - timedelta(days=1) if d.weekday() == 5 else d + timedelta(days=1) if d.weekday() == 6 else d


def _real_day(holiday: str, d: date) -> bool:
    """Whether ``d`` is the day the US holiday is observed that year, by the calendar's own rules."""
    rules = {
        "Memorial Day": lambda: d.month == 5 and d.weekday() == 0 and d.day >= 25,             # the last Monday of May
        "Labor Day": lambda: d.month == 9 and d.weekday() == 0 and d.day <= 7,                 # the first Monday of September
        "Thanksgiving": lambda: d.month == 11 and d.weekday() == 3 and 22 <= d.day <= 28,     # the fourth Thursday
        "Independence Day": lambda: d == _observed(date(d.year, 7, 4)),
        "New Year's Day": lambda: d in (_observed(date(d.year, 1, 1)), _observed(date(d.year + 1, 1, 1))),
    }
    return rules[holiday]()


def test_holidays_fall_on_their_real_dates(world):
    sf = site_facts(world)
    closings = [a for a in sf.announcements if a.slug.startswith("office-closed-")]
    assert closings
    for a in closings:
        holiday = a.title.removeprefix("Office closed for ")
        m = re.search(r"closed on \w+, (\w+ \d+) for ", a.paragraphs[0])
        assert m, a.paragraphs[0]
        posted = date.fromisoformat(a.day)
        day = next(d for y in (posted.year, posted.year + 1)
                   for d in [datetime.strptime(f"{m.group(1)} {y}", "%B %d %Y").date()] if d >= posted)
        assert _real_day(holiday, day), (holiday, day)
        assert f"{day:%A}" in a.paragraphs[0] and day.year == int(a.slug.rsplit("-", 1)[1])


def test_versions_agree_with_the_docs_site(world):
    sf = site_facts(world)
    released = {r.version for r in sf.releases}
    lines = {v.rsplit(".", 1)[0] for v in released}
    repo = world.repos[0]
    milestones = {m.title.lstrip("v") for m in repo.milestones}
    shipped = repo.milestones[0]
    # the tracker's shipped milestone is the docs site's minor release, out on the milestone's date
    first = next(r for r in sf.releases if r.version == shipped.title.lstrip("v") + ".0")
    assert first.day == shipped.due_on[:10]
    texts = [repo.description, *(i.body for i in repo.issues), *(c.body for i in repo.issues for c in i.comments)]
    texts += [m.text for c in world.channels for x in c.messages for m in [x, *x.replies]]
    texts += [m.text for d in world.dms for m in d.messages]
    texts += [t.subject for t in world.mail] + [m.body for t in world.mail for m in t.messages]
    texts += [e.description for e in world.events] + [r.topic for r in world.meeting_requests]
    found = [(m.group(0), text) for text in texts for m in VERSION.finditer(text)]
    assert found, "no text names a version"
    for token, text in found:
        v = token.lstrip("v")
        ok = v in released if v.count(".") == 2 else v in milestones or v in lines
        assert ok, (token, text[:200], sorted(released), sorted(milestones))
