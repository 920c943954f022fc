"""The bank backend: accounts, payees, statements, and transfers with a per-transfer limit and a confirmation step."""
import re
import sqlite3
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from airgap.envs.backends.base import register_backend
from airgap.envs.backends.sqlstore import SqliteBackend
from airgap.envs.backends.web import Accounts, ApiError, BearerAuth, Linker, esc, html_response, page_user, table
from airgap.envs.common import money
from airgap.envs.worldgen import WorldFacts

SCHEMA = """
CREATE TABLE accounts (id TEXT PRIMARY KEY, number TEXT NOT NULL UNIQUE, routing_number TEXT NOT NULL, name TEXT NOT NULL,
                       kind TEXT NOT NULL, owner TEXT NOT NULL, balance_cents INTEGER NOT NULL, currency TEXT NOT NULL);
CREATE TABLE holders (id INTEGER PRIMARY KEY, account TEXT NOT NULL, username TEXT NOT NULL, UNIQUE (account, username));
CREATE TABLE payees (id TEXT PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT NULL, bank_name TEXT NOT NULL,
                     account_number TEXT NOT NULL, routing_number TEXT NOT NULL, email TEXT, created_at TEXT NOT NULL);
CREATE TABLE transfers (id TEXT PRIMARY KEY, from_account TEXT NOT NULL, payee TEXT, to_account TEXT,
                        amount_cents INTEGER NOT NULL, memo TEXT NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL,
                        created_by TEXT NOT NULL, decided_at TEXT, decided_by TEXT, failure TEXT);
CREATE TABLE transactions (id TEXT PRIMARY KEY, account TEXT NOT NULL, posted_at TEXT NOT NULL, description TEXT NOT NULL,
                           amount_cents INTEGER NOT NULL, balance_after_cents INTEGER NOT NULL, counterparty TEXT NOT NULL,
                           transfer TEXT);
CREATE INDEX transactions_account ON transactions (account, posted_at);
"""

