"""The worldqa task templates: questions whose answers live in one generated world, instantiated per world seed.

``worldqa_tasks(seed)`` returns task dicts in the suite-file shape (``docs/task-format.md``: id, kind, instruction,
answer, supporting_urls, graders, oracle; a few also carry a task-level ``world``). Each template below makes one task
from the seeded facts (``worldgen.facts``) and the site facts (``worldgen.site``), so the instruction stays the same
kind of question while the answer changes with the world. Ids (``worldqa-001``...) follow the order of the templates
and are the same for every seed. Every oracle is a list of real tool calls that solves the task against the world's
snapshot (``worldgen.site.ensure_world_snapshot(seed)``) and ends with ``submit``. Graders check the answer and,
where a lucky guess could pass, that the page holding the fact was opened (``url_visited``): as a grader only when the
instruction names the page, otherwise as the task's ``evidence`` (a metric reported beside the reward, never in it).

Kinds: ``one-hop``, ``multi-hop`` (across pages), ``aggregation`` (numbers gathered then computed with the python
tool), ``as-of`` (the answer differs between the world's two captures; the search and open tools' ``as_of`` argument
is the way to see the older one), ``override`` (a page says X, a later announcement or update changes it) and
``backend`` (the web plus a simulated service reached with the ``http`` tool and a bearer token from the fixture;
these tasks name their backends in a task-level ``world``).
"""
from __future__ import annotations

import calendar
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from airgap.envs.common import money, parse_iso, rng
from airgap.envs.graders import forms
from airgap.envs.worldgen.facts import WorldFacts
from airgap.envs.worldgen.facts import generate as generate_world
from airgap.envs.worldgen.site import SiteFacts, SiteUrls, site_facts

SEARCH_PAGE = "https://search.airgap/search"
WEB_TOOLS = ["search", "open", "find", "click", "python", "submit"]


# ---------------------------------------------------------------------------------------------------------------
# tool calls and graders
# ---------------------------------------------------------------------------------------------------------------
def search(query: str) -> dict:
    return {"tool": "search", "args": {"query": query}}


def open_(url: str) -> dict:
    return {"tool": "open", "args": {"url": url}}


def find(pattern: str) -> dict:
    return {"tool": "find", "args": {"pattern": pattern}}


def python(code: str) -> dict:
    return {"tool": "python", "args": {"code": code}}


def http_get(url: str, token: str | None = None) -> dict:
    args: dict = {"method": "GET", "url": url}
    if token:
        args["headers"] = {"Authorization": f"Bearer {token}"}
    return {"tool": "http", "args": args}


def submit(answer: str) -> dict:
    return {"tool": "submit", "args": {"answer": answer}}


def open_as_of(url: str, day: str) -> dict:
    """Open ``url`` as it stood on ``day`` (the web archive, through the open tool's ``as_of``)."""
    return {"tool": "open", "args": {"url": url, "as_of": day}}


def numeric(value: float, tol: float = 0.0) -> dict:
    return {"type": "numeric", "expected": value, "tol": tol}


def dollars(cents: int) -> dict:
    return {"type": "numeric", "expected": round(cents / 100, 2), "tol": 0.005}


def same(*expected: str) -> dict:
    return {"type": "normalized_match", "expected": list(expected)}


def contains(*expected: str) -> dict:
    return {"type": "contains", "expected": list(expected) if len(expected) > 1 else expected[0]}


def named(value: str) -> dict:
    """The grader of a question whose answer is one value: a date as one date (any writing), anything else (a
    name, a city, an identifier) as that exact value (case and punctuation aside), so a hedge between two
    records ("Coreyland or Springfield") fails."""
    return day(value) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else same(value)


def phone(value: str) -> dict:
    """A phone number in any common writing (separators, country code, "x975" or "ext. 975")."""
    return {"type": "phone", "expected": value}


def day(iso_date: str) -> dict:
    return {"type": "date", "expected": iso_date}


def version(v: str) -> dict:
    return {"type": "version", "expected": v}


def parts(sep: str, *named: tuple[str, dict]) -> dict:
    """A multi-part answer "<a><sep> <b>", each part graded by its own grader, in this order."""
    return {"type": "parts", "sep": sep, "names": [n for n, _ in named], "parts": [g for _, g in named]}


def visited(*urls: str) -> dict:
    return {"type": "url_visited", "url": list(urls) if len(urls) > 1 else urls[0]}


def plain(cents: int) -> str:
    """Dollars as an agent would submit them: "1234.5" -> "$1,234.50"."""
    return money(cents)


def version_answers(v: str) -> dict:
    return version(v)


# ---------------------------------------------------------------------------------------------------------------
# templates
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class Ctx:
    """What a template reads: the world, its sites, their URLs, and a random source of its own."""

    w: WorldFacts
    sf: SiteFacts
    u: SiteUrls
    rnd: random.Random

    @property
    def org(self) -> str:
        return self.w.org.name

    @property
    def orgs(self) -> str:
        """The organisation's name as a possessive ("Acme Labs'", "Acme Software's")."""
        return self.org + ("'" if self.org.endswith("s") else "'s")

    @property
    def a(self) -> str:
        return self.sf.captures[0].day

    @property
    def b(self) -> str:
        return self.sf.captures[1].day

    def staff(self, exclude_leads: bool = True):
        leads = {t.lead for t in self.w.teams}
        return [p for p in self.w.people if not (exclude_leads and p.username in leads) and p.manager]

    def product(self, exclude: set[str] = frozenset()):
        """A product whose catalogue price did not change and that is not in the gift guide."""
        skip = set(self.sf.price_changes) | {s for s, _ in self.sf.gift_guide} | set(exclude)
        return self.rnd.choice([p for p in self.w.shop.products if p.sku not in skip])


Template = Callable[[Ctx], dict]
TEMPLATES: list[tuple[str, str, Template]] = []   # (name, kind, function), in id order


def template(kind: str):
    def deco(fn: Template) -> Template:
        TEMPLATES.append((fn.__name__, kind, fn))
        return fn
    return deco


# ---------------------------------------------------------------- one-hop
@template("one-hop")
def hq_city(c: Ctx) -> dict:
    o = c.w.org
    return dict(instruction=f"In which city is {c.orgs} head office? Answer with the city name.", answer=o.city,
                urls=[c.u.about()], graders=[named(o.city)],
                oracle=[search(f"{c.org} head office"), open_(c.u.about()), find("Head office"), submit(o.city)])


@template("one-hop")
def founded_year(c: Ctx) -> dict:
    y = c.w.org.founded
    return dict(instruction=f"According to the About page of {c.orgs} website, in what year was {c.org} founded? Answer with "
                            "the year.", answer=str(y), urls=[c.u.about()],
                graders=[numeric(y), visited(c.u.about())],
                oracle=[search(f"about {c.org} founded"), open_(c.u.about()), find("founded in"), submit(str(y))])


