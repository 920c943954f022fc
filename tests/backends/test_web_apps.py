"""The backends' web apps (webmail, online banking) over real loopback sockets: log-in pages and cookie sessions,
CSRF refusals, forms that write through the JSON API's handlers (the same rows and the same ``backend_change`` event
as the API call), confirmation steps, validation errors that re-render with what was typed, and a real headless
Chromium (Debian's) rendering each app's main pages, saved as screenshots."""
from __future__ import annotations

import base64
import html
import re
import shutil
from pathlib import Path

import pytest
import requests
from backend_support import LiveServer, user_of

from airgap.envs.worldgen import WorldFacts

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SHOTS = Path("/tmp/webapp_shots")
#: Form controls without an accessible name: no <label>, no aria-label(ledby), no text (a button) or title.
UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby')
               && !(e.tagName === 'BUTTON' && e.textContent.trim()) && !e.title)
  .map(e => e.outerHTML)"""


@pytest.fixture(scope="module")
def servers(all_backends):
    """Each web app's backend on a real loopback socket for the whole module (the ``backends`` fixture resets them)."""
    with LiveServer(all_backends["mail"].app) as mail, LiveServer(all_backends["bank"].app) as bank, \
            LiveServer(all_backends["shop"].app) as shop, LiveServer(all_backends["calendar"].app) as calendar, \
            LiveServer(all_backends["chat"].app) as chat, LiveServer(all_backends["tracker"].app) as tracker:
        yield {"mail": mail, "bank": bank, "shop": shop, "calendar": calendar, "chat": chat, "tracker": tracker}


def _csrf(page: str) -> str:
    m = CSRF.search(page)
    assert m, "no CSRF token on the page"
    return m.group(1)


def _login(url: str, login: str, password: str | None = None, token: str | None = None) -> tuple[requests.Session, str]:
    """A browser-like session signed in through the log-in form; returns it and the CSRF token of its first page."""
    s = requests.Session()
    s.headers["Accept"] = "text/html,application/xhtml+xml"  # as a browser sends it
    page = s.get(url + "/login", timeout=10)
    assert page.status_code == 200 and 'action="/login"' in page.text
    data = {"csrf_token": _csrf(page.text), **({"token": token} if token else {"username": login, "password": password})}
    r = s.post(url + "/login", data=data, timeout=10)
    assert r.status_code == 200 and r.history and r.history[0].status_code == 303, r.text[:500]
    return s, _csrf(r.text)


