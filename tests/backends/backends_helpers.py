"""One short, realistic sequence of state-changing requests per backend, with the rows each is expected to change."""
from __future__ import annotations

from collections import Counter
from typing import Any, Callable

from airgap.envs.worldgen import WorldFacts


def _ok(r, status: int = 200) -> dict:
    assert r.status_code == status, (r.status_code, r.text)
    return r.json() if r.content else {}


def mutate_mail(api: Callable, f: WorldFacts) -> Counter:
    user = f.shop.staff[0]
    a = api("mail", user)
    inbox = _ok(a.get("/api/messages", params={"mailbox": f.shop.support_email}))["messages"]
    complaint = next(m for m in inbox if "order SO-" in m["subject"])  # a customer's complaint
    _ok(a.post(f"/api/messages/{complaint['id']}/reply", json={"body": "Sorry! A refund is on its way."}), 201)
    _ok(a.patch(f"/api/messages/{complaint['id']}", json={"read": True}))
    own = _ok(a.get("/api/messages"))["messages"][0]
    _ok(a.delete(f"/api/messages/{own['id']}"))
    return Counter({("messages", "insert"): 1, ("messages", "update"): 2})


def mutate_calendar(api: Callable, f: WorldFacts) -> Counter:
    invited = next(a.username for e in f.events if e.start > f.now for a in e.attendees if a.status == "needs-action")
    me, x = [p.username for p in f.people if p.username != invited][:2]
    a = api("calendar", me)
    _ok(a.post("/api/events", json={"title": "Design review", "start": "2031-05-06T10:00:00", "end": "2031-05-06T11:00:00",
                                    "attendees": [x, f.person(invited).email]}), 201)
    b = api("calendar", invited)
    old = next(e for e in _ok(b.get("/api/invitations")) if e["title"] != "Design review")
    _ok(b.post(f"/api/events/{old['id']}/respond", json={"status": "declined", "comment": "on leave"}))
    return Counter({("events", "insert"): 1, ("attendees", "insert"): 2, ("attendees", "update"): 1})


def mutate_shop(api: Callable, f: WorldFacts) -> Counter:
    c = f.shop.customers[0].username
    a = api("shop", c)
    stocked = [p for p in f.shop.products if p.stock >= 2][:2]
    for p in stocked:
        _ok(a.post("/api/cart/items", json={"sku": p.sku, "quantity": 1}), 201)
    _ok(a.post("/api/checkout", json={}), 201)
    return Counter({("orders", "insert"): 1, ("order_lines", "insert"): 2,
                    ("products", "update"): 2})


def mutate_bank(api: Callable, f: WorldFacts) -> Counter:
    fin = next(p.username for p in f.people if p.team == "finance")
    op = f.bank.accounts[0]
    payee = next(p for p in f.bank.payees if p.owner == "org" and p.vendor)
    a = api("bank", fin)
    t = _ok(a.post("/api/transfers", json={"from_account": op.id, "payee_id": payee.id, "amount_cents": 12_345,
                                           "memo": "invoice"}), 201)
    _ok(a.post(f"/api/transfers/{t['id']}/confirm"))
    return Counter({("transfers", "insert"): 1, ("accounts", "update"): 1, ("transactions", "insert"): 1})


def mutate_tracker(api: Callable, f: WorldFacts) -> Counter:
    repo = f.repos[0]
    eng = next(p for p in f.people if p.team == "engineering")
    a = api("tracker", eng.username)
    base = f"/repos/{repo.owner}/{repo.name}"
    new = _ok(a.post(f"{base}/issues", json={"title": "Export crashes on empty reports", "labels": ["bug"],
                                             "assignees": [eng.github_login]}), 201)
    _ok(a.post(f"{base}/issues/{new['number']}/comments", json={"body": "Reproduced."}), 201)
    _ok(a.patch(f"{base}/issues/2", json={"state": "closed" if repo.issues[1].state == "open" else "open"}))
    return Counter({("issues", "insert"): 1, ("issue_labels", "insert"): 1, ("issue_assignees", "insert"): 1,
                    ("comments", "insert"): 1, ("issues", "update"): 1})


def mutate_chat(api: Callable, f: WorldFacts) -> Counter:
    me = f.people[3].username
    a = api("chat", me)
    posted = _ok(a.post("/api/chat.postMessage", json={"channel": "general", "text": "Deploy at 3pm"}))
    _ok(a.post("/api/chat.postMessage", json={"channel": posted["channel"], "text": "done", "thread_ts": posted["ts"]}))
    _ok(a.post("/api/reactions.add", json={"channel": posted["channel"], "timestamp": posted["ts"], "name": "tada"}))
    return Counter({("messages", "insert"): 2, ("reactions", "insert"): 1})


MUTATIONS: dict[str, Callable[[Callable, WorldFacts], Counter]] = {
    "mail": mutate_mail, "calendar": mutate_calendar, "shop": mutate_shop, "bank": mutate_bank,
    "tracker": mutate_tracker, "chat": mutate_chat,
}


def collapse(events: list[dict[str, Any]]) -> dict[tuple[str, Any], tuple[Any, Any]]:
    """Net change per (table, id) over a sequence of change events: first ``before``, last ``after``."""
    net: dict[tuple[str, Any], list[Any]] = {}
    for ev in events:
        for c in ev["changes"]:
            key = (c["table"], c["id"])
            if key in net:
                net[key][1] = c["after"]
            else:
                net[key] = [c["before"], c["after"]]
    return {k: (b, a) for k, (b, a) in net.items() if b != a}
