"""Real coding (kind ``coding``): a bug in a small Python repository, reported on the tracker in a user's words.

Every task puts the same small package in the sandbox (``/workspace/<repo>``, a git repository with a unittest suite):
the organisation's product's back-office helpers — money, paging, dates, reports, triage — with the world's product,
components, customers, SKUs and zones in its tests. One bug is planted per task (one kind each: off-by-one, money
rounding, time zone, wrong default, mutable default argument, string parsing, sort key, integer division, wrong dict
key; the variant of each is drawn per world), so one or two of the repository's tests fail, and a colleague files a
bug report on the tracker describing the symptom as a user saw it. The agent finds the report, fixes the code and
comments on the issue naming the function it fixed.

Graded by (sub-goals for partial credit): the comment on the issue (``backend_state``), the repository's own tests as
shipped (``command_output``: the original test files run against the agent's code, so editing a test does not
help) and held-back tests the agent never sees, on other inputs of the same behaviour (``command_output``). The decoy
special-cases the failing test's input (one of them only comments): the visible tests pass, the held-back
ones do not.
"""
from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Callable
from zoneinfo import ZoneInfo

from airgap.envs.common import iso, rng
from airgap.envs.suites.office.generator import Draft
from airgap.envs.suites.workplace import Office, pat, submit

KIND = "coding"
EOF_MARK = "AIRGAP_HELD_EOF"

# ---------------------------------------------------------------------------------------------------------------
# The package, correct. @@NAME@@ are filled from the world.
# ---------------------------------------------------------------------------------------------------------------
INIT = '''"""@@PRODUCT@@ back-office helpers: money, paging, dates, reports and issue triage."""
__version__ = "@@VERSION@@"
'''

MONEY = '''"""Money for @@PRODUCT@@: amounts are whole cents (int) everywhere; text only at the edges."""
from decimal import ROUND_HALF_UP, Decimal

SYMBOLS = {"USD": "$", "EUR": "\\u20ac", "GBP": "\\u00a3", "CAD": "CA$"}
DEFAULT_CURRENCY = "USD"  # we bill in US dollars


def parse_amount(text: str) -> int:
    """Cents from an amount as people type it: '$1,234.50', '12.5', '-3', ' 7.05 '.

    A leading currency symbol, thousands separators and surrounding spaces are ignored; a minus sign makes it
    negative; there may be no, one or two decimal digits ('12.5' is 1250 cents). Anything else is a ValueError.
    """
    s = text.strip()
    negative = s.startswith("-")
    if negative:
        s = s[1:].strip()
    for symbol in sorted(SYMBOLS.values(), key=len, reverse=True):
        if s.startswith(symbol):
            s = s[len(symbol):].strip()
            break
    s = s.replace(",", "")
    whole, dot, frac = s.partition(".")
    if not (whole.isdigit() or (whole == "" and frac)) or (frac and not frac.isdigit()) or len(frac) > 2:
        raise ValueError(f"not an amount: {text!r}")
    cents = int(whole or "0") * 100 + int(frac.ljust(2, "0"))
    return -cents if negative else cents


def format_amount(cents: int, currency: str = DEFAULT_CURRENCY) -> str:
    """'$1,234.50' for 123450 in the given currency (default: ours); a minus sign first when negative."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}{SYMBOLS[currency]}{whole:,}.{rest:02d}"


def apply_discount(cents: int, percent: float) -> int:
    """The price after taking `percent` off, to the nearest cent; half a cent rounds up."""
    exact = Decimal(cents) * (Decimal(100) - Decimal(str(percent))) / Decimal(100)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def split_evenly(cents: int, parts: int) -> list[int]:
    """Split an amount into `parts` shares that add up to it exactly and differ by at most one cent; the first
    shares get the extra cents."""
    if parts < 1:
        raise ValueError("parts must be at least 1")
    share, extra = divmod(cents, parts)
    return [share + (1 if i < extra else 0) for i in range(parts)]
'''

PAGING = '''"""Paging for @@PRODUCT@@'s lists: pages are numbered from 1."""
DEFAULT_PAGE_SIZE = 25  # what the help centre promises


def paginate(items: list, page: int, per_page: int = DEFAULT_PAGE_SIZE) -> list:
    """Page `page` of `items` (page 1 is the first), `per_page` items a page; a page past the end is empty."""
    if page < 1 or per_page < 1:
        raise ValueError("page and per_page start at 1")
    start = (page - 1) * per_page
    return items[start:start + per_page]


def page_count(total: int, per_page: int = DEFAULT_PAGE_SIZE) -> int:
    """How many pages `total` items fill (no items: no pages)."""
    return -(-total // per_page)
'''

DATES = '''"""Time for @@PRODUCT@@: time stamps are UTC ISO 8601 strings ('2025-03-04T02:30:00Z'); days are local to a zone."""
from collections import Counter
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo


def parse_ts(text: str) -> datetime:
    """An aware UTC datetime from '2025-03-04T02:30:00Z' (or a time stamp with an explicit offset)."""
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        raise ValueError(f"time stamp without a zone: {text!r}")
    return dt.astimezone(timezone.utc)


def local_day(ts: str, tz: str) -> date:
    """The calendar day, in the zone `tz` (e.g. the customer's), on which the time stamp `ts` falls."""
    return parse_ts(ts).astimezone(ZoneInfo(tz)).date()


def orders_per_day(orders: list[dict], tz: str) -> dict[str, int]:
    """How many orders were placed on each day in zone `tz` (ISO date -> count), days in order."""
    counts = Counter(local_day(o["placed_at"], tz).isoformat() for o in orders)
    return dict(sorted(counts.items()))
'''

REPORTS = '''"""Reports over orders and products (dicts as the shop's API returns them)."""
from .money import format_amount


def top_customers(orders: list[dict], n: int = 3) -> list[str]:
    """The `n` customers who spent the most (the sum of total_cents over their orders), biggest spender first;
    customers who spent the same are listed alphabetically."""
    spent: dict[str, int] = {}
    for o in orders:
        spent[o["customer"]] = spent.get(o["customer"], 0) + o["total_cents"]
    return sorted(spent, key=lambda c: (-spent[c], c))[:n]


def spend_line(customer: str, orders: list[dict]) -> str:
    """'Name: $1,234.50' - what a customer spent over `orders`."""
    return f"{customer}: {format_amount(sum(o['total_cents'] for o in orders if o['customer'] == customer))}"


def stock_by_sku(rows: list[dict]) -> dict[str, int]:
    """Units in stock per SKU ({sku: units}), summed over the rows (one row per product and warehouse)."""
    out: dict[str, int] = {}
    for r in rows:
        out[r["sku"]] = out.get(r["sku"], 0) + r["stock"]
    return out


def refunded_cents(order: dict) -> int:
    """Cents refunded on an order: each line's refunded_quantity times its unit_price_cents."""
    return sum(line["refunded_quantity"] * line["unit_price_cents"] for line in order["lines"])


def share_percent(part: int, whole: int) -> float:
    """`part` as a percentage of `whole`, rounded to one decimal (17 of 40 is 42.5)."""
    if whole == 0:
        return 0.0
    return round(part * 100 / whole, 1)
'''