@template("one-hop")
def team_lead(c: Ctx) -> dict:
    t = c.rnd.choice([t for t in c.w.teams if t.kind != "leadership"])
    lead = c.w.person(t.lead)
    return dict(instruction=f"Who leads the {t.name} team at {c.org}? Answer with the person's full name.", answer=lead.name,
                urls=[c.u.team(t.slug)], graders=[named(lead.name)],
                oracle=[search(f"{t.name} team lead intranet"), open_(c.u.team(t.slug)), find("Lead"), submit(lead.name)])


@template("one-hop")
def person_title(c: Ctx) -> dict:
    p = c.rnd.choice(c.staff())
    url = c.u.person(p.username)
    return dict(instruction=f"According to {p.name}'s profile in the {c.org} intranet's people directory, what is their job "
                            "title?", answer=p.title, urls=[url], graders=[same(p.title), visited(url)],
                oracle=[search(f"{p.name} {c.org}"), open_(url), find("Title"), submit(p.title)])


@template("one-hop")
def person_manager(c: Ctx) -> dict:
    p = c.rnd.choice(c.staff())
    m = c.w.person(p.manager)
    url = c.u.person(p.username)
    return dict(instruction=f"Who is {p.name}'s manager at {c.org}? Answer with the manager's full name.", answer=m.name,
                urls=[url], graders=[named(m.name)],
                oracle=[search(f"{p.name} profile"), open_(url), find("Manager"), submit(m.name)])


@template("one-hop")
def person_start(c: Ctx) -> dict:
    p = c.rnd.choice(c.w.people)
    url = c.u.person(p.username)
    return dict(instruction=f"On what date did {p.name} start at {c.org}? Answer as YYYY-MM-DD.", answer=p.start_date,
                urls=[url], graders=[day(p.start_date)],
                oracle=[search(f"{p.name} {c.org} started"), open_(url), find("Started"), submit(p.start_date)])


def _policy_task(c: Ctx, label: str, find_text: str, value: int, unit: str, money_value: bool) -> dict:
    url = c.u.policies()
    ans = plain(value) if money_value else str(value)
    return dict(instruction=f"Under {c.orgs} current finance and customer policies (intranet handbook), what is the "
                            f"{label}? Answer with the {unit}.", answer=ans, urls=[url],
                graders=[dollars(value) if money_value else numeric(value), visited(url)],
                oracle=[search(f"{c.org} finance policies {label}"), open_(url), find(find_text), submit(ans)])


@template("one-hop")
def refund_window(c: Ctx) -> dict:
    return _policy_task(c, "customer refund window", "refund window", c.w.policies.refund_window_days, "number of days", False)


@template("one-hop")
def transfer_limit(c: Ctx) -> dict:
    return _policy_task(c, "limit on a single bank transfer", "Per-transfer limit", c.w.policies.per_transfer_limit_cents,
                        "amount in US dollars", True)


@template("one-hop")
def meal_per_diem(c: Ctx) -> dict:
    return _policy_task(c, "daily meal per diem", "Meal per diem", c.w.policies.meal_per_diem_cents, "amount in US dollars",
                        True)


@template("one-hop")
def receipt_threshold(c: Ctx) -> dict:
    return _policy_task(c, "expense amount above which a receipt is required", "Receipts required",
                        c.w.policies.receipt_required_over_cents, "amount in US dollars", True)


@template("one-hop")
def approval_threshold(c: Ctx) -> dict:
    return _policy_task(c, "expense amount above which manager approval is required", "approval required",
                        c.w.policies.expense_approval_over_cents, "amount in US dollars", True)


@template("one-hop")
def mileage_rate(c: Ctx) -> dict:
    return _policy_task(c, "mileage rate", "Mileage rate", c.w.policies.mileage_rate_cents, "number of cents per mile", False)


@template("one-hop")
def product_price(c: Ctx) -> dict:
    p = c.product()
    url = c.u.item(p.sku)
    return dict(instruction=f"What price does the {p.name} (SKU {p.sku}) have on its product page in the {c.w.shop.brand} "
                            "catalogue? Answer in US dollars.", answer=plain(p.price_cents), urls=[url],
                graders=[dollars(p.price_cents), visited(url)],
                oracle=[search(f"{p.name} {c.w.shop.brand}"), open_(url), find("Price"), submit(plain(p.price_cents))])


@template("one-hop")
def product_sku(c: Ctx) -> dict:
    p = c.product()
    url = c.u.item(p.sku)
    return dict(instruction=f"What is the SKU of the {p.name} sold by {c.w.shop.brand}?", answer=p.sku, urls=[url],
                graders=[named(p.sku)], oracle=[search(p.name), open_(url), find("SKU"), submit(p.sku)])


@template("one-hop")
def support_email(c: Ctx) -> dict:
    url, email = c.u.help_contact(), c.w.shop.support_email
    return dict(instruction=f"Which email address does the contact page of the {c.w.shop.brand} help centre give for customer "
                            "support?",
                answer=email, urls=[url], graders=[named(email), visited(url)],
                oracle=[search(f"{c.w.shop.brand} contact support"), open_(url), find("Email"), submit(email)])


@template("one-hop")
def warranty_months(c: Ctx) -> dict:
    cat = c.rnd.choice(sorted(c.sf.warranty_months))
    m = c.sf.warranty_months[cat]
    url = c.u.warranty()
    return dict(instruction=f"According to the warranty page of its help centre, how many months of warranty does "
                            f"{c.w.shop.brand} give on products in its {cat} category? "
                            "Answer with the number of months.", answer=str(m), urls=[url],
                graders=[numeric(m), visited(url)],
                oracle=[search(f"{c.w.shop.brand} warranty {cat}"), open_(url), find(cat), submit(str(m))])


@template("one-hop")
def latest_version(c: Ctx) -> dict:
    v = c.sf.latest.version
    return dict(instruction=f"What is the latest released version of {c.sf.product}, the product made by {c.org}? Answer "
                            "with the version number.", answer=v, urls=[c.u.releases()], graders=[version_answers(v)],
                oracle=[search(f"{c.sf.product} releases"), open_(c.u.releases()), submit(v)])


@template("one-hop")
def release_date(c: Ctx) -> dict:
    r = c.rnd.choice(c.sf.releases[:-1])
    url = c.u.release(r.version)
    return dict(instruction=f"On what date was {c.sf.product} {r.version} released? Answer as YYYY-MM-DD.", answer=r.day,
                urls=[url], graders=[day(r.day)],
                oracle=[search(f"{c.sf.product} {r.version} release notes"), open_(url), find("Released"), submit(r.day)])


@template("one-hop")
def config_default(c: Ctx) -> dict:
    o = c.rnd.choice([o for o in c.sf.options if not o.changes])
    url = c.u.configuration()
    return dict(instruction=f"What is the default value of the `{o.name}` setting of {c.sf.product}? Answer with the number "
                            f"({o.unit}).", answer=str(o.initial), urls=[url], graders=[numeric(o.initial), visited(url)],
                oracle=[search(f"{c.sf.product} configuration {o.name}"), open_(url), find(o.name), submit(str(o.initial))])