AccountNumber = Annotated[str, Field(pattern=r"^[0-9]{4,17}$", description="digits only")]
RoutingNumber = Annotated[str, Field(pattern=r"^[0-9]{9}$", description="nine-digit ABA routing number")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AccountOut(BaseModel):
    id: str
    number: str
    routing_number: str
    name: str
    kind: Literal["checking", "savings"]
    owner: str = Field(description='"org" (the organisation) or a username')
    holders: list[str]
    balance_cents: int
    balance: str
    currency: str


class TransactionOut(BaseModel):
    id: str
    account: str
    posted_at: str
    description: str
    amount_cents: int
    balance_after_cents: int
    counterparty: str
    transfer: str | None


class TransactionList(BaseModel):
    total: int
    offset: int
    transactions: list[TransactionOut]


class StatementOut(BaseModel):
    account: AccountOut
    month: str
    opening_balance_cents: int
    closing_balance_cents: int
    money_in_cents: int
    money_out_cents: int
    transactions: list[TransactionOut]


class PayeeOut(BaseModel):
    id: str
    owner: str
    name: str
    bank_name: str
    account_number: str
    routing_number: str
    email: str | None
    created_at: str


class PayeeIn(Strict):
    name: str = Field(min_length=1, max_length=120)
    bank_name: str = Field("", max_length=120)
    account_number: AccountNumber
    routing_number: RoutingNumber
    email: str | None = Field(None, max_length=200)
    owner: Literal["org", "me"] = Field("me", description="org: a payee of the organisation (org account holders only)")


class TransferIn(Strict):
    from_account: str = Field(min_length=1, max_length=40, description="account id")
    payee_id: str | None = Field(None, max_length=40, description="pay a payee on file ...")
    to_account: str | None = Field(None, max_length=40, description="... or move money to another of your accounts")
    amount_cents: int = Field(gt=0, le=10**12)
    memo: str = Field("", max_length=140)


class TransferOut(BaseModel):
    id: str
    from_account: str
    payee_id: str | None
    payee_name: str | None
    to_account: str | None
    amount_cents: int
    amount: str
    memo: str
    status: Literal["pending", "completed", "cancelled", "failed"]
    created_at: str
    created_by: str
    decided_at: str | None
    decided_by: str | None
    failure: str | None
    next_step: str | None


class LimitsOut(BaseModel):
    per_transfer_limit_cents: int
    per_transfer_limit: str
    currency: str


class MeOut(BaseModel):
    username: str
    name: str
    accounts: list[str]


@register_backend
class BankBackend(SqliteBackend):
    name = "bank"
    title = "Bank"
    schema = SCHEMA
    api_description = ("Online banking. A transfer is created pending (POST /api/transfers) and only moves money once "
                       "confirmed (POST /api/transfers/{id}/confirm); the per-transfer limit applies to every transfer.")

    def hosts_for(self, facts: WorldFacts) -> list[str]:
        return [f"online.{facts.bank.domain}", f"www.{facts.bank.domain}"]

    def seed(self, db: sqlite3.Connection) -> None:
        b = self.facts.bank
        opening = {}
        for a in b.accounts:
            opening[a.id] = a.balance_cents - sum(t.amount_cents for t in b.transactions if t.account == a.id)
            db.execute("INSERT INTO accounts VALUES (?,?,?,?,?,?,?,?)",
                       (a.id, a.number, a.routing_number, a.name, a.kind, a.owner, a.balance_cents, a.currency))
            db.executemany("INSERT INTO holders (account, username) VALUES (?, ?)", [(a.id, u) for u in a.holders])
        created = b.transactions[0].posted_at if b.transactions else self.facts.now
        db.executemany("INSERT INTO payees VALUES (?,?,?,?,?,?,?,?)",
                       [(p.id, p.owner, p.name, p.bank_name, p.account_number, p.routing_number, p.email, created)
                        for p in b.payees])
        running = dict(opening)
        for t in b.transactions:
            running[t.account] += t.amount_cents
            db.execute("INSERT INTO transactions VALUES (?,?,?,?,?,?,?,NULL)",
                       (t.id, t.account, t.posted_at, t.description, t.amount_cents, running[t.account], t.counterparty))

    # -------------------------------------------------------------- helpers
    @property
    def limit(self) -> int:
        return self.facts.policies.per_transfer_limit_cents

    def _accounts(self, db: sqlite3.Connection, user: str) -> list[str]:
        return [r[0] for r in db.execute("SELECT account FROM holders WHERE username = ? ORDER BY id", (user,))]

    def _account(self, db: sqlite3.Connection, user: str, aid: str) -> sqlite3.Row:
        row = db.execute("SELECT a.* FROM accounts a JOIN holders h ON h.account = a.id WHERE a.id = ? AND h.username = ?",
                         (aid, user)).fetchone()
        if row is None:
            raise ApiError(404, f"account {aid} not found")
        return row

    def _account_out(self, db: sqlite3.Connection, a: sqlite3.Row) -> dict[str, Any]:
        holders = [r[0] for r in db.execute("SELECT username FROM holders WHERE account = ? ORDER BY id", (a["id"],))]
        return {**{k: a[k] for k in ("id", "number", "routing_number", "name", "kind", "owner", "balance_cents",
                                     "currency")}, "holders": holders, "balance": money(a["balance_cents"])}

    def _org_holder(self, db: sqlite3.Connection, user: str) -> bool:
        return db.execute("SELECT 1 FROM holders h JOIN accounts a ON a.id = h.account WHERE h.username = ? AND "
                          "a.owner = 'org'", (user,)).fetchone() is not None

    def _payee(self, db: sqlite3.Connection, user: str, pid: str) -> sqlite3.Row:
        row = db.execute("SELECT * FROM payees WHERE id = ?", (pid,)).fetchone()
        if row is None or not (row["owner"] == user or (row["owner"] == "org" and self._org_holder(db, user))):
            raise ApiError(404, f"payee {pid} not found")
        return row

    def _transfer(self, db: sqlite3.Connection, user: str, tid: str) -> sqlite3.Row:
        return self.visible_row(db, "transfers", tid, "from_account", self._accounts(db, user), "transfer")

    def _transfer_out(self, db: sqlite3.Connection, t: sqlite3.Row) -> dict[str, Any]:
        payee = db.execute("SELECT name FROM payees WHERE id = ?", (t["payee"],)).fetchone() if t["payee"] else None
        step = f"POST /api/transfers/{t['id']}/confirm to send it, or /cancel" if t["status"] == "pending" else None
        return {"id": t["id"], "from_account": t["from_account"], "payee_id": t["payee"],
                "payee_name": payee[0] if payee else None, "to_account": t["to_account"],
                "amount_cents": t["amount_cents"], "amount": money(t["amount_cents"]), "memo": t["memo"],
                "status": t["status"], "created_at": t["created_at"], "created_by": t["created_by"],
                "decided_at": t["decided_at"], "decided_by": t["decided_by"], "failure": t["failure"], "next_step": step}

    def _post(self, db: sqlite3.Connection, account: str, amount: int, description: str, counterparty: str,
              transfer: str) -> None:
        bal = db.execute("UPDATE accounts SET balance_cents = balance_cents + ? WHERE id = ? RETURNING balance_cents",
                         (amount, account)).fetchone()[0]
        n = db.execute("SELECT count(*) FROM transactions").fetchone()[0]
        db.execute("INSERT INTO transactions VALUES (?,?,?,?,?,?,?,?)",
                   (f"txn_{n + 1:05d}", account, self.now_iso(db), description, amount, bal, counterparty, transfer))

    def statement(self, db: sqlite3.Connection, a: sqlite3.Row, month: str) -> dict[str, Any]:
        y, m = int(month[:4]), int(month[5:7])
        start = f"{month}-01T00:00:00Z"
        end = f"{y + (m == 12):04d}-{m % 12 + 1:02d}-01T00:00:00Z"
        rows = db.execute("SELECT * FROM transactions WHERE account = ? AND posted_at >= ? AND posted_at < ? "
                          "ORDER BY posted_at, id", (a["id"], start, end)).fetchall()
        before = db.execute("SELECT balance_after_cents FROM transactions WHERE account = ? AND posted_at < ? "
                            "ORDER BY posted_at DESC, id DESC LIMIT 1", (a["id"], start)).fetchone()
        if before is not None:
            opening = before[0]
        else:  # nothing earlier: the opening balance is the balance before the first line of any period
            first = db.execute("SELECT balance_after_cents - amount_cents FROM transactions WHERE account = ? "
                               "ORDER BY posted_at, id LIMIT 1", (a["id"],)).fetchone()
            opening = first[0] if first else a["balance_cents"]
        lines = [dict(r) for r in rows]
        closing = lines[-1]["balance_after_cents"] if lines else opening
        return {"account": self._account_out(db, a), "month": month, "opening_balance_cents": opening,
                "closing_balance_cents": closing,
                "money_in_cents": sum(x["amount_cents"] for x in lines if x["amount_cents"] > 0),
                "money_out_cents": -sum(x["amount_cents"] for x in lines if x["amount_cents"] < 0), "transactions": lines}

    # -------------------------------------------------------------- routes
    def routes(self, app: FastAPI) -> None:
        accounts = Accounts.for_service(self.facts, self.name, {p.email: p.username for p in self.facts.people})
        User = Annotated[str, Depends(BearerAuth(accounts))]
        PageUser = Annotated[str, Depends(page_user(accounts))]
        Id = Annotated[str, PathParam(min_length=1, max_length=40)]
        Limit = Annotated[int, Query(ge=1, le=500)]
        Offset = Annotated[int, Query(ge=0, le=1_000_000)]
        Month = Annotated[str, Query(pattern=r"^(19[7-9][0-9]|20[0-9]{2})-(0[1-9]|1[0-2])$", description="YYYY-MM")]

        @app.get("/api/me", response_model=MeOut, tags=["accounts"])
        def me(user: User) -> dict:
            """You and the accounts you hold."""
            with self.read() as db:
                return {"username": user, "name": self.facts.person(user).name, "accounts": self._accounts(db, user)}

        @app.get("/api/accounts", response_model=list[AccountOut], tags=["accounts"])
        def list_accounts(user: User) -> list:
            """The accounts you hold, with balances."""
            with self.read() as db:
                return [self._account_out(db, self._account(db, user, a)) for a in self._accounts(db, user)]

        @app.get("/api/accounts/{account_id}", response_model=AccountOut, tags=["accounts"])
        def get_account(account_id: Id, user: User) -> dict:
            """One account."""
            with self.read() as db:
                return self._account_out(db, self._account(db, user, account_id))

        @app.get("/api/accounts/{account_id}/transactions", response_model=TransactionList, tags=["accounts"])
        def transactions(account_id: Id, user: User, q: Annotated[str | None, Query(max_length=200)] = None,
                         limit: Limit = 100, offset: Offset = 0) -> dict:
            """Posted transactions, newest first; q filters on description and counterparty."""
            with self.read() as db:
                a = self._account(db, user, account_id)
                where, args = "account = ?", [a["id"]]
                if q:
                    where += " AND (description LIKE ? OR counterparty LIKE ?)"
                    args += [f"%{q}%", f"%{q}%"]
                total = db.execute(f"SELECT count(*) FROM transactions WHERE {where}", args).fetchone()[0]
                rows = db.execute(f"SELECT * FROM transactions WHERE {where} ORDER BY posted_at DESC, id DESC "
                                  "LIMIT ? OFFSET ?", (*args, limit, offset)).fetchall()
                return {"total": total, "offset": offset, "transactions": [dict(r) for r in rows]}

        @app.get("/api/accounts/{account_id}/statement", response_model=StatementOut, tags=["accounts"])
        def get_statement(account_id: Id, month: Month, user: User) -> dict:
            """A monthly statement: opening and closing balance and every line of the month."""
            with self.read() as db:
                return self.statement(db, self._account(db, user, account_id), month)

        @app.get("/api/payees", response_model=list[PayeeOut], tags=["payees"])
        def payees(user: User, q: Annotated[str | None, Query(max_length=120)] = None) -> list:
            """Your payees and, if you hold an organisation account, the organisation's."""
            with self.read() as db:
                owners = [user] + (["org"] if self._org_holder(db, user) else [])
                rows = db.execute(f"SELECT * FROM payees WHERE owner IN ({','.join('?' * len(owners))}) ORDER BY id",
                                  owners).fetchall()
            return [dict(r) for r in rows if not q or q.lower() in r["name"].lower()]

        @app.get("/api/payees/{payee_id}", response_model=PayeeOut, tags=["payees"])
        def payee(payee_id: Id, user: User) -> dict:
            """One payee."""
            with self.read() as db:
                return dict(self._payee(db, user, payee_id))

        @app.post("/api/payees", response_model=PayeeOut, status_code=201, tags=["payees"])
        def add_payee(body: PayeeIn, user: User, request: Request) -> dict:
            """Add a payee (owner org needs an organisation account)."""
            with self.write(request) as db:
                owner = user if body.owner == "me" else "org"
                if owner == "org" and not self._org_holder(db, user):
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
                            self.now_iso(db)))
                return dict(self._payee(db, user, pid))

        @app.delete("/api/payees/{payee_id}", response_model=PayeeOut, tags=["payees"])
        def delete_payee(payee_id: Id, user: User, request: Request) -> dict:
            """Remove a payee (pending transfers to it must be cancelled first)."""
            with self.write(request) as db:
                p = dict(self._payee(db, user, payee_id))
                if db.execute("SELECT 1 FROM transfers WHERE payee = ? AND status = 'pending'", (payee_id,)).fetchone():
                    raise ApiError(409, f"payee {payee_id} has pending transfers; cancel them first", "conflict")
                db.execute("DELETE FROM payees WHERE id = ?", (payee_id,))
                return p

        @app.get("/api/limits", response_model=LimitsOut, tags=["transfers"])
        def limits(user: User) -> dict:
            """The per-transfer limit."""
            return {"per_transfer_limit_cents": self.limit, "per_transfer_limit": money(self.limit), "currency": "USD"}

        @app.get("/api/transfers", response_model=list[TransferOut], tags=["transfers"])
        def list_transfers(user: User, status: Literal["pending", "completed", "cancelled", "failed"] | None = None
                           ) -> list:
            """Transfers from the accounts you hold, newest first."""
            with self.read() as db:
                accts = self._accounts(db, user)
                sql = f"SELECT * FROM transfers WHERE from_account IN ({','.join('?' * len(accts))})"
                args: list[Any] = list(accts)
                if status:
                    sql += " AND status = ?"
                    args.append(status)
                return [self._transfer_out(db, r) for r in db.execute(sql + " ORDER BY created_at DESC, id DESC", args)]

        @app.get("/api/transfers/{transfer_id}", response_model=TransferOut, tags=["transfers"])
        def get_transfer(transfer_id: Id, user: User) -> dict:
            """One transfer."""
            with self.read() as db:
                return self._transfer_out(db, self._transfer(db, user, transfer_id))

        @app.post("/api/transfers", response_model=TransferOut, status_code=201, tags=["transfers"])
        def create_transfer(body: TransferIn, user: User, request: Request) -> dict:
            """Create a pending transfer to a payee or to another of your accounts; nothing moves until you confirm."""
            with self.write(request) as db:
                src = self._account(db, user, body.from_account)
                if (body.payee_id is None) == (body.to_account is None):
                    raise ApiError(422, "give exactly one of payee_id or to_account")
                if body.payee_id is not None:
                    p = self._payee(db, user, body.payee_id)
                    if src["owner"] != p["owner"]:
                        raise ApiError(422, f"payee {p['id']} belongs to {p['owner']}, account {src['id']} to "
                                            f"{src['owner']}: pay it from an account of the same owner")
                else:
                    dst = self._account(db, user, body.to_account)
                    if dst["id"] == src["id"]:
                        raise ApiError(422, "from_account and to_account are the same account")
                if body.amount_cents > self.limit:
                    raise ApiError(422, f"{money(body.amount_cents)} exceeds the per-transfer limit of {money(self.limit)}",
                                   "over_limit")
                n = db.execute("SELECT count(*) FROM transfers").fetchone()[0]
                tid = f"tr_{n + 1:04d}"
                db.execute("INSERT INTO transfers VALUES (?,?,?,?,?,?,'pending',?,?,NULL,NULL,NULL)",
                           (tid, src["id"], body.payee_id, body.to_account, body.amount_cents, body.memo,
                            self.now_iso(db), user))
                return self._transfer_out(db, self._transfer(db, user, tid))

        @app.post("/api/transfers/{transfer_id}/confirm", response_model=TransferOut, tags=["transfers"])
        def confirm(transfer_id: Id, user: User, request: Request) -> dict:
            """Send a pending transfer: the balance must cover it (409 otherwise; it stays pending)."""
            with self.write(request) as db:
                t = self._transfer(db, user, transfer_id)
                if t["status"] != "pending":
                    raise ApiError(409, f"transfer {t['id']} is {t['status']}, not pending", "conflict")
                src = self._account(db, user, t["from_account"])
                if t["amount_cents"] > self.limit:
                    raise ApiError(422, f"{money(t['amount_cents'])} exceeds the per-transfer limit of {money(self.limit)}",
                                   "over_limit")
                if src["balance_cents"] < t["amount_cents"]:
                    raise ApiError(409, f"insufficient funds: {src['name']} has {money(src['balance_cents'])}, the "
                                        f"transfer is {money(t['amount_cents'])}", "insufficient_funds")
                memo = f" ({t['memo']})" if t["memo"] else ""
                if t["payee"]:
                    p = db.execute("SELECT * FROM payees WHERE id = ?", (t["payee"],)).fetchone()
                    if p is None:
                        raise ApiError(409, f"payee {t['payee']} no longer exists", "conflict")
                    self._post(db, src["id"], -t["amount_cents"], f"Transfer to {p['name']}{memo}", p["name"], t["id"])
                else:
                    dst = self._account(db, user, t["to_account"])
                    self._post(db, src["id"], -t["amount_cents"], f"Transfer to {dst['name']}{memo}", dst["name"], t["id"])
                    self._post(db, dst["id"], t["amount_cents"], f"Transfer from {src['name']}{memo}", src["name"], t["id"])
                db.execute("UPDATE transfers SET status = 'completed', decided_at = ?, decided_by = ? WHERE id = ?",
                           (self.now_iso(db), user, t["id"]))
                return self._transfer_out(db, self._transfer(db, user, t["id"]))

        @app.post("/api/transfers/{transfer_id}/cancel", response_model=TransferOut, tags=["transfers"])
        def cancel(transfer_id: Id, user: User, request: Request) -> dict:
            """Cancel a pending transfer."""
            with self.write(request) as db:
                t = self._transfer(db, user, transfer_id)
                if t["status"] != "pending":
                    raise ApiError(409, f"transfer {t['id']} is {t['status']}, not pending", "conflict")
                db.execute("UPDATE transfers SET status = 'cancelled', decided_at = ?, decided_by = ? WHERE id = ?",
                           (self.now_iso(db), user, t["id"]))
                return self._transfer_out(db, self._transfer(db, user, t["id"]))

        # ---------------------------------------------------------- HTML
        @app.get("/", response_class=HTMLResponse, include_in_schema=False)
        def home(request: Request, user: PageUser) -> HTMLResponse:
            link = Linker(request)
            with self.read() as db:
                accts = [self._account_out(db, self._account(db, user, a)) for a in self._accounts(db, user)]
                pend = db.execute(f"SELECT count(*) FROM transfers WHERE status = 'pending' AND from_account IN "
                                  f"({','.join('?' * len(accts))})", [a["id"] for a in accts]).fetchone()[0]
            rows = [[link.a(f"/account/{a['id']}", a["name"]), esc(a["number"]), esc(a["kind"]), esc(a["balance"])]
                    for a in accts]
            body = (table(["Account", "Number", "Type", "Balance"], rows)
                    + f"<p>{pend} pending transfer(s). Per-transfer limit: {esc(money(self.limit))}.</p>")
            return html_response(self.facts.bank.name, body, request, [("/", "Accounts"), ("/payees", "Payees")], user)

        @app.get("/account/{account_id}", response_class=HTMLResponse, include_in_schema=False)
        def account_page(account_id: Id, request: Request, user: PageUser) -> HTMLResponse:
            with self.read() as db:
                a = self._account_out(db, self._account(db, user, account_id))
                rows = db.execute("SELECT * FROM transactions WHERE account = ? ORDER BY posted_at DESC, id DESC LIMIT 200",
                                  (account_id,)).fetchall()
            lines = [[esc(r["posted_at"][:10]), esc(r["description"]), esc(money(r["amount_cents"])),
                      esc(money(r["balance_after_cents"]))] for r in rows]
            body = (f"<p>Number {esc(a['number'])}, routing {esc(a['routing_number'])}. Balance <b>{esc(a['balance'])}</b>."
                    f"</p>" + table(["Date", "Description", "Amount", "Balance"], lines))
            return html_response(a["name"], body, request, [("/", "Accounts"), ("/payees", "Payees")], user)

        @app.get("/payees", response_class=HTMLResponse, include_in_schema=False)
        def payees_page(request: Request, user: PageUser) -> HTMLResponse:
            with self.read() as db:
                owners = [user] + (["org"] if self._org_holder(db, user) else [])
                rows = db.execute(f"SELECT * FROM payees WHERE owner IN ({','.join('?' * len(owners))}) ORDER BY name",
                                  owners).fetchall()
            body = table(["Payee", "Owner", "Bank", "Account", "Routing"],
                         [[esc(r["name"]), esc(r["owner"]), esc(r["bank_name"]), esc(r["account_number"]),
                           esc(r["routing_number"])] for r in rows])
            return html_response("Payees", body, request, [("/", "Accounts"), ("/payees", "Payees")], user)