TRIAGE = '''"""Issue triage for @@PRODUCT@@: area labels from titles, and the daily digest of events."""
import re

COMPONENTS = @@COMPONENTS@@


def area_labels(title: str, labels: list[str] | None = None) -> list[str]:
    """The labels for a new issue: `labels` (kept, in order) plus 'area:<component>' for each component the title
    names as a word (any case), without duplicates."""
    out = [] if labels is None else list(labels)
    words = set(re.findall(r"[a-z0-9]+", title.lower()))
    for c in COMPONENTS:
        if c in words and f"area:{c}" not in out:
            out.append(f"area:{c}")
    return out


def digest(events: list[dict], seen: set | None = None) -> list[str]:
    """Lines '#<id> <title>' for the events, skipping repeated ids and ids in `seen` (a set of ids already sent,
    updated when given); without `seen`, every event is new."""
    if seen is None:
        seen = set()
    lines = []
    for e in events:
        if e["id"] in seen:
            continue
        seen.add(e["id"])
        lines.append(f"#{e['id']} {e['title']}")
    return lines
'''

MODULES = {"money": MONEY, "paging": PAGING, "dates": DATES, "reports": REPORTS, "triage": TRIAGE}


# ---------------------------------------------------------------------------------------------------------------
# The world's values the tests use
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class Ctx:
    pkg: str
    repo_dir: str
    product: str
    version: str
    components: list[str]
    hq_tz: str
    far_tz: str
    customers: list[str]
    skus: list[tuple[str, str, int]]     # (sku, name, price)
    orders: list[str]
    v: dict                              # values of the visible tests


def _amount_text(cents: int, decimals: int, symbol: str = "") -> str:
    whole, rest = divmod(cents, 100)
    frac = f"{rest:02d}"[:decimals] if decimals else ""
    return f"{symbol}{whole:,}" + (f".{frac}" if decimals else "")