@template("one-hop")
def rate_limit(c: Ctx) -> dict:
    pl = c.rnd.choice(c.sf.plans)
    url = c.u.api()
    return dict(instruction=f"How many API requests per minute does the {pl.name} plan of {c.sf.product} allow?",
                answer=str(pl.rate_limit), urls=[url], graders=[numeric(pl.rate_limit), visited(url)],
                oracle=[search(f"{c.sf.product} API rate limits"), open_(url), find(pl.name), submit(str(pl.rate_limit))])


@template("one-hop")
def plan_price(c: Ctx) -> dict:
    pl = c.rnd.choice([x for x in c.sf.plans if x.previous_seat_cents is None])
    url = c.u.pricing()
    return dict(instruction=f"What is the monthly price per seat of {c.sf.product}'s {pl.name} plan? Answer in US dollars.",
                answer=plain(pl.seat_cents), urls=[url], graders=[dollars(pl.seat_cents), visited(url)],
                oracle=[search(f"{c.sf.product} pricing {pl.name} plan"), open_(url), find(pl.name), submit(plain(pl.seat_cents))])


@template("one-hop")
def lead_investor(c: Ctx) -> dict:
    fu = c.sf.funding
    art = next(a for a in c.sf.news.articles if a.kind == "funding")
    url = c.u.article(art)
    return dict(instruction=f"According to the {c.sf.news.name}, which firm led {c.orgs} {fu.round} round?",
                answer=fu.investor, urls=[url], graders=[named(fu.investor)],
                oracle=[search(f"{c.org} raises {fu.round}"), open_(url), find("led by"), submit(fu.investor)])


@template("one-hop")
def person_phone(c: Ctx) -> dict:
    p = c.rnd.choice(c.w.people)
    url = c.u.person(p.username)
    return dict(instruction=f"What phone number does the {c.org} intranet list for {p.name}?", answer=p.phone, urls=[url],
                graders=[phone(p.phone)],
                oracle=[search(f"{p.name} phone"), open_(url), find("Phone"), submit(p.phone)])


@template("one-hop")
def office_postcode(c: Ctx) -> dict:
    o = c.w.org
    return dict(instruction=f"What is the ZIP code of {c.orgs} head office?", answer=o.postcode, urls=[c.u.about()],
                graders=[named(o.postcode)],
                oracle=[search(f"{c.org} head office address"), open_(c.u.about()), find("Head office"), submit(o.postcode)])


@template("one-hop")
def note_budget(c: Ctx) -> dict:
    n = c.rnd.choice(c.sf.notes)
    item, cents = c.rnd.choice(n.decisions)
    team = c.w.team(n.team).name
    url = c.u.note(n.slug)
    return dict(instruction=f"At the {c.org} {team} team meeting on {n.day}, what budget was approved for {item}? Answer in "
                            "US dollars.", answer=plain(cents), urls=[url], graders=[dollars(cents), visited(url)],
                oracle=[search(f"{team} team meeting {n.day}"), open_(url), find("Approved a budget"), submit(plain(cents))])


@template("one-hop")
def opening_location(c: Ctx) -> dict:
    opens = c.sf.openings_at(c.b)
    titles = [o.title for o in opens]
    o = c.rnd.choice([o for o in opens if titles.count(o.title) == 1] or opens)
    team = c.w.team(o.team).name
    url = c.u.careers()
    return dict(instruction=f"{c.orgs} careers page lists an open {o.title} position on the {team} team. Where is it "
                            "based?", answer=o.location, urls=[url], graders=[named(o.location), visited(url)],
                oracle=[search(f"{c.org} careers {o.title}"), open_(url), find(o.title), submit(o.location)])


@template("one-hop")
def github_login(c: Ctx) -> dict:
    p = c.rnd.choice(c.w.people)
    url = c.u.person(p.username)
    return dict(instruction=f"What is {p.name}'s GitHub username, according to the {c.org} intranet?", answer=p.github_login,
                urls=[url], graders=[named(p.github_login)],
                oracle=[search(f"{p.name} GitHub"), open_(url), find("GitHub"), submit(p.github_login)])


@template("one-hop")
def group_coordinator(c: Ctx) -> dict:
    g = c.rnd.choice(c.sf.groups)
    p = c.w.person(g.coordinator)
    url = c.u.group(g.slug)
    return dict(instruction=f"Who coordinates {c.orgs} {g.name}? Answer with the person's full name.", answer=p.name,
                urls=[url], graders=[named(p.name)],
                oracle=[search(f"{g.name} coordinator"), open_(url), find("Coordinator"), submit(p.name)])


@template("one-hop")
def install_command(c: Ctx) -> dict:
    cmd = f"pip install {c.sf.package}"
    url = c.u.getting_started()
    return dict(instruction=f"Which shell command does the {c.sf.product} documentation give to install {c.sf.product}?",
                answer=cmd, urls=[url], graders=[named(cmd)],
                oracle=[search(f"{c.sf.product} install getting started"), open_(url), find("pip install"), submit(cmd)])


@template("one-hop")
def hire_reporter(c: Ctx) -> dict:
    art = next(a for a in c.sf.news.articles if a.kind == "hire")
    url = c.u.article(art)
    return dict(instruction=f"Which {c.sf.news.name} reporter wrote the article \"{art.title}\"?", answer=art.reporter,
                urls=[url], graders=[named(art.reporter)],
                oracle=[search(art.title), open_(url), find("by"), submit(art.reporter)])


# ---------------------------------------------------------------- multi-hop
@template("multi-hop")
def manager_email(c: Ctx) -> dict:
    p = c.rnd.choice(c.staff())
    m = c.w.person(p.manager)
    return dict(instruction=f"What is the email address of {p.name}'s manager at {c.org}?", answer=m.email,
                urls=[c.u.person(p.username), c.u.person(m.username)], graders=[named(m.email)],
                oracle=[search(f"{p.name} profile"), open_(c.u.person(p.username)), find("Manager"),
                        open_(c.u.person(m.username)), find("Email"), submit(m.email)])


@template("multi-hop")
def announcement_author_title(c: Ctx) -> dict:
    a = c.rnd.choice([x for x in c.sf.announcements if x.override])
    p = c.w.person(a.author)
    url = c.u.announcement(a.slug)
    return dict(instruction=f"What is the job title of the person who posted the {c.org} intranet announcement "
                            f"\"{a.title}\", according to that person's intranet profile?", answer=p.title,
                urls=[url, c.u.person(p.username)],
                graders=[same(p.title), visited(c.u.person(p.username))],
                oracle=[search(a.title), open_(url), find("Posted"), open_(c.u.person(p.username)), find("Title"),
                        submit(p.title)])


