"""The bank backend: accounts, payees, statements, and transfers with a per-transfer limit and a confirmation step."""
import sqlite3
from typing import Any, Callable

from airgap.envs.backends.base import register_backend
from airgap.envs.backends.sqlstore import SqliteBackend
from airgap.envs.backends.web import ApiError
from airgap.envs.common import money


@register_backend
class BankBackend(SqliteBackend):
    name = "bank"
    title = "Bank"
    note = "online banking, JSON API under /api"
    api_description = ("Online banking. A transfer is created pending (POST /api/transfers) and only moves money once "
                       "confirmed (POST /api/transfers/{id}/confirm); with scheduled_for (a later date) it is created "
                       "scheduled instead, to be sent on that day. The per-transfer limit applies to every transfer.")

    @classmethod
    def make_token(cls, derive: Callable[..., str]) -> str:
        return "bk_live_" + derive(32)

    @classmethod
    def hosts_for(cls, facts: Any) -> list[str]:
        return [f"online.{facts.bank.domain}", f"www.{facts.bank.domain}"]


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
        step = {"pending": f"POST /api/transfers/{t['id']}/confirm to send it, or /cancel",
                "scheduled": f"sent on {t['scheduled_for']}; POST /api/transfers/{t['id']}/cancel to stop it"
                }.get(t["status"])
        return {"id": t["id"], "from_account": t["from_account"], "payee_id": t["payee"],
                "payee_name": payee[0] if payee else None, "to_account": t["to_account"],
                "amount_cents": t["amount_cents"], "amount": money(t["amount_cents"]), "memo": t["memo"],
                "status": t["status"], "scheduled_for": t["scheduled_for"], "created_at": t["created_at"], "created_by": t["created_by"],
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
