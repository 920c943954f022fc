"""The backends' OpenAPI documents state the limits their handlers enforce, so a client can respect them before the
first 422: maximum date ranges (``x-airgap-max-range-days``, ``x-airgap-earliest``/``x-airgap-latest``), page sizes
(``maximum``), enums, list lengths, and the limits a world's policy sets (``x-airgap-limit-from``: the endpoint and
field that give the value). The table below was assembled by reading every handler's 422s; each row is checked in
the document and then against the handler itself (at the limit: accepted; one past it: 422)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from backend_support import NAMES, user_of

from airgap.envs.backends.calendar import EARLIEST, LATEST, MAX_EVENT, MAX_WINDOW
from airgap.envs.common import iso, parse_iso

BOUNDS = {"x-airgap-earliest": "1990-01-01T00:00:00Z", "x-airgap-latest": "2100-01-01T00:00:00Z"}
WINDOW = {"x-airgap-max-range-days": MAX_WINDOW.days, "x-airgap-range": ["start", "end"], **BOUNDS}
EVENT = {"x-airgap-max-range-days": MAX_EVENT.days, "x-airgap-range": ["start", "end"], **BOUNDS}
CHAT_TYPES = ["public_channel", "private_channel", "im", "mpim"]

#: (backend, method, path, where: query|path|body|operation, name, what the document must say there)
KNOWN: list[tuple[str, str, str, str, str | None, dict]] = [
    # calendar: the 92-day window of a listing or a free/busy query, the 14-day event, the years 1990-2100
    *[("calendar", "get", "/api/events", "query", n, WINDOW) for n in ("start", "end")],
    *[("calendar", "post", "/api/freebusy", "body", n, WINDOW) for n in ("start", "end")],
    *[("calendar", m, p, "body", n, EVENT) for m, p in (("post", "/api/events"), ("patch", "/api/events/{event_id}"))
      for n in ("start", "end")],
    ("calendar", "post", "/api/freebusy", "body", "users", {"maxItems": 50, "minItems": 1}),
    ("calendar", "post", "/api/events", "body", "attendees", {"maxItems": 50}),
    *[("calendar", m, p, "body", "recurrence", {"maxItems": 10}) for m, p in (("post", "/api/events"),
                                                                            ("patch", "/api/events/{event_id}"))],
    *[("calendar", "patch", "/api/events/{event_id}/instances/{instance}", "body", n, EVENT) for n in ("start", "end")],
    *[("calendar", "get", "/api/events/{event_id}/instances", "query", n, WINDOW) for n in ("start", "end")],
    ("calendar", "post", "/api/events/{event_id}/respond", "body", "status", {"enum": ["accepted", "declined", "tentative"]}),
    ("calendar", "get", "/api/events", "query", "tz", {"maxLength": 64}),
    # bank: the per-transfer limit (the organisation's policy: read it from /api/limits), page size, statuses
    ("bank", "post", "/api/transfers", "body", "amount_cents",
     {"x-airgap-limit-from": "GET /api/limits per_transfer_limit_cents", "exclusiveMinimum": 0, "maximum": 10**12}),
    ("bank", "get", "/api/accounts/{account_id}/transactions", "query", "limit", {"maximum": 500, "minimum": 1}),
    ("bank", "get", "/api/transfers", "query", "status",
     {"enum": ["pending", "scheduled", "completed", "cancelled", "failed"]}),
    ("bank", "post", "/api/transfers", "body", "scheduled_for", {"x-airgap-max-days-ahead": 365}),
    ("bank", "get", "/api/accounts/{account_id}/statement", "query", "month", {"pattern": None}),
    # chat: conversation types, one user per DM, page sizes
    ("chat", "get", "/api/conversations.list", "query", "types", {"x-airgap-items-enum": CHAT_TYPES}),
    ("chat", "post", "/api/conversations.open", "body", "users", {"x-airgap-max-items": 1}),
    *[("chat", "get", p, "query", "limit", {"maximum": 1000}) for p in
      ("/api/users.list", "/api/conversations.list", "/api/conversations.history", "/api/conversations.replies")],
    ("chat", "get", "/api/search.messages", "query", "count", {"maximum": 100}),
    # mail: page size, recipients, attachments
    ("mail", "get", "/api/messages", "query", "limit", {"maximum": 200}),
    *[("mail", "post", "/api/messages", "body", n, {"maxItems": 50}) for n in ("to", "cc", "bcc")],
    ("mail", "post", "/api/messages", "body", "attachments", {"maxItems": 10}),
    # shop: page size, quantities, the refund window (the organisation's policy), statuses
    ("shop", "get", "/api/products", "query", "limit", {"maximum": 100}),
    ("shop", "get", "/api/orders", "query", "status", {"enum": ["processing", "shipped", "delivered", "cancelled"]}),
    ("shop", "post", "/api/cart/items", "body", "quantity", {"maximum": 100, "minimum": 1}),
    ("shop", "post", "/api/orders/{order_id}/refunds", "body", "items", {"maxItems": 20, "minItems": 1}),
    *[("shop", "post", f"/api/orders/{{order_id}}/{k}", "operation", None,
       {"x-airgap-limit-from": "GET /api/policies refund_window_days"}) for k in ("refunds", "returns")],
    # tracker: GitHub's page size, states, sorts, milestones by number, assignees per issue
    *[("tracker", "get", p, "query", "per_page", {"maximum": 100}) for p in
      ("/repos/{owner}/{repo}/issues", "/repos/{owner}/{repo}/labels", "/search/issues")],
    ("tracker", "get", "/repos/{owner}/{repo}/issues", "query", "state", {"enum": ["open", "closed", "all"]}),
    ("tracker", "get", "/repos/{owner}/{repo}/issues", "query", "sort", {"enum": ["created", "updated", "comments"]}),
    ("tracker", "post", "/repos/{owner}/{repo}/issues", "body", "milestone", {"maximum": 2**31}),
    ("tracker", "post", "/repos/{owner}/{repo}/issues", "body", "assignees", {"maxItems": 10}),
]

#: Integers a client sends that may be any size, and why (every other one has a maximum).
UNBOUNDED_INTEGERS = {("tracker", "title"): "GitHub takes a number as an issue title; it is stored as text"}


def _deref(doc: dict, s: dict) -> dict:
    while isinstance(s, dict) and "$ref" in s:
        s = doc["components"]["schemas"][s["$ref"].rsplit("/", 1)[1]]
    return s


def _merged(doc: dict, s: dict) -> dict:
    """A schema with its anyOf/oneOf alternatives folded in (``X | None`` puts the limits on the X)."""
    s = _deref(doc, s)
    out = {k: v for k, v in s.items() if k not in ("anyOf", "oneOf")}
    for alt in s.get("anyOf") or s.get("oneOf") or []:
        for k, v in _merged(doc, alt).items():
            out.setdefault(k, v)
    return out


def _inputs(doc: dict):
    """Every input of every operation: (method, path, where, name, merged schema), body fields recursively."""
    def fields(schema: dict, prefix: str, method: str, path: str):
        s = _merged(doc, schema)
        for name, fs in (s.get("properties") or {}).items():
            m = _merged(doc, fs)
            yield method, path, "body", prefix + name, m
            if m.get("type") == "object" or "properties" in m:
                yield from fields(fs, f"{prefix}{name}.", method, path)
            if isinstance(m.get("items"), dict):
                yield from fields(m["items"], f"{prefix}{name}[].", method, path)

    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            for p in op.get("parameters", []):
                yield method, path, p["in"], p["name"], {**_merged(doc, p["schema"]), **{
                    k: v for k, v in p.items() if k.startswith("x-")}}
            body = (op.get("requestBody") or {}).get("content", {}).get("application/json", {}).get("schema")
            if body is not None:
                yield from fields(body, "", method, path)


@pytest.fixture(scope="module")
def docs(all_backends):
    return {name: b.openapi() for name, b in all_backends.items()}


@pytest.mark.parametrize("row", KNOWN, ids=lambda r: f"{r[0]}:{r[1]}:{r[2]}:{r[4]}")
def test_every_known_limit_is_in_the_document(row, docs):
    name, method, path, where, field, want = row
    doc = docs[name]
    assert method in doc["paths"].get(path, {}), f"{name}: no {method.upper()} {path}"
    if where == "operation":
        got = doc["paths"][path][method]
    else:
        found = [s for m, p, w, n, s in _inputs(doc) if (m, p, w, n) == (method, path, where, field)]
        assert found, f"{name} {method.upper()} {path}: no {where} input {field}"
        got = found[0]
    for key, value in want.items():
        assert key in got, f"{name} {method.upper()} {path} {field}: no {key} in {got}"
        if value is not None:
            assert got[key] == value, f"{name} {method.upper()} {path} {field}: {key} is {got[key]!r}, not {value!r}"
    if any(k.startswith("x-airgap-") for k in want) and where != "operation":
        assert got.get("description"), f"{name} {method.upper()} {path} {field}: the limit in words, too"


@pytest.mark.parametrize("name", NAMES)
def test_every_size_a_client_sends_is_bounded(name, docs):
    """Walk the whole document: every integer has a maximum, every array a maxItems, every page-size parameter a
    maximum, every string an enum, pattern, format or maxLength."""
    problems = []
    for method, path, where, field, s in _inputs(docs[name]):
        leaf = field.rsplit(".", 1)[-1].removesuffix("[]")
        if s.get("type") == "integer" and "maximum" not in s and (name, leaf) not in UNBOUNDED_INTEGERS:
            problems.append(f"{method.upper()} {path} {where} {field}: an integer with no maximum")
        if s.get("type") == "array" and "maxItems" not in s:
            problems.append(f"{method.upper()} {path} {where} {field}: a list with no maxItems")
        if field in ("limit", "per_page", "count", "page_size") and "maximum" not in s:
            problems.append(f"{method.upper()} {path} {where} {field}: a page size with no maximum")
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------------------------- the limits are real


def _window(a, start: datetime, days: int) -> int:
    return a.get("/api/events", params={"start": iso(start), "end": iso(start + timedelta(days=days))}).status_code


def test_the_calendar_limits_are_the_handlers(api, facts, docs):
    a = api("calendar", facts.people[2].username)
    params = {p["name"]: _merged(docs["calendar"], p["schema"]) for p in docs["calendar"]["paths"]["/api/events"]["get"]["parameters"]}
    days = params["start"]["x-airgap-max-range-days"]
    t0 = datetime(2031, 1, 1, tzinfo=timezone.utc)
    assert _window(a, t0, days) == 200 and _window(a, t0, days + 1) == 422
    early = parse_iso(params["start"]["x-airgap-earliest"])
    assert early == EARLIEST and parse_iso(params["end"]["x-airgap-latest"]) == LATEST
    assert _window(a, early, 1) == 200 and _window(a, early - timedelta(days=1), 1) == 422
    body = docs["calendar"]["components"]["schemas"]
    fb = body["FreeBusyIn"]["properties"]["end"]["x-airgap-max-range-days"]
    ev = body["EventIn"]["properties"]["end"]["x-airgap-max-range-days"]
    me = facts.people[2].username
    for n, status in ((fb, 200), (fb + 1, 422)):
        r = a.post("/api/freebusy", json={"users": [me], "start": iso(t0), "end": iso(t0 + timedelta(days=n))})
        assert r.status_code == status, r.text
    for n, status in ((ev, 201), (ev + 1, 422)):
        r = a.post("/api/events", json={"title": "Offsite", "start": iso(t0), "end": iso(t0 + timedelta(days=n))})
        assert r.status_code == status, r.text


def _limit_from(client, spec: str) -> int:
    """``x-airgap-limit-from``: "METHOD PATH FIELD" -> the value that endpoint gives."""
    method, path, field = spec.split()
    r = client.request(method, path)
    assert r.status_code == 200, r.text
    return r.json()[field]


def test_the_policy_limits_point_at_their_values(api, facts, docs):
    """The bank's per-transfer limit and the shop's refund window differ by world: the document names where a
    client reads them, and the handler refuses one cent over that value."""
    user = user_of(facts, "finance")
    a = api("bank", user)
    spec = docs["bank"]["components"]["schemas"]["TransferIn"]["properties"]["amount_cents"]["x-airgap-limit-from"]
    limit = _limit_from(a, spec)
    assert isinstance(limit, int) and limit == facts.policies.per_transfer_limit_cents
    acct = facts.bank.accounts[0].id
    payee = next(p for p in a.get("/api/payees").json() if p["owner"] == facts.bank.accounts[0].owner)["id"]
    over = a.post("/api/transfers", json={"from_account": acct, "payee_id": payee, "amount_cents": limit + 1})
    assert over.status_code == 422 and "per-transfer limit" in over.text
    assert a.post("/api/transfers", json={"from_account": acct, "payee_id": payee, "amount_cents": limit}).status_code == 201
    shop = api("shop", facts.shop.staff[0])
    spec = docs["shop"]["paths"]["/api/orders/{order_id}/refunds"]["post"]["x-airgap-limit-from"]
    assert _limit_from(shop, spec) == facts.policies.refund_window_days


def test_chat_types_and_dm_users_are_as_documented(api, facts, docs):
    a = api("chat", facts.people[2].username)
    listing = docs["chat"]["paths"]["/api/conversations.list"]["get"]["parameters"]
    types = next(_merged(docs["chat"], p["schema"]) for p in listing if p["name"] == "types")["x-airgap-items-enum"]
    assert a.get("/api/conversations.list", params={"types": ",".join(types)}).status_code == 200
    assert a.get("/api/conversations.list", params={"types": "public_channel,group"}).status_code == 422
    one, two = (u["id"] for u in a.get("/api/users.list").json()["members"][:2])
    assert a.post("/api/conversations.open", json={"users": f"{one},{two}"}).status_code == 422
    assert a.post("/api/conversations.open", json={"users": two}).status_code == 200


def test_a_client_reading_only_the_document_stays_inside_the_calendar_range(facts, all_backends, live):
    """A plain HTTP client on a real socket: it reads /openapi.json, learns the window's limit from
    GET /api/events' parameters and lists a whole year in windows no longer than that: no 422, and every event of the
    year that the user organises or is invited to comes back once. The same year in one request is refused."""
    import httpx

    all_backends["calendar"].reset()
    user = facts.people[2].username
    server = live("calendar")
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {all_backends['calendar'].token(user)}"},
                      timeout=30) as c:
        doc = c.get("/openapi.json").json()
        params = {p["name"]: p["schema"] for p in doc["paths"]["/api/events"]["get"]["parameters"]}
        days = params["start"]["x-airgap-max-range-days"]
        assert days == params["end"]["x-airgap-max-range-days"] == MAX_WINDOW.days
        now = parse_iso(c.get("/api/events").json()["start"]) + timedelta(days=1)
        start, end = now - timedelta(days=183), now + timedelta(days=183)
        whole = c.get("/api/events", params={"start": iso(start), "end": iso(end)})
        assert whole.status_code == 422 and f"at most {days} days" in whole.text  # what a client that did not read gets
        seen, t, calls = [], start, 0
        while t < end:
            u = min(t + timedelta(days=days), end)
            r = c.get("/api/events", params={"start": iso(t), "end": iso(u)})
            assert r.status_code == 200, r.text
            seen += [e["id"] for e in r.json()["events"] if parse_iso(e["start"]) >= t]  # each event once: where it starts
            t, calls = u, calls + 1
    assert calls == 4  # 366 days in windows of 92
    tables = all_backends["calendar"].state()["tables"]
    invited = {a["event"] for a in tables["attendees"] if a["username"] == user}
    expect = {e["id"] for e in tables["events"] if e["status"] == "confirmed" and (e["organizer"] == user or e["id"] in invited)
              and parse_iso(e["end"]) > start and parse_iso(e["start"]) < end and parse_iso(e["start"]) >= start}
    assert expect and sorted(seen) == sorted(expect)
