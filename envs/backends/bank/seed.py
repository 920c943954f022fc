"""The bank fixture of a world."""
import sqlite3
from typing import Any


def seed(facts: Any, db: sqlite3.Connection) -> None:
    """Fill the empty tables of ``db`` from the world's facts."""
    b = facts.bank
    opening = {}
    for a in b.accounts:
        opening[a.id] = a.balance_cents - sum(t.amount_cents for t in b.transactions if t.account == a.id)
        db.execute("INSERT INTO accounts VALUES (?,?,?,?,?,?,?,?)",
                   (a.id, a.number, a.routing_number, a.name, a.kind, a.owner, a.balance_cents, a.currency))
        db.executemany("INSERT INTO holders (account, username) VALUES (?, ?)", [(a.id, u) for u in a.holders])
    created = b.transactions[0].posted_at if b.transactions else facts.now
    db.executemany("INSERT INTO payees VALUES (?,?,?,?,?,?,?,?)",
                   [(p.id, p.owner, p.name, p.bank_name, p.account_number, p.routing_number, p.email, created)
                    for p in b.payees])
    running = dict(opening)
    for t in b.transactions:
        running[t.account] += t.amount_cents
        db.execute("INSERT INTO transactions VALUES (?,?,?,?,?,?,?,NULL)",
                   (t.id, t.account, t.posted_at, t.description, t.amount_cents, running[t.account], t.counterparty))
