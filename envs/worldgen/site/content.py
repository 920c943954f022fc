"""The facts only a world's websites state (captures, releases, plans, benefits, notes, news), derived per world seed.

``site_facts(world)`` extends one :class:`~airgap.envs.worldgen.facts.WorldFacts` with what the generated sites
need beyond it: two capture dates (A before the current policy revision took effect, B the day before the world's
"now", with a product release published in between), the product's releases, configuration options and plans, the
handbook's benefits and the announcements that later override some of them, meeting notes, working groups named like
teams, a news site, catalogue price changes and a superseded gift guide. Everything comes from a Faker and a
``random.Random`` seeded from the world seed (never global state), so equal seeds give equal facts; the facts shared
with the backends (people, policies, prices, milestones) are read from ``WorldFacts`` and never contradicted.
"""
from __future__ import annotations

import functools
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from faker import Faker

from airgap.envs.common import money, parse_iso, rng, slugify
from airgap.envs.worldgen.facts import COMPONENTS, CONDITIONS, SYMPTOMS, PolicyRevision, WorldFacts

from .prose import Prose

SITE_VERSION = 1  # bump when the site facts, the pages or the crawl change what a world's snapshot holds

OPTION_KINDS = [  # key, unit, description, values
    ("timeout_seconds", "seconds", "How long a {comp} request may take before it is cancelled.", [10, 15, 20, 30, 45, 60, 90]),
    ("max_retries", "retries", "How many times a failed {comp} call is retried.", [2, 3, 4, 5, 6, 8]),
    ("batch_size", "records", "Records sent per {comp} batch.", [50, 100, 200, 250, 500, 1000]),
    ("pool_size", "connections", "Connections kept open by the {comp} client.", [4, 5, 8, 10, 16, 20, 25]),
    ("cache_ttl_minutes", "minutes", "How long {comp} responses are cached.", [5, 10, 15, 30, 60]),
    ("page_size", "items", "Items returned per page by {comp} list calls.", [20, 25, 50, 100]),
    ("token_ttl_minutes", "minutes", "Lifetime of a {comp} access token.", [15, 30, 60, 120]),
    ("max_upload_mb", "MB", "Largest file the {comp} module accepts.", [10, 25, 50, 100, 250]),
    ("log_retention_days", "days", "How long {comp} logs are kept.", [7, 14, 30, 90]),
]
FEATURES = [
    "{Comp} webhooks for {obj} events", "Bulk {verb} of {obj}s in the {comp} module", "The `{cli} {comp} {verb}` command",
    "Single sign-on with {idp}", "{fmt} export of {obj}s", "Audit log entries for {comp} changes",
    "Saved filters in the {comp} view", "Scheduled {verb} jobs for {obj}s", "Per-{obj} permissions in {comp}",
]
OBJECTS = ["invoice", "record", "report", "workspace", "project", "contact", "dataset", "template"]
VERBS = ["export", "import", "archive", "restore", "tag", "merge"]
IDPS = ["Okta", "Azure AD", "Google Workspace", "OneLogin", "Keycloak"]
FORMATS = ["CSV", "Parquet", "JSON Lines", "Excel", "XML"]
PLAN_NAMES = ["Starter", "Team", "Business"]
NEWS_NOUNS = ["Ledger", "Dispatch", "Courier", "Tribune", "Observer", "Chronicle", "Gazette"]
BUDGET_ITEMS = ["the team offsite", "conference travel", "new laptops", "a contract designer", "user research sessions",
                "a load-testing service", "training courses", "a customer advisory day", "recruiting events"]
ACTION_VERBS = ["draft", "review", "update", "publish", "schedule", "audit", "benchmark", "document"]
ACTION_OBJECTS = ["the onboarding checklist", "the {comp} runbook", "the quarterly metrics deck", "the vendor shortlist",
                  "the on-call rota", "the {comp} migration plan", "the hiring scorecard", "the customer FAQ",
                  "the release checklist", "the budget forecast", "the incident postmortem", "the pricing page copy"]
ROUNDS = ["Seed", "Series A", "Series B", "Series C"]
HOLIDAYS = ["Memorial Day", "Independence Day", "Labor Day", "Thanksgiving", "New Year's Day"]


@dataclass(frozen=True)
class Hosts:
    www: str           # the organisation's public website
    intranet: str      # teams, people, handbook, notes, announcements
    docs: str          # the product's documentation
    catalog: str       # the shop's product pages
    help: str          # the shop's support centre
    news: str          # a local news site that reports on the organisation

    def all(self) -> list[str]:
        return [self.www, self.intranet, self.docs, self.catalog, self.help, self.news]