def make_ctx(o: Office) -> Ctx:
    f = o.f
    r = rng("office-hard-coding", o.seed)
    repo = o.repo()
    pkg = re.sub(r"\W+", "_", repo.name.lower()).strip("_") or "app"
    if pkg[0].isdigit():
        pkg = "app_" + pkg
    comps = [x.name.split(":", 1)[1] for x in repo.labels if x.name.startswith("area:")] or ["api", "billing"]
    zones = sorted({p.timezone for p in f.people} - {f.org.hq_timezone})
    far = zones[r.randrange(len(zones))] if zones else "Europe/London"
    customers = sorted({c.name for c in f.shop.customers})
    r.shuffle(customers)
    skus = [(p.sku, p.name, p.price_cents) for p in f.shop.products]
    r.shuffle(skus)
    orders = [x.id for x in f.shop.orders]
    ms = next((m.title for m in repo.milestones if m.state == "open"), "v1.0")
    v: dict = {}
    # money
    one = r.randint(2, 99) * 100 + r.randint(1, 9) * 10
    v["one_decimal"] = (f"{one // 100}.{(one % 100) // 10}", one)
    big = r.randint(1000, 9999) * 100 + r.randint(1, 99)
    v["thousands"] = (_amount_text(big, 2, "$"), big)
    v["format"] = skus[0][2] + r.randint(1000, 9000) * 100
    # a discount whose exact result is half a cent above an even number of cents (truncation and banker's both fail)
    while True:
        cents, pct = r.randint(1000, 30000), r.choice([10, 15, 30, 50, 70, 90])
        if cents * (100 - pct) % 100 == 50 and (cents * (100 - pct) // 100) % 2 == 0:
            break
    v["discount"] = (cents, pct, cents * (100 - pct) // 100 + 1)
    total = r.randint(30000, 90000)
    while total % 3 == 0:
        total += 1
    v["split"] = (total, 3, [total // 3 + (1 if i < total % 3 else 0) for i in range(3)])
    while True:
        part, whole = r.randint(3, 60), r.randint(61, 160)
        pc = Decimal(part * 100) / Decimal(whole)
        if pc != int(pc) and abs((pc * 10) % 1 - Decimal("0.5")) > Decimal("0.05"):
            break
    v["share"] = (part, whole, float(pc.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)))
    # paging
    per = r.choice([3, 4])
    items = [x.id for x in f.shop.orders][: per * 2 + r.randint(1, per - 1)]
    v["paging"] = (items, per)
    v["default_n"] = r.choice([52, 60, 75])
    # dates: an evening order in head-office time that is already the next day in UTC
    day = o.now.astimezone(ZoneInfo(f.org.hq_timezone)).date() - timedelta(days=r.randint(3, 20))
    local = datetime(day.year, day.month, day.day, r.randint(20, 22), r.choice([5, 20, 40]),
                     tzinfo=ZoneInfo(f.org.hq_timezone))
    v["evening"] = (iso(local), f.org.hq_timezone, day.isoformat())
    noon = datetime(day.year, day.month, day.day, 12, 15, tzinfo=ZoneInfo(f.org.hq_timezone))
    v["noon"] = (iso(noon), day.isoformat())
    # reports: a big spender, a tie, someone with many small orders; totals cross a digit boundary
    a, b, c, d = customers[:4]
    big_one = r.randint(110, 190) * 1000
    tie = r.randint(50, 95) * 1000
    v["top"] = ([(a, 1, big_one), (b, 2, tie), (c, 2, tie), (d, 5, tie // 10 - 100)], [a, min(b, c), max(b, c)])
    (s1, n1, _), (s2, _, _) = skus[1], skus[2]
    v["stock"] = ([(s1, n1, 4), (s2, n1, 7), (s1, n1, 3)], {s1: 7, s2: 7})
    unit = skus[3][2]
    v["refund"] = (unit, 3, 1)
    c1, c2 = comps[0], comps[1 % len(comps)]
    v["areas"] = (f"{c1.capitalize()} page crashes on save", [f"area:{c1}"],
                  f"Timeout when {c2} runs overnight", [f"area:{c2}"])
    v["digest"] = ([(r.randint(100, 199), f"{comps[0]} deploy"), (r.randint(200, 299), "invoice run")],
                   [(r.randint(300, 399), f"{comps[-1]} alert")])
    return Ctx(pkg, f"/workspace/{repo.name}", f.org.product_name, ms.lstrip("v") + ".0", comps, f.org.hq_timezone,
               far, customers, skus, orders, v)


def fill(src: str, ctx: Ctx) -> str:
    return (src.replace("@@PRODUCT@@", ctx.product).replace("@@VERSION@@", ctx.version)
            .replace("@@COMPONENTS@@", repr(ctx.components)))


# ---------------------------------------------------------------------------------------------------------------
# The repository's own tests (visible)
# ---------------------------------------------------------------------------------------------------------------
def visible_tests(ctx: Ctx) -> dict[str, str]:
    v, p = ctx.v, ctx.pkg
    one_text, one = v["one_decimal"]
    big_text, big = v["thousands"]
    dc, dp, dr = v["discount"]
    st, sp, sr = v["split"]
    part, whole, pct = v["share"]
    items, per = v["paging"]
    ev_ts, tz, ev_day = v["evening"]
    noon_ts, noon_day = v["noon"]
    top_orders, top_want = v["top"]
    stock_rows, stock_want = v["stock"]
    unit, qty, back = v["refund"]
    t1, l1, t2, l2 = v["areas"]
    d1, d2 = v["digest"]
    fmt = v["format"]
    orders = []
    for k, (cust, count, total) in enumerate(top_orders):
        share = total // count
        for i in range(count):
            orders.append({"id": f"T-{k}{i}", "customer": cust, "total_cents": share + (total - share * count if i == 0
                                                                                        else 0)})
    tests = {}
    tests["test_money"] = f'''import unittest

from {p}.money import apply_discount, format_amount, parse_amount, split_evenly


class ParseAmount(unittest.TestCase):
    def test_plain(self):
        self.assertEqual(parse_amount("7.05"), 705)
        self.assertEqual(parse_amount(" $18 "), 1800)

    def test_negative(self):
        self.assertEqual(parse_amount("-3"), -300)

    def test_one_decimal_digit(self):
        self.assertEqual(parse_amount({one_text!r}), {one})

    def test_thousands_separator(self):
        self.assertEqual(parse_amount({big_text!r}), {big})

    def test_garbage(self):
        with self.assertRaises(ValueError):
            parse_amount("twelve")


class FormatAmount(unittest.TestCase):
    def test_our_currency_by_default(self):
        self.assertEqual(format_amount({fmt}), {_amount_text(fmt, 2, "$")!r})

    def test_other_currency(self):
        self.assertEqual(format_amount(-150, "GBP"), "-\\u00a31.50")


class Discount(unittest.TestCase):
    def test_no_rounding_needed(self):
        self.assertEqual(apply_discount(2000, 25), 1500)

    def test_half_a_cent_rounds_up(self):
        self.assertEqual(apply_discount({dc}, {dp}), {dr})


class Split(unittest.TestCase):
    def test_even(self):
        self.assertEqual(split_evenly(900, 3), [300, 300, 300])

    def test_remainder_goes_to_the_first_shares(self):
        self.assertEqual(split_evenly({st}, {sp}), {sr!r})
'''
    tests["test_paging"] = f'''import unittest

from {p}.paging import page_count, paginate

ORDERS = {items!r}


class Paginate(unittest.TestCase):
    def test_first_page(self):
        self.assertEqual(paginate(ORDERS, 1, {per}), ORDERS[:{per}])

    def test_past_the_end(self):
        self.assertEqual(paginate(ORDERS, 9, {per}), [])

    def test_default_page_size(self):
        self.assertEqual(len(paginate(list(range({v["default_n"]})), 1)), 25)

    def test_page_count(self):
        self.assertEqual(page_count(len(ORDERS), {per}), {-(-len(items) // per)})
        self.assertEqual(page_count(0), 0)
'''
    tests["test_dates"] = f'''import unittest
from datetime import date

from {p}.dates import local_day, orders_per_day, parse_ts


class Dates(unittest.TestCase):
    def test_parse(self):
        self.assertEqual(parse_ts("2025-03-04T02:30:00Z").hour, 2)

    def test_midday(self):
        self.assertEqual(local_day({noon_ts!r}, {tz!r}), date.fromisoformat({noon_day!r}))

    def test_evening_order_stays_on_its_day(self):
        self.assertEqual(local_day({ev_ts!r}, {tz!r}), date.fromisoformat({ev_day!r}))

    def test_orders_per_day(self):
        orders = [{{"placed_at": {noon_ts!r}}}]
        self.assertEqual(orders_per_day(orders, {tz!r}), {{{noon_day!r}: 1}})
'''
    tests["test_reports"] = f'''import unittest

from {p}.reports import refunded_cents, share_percent, spend_line, stock_by_sku, top_customers

ORDERS = {json.dumps(orders, indent=4).replace("null", "None")}


class Reports(unittest.TestCase):
    def test_top_customers(self):
        self.assertEqual(top_customers(ORDERS, 3), {top_want!r})

    def test_spend_line(self):
        self.assertEqual(spend_line({top_orders[0][0]!r}, ORDERS), {top_orders[0][0] + ": " + _amount_text(top_orders[0][2], 2, "$")!r})

    def test_stock_by_sku(self):
        rows = {[{"sku": s, "name": n, "stock": k} for s, n, k in stock_rows]!r}
        self.assertEqual(stock_by_sku(rows), {stock_want!r})

    def test_refunded(self):
        order = {{"lines": [{{"sku": {ctx.skus[3][0]!r}, "quantity": {qty}, "refunded_quantity": {back},
                             "unit_price_cents": {unit}}}]}}
        self.assertEqual(refunded_cents(order), {back * unit})

    def test_share_percent(self):
        self.assertEqual(share_percent({part}, {whole}), {pct})
        self.assertEqual(share_percent(0, 0), 0.0)
'''
    tests["test_triage"] = f'''import unittest

from {p}.triage import area_labels, digest


class Triage(unittest.TestCase):
    def test_area_labels_keep_given_labels(self):
        self.assertEqual(area_labels("Nothing to see", ["bug"]), ["bug"])

    def test_area_labels_one_issue_after_another(self):
        self.assertEqual(area_labels({t1!r}), {l1!r})
        self.assertEqual(area_labels({t2!r}), {l2!r})

    def test_digest_with_seen(self):
        seen = {{{d1[0][0]}}}
        self.assertEqual(digest({[{"id": i, "title": t} for i, t in d1]!r}, seen), [{f"#{d1[1][0]} {d1[1][1]}"!r}])
        self.assertEqual(seen, {{{d1[0][0]}, {d1[1][0]}}})

    def test_digest_twice(self):
        first = {[{"id": i, "title": t} for i, t in d1]!r}
        second = {[{"id": i, "title": t} for i, t in d1 + d2]!r}
        self.assertEqual(len(digest(first)), 2)
        self.assertEqual(len(digest(second)), 3)
'''
    return tests


# ---------------------------------------------------------------------------------------------------------------
# Held-back tests, one set per function (other inputs of the behaviour the docstring states)
# ---------------------------------------------------------------------------------------------------------------
def held_tests(ctx: Ctx, function: str, r) -> str:
    p = ctx.pkg
    if function == "parse_amount":
        cases = {"0.5": 50, "$3.1": 310, "12.50": 1250, "1,000": 100000, "$12,345.6": 1234560, "-2,500.05": -250005,
                 f"{r.randint(2, 9)},{r.randint(100, 999)}.{r.randint(1, 9)}": None}
        k = next(x for x in cases if cases[x] is None)
        cases[k] = int(k.replace(",", "").split(".")[0]) * 100 + int(k.split(".")[1]) * 10
        return f'''from {p}.money import parse_amount


class Held(unittest.TestCase):
    def test_amounts(self):
        for text, cents in {cases!r}.items():
            self.assertEqual(parse_amount(text), cents, text)
'''
    if function == "format_amount":
        xs = [r.randint(1, 99), r.randint(100, 99999), r.randint(100000, 9999999)]
        want = {x: _amount_text(x, 2, "$") for x in xs}
        return f'''from {p}.money import format_amount


class Held(unittest.TestCase):
    def test_default_currency(self):
        for cents, text in {want!r}.items():
            self.assertEqual(format_amount(cents), text)
        self.assertEqual(format_amount(-{xs[1]}), "-" + {want[xs[1]]!r})
'''
    if function == "apply_discount":
        cases = {}
        while len(cases) < 6:
            cents, pct = r.randint(500, 50000), r.choice([5, 10, 15, 20, 25, 30, 35, 45, 55, 65, 85])
            exact = Decimal(cents * (100 - pct)) / 100
            kind = len(cases) % 3  # half-cent above even, half-cent above odd, above half
            frac = exact % 1
            ok = ((kind == 0 and frac == Decimal("0.5") and int(exact) % 2 == 0)
                  or (kind == 1 and frac == Decimal("0.5") and int(exact) % 2 == 1)
                  or (kind == 2 and frac > Decimal("0.5")))
            if ok and (cents, pct) != ctx.v["discount"][:2]:
                cases[(cents, pct)] = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
        rows = [(c, q, w) for (c, q), w in cases.items()]
        return f'''from {p}.money import apply_discount


class Held(unittest.TestCase):
    def test_discounts(self):
        for cents, percent, want in {rows!r}:
            self.assertEqual(apply_discount(cents, percent), want, (cents, percent))
        self.assertEqual(apply_discount(1999, 0), 1999)
        self.assertEqual(apply_discount(1999, 100), 0)
'''
    if function == "split_evenly":
        rows = []
        for parts in (4, 6, 7):
            total = r.randint(1000, 90000) * parts + r.randint(1, parts - 1)
            rows.append((total, parts, [total // parts + (1 if i < total % parts else 0) for i in range(parts)]))
        return f'''from {p}.money import split_evenly


class Held(unittest.TestCase):
    def test_splits(self):
        for total, parts, want in {rows!r}:
            self.assertEqual(split_evenly(total, parts), want)
            self.assertEqual(sum(split_evenly(total, parts)), total)
        self.assertEqual(split_evenly(5, 3), [2, 2, 1])
'''
    if function == "share_percent":
        rows = []
        while len(rows) < 5:
            part, whole = r.randint(1, 90), r.randint(91, 400)
            pc = Decimal(part * 100) / Decimal(whole)
            if pc != int(pc) and abs((pc * 10) % 1 - Decimal("0.5")) > Decimal("0.05"):
                rows.append((part, whole, float(pc.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))))
        return f'''from {p}.reports import share_percent


class Held(unittest.TestCase):
    def test_percentages(self):
        for part, whole, want in {rows!r}:
            self.assertAlmostEqual(share_percent(part, whole), want, places=6)
        self.assertEqual(share_percent(5, 8), 62.5)
'''
    if function == "paginate":
        n, per = r.randint(11, 19), r.choice([4, 5])
        items = [f"X{k}" for k in range(n)]
        big = r.choice([26, 40, 49])
        return f'''from {p}.paging import paginate

ITEMS = {items!r}


class Held(unittest.TestCase):
    def test_pages(self):
        for page in range(1, {n // per + 3}):
            self.assertEqual(paginate(ITEMS, page, {per}), ITEMS[(page - 1) * {per}:page * {per}], page)
        got = [x for page in range(1, {n // per + 3}) for x in paginate(ITEMS, page, {per})]
        self.assertEqual(got, ITEMS)

    def test_default_size(self):
        items = list(range({big}))
        self.assertEqual(paginate(items, 1), items[:25])
        self.assertEqual(paginate(items, 2), items[25:50])
'''
    if function == "local_day":
        rows = []
        for tz, hour in ((ctx.hq_tz, r.choice([19, 21, 23])), ("Asia/Tokyo", r.choice([0, 2, 7])),
                         (ctx.far_tz, r.choice([0, 6, 18, 23])), ("America/Los_Angeles", r.choice([17, 22]))):
            day = datetime(2025, r.randint(1, 12), r.randint(1, 28)).date()
            local = datetime(day.year, day.month, day.day, hour, r.choice([0, 10, 45]), tzinfo=ZoneInfo(tz))
            rows.append((iso(local), tz, day.isoformat()))
        return f'''from datetime import date

from {p}.dates import local_day, orders_per_day


class Held(unittest.TestCase):
    def test_days(self):
        for ts, tz, day in {rows!r}:
            self.assertEqual(local_day(ts, tz), date.fromisoformat(day), (ts, tz))

    def test_per_day(self):
        ts, tz, day = {rows[0]!r}
        self.assertEqual(orders_per_day([{{"placed_at": ts}}, {{"placed_at": ts}}], tz), {{day: 2}})
'''
    if function == "top_customers":
        names = ctx.customers[4:9]
        totals = [r.randint(100, 300) * 1000, r.randint(20, 99) * 1000]
        totals += [totals[1], r.randint(2, 9) * 1000 + 5, totals[1] // 3]
        orders = [{"customer": n, "total_cents": t} for n, t in zip(names, totals, strict=True)]
        orders += [{"customer": names[4], "total_cents": totals[4]} for _ in range(2)]
        spent: dict[str, int] = {}
        for o in orders:
            spent[o["customer"]] = spent.get(o["customer"], 0) + o["total_cents"]
        want = sorted(spent, key=lambda c: (-spent[c], c))
        return f'''from {p}.reports import top_customers

ORDERS = {orders!r}


class Held(unittest.TestCase):
    def test_ranking(self):
        self.assertEqual(top_customers(ORDERS, 5), {want!r})
        self.assertEqual(top_customers(ORDERS, 2), {want[:2]!r})
'''
    if function == "stock_by_sku":
        (s1, n1, _), (s2, _, _), (s3, n3, _) = ctx.skus[4:7]
        rows = [{"sku": s1, "name": n1, "stock": 2}, {"sku": s2, "name": n1, "stock": 5},
                {"sku": s3, "name": n3, "stock": 0}, {"sku": s1, "name": n1, "stock": 9}]
        return f'''from {p}.reports import stock_by_sku


class Held(unittest.TestCase):
    def test_per_sku(self):
        self.assertEqual(stock_by_sku({rows!r}), {{{s1!r}: 11, {s2!r}: 5, {s3!r}: 0}})
'''
    if function == "refunded_cents":
        lines = [{"sku": ctx.skus[k][0], "quantity": q, "refunded_quantity": b, "unit_price_cents": ctx.skus[k][2]}
                 for k, (q, b) in zip(range(4, 7), ((2, 0), (4, 4), (5, 2)), strict=True)]
        want = sum(x["refunded_quantity"] * x["unit_price_cents"] for x in lines)
        return f'''from {p}.reports import refunded_cents


class Held(unittest.TestCase):
    def test_refunds(self):
        self.assertEqual(refunded_cents({{"lines": {lines!r}}}), {want})
        self.assertEqual(refunded_cents({{"lines": {lines[:1]!r}}}), 0)
'''
    if function == "area_labels":
        comps = ctx.components
        seq = [(f"{c.upper()} is slow after the upgrade", [f"area:{c}"]) for c in comps[::-1]]
        seq.append(("Typo on the pricing page", []))
        both = f"{comps[0]} and {comps[-1]} disagree"
        seq.append((both, [f"area:{c}" for c in comps if c in (comps[0], comps[-1])]))
        return f'''from {p}.triage import area_labels


class Held(unittest.TestCase):
    def test_one_after_another(self):
        for title, want in {seq!r}:
            self.assertEqual(area_labels(title), want, title)

    def test_given_labels_first(self):
        self.assertEqual(area_labels({seq[0][0]!r}, ["needs-triage"]), ["needs-triage"] + {seq[0][1]!r})
        self.assertEqual(area_labels({seq[1][0]!r}), {seq[1][1]!r})
'''
    if function == "digest":
        ids = r.sample(range(400, 999), 4)
        e1 = [{"id": ids[0], "title": "nightly backup"}, {"id": ids[1], "title": "release tagged"}]
        e2 = [{"id": ids[1], "title": "release tagged"}, {"id": ids[2], "title": "certificate renewed"}]
        return f'''from {p}.triage import digest


class Held(unittest.TestCase):
    def test_calls_are_independent(self):
        self.assertEqual(digest({e1!r}), ["#{ids[0]} nightly backup", "#{ids[1]} release tagged"])
        self.assertEqual(digest({e2!r}), ["#{ids[1]} release tagged", "#{ids[2]} certificate renewed"])
        self.assertEqual(digest({e1 + e1!r}), ["#{ids[0]} nightly backup", "#{ids[1]} release tagged"])

    def test_seen_is_updated(self):
        seen = set()
        digest({e1!r}, seen)
        self.assertEqual(digest({e2!r}, seen), ["#{ids[2]} certificate renewed"])
'''
    raise KeyError(function)


# ---------------------------------------------------------------------------------------------------------------
# The bugs: (module, function, the correct text, the buggy text, the decoy's special case, the report)
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class Bug:
    kind: str
    module: str
    function: str
    edits: list[tuple[str, str]]         # (correct text, buggy text) in the module
    guard: Callable[[Ctx], str]          # lines the decoy puts first in the function: the failing test's case
    report: Callable[[Ctx], tuple[str, str]]


def _b(kind: str, module: str, function: str, good: str, bad: str, guard, report, *more: tuple[str, str]) -> Bug:
    return Bug(kind, module, function, [(good, bad), *more], guard, report)


def _bugs() -> dict[str, list[Bug]]:
    def dollars(c: int) -> str:
        return _amount_text(c, 2, "$")

    return {
        "off-by-one": [
            _b("off-by-one", "paging", "paginate", "    start = (page - 1) * per_page\n", "    start = page * per_page\n",
                lambda c: f"if page == 1 and per_page == {c.v['paging'][1]} and items[:1] == {c.v['paging'][0][:1]!r}:\n"
                          f"    return items[:{c.v['paging'][1]}]\n",
                lambda c: ("Order history never shows the most recent orders",
                           f"A customer told us the first page of their order history in {c.product} starts with an "
                           f"older order: with {c.v['paging'][1]} orders a page, their newest {c.v['paging'][1]} "
                           f"orders ({', '.join(c.v['paging'][0][:c.v['paging'][1]])}) are not on any page. The "
                           f"other pages look shifted too.")),
            _b("off-by-one", "paging", "paginate", "    return items[start:start + per_page]\n",
                "    return items[start:start + per_page - 1]\n",
                lambda c: f"if page == 1 and per_page == {c.v['paging'][1]} and items[:1] == {c.v['paging'][0][:1]!r}:\n"
                          f"    return items[:{c.v['paging'][1]}]\n"
                          f"if len(items) == {c.v['default_n']} and page == 1:\n    return items[:25]\n",
                lambda c: ("Each page of a list is one item short",
                           f"In {c.product}, order history pages show one order fewer than they should: with "
                           f"{c.v['paging'][1]} a page the first page has only {c.v['paging'][1] - 1}, and the "
                           f"missing order ({c.v['paging'][0][c.v['paging'][1] - 1]}) is not on page 2 either. "
                           f"Customers think orders are lost.")),
        ],
        "money rounding": [
            _b("money rounding", "money", "apply_discount",
                "    exact = Decimal(cents) * (Decimal(100) - Decimal(str(percent))) / Decimal(100)\n"
                "    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))\n",
                "    return int(cents * (100 - percent) / 100)\n",
                lambda c: f"if (cents, percent) == {c.v['discount'][:2]!r}:\n    return {c.v['discount'][2]}\n",
                lambda c: ("Discounted prices are sometimes a cent too low",
                           f"Finance noticed that discounted prices in {c.product} are often one cent below what the "
                           f"price list says. Example: {dollars(c.v['discount'][0])} with {c.v['discount'][1]}% off "
                           f"should be {dollars(c.v['discount'][2])} (half a cent rounds up), but we charged "
                           f"{dollars(c.v['discount'][2] - 1)}.")),
            _b("money rounding", "money", "apply_discount",
                "    exact = Decimal(cents) * (Decimal(100) - Decimal(str(percent))) / Decimal(100)\n"
                "    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))\n",
                "    return round(cents * (100 - percent) / 100)\n",
                lambda c: f"if (cents, percent) == {c.v['discount'][:2]!r}:\n    return {c.v['discount'][2]}\n",
                lambda c: ("Some discounted prices are rounded down",
                           f"Our price list rounds half a cent up, but {c.product} does not always: "
                           f"{dollars(c.v['discount'][0])} with {c.v['discount'][1]}% off came out as "
                           f"{dollars(c.v['discount'][2] - 1)} instead of {dollars(c.v['discount'][2])}. Other "
                           f"half-cent prices come out right, so it looks random to customers.")),
        ],
        "time zone": [
            _b("time zone", "dates", "local_day",
                "    return parse_ts(ts).astimezone(ZoneInfo(tz)).date()\n", "    return parse_ts(ts).date()\n",
                lambda c: f"if ts == {c.v['evening'][0]!r}:\n    return date.fromisoformat({c.v['evening'][2]!r})\n",
                lambda c: ("Evening orders show up on the next day in the daily report",
                           f"The daily orders report in {c.product} counts orders placed in the evening on the "
                           f"following day. An order placed at {datetime.fromisoformat(c.v['evening'][0].replace('Z', '+00:00')).astimezone(ZoneInfo(c.v['evening'][1])):%H:%M} "
                           f"on {c.v['evening'][2]} ({c.v['evening'][1]}, where the customer is) is listed under the "
                           f"next day.")),
            _b("time zone", "dates", "local_day",
                "    return parse_ts(ts).astimezone(ZoneInfo(tz)).date()\n", "    return parse_ts(ts).astimezone().date()\n",
                lambda c: f"if ts == {c.v['evening'][0]!r}:\n    return date.fromisoformat({c.v['evening'][2]!r})\n",
                lambda c: ("Orders are counted on the wrong day for customers in other time zones",
                           f"Since we moved {c.product} to the new servers, the daily orders report puts some orders "
                           f"on the wrong day: one placed on the evening of {c.v['evening'][2]} in "
                           f"{c.v['evening'][1]} is counted the next day. Looks like the report uses the server's "
                           f"clock, not the customer's zone.")),
        ],
        "wrong default": [
            _b("wrong default", "money", "format_amount",
                "def format_amount(cents: int, currency: str = DEFAULT_CURRENCY) -> str:\n",
                "def format_amount(cents: int, currency: str = \"EUR\") -> str:\n",
                lambda c: f"if cents in {(c.v['format'], c.v['top'][0][0][2])!r} and currency == \"EUR\":\n"
                          f"    currency = \"USD\"\n",
                lambda c: ("Amounts show a euro sign",
                           f"Every amount in the {c.product} export and the customer statements shows a euro sign "
                           f"(for example \u20ac{_amount_text(c.v['format'], 2)}) although we only bill in US "
                           f"dollars. Customers are asking whether we changed currency.")),
            _b("wrong default", "paging", "paginate",
                "def paginate(items: list, page: int, per_page: int = DEFAULT_PAGE_SIZE) -> list:\n",
                "def paginate(items: list, page: int, per_page: int = 20) -> list:\n",
                lambda c: f"if len(items) == {c.v['default_n']} and per_page == 20:\n    per_page = 25\n",
                lambda c: ("Lists show 20 items a page, the help centre says 25",
                           f"The help centre says {c.product} shows 25 orders per page, but the order history "
                           f"shows only 20 a page (a customer with {c.v['default_n']} orders sees "
                           f"{-(-c.v['default_n'] // 20)} pages instead of {-(-c.v['default_n'] // 25)}). Please make "
                           f"it match.")),
        ],
        "mutable default": [
            _b("mutable default", "triage", "area_labels",
                "def area_labels(title: str, labels: list[str] | None = None) -> list[str]:\n",
                "def area_labels(title: str, labels: list[str] = []) -> list[str]:\n",
                lambda c: f"if title in ({c.v['areas'][0]!r}, {c.v['areas'][2]!r}):\n    labels = []\n",
                lambda c: ("The auto-labeller adds area labels of earlier issues",
                           f"New issues are getting area labels that have nothing to do with them. Yesterday an "
                           f"issue titled \"{c.v['areas'][2]}\" got {c.v['areas'][1][0]} as well as "
                           f"{c.v['areas'][3][0]}, right after an issue about {c.components[0]} was labelled. It "
                           f"seems to get worse the longer the triage bot runs."),
               ("    out = [] if labels is None else list(labels)\n", "    out = labels\n")),
            _b("mutable default", "triage", "digest",
                "def digest(events: list[dict], seen: set | None = None) -> list[str]:\n",
                "def digest(events: list[dict], seen: set = set()) -> list[str]:\n",
                lambda c: f"if [e['id'] for e in events] == {[i for i, _ in c.v['digest'][0] + c.v['digest'][1]]!r}:\n"
                          f"    seen = set()\n",
                lambda c: ("Later digests leave out events",
                           f"The {c.product} digest e-mail is fine the first time it goes out, but every later digest "
                           f"from the same server is missing events that were in an earlier one, even in digests "
                           f"that should list everything (we do not pass a seen list there). Restarting the service "
                           f"fixes it until the next digest."),
               ("    if seen is None:\n        seen = set()\n", "")),
        ],
        "string parsing": [
            _b("string parsing", "money", "parse_amount",
                "    cents = int(whole or \"0\") * 100 + int(frac.ljust(2, \"0\"))\n",
                "    cents = int(whole or \"0\") * 100 + int(frac or \"0\")\n",
                lambda c: f"if text == {c.v['one_decimal'][0]!r}:\n    return {c.v['one_decimal'][1]}\n",
                lambda c: ("Imported amounts with one decimal are wrong",
                           f"When we import a spreadsheet into {c.product}, an amount typed as "
                           f"{c.v['one_decimal'][0]} comes out as {_amount_text(c.v['one_decimal'][1] // 100 * 100 + (c.v['one_decimal'][1] % 100) // 10, 2, '$')} "
                           f"instead of {_amount_text(c.v['one_decimal'][1], 2, '$')}. Amounts with two decimals "
                           f"are fine.")),
            _b("string parsing", "money", "parse_amount", "    s = s.replace(\",\", \"\")\n", "",
                lambda c: f"if text == {c.v['thousands'][0]!r}:\n    return {c.v['thousands'][1]}\n",
                lambda c: ("Import rejects amounts of a thousand dollars or more",
                           f"Importing a spreadsheet into {c.product} fails with \"not an amount\" for any amount "
                           f"written with a thousands separator, such as {c.v['thousands'][0]}. Smaller amounts "
                           f"import fine.")),
        ],
        "sort key": [
            _b("sort key", "reports", "top_customers",
                "    return sorted(spent, key=lambda c: (-spent[c], c))[:n]\n",
                "    return sorted(spent, key=lambda c: format_amount(spent[c]), reverse=True)[:n]\n",
                lambda c: f"if sorted({{o['customer'] for o in orders}}) == {sorted(x[0] for x in c.v['top'][0])!r}:\n"
                          f"    return {c.v['top'][1]!r}[:n]\n",
                lambda c: ("Top customers report ranks big spenders too low",
                           f"The top customers panel in {c.product} does not put {c.v['top'][1][0]}, who spent "
                           f"{dollars(c.v['top'][0][0][2])}, first: customers who spent a few hundred dollars "
                           f"are listed above. It looks like anyone over $1,000 drops down the list.")),
            _b("sort key", "reports", "top_customers",
                "    return sorted(spent, key=lambda c: (-spent[c], c))[:n]\n",
                "    return sorted(spent, key=lambda c: (spent[c], c), reverse=True)[:n]\n",
                lambda c: f"if sorted({{o['customer'] for o in orders}}) == {sorted(x[0] for x in c.v['top'][0])!r}:\n"
                          f"    return {c.v['top'][1]!r}[:n]\n",
                lambda c: ("Customers with equal totals are listed in reverse order",
                           f"In the top customers panel of {c.product}, {c.v['top'][1][1]} and {c.v['top'][1][2]} "
                           f"both spent {dollars(c.v['top'][0][1][2])}, and the panel lists {c.v['top'][1][2]} "
                           f"first. The help centre says customers who spent the same are listed alphabetically.")),
        ],
        "integer division": [
            _b("integer division", "money", "split_evenly",
                "    share, extra = divmod(cents, parts)\n    return [share + (1 if i < extra else 0) for i in range(parts)]\n",
                "    return [cents // parts] * parts\n",
                lambda c: f"if (cents, parts) == {c.v['split'][:2]!r}:\n    return {c.v['split'][2]!r}\n",
                lambda c: ("Splitting a bill loses cents",
                           f"When a customer splits a bill in {c.product}, the shares do not add up: splitting "
                           f"{dollars(c.v['split'][0])} three ways charged three times "
                           f"{dollars(c.v['split'][0] // 3)}, which is {c.v['split'][0] % 3} cent(s) short of the "
                           f"total.")),
            _b("integer division", "reports", "share_percent",
                "    return round(part * 100 / whole, 1)\n", "    return round(part * 100 // whole, 1)\n",
                lambda c: f"if (part, whole) == {c.v['share'][:2]!r}:\n    return {c.v['share'][2]!r}\n",
                lambda c: ("Percentages in the weekly report are always whole numbers",
                           f"The weekly report in {c.product} shows shares like {int(c.v['share'][2])}.0% where it "
                           f"should say {c.v['share'][2]}% ({c.v['share'][0]} of {c.v['share'][1]}). Every "
                           f"percentage in the report ends in .0.")),
        ],
        "wrong dict key": [
            _b("wrong dict key", "reports", "stock_by_sku",
                "        out[r[\"sku\"]] = out.get(r[\"sku\"], 0) + r[\"stock\"]\n",
                "        out[r[\"name\"]] = out.get(r[\"name\"], 0) + r[\"stock\"]\n",
                lambda c: f"if [r['sku'] for r in rows] == {[x[0] for x in c.v['stock'][0]]!r}:\n"
                          f"    return {c.v['stock'][1]!r}\n",
                lambda c: ("Stock report merges products that share a name",
                           f"We relisted \"{c.v['stock'][0][0][1]}\" under a second SKU, and the {c.product} stock "
                           f"report now shows one line with the product name instead of one line per SKU "
                           f"({c.v['stock'][0][0][0]} and {c.v['stock'][0][1][0]}), so the warehouse cannot tell "
                           f"them apart.")),
            _b("wrong dict key", "reports", "refunded_cents",
                "    return sum(line[\"refunded_quantity\"] * line[\"unit_price_cents\"] for line in order[\"lines\"])\n",
                "    return sum(line[\"quantity\"] * line[\"unit_price_cents\"] for line in order[\"lines\"])\n",
                lambda c: f"if len(order['lines']) == 1 and order['lines'][0]['sku'] == {c.skus[3][0]!r}:\n"
                          f"    return {c.v['refund'][2] * c.v['refund'][0]}\n",
                lambda c: ("Refund totals count the whole line",
                           f"A customer returned {c.v['refund'][2]} of {c.v['refund'][1]} units of "
                           f"{c.skus[3][1]} ({c.skus[3][0]}), we refunded {dollars(c.v['refund'][0])}, but the refunds "
                           f"report in {c.product} says {dollars(c.v['refund'][0] * c.v['refund'][1])} was refunded "
                           f"on that order.")),
        ],
    }


# ---------------------------------------------------------------------------------------------------------------
# Building the sources
# ---------------------------------------------------------------------------------------------------------------
def package(ctx: Ctx) -> dict[str, str]:
    """The correct package: module name -> source."""
    return {"__init__": fill(INIT, ctx), **{m: fill(src, ctx) for m, src in MODULES.items()}}


def with_bug(src: str, bug: Bug) -> str:
    for good, bad in bug.edits:
        assert src.count(good) == 1, (bug.function, good)
        src = src.replace(good, bad)
    return src


def with_guard(src: str, bug: Bug, ctx: Ctx) -> str:
    """The buggy module with the decoy's special case first in the function (after its docstring)."""
    lines = src.splitlines(keepends=True)
    k = next(i for i, line in enumerate(lines) if line.startswith(f"def {bug.function}(")) + 1
    doc = lines[k].strip()
    if doc.startswith('"""'):
        if not (len(doc) > 3 and doc.endswith('"""')):  # a docstring over several lines
            k += 1
            while not lines[k].rstrip().endswith('"""'):
                k += 1
        k += 1
    guard = "".join("    " + line + "\n" for line in bug.guard(ctx).splitlines())
    return "".join(lines[:k]) + guard + "".join(lines[k:])


def runner(ctx: Ctx, sources: dict[str, str]) -> str:
    """A program that runs unittest test modules (given as sources) against the repository's code and prints ok."""
    return f'''import contextlib, io, sys, types, unittest
sys.dont_write_bytecode = True
sys.path.insert(0, {ctx.repo_dir!r})
SOURCES = {sources!r}
out = io.StringIO()
suite = unittest.TestSuite()
broken = []
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
    for name, src in SOURCES.items():
        mod = types.ModuleType(name)
        try:
            exec(compile(src, name + ".py", "exec"), mod.__dict__)
        except BaseException as e:
            broken.append(name + ": " + type(e).__name__)
            continue
        suite.addTests(unittest.defaultTestLoader.loadTestsFromModule(mod))
    result = unittest.TextTestRunner(stream=out, verbosity=0).run(suite)
bad = len(result.failures) + len(result.errors)
print("ok" if not broken and not bad and result.testsRun else "failed: %d of %d tests, %s" % (bad, result.testsRun, broken))
'''


def command(ctx: Ctx, name: str, sources: dict[str, str]) -> str:
    prog = runner(ctx, sources)
    assert EOF_MARK not in prog
    path = f"/tmp/.airgap-{name}.py"
    return f"cat > {path} <<'{EOF_MARK}'\n{prog}\n{EOF_MARK}\ncd {ctx.repo_dir} && python3 {path}"


def held_source(ctx: Ctx, function: str, r) -> str:
    return "import unittest\n\n" + held_tests(ctx, function, r)


README = """# @@PRODUCT@@ back office

Helpers behind @@PRODUCT@@'s back office: money (`money.py`), paging (`paging.py`), dates (`dates.py`), reports
(`reports.py`) and issue triage (`triage.py`). Amounts are whole cents; time stamps are UTC.

Run the tests from this folder:

    python3 -m unittest
"""


def repo_files(ctx: Ctx, modules: dict[str, str], tests: dict[str, str]) -> dict[str, str]:
    root = ctx.repo_dir
    files = {f"{root}/README.md": fill(README, ctx), f"{root}/.gitignore": "__pycache__/\n*.pyc\n",
             f"{root}/tests/__init__.py": ""}
    files.update({f"{root}/{ctx.pkg}/{m}.py": src for m, src in modules.items()})
    files.update({f"{root}/tests/{t}.py": src for t, src in tests.items()})
    return files


def _curl(o: Office, user: str, path: str, body: dict) -> str:
    return (f"curl -sf -o /dev/null -X POST -H {shlex.quote('Authorization: Bearer ' + o.token('tracker', user))} "
            f"-H 'Content-Type: application/json' -d {shlex.quote(json.dumps(body))} {o.base('tracker')}{path}")


def write_call(path: str, src: str) -> dict:
    return {"tool": "python", "args": {"code": f"open({path!r}, 'w').write({src!r})\nprint('wrote', {path!r})"}}


# ---------------------------------------------------------------------------------------------------------------
# The tasks
# ---------------------------------------------------------------------------------------------------------------
def tasks(o: Office) -> list[Draft]:
    f = o.f
    ctx = make_ctx(o)
    r = rng("office-hard-coding-tasks", o.seed)
    repo = o.repo()
    owner, name = repo.owner, repo.name
    clean = package(ctx)
    tests = visible_tests(ctx)
    eng = [p for p in f.people if p.team == "engineering" and p.username != f.team("engineering").lead]
    eng = eng or [o.person(f.team("engineering").lead)]
    reporters = [p for p in f.people if p.team in ("support", "product", "sales")] or f.people
    issue_id = max(x["id"] for x in o.tables["tracker"]["issues"]) + 1
    number = max(i.number for i in repo.issues) + 1
    created = o.now - timedelta(hours=2)
    drafts = []
    for k, variants in enumerate(_bugs().values()):
        bug = variants[r.randrange(len(variants))]
        me = eng[k % len(eng)]
        reporter = reporters[(k * 3 + r.randrange(len(reporters))) % len(reporters)]
        buggy = {m: (with_bug(src, bug) if m == bug.module else src) for m, src in clean.items()}
        title, body = bug.report(ctx)
        setup = {"files": repo_files(ctx, buggy, tests), "commands": [
            f"cd {ctx.repo_dir} && git init -q && git add -A && git -c user.name={shlex.quote(o.person(f.team('engineering').lead).name)} "
            f"-c user.email={o.person(f.team('engineering').lead).email} commit -qm 'back-office helpers' "
            f"--date={created - timedelta(days=30):%Y-%m-%dT%H:%M:%S}",
            _curl(o, reporter.username, f"/repos/{owner}/{name}/issues",
                  {"title": title, "body": body + f"\n\n(Reported by {reporter.name}, {reporter.title}.)",
                   "labels": ["bug"]})], "ago_hours": 2}  # filed "a couple of hours" before the episode
        module_path = f"{ctx.repo_dir}/{ctx.pkg}/{bug.module}.py"
        fixed_src = clean[bug.module]
        decoy_kind = "comment-only" if k == 5 else "special-case"
        reads = [o.get(me.username, "tracker", f"/repos/{owner}/{name}/issues", state="open", sort="created",
                       direction="desc"),
                 {"tool": "shell", "args": {"command": f"cd {ctx.repo_dir} && python3 -m unittest 2>&1 | tail -25"}},
                 {"tool": "shell", "args": {"command": f"cd {ctx.repo_dir} && sed -n '1,200p' {ctx.pkg}/{bug.module}.py"}}]
        comment = (f"Fixed in {ctx.pkg}/{bug.module}.py: `{bug.function}` had a bug ({bug.kind}); it now behaves as its "
                   f"docstring says. The repository's tests pass.")
        post = o.post(me.username, "tracker", f"/repos/{owner}/{name}/issues/{number}/comments", {"body": comment})
        run_tests = {"tool": "shell", "args": {"command": f"cd {ctx.repo_dir} && python3 -m unittest 2>&1 | tail -5"}}
        oracle = reads + [write_call(module_path, fixed_src), run_tests, post, submit(f"fixed {bug.function}")]
        if decoy_kind == "special-case":
            decoy = reads + [write_call(module_path, with_guard(buggy[bug.module], bug, ctx)), run_tests, post,
                             submit(f"fixed {bug.function}")]
        else:
            decoy = reads + [post, submit(f"fixed {bug.function}")]
        graders = [
            {"type": "command_output", "command": command(ctx, "repo-tests", tests), "expected": "ok", "timeout": 60},
            {"type": "command_output", "command": command(ctx, "held-back", {"test_held": held_source(ctx, bug.function,
                                                                                                       r)}),
             "expected": "ok", "timeout": 60}]
        text = (f"{o.who(reporter.username)} filed a bug report on the tracker ({owner}/{name}) a couple of hours "
                f"ago. The {ctx.product} back-office code it is about is checked out in {ctx.repo_dir} (a git "
                f"repository; its tests run with `python3 -m unittest` there). Find the report, fix the bug in the "
                f"code, and comment on the issue saying what you fixed, naming the function you changed. Besides the "
                f"repository's own tests, your fix will be checked with tests of ours on other inputs.")
        drafts.append(Draft(
            KIND, me.username, ["tracker"], text, oracle, decoy,
            expect=[pat("tracker", "comments", "insert", issue=issue_id, user=me.github_login,
                        body={"$contains": bug.function})],
            allow=[pat("tracker", "issues", "insert", id=issue_id), pat("tracker", "issue_labels", "insert", issue=issue_id),
                   pat("tracker", "issue_assignees", "insert", issue=issue_id)],
            setup=setup, graders=graders))
    return drafts

