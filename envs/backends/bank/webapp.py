"""Online banking: sign in, accounts, statements, payees and two-step transfers in server-rendered forms.

Log-in, accounts overview, an account's transactions (paged, searchable), monthly statements,
payees (list, add), transfers (a form, then a confirmation page: Confirm or Cancel, the API's two steps and limits)
and the list of transfers. Server-rendered forms (``pages/web_*.html.j2``); every write calls the JSON API's handler
in ``api.py``, so its rows and ``backend_change`` event are the API's (named as that call, ``via: web``)."""
import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from airgap.envs.backends.bank import BankBackend, api
from airgap.envs.backends.bank.model import MAX_SCHEDULE_DAYS, PayeeIn, TransferIn
from airgap.envs.backends.web import current_backend
from airgap.envs.backends.webapp import WebApp, api_origin, build, call_api, read_form, redirect, text
from airgap.envs.common import money

PAGE_SIZE = 50

APP = WebApp(
    brand=lambda b: f"{b.facts.bank.name} Online Banking",
    home="/banking",
    nav=[("/banking", "Accounts"), ("/banking/transfer", "Make a transfer"), ("/banking/transfers", "Transfers"),
         ("/banking/payees", "Payees")],
    accent="#0b5c4a",
    notices={"payee": "The payee was added.", "sent": "The transfer was sent.",
             "cancelled": "The transfer was cancelled.", "created": "Check the details, then confirm the transfer.",
             "scheduled": "The transfer is scheduled."},
)
Bank = Annotated[BankBackend, Depends(current_backend)]
WebUser = Annotated[str, Depends(APP.user)]
web = APIRouter(include_in_schema=False)
LABELS = {"name": "Payee name", "bank_name": "Bank", "account_number": "Account number",
          "routing_number": "Routing number", "email": "E-mail", "owner": "Payee of",
          "from_account": "From account", "to": "To", "amount_cents": "Amount", "memo": "Reference",
          "scheduled_for": "Send on"}


def _accounts(b: BankBackend, db: Any, user: str) -> list[dict[str, Any]]:
    return [b._account_out(db, b._account(db, user, a)) for a in b._accounts(db, user)]


def _payees(b: BankBackend, db: Any, user: str) -> list[dict[str, Any]]:
    owners = [user] + (["org"] if b._org_holder(db, user) else [])
    return [dict(r) for r in db.execute(f"SELECT * FROM payees WHERE owner IN ({','.join('?' * len(owners))}) "
                                        "ORDER BY name, id", owners)]


def cents(value: str) -> int | None:
    """``1,234.56``, ``$1234.5`` or ``12`` as cents; None if it is not an amount of money."""
    v = value.strip().replace(",", "").removeprefix("$").strip()
    if not re.fullmatch(r"\d{1,10}(\.\d{1,2})?", v):
        return None
    try:
        return int(Decimal(v) * 100)
    except InvalidOperation:
        return None


@web.get("/banking", response_class=HTMLResponse)
def overview(b: Bank, request: Request, user: WebUser) -> HTMLResponse:
    """Your accounts with balances, and the transfers waiting for you to confirm."""
    with b.read() as db:
        accts = _accounts(b, db, user)
        waiting = [b._transfer_out(db, r) for r in db.execute(
            f"SELECT * FROM transfers WHERE status IN ('pending', 'scheduled') AND from_account IN "
            f"({','.join('?' * len(accts))}) ORDER BY created_at DESC, id DESC", [a["id"] for a in accts])]
    return APP.page(request, "bank/web_overview.html.j2", "Your accounts", user, accounts=accts, waiting=waiting,
                    limit=money(b.limit))