@dataclass(frozen=True)
class Capture:
    label: str         # "A" (earlier) or "B" (latest)
    day: str           # YYYY-MM-DD; the crawl is dated 06:00 UTC that day

    @property
    def timestamp(self) -> str:
        return f"{self.day}T06:00:00Z"


@dataclass
class Release:
    version: str       # "1.4.2"
    day: str
    summary: str
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)
    deprecated: list[str] = field(default_factory=list)


@dataclass
class ConfigOption:
    name: str          # "sync.batch_size"
    unit: str
    description: str
    initial: int       # the default before any listed change
    changes: list[tuple[str, int]] = field(default_factory=list)   # (version, new default), in release order
    stale: bool = False  # the configuration page still shows the default from before the last change

    def default_after(self, versions: set[str]) -> int:
        """The default in effect once the releases ``versions`` are out."""
        value = self.initial
        for v, new in self.changes:
            if v in versions:
                value = new
        return value


@dataclass
class Plan:
    name: str
    seat_cents: int                    # per seat per month, now
    previous_seat_cents: int | None    # before ``SiteFacts.plan_change_day`` (only the plan that changed)
    rate_limit: int                    # API requests per minute
    max_seats: int | None
    features: list[str]


@dataclass
class Benefit:
    key: str
    label: str
    value: int
    unit: str          # how the value is written: "$", "days", "weeks", "day of the month"

    def text(self, value: int | None = None) -> str:
        v = self.value if value is None else value
        if self.unit == "$":
            return f"${v:,}"
        if self.unit == "day of the month":
            return _ordinal(v) + " of the month"
        return f"{v} {self.unit}"


@dataclass
class Announcement:
    slug: str
    day: str
    title: str
    author: str                        # username
    paragraphs: list[str]
    override: tuple[str, int] | None = None   # (benefit key, new value) that this announcement sets


@dataclass
class MeetingNote:
    slug: str
    team: str
    day: str
    author: str
    attendees: list[str]
    agenda: list[str]
    decisions: list[tuple[str, int]]   # (budget item, approved cents)
    actions: list[tuple[str, str]]     # (username, task)


@dataclass
class Group:
    slug: str
    name: str          # deliberately close to a team's name
    looks_like: str    # the team slug it could be mistaken for
    coordinator: str
    members: list[str]
    description: str


@dataclass
class Article:
    slug: str
    day: str
    title: str
    reporter: str
    paragraphs: list[str]
    kind: str          # funding | correction | launch | hire | lookalike | local

    @property
    def path(self) -> str:
        return f"/{self.day[:4]}/{self.day[5:7]}/{self.slug}.html"


@dataclass
class News:
    name: str
    host: str
    tagline: str
    reporters: list[str]
    articles: list[Article]


@dataclass
class Funding:
    round: str
    reported_musd: int                 # what the first article said
    amount_musd: int                   # what the correction says it was
    investor: str
    day: str
    correction_day: str


@dataclass
class Opening:
    slug: str
    title: str
    team: str
    location: str
    posted: str
    closed: str | None


@dataclass
class BlogPost:
    slug: str
    day: str
    title: str
    author: str                        # username
    paragraphs: list[str]


@dataclass
class SiteFacts:
    seed: int
    world: WorldFacts
    hosts: Hosts
    captures: tuple[Capture, Capture]
    product: str                       # display name ("Mention")
    package: str                       # pip package / CLI name ("mention")
    docs_team: str                     # the team slug that maintains the documentation
    releases: list[Release]            # oldest first
    options: list[ConfigOption]
    plans: list[Plan]
    plan_change_day: str
    annual_discount_pct: int
    benefits: dict[str, Benefit]
    handbook_reviewed: str
    announcements: list[Announcement]  # oldest first
    notes: list[MeetingNote]           # oldest first
    groups: list[Group]
    draft: PolicyRevision              # a proposal that was never adopted (a distractor)
    draft_day: str
    news: News
    funding: Funding
    price_changes: dict[str, tuple[int, str]]   # sku -> (price before, day the current price took effect)
    gift_guide_day: str
    gift_guide: list[tuple[str, int]]  # (sku, price at the time of the guide: superseded)
    warranty_months: dict[str, int]    # category -> months
    returns_days: int                  # refunds are processed within this many business days (the returns page)
    returns_days_new: int              # ... until a later service update changed it
    returns_update_day: str
    support_hours: str
    support_phone: str
    openings: list[Opening]
    blog: list[BlogPost]               # oldest first

    # ---------------------------------------------------------------- what was true on a day
    def policy_at(self, day: str) -> PolicyRevision:
        current = self.world.policies.history[0]
        for rev in self.world.policies.history:
            if rev.effective <= day:
                current = rev
        return current

    def releases_at(self, day: str) -> list[Release]:
        return [r for r in self.releases if r.day <= day]

    def price_at(self, sku: str, day: str) -> int:
        product = next(p for p in self.world.shop.products if p.sku == sku)
        old = self.price_changes.get(sku)
        return old[0] if old and day < old[1] else product.price_cents

    def plan_price_at(self, plan: Plan, day: str) -> int:
        if plan.previous_seat_cents is not None and day < self.plan_change_day:
            return plan.previous_seat_cents
        return plan.seat_cents

    def openings_at(self, day: str) -> list[Opening]:
        return [o for o in self.openings if o.posted <= day and (o.closed is None or o.closed > day)]

    def people_at(self, day: str):
        return [p for p in self.world.people if p.start_date <= day]

    @property
    def latest(self) -> Release:
        return self.releases[-1]


