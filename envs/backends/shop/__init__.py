"""The shop backend: public catalogue and search, cart, checkout, orders, returns, and refunds within the policy window."""
import sqlite3
from datetime import timedelta
from typing import Any, Callable

from airgap.envs.backends.base import register_backend
from airgap.envs.backends.shop.model import ItemIn
from airgap.envs.backends.sqlstore import SqliteBackend
from airgap.envs.backends.web import ApiError
from airgap.envs.common import money, parse_iso

SHIPPING_CENTS = 695
FREE_SHIPPING_OVER = 75_00


@register_backend
class ShopBackend(SqliteBackend):
    name = "shop"
    title = "Shop"
    customer_accounts = True
    note = "the web shop, JSON API under /api; the support team's tokens see every order and issue refunds"
    api_description = ("The organisation's web shop. The catalogue is public; cart, checkout and orders need a customer "
                       "token; staff tokens (the support team) see every order and issue refunds within the refund window.")

    @classmethod
    def make_token(cls, derive: Callable[..., str]) -> str:
        return "shp_" + derive(32)

    @classmethod
    def hosts_for(cls, facts: Any) -> list[str]:
        return [f"shop.{facts.shop.domain}", f"www.{facts.shop.domain}"]

    @classmethod
    def login_aliases(cls, facts: Any) -> dict[str, str]:
        """Customers and staff log in with their e-mail address too."""
        aliases = {c.email: c.username for c in facts.shop.customers}
        aliases.update({p.email: p.username for p in facts.people})
        return aliases


    # -------------------------------------------------------------- helpers
    @staticmethod
    def _product(r: sqlite3.Row) -> dict[str, Any]:
        return {"sku": r["sku"], "name": r["name"], "category": r["category"], "description": r["description"],
                "price_cents": r["price_cents"], "price": money(r["price_cents"]), "stock": r["stock"],
                "in_stock": r["stock"] > 0}

    def _get_product(self, db: sqlite3.Connection, sku: str) -> sqlite3.Row:
        row = db.execute("SELECT * FROM products WHERE sku = ? COLLATE NOCASE", (sku,)).fetchone()
        if row is None:
            raise ApiError(404, f"product {sku} not found")
        return row

    def _is_staff(self, db: sqlite3.Connection, user: str) -> bool:
        row = db.execute("SELECT staff FROM customers WHERE username = ?", (user,)).fetchone()
        return bool(row and row[0])

    def _order_row(self, db: sqlite3.Connection, user: str, oid: str) -> sqlite3.Row:
        row = db.execute("SELECT * FROM orders WHERE id = ? COLLATE NOCASE", (oid,)).fetchone()
        if row is None or (row["customer"] != user and not self._is_staff(db, user)):
            raise ApiError(404, f"order {oid} not found")
        return row

    def _window_end(self, order: sqlite3.Row) -> str | None:
        if not order["delivered_at"]:
            return None
        end = parse_iso(order["delivered_at"]) + timedelta(days=self.facts.policies.refund_window_days)
        return end.strftime("%Y-%m-%dT%H:%M:%SZ")

    def _order(self, db: sqlite3.Connection, o: sqlite3.Row) -> dict[str, Any]:
        lines = db.execute("SELECT * FROM order_lines WHERE order_id = ? ORDER BY id", (o["id"],)).fetchall()
        email = db.execute("SELECT email FROM customers WHERE username = ?", (o["customer"],)).fetchone()
        return {"id": o["id"], "customer": o["customer"], "customer_email": email[0] if email else "",
                "placed_at": o["placed_at"], "status": o["status"], "delivered_at": o["delivered_at"],
                "refund_window_ends": self._window_end(o),
                "lines": [{k: r[k] for k in ("sku", "name", "quantity", "unit_price_cents", "refunded_quantity")}
                          for r in lines],
                "subtotal_cents": o["subtotal_cents"], "shipping_cents": o["shipping_cents"],
                "total_cents": o["total_cents"], "refunded_cents": o["refunded_cents"], "ship_to": o["ship_to"]}

    def _cart(self, db: sqlite3.Connection, user: str) -> dict[str, Any]:
        rows = db.execute("SELECT c.sku, c.quantity, p.name, p.price_cents FROM cart_items c JOIN products p "
                          "ON p.sku = c.sku WHERE c.username = ? ORDER BY c.id", (user,)).fetchall()
        items = [{"sku": r["sku"], "name": r["name"], "quantity": r["quantity"], "unit_price_cents": r["price_cents"],
                  "line_total_cents": r["quantity"] * r["price_cents"]} for r in rows]
        sub = sum(i["line_total_cents"] for i in items)
        ship = 0 if not items or sub >= FREE_SHIPPING_OVER else SHIPPING_CENTS
        return {"items": items, "subtotal_cents": sub, "shipping_cents": ship, "total_cents": sub + ship}

    def _next_id(self, db: sqlite3.Connection, table: str, prefix: str, start: int) -> str:
        n = db.execute(f"SELECT max(CAST(substr(id, {len(prefix) + 1}) AS INTEGER)) FROM {table} WHERE id LIKE ?",
                       (prefix + "%",)).fetchone()[0]
        return f"{prefix}{(n or start) + 1}"

    def catalogue(self, db: sqlite3.Connection, q: str | None, category: str | None, min_price: int | None,
                  max_price: int | None, in_stock: bool | None, limit: int, offset: int) -> dict[str, Any]:
        where, args = ["1"], []
        for term in (q or "").split():
            like = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append("(name LIKE ? ESCAPE '\\' OR description LIKE ? ESCAPE '\\' OR sku LIKE ? ESCAPE '\\' "
                         "OR category LIKE ? ESCAPE '\\')")
            args += [like] * 4
        if category:
            where.append("category = ? COLLATE NOCASE")
            args.append(category)
        if min_price is not None:
            where.append("price_cents >= ?")
            args.append(min_price)
        if max_price is not None:
            where.append("price_cents <= ?")
            args.append(max_price)
        if in_stock is not None:
            where.append("stock > 0" if in_stock else "stock = 0")
        cond = " AND ".join(where)
        total = db.execute(f"SELECT count(*) FROM products WHERE {cond}", args).fetchone()[0]
        rows = db.execute(f"SELECT * FROM products WHERE {cond} ORDER BY category, name, sku LIMIT ? OFFSET ?",
                          (*args, limit, offset)).fetchall()
        return {"total": total, "offset": offset, "products": [self._product(r) for r in rows]}

    def orders_for(self, db: sqlite3.Connection, user: str, customer: str | None, status: str | None, limit: int,
                   offset: int) -> dict[str, Any]:
        where, args = [], []
        if self._is_staff(db, user):
            if customer:
                where.append("(o.customer = ? OR c.email = lower(?))")
                args += [customer, customer]
        else:
            where.append("o.customer = ?")
            args.append(user)
        if status:
            where.append("o.status = ?")
            args.append(status)
        cond = " AND ".join(where) or "1"
        base = f"FROM orders o JOIN customers c ON c.username = o.customer WHERE {cond}"
        total = db.execute(f"SELECT count(*) {base}", args).fetchone()[0]
        rows = db.execute(f"SELECT o.* {base} ORDER BY o.placed_at DESC, o.id LIMIT ? OFFSET ?",
                          (*args, limit, offset)).fetchall()
        return {"total": total, "offset": offset, "orders": [self._order(db, r) for r in rows]}

    def _lines_for(self, db: sqlite3.Connection, order: sqlite3.Row, items: list[ItemIn]) -> list[tuple[sqlite3.Row, int]]:
        out = []
        for it in items:
            line = db.execute("SELECT * FROM order_lines WHERE order_id = ? AND sku = ? COLLATE NOCASE",
                              (order["id"], it.sku)).fetchone()
            if line is None:
                raise ApiError(422, f"order {order['id']} has no item {it.sku}")
            left = line["quantity"] - line["refunded_quantity"]
            if it.quantity > left:
                raise ApiError(422, f"item {line['sku']}: {it.quantity} requested but only {left} of "
                                    f"{line['quantity']} not yet refunded")
            out.append((line, it.quantity))
        return out

    # -------------------------------------------------------------- routes

    def _nav(self, user: str | None) -> list[tuple[str, str]]:
        return [("/", "Catalogue")] + ([("/orders", "Orders")] if user else [])

    def _check_window(self, db: sqlite3.Connection, o: sqlite3.Row) -> None:
        end = self._window_end(o)
        if end is None or self.now_iso(db) > end:
            days = self.facts.policies.refund_window_days
            raise ApiError(422, f"order {o['id']} was delivered on {o['delivered_at']}: outside the {days}-day refund "
                                f"window (ended {end})", "outside_refund_window")

    def _refund(self, db: sqlite3.Connection, rid: str) -> dict[str, Any]:
        r = dict(db.execute("SELECT * FROM refunds WHERE id = ?", (rid,)).fetchone())
        r["restocked"] = bool(r["restocked"])
        return r
