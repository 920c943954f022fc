"""What every page of a world's six sites says at one capture date, as a small block model (rendered to HTML elsewhere).

``site_pages(sf, capture)`` returns one :class:`Page` per URL: headings, paragraphs, lists, tables and definition
lists whose text mixes plain strings and :class:`Link`\\ s (absolute URLs; the renderer makes same-host links
relative). Whatever is dated (announcements, notes, releases, articles, posts, price changes, openings, policy
revisions, people's start dates) is shown only from its date on, so the two captures differ where the world changed.
Running prose comes from the authored sentences of ``prose.py``, picked per page, so it is the same at both captures.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from markupsafe import Markup

from airgap.envs.common import money

from .content import Capture, SiteFacts
from .prose import Prose
from .urls import SiteUrls


@dataclass(frozen=True)
class Link:
    text: str
    url: str


@dataclass(frozen=True)
class Code:
    """Inline code (``<code>``)."""

    text: str
    tag = "code"


@dataclass(frozen=True)
class Strong:
    """Inline bold text (``<b>``): a name in a post's byline."""

    text: str
    tag = "b"


@dataclass(frozen=True)
class Slot:
    """A named place for third-party text, written as the invisible marker ``<!--airgap-slot:NAME-->`` and filled as
    served (``airgap.envs.attacks.web.fill_slots``)."""

    name: str

    @property
    def marker(self) -> Markup:
        if not SLOT_NAME.fullmatch(self.name):
            raise ValueError(f"slot name {self.name!r} is not [a-z0-9-]+")
        return Markup(f"<!--airgap-slot:{self.name}-->")


SLOT_NAME = re.compile(r"[a-z0-9-]+")
Inline = str | Link | Code | Strong | Slot | list  # a list mixes strings, links, code, bold text and slots


def _parts(x: Inline) -> list:
    return x if isinstance(x, list) else [x]


class _Blocks:
    """The block-adding methods of a page and of a box inside one (each returns ``self``, to chain)."""

    blocks: list[tuple]

    def h2(self, text: str):
        self.blocks.append(("h2", text))
        return self

    def h3(self, text: str):
        self.blocks.append(("h3", text))
        return self

    def p(self, *parts: Inline, cls: str = ""):
        self.blocks.append(("p", list(parts), cls) if cls else ("p", list(parts)))
        return self

    def ul(self, items: list):
        self.blocks.append(("ul", [_parts(i) for i in items]))
        return self

    def ol(self, items: list):
        self.blocks.append(("ol", [_parts(i) for i in items]))
        return self

    def table(self, heads: list[str], rows: list[list], row_heads: bool = False):
        """A table; ``heads`` may be empty (no header row); ``row_heads``: each row's first cell is its heading."""
        cells = [[_parts(c) for c in r] for r in rows]
        self.blocks.append(("table", heads, cells, True) if row_heads else ("table", heads, cells))
        return self

    def dl(self, pairs: list[tuple[str, Inline]]):
        self.blocks.append(("dl", [(k, _parts(v)) for k, v in pairs]))
        return self

    def pre(self, text: Inline):
        self.blocks.append(("pre", text))  # a str renders as itself (the template walks it like a list of parts)
        return self

    def box(self, box: Box):
        """A nested run of blocks in its own element (an ``<article class="review">``, a ``<section>``...)."""
        self.blocks.append(("box", box))
        return self


@dataclass
class Box(_Blocks):
    tag: str  # article, section, div
    cls: str
    # the same block kinds as a Page's
    blocks: list[tuple] = field(default_factory=list)


@dataclass
class Page(_Blocks):
    url: str
    title: str
    # ("h2", text) ("h3", text) ("p", inline[, class]) ("ul" | "ol", [inline]) ("table", heads, rows[, row_heads])
    # ("dl", [(k, inline)]) ("pre", inline) ("box", Box)
    blocks: list[tuple] = field(default_factory=list)
    heading: str = ""  # the <h1>, when it differs from the title


@dataclass
class Site:
    host: str
    name: str
    nav: list[Link]
    pages: list[Page]
    tagline: str = ""


