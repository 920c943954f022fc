"""The bank backend's HTTP routes, one APIRouter per area.

The bank backend's HTTP routes, one APIRouter per area: ``accounts_api`` (who you are, accounts, transactions,
statements), ``payees_api``, ``transfers_api`` (limits, create, confirm, cancel) and ``pages`` (accounts, one account's
transactions, payees). Handlers get the backend serving the request as ``b`` and the caller as ``user``."""
import re
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse

from airgap.envs.backends.bank import (
    BankBackend,
)
from airgap.envs.backends.bank.model import (
    MAX_SCHEDULE_DAYS,
    AccountOut,
    LimitsOut,
    MeOut,
    PayeeIn,
    PayeeOut,
    StatementOut,
    TransactionList,
    TransferIn,
    TransferOut,
    TransferStatus,
)
from airgap.envs.backends.web import ApiError, BearerAuth, current_backend, html_page, page_user
from airgap.envs.common import money

Bank = Annotated[BankBackend, Depends(current_backend)]
accounts_api = APIRouter(prefix="/api")
payees_api = APIRouter(prefix="/api")
transfers_api = APIRouter(prefix="/api")
pages = APIRouter(include_in_schema=False)
NAV = [("/", "Accounts"), ("/payees", "Payees")]

User = Annotated[str, Depends(BearerAuth())]
PageUser = Annotated[str, Depends(page_user)]
Id = Annotated[str, PathParam(min_length=1, max_length=40)]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
Month = Annotated[str, Query(pattern=r"^(19[7-9][0-9]|20[0-9]{2})-(0[1-9]|1[0-2])$", description="YYYY-MM")]


@accounts_api.get("/me", response_model=MeOut, tags=["accounts"])
def me(b: Bank, user: User) -> dict:
    """You and the accounts you hold."""
    with b.read() as db:
        return {"username": user, "name": b.facts.person(user).name, "accounts": b._accounts(db, user)}


@accounts_api.get("/accounts", response_model=list[AccountOut], tags=["accounts"])
def list_accounts(b: Bank, user: User) -> list:
    """The accounts you hold, with balances."""
    with b.read() as db:
        return [b._account_out(db, b._account(db, user, a)) for a in b._accounts(db, user)]


@accounts_api.get("/accounts/{account_id}", response_model=AccountOut, tags=["accounts"])
def get_account(b: Bank, account_id: Id, user: User) -> dict:
    """One account."""
    with b.read() as db:
        return b._account_out(db, b._account(db, user, account_id))


@accounts_api.get("/accounts/{account_id}/transactions", response_model=TransactionList, tags=["accounts"])
def transactions(b: Bank, account_id: Id, user: User, q: Annotated[str | None, Query(max_length=200)] = None,
                 limit: Limit = 100, offset: Offset = 0) -> dict:
    """Posted transactions, newest first; q filters on description and counterparty."""
    with b.read() as db:
        a = b._account(db, user, account_id)
        where, args = "account = ?", [a["id"]]
        if q:
            where += " AND (description LIKE ? OR counterparty LIKE ?)"
            args += [f"%{q}%", f"%{q}%"]
        total = db.execute(f"SELECT count(*) FROM transactions WHERE {where}", args).fetchone()[0]
        rows = db.execute(f"SELECT * FROM transactions WHERE {where} ORDER BY posted_at DESC, id DESC "
                          "LIMIT ? OFFSET ?", (*args, limit, offset)).fetchall()
        return {"total": total, "offset": offset, "transactions": [dict(r) for r in rows]}


@accounts_api.get("/accounts/{account_id}/statement", response_model=StatementOut, tags=["accounts"])
def get_statement(b: Bank, account_id: Id, month: Month, user: User) -> dict:
    """A monthly statement: opening and closing balance and every line of the month."""
    with b.read() as db:
        return b.statement(db, b._account(db, user, account_id), month)