# ---------------------------------------------------------------------------------------------------------------
def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def holiday_date(name: str, year: int) -> date:
    """The day the office closes for the US holiday ``name`` in ``year`` (a fixed-date one falling on a weekend is
    observed on the Friday before or the Monday after)."""
    def nth(month: int, weekday: int, n: int) -> date:  # n-th weekday of the month; n = -1: the last one
        if n > 0:
            first = date(year, month, 1)
            return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
        last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
        return last - timedelta(days=(last.weekday() - weekday) % 7)
    fixed = {"Independence Day": (7, 4), "New Year's Day": (1, 1)}
    if name in fixed:
        d = date(year, *fixed[name])
        return d - timedelta(days=1) if d.weekday() == 5 else d + timedelta(days=1) if d.weekday() == 6 else d
    return {"Memorial Day": lambda: nth(5, 0, -1), "Labor Day": lambda: nth(9, 0, 1),
            "Thanksgiving": lambda: nth(11, 3, 4)}[name]()


def _day(d: date) -> str:
    return d.isoformat()


def _between(rnd: random.Random, lo: date, hi: date) -> date:
    """A day in [lo, hi] (lo when the range is empty)."""
    return lo + timedelta(days=rnd.randint(0, max(0, (hi - lo).days)))


@functools.lru_cache(maxsize=16)
def site_facts(world: WorldFacts) -> SiteFacts:
    """The site facts of ``world`` (cached per world: the facts are never changed once made)."""
    return _Builder(world).build()