@template("multi-hop")
def action_owner_title(c: Ctx) -> dict:
    n = c.rnd.choice(c.sf.notes)
    who, task = c.rnd.choice(n.actions)
    p = c.w.person(who)
    team = c.w.team(n.team).name
    return dict(instruction=f"At the {c.org} {team} team meeting on {n.day}, someone took the action item \"{task}\". Who "
                            "was it, and what is their job title? Answer as: name, title.", answer=f"{p.name}, {p.title}",
                urls=[c.u.note(n.slug), c.u.person(p.username)],
                graders=[parts(",", ("name", named(p.name)), ("title", named(p.title)))],
                oracle=[search(f"{team} meeting {n.day} action items"), open_(c.u.note(n.slug)), find(task),
                        open_(c.u.person(p.username)), find("Title"), submit(f"{p.name}, {p.title}")])


@template("multi-hop")
def hire_team_size(c: Ctx) -> dict:
    art = next(a for a in c.sf.news.articles if a.kind == "hire")
    hire = next(p for p in c.w.people if art.slug.endswith(p.username))
    team = c.w.team(hire.team)
    n = len(c.w.members(team.slug))
    url = c.u.team(team.slug)
    return dict(instruction=f"The {c.sf.news.name} reported \"{art.title}\". How many members does the team that person "
                            f"leads have today, according to that team's page on the {c.org} intranet?", answer=str(n),
                urls=[c.u.article(art), url], graders=[numeric(n), visited(url)],
                oracle=[search(art.title), open_(c.u.article(art)), find("will lead"), open_(url), find("Members"),
                        submit(str(n))])


@template("multi-hop")
def feature_release_date(c: Ctx) -> dict:
    r = c.rnd.choice([x for x in c.sf.releases if x.added])
    feat = c.rnd.choice(r.added)
    return dict(instruction=f"{c.sf.product} added \"{feat}\" in one of its releases. Which version was it, and on what "
                            "date was that version released? Answer as: version, YYYY-MM-DD.", answer=f"{r.version}, {r.day}",
                urls=[c.u.docs_changelog(), c.u.release(r.version)],
                graders=[parts(",", ("version", version(r.version)), ("date", day(r.day)))],
                oracle=[search(f"{c.sf.product} {feat}"), open_(c.u.docs_changelog()), find(feat),
                        open_(c.u.release(r.version)), find("Released"), submit(f"{r.version}, {r.day}")])


@template("multi-hop")
def option_change_date(c: Ctx) -> dict:
    o = c.rnd.choice([o for o in c.sf.options if o.changes and not o.stale])
    version, new = o.changes[-1]
    r = next(x for x in c.sf.releases if x.version == version)
    return dict(instruction=f"On what date was the {c.sf.product} release that changed the default of `{o.name}` to {new} "
                            "published? Answer as YYYY-MM-DD.", answer=r.day,
                urls=[c.u.docs_changelog(), c.u.release(version)], graders=[day(r.day)],
                oracle=[search(f"{c.sf.product} changelog {o.name}"), open_(c.u.docs_changelog()), find(o.name),
                        open_(c.u.release(version)), find("Released"), submit(r.day)])


@template("multi-hop")
def launch_fix_count(c: Ctx) -> dict:
    art = next(a for a in c.sf.news.articles if a.kind == "launch")
    version = art.title.rsplit(" ", 1)[1]
    r = next(x for x in c.sf.releases if x.version == version)
    url = c.u.release(version)
    n = len(r.fixed)
    return dict(instruction=f"The {c.sf.news.name} covered the release of {c.sf.product} {version}. How many bug fixes does "
                            "that version's release notes page list?", answer=str(n), urls=[c.u.article(art), url],
                graders=[numeric(n), visited(url)],
                oracle=[search(art.title), open_(c.u.article(art)), open_(url), find("Fixed"), submit(str(n))])


@template("multi-hop")
def gift_guide_price_now(c: Ctx) -> dict:
    sku, then = c.rnd.choice(c.sf.gift_guide)
    p = next(x for x in c.w.shop.products if x.sku == sku)
    guide, url = c.u.gift_guide(c.sf.gift_guide_day), c.u.item(sku)
    return dict(instruction=f"The {c.w.shop.brand} gift guide of {c.sf.gift_guide_day[:4]} recommends the {p.name}. What "
                            "price does its product page in the catalogue show today? Answer in US dollars.", answer=plain(p.price_cents),
                urls=[guide, url], graders=[dollars(p.price_cents), visited(url)],
                oracle=[search(f"{c.w.shop.brand} gift guide"), open_(guide), find(p.name), open_(url), find("Price"),
                        submit(plain(p.price_cents))])


@template("multi-hop")
def manager_city(c: Ctx) -> dict:
    p = c.rnd.choice(c.staff())
    m = c.w.person(p.manager)
    return dict(instruction=f"In which city is {p.name}'s manager based, according to the manager's intranet profile? "
                            "Answer with the city.", answer=m.city,
                urls=[c.u.person(p.username), c.u.person(m.username)],
                graders=[named(m.city), visited(c.u.person(m.username))],
                oracle=[search(f"{p.name} {c.org}"), open_(c.u.person(p.username)), find("Manager"),
                        open_(c.u.person(m.username)), find("Location"), submit(m.city)])


@template("multi-hop")
def docs_team_lead(c: Ctx) -> dict:
    t = c.w.team(c.sf.docs_team)
    lead = c.w.person(t.lead)
    return dict(instruction=f"The {c.sf.product} documentation names the {c.org} team that maintains it. Who leads that "
                            "team? Answer with the person's full name.", answer=lead.name, urls=[c.u.docs(), c.u.team(t.slug)],
                graders=[named(lead.name)],
                oracle=[search(f"{c.sf.product} documentation maintained by"), open_(c.u.docs()), find("maintained by"),
                        open_(c.u.team(t.slug)), find("Lead"), submit(lead.name)])


@template("multi-hop")
def coordinator_manager(c: Ctx) -> dict:
    g = c.rnd.choice([g for g in c.sf.groups if c.w.person(g.coordinator).manager])
    p = c.w.person(g.coordinator)
    m = c.w.person(p.manager)
    return dict(instruction=f"Who is the manager of the person who coordinates {c.orgs} {g.name}? Answer with the full "
                            "name.", answer=m.name, urls=[c.u.group(g.slug), c.u.person(p.username)],
                graders=[named(m.name)],
                oracle=[search(g.name), open_(c.u.group(g.slug)), find("Coordinator"), open_(c.u.person(p.username)),
                        find("Manager"), submit(m.name)])


@template("multi-hop")
def note_taker_start(c: Ctx) -> dict:
    n = c.rnd.choice(c.sf.notes)
    p = c.w.person(n.author)
    team = c.w.team(n.team).name
    return dict(instruction=f"Who took the notes at the {c.org} {team} team meeting on {n.day}, and on what date did that "
                            "person start at the company? Answer as: name, YYYY-MM-DD.", answer=f"{p.name}, {p.start_date}",
                urls=[c.u.note(n.slug), c.u.person(p.username)],
                graders=[parts(",", ("name", named(p.name)), ("date", day(p.start_date)))],
                oracle=[search(f"{team} team meeting {n.day}"), open_(c.u.note(n.slug)), find("Notes by"),
                        open_(c.u.person(p.username)), find("Started"), submit(f"{p.name}, {p.start_date}")])