def _alert(page: str) -> str:
    m = re.search(r'<div class="errors" role="alert">(.*?)</div>', page, re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", m.group(1))) if m else ""


def _without_origin(ev: dict) -> dict:
    return {k: v for k, v in ev.items() if k not in ("via", "command")}


# ------------------------------------------------------------------------------------------------ log-in and CSRF
@pytest.mark.parametrize("name,home", [("mail", "/mail"), ("bank", "/banking"), ("shop", "/store/orders"),
                                       ("calendar", "/calendar"), ("chat", "/chat"), ("tracker", "/issues")])
def test_login_session_and_logout(name, home, backends, servers, facts: WorldFacts):
    url = servers[name].url
    user = {"bank": user_of(facts, "finance"), "shop": facts.shop.customers[0].username}.get(name, facts.people[2].username)
    email = facts.shop.customers[0].email if name == "shop" else facts.person(user).email
    anon = requests.get(url + home, allow_redirects=False, timeout=10)
    assert anon.status_code == 303 and anon.headers["location"] == f"/login?next={home.replace('/', '%2F')}"
    if name != "shop":  # the older read-only pages: a browser's navigation goes to the log-in page, other clients 401
        nav = requests.get(url + "/", headers={"accept": "text/html", "sec-fetch-mode": "navigate"},
                           allow_redirects=False, timeout=10)
        assert nav.status_code == 303 and nav.headers["location"] == "/login?next=%2F"
        other = requests.get(url + "/", headers={"accept": "text/html"}, allow_redirects=False, timeout=10)
        assert other.status_code == 401 and other.headers["www-authenticate"].startswith("Basic")
        assert 'href="/login"' in other.text
    # a wrong password: the form again, 401, with the user name kept and the password not echoed
    s = requests.Session()
    page = s.get(url + "/login", timeout=10)
    pw = facts.credentials_for(user).password
    r = s.post(url + "/login", data={"csrf_token": _csrf(page.text), "username": user, "password": pw + "x"}, timeout=10)
    assert r.status_code == 401 and "Wrong user name or password" in _alert(r.text)
    assert f'value="{user}"' in r.text and pw not in r.text
    # e-mail address + password (the API's basic-auth aliases), and the service's token: both sign in
    s, csrf = _login(url, email, pw)
    assert s.get(url + home, timeout=10).status_code == 200
    name_shown = facts.shop.customers[0].name if name == "shop" else facts.person(user).name
    assert f"Signed in as <strong>{html.escape(name_shown)}</strong>" in s.get(url + home, timeout=10).text
    t, _ = _login(url, "", token=backends[name].token(user))
    assert t.get(url + home, allow_redirects=False, timeout=10).status_code == 200
    # the session cookie is signed: a tampered one is no session
    forged = requests.Session()
    forged.cookies.set(f"{name}_session", s.cookies[f"{name}_session"][:-2] + "00")
    assert forged.get(url + home, allow_redirects=False, timeout=10).status_code == 303
    # log-out needs the CSRF token too, then the session is gone
    r = s.post(url + "/logout", data={"csrf_token": csrf}, timeout=10)
    assert r.status_code == 200 and "You have signed out" in r.text
    assert s.get(url + home, allow_redirects=False, timeout=10).status_code == 303
    # never to another site after log-in
    s2 = requests.Session()
    page = s2.get(url + "/login?next=//evil.example/x", timeout=10)
    r = s2.post(url + "/login", data={"csrf_token": _csrf(page.text), "username": user, "password": pw,
                                      "next": "//evil.example/x"}, allow_redirects=False, timeout=10)
    assert r.status_code == 303 and r.headers["location"] == {"shop": "/store", "tracker": "/"}.get(name, home)


def test_csrf_refused_without_or_with_a_foreign_token(backends, servers, facts):
    p, q = facts.people[2], facts.people[3]
    url = servers["mail"].url
    events: list[dict] = []
    backends["mail"].on_change = events.append
    s, csrf = _login(url, p.username, facts.credentials_for(p.username).password)
    other, other_csrf = _login(url, q.username, facts.credentials_for(q.username).password)
    form = {"mode": "new", "to": q.email, "subject": "csrf", "body": "should not be sent"}
    for data in (form, {**form, "csrf_token": other_csrf}, {**form, "csrf_token": "0" * 64}):
        r = s.post(url + "/mail/compose", data=data, timeout=10)
        assert r.status_code == 403 and "CSRF" in r.text
    # the log-in form too: no token, no session
    r = requests.post(url + "/login", data={"username": p.username, "password": "x"}, timeout=10)
    assert r.status_code == 403
    # a bank transfer confirmation without the token is refused as well
    fin = user_of(facts, "finance")
    b, _ = _login(servers["bank"].url, fin, facts.credentials_for(fin).password)
    assert b.post(servers["bank"].url + "/banking/transfer/tr_0001/confirm", data={}, timeout=10).status_code == 403
    assert events == [] and s.post(url + "/mail/compose", data={**form, "csrf_token": csrf}, timeout=10).ok
    assert len(events) == 1


# ------------------------------------------------------------------------------------------------ webmail
def test_compose_with_attachment_then_the_api_lists_it(backends, servers, facts):
    p, q = facts.people[2], facts.people[3]
    url, mail = servers["mail"].url, backends["mail"]
    s, csrf = _login(url, p.username, facts.credentials_for(p.username).password)
    assert 'name="to"' in s.get(url + "/mail/compose", timeout=10).text
    r = s.post(url + "/mail/compose", data={"csrf_token": csrf, "mode": "new", "to": q.email, "cc": "",
                                            "subject": "Budget from the web", "body": "See the file.", "action": "send"},
               files={"attachments": ("budget.csv", b"item,cost\nchairs,120\n", "text/csv")}, timeout=10)
    assert r.status_code == 200 and r.history[0].status_code == 303 and "Your message was sent." in r.text
    assert "folder=Sent" in r.url and "Budget from the web" in r.text
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {mail.token(p.username)}"
    sent = api.get(url + "/api/messages", params={"folder": "Sent", "q": "Budget from the web"}, timeout=10).json()
    assert sent["total"] == 1 and sent["messages"][0]["has_attachments"]
    inbox = requests.get(url + "/api/messages", params={"q": "Budget from the web"}, timeout=10,
                         headers={"Authorization": f"Bearer {mail.token(q.username)}"}).json()
    assert inbox["total"] == 1 and inbox["messages"][0]["folder"] == "INBOX" and not inbox["messages"][0]["read"]
    # the recipient reads it in the webmail and downloads the attachment: the bytes that were attached
    s2, csrf2 = _login(url, q.email, facts.credentials_for(q.username).password)
    mid = inbox["messages"][0]["id"]
    page = s2.get(url + f"/mail/message/{mid}", timeout=10)
    assert page.status_code == 200 and "See the file." in page.text and "budget.csv" in page.text
    href = re.search(r'href="(/mail/message/\d+/attachment/\d+)"', page.text).group(1)
    got = s2.get(url + href, timeout=10)
    assert got.content == b"item,cost\nchairs,120\n" and "budget.csv" in got.headers["content-disposition"]
    # reply, forward, move, delete for good after the confirmation page: each visible through the API
    r = s2.post(url + "/mail/compose", data={"csrf_token": csrf2, "mode": "reply", "orig": str(mid), "body": "Thanks!"},
                timeout=10)
    assert "Your message was sent." in r.text
    got = api.get(url + "/api/messages", params={"q": "Re: Budget from the web"}, timeout=10).json()
    assert got["total"] == 1 and got["messages"][0]["folder"] == "INBOX"
    r = s2.post(url + "/mail/compose", data={"csrf_token": csrf2, "mode": "forward", "orig": str(mid),
                                             "to": facts.people[4].email, "body": "FYI"}, timeout=10)
    assert "Your message was sent." in r.text
    fwd = requests.get(url + "/api/messages", params={"q": "Fwd: Budget"}, timeout=10,
                       headers={"Authorization": f"Bearer {mail.token(facts.people[4].username)}"}).json()
    assert fwd["total"] == 1 and fwd["messages"][0]["has_attachments"]
    r = s2.post(url + f"/mail/message/{mid}/move", data={"csrf_token": csrf2, "folder": "Archive"}, timeout=10)
    assert r.status_code == 200 and "The message was moved." in r.text
    r = s2.post(url + f"/mail/message/{mid}/delete", data={"csrf_token": csrf2}, timeout=10)
    assert "moved to Trash" in r.text
    r = s2.post(url + f"/mail/message/{mid}/delete", data={"csrf_token": csrf2}, timeout=10)
    assert r.url.endswith(f"/mail/message/{mid}/delete") and "Delete this message for good?" in r.text  # asks first
    assert s2.get(url + f"/mail/message/{mid}", timeout=10).status_code == 200
    r = s2.post(url + f"/mail/message/{mid}/delete", data={"csrf_token": csrf2, "confirm": "yes"}, timeout=10)
    assert "deleted for good" in r.text
    assert s2.get(url + f"/mail/message/{mid}", timeout=10).status_code == 404


def test_mail_validation_errors_rerender_with_what_was_typed(backends, servers, facts):
    p = facts.people[2]
    url = servers["mail"].url
    events: list[dict] = []
    backends["mail"].on_change = events.append
    s, csrf = _login(url, p.username, facts.credentials_for(p.username).password)
    form = {"csrf_token": csrf, "mode": "new", "to": "not-an-address", "subject": "Kept subject", "body": "Kept body"}
    r = s.post(url + "/mail/compose", data=form, timeout=10)
    assert r.status_code == 422 and "'not-an-address' is not an e-mail address" in _alert(r.text)
    assert 'value="not-an-address"' in r.text and 'value="Kept subject"' in r.text and "Kept body</textarea>" in r.text
    assert 'aria-invalid="true"' in r.text
    r = s.post(url + "/mail/compose", data={**form, "to": ""}, timeout=10)
    assert r.status_code == 422 and "at least one recipient" in _alert(r.text)
    # the API's own refusal (nobody of that name at the organisation's domain) shows the same way
    r = s.post(url + "/mail/compose", data={**form, "to": f"nobody.here@{facts.org.domain}"}, timeout=10)
    assert r.status_code == 422 and "no such mailbox" in _alert(r.text) and 'value="Kept subject"' in r.text
    assert events == []
    r = s.post(url + "/mail/folders", data={"csrf_token": csrf, "mailbox": p.email, "name": "INBOX"}, timeout=10)
    assert r.status_code == 422 and "already exists" in _alert(r.text) and 'value="INBOX"' in r.text


def test_webmail_paging(backends, servers, facts):
    p = max(facts.people, key=lambda x: len(x.username))  # anyone: paging is checked against the API's total
    url = servers["mail"].url
    s, _ = _login(url, p.username, facts.credentials_for(p.username).password)
    api = requests.get(url + "/api/messages", timeout=10, headers={"Authorization": f"Bearer {backends['mail'].token(p.username)}"}).json()
    page = s.get(url + "/mail", timeout=10).text
    pages = max(1, -(-api["total"] // 25))
    assert f"Page 1 of {pages}" in page
    shown = re.findall(r'href="/mail/message/(\d+)"', page)
    assert [int(x) for x in shown] == [m["id"] for m in api["messages"][:25]]


# ------------------------------------------------------------------------------------------------ online banking
def test_transfer_through_form_and_confirmation_then_the_api_sees_it(backends, servers, facts):
    fin = user_of(facts, "finance")
    url, bank = servers["bank"].url, backends["bank"]
    acct = facts.bank.accounts[0].id
    payee = next(x for x in facts.bank.payees if x.owner == "org")
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {bank.token(fin)}"
    before = api.get(url + f"/api/accounts/{acct}", timeout=10).json()["balance_cents"]
    s, csrf = _login(url, fin, facts.credentials_for(fin).password)
    form = s.get(url + f"/banking/transfer?from_account={acct}", timeout=10).text
    assert f'value="payee:{payee.id}"' in form and f'<option value="{acct}" selected' in form
    r = s.post(url + "/banking/transfer", data={"csrf_token": csrf, "from_account": acct, "to": f"payee:{payee.id}",
                                                "amount": "1,234.56", "memo": "Invoice 42"}, timeout=10)
    assert r.status_code == 200 and "Confirm your transfer" in r.text and "Confirm and send" in r.text
    tid = re.search(r"/banking/transfer/(tr_\d+)", r.url).group(1)
    t = api.get(url + f"/api/transfers/{tid}", timeout=10).json()
    assert t["status"] == "pending" and t["amount_cents"] == 123456 and t["memo"] == "Invoice 42"
    assert api.get(url + f"/api/accounts/{acct}", timeout=10).json()["balance_cents"] == before  # nothing moved yet
    r = s.post(url + f"/banking/transfer/{tid}/confirm", data={"csrf_token": csrf}, timeout=10)
    assert r.status_code == 200 and "The transfer was sent." in r.text and "completed" in r.text
    t = api.get(url + f"/api/transfers/{tid}", timeout=10).json()
    assert t["status"] == "completed" and t["decided_by"] == fin
    assert api.get(url + f"/api/accounts/{acct}", timeout=10).json()["balance_cents"] == before - 123456
    # confirming twice: the API's 409, shown on the transfer's page
    r = s.post(url + f"/banking/transfer/{tid}/confirm", data={"csrf_token": csrf}, timeout=10)
    assert r.status_code == 409 and "not pending" in _alert(r.text)
    # a second one, cancelled from its confirmation page
    r = s.post(url + "/banking/transfer", data={"csrf_token": csrf, "from_account": acct, "to": f"payee:{payee.id}",
                                                "amount": "10"}, timeout=10)
    tid2 = re.search(r"/banking/transfer/(tr_\d+)", r.url).group(1)
    r = s.post(url + f"/banking/transfer/{tid2}/cancel", data={"csrf_token": csrf}, timeout=10)
    assert "The transfer was cancelled." in r.text
    assert api.get(url + f"/api/transfers/{tid2}", timeout=10).json()["status"] == "cancelled"
    # the statement page shows the month's lines
    month = t["decided_at"][:7]
    st = s.get(url + f"/banking/account/{acct}/statement?month={month}", timeout=10)
    assert st.status_code == 200 and "Invoice 42" in st.text


def test_bank_validation_errors_rerender_with_what_was_typed(backends, servers, facts):
    fin = user_of(facts, "finance")
    url, bank = servers["bank"].url, backends["bank"]
    events: list[dict] = []
    bank.on_change = events.append
    acct = facts.bank.accounts[0].id
    payee = next(x for x in facts.bank.payees if x.owner == "org")
    s, csrf = _login(url, fin, facts.credentials_for(fin).password)
    base = {"csrf_token": csrf, "from_account": acct, "to": f"payee:{payee.id}", "memo": "kept memo"}
    r = s.post(url + "/banking/transfer", data={**base, "amount": "twelve"}, timeout=10)
    assert r.status_code == 422 and "'twelve' is not an amount of money" in _alert(r.text)
    assert 'value="twelve"' in r.text and 'value="kept memo"' in r.text and f'value="payee:{payee.id}" selected' in r.text
    over = bank.limit // 100 + 1
    r = s.post(url + "/banking/transfer", data={**base, "amount": str(over)}, timeout=10)
    assert r.status_code == 422 and "exceeds the per-transfer limit" in _alert(r.text) and f'value="{over}"' in r.text
    r = s.post(url + "/banking/transfer", data={**base, "to": "", "amount": "5"}, timeout=10)
    assert r.status_code == 422 and "choose a payee" in _alert(r.text)
    r = s.post(url + "/banking/transfer", data={**base, "amount": "5", "scheduled_for": "2001-01-01"}, timeout=10)
    assert r.status_code == 422 and "not in the future" in _alert(r.text)
    r = s.post(url + "/banking/payees", data={"csrf_token": csrf, "name": "Acme Supplies", "account_number": "12",
                                              "routing_number": "123456789"}, timeout=10)
    assert r.status_code == 422 and "Account number" in _alert(r.text) and 'value="Acme Supplies"' in r.text
    assert events == []
    r = s.post(url + "/banking/payees", data={"csrf_token": csrf, "name": "Acme Supplies", "account_number": "123456",
                                              "routing_number": "123456789", "owner": "org"}, timeout=10)
    assert "The payee was added." in r.text and "Acme Supplies" in r.text
    added = requests.get(url + "/api/payees", params={"q": "Acme"}, timeout=10,
                         headers={"Authorization": f"Bearer {bank.token(fin)}"}).json()
    assert [x["owner"] for x in added] == ["org"]


# ------------------------------------------------------------------------------------------------ shop
def test_shop_catalogue_cart_checkout_then_the_api_sees_the_order(backends, servers, facts):
    url, shop = servers["shop"].url, backends["shop"]
    cust = facts.shop.customers[0]
    product = next(p for p in facts.shop.products if p.stock > 2)
    # the catalogue is public; buying asks to sign in
    anon = requests.get(url + f"/store/product/{product.sku}", timeout=10)
    assert anon.status_code == 200 and product.name in html.unescape(anon.text) and "Sign in to buy" in anon.text
    assert "/store/product/" in requests.get(url + "/store", params={"q": product.sku}, timeout=10).text
    s, csrf = _login(url, cust.email, facts.credentials_for(cust.username).password)
    r = s.post(url + "/store/cart/add", data={"csrf_token": csrf, "sku": product.sku, "quantity": "lots"}, timeout=10)
    assert r.status_code == 422 and "Quantity" in _alert(r.text) and 'value="lots"' in r.text
    r = s.post(url + "/store/cart/add", data={"csrf_token": csrf, "sku": product.sku, "quantity": str(product.stock + 1)},
               timeout=10)
    assert r.status_code == 422 and "in stock" in _alert(r.text)
    r = s.post(url + "/store/cart/add", data={"csrf_token": csrf, "sku": product.sku, "quantity": "2"}, timeout=10)
    assert "Added to your cart." in r.text and product.name in html.unescape(r.text)
    r = s.post(url + f"/store/cart/{product.sku}", data={"csrf_token": csrf, "quantity": "1"}, timeout=10)
    assert "Your cart was updated." in r.text
    review = s.get(url + "/store/checkout", timeout=10)
    assert review.status_code == 200 and "Place order" in review.text and cust.street in html.unescape(review.text)
    # another address with a missing street: the review again, with what was typed
    r = s.post(url + "/store/checkout", data={"csrf_token": csrf, "ship": "other", "name": "Front desk", "city": "Springfield"},
               timeout=10)
    assert r.status_code == 422 and "Street" in _alert(r.text) and 'value="Front desk"' in r.text
    r = s.post(url + "/store/checkout", data={"csrf_token": csrf, "ship": "account"}, timeout=10)
    assert "your order is placed" in r.text
    oid = re.search(r"/store/orders/(SO-\d+)", r.url).group(1)
    api = requests.get(url + f"/api/orders/{oid}", timeout=10, headers={"Authorization": f"Bearer {shop.token(cust.username)}"})
    assert api.status_code == 200 and api.json()["status"] == "processing"
    assert [(ln["sku"], ln["quantity"]) for ln in api.json()["lines"]] == [(product.sku, 1)]
    r = s.post(url + f"/store/orders/{oid}/cancel", data={"csrf_token": csrf}, timeout=10)
    assert "cancelled and refunded" in r.text


def test_support_refund_screen_with_a_confirmation_step(backends, servers, facts):
    url, shop = servers["shop"].url, backends["shop"]
    case = next(c for c in facts.shop.cases if c.within_refund_window)
    outside = next(c for c in facts.shop.cases if not c.within_refund_window)
    staff = facts.shop.staff[0]
    # the customer asks for a return on the order's page
    c, ccsrf = _login(url, case.customer, facts.credentials_for(case.customer).password)
    r = c.post(url + f"/store/orders/{case.order}/return", data={"csrf_token": ccsrf, f"qty_{case.sku}": "1",
                                                                "reason": ""}, timeout=10)
    assert r.status_code == 422 and "Reason" in _alert(r.text) and 'value="1"' in r.text
    r = c.post(url + f"/store/orders/{case.order}/return", data={"csrf_token": ccsrf, f"qty_{case.sku}": "1",
                                                                "reason": "arrived broken"}, timeout=10)
    assert "Your return request was sent." in r.text
    assert c.get(url + f"/store/orders/{case.order}/refund", timeout=10).status_code == 403  # staff only
    s, csrf = _login(url, staff, facts.credentials_for(staff).password)
    queue = s.get(url + "/store/returns", timeout=10).text
    assert f"/store/orders/{case.order}/refund" in queue
    screen = s.get(url + f"/store/orders/{case.order}/refund", timeout=10).text
    assert f'name="qty_{case.sku}"' in screen and "arrived broken" in screen
    form = {"csrf_token": csrf, f"qty_{case.sku}": "1", "reason": "arrived broken", "restock": "on"}
    before = shop.state()
    r = s.post(url + f"/store/orders/{case.order}/refund", data=form, timeout=10)
    assert r.status_code == 200 and "Confirm refund of" in r.text and shop.state() == before  # nothing yet
    r = s.post(url + f"/store/orders/{case.order}/refund", data={**form, "confirm": "yes"}, timeout=10)
    assert "The refund was issued." in r.text
    refunds = requests.get(url + f"/api/orders/{case.order}/refunds", timeout=10,
                           headers={"Authorization": f"Bearer {shop.token(staff)}"}).json()
    assert [(x["sku"], x["quantity"], x["restocked"]) for x in refunds] == [(case.sku, 1, True)]
    # outside the refund window: the API's refusal on the screen
    r = s.post(url + f"/store/orders/{outside.order}/refund", data={"csrf_token": csrf, f"qty_{outside.sku}": "1",
                                                                   "reason": "late", "confirm": "yes"}, timeout=10)
    assert r.status_code == 422 and "refund window" in _alert(r.text)


# ------------------------------------------------------------------------------------------------ calendar
def test_calendar_week_create_edit_respond_cancel(backends, servers, facts):
    url, cal = servers["calendar"].url, backends["calendar"]
    p, q = facts.people[2], facts.people[3]
    s, csrf = _login(url, p.username, facts.credentials_for(p.username).password)
    week = s.get(url + "/calendar", timeout=10)
    assert week.status_code == 200 and week.text.count('<section aria-label="') == 7
    form = {"csrf_token": csrf, "title": "Quarterly review", "date": "2025-03-20", "start_time": "15:00",
            "end_time": "14:00", "timezone": "Europe/Berlin", "location": "Room 2", "attendees": q.email}
    r = s.post(url + "/calendar/new", data=form, timeout=10)  # ends before it starts: the API's 422, form kept
    assert r.status_code == 422 and "end must be after start" in _alert(r.text) and 'value="Room 2"' in r.text
    r = s.post(url + "/calendar/new", data={**form, "start_time": ""}, timeout=10)
    assert r.status_code == 422 and "Start time" in _alert(r.text) and 'value="Quarterly review"' in r.text
    r = s.post(url + "/calendar/new", data={**form, "end_time": "16:00"}, timeout=10)
    assert "invitations were sent" in r.text
    eid = int(re.search(r"/calendar/event/(\d+)", r.url).group(1))
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {cal.token(q.username)}"
    e = api.get(url + f"/api/events/{eid}", timeout=10).json()
    assert e["start"] == "2025-03-20T14:00:00Z" and e["timezone"] == "Europe/Berlin" and e["my_status"] == "needs-action"
    # the organiser edits it (form filled in the event's own zone) and adds a guest
    edit = s.get(url + f"/calendar/event/{eid}/edit", timeout=10).text
    assert 'value="15:00"' in edit and 'value="16:00"' in edit
    r = s.post(url + f"/calendar/event/{eid}/edit", data={**form, "end_time": "16:30", "title": "Quarterly review (long)",
                                                          "attendees": f"{q.email}, {facts.people[4].username}"}, timeout=10)
    assert "The event was saved." in r.text
    e = api.get(url + f"/api/events/{eid}", timeout=10).json()
    assert e["title"] == "Quarterly review (long)" and e["end"] == "2025-03-20T15:30:00Z"
    assert sorted(a["username"] for a in e["attendees"]) == sorted([q.username, facts.people[4].username])
    # the guest answers from the invitations page; only the organiser may cancel
    g, gcsrf = _login(url, q.username, facts.credentials_for(q.username).password)
    assert "Quarterly review (long)" in html.unescape(g.get(url + "/calendar/invitations", timeout=10).text)
    r = g.post(url + f"/calendar/event/{eid}/respond", data={"csrf_token": gcsrf, "status": "maybe"}, timeout=10)
    assert r.status_code == 422 and "Answer" in _alert(r.text)
    r = g.post(url + f"/calendar/event/{eid}/respond", data={"csrf_token": gcsrf, "status": "tentative",
                                                            "back": "/calendar/invitations"}, timeout=10)
    assert r.url.startswith(url + "/calendar/invitations") and "Your answer was sent." in r.text
    assert api.get(url + f"/api/events/{eid}", timeout=10).json()["my_status"] == "tentative"
    assert g.get(url + f"/calendar/event/{eid}/cancel", timeout=10).status_code == 403
    assert "Cancel the event" in s.get(url + f"/calendar/event/{eid}/cancel", timeout=10).text  # the confirmation
    r = s.post(url + f"/calendar/event/{eid}/cancel", data={"csrf_token": csrf}, timeout=10)
    assert "The event was cancelled." in r.text
    assert api.get(url + f"/api/events/{eid}", timeout=10).json()["status"] == "cancelled"


# ------------------------------------------------------------------------------------------------ chat
def test_chat_channels_threads_and_direct_messages(backends, servers, facts):
    url, chat = servers["chat"].url, backends["chat"]
    p, q = facts.people[2], facts.people[3]
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {chat.token(p.username)}"
    general = api.get(url + "/api/conversations.info", params={"channel": "#general"}, timeout=10).json()["channel"]["id"]
    s, csrf = _login(url, p.username, facts.credentials_for(p.username).password)
    page = s.get(url + f"/chat/c/{general}", timeout=10)
    assert page.status_code == 200 and "#general" in page.text and 'name="text"' in page.text
    r = s.post(url + f"/chat/c/{general}/post", data={"csrf_token": csrf, "text": "   "}, timeout=10)
    assert r.status_code == 422 and "write something first" in _alert(r.text)
    r = s.post(url + f"/chat/c/{general}/post", data={"csrf_token": csrf, "text": "Standup moved to 10:30"}, timeout=10)
    assert r.status_code == 200 and "Message sent." in r.text and "Standup moved to 10:30" in r.text
    hist = api.get(url + "/api/conversations.history", params={"channel": general, "limit": 5}, timeout=10).json()
    mine = next(m for m in hist["messages"] if m["text"] == "Standup moved to 10:30")
    r = s.post(url + f"/chat/c/{general}/post", data={"csrf_token": csrf, "text": "(in room 4)",
                                                     "thread_ts": mine["ts"]}, timeout=10)
    assert r.url.startswith(url + f"/chat/c/{general}/thread/{mine['ts']}") and "(in room 4)" in r.text
    thread = api.get(url + "/api/conversations.replies", params={"channel": general, "ts": mine["ts"]}, timeout=10).json()
    assert [m["text"] for m in thread["messages"]][:2] == ["Standup moved to 10:30", "(in room 4)"]
    # a direct message, then the colleague reads it in their own session
    dm = s.get(url + "/chat/dm", timeout=10).text
    assert chat.user_id(q.username) in dm
    r = s.post(url + "/chat/dm", data={"csrf_token": csrf, "users": chat.user_id(q.username)}, timeout=10)
    dm_id = re.search(r"/chat/c/(D\w+)", r.url).group(1)
    s.post(url + f"/chat/c/{dm_id}/post", data={"csrf_token": csrf, "text": "Got a minute?"}, timeout=10)
    g, _ = _login(url, q.username, facts.credentials_for(q.username).password)
    assert "Got a minute?" in g.get(url + f"/chat/c/{dm_id}", timeout=10).text
    # a new channel (a bad name re-renders, kept), and deleting one's own message after the confirmation page
    r = s.post(url + "/chat/new", data={"csrf_token": csrf, "name": "Launch Plans"}, timeout=10)
    assert r.status_code == 422 and "Channel name" in _alert(r.text) and 'value="Launch Plans"' in r.text
    r = s.post(url + "/chat/new", data={"csrf_token": csrf, "name": "launch-plans"}, timeout=10)
    assert "The channel was created." in r.text and "#launch-plans" in r.text
    assert "Delete this message?" in s.get(url + f"/chat/c/{general}/delete/{mine['ts']}", timeout=10).text
    r = s.post(url + f"/chat/c/{general}/delete/{mine['ts']}", data={"csrf_token": csrf}, timeout=10)
    assert "The message was deleted." in r.text
    hist = api.get(url + "/api/conversations.history", params={"channel": general, "limit": 5}, timeout=10).json()
    assert all(m["ts"] != mine["ts"] for m in hist["messages"])


# ------------------------------------------------------------------------------------------------ tracker
def test_tracker_issues_labels_comments_and_a_pull_request(backends, servers, facts):
    url, tracker = servers["tracker"].url, backends["tracker"]
    eng, other = user_of(facts, "engineer"), user_of(facts, "ceo")
    repo = facts.repos[0]
    full = f"{repo.owner}/{repo.name}"
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {tracker.token(eng)}"
    # without a session github.com's pages answer as before: the read-only page with ?token=, 401 without
    assert requests.get(url + f"/{full}/issues", params={"token": tracker.token(eng)}, timeout=10).status_code == 200
    assert requests.get(url + f"/{full}/issues", headers={"accept": "text/html"}, timeout=10).status_code == 401
    s, csrf = _login(url, facts.person(eng).github_login, facts.credentials_for(eng).password)
    listing = s.get(url + f"/{full}/issues", timeout=10)
    assert listing.status_code == 200 and "New issue" in listing.text
    r = s.post(url + f"/{full}/issues/new", data={"csrf_token": csrf, "title": "  ", "body": "kept text",
                                                   "labels": ["bug"]}, timeout=10)
    assert r.status_code == 422 and "needs a title" in _alert(r.text) and "kept text</textarea>" in r.text
    assert re.search(r'value="bug" checked', r.text)
    r = s.post(url + f"/{full}/issues/new", data={"csrf_token": csrf, "title": "Sync fails offline", "body": "Steps...",
                                                   "labels": ["bug"], "assignees": [facts.person(eng).github_login]},
               timeout=10)
    assert "The issue was opened." in r.text
    n = int(re.search(r"/issues/(\d+)", r.url).group(1))
    got = api.get(url + f"/repos/{full}/issues/{n}", timeout=10).json()
    assert [x["name"] for x in got["labels"]] == ["bug"] and got["assignee"]["login"] == facts.person(eng).github_login
    # "Close with comment": the comment and the close, two API calls (two change events), as on GitHub
    events: list[dict] = []
    tracker.on_change = events.append
    r = s.post(url + f"/{full}/issues/{n}/comment", data={"csrf_token": csrf, "body": "Fixed on main.", "close": "1"},
               timeout=10)
    assert "The issue was closed." in r.text and "Fixed on main." in r.text
    assert [(e["method"], e["path"]) for e in events] == [("POST", f"/repos/{full}/issues/{n}/comments"),
                                                          ("PATCH", f"/repos/{full}/issues/{n}")]
    got = api.get(url + f"/repos/{full}/issues/{n}", timeout=10).json()
    assert got["state"] == "closed" and got["state_reason"] == "completed" and got["comments"] == 1
    r = s.post(url + f"/{full}/issues/{n}/meta", data={"csrf_token": csrf, "labels": ["bug", "priority:low"]}, timeout=10)
    assert sorted(x["name"] for x in api.get(url + f"/repos/{full}/issues/{n}", timeout=10).json()["labels"]) == \
        ["bug", "priority:low"]
    r = s.post(url + f"/{full}/labels", data={"csrf_token": csrf, "name": "bug", "color": "#ff0000"}, timeout=10)
    assert r.status_code == 422 and "already exists" in _alert(r.text)
    # a pull request from a branch made through the API, reviewed by a colleague, merged after the confirmation
    main = api.get(url + f"/repos/{full}/branches/main", timeout=10).json()["commit"]["sha"]
    assert api.post(url + f"/repos/{full}/git/refs", json={"ref": "refs/heads/docs/notes", "sha": main}, timeout=10).ok
    assert api.put(url + f"/repos/{full}/contents/NOTES.md", timeout=10, json={
        "message": "Add notes", "content": base64.b64encode(b"Release checklist\n").decode(), "branch": "docs/notes"}).ok
    r = s.post(url + f"/{full}/compare", data={"csrf_token": csrf, "base": "main", "head": "docs/notes", "title": ""},
               timeout=10)
    assert r.status_code == 422 and "needs a title" in _alert(r.text)
    r = s.post(url + f"/{full}/compare", data={"csrf_token": csrf, "base": "main", "head": "docs/notes",
                                               "title": "Add release notes", "body": "For the release."}, timeout=10)
    assert "The pull request was opened." in r.text and "NOTES.md" in r.text
    pn = int(re.search(r"/pull/(\d+)", r.url).group(1))
    o, ocsrf = _login(url, facts.person(other).github_login, facts.credentials_for(other).password)
    r = o.post(url + f"/{full}/pull/{pn}/review", data={"csrf_token": ocsrf, "event": "APPROVE", "review": "LGTM"},
               timeout=10)
    assert "Your review was submitted." in r.text
    r = s.post(url + f"/{full}/pull/{pn}/merge", data={"csrf_token": csrf}, timeout=10)
    assert "Confirm merge" in r.text and api.get(url + f"/repos/{full}/pulls/{pn}", timeout=10).json()["merged"] is False
    r = s.post(url + f"/{full}/pull/{pn}/merge", data={"csrf_token": csrf, "confirm": "yes", "merge_method": "merge",
                                                      "sha": re.search(r'name="sha" value="([0-9a-f]{40})"', r.text).group(1)},
               timeout=10)
    assert "The pull request was merged." in r.text
    pr = api.get(url + f"/repos/{full}/pulls/{pn}", timeout=10).json()
    assert pr["merged"] is True and [x["state"] for x in api.get(url + f"/repos/{full}/pulls/{pn}/reviews",
                                                                   timeout=10).json()] == ["APPROVED"]


# ------------------------------------------------------------------------------------------------ same event as the API
def test_a_web_write_makes_the_api_s_change_event(backends, servers, facts):
    """The same action through the JSON API and through the web form, each from the fixture: the same diff rows, the
    same state after, and an event naming the same API call (``via: web`` and the form's ``command`` added)."""
    p, q = facts.people[2], facts.people[3]
    fin = user_of(facts, "finance")
    acct = facts.bank.accounts[0].id
    payee = next(x.id for x in facts.bank.payees if x.owner == "org")
    cust = facts.shop.customers[1]
    sku = next(x.sku for x in facts.shop.products if x.stock > 2)
    cases = {
        "mail": (p.username, [("POST", "/api/messages", {"to": [q.email], "subject": "Same", "body": "either way"})],
                 [("/mail/compose", {"mode": "new", "to": q.email, "subject": "Same", "body": "either way"})]),
        "bank": (fin, [("POST", "/api/transfers", {"from_account": acct, "payee_id": payee, "amount_cents": 5000,
                                                   "memo": "same"}),
                       ("POST", "/api/transfers/tr_0001/confirm", None)],
                 [("/banking/transfer", {"from_account": acct, "to": f"payee:{payee}", "amount": "50.00",
                                         "memo": "same"}),
                  ("/banking/transfer/tr_0001/confirm", {})]),
        "calendar": (p.username, [("POST", "/api/events", {"title": "Same", "start": "2025-03-20T10:00",
                                                           "end": "2025-03-20T11:00", "timezone": "Europe/Berlin",
                                                           "location": "", "description": "", "attendees": [q.email]})],
                     [("/calendar/new", {"title": "Same", "date": "2025-03-20", "start_time": "10:00",
                                         "end_time": "11:00", "timezone": "Europe/Berlin", "attendees": q.email})]),
        "chat": (p.username, [("POST", "/api/chat.postMessage", {"channel": "#random", "text": "same either way"})],
                 [("/chat/c/random/post", {"text": "same either way"})]),
        "tracker": (p.username, [("POST", f"/repos/{facts.repos[0].owner}/{facts.repos[0].name}/issues",
                                   {"title": "Same", "body": "either way", "labels": ["bug"], "assignees": []})],
                    [(f"/{facts.repos[0].owner}/{facts.repos[0].name}/issues/new",
                      {"title": "Same", "body": "either way", "labels": "bug"})]),
        "shop": (cust.username, [("POST", "/api/cart/items", {"sku": sku, "quantity": 2}), ("POST", "/api/checkout", {})],
                 [("/store/cart/add", {"sku": sku, "quantity": "2"}), ("/store/checkout", {"ship": "account"})]),
    }
    for name, (user, api_calls, web_posts) in cases.items():
        b, url = backends[name], servers[name].url
        b.reset()
        via_api: list[dict] = []
        b.on_change = via_api.append
        for method, path, body in api_calls:
            r = requests.request(method, url + path, json=body, timeout=10,
                                 headers={"Authorization": f"Bearer {b.token(user)}"})
            assert r.status_code < 300, r.text
        api_state = b.state()
        s, csrf = _login(url, user, facts.credentials_for(user).password)
        b.reset()
        via_web: list[dict] = []
        b.on_change = via_web.append
        for path, data in web_posts:
            r = s.post(url + path, data={"csrf_token": csrf, **data}, timeout=10)
            assert r.status_code == 200 and r.history[0].status_code == 303, r.text[:400]
        assert len(via_web) == len(api_calls) and [_without_origin(e) for e in via_web] == via_api
        assert [e["via"] for e in via_web] == ["web"] * len(api_calls)
        assert [e["command"] for e in via_web] == [f"POST {path}" for path, _ in web_posts]
        assert b.state() == api_state


# ------------------------------------------------------------------------------------------------ a real browser
def test_pages_render_in_headless_chromium(backends, servers, facts, tmp_path):
    """Debian's Chromium, driven by Playwright: sign in with the keyboard-usable form, open each app's main pages,
    follow the transfer's confirmation step, and save screenshots (also copied to /tmp/webapp_shots/)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.skip("Debian's chromium is not installed")
    p = facts.people[2]
    fin = user_of(facts, "finance")
    acct = facts.bank.accounts[0].id
    payee = next(x.id for x in facts.bank.payees if x.owner == "org")
    staff = facts.shop.staff[0]
    case = next(c for c in facts.shop.cases if c.within_refund_window)
    full = f"{facts.repos[0].owner}/{facts.repos[0].name}"
    shots: list[Path] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            for name, user, pages in (
                ("mail", p.username, ["/mail", "/mail/compose"]),
                ("bank", fin, ["/banking", f"/banking/account/{acct}", "/banking/payees", "/banking/transfer"]),
                ("calendar", p.username, ["/calendar", "/calendar/invitations", "/calendar/new"]),
                ("chat", p.username, ["/chat", "/chat/c/general"]),
                ("tracker", user_of(facts, "engineer"), ["/", f"/{full}/issues", f"/{full}/issues/1", f"/{full}/labels"]),
                ("shop", staff, ["/store/orders", "/store", f"/store/product/{case.sku}", "/store/returns",
                                 f"/store/orders/{case.order}/refund"]),
            ):
                url = servers[name].url
                ctx = browser.new_context(viewport={"width": 1280, "height": 860})
                page = ctx.new_page()
                page.goto(url + pages[0])
                assert page.url.startswith(url + "/login")  # sent to the log-in page first
                page.get_by_label("User name or e-mail address").fill(user)
                page.get_by_label("Password", exact=True).fill(facts.credentials_for(user).password)
                page.keyboard.press("Enter")
                page.wait_for_url(url + pages[0])
                assert page.get_by_role("navigation", name="Main").is_visible()
                assert page.get_by_role("main").is_visible()
                for i, path in enumerate(pages):
                    page.goto(url + path)
                    assert page.locator("h1").inner_text().strip()
                    assert page.evaluate(UNLABELLED) == [], path  # every control has an accessible name
                    assert page.locator("main").count() == 1 and page.locator("nav").count() >= 1
                    shot = tmp_path / f"{name}-{i}-{path.strip('/').replace('/', '_')}.png"
                    page.screenshot(path=str(shot), full_page=True)
                    shots.append(shot)
                if name == "mail":
                    page.goto(url + "/mail/compose")
                    page.get_by_label("To", exact=True).fill(facts.people[3].email)
                    page.get_by_label("Subject", exact=True).fill("Sent from Chromium")
                    page.get_by_role("textbox", name="Message", exact=True).fill("Typed in a real browser.")
                    page.get_by_role("button", name="Send").click()
                    page.wait_for_url(re.compile(r".*notice=sent.*"))
                    assert page.get_by_role("status").inner_text() == "Your message was sent."
                    page.get_by_role("link", name="Sent from Chromium").first.click()
                    shot = tmp_path / "mail-message.png"
                elif name == "calendar":
                    page.get_by_label("Title").fill("Planning from Chromium")
                    page.get_by_label("Date", exact=True).fill("2025-03-19")
                    page.get_by_label("Start time").fill("10:00")
                    page.get_by_label("End time").fill("11:30")
                    page.get_by_role("button", name="Create event").click()
                    page.wait_for_url(re.compile(r".*/calendar/event/\d+.*"))
                    assert page.locator("h1").inner_text() == "Planning from Chromium"
                    page.goto(url + "/calendar")
                    assert page.get_by_role("link", name="Planning from Chromium").is_visible()
                    shot = tmp_path / "calendar-week-with-event.png"
                elif name == "tracker":
                    page.goto(url + f"/{full}/issues/new")
                    page.get_by_label("Title").fill("Opened from Chromium")
                    page.get_by_label("Description").fill("Steps to reproduce")
                    page.get_by_label("bug", exact=True).check()
                    page.get_by_role("button", name="Submit new issue").click()
                    page.wait_for_url(re.compile(r".*/issues/\d+\?notice=issue"))
                    assert page.get_by_role("status").inner_text() == "The issue was opened."
                    shot = tmp_path / "tracker-issue.png"
                elif name == "chat":
                    page.get_by_role("textbox", name="Message #general").fill("Posted from Chromium")
                    page.get_by_role("button", name="Send").click()
                    page.wait_for_url(re.compile(r".*notice=posted.*"))
                    page.get_by_role("link", name="Reply in thread").last.click()
                    page.get_by_role("textbox", name="Reply").fill("A reply in the thread")
                    page.get_by_role("button", name="Reply").click()
                    page.wait_for_url(re.compile(r".*/thread/.*notice=posted.*"))
                    assert page.get_by_text("A reply in the thread").is_visible()
                    shot = tmp_path / "chat-thread.png"
                elif name == "shop":  # the support team's refund screen, then its confirmation step
                    page.get_by_role("spinbutton").first.fill("1")
                    page.get_by_label("Reason").fill("Arrived damaged")
                    page.get_by_role("button", name="Review refund").click()
                    assert page.get_by_role("button", name=re.compile("Confirm refund of")).is_visible()
                    shot = tmp_path / "shop-refund-confirm.png"
                else:
                    page.goto(url + f"/banking/transfer?from_account={acct}")
                    page.get_by_label("To", exact=True).select_option(f"payee:{payee}")
                    page.get_by_label("Amount (USD)").fill("25.00")
                    page.get_by_role("button", name="Continue").click()
                    page.wait_for_url(re.compile(r".*/banking/transfer/tr_\d+.*"))
                    assert page.locator("h1").inner_text() == "Confirm your transfer"
                    shot = tmp_path / "bank-confirm.png"
                page.screenshot(path=str(shot), full_page=True)
                shots.append(shot)
                ctx.close()
        finally:
            browser.close()
    assert all(s.stat().st_size > 5000 and s.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for s in shots)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for s in shots:
        shutil.copy(s, SHOTS / s.name)