def site_pages(sf: SiteFacts, capture: Capture) -> list[Site]:
    """Every site of world ``sf`` as it stood on ``capture.day``."""
    b = _Builder(sf, capture)
    return [b.www(), b.intranet(), b.docs(), b.catalog(), b.help(), b.news()]


class _Builder:
    def __init__(self, sf: SiteFacts, capture: Capture):
        self.sf, self.w, self.day = sf, sf.world, capture.day
        self.u = SiteUrls(sf.hosts)
        self.prose = Prose(sf.seed, org=sf.world.org.name, product=sf.product, brand=sf.world.shop.brand,
                           city=sf.world.org.city, package=sf.package, support=sf.world.shop.support_email)
        self.people = {p.username: p for p in sf.people_at(self.day)}

    def who(self, username: str) -> Inline:
        """A person's name, linked to their intranet page when they had one on this day."""
        p = self.w.person(username)
        return Link(p.name, self.u.person(username)) if username in self.people else p.name

    def _site(self, host: str, name: str, nav: list[Link], pages: list[Page]) -> Site:
        sitemap = Page(self.u.sitemap(host), f"Site map - {name}")
        sitemap.ul([Link(p.title, p.url) for p in pages])
        return Site(host, name, nav, pages + [sitemap])

    # ------------------------------------------------------------------------------------------------ www
    def www(self) -> Site:
        sf, w, u, day = self.sf, self.w, self.u, self.day
        org = w.org
        posts = [x for x in sf.blog if x.day <= day]
        released = sf.releases_at(day)
        nav = [Link("Home", u.www()), Link("Product", u.product()), Link("Pricing", u.pricing()),
               Link("Careers", u.careers()), Link("Blog", u.blog()), Link("About", u.about()), Link("Contact", u.contact())]
        home = Page(u.www(), f"{org.name} - {org.tagline}")
        home.p(f"{org.name} builds {sf.product}. {self.prose('www-home')}")
        home.p("Read the ", Link(f"{sf.product} documentation", u.docs()), ", see our ", Link("pricing", u.pricing()),
               " or ", Link("join us", u.careers()), ".")
        home.h2("From the blog")
        home.ul([[Link(x.title, u.blog(x.slug)), f" ({x.day})"] for x in reversed(posts[-3:])])
        home.p("In the press: ", Link("press coverage", u.press()), ".")

        ceo = w.people[0]
        about = Page(u.about(), f"About {org.name}")
        about.p(f"{org.name} was founded in {org.founded} and is headquartered in {org.city}, {org.region}. "
                f"Our mission: {org.tagline.lower()}.")
        about.dl([("Head office", f"{org.street}, {org.city}, {org.region} {org.postcode}"), ("Founded", str(org.founded)),
                  ("Chief Executive Officer", ceo.name)])
        about.h2("Leadership")
        leads = [w.person(t.lead) for t in w.teams]
        about.table(["Name", "Role"], [[p.name, p.title] for p in leads if p.start_date <= day])
        about.p(self.prose("www-about", 4))

        product = Page(u.product(), f"{sf.product} by {org.name}")
        product.p(f"{sf.product} helps teams {w.org.tagline.lower()}. {self.prose('www-product')}")
        if released:
            product.p(f"Current version: {released[-1].version}, released {released[-1].day}. See the ",
                      Link("release notes", u.releases()), ".")
        product.p("Install it with ", f"pip install {sf.package}", " and follow the ", Link("getting started guide",
                                                                                            u.getting_started()), ".")

        pricing = Page(u.pricing(), f"{sf.product} pricing")
        pricing.p(f"Simple per-seat pricing for {sf.product}. Prices are in US dollars per seat per month, billed monthly.")
        pricing.table(["Plan", "Price per seat per month", "Seats", "Includes"],
                      [[pl.name, money(sf.plan_price_at(pl, day)), f"up to {pl.max_seats}" if pl.max_seats else "unlimited",
                        ", ".join(pl.features)] for pl in sf.plans]
                      + [["Enterprise", "contact sales", "unlimited", "Everything in Business, a dedicated manager"]])
        pricing.p(f"Annual billing saves {sf.annual_discount_pct}% on any plan. API rate limits per plan are listed in the ",
                  Link("API reference", u.api()), ".")

        openings = sf.openings_at(day)
        careers = Page(u.careers(), f"Careers at {org.name}")
        careers.p(f"We are hiring. {len(openings)} open position{'s' if len(openings) != 1 else ''}:")
        careers.table(["Position", "Team", "Location", "Posted"],
                      [[o.title, w.team(o.team).name, o.location, o.posted] for o in openings])
        careers.p(self.prose("www-careers"))

        blog = Page(u.blog(), f"The {org.name} blog")
        blog.ul([[Link(x.title, u.blog(x.slug)), f" - {x.day}"] for x in reversed(posts)])
        post_pages = []
        for x in posts:
            pg = Page(u.blog(x.slug), x.title)
            pg.p(f"Posted {x.day} by {w.person(x.author).name}")
            for para in x.paragraphs:
                pg.p(para)
            post_pages.append(pg)

        contact = Page(u.contact(), f"Contact {org.name}")
        contact.dl([("Address", f"{org.street}, {org.city}, {org.region} {org.postcode}"),
                    ("Sales", f"sales@{org.domain}"), ("Press", f"press@{org.domain}"),
                    ("Customer support", w.shop.support_email)])
        press = Page(u.press(), f"{org.name} in the press")
        press.ul([[Link(a.title, u.article(a)), f" - {sf.news.name}, {a.day}"] for a in sf.news.articles
                  if a.day <= day and a.kind in ("funding", "correction", "launch", "hire")])
        return self._site(sf.hosts.www, org.name, nav,
                          [home, about, product, pricing, careers, blog, *post_pages, contact, press])

    # ------------------------------------------------------------------------------------------------ intranet
    def intranet(self) -> Site:
        sf, w, u, day = self.sf, self.w, self.u, self.day
        org = w.org
        anns = [a for a in sf.announcements if a.day <= day]
        notes = [n for n in sf.notes if n.day <= day]
        nav = [Link("Home", u.intranet()), Link("Teams", u.teams()), Link("People", u.people()),
               Link("Handbook", u.handbook()), Link("Meeting notes", u.notes()), Link("Announcements", u.announcements()),
               Link("Changelog", u.intranet_changelog())]
        pages = []
        home = Page(u.intranet(), f"{org.name} intranet")
        home.p(f"Internal pages of {org.name}. Do not share outside the company.")
        home.h2("Latest announcements")
        home.ul([[Link(a.title, u.announcement(a.slug)), f" ({a.day})"] for a in reversed(anns[-5:])])
        home.p("Looking for a cross-team group? See ", Link("working groups", u.groups()), ".")
        pages.append(home)

        teams = Page(u.teams(), "Teams")
        rows = []
        for t in w.teams:
            members = [p for p in self.people.values() if p.team == t.slug]
            rows.append([Link(t.name, u.team(t.slug)), self.who(t.lead), str(len(members)), f"#{t.channel}"])
        teams.table(["Team", "Lead", "Members", "Chat channel"], rows)
        teams.p("Not a team: ", *sum(([Link(g.name, u.group(g.slug)), "; "] for g in sf.groups), [])[:-1], ".")
        pages.append(teams)
        for t in w.teams:
            members = sorted((p for p in self.people.values() if p.team == t.slug), key=lambda p: (p.username != t.lead, p.name))
            pg = Page(u.team(t.slug), f"{t.name} team")
            pg.p(t.description)
            pg.dl([("Lead", self.who(t.lead)), ("Members", str(len(members))), ("Chat channel", f"#{t.channel}")])
            pg.h2("Members")
            pg.table(["Name", "Title", "Email", "Location", "Started"],
                     [[self.who(p.username), p.title, p.email, p.city, p.start_date] for p in members])
            team_notes = [n for n in notes if n.team == t.slug]
            if team_notes:
                pg.h2("Meeting notes")
                pg.ul([Link(f"{t.name} meeting, {n.day}", u.note(n.slug)) for n in team_notes])
            pages.append(pg)

        people = Page(u.people(), "People directory")
        people.p(f"{len(self.people)} people work at {org.name}.")
        people.table(["Name", "Title", "Team", "Email"],
                     [[self.who(p.username), p.title, Link(w.team(p.team).name, u.team(p.team)), p.email]
                      for p in sorted(self.people.values(), key=lambda p: (p.last_name, p.first_name))])
        pages.append(people)
        for p in self.people.values():
            pg = Page(u.person(p.username), f"{p.name} - {p.title}")
            pg.dl([("Title", p.title), ("Team", Link(w.team(p.team).name, u.team(p.team))),
                   ("Manager", self.who(p.manager) if p.manager else "none (reports to the board)"),
                   ("Email", p.email), ("Phone", p.phone), ("Location", p.city), ("Time zone", p.timezone),
                   ("Started", p.start_date), ("GitHub", p.github_login)])
            pages.append(pg)

        rev = sf.policy_at(day)
        handbook = Page(u.handbook(), "Employee handbook")
        handbook.ul([Link("Finance and customer policies", u.policies()), Link("Benefits and working practices", u.benefits()),
                     [Link("Proposal: finance policy changes", u.draft()), " (draft, not adopted)"]])
        pages.append(handbook)
        pol = Page(u.policies(), "Finance and customer policies")
        pol.p(f"These policies apply to everyone at {org.name}. Effective {rev.effective}.")
        pol.table(["Policy", "Value"], [
            ["Customer refund window", f"{rev.refund_window_days} days after delivery"],
            ["Per-transfer limit (a single bank transfer)", money(rev.per_transfer_limit_cents)],
            ["Meal per diem", f"{money(rev.meal_per_diem_cents)} a day"],
            ["Receipts required for expenses over", money(rev.receipt_required_over_cents)],
            ["Manager approval required for expenses over", money(rev.expense_approval_over_cents)],
            ["Mileage rate", f"{rev.mileage_rate_cents} cents per mile"],
        ])
        pol.p(f"Revision note: {rev.note} {self.prose('policies')}")
        pages.append(pol)
        ben = Page(u.benefits(), "Benefits and working practices")
        ben.p(f"Last reviewed {sf.handbook_reviewed}. Announcements made after that date take precedence over this page.")
        ben.table(["Benefit", "Value"], [[x.label, x.text()] for x in sf.benefits.values()])
        ben.p(self.prose("benefits", 4))
        pages.append(ben)
        d = sf.draft
        draft = Page(u.draft(), "Proposal: finance policy changes (draft, not adopted)")
        draft.p(f"Drafted {sf.draft_day} by the Finance team for discussion. This proposal was NOT adopted; the ",
                Link("finance policies page", u.policies()), " is authoritative.")
        draft.table(["Policy", "Proposed value"], [
            ["Customer refund window", f"{d.refund_window_days} days after delivery"],
            ["Per-transfer limit (a single bank transfer)", money(d.per_transfer_limit_cents)],
            ["Meal per diem", f"{money(d.meal_per_diem_cents)} a day"],
            ["Mileage rate", f"{d.mileage_rate_cents} cents per mile"],
        ])
        pages.append(draft)

        groups = Page(u.groups(), "Working groups")
        groups.p("Cross-team working groups. These are not teams: people keep their team and manager.")
        groups.table(["Group", "Coordinator"], [[Link(g.name, u.group(g.slug)), self.who(g.coordinator)] for g in sf.groups])
        pages.append(groups)
        for g in sf.groups:
            pg = Page(u.group(g.slug), g.name)
            pg.p(g.description)
            pg.dl([("Coordinator", self.who(g.coordinator))])
            pg.h2("Members")
            pg.ul([self.who(m) for m in g.members])
            pages.append(pg)

        idx = Page(u.notes(), "Meeting notes")
        idx.table(["Date", "Team", "Notes"], [[n.day, w.team(n.team).name, Link(f"{w.team(n.team).name} meeting, {n.day}",
                                                                                  u.note(n.slug))] for n in reversed(notes)])
        pages.append(idx)
        for n in notes:
            t = w.team(n.team)
            pg = Page(u.note(n.slug), f"{t.name} team meeting - {n.day}")
            pg.dl([("Date", n.day), ("Team", Link(t.name, u.team(t.slug))), ("Notes by", self.who(n.author)),
                   ("Attendees", ", ".join(w.person(x).name for x in n.attendees))])
            pg.h2("Agenda")
            pg.ul(n.agenda)
            pg.h2("Decisions")
            pg.ul([f"Approved a budget of {money(c)} for {item}." for item, c in n.decisions])
            pg.h2("Action items")
            pg.ul([f"{w.person(x).name}: {task}" for x, task in n.actions])
            pg.p(self.prose(f"note-{n.slug}", 2))
            pages.append(pg)

        aidx = Page(u.announcements(), "Announcements")
        aidx.table(["Date", "Announcement", "From"], [[a.day, Link(a.title, u.announcement(a.slug)), w.person(a.author).name]
                                                      for a in reversed(anns)])
        pages.append(aidx)
        for a in anns:
            pg = Page(u.announcement(a.slug), a.title)
            pg.p(f"Posted {a.day} by ", self.who(a.author), ".")
            for para in a.paragraphs:
                pg.p(para)
            pages.append(pg)

        log: list[tuple[str, list]] = [(sf.handbook_reviewed, [Link("Benefits and working practices", u.benefits()),
                                                                 " reviewed."])]
        for r in w.policies.history:
            if r.effective <= day:
                log.append((r.effective, [Link("Finance and customer policies", u.policies()), " revised."]))
        log.append((sf.draft_day, [Link("Proposal: finance policy changes", u.draft()), " added (draft)."]))
        log += [(a.day, ["Announcement posted: ", Link(a.title, u.announcement(a.slug))]) for a in anns]
        log += [(n.day, ["Meeting notes added: ", Link(f"{w.team(n.team).name}, {n.day}", u.note(n.slug))]) for n in notes]
        changes = Page(u.intranet_changelog(), "Intranet changelog")
        changes.ul([[f"{d_}: ", *parts] for d_, parts in sorted(log, key=lambda x: x[0], reverse=True) if d_ <= day])
        pages.append(changes)
        return self._site(sf.hosts.intranet, f"{org.name} intranet", nav, pages)

    # ------------------------------------------------------------------------------------------------ docs
    def docs(self) -> Site:
        sf, w, u, day = self.sf, self.w, self.u, self.day
        rels = sf.releases_at(day)
        latest = rels[-1]
        versions = {r.version for r in rels}
        nav = [Link("Docs home", u.docs()), Link("Getting started", u.getting_started()), Link("Configuration", u.configuration()),
               Link("API", u.api()), Link("Releases", u.releases()), Link("Changelog", u.docs_changelog()), Link("FAQ", u.docs_faq())]
        home = Page(u.docs(), f"{sf.product} documentation")
        home.p(f"{sf.product} is made by ", Link(w.org.name, u.www()), f". Current version: {latest.version} "
               f"(released {latest.day}).")
        home.p(f"This documentation is maintained by {w.org.name}'s {w.team(sf.docs_team).name} team. {self.prose('docs-home')}")
        gs = Page(u.getting_started(), f"Getting started with {sf.product}")
        gs.p(f"Install the {sf.product} command-line tool and Python client from PyPI:")
        gs.pre(f"pip install {sf.package}\n{sf.package} init\n{sf.package} login")
        gs.p(f"Settings live in {sf.package}.toml; see ", Link("configuration", u.configuration()), ". " + self.prose("docs-gs"))
        cfg = Page(u.configuration(), f"{sf.product} configuration reference")
        shown = {o.name: (o.default_after(versions) if not o.stale else o.default_after(versions - {o.changes[-1][0]}))
                 for o in sf.options}
        cfg.p(f"Every setting of {sf.package}.toml with its default value.")
        cfg.table(["Setting", "Default", "Unit", "Description"],
                  [[f"{o.name}", str(shown[o.name]), o.unit, o.description] for o in sf.options])
        cfg.p("Release notes list every change of a default; see the ", Link("changelog", u.docs_changelog()), ".")
        api = Page(u.api(), f"{sf.product} API reference")
        api.p(f"The REST API lives at https://api.{sf.package}.io/v1 and takes a bearer token from `{sf.package} login`.")
        api.h2("Rate limits")
        api.table(["Plan", "Requests per minute"], [[pl.name, str(pl.rate_limit)] for pl in sf.plans])
        api.h2("Endpoints")
        api.ul([f"GET /v1/{x}s - list {x}s" for x in ("workspace", "project", "record", "report")])
        api.p(self.prose("docs-api"))
        ridx = Page(u.releases(), f"{sf.product} releases")
        ridx.table(["Version", "Released", "Summary"], [[Link(r.version, u.release(r.version)), r.day, r.summary]
                                                         for r in reversed(rels)])
        pages = [home, gs, cfg, api, ridx]
        for r in rels:
            pg = Page(u.release(r.version), f"{sf.product} {r.version} release notes")
            pg.p(f"Released {r.day}. {r.summary}")
            for name, items in (("Added", r.added), ("Changed", r.changed), ("Fixed", r.fixed), ("Deprecated", r.deprecated)):
                if items:
                    pg.h2(name)
                    pg.ul(items)
            pages.append(pg)
        log = Page(u.docs_changelog(), f"{sf.product} changelog")
        for r in reversed(rels):
            log.h2(f"{r.version} ({r.day})")
            log.ul([f"{kind}: {item}" for kind, items in (("Added", r.added), ("Changed", r.changed), ("Fixed", r.fixed),
                                                           ("Deprecated", r.deprecated)) for item in items])
        faq = Page(u.docs_faq(), f"{sf.product} FAQ")
        faq.h2("Which plan do I need?")
        faq.p("See ", Link("pricing", u.pricing()), ". " + self.prose("docs-faq-1", 2))
        faq.h2("Where do I report a bug?")
        faq.p(f"Open an issue in {w.repos[0].owner}/{w.repos[0].name} on GitHub. " + self.prose("docs-faq-2", 2))
        pages += [log, faq]
        return self._site(sf.hosts.docs, f"{sf.product} docs", nav, pages)

    # ------------------------------------------------------------------------------------------------ catalog
    def catalog(self) -> Site:
        sf, w, u, day = self.sf, self.w, self.u, self.day
        shop = w.shop
        cats = sorted({p.category for p in shop.products})
        nav = [Link("Shop home", u.catalog())] + [Link(c, u.category(c)) for c in cats] + [Link("Help", u.help())]
        home = Page(u.catalog(), f"{shop.brand} - catalogue")
        home.p(f"{shop.brand}: {self.prose('catalog-home', 2)}")
        home.ul([[Link(c, u.category(c)), f" ({sum(p.category == c for p in shop.products)} products)"] for c in cats])
        guide_url = u.gift_guide(sf.gift_guide_day)
        home.p("Looking for ideas? Read our ", Link(f"{sf.gift_guide_day[:4]} gift guide", guide_url), ".")
        pages = [home]
        for c in cats:
            pg = Page(u.category(c), f"{c} - {shop.brand}")
            items = sorted((p for p in shop.products if p.category == c), key=lambda p: p.name)
            pg.p(f"{len(items)} products in {c}. Prices in US dollars.")
            pg.table(["Product", "SKU", "Price", "Availability"],
                     [[Link(p.name, u.item(p.sku)), p.sku, money(sf.price_at(p.sku, day)),
                       "in stock" if p.stock else "out of stock"] for p in items])
            pages.append(pg)
        for p in shop.products:
            pg = Page(u.item(p.sku), f"{p.name} - {shop.brand}")
            pg.dl([("Price", money(sf.price_at(p.sku, day))), ("SKU", p.sku), ("Category", Link(p.category, u.category(p.category))),
                   ("Availability", "in stock" if p.stock else "out of stock")])
            pg.p(p.description)
            pg.p(f"Covered by our {sf.warranty_months[p.category]}-month warranty; see ", Link("warranty", u.warranty()),
                 " and ", Link("returns", u.returns()), ".")
            pages.append(pg)
        guide = Page(guide_url, f"{shop.brand} gift guide {sf.gift_guide_day[:4]}")
        guide.p(f"Published {sf.gift_guide_day}. Prices at the time of writing; check the product page for today's price.")
        by_sku = {p.sku: p for p in shop.products}
        guide.ul([[Link(by_sku[s].name, u.item(s)), f" - {money(c)}. " + self.prose(f"guide-{s}", 1)] for s, c in sf.gift_guide])
        pages.append(guide)
        return self._site(sf.hosts.catalog, shop.brand, nav, pages)

    # ------------------------------------------------------------------------------------------------ help
    def help(self) -> Site:
        sf, w, u, day = self.sf, self.w, self.u, self.day
        shop = w.shop
        rev = sf.policy_at(day)
        nav = [Link("Help centre", u.help()), Link("Returns", u.returns()), Link("Shipping", u.shipping()),
               Link("Warranty", u.warranty()), Link("Service updates", u.updates()), Link("Contact", u.help_contact()),
               Link("Shop", u.catalog())]
        home = Page(u.help(), f"{shop.brand} help centre")
        home.p(f"Answers about orders, returns and shipping at {shop.brand}. {self.prose('help-home', 2)}")
        home.ul([Link("Returns and refunds", u.returns()), Link("Shipping", u.shipping()), Link("Warranty", u.warranty()),
                 Link("Service updates", u.updates()), Link("FAQ", u.help_faq()), Link("Contact us", u.help_contact())])
        ret = Page(u.returns(), "Returns and refunds")
        ret.p(f"You can ask for a refund within {rev.refund_window_days} days of delivery. Items must be unused and in "
              "their original packaging; damaged or wrong items are always refunded within the window.")
        ret.p(f"Refunds are processed within {sf.returns_days} business days of approval.")
        ret.p("Write to ", w.shop.support_email, " with your order number. " + self.prose("help-returns", 2))
        ship = Page(u.shipping(), "Shipping")
        ship.p("Orders under $75.00 ship for a flat $6.95. Orders of $75.00 or more ship free.")
        ship.p(self.prose("help-shipping", 3))
        war = Page(u.warranty(), "Warranty")
        war.p(f"Every {shop.brand} product carries a warranty against defects, by category:")
        war.table(["Category", "Warranty"], [[c, f"{m} months"] for c, m in sorted(sf.warranty_months.items())])
        contact = Page(u.help_contact(), f"Contact {shop.brand} support")
        contact.dl([("Email", shop.support_email), ("Phone", sf.support_phone), ("Hours", sf.support_hours)])
        faq = Page(u.help_faq(), "Frequently asked questions")
        faq.h2("Can I change my order?")
        faq.p(self.prose("help-faq-1", 2))
        faq.h2("Do you ship abroad?")
        faq.p("We ship within the United States only. " + self.prose("help-faq-2", 2))
        upd = Page(u.updates(), "Service updates")
        items = []
        if sf.returns_update_day <= day:
            items.append(f"{sf.returns_update_day}: refunds are now processed within {sf.returns_days_new} business days of "
                         f"approval (this replaces the time given on the returns page).")
        items.append(f"{sf.gift_guide_day}: our {sf.gift_guide_day[:4]} gift guide is out.")
        upd.ul(items)
        return self._site(sf.hosts.help, f"{shop.brand} help", nav, [home, ret, ship, war, contact, faq, upd])

    # ------------------------------------------------------------------------------------------------ news
    def news(self) -> Site:
        sf, u, day = self.sf, self.u, self.day
        news = sf.news
        arts = [a for a in news.articles if a.day <= day]
        nav = [Link("Front page", u.news()), Link("About", u.news_about())]
        home = Page(u.news(), f"{news.name} - {news.tagline}")
        home.ul([[Link(a.title, u.article(a)), f" - {a.day}, by {a.reporter}"] for a in reversed(arts)])
        about = Page(u.news_about(), f"About the {news.name}")
        about.p(f"The {news.name} covers business and technology. Reporters: {', '.join(news.reporters)}.")
        pages = [home, about]
        for a in arts:
            pg = Page(u.article(a), a.title)
            pg.p(f"{a.day} - by {a.reporter}")
            for para in a.paragraphs:
                pg.p(para)
            pages.append(pg)
        return self._site(news.host, news.name, nav, pages)