@template("multi-hop")
def press_launch_reporter(c: Ctx) -> dict:
    art = next(a for a in c.sf.news.articles if a.kind == "launch")
    return dict(instruction=f"{c.orgs} press page links to a {c.sf.news.name} article about a {c.sf.product} release. Who "
                            "wrote it?", answer=art.reporter, urls=[c.u.press(), c.u.article(art)],
                graders=[named(art.reporter)],
                oracle=[search(f"{c.org} in the press"), open_(c.u.press()), find("ships"), open_(c.u.article(art)),
                        find("by"), submit(art.reporter)])


# ---------------------------------------------------------------- aggregation (with the python tool)
@template("aggregation")
def category_total(c: Ctx) -> dict:
    cat = c.rnd.choice(sorted({p.category for p in c.w.shop.products}))
    prices = [c.sf.price_at(p.sku, c.b) for p in c.w.shop.products if p.category == cat]
    total = sum(prices)
    url = c.u.category(cat)
    code = f"prices = {[round(x / 100, 2) for x in sorted(prices)]}\nprint(f'${{sum(prices):,.2f}}')"
    return dict(instruction=f"What would one of each product listed on the {cat} category page of the {c.w.shop.brand} "
                            "catalogue cost in total, at today's prices? Answer in US dollars.", answer=plain(total), urls=[url],
                graders=[dollars(total), visited(url)],
                oracle=[search(f"{c.w.shop.brand} {cat}"), open_(url), python(code), submit(plain(total))])


