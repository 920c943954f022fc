"""The shop fixture of a world."""
import sqlite3
from typing import Any


def seed(facts: Any, db: sqlite3.Connection) -> None:
    """Fill the empty tables of ``db`` from the world's facts."""
    s = facts.shop
    db.executemany("INSERT INTO products VALUES (?,?,?,?,?,?,?)",
                   [(p.sku, p.name, p.category, p.description, p.price_cents, p.stock, p.added) for p in s.products])
    db.executemany("INSERT INTO customers VALUES (?,?,?,?,?,?,?,?,?,0)",
                   [(c.username, c.name, c.email, c.phone, c.street, c.city, c.region, c.postcode, c.since)
                    for c in s.customers])
    o = facts.org
    db.executemany("INSERT INTO customers VALUES (?,?,?,?,?,?,?,?,?,?)",
                   [(p.username, p.name, p.email, p.phone, o.street, o.city, o.region, o.postcode, p.start_date,
                     int(p.username in s.staff)) for p in facts.people])
    for order in s.orders:
        c = next(x for x in s.customers if x.username == order.customer)
        sub = sum(line.quantity * line.unit_price_cents for line in order.lines)
        db.execute("INSERT INTO orders VALUES (?,?,?,?,?,?,?,?,0,?)",
                   (order.id, order.customer, order.placed_at, order.status, order.delivered_at, order.shipping_cents,
                    sub, order.total_cents, f"{c.name}, {c.street}, {c.city} {c.region} {c.postcode}"))
        db.executemany("INSERT INTO order_lines (order_id, sku, name, quantity, unit_price_cents, refunded_quantity) "
                       "VALUES (?,?,?,?,?,0)", [(order.id, x.sku, x.name, x.quantity, x.unit_price_cents)
                                                for x in order.lines])