@payees_api.get("/payees", response_model=list[PayeeOut], tags=["payees"])
def payees(b: Bank, user: User, q: Annotated[str | None, Query(max_length=120)] = None) -> list:
    """Your payees and, if you hold an organisation account, the organisation's."""
    with b.read() as db:
        owners = [user] + (["org"] if b._org_holder(db, user) else [])
        rows = db.execute(f"SELECT * FROM payees WHERE owner IN ({','.join('?' * len(owners))}) ORDER BY id",
                          owners).fetchall()
    return [dict(r) for r in rows if not q or q.lower() in r["name"].lower()]


@payees_api.get("/payees/{payee_id}", response_model=PayeeOut, tags=["payees"])
def payee(b: Bank, payee_id: Id, user: User) -> dict:
    """One payee."""
    with b.read() as db:
        return dict(b._payee(db, user, payee_id))


@payees_api.post("/payees", response_model=PayeeOut, status_code=201, tags=["payees"])
def add_payee(b: Bank, body: PayeeIn, user: User, request: Request) -> dict:
    """Add a payee (owner org needs an organisation account)."""
    with b.write(request) as db:
        owner = user if body.owner == "me" else "org"
        if owner == "org" and not b._org_holder(db, user):
            raise ApiError(403, "only holders of an organisation account can add organisation payees")
        if body.email is not None and not re.match(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$", body.email):
            raise ApiError(422, f"invalid e-mail address {body.email!r}")
        n = db.execute("SELECT count(*) FROM payees").fetchone()[0]
        pid = f"pay_{n + 1:03d}"
        while db.execute("SELECT 1 FROM payees WHERE id = ?", (pid,)).fetchone():
            n += 1
            pid = f"pay_{n + 1:03d}"
        db.execute("INSERT INTO payees VALUES (?,?,?,?,?,?,?,?)",
                   (pid, owner, body.name, body.bank_name, body.account_number, body.routing_number, body.email,
                    b.now_iso(db)))
        return dict(b._payee(db, user, pid))


@payees_api.delete("/payees/{payee_id}", response_model=PayeeOut, tags=["payees"])
def delete_payee(b: Bank, payee_id: Id, user: User, request: Request) -> dict:
    """Remove a payee (pending and scheduled transfers to it must be cancelled first)."""
    with b.write(request) as db:
        p = dict(b._payee(db, user, payee_id))
        if db.execute("SELECT 1 FROM transfers WHERE payee = ? AND status IN ('pending', 'scheduled')",
                      (payee_id,)).fetchone():
            raise ApiError(409, f"payee {payee_id} has pending or scheduled transfers; cancel them first", "conflict")
        db.execute("DELETE FROM payees WHERE id = ?", (payee_id,))
        return p


@transfers_api.get("/limits", response_model=LimitsOut, tags=["transfers"])
def limits(b: Bank, user: User) -> dict:
    """The per-transfer limit: no transfer may be larger (TransferIn.amount_cents says so too)."""
    return {"per_transfer_limit_cents": b.limit, "per_transfer_limit": money(b.limit), "currency": "USD"}


@transfers_api.get("/transfers", response_model=list[TransferOut], tags=["transfers"])
def list_transfers(b: Bank, user: User, status: TransferStatus | None = None) -> list:
    """Transfers from the accounts you hold, newest first."""
    with b.read() as db:
        accts = b._accounts(db, user)
        sql = f"SELECT * FROM transfers WHERE from_account IN ({','.join('?' * len(accts))})"
        args: list[Any] = list(accts)
        if status:
            sql += " AND status = ?"
            args.append(status)
        return [b._transfer_out(db, r) for r in db.execute(sql + " ORDER BY created_at DESC, id DESC", args)]


@transfers_api.get("/transfers/{transfer_id}", response_model=TransferOut, tags=["transfers"])
def get_transfer(b: Bank, transfer_id: Id, user: User) -> dict:
    """One transfer."""
    with b.read() as db:
        return b._transfer_out(db, b._transfer(db, user, transfer_id))


@transfers_api.post("/transfers", response_model=TransferOut, status_code=201, tags=["transfers"])
def create_transfer(b: Bank, body: TransferIn, user: User, request: Request) -> dict:
    """Create a pending transfer to a payee or to another of your accounts; nothing moves until you confirm. With
    `scheduled_for` (a later date) it is created `scheduled` instead: no money moves now, it is sent on that day, and
    it can be cancelled until then."""
    with b.write(request) as db:
        src = b._account(db, user, body.from_account)
        if (body.payee_id is None) == (body.to_account is None):
            raise ApiError(422, "give exactly one of payee_id or to_account")
        if body.payee_id is not None:
            p = b._payee(db, user, body.payee_id)
            if src["owner"] != p["owner"]:
                raise ApiError(422, f"payee {p['id']} belongs to {p['owner']}, account {src['id']} to "
                                    f"{src['owner']}: pay it from an account of the same owner")
        else:
            dst = b._account(db, user, body.to_account)
            if dst["id"] == src["id"]:
                raise ApiError(422, "from_account and to_account are the same account")
        if body.amount_cents > b.limit:
            raise ApiError(422, f"{money(body.amount_cents)} exceeds the per-transfer limit of {money(b.limit)}",
                           "over_limit")
        when = None
        if body.scheduled_for is not None:
            today = b.now(db).date()
            if body.scheduled_for <= today:
                raise ApiError(422, f"scheduled_for {body.scheduled_for.isoformat()} is not in the future: today is "
                                    f"{today.isoformat()} on the bank's clock (leave scheduled_for out to send it now)",
                               "invalid_date")
            if body.scheduled_for > today + timedelta(days=MAX_SCHEDULE_DAYS):
                raise ApiError(422, f"scheduled_for {body.scheduled_for.isoformat()} is more than "
                                    f"{MAX_SCHEDULE_DAYS} days ahead", "invalid_date")
            when = body.scheduled_for.isoformat()
        n = db.execute("SELECT count(*) FROM transfers").fetchone()[0]
        tid = f"tr_{n + 1:04d}"
        db.execute("INSERT INTO transfers (id, from_account, payee, to_account, amount_cents, memo, status, created_at, "
                   "created_by, scheduled_for) VALUES (?,?,?,?,?,?,?,?,?,?)",
                   (tid, src["id"], body.payee_id, body.to_account, body.amount_cents, body.memo,
                    "scheduled" if when else "pending", b.now_iso(db), user, when))
        return b._transfer_out(db, b._transfer(db, user, tid))


@transfers_api.post("/transfers/{transfer_id}/confirm", response_model=TransferOut, tags=["transfers"])
def confirm(b: Bank, transfer_id: Id, user: User, request: Request) -> dict:
    """Send a pending transfer: the balance must cover it (409 otherwise; it stays pending)."""
    with b.write(request) as db:
        t = b._transfer(db, user, transfer_id)
        if t["status"] == "scheduled":
            raise ApiError(409, f"transfer {t['id']} is scheduled for {t['scheduled_for']} and is sent that day; cancel "
                                "it and create one without scheduled_for to send it now", "conflict")
        if t["status"] != "pending":
            raise ApiError(409, f"transfer {t['id']} is {t['status']}, not pending", "conflict")
        src = b._account(db, user, t["from_account"])
        if t["amount_cents"] > b.limit:
            raise ApiError(422, f"{money(t['amount_cents'])} exceeds the per-transfer limit of {money(b.limit)}",
                           "over_limit")
        if src["balance_cents"] < t["amount_cents"]:
            raise ApiError(409, f"insufficient funds: {src['name']} has {money(src['balance_cents'])}, the "
                                f"transfer is {money(t['amount_cents'])}", "insufficient_funds")
        memo = f" ({t['memo']})" if t["memo"] else ""
        if t["payee"]:
            p = db.execute("SELECT * FROM payees WHERE id = ?", (t["payee"],)).fetchone()
            if p is None:
                raise ApiError(409, f"payee {t['payee']} no longer exists", "conflict")
            b._post(db, src["id"], -t["amount_cents"], f"Transfer to {p['name']}{memo}", p["name"], t["id"])
        else:
            dst = b._account(db, user, t["to_account"])
            b._post(db, src["id"], -t["amount_cents"], f"Transfer to {dst['name']}{memo}", dst["name"], t["id"])
            b._post(db, dst["id"], t["amount_cents"], f"Transfer from {src['name']}{memo}", src["name"], t["id"])
        db.execute("UPDATE transfers SET status = 'completed', decided_at = ?, decided_by = ? WHERE id = ?",
                   (b.now_iso(db), user, t["id"]))
        return b._transfer_out(db, b._transfer(db, user, t["id"]))


@transfers_api.post("/transfers/{transfer_id}/cancel", response_model=TransferOut, tags=["transfers"])
def cancel(b: Bank, transfer_id: Id, user: User, request: Request) -> dict:
    """Cancel a pending or scheduled transfer."""
    with b.write(request) as db:
        t = b._transfer(db, user, transfer_id)
        if t["status"] not in ("pending", "scheduled"):
            raise ApiError(409, f"transfer {t['id']} is {t['status']}, not pending or scheduled", "conflict")
        db.execute("UPDATE transfers SET status = 'cancelled', decided_at = ?, decided_by = ? WHERE id = ?",
                   (b.now_iso(db), user, t["id"]))
        return b._transfer_out(db, b._transfer(db, user, t["id"]))

# ---------------------------------------------------------- HTML
@pages.get("/", response_class=HTMLResponse)
def home(b: Bank, request: Request, user: PageUser) -> HTMLResponse:
    """Your accounts with their balances, and how many transfers wait for confirmation."""
    with b.read() as db:
        accts = [b._account_out(db, b._account(db, user, a)) for a in b._accounts(db, user)]
        pend = db.execute(f"SELECT count(*) FROM transfers WHERE status = 'pending' AND from_account IN "
                          f"({','.join('?' * len(accts))})", [a["id"] for a in accts]).fetchone()[0]
    return html_page(request, "bank/home.html.j2", b.facts.bank.name, NAV, user, accounts=accts, pending=pend,
                     limit=money(b.limit))


@pages.get("/account/{account_id}", response_class=HTMLResponse)
def account_page(b: Bank, account_id: Id, request: Request, user: PageUser) -> HTMLResponse:
    """One account: its numbers, balance and latest 200 transactions."""
    with b.read() as db:
        a = b._account_out(db, b._account(db, user, account_id))
        rows = db.execute("SELECT * FROM transactions WHERE account = ? ORDER BY posted_at DESC, id DESC LIMIT 200",
                          (account_id,)).fetchall()
    lines = [{"date": r["posted_at"][:10], "description": r["description"], "amount": money(r["amount_cents"]),
              "balance": money(r["balance_after_cents"])} for r in rows]
    return html_page(request, "bank/account.html.j2", a["name"], NAV, user, a=a, lines=lines)


@pages.get("/payees", response_class=HTMLResponse)
def payees_page(b: Bank, request: Request, user: PageUser) -> HTMLResponse:
    """The payees you may pay: your own, and the organisation's if you hold its accounts."""
    with b.read() as db:
        owners = [user] + (["org"] if b._org_holder(db, user) else [])
        rows = db.execute(f"SELECT * FROM payees WHERE owner IN ({','.join('?' * len(owners))}) ORDER BY name",
                          owners).fetchall()
    return html_page(request, "bank/payees.html.j2", "Payees", NAV, user, payees=[dict(r) for r in rows])


routers = [accounts_api, payees_api, transfers_api, pages]