@template("aggregation")
def category_count_over(c: Ctx) -> dict:
    cats = sorted({p.category for p in c.w.shop.products})
    cat = c.rnd.choice(cats)
    prices = sorted(c.sf.price_at(p.sku, c.b) for p in c.w.shop.products if p.category == cat)
    threshold = (prices[len(prices) // 2] // 1000) * 10  # whole dollars near the median
    n = sum(x > threshold * 100 for x in prices)
    url = c.u.category(cat)
    code = f"prices = {[round(x / 100, 2) for x in prices]}\nprint(sum(p > {threshold} for p in prices))"
    return dict(instruction=f"How many products on the {cat} category page of the {c.w.shop.brand} catalogue cost more "
                            f"than ${threshold}?",
                answer=str(n), urls=[url], graders=[numeric(n), visited(url)],
                oracle=[search(f"{c.w.shop.brand} {cat} products"), open_(url), python(code), submit(str(n))])


@template("aggregation")
def cart_total(c: Ctx) -> dict:
    p1 = c.product()
    p2 = c.product(exclude={p1.sku})
    sub = 2 * p1.price_cents + p2.price_cents
    ship = 0 if sub >= 75_00 else 695
    total = sub + ship
    u1, u2, us = c.u.item(p1.sku), c.u.item(p2.sku), c.u.shipping()
    code = (f"sub = 2 * {p1.price_cents / 100:.2f} + {p2.price_cents / 100:.2f}\n"
            "ship = 0 if sub >= 75 else 6.95\nprint(f'${sub + ship:,.2f}')")
    return dict(instruction=f"At {c.w.shop.brand}, what would an order of two {p1.name} and one {p2.name} cost in total, "
                            "using the prices on their product pages and the shipping charges on the help centre's "
                            "shipping page? Answer in US dollars.", answer=plain(total),
                urls=[u1, u2, us], graders=[dollars(total), visited(u1, u2, us)],
                oracle=[search(p1.name), open_(u1), find("Price"), open_(u2), find("Price"), open_(us), find("ship"),
                        python(code), submit(plain(total))])


@template("aggregation")
def trip_reimbursement(c: Ctx) -> dict:
    miles, days = c.rnd.randint(40, 400), c.rnd.randint(2, 5)
    pol = c.w.policies
    total = miles * pol.mileage_rate_cents + days * pol.meal_per_diem_cents
    url = c.u.policies()
    code = f"print(f'${{{miles} * {pol.mileage_rate_cents} / 100 + {days} * {pol.meal_per_diem_cents / 100:.2f}:,.2f}}')"
    return dict(instruction=f"A {c.org} employee drives {miles} miles for a business trip and claims meals for {days} days "
                            "at the maximum daily per diem. Under the current policies, what is the most they can be "
                            "reimbursed for mileage and meals together? Answer in US dollars.", answer=plain(total),
                urls=[url], graders=[dollars(total), visited(url)],
                oracle=[search(f"{c.org} mileage rate meal per diem"), open_(url), find("Mileage"), find("per diem"),
                        python(code), submit(plain(total))])


@template("aggregation")
def headcount(c: Ctx) -> dict:
    n = len(c.w.people)
    url = c.u.people()
    return dict(instruction=f"How many people work at {c.org}, according to the intranet's people directory?", answer=str(n),
                urls=[url], graders=[numeric(n), visited(url)],
                oracle=[search(f"{c.org} people directory"), open_(url), find("people work at"),
                        python(f"print(len({[p.username for p in c.w.people]}))"), submit(str(n))])


@template("aggregation")
def two_team_headcount(c: Ctx) -> dict:
    t1, t2 = c.rnd.sample([t for t in c.w.teams if t.kind != "leadership"], 2)
    n1, n2 = len(c.w.members(t1.slug)), len(c.w.members(t2.slug))
    u1, u2 = c.u.team(t1.slug), c.u.team(t2.slug)
    return dict(instruction=f"How many people are in {c.orgs} {t1.name} and {t2.name} teams together, according to the "
                            "two teams' intranet pages?", answer=str(n1 + n2),
                urls=[u1, u2], graders=[numeric(n1 + n2), visited(u1, u2)],
                oracle=[search(f"{t1.name} team"), open_(u1), find("Members"), open_(u2), find("Members"),
                        python(f"print({n1} + {n2})"), submit(str(n1 + n2))])


@template("aggregation")
def days_between_releases(c: Ctx) -> dict:
    r1, r2 = sorted(c.rnd.sample(c.sf.releases, 2), key=lambda r: r.day)
    days = (date.fromisoformat(r2.day) - date.fromisoformat(r1.day)).days
    url = c.u.releases()
    code = f"from datetime import date\nprint((date.fromisoformat('{r2.day}') - date.fromisoformat('{r1.day}')).days)"
    return dict(instruction=f"According to the {c.sf.product} releases page, how many days passed between the releases of "
                            f"{r1.version} and {r2.version}?",
                answer=str(days), urls=[url], graders=[numeric(days), visited(url)],
                oracle=[search(f"{c.sf.product} releases"), open_(url), find(r1.version), find(r2.version), python(code),
                        submit(str(days))])


@template("aggregation")
def releases_in_year(c: Ctx) -> dict:
    years = sorted({r.day[:4] for r in c.sf.releases})
    y = c.rnd.choice(years)
    n = sum(r.day.startswith(y) for r in c.sf.releases)
    url = c.u.releases()
    days = [r.day for r in c.sf.releases]
    return dict(instruction=f"According to the {c.sf.product} releases page, how many releases were published in {y}?",
                answer=str(n), urls=[url],
                graders=[numeric(n), visited(url)],
                oracle=[search(f"{c.sf.product} releases"), open_(url), find(f"| {y}-"),
                        python(f"print(sum(d.startswith('{y}') for d in {days}))"), submit(str(n))])


@template("aggregation")
def refund_deadline(c: Ctx) -> dict:
    delivered = date.fromisoformat(c.b) - timedelta(days=c.rnd.randint(1, 12))
    window = c.w.policies.refund_window_days
    last = (delivered + timedelta(days=window)).isoformat()
    url = c.u.returns()
    code = (f"from datetime import date, timedelta\nprint(date.fromisoformat('{delivered.isoformat()}') + "
            f"timedelta(days={window}))")
    return dict(instruction=f"An order from {c.w.shop.brand} was delivered on {delivered.isoformat()}. According to the "
                            "help centre's returns page, what is the last day a refund can be requested? Answer as YYYY-MM-DD.",
                answer=last, urls=[url], graders=[named(last), visited(url)],
                oracle=[search(f"{c.w.shop.brand} returns refund"), open_(url), find("refund within"), python(code),
                        submit(last)])


@template("aggregation")
def plan_annual_cost(c: Ctx) -> dict:
    pl = c.rnd.choice([x for x in c.sf.plans if x.previous_seat_cents is None])
    seats = c.rnd.randint(2, pl.max_seats or 40)
    total = round(seats * pl.seat_cents * 12 * (100 - c.sf.annual_discount_pct) / 100)
    url = c.u.pricing()
    code = f"print(f'${{{seats} * {pl.seat_cents / 100:.2f} * 12 * (1 - {c.sf.annual_discount_pct} / 100):,.2f}}')"
    return dict(instruction=f"What does one year of {c.sf.product}'s {pl.name} plan cost for {seats} seats, billed annually "
                            "with the annual-billing discount? Answer in US dollars.", answer=plain(total), urls=[url],
                graders=[dollars(total), visited(url)],
                oracle=[search(f"{c.sf.product} pricing"), open_(url), find(pl.name), find("Annual billing"), python(code),
                        submit(plain(total))])


@template("aggregation")
def minor_fix_count(c: Ctx) -> dict:
    minor = c.sf.latest.version.rsplit(".", 1)[0]
    rels = [r for r in c.sf.releases if r.version.startswith(minor + ".")]
    n = sum(len(r.fixed) for r in rels)
    url = c.u.docs_changelog()
    counts = [len(r.fixed) for r in rels]
    return dict(instruction=f"How many bug fixes ('Fixed' entries) does the {c.sf.product} changelog page list across all "
                            f"{minor}.x releases together?", answer=str(n), urls=[url], graders=[numeric(n), visited(url)],
                oracle=[search(f"{c.sf.product} changelog"), open_(url), find("Fixed:"), python(f"print(sum({counts}))"),
                        submit(str(n))])


@template("aggregation")
def team_budget_total(c: Ctx) -> dict:
    teams = sorted({n.team for n in c.sf.notes})
    slug = c.rnd.choice(teams)
    notes = [n for n in c.sf.notes if n.team == slug]
    cents = [x for n in notes for _, x in n.decisions]
    total = sum(cents)
    team = c.w.team(slug).name
    urls = [c.u.note(n.slug) for n in notes]
    steps = [call for n in notes for call in (open_(c.u.note(n.slug)), find("Approved a budget"))]
    return dict(instruction=f"Add up every budget approved in the {c.org} {team} team's meeting notes on the intranet. What "
                            "is the total? Answer in US dollars.", answer=plain(total), urls=[c.u.team(slug), *urls],
                graders=[dollars(total), visited(*urls)],
                oracle=[search(f"{team} team meeting notes"), open_(c.u.team(slug)), *steps,
                        python(f"print(f'${{sum({[x / 100 for x in cents]}):,.2f}}')"), submit(plain(total))])


@template("aggregation")
def longest_tenure(c: Ctx) -> dict:
    def unique_first(t) -> bool:
        starts = sorted(p.start_date for p in c.w.members(t.slug))
        return len(starts) >= 2 and starts[0] != starts[1]

    t = c.rnd.choice([t for t in c.w.teams if unique_first(t)])
    members = c.w.members(t.slug)
    first = min(members, key=lambda p: p.start_date)
    url = c.u.team(t.slug)
    starts = {p.name: p.start_date for p in members}
    return dict(instruction=f"According to the {t.name} team's intranet page, who among its members has been at {c.org} "
                            "the longest? Answer with the person's full name.", answer=first.name, urls=[url],
                graders=[named(first.name), visited(url)],
                oracle=[search(f"{t.name} team members"), open_(url), find("Started"),
                        python(f"starts = {starts}\nprint(min(starts, key=starts.get))"), submit(first.name)])


# ---------------------------------------------------------------- as-of (the older capture, and today's)
def _as_of(c: Ctx, question: str, query: str, url: str, find_text: str, old: str, new: str,
           graders: list[dict]) -> dict:
    """A question about a page on capture A's day and today: the oracle reads today's page, then the archive of that day."""
    answer = f"{old} on {c.a}; {new} now"
    return dict(instruction=f"{question} Answer as: <then>; <now>.", answer=answer, urls=[url],
                graders=[parts(";", ("then", graders[0]), ("now", graders[1])), visited(url)],
                oracle=[search(query), open_(url), find(find_text), open_as_of(url, c.a), find(find_text), submit(answer)])


def _as_of_policy(c: Ctx, label: str, query: str, find_text: str, attr: str, money_value: bool) -> dict:
    old, new = getattr(c.sf.policy_at(c.a), attr), getattr(c.sf.policy_at(c.b), attr)
    fmt, grade = (plain, dollars) if money_value else (str, numeric)
    unit = "in US dollars" if money_value else ("in days" if "days" in attr else "in cents per mile")
    return _as_of(c, f"What {label} did {c.orgs} finance and customer policies page state on {c.a}, and what does it "
                     f"state now? Answer {unit}.", query, c.u.policies(), find_text, fmt(old), fmt(new),
                  [grade(old), grade(new)])


@template("as-of")
def as_of_refund_window(c: Ctx) -> dict:
    return _as_of_policy(c, "customer refund window", "finance customer policies refund window", "refund window",
                         "refund_window_days", False)


@template("as-of")
def as_of_transfer_limit(c: Ctx) -> dict:
    return _as_of_policy(c, "limit on a single bank transfer", "finance policies per-transfer limit single bank transfer",
                         "Per-transfer limit", "per_transfer_limit_cents", True)


@template("as-of")
def as_of_mileage(c: Ctx) -> dict:
    return _as_of_policy(c, "mileage rate", "finance customer policies mileage rate cents per mile", "Mileage rate",
                         "mileage_rate_cents", False)


@template("as-of")
def as_of_per_diem(c: Ctx) -> dict:
    return _as_of_policy(c, "daily meal per diem", "finance customer policies meal per diem", "Meal per diem",
                         "meal_per_diem_cents", True)


@template("as-of")
def as_of_latest_release(c: Ctx) -> dict:
    old, new = c.sf.releases_at(c.a)[-1].version, c.sf.latest.version
    return _as_of(c, f"Which version of {c.sf.product} did its documentation give as the current version on {c.a}, and "
                     "which does it give now?", f"{c.sf.product} documentation current version", c.u.docs(),
                  "Current version", old, new, [version(old), version(new)])


@template("as-of")
def as_of_team_plan(c: Ctx) -> dict:
    pl = next(x for x in c.sf.plans if x.previous_seat_cents is not None)
    old, new = c.sf.plan_price_at(pl, c.a), pl.seat_cents
    return _as_of(c, f"What did {c.orgs} pricing page give as the monthly price per seat of {c.sf.product}'s {pl.name} "
                     f"plan on {c.a}, and what does it give now? Answer in US dollars.",
                  f"{c.sf.product} pricing {pl.name} plan price per seat", c.u.pricing(), pl.name, plain(old), plain(new),
                  [dollars(old), dollars(new)])


@template("as-of")
def as_of_product_price(c: Ctx) -> dict:
    sku = c.rnd.choice(sorted(c.sf.price_changes))
    p = next(x for x in c.w.shop.products if x.sku == sku)
    old, new = c.sf.price_at(sku, c.a), p.price_cents
    return _as_of(c, f"What price did the product page of the {p.name} (SKU {sku}) in the {c.w.shop.brand} catalogue show "
                     f"on {c.a}, and what does it show now? Answer in US dollars.", f"{p.name} price", c.u.item(sku),
                  "Price", plain(old), plain(new), [dollars(old), dollars(new)])


@template("as-of")
def as_of_filled_opening(c: Ctx) -> dict:
    gone = [o for o in c.sf.openings_at(c.a) if o not in c.sf.openings_at(c.b)]
    o = gone[0]
    query = f"careers at {c.org} hiring open positions"
    answer = f"{o.title}, {o.location}"
    return dict(instruction=f"Which position did {c.orgs} careers page list on {c.a} that it no longer lists today? Answer "
                            f"as: title, location.", answer=answer, urls=[c.u.careers()],
                graders=[*([parts(",", ("title", same(o.title)), ("location", same(o.location)))] if "," not in
                           o.title + o.location else [contains(o.title), contains(o.location)]), visited(c.u.careers())],
                oracle=[search(query), open_(c.u.careers()), find("Posted"), open_as_of(c.u.careers(), c.a), find("Posted"),
                        submit(answer)])


# ---------------------------------------------------------------- a later announcement overrides the page
def _override(c: Ctx, key: str, question: str, unit_answer: Callable[[int], str], grader: Callable[[int], dict]) -> dict:
    a = next(x for x in c.sf.announcements if x.override and x.override[0] == key)
    value = a.override[1]
    url = c.u.announcement(a.slug)
    ans = unit_answer(value)
    return dict(instruction=f"{question} (The handbook may be out of date.)", answer=ans, urls=[c.u.benefits(), url],
                graders=[grader(value), visited(url)],
                oracle=[search(f"{c.org} {c.sf.benefits[key].label.lower()}"), open_(c.u.benefits()),
                        find(c.sf.benefits[key].label), open_(c.u.announcements()), open_(url), find("starting"),
                        submit(ans)])


@template("override")
def learning_budget(c: Ctx) -> dict:
    return _override(c, "learning", f"What is the annual learning budget per employee at {c.org} now? Answer in US dollars.",
                     lambda v: f"${v:,}", lambda v: numeric(v))


@template("override")
def remote_days(c: Ctx) -> dict:
    return _override(c, "remote_days", f"How many days a week may {c.org} employees work remotely now?", str, numeric)


@template("override")
def expense_deadline(c: Ctx) -> dict:
    return _override(c, "expense_day", f"By which day of the month are {c.org} expense reports due now? Answer with the "
                     "day number.", str, numeric)


@template("override")
def oncall_stipend(c: Ctx) -> dict:
    return _override(c, "oncall", f"What is {c.orgs} on-call stipend per week on call now? Answer in US dollars.",
                     lambda v: f"${v:,}", lambda v: numeric(v))


@template("override")
def stale_config_default(c: Ctx) -> dict:
    o = next(x for x in c.sf.options if x.stale)
    version, new = o.changes[-1]
    url = c.u.release(version)
    return dict(instruction=f"What is the default value of `{o.name}` in the latest {c.sf.product} release? Answer with the "
                            "number. (The configuration reference may lag behind the release notes.)", answer=str(new),
                urls=[c.u.configuration(), url], graders=[numeric(new)],
                oracle=[search(f"{c.sf.product} {o.name}"), open_(c.u.configuration()), find(o.name), open_(c.u.releases()),
                        open_(url), find(o.name), submit(str(new))])


@template("override")
def funding_correction(c: Ctx) -> dict:
    fu = c.sf.funding
    art = next(a for a in c.sf.news.articles if a.kind == "correction")
    first = next(a for a in c.sf.news.articles if a.kind == "funding")
    url = c.u.article(art)
    ans = f"${fu.amount_musd} million"
    return dict(instruction=f"How much money did {c.org} raise in its {fu.round} round, according to the {c.sf.news.name}? "
                            "Answer in millions of US dollars.", answer=ans, urls=[c.u.article(first), url],
                graders=[numeric(fu.amount_musd), visited(url)],
                oracle=[search(f"{c.org} {fu.round} million"), open_(c.u.article(first)), find("million"),
                        search(f"correction {c.org} funding round"), open_(url), find("The round was"), submit(ans)])


@template("override")
def refund_processing_days(c: Ctx) -> dict:
    url = c.u.updates()
    n = c.sf.returns_days_new
    return dict(instruction=f"Within how many business days of approval does {c.w.shop.brand} process refunds now? (Check "
                            "for service updates.)", answer=str(n), urls=[c.u.returns(), url],
                graders=[numeric(n), visited(url)],
                oracle=[search(f"{c.w.shop.brand} refunds processed business days"), open_(c.u.returns()),
                        find("processed within"), open_(url), find("processed within"), submit(str(n))])


# ---------------------------------------------------------------- backend (the web, then a simulated service)
def _tools_with_http() -> list[str]:
    return [*WEB_TOOLS[:-1], "http", "submit"]


@template("backend")
def gift_guide_stock(c: Ctx) -> dict:
    sku, _ = c.rnd.choice(c.sf.gift_guide)
    p = next(x for x in c.w.shop.products if x.sku == sku)
    guide = c.u.gift_guide(c.sf.gift_guide_day)
    api = f"https://shop.{c.w.shop.domain}/api/products/{sku}"
    return dict(instruction=f"The {c.w.shop.brand} gift guide of {c.sf.gift_guide_day[:4]} recommends the {p.name}. How many "
                            f"units are in stock right now? The shop's API is at https://shop.{c.w.shop.domain}/api "
                            "(GET /products/{sku} is public).", answer=str(p.stock), urls=[guide, api],
                graders=[numeric(p.stock), visited(api)],
                oracle=[search(f"{c.w.shop.brand} gift guide"), open_(guide), find(p.name), http_get(api),
                        submit(str(p.stock))],
                world={"backends": ["shop"], "world_seed": c.w.seed, "tools": _tools_with_http()})


@template("backend")
def fixed_issue_comments(c: Ctx) -> dict:
    repo = c.w.repos[0]
    numbers = {i.number: i for i in repo.issues}
    r, line = next((r, x) for r in reversed(c.sf.releases) for x in r.fixed if x.endswith(")") and "(#" in x
                   and int(x.rsplit("(#", 1)[1][:-1]) in numbers)
    n = int(line.rsplit("(#", 1)[1][:-1])
    issue = numbers[n]
    eng = next(p for p in c.w.people if p.team == "engineering")
    token = c.w.token("tracker", eng.username)
    api = f"https://api.github.com/repos/{repo.owner}/{repo.name}/issues/{n}"
    rel = c.u.release(r.version)
    return dict(instruction=f"The {c.sf.product} {r.version} release notes list a fix for a GitHub issue of "
                            f"{repo.owner}/{repo.name}. How many comments does that issue have on GitHub? Use the GitHub API "
                            f"(https://api.github.com) with the token {token}.", answer=str(len(issue.comments)),
                urls=[rel, api], graders=[numeric(len(issue.comments)), visited(api)],
                oracle=[search(f"{c.sf.product} {r.version} release notes"), open_(rel), find("(#"), http_get(api, token),
                        submit(str(len(issue.comments)))],
                world={"backends": ["tracker"], "world_seed": c.w.seed, "tools": _tools_with_http()})


def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


@template("backend")
def order_warranty_end(c: Ctx) -> dict:
    orders = [o for o in c.w.shop.orders if o.delivered_at]
    o = c.rnd.choice(orders)
    line = o.lines[0]
    p = next(x for x in c.w.shop.products if x.sku == line.sku)
    months = c.sf.warranty_months[p.category]
    delivered = parse_iso(o.delivered_at).date()
    end = _add_months(delivered, months).isoformat()
    staff = c.w.shop.staff[0]
    token = c.w.token("shop", staff)
    api = f"https://shop.{c.w.shop.domain}/api/orders/{o.id}"
    code = ("import calendar\nfrom datetime import date\n"
            f"d, n = date.fromisoformat('{delivered.isoformat()}'), {months}\n"
            "y, m = divmod(d.month - 1 + n, 12)\n"
            "print(date(d.year + y, m + 1, min(d.day, calendar.monthrange(d.year + y, m + 1)[1])))")
    return dict(instruction=f"Until what date is the first item of {c.w.shop.brand} order {o.id} under warranty? Count the "
                            "warranty months of its product category (help centre) from the delivery date (UTC), keeping the "
                            "day of the month. The shop's API is at https://shop." + c.w.shop.domain + "/api; use the "
                            f"support token {token}. Answer as YYYY-MM-DD.", answer=end,
                urls=[api, c.u.item(p.sku), c.u.warranty()], graders=[named(end), visited(api)],
                oracle=[http_get(api, token), open_(c.u.item(p.sku)), find("Category"), open_(c.u.warranty()),
                        find(p.category), python(code), submit(end)],
                world={"backends": ["shop"], "world_seed": c.w.seed, "tools": _tools_with_http()})


# ---------------------------------------------------------------------------------------------------------------
SUITE_VERSION = 1
BUDGET = {"max_steps": 20, "tool_timeout": 20, "total_tool_seconds": 300}


def template_kinds() -> list[tuple[str, str]]:
    """(task id, kind) of every template, in order; the same for every seed."""
    return [(f"worldqa-{i:03d}", kind) for i, (_, kind, _) in enumerate(TEMPLATES, 1)]


def _names_pages(instruction: str, grader: dict) -> bool:
    urls = grader["url"] if isinstance(grader["url"], list) else [grader["url"]]
    return all(u.split("://", 1)[-1].rstrip("/") in instruction for u in urls)


def _with_unit(grader: dict, instruction: str) -> dict:
    """A numeric grader with the unit its instruction asks the number in ("How many API requests per minute", "Answer
    in millions of US dollars"), so an answer in another unit of the same family fails; the parts of a multi-part
    answer take it where it is a currency or a scale, or where the instruction asks no two "how many" (each would name
    one part)."""
    unit = forms.asked_unit(instruction)
    if not unit:
        return grader
    if grader["type"] == "numeric" and "unit" not in grader:
        return {**grader, "unit": unit}
    if grader["type"] == "parts":
        asked = forms.parse_unit(unit)
        if asked.currency or asked.scale or len(re.findall(r"\bhow many\b", instruction, re.I)) < 2:
            return {**grader, "parts": [{**p, "unit": unit} if p["type"] == "numeric" and "unit" not in p else p
                                        for p in grader["parts"]]}
    return grader


def worldqa_tasks(seed: int) -> list[dict]:
    """The worldqa tasks of world ``seed``: one per template, ids ``worldqa-001``... in template order."""
    w = generate_world(seed)
    sf = site_facts(w)
    u = SiteUrls(sf.hosts)
    tasks = []
    for i, (name, kind, fn) in enumerate(TEMPLATES, 1):
        t = fn(Ctx(w, sf, u, rng("airgap-qa", seed, name)))
        # a page the instruction does not name is a process requirement: the `evidence` metric, never the reward
        hidden = [g for g in t["graders"] if g["type"] == "url_visited" and not _names_pages(t["instruction"], g)]
        graders = [_with_unit(g, t["instruction"]) for g in t["graders"] if g not in hidden]
        task = {"id": f"worldqa-{i:03d}", "kind": kind, "instruction": t["instruction"], "answer": t["answer"],
                "supporting_urls": t["urls"], "graders": graders,
                "oracle": t["oracle"]}
        if hidden:
            task["evidence"] = hidden
        if "world" in t:
            task["world"] = t["world"]
        tasks.append(task)
    return tasks


def generate(seed: int) -> dict:
    """The worldqa suite of world ``seed`` as suite-file data; its web is the world's generated snapshot ("world"), which
    the env builds (about a second) and caches on first use."""
    return {"suite": "worldqa", "version": SUITE_VERSION,
            "description": f"Questions about generated world {seed}: its websites, intranet, product docs, shop and news.",
            "world": {"snapshot": "world", "tools": list(WEB_TOOLS), "world_seed": int(seed),
                      "sandbox": {"memory": "256m"}},
            "budget": dict(BUDGET), "tasks": worldqa_tasks(seed)}