@web.get("/banking/account/{account_id}", response_class=HTMLResponse)
def account(b: Bank, account_id: api.Id, request: Request, user: WebUser,
            q: Annotated[str | None, Query(max_length=200)] = None,
            page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> HTMLResponse:
    """One account: its numbers, balance and transactions, newest first, 50 a page; ``q`` searches them."""
    res = api.transactions(b, account_id, user, q or None, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    with b.read() as db:
        a = b._account_out(db, b._account(db, user, account_id))
        months = [r[0] for r in db.execute("SELECT DISTINCT substr(posted_at, 1, 7) FROM transactions WHERE account = ? "
                                           "ORDER BY 1 DESC", (account_id,))]
    pages = max(1, -(-res["total"] // PAGE_SIZE))
    return APP.page(request, "bank/web_account.html.j2", a["name"], user, a=a, res=res, q=q or "", page=page,
                    pages=pages, months=months, money=money, current="/banking")


@web.get("/banking/account/{account_id}/statement", response_class=HTMLResponse)
def statement(b: Bank, account_id: api.Id, request: Request, user: WebUser, month: str | None = None) -> HTMLResponse:
    """A monthly statement (``month=YYYY-MM``; default: the latest month with transactions)."""
    with b.read() as db:
        a = b._account(db, user, account_id)
        months = [r[0] for r in db.execute("SELECT DISTINCT substr(posted_at, 1, 7) FROM transactions WHERE account = ? "
                                           "ORDER BY 1 DESC", (account_id,))]
        errors = []
        if month is None:
            month = months[0] if months else b.now_iso(db)[:7]
        elif not re.fullmatch(r"(19[7-9][0-9]|20[0-9]{2})-(0[1-9]|1[0-2])", month):
            errors.append(f"Month: {month!r} is not a month written YYYY-MM")
            month = months[0] if months else b.now_iso(db)[:7]
        st = b.statement(db, a, month)
    return APP.page(request, "bank/web_statement.html.j2", f"Statement for {st['account']['name']}, {month}", user,
                    status=422 if errors else 200, errors=errors, st=st, month=month, months=months, money=money,
                    current="/banking")


# ------------------------------------------------------------------------------------------------ payees
def _payees_page(request: Request, b: BankBackend, user: str, values: dict[str, Any] | None = None,
                 errors: dict[str, str] | list[str] | None = None, status: int = 200) -> HTMLResponse:
    with b.read() as db:
        payees = _payees(b, db, user)
        org = b._org_holder(db, user)
    return APP.page(request, "bank/web_payees.html.j2", "Payees", user, status=status, errors=errors, payees=payees,
                    org=org, v=values or {"owner": "me"})


@web.get("/banking/payees", response_class=HTMLResponse)
def payees(b: Bank, request: Request, user: WebUser) -> HTMLResponse:
    """The payees you may pay, and a form to add one."""
    return _payees_page(request, b, user)


@web.post("/banking/payees", response_class=HTMLResponse)
async def add_payee(b: Bank, request: Request, user: WebUser) -> Response:
    """Add a payee (the API's POST /api/payees)."""
    form = await read_form(request)
    v = {k: text(form, k).strip() for k in ("name", "bank_name", "account_number", "routing_number", "email", "owner")}
    body, errors = build(PayeeIn, {**v, "email": v["email"] or None, "owner": v["owner"] or "me"}, LABELS)
    if body is None:
        return _payees_page(request, b, user, v, errors, 422)
    api_origin(request, "POST", "/api/payees", 201)
    _, refused = await call_api(request, api.add_payee, b, body, user, request)
    if refused:
        return _payees_page(request, b, user, v, [refused], 422)
    return redirect("/banking/payees", notice="payee")


# ------------------------------------------------------------------------------------------------ transfers
def _transfer_form(request: Request, b: BankBackend, user: str, values: dict[str, Any],
                   errors: dict[str, str] | list[str] | None = None, status: int = 200) -> HTMLResponse:
    with b.read() as db:
        accts = _accounts(b, db, user)
        payees = _payees(b, db, user)
        today = b.now(db).date().isoformat()
    return APP.page(request, "bank/web_transfer.html.j2", "Make a transfer", user, status=status, errors=errors,
                    accounts=accts, payees=payees, v=values, limit=money(b.limit), today=today,
                    max_days=MAX_SCHEDULE_DAYS)


@web.get("/banking/transfer", response_class=HTMLResponse)
def transfer_form(b: Bank, request: Request, user: WebUser, from_account: str | None = None,
                  payee: str | None = None) -> HTMLResponse:
    """The transfer form: from which account, to a payee or another of your accounts, amount, reference, date."""
    return _transfer_form(request, b, user, {"from_account": from_account or "",
                                             "to": f"payee:{payee}" if payee else ""})


@web.post("/banking/transfer", response_class=HTMLResponse)
async def create_transfer(b: Bank, request: Request, user: WebUser) -> Response:
    """Step one: create the transfer (pending, or scheduled with a date), then show it for confirmation."""
    form = await read_form(request)
    v = {k: text(form, k).strip() for k in ("from_account", "to", "amount", "memo", "scheduled_for")}
    errors: dict[str, str] = {}
    kind, _, target = v["to"].partition(":")
    if kind not in ("payee", "account") or not target:
        errors["to"] = "To: choose a payee or one of your accounts"
    amount = cents(v["amount"])
    if amount is None:
        errors["amount"] = f"Amount: {v['amount']!r} is not an amount of money (write it like 125.50)" if v["amount"] \
            else "Amount: enter how much to send"
    data = {"from_account": v["from_account"], "payee_id": target if kind == "payee" else None,
            "to_account": target if kind == "account" else None, "amount_cents": amount if amount is not None else 1,
            "memo": v["memo"], "scheduled_for": v["scheduled_for"] or None}
    body, model_errs = build(TransferIn, data, LABELS)
    errors = {**{("amount" if k == "amount_cents" else k): m for k, m in model_errs.items()}, **errors}
    if errors or body is None:
        return _transfer_form(request, b, user, v, errors, 422)
    api_origin(request, "POST", "/api/transfers", 201)
    t, refused = await call_api(request, api.create_transfer, b, body, user, request)
    if refused:
        return _transfer_form(request, b, user, v, [refused], 422)
    return redirect(f"/banking/transfer/{t['id']}", notice="created" if t["status"] == "pending" else "scheduled")


def _transfer_page(request: Request, b: BankBackend, user: str, tid: str, errors: list[str] | None = None,
                   status: int = 200) -> HTMLResponse:
    with b.read() as db:
        t = b._transfer_out(db, b._transfer(db, user, tid))
        src = b._account_out(db, b._account(db, user, t["from_account"]))
        dst = b._account_out(db, b._account(db, user, t["to_account"])) if t["to_account"] else None
        payee = dict(db.execute("SELECT * FROM payees WHERE id = ?", (t["payee_id"],)).fetchone() or {}) \
            if t["payee_id"] else None
    title = "Confirm your transfer" if t["status"] == "pending" else f"Transfer {t['id']}"
    return APP.page(request, "bank/web_transfer_show.html.j2", title, user, status=status, errors=errors, t=t, src=src,
                    dst=dst, payee=payee, current="/banking/transfers")


@web.get("/banking/transfer/{transfer_id}", response_class=HTMLResponse)
def show_transfer(b: Bank, transfer_id: api.Id, request: Request, user: WebUser) -> HTMLResponse:
    """A transfer; while it is pending, the confirmation step (Confirm and send, or Cancel)."""
    return _transfer_page(request, b, user, transfer_id)


@web.post("/banking/transfer/{transfer_id}/confirm", response_class=HTMLResponse)
async def confirm(b: Bank, transfer_id: api.Id, request: Request, user: WebUser) -> Response:
    """Step two: send it (the API's confirm: balance and limit checked again; refused, it stays pending)."""
    await read_form(request)
    api_origin(request, "POST", f"/api/transfers/{transfer_id}/confirm", 200)
    _, refused = await call_api(request, api.confirm, b, transfer_id, user, request)
    if refused:
        return _transfer_page(request, b, user, transfer_id, [refused], 409)
    return redirect(f"/banking/transfer/{transfer_id}", notice="sent")


@web.post("/banking/transfer/{transfer_id}/cancel", response_class=HTMLResponse)
async def cancel(b: Bank, transfer_id: api.Id, request: Request, user: WebUser) -> Response:
    """Cancel a pending or scheduled transfer."""
    await read_form(request)
    api_origin(request, "POST", f"/api/transfers/{transfer_id}/cancel", 200)
    _, refused = await call_api(request, api.cancel, b, transfer_id, user, request)
    if refused:
        return _transfer_page(request, b, user, transfer_id, [refused], 409)
    return redirect(f"/banking/transfer/{transfer_id}", notice="cancelled")


@web.get("/banking/transfers", response_class=HTMLResponse)
def transfers(b: Bank, request: Request, user: WebUser,
              status: Annotated[str | None, Query(pattern="^(pending|scheduled|completed|cancelled|failed)$")] = None
              ) -> HTMLResponse:
    """Transfers from your accounts, newest first."""
    rows = api.list_transfers(b, user, status)  # type: ignore[arg-type]
    return APP.page(request, "bank/web_transfers.html.j2", "Transfers", user, rows=rows, status_filter=status or "")


routers = [APP.login_router("Your online-banking token (it starts with bk_live_)."), web]