class _Builder:
    def __init__(self, world: WorldFacts):
        self.w = world
        self.fake = Faker("en_US")
        self.fake.seed_instance(f"airgap-site/{world.seed}")  # names and places only; sentences come from prose.py
        self.prose = Prose(world.seed, org=world.org.name, product=world.org.product_name, city=world.org.city,
                           brand=world.shop.brand, support=world.shop.support_email)
        self.rnd = rng("airgap-site", world.seed)
        self.today = parse_iso(world.now).date()
        self.users = [p.username for p in world.people]

    def build(self) -> SiteFacts:
        w, rnd, f = self.w, self.rnd, self.fake
        product = w.org.product_name
        package = slugify(product)
        e1 = date.fromisoformat(w.policies.history[0].effective)
        e2 = date.fromisoformat(w.policies.effective)
        b = self.today - timedelta(days=1)
        a = e2 - timedelta(days=rnd.randint(10, 40))
        assert e1 < a < e2 <= b, (e1, a, e2, b)
        captures = (Capture("A", _day(a)), Capture("B", _day(b)))
        news_city = f.city()
        news_name = f"{news_city} {rnd.choice(NEWS_NOUNS)}"
        hosts = Hosts(www=f"www.{w.org.domain}", intranet=f"intranet.{w.org.domain}", docs=f"docs.{package}.io",
                      catalog=f"catalog.{w.shop.domain}", help=f"help.{w.shop.domain}",
                      news=f"www.{slugify(news_name).replace('-', '')}.com")
        releases, options = self._releases(product, package, a, b)
        plans, change_day, discount = self._plans(a, b)
        benefits, reviewed, overrides = self._benefits(a, b)
        announcements = self._announcements(overrides, reviewed, b)
        notes = self._notes(b)
        groups = self._groups()
        draft, draft_day = self._draft(e1, a)
        funding = self._funding(a)
        news = self._news(news_name, hosts.news, funding, releases, a, b)
        price_changes, guide_day, guide = self._prices(a, b)
        cats = sorted({p.category for p in w.shop.products})
        warranty = {c: rnd.choice([6, 12, 18, 24, 36]) for c in cats}
        returns_days = rnd.choice([3, 5, 7])
        returns_new = returns_days + rnd.choice([2, 3, 5])
        returns_update = _between(rnd, b - timedelta(days=150), b - timedelta(days=5))
        openings = self._openings(a, b)
        blog = self._blog(product, plans, change_day, releases, b)
        docs_team = rnd.choice(["engineering", "product", "support"])
        return SiteFacts(
            seed=w.seed, world=w, hosts=hosts, captures=captures, product=product, package=package, docs_team=docs_team,
            releases=releases, options=options, plans=plans, plan_change_day=_day(change_day), annual_discount_pct=discount,
            benefits=benefits, handbook_reviewed=_day(reviewed), announcements=announcements, notes=notes, groups=groups,
            draft=draft, draft_day=_day(draft_day), news=news, funding=funding, price_changes=price_changes,
            gift_guide_day=_day(guide_day), gift_guide=guide, warranty_months=warranty, returns_days=returns_days,
            returns_days_new=returns_new, returns_update_day=_day(returns_update),
            support_hours=f"Monday to Friday, {rnd.choice([8, 9])}:00 to {rnd.choice([17, 18])}:00 ({w.org.hq_timezone})",
            support_phone=f.phone_number(), openings=openings, blog=blog)

    # ---------------------------------------------------------------- product
    def _feature(self, comps: list[str], package: str, taken: set[str]) -> str:
        rnd = self.rnd
        while True:
            comp = rnd.choice(comps)
            text = rnd.choice(FEATURES).format(Comp=comp.capitalize(), comp=comp, obj=rnd.choice(OBJECTS),
                                               verb=rnd.choice(VERBS), cli=package, idp=rnd.choice(IDPS),
                                               fmt=rnd.choice(FORMATS))
            if text not in taken:
                taken.add(text)
                return text

    def _releases(self, product: str, package: str, a: date, b: date) -> tuple[list[Release], list[ConfigOption]]:
        w, rnd = self.w, self.rnd
        shipped = w.repos[0].milestones[0]
        major, minor = (int(x) for x in shipped.title.lstrip("v").split("."))
        r0 = parse_iso(shipped.due_on).date()
        last = _between(rnd, max(a, r0) + timedelta(days=1), b - timedelta(days=1))
        # the current minor: .0 on the milestone's date, then one or two patches, the last one between the captures
        days: list[tuple[str, date]] = [(f"{major}.{minor}.0", r0)]
        if (last - r0).days >= 6 and rnd.random() < 0.6:
            days.append((f"{major}.{minor}.1", _between(rnd, r0 + timedelta(days=2), last - timedelta(days=3))))
        days.append((f"{major}.{minor}.{len(days)}", last))
        start = r0
        for mi in range(minor - 1, max(-1, minor - 5), -1):
            start = start - timedelta(days=rnd.randint(45, 90))
            next_start = days[0][1]
            block = [(f"{major}.{mi}.0", start)]
            for p in range(1, rnd.randint(0, 2) + 1):
                d = start + timedelta(days=rnd.randint(7, 15) * p)
                if d < next_start - timedelta(days=3):
                    block.append((f"{major}.{mi}.{p}", d))
            days = block + days
        comps = sorted(rnd.sample(COMPONENTS, 5))
        issues = [i for i in w.repos[0].issues[1:] if i.state == "closed"] or w.repos[0].issues[1:]
        fixes = [f"{i.title} (#{i.number})" for i in issues]
        rnd.shuffle(fixes)
        taken: set[str] = set()
        releases = []
        for version, d in days:
            is_minor = version.endswith(".0")
            rel = Release(version, _day(d), "")
            if is_minor:
                rel.added = [self._feature(comps, package, taken) for _ in range(rnd.randint(2, 3))]
            for _ in range(rnd.randint(1, 3)):
                rel.fixed.append(fixes.pop() if fixes else
                                 f"{rnd.choice(comps).capitalize()} {rnd.choice(SYMPTOMS)[1]} when {rnd.choice(CONDITIONS)}")
            releases.append(rel)
        # options: a few defaults change over the releases; the last change is missing from the configuration page
        kinds = rnd.sample(OPTION_KINDS, 8)
        options = []
        for k, (key, unit, desc, values) in enumerate(kinds):
            comp = comps[k % len(comps)]
            options.append(ConfigOption(f"{comp}.{key}", unit, desc.format(comp=comp), rnd.choice(values)))
        changing = rnd.sample(options, 3)
        later = [r for r in releases[1:-1]]
        for opt, rel in zip(changing[:2], sorted(rnd.sample(later, 2), key=releases.index), strict=True):
            self._change(opt, rel, kinds)
        self._change(changing[2], releases[-1], kinds)
        changing[2].stale = True
        deprecated = next(o for o in options if o not in changing)
        rnd.choice([r for r in releases if r.added]).deprecated.append(
            f"`{deprecated.name}` is deprecated and will be removed in {major + 1}.0")
        for rel in releases:
            bits = [rel.added[0].rstrip(".").lower()] if rel.added else []
            bits.append(f"{len(rel.fixed)} bug fix{'es' if len(rel.fixed) != 1 else ''}")
            rel.summary = (f"{product} {rel.version} is a {'feature' if rel.version.endswith('.0') else 'maintenance'} "
                           f"release: {' and '.join(bits)}.")
        return releases, options

    def _change(self, opt: ConfigOption, rel: Release, kinds) -> None:
        values = next(v for k, _, _, v in kinds if opt.name.endswith("." + k))
        old = opt.default_after({r for r, _ in opt.changes} | {"*"})
        new = self.rnd.choice([v for v in values if v != old])
        opt.changes.append((rel.version, new))
        rel.changed.append(f"The default of `{opt.name}` changed from {old} to {new} {opt.unit}")

    def _plans(self, a: date, b: date) -> tuple[list[Plan], date, int]:
        rnd = self.rnd
        prices = [rnd.choice([8, 10, 12, 15]), rnd.choice([18, 20, 24, 29]), rnd.choice([35, 39, 45, 49])]
        limits = [rnd.choice([60, 90, 120]), rnd.choice([240, 300, 400]), rnd.choice([1000, 1200, 1500])]
        seats = [rnd.choice([5, 10]), rnd.choice([50, 100]), None]
        feats = [["Core workspace", "Email support"], ["Everything in Starter", "Single sign-on", "Audit log"],
                 ["Everything in Team", "Priority support", "Custom retention"]]
        plans = [Plan(n, p * 100, None, lim, s, ft) for n, p, lim, s, ft in zip(PLAN_NAMES, prices, limits, seats, feats,
                                                                                 strict=True)]
        team = plans[1]
        team.previous_seat_cents = team.seat_cents
        team.seat_cents += rnd.choice([2, 3, 4, 5]) * 100
        change = _between(rnd, a + timedelta(days=1), b - timedelta(days=1))
        return plans, change, rnd.choice([10, 15, 20])

    def _benefits(self, a: date, b: date) -> tuple[dict[str, Benefit], date, list[tuple[str, int]]]:
        rnd = self.rnd
        items = [
            Benefit("learning", "Learning budget", rnd.choice([500, 750, 1000, 1200, 1500]), "$"),
            Benefit("home_office", "Home-office stipend (one-off)", rnd.choice([300, 400, 500, 600]), "$"),
            Benefit("remote_days", "Remote work", rnd.choice([2, 3]), "days a week"),
            Benefit("pto", "Paid time off", rnd.choice([15, 18, 20, 22, 25]), "days a year"),
            Benefit("parental", "Parental leave", rnd.choice([12, 14, 16, 18, 20]), "weeks"),
            Benefit("expense_day", "Expense reports due", rnd.choice([5, 7, 10, 15]), "day of the month"),
            Benefit("oncall", "On-call stipend", rnd.choice([150, 200, 250, 300]), "$"),
        ]
        benefits = {x.key: x for x in items}
        reviewed = a - timedelta(days=rnd.randint(30, 120))
        overrides = [("learning", benefits["learning"].value + rnd.choice([250, 500])),
                     ("remote_days", {2: rnd.choice([3, 4]), 3: rnd.choice([2, 4])}[benefits["remote_days"].value]),
                     ("expense_day", rnd.choice([d for d in (3, 5, 10, 12, 20) if d != benefits["expense_day"].value])),
                     ("oncall", benefits["oncall"].value + rnd.choice([50, 100]))]
        return benefits, reviewed, overrides

    def _person(self, team: str | None = None, exclude: tuple[str, ...] = ()) -> str:
        pool = [p.username for p in self.w.people if (team is None or p.team == team) and p.username not in exclude]
        return self.rnd.choice(pool)

    def _announcements(self, overrides: list[tuple[str, int]], reviewed: date, b: date) -> list[Announcement]:
        w, rnd = self.w, self.rnd
        out: list[Announcement] = []
        people_team = "people" if any(p.team == "people" for p in w.people) else "leadership"
        fin_team = "finance"
        texts = {
            "learning": ("More money for learning", "the annual learning budget is now ${v:,} per employee (courses, books and "
                         "conference tickets all count)"),
            "remote_days": ("New remote work rule", "everyone may now work remotely up to {v} days a week"),
            "expense_day": ("New expense report deadline", "expense reports are now due by the {o} of each month"),
            "oncall": ("On-call stipend raised", "the on-call stipend is now ${v:,} per week on call"),
        }
        for key, value in overrides:
            title, sentence = texts[key]
            d = _between(rnd, reviewed + timedelta(days=1), b - timedelta(days=3))
            author = self._person(fin_team if key in ("expense_day", "oncall") else people_team)
            body = [f"Hi everyone, starting {d.isoformat()} {sentence.format(v=value, o=_ordinal(value))}. "
                    "The handbook will be updated in its next review; until then this announcement takes precedence.",
                    self.prose(f"announce-{key}", 3)]
            out.append(Announcement(f"{slugify(title)}", d.isoformat(), title, author, body, (key, value)))
        pol = w.policies
        fin_lead = w.team("finance").lead
        out.append(Announcement("finance-policies-revised", pol.effective, "Finance and customer policies revised", fin_lead,
                                [f"From {pol.effective} the customer refund window is {pol.refund_window_days} days and a "
                                 f"single bank transfer may not exceed {money(pol.per_transfer_limit_cents)} (an approved "
                                 "payment above it goes in several transfers, none over the limit). The mileage "
                                 f"rate is now {pol.mileage_rate_cents} cents a mile and meals are reimbursed up to "
                                 f"{money(pol.meal_per_diem_cents)} a day. The handbook's policies page has the details.",
                                 self.prose("policy-announce", 2)]))
        closings: set[tuple[str, date]] = set()
        for k in range(2):
            d = _between(rnd, b - timedelta(days=300), b - timedelta(days=2))
            holiday = HOLIDAYS[(k + rnd.randint(0, 4)) % len(HOLIDAYS)]
            # on its real date, announced a week ahead: the closing announced nearest to ``d``, before the last capture
            day = min((h for h in (holiday_date(holiday, y) for y in range(d.year - 2, d.year + 2))
                       if h - timedelta(days=7) <= b - timedelta(days=2) and (holiday, h) not in closings),
                      key=lambda h: (abs((h - timedelta(days=7) - d).days), h))
            closings.add((holiday, day))
            posted = day - timedelta(days=7)
            out.append(Announcement(f"office-closed-{slugify(holiday)}-{day.year}", posted.isoformat(),
                                    f"Office closed for {holiday}", self._person(people_team),
                                    [f"The {w.org.city} office will be closed on {day:%A}, {day:%B} {day.day} for "
                                     f"{holiday}. " + self.prose(f"holiday-{k}", 3)]))
        recent = [p for p in w.people if date.fromisoformat(p.start_date) > b - timedelta(days=400)]
        for p in recent[:3]:
            team = w.team(p.team)
            out.append(Announcement(f"welcome-{p.username}", p.start_date, f"Welcome {p.name}!", team.lead,
                                    [f"Please welcome {p.name}, who joins the {team.name} team as {p.title}. "
                                     f"{p.first_name} is based in {p.city}. {self.prose(f'welcome-{p.username}', 1)}"]))
        out.sort(key=lambda x: (x.day, x.slug))
        seen: set[str] = set()
        for x in out:  # slugs are unique
            while x.slug in seen:
                x.slug += "-2"
            seen.add(x.slug)
        return out

    def _notes(self, b: date) -> list[MeetingNote]:
        w, rnd = self.w, self.rnd
        notes: list[MeetingNote] = []
        used_actions: set[str] = set()
        for team in w.teams:
            members = [p for p in w.people if p.team == team.slug]
            if len(members) < 2:
                continue
            for _ in range(2):
                d = _between(rnd, b - timedelta(days=240), b - timedelta(days=2))
                while d.weekday() >= 5:
                    d -= timedelta(days=1)
                present = [p.username for p in members if p.start_date <= d.isoformat()]
                if len(present) < 2:
                    continue
                decisions = [(rnd.choice(BUDGET_ITEMS), rnd.randint(8, 90) * 250_00 // 10)
                             for _ in range(rnd.randint(1, 2))]
                decisions = list(dict((k, v) for k, v in decisions).items())
                actions = []
                for _ in range(rnd.randint(2, 3)):
                    for _try in range(20):
                        task = f"{rnd.choice(ACTION_VERBS)} {rnd.choice(ACTION_OBJECTS).format(comp=rnd.choice(COMPONENTS))}"
                        if task not in used_actions:
                            used_actions.add(task)
                            actions.append((rnd.choice(present), task))
                            break
                notes.append(MeetingNote(f"{d.isoformat()}-{team.slug}", team.slug, d.isoformat(), rnd.choice(present),
                                         present, self.prose.pick(f"agenda-{d.isoformat()}-{team.slug}", rnd.randint(2, 3)),
                                         decisions, actions))
        notes.sort(key=lambda n: (n.day, n.slug))
        seen: set[str] = set()
        for n in notes:
            while n.slug in seen:
                n.slug += "-b"
            seen.add(n.slug)
        return notes

    def _groups(self) -> list[Group]:
        w, rnd = self.w, self.rnd
        out = []
        for slug, name in (("support", "Customer Success Circle"), ("engineering", "Engineering Practices Guild"),
                           ("finance", "Finance Systems Working Group")):
            team = w.team(slug)
            coord = self._person(exclude=(team.lead,))
            members = sorted(rnd.sample(self.users, min(4, len(self.users))))
            if coord not in members:
                members.append(coord)
            out.append(Group(slugify(name), name, slug, coord, members,
                             f"A cross-team group, not to be confused with the {team.name} team. {self.prose(f'group-{slug}', 1)}"))
        return out

    def _draft(self, e1: date, a: date) -> tuple[PolicyRevision, date]:
        rnd = self.rnd
        cur, old = self.w.policies.history[-1], self.w.policies.history[0]
        taken_refund = {cur.refund_window_days, old.refund_window_days}
        taken_limit = {cur.per_transfer_limit_cents, old.per_transfer_limit_cents}
        refund = rnd.choice([d for d in (10, 28, 35, 45, 60) if d not in taken_refund])
        limit = rnd.choice([v for v in (3000_00, 4000_00, 6000_00, 9000_00, 12000_00) if v not in taken_limit])
        draft = PolicyRevision("never (draft)", refund, limit, cur.meal_per_diem_cents + 10_00, cur.receipt_required_over_cents,
                               cur.expense_approval_over_cents, cur.mileage_rate_cents + 5,
                               "A proposal discussed by the finance team and not adopted.")
        return draft, _between(rnd, e1 + timedelta(days=30), a - timedelta(days=5))

    def _funding(self, a: date) -> Funding:
        rnd, f = self.rnd, self.fake
        reported = rnd.randint(4, 40)
        actual = reported + rnd.choice([-3, -2, 2, 3, 5])
        d = _between(rnd, a - timedelta(days=500), a - timedelta(days=120))
        return Funding(rnd.choice(ROUNDS[1:]), reported, actual, f"{f.last_name()} {rnd.choice(['Ventures', 'Capital', 'Partners'])}",
                       d.isoformat(), (d + timedelta(days=rnd.randint(2, 9))).isoformat())

    def _news(self, name: str, host: str, funding: Funding, releases: list[Release], a: date, b: date) -> News:
        w, rnd, f = self.w, self.rnd, self.fake
        reporters = [f"{f.first_name()} {f.last_name()}" for _ in range(3)]
        ceo = w.people[0]
        org = w.org
        arts = [
            Article(f"{org.slug}-raises-{funding.reported_musd}-million", funding.day,
                    f"{org.name} raises ${funding.reported_musd} million {funding.round} led by {funding.investor}",
                    reporters[0],
                    [f"{org.city}-based {org.name} said it has raised ${funding.reported_musd} million in a {funding.round} "
                     f"round led by {funding.investor}.",
                     f"\"{self.prose('quote-funding', 1)}\" said {ceo.name}, the company's {ceo.title.lower()}.",
                     f"The company, founded in {org.founded}, makes {w.org.product_name}. {self.prose('story-company', 3)}"],
                    "funding"),
            Article(f"correction-{org.slug}-funding", funding.correction_day, f"Correction: {org.name} funding round",
                    reporters[0],
                    [f"An earlier version of our article on {org.name}'s {funding.round} said the company raised "
                     f"${funding.reported_musd} million. The round was ${funding.amount_musd} million. We regret the error.",
                     f"The round was led by {funding.investor}."],
                    "correction"),
        ]
        launch = next((r for r in releases if r.version.endswith(".0") and r.added and r.day > funding.day), releases[-1])
        plead = w.team("product").lead
        lead_p = w.person(plead)
        ld = date.fromisoformat(launch.day) + timedelta(days=1)
        arts.append(Article(f"{org.slug}-ships-{slugify(w.org.product_name)}-{launch.version.replace('.', '-')}",
                            ld.isoformat(), f"{org.name} ships {w.org.product_name} {launch.version}", reporters[1],
                            [f"{org.name} released version {launch.version} of {w.org.product_name} on {launch.day}. The "
                             f"headline feature: {launch.added[0] if launch.added else 'faster sync'}.",
                             f"\"{self.prose('quote-launch', 1)}\" said {lead_p.name}, {lead_p.title.lower()} at {org.name}.",
                             self.prose("story-launch", 3)],
                            "launch"))
        leads = sorted((w.person(t.lead) for t in w.teams if t.kind not in ("leadership",)), key=lambda p: p.start_date)
        hire = leads[-1]
        arts.append(Article(f"{org.slug}-hires-{hire.username}", hire.start_date,
                            f"{org.name} names {hire.name} {hire.title}", reporters[2],
                            [f"{org.name} has hired {hire.name} as {hire.title}. {hire.first_name} will lead the "
                             f"{w.team(hire.team).name} team from {hire.city}.", self.prose("story-hire", 3)],
                            "hire"))
        # a company with a near-identical name: a distractor for funding questions
        other = f"{org.name.split()[0]} {rnd.choice(['Holdings', 'Group', 'Partners', 'Consulting'])}"
        od = _between(rnd, b - timedelta(days=400), b - timedelta(days=10))
        other_amount = funding.amount_musd + rnd.choice([4, 6, 7, 11])
        arts.append(Article(f"{slugify(other)}-raises-{other_amount}-million", od.isoformat(),
                            f"{other} raises ${other_amount} million", reporters[1],
                            [f"{other}, a {f.city()} firm unrelated to {org.name}, has raised ${other_amount} million "
                             f"from {f.last_name()} Capital.", self.prose("story-lookalike", 3)], "lookalike"))
        for k, title in enumerate(self.prose.pick("local-title", 3)):
            d = _between(rnd, b - timedelta(days=500), b - timedelta(days=1))
            arts.append(Article(slugify(title)[:60], d.isoformat(), f"{name}: {title}", rnd.choice(reporters),
                                [self.prose(f"local-{k}a", 4), self.prose(f"local-{k}b", 3)], "local"))
        arts.sort(key=lambda x: (x.day, x.slug))
        return News(name, host, f"News from {name.rsplit(' ', 1)[0]} and around", reporters, arts)

    def _prices(self, a: date, b: date) -> tuple[dict[str, tuple[int, str]], date, list[tuple[str, int]]]:
        rnd = self.rnd
        products = list(self.w.shop.products)
        picks = rnd.sample(products, 7)
        changes = {}
        for p in picks[:3]:
            old = p.price_cents + rnd.choice([-1, 1]) * rnd.choice([300, 500, 700, 1000])
            if old <= 0:
                old = p.price_cents + 500
            changes[p.sku] = (old, _day(_between(rnd, a + timedelta(days=1), b)))
        guide_day = a - timedelta(days=rnd.randint(60, 200))
        guide = [(p.sku, p.price_cents + rnd.choice([-1, 1]) * rnd.choice([200, 400, 600, 800])) for p in picks[3:]]
        guide = [(s, c if c > 0 else c + 1000) for s, c in guide]
        return changes, guide_day, guide

    def _openings(self, a: date, b: date) -> list[Opening]:
        w, rnd, f = self.w, self.rnd, self.fake
        titles = {"engineering": ["Senior Software Engineer", "Site Reliability Engineer", "QA Engineer"],
                  "product": ["Product Designer", "Product Manager"], "support": ["Support Specialist"],
                  "sales": ["Account Executive"], "finance": ["Financial Analyst"], "people": ["Recruiter"]}
        out = []
        picks = rnd.sample([(team, title) for team in sorted(titles) for title in titles[team]], rnd.randint(4, 6))
        for k, (team, title) in enumerate(picks):  # titles are distinct: "the Recruiter opening" names one
            location = rnd.choice([w.org.city, "Remote (US)", f.city()])
            if k in (0, 2):  # posted between the captures
                posted, closed = _between(rnd, a + timedelta(days=1), b), None
            elif k == 1:  # filled between the captures
                posted = _between(rnd, a - timedelta(days=90), a - timedelta(days=1))
                closed = _day(_between(rnd, a + timedelta(days=1), b))
            else:         # open at both captures
                posted, closed = _between(rnd, a - timedelta(days=200), a - timedelta(days=1)), None
            out.append(Opening(f"{slugify(title)}-{k + 1}", title, team, location, _day(posted), closed))
        return out

    def _blog(self, product: str, plans: list[Plan], change_day: date, releases: list[Release], b: date) -> list[BlogPost]:
        w = self.w
        team = plans[1]
        posts = [BlogPost(f"pricing-update-{change_day.isoformat()}", change_day.isoformat(), f"{product} Team plan pricing update",
                          w.team("sales").lead,
                          [f"From {change_day.isoformat()}, the {team.name} plan costs {money(team.seat_cents)} per seat per "
                           f"month. {self.prose('blog-pricing', 2)}"])]
        for r in releases:
            if r.version.endswith(".0") and r.added:
                posts.append(BlogPost(f"{slugify(product)}-{r.version.replace('.', '-')}", r.day, f"Introducing {product} {r.version}",
                                      w.team("product").lead, [f"{r.summary} New in this release: {'; '.join(r.added)}.",
                                                               self.prose(f"blog-release-{r.version}", 3)]))
        posts.append(BlogPost("our-story", w.policies.history[0].effective, f"The story of {w.org.name}", w.people[0].username,
                              [f"We started {w.org.name} in {w.org.city} in {w.org.founded}. {self.prose('blog-story-a', 4)}",
                               self.prose("blog-story-b", 3)]))
        posts.sort(key=lambda p: (p.day, p.slug))
        return posts
