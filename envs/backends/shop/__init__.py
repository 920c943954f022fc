"""The shop backend: public catalogue and search, cart, checkout, orders, returns, and refunds within the policy window."""
import sqlite3
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from airgap.envs.backends.base import register_backend
from airgap.envs.backends.sqlstore import SqliteBackend
from airgap.envs.backends.web import (
    Accounts,
    ApiError,
    BearerAuth,
    Linker,
    PageError,
    esc,
    html_response,
    optional_user,
    page_user,
    table,
)
from airgap.envs.common import money, parse_iso
from airgap.envs.worldgen import WorldFacts

SCHEMA = """
CREATE TABLE products (sku TEXT PRIMARY KEY, name TEXT NOT NULL, category TEXT NOT NULL, description TEXT NOT NULL,
                       price_cents INTEGER NOT NULL, stock INTEGER NOT NULL, added TEXT NOT NULL);
CREATE TABLE customers (username TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL UNIQUE, phone TEXT NOT NULL,
                        street TEXT NOT NULL, city TEXT NOT NULL, region TEXT NOT NULL, postcode TEXT NOT NULL,
                        since TEXT NOT NULL, staff INTEGER NOT NULL);
CREATE TABLE cart_items (id INTEGER PRIMARY KEY, username TEXT NOT NULL, sku TEXT NOT NULL, quantity INTEGER NOT NULL,
                         UNIQUE (username, sku));
CREATE TABLE orders (id TEXT PRIMARY KEY, customer TEXT NOT NULL, placed_at TEXT NOT NULL, status TEXT NOT NULL,
                     delivered_at TEXT, shipping_cents INTEGER NOT NULL, subtotal_cents INTEGER NOT NULL,
                     total_cents INTEGER NOT NULL, refunded_cents INTEGER NOT NULL, ship_to TEXT NOT NULL);
CREATE INDEX orders_customer ON orders (customer);
CREATE TABLE order_lines (id INTEGER PRIMARY KEY, order_id TEXT NOT NULL, sku TEXT NOT NULL, name TEXT NOT NULL,
                          quantity INTEGER NOT NULL, unit_price_cents INTEGER NOT NULL, refunded_quantity INTEGER NOT NULL,
                          UNIQUE (order_id, sku));
CREATE TABLE returns (id TEXT PRIMARY KEY, order_id TEXT NOT NULL, customer TEXT NOT NULL, sku TEXT NOT NULL,
                      quantity INTEGER NOT NULL, reason TEXT NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE refunds (id TEXT PRIMARY KEY, order_id TEXT NOT NULL, sku TEXT, quantity INTEGER NOT NULL,
                      amount_cents INTEGER NOT NULL, reason TEXT NOT NULL, return_id TEXT, restocked INTEGER NOT NULL,
                      created_at TEXT NOT NULL, created_by TEXT NOT NULL);
"""

Sku = Annotated[str, Field(min_length=1, max_length=32)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProductOut(BaseModel):
    sku: str
    name: str
    category: str
    description: str
    price_cents: int
    price: str
    stock: int
    in_stock: bool


class ProductList(BaseModel):
    total: int
    offset: int
    products: list[ProductOut]


class CategoryOut(BaseModel):
    name: str
    products: int


class CartLine(BaseModel):
    sku: str
    name: str
    quantity: int
    unit_price_cents: int
    line_total_cents: int


class CartOut(BaseModel):
    items: list[CartLine]
    subtotal_cents: int
    shipping_cents: int
    total_cents: int


class CartAdd(Strict):
    sku: Sku
    quantity: int = Field(1, ge=1, le=100)


class CartSet(Strict):
    quantity: int = Field(ge=0, le=100, description="0 removes the line")


class Address(Strict):
    name: str = Field(min_length=1, max_length=100)
    street: str = Field(min_length=1, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    region: str = Field("", max_length=50)
    postcode: str = Field(min_length=1, max_length=20)


class CheckoutIn(Strict):
    ship_to: Address | None = Field(None, description="default: the address on your account")


class OrderLineOut(BaseModel):
    sku: str
    name: str
    quantity: int
    unit_price_cents: int
    refunded_quantity: int


class OrderOut(BaseModel):
    id: str
    customer: str
    customer_email: str
    placed_at: str
    status: Literal["processing", "shipped", "delivered", "cancelled"]
    delivered_at: str | None
    refund_window_ends: str | None = Field(description="refunds are possible until this time (delivered orders)")
    lines: list[OrderLineOut]
    subtotal_cents: int
    shipping_cents: int
    total_cents: int
    refunded_cents: int
    ship_to: str


class OrderList(BaseModel):
    total: int
    offset: int
    orders: list[OrderOut]


class ItemIn(Strict):
    sku: Sku
    quantity: int = Field(1, ge=1, le=100)


class ReturnIn(Strict):
    items: list[ItemIn] = Field(min_length=1, max_length=20)
    reason: str = Field(min_length=1, max_length=2000)


class ReturnOut(BaseModel):
    id: str
    order_id: str
    customer: str
    sku: str
    quantity: int
    reason: str
    status: Literal["requested", "refunded", "rejected"]
    created_at: str


class RefundIn(Strict):
    items: list[ItemIn] = Field(min_length=1, max_length=20)
    reason: str = Field(min_length=1, max_length=2000)
    restock: bool = Field(False, description="put the items back in stock (not for damaged goods)")
    include_shipping: bool = Field(False, description="also refund the order's shipping charge")


class RefundOut(BaseModel):
    id: str
    order_id: str
    sku: str | None
    quantity: int
    amount_cents: int
    reason: str
    return_id: str | None
    restocked: bool
    created_at: str
    created_by: str


class CustomerOut(BaseModel):
    username: str
    name: str
    email: str
    phone: str
    address: str
    since: str
    staff: bool


class PolicyOut(BaseModel):
    refund_window_days: int
    free_shipping_over_cents: int
    shipping_cents: int
    currency: str


SHIPPING_CENTS = 695
FREE_SHIPPING_OVER = 75_00


@register_backend
class ShopBackend(SqliteBackend):
    name = "shop"
    title = "Shop"
    schema = SCHEMA
    api_description = ("The organisation's web shop. The catalogue is public; cart, checkout and orders need a customer "
                       "token; staff tokens (the support team) see every order and issue refunds within the refund window.")

    def hosts_for(self, facts: WorldFacts) -> list[str]:
        return [f"shop.{facts.shop.domain}", f"www.{facts.shop.domain}"]

    def seed(self, db: sqlite3.Connection) -> None:
        s = self.facts.shop
        db.executemany("INSERT INTO products VALUES (?,?,?,?,?,?,?)",
                       [(p.sku, p.name, p.category, p.description, p.price_cents, p.stock, p.added) for p in s.products])
        db.executemany("INSERT INTO customers VALUES (?,?,?,?,?,?,?,?,?,0)",
                       [(c.username, c.name, c.email, c.phone, c.street, c.city, c.region, c.postcode, c.since)
                        for c in s.customers])
        o = self.facts.org
        db.executemany("INSERT INTO customers VALUES (?,?,?,?,?,?,?,?,?,?)",
                       [(p.username, p.name, p.email, p.phone, o.street, o.city, o.region, o.postcode, p.start_date,
                         int(p.username in s.staff)) for p in self.facts.people])
        for order in s.orders:
            c = next(x for x in s.customers if x.username == order.customer)
            sub = sum(line.quantity * line.unit_price_cents for line in order.lines)
            db.execute("INSERT INTO orders VALUES (?,?,?,?,?,?,?,?,0,?)",
                       (order.id, order.customer, order.placed_at, order.status, order.delivered_at, order.shipping_cents,
                        sub, order.total_cents, f"{c.name}, {c.street}, {c.city} {c.region} {c.postcode}"))
            db.executemany("INSERT INTO order_lines (order_id, sku, name, quantity, unit_price_cents, refunded_quantity) "
                           "VALUES (?,?,?,?,?,0)", [(order.id, x.sku, x.name, x.quantity, x.unit_price_cents)
                                                    for x in order.lines])

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
    def routes(self, app: FastAPI) -> None:
        aliases = {c.email: c.username for c in self.facts.shop.customers}
        aliases.update({p.email: p.username for p in self.facts.people})
        accounts = Accounts.for_service(self.facts, self.name, aliases)
        User = Annotated[str, Depends(BearerAuth(accounts))]
        Anyone = Annotated[str | None, Depends(optional_user(accounts))]
        PageUser = Annotated[str | None, Depends(page_user(accounts, required=False))]
        Limit = Annotated[int, Query(ge=1, le=100)]
        Offset = Annotated[int, Query(ge=0, le=1_000_000)]
        SkuPath = Annotated[str, PathParam(min_length=1, max_length=32)]
        OrderId = Annotated[str, PathParam(min_length=1, max_length=32)]
        Cents = Annotated[int | None, Query(ge=0, le=10**9)]

        @app.get("/api/products", response_model=ProductList, tags=["catalogue"])
        def products(anyone: Anyone, q: Annotated[str | None, Query(max_length=200)] = None,
                     category: Annotated[str | None, Query(max_length=64)] = None, min_price_cents: Cents = None,
                     max_price_cents: Cents = None, in_stock: bool | None = None, limit: Limit = 50,
                     offset: Offset = 0) -> dict:
            """Search the catalogue (public): words match name, description, SKU and category."""
            with self.read() as db:
                return self.catalogue(db, q, category, min_price_cents, max_price_cents, in_stock, limit, offset)

        @app.get("/api/products/{sku}", response_model=ProductOut, tags=["catalogue"])
        def product(sku: SkuPath, anyone: Anyone) -> dict:
            """One product (public)."""
            with self.read() as db:
                return self._product(self._get_product(db, sku))

        @app.get("/api/categories", response_model=list[CategoryOut], tags=["catalogue"])
        def categories(anyone: Anyone) -> list:
            """Product categories with product counts (public)."""
            with self.read() as db:
                return [{"name": r[0], "products": r[1]} for r in
                        db.execute("SELECT category, count(*) FROM products GROUP BY category ORDER BY category")]

        @app.get("/api/policies", response_model=PolicyOut, tags=["catalogue"])
        def policies(anyone: Anyone) -> dict:
            """Refund window and shipping charges (public)."""
            return {"refund_window_days": self.facts.policies.refund_window_days, "free_shipping_over_cents":
                    FREE_SHIPPING_OVER, "shipping_cents": SHIPPING_CENTS, "currency": self.facts.shop.currency}

        @app.get("/api/cart", response_model=CartOut, tags=["cart"])
        def cart(user: User) -> dict:
            """Your cart."""
            with self.read() as db:
                return self._cart(db, user)

        @app.post("/api/cart/items", response_model=CartOut, status_code=201, tags=["cart"])
        def cart_add(body: CartAdd, user: User, request: Request) -> dict:
            """Add a product to your cart (adds to the quantity already there)."""
            with self.write(request) as db:
                p = self._get_product(db, body.sku)
                have = db.execute("SELECT quantity FROM cart_items WHERE username = ? AND sku = ?",
                                  (user, p["sku"])).fetchone()
                qty = (have[0] if have else 0) + body.quantity
                if qty > p["stock"]:
                    raise ApiError(409, f"only {p['stock']} of {p['sku']} in stock (cart would hold {qty})", "out_of_stock")
                if have:
                    db.execute("UPDATE cart_items SET quantity = ? WHERE username = ? AND sku = ?", (qty, user, p["sku"]))
                else:
                    db.execute("INSERT INTO cart_items (username, sku, quantity) VALUES (?, ?, ?)", (user, p["sku"], qty))
                return self._cart(db, user)

        @app.patch("/api/cart/items/{sku}", response_model=CartOut, tags=["cart"])
        def cart_set(sku: SkuPath, body: CartSet, user: User, request: Request) -> dict:
            """Set the quantity of a cart line (0 removes it)."""
            with self.write(request) as db:
                line = db.execute("SELECT * FROM cart_items WHERE username = ? AND sku = ? COLLATE NOCASE",
                                  (user, sku)).fetchone()
                if line is None:
                    raise ApiError(404, f"{sku} is not in your cart")
                if body.quantity == 0:
                    db.execute("DELETE FROM cart_items WHERE id = ?", (line["id"],))
                else:
                    stock = self._get_product(db, line["sku"])["stock"]
                    if body.quantity > stock:
                        raise ApiError(409, f"only {stock} of {line['sku']} in stock", "out_of_stock")
                    db.execute("UPDATE cart_items SET quantity = ? WHERE id = ?", (body.quantity, line["id"]))
                return self._cart(db, user)

        @app.delete("/api/cart/items/{sku}", response_model=CartOut, tags=["cart"])
        def cart_remove(sku: SkuPath, user: User, request: Request) -> dict:
            """Remove a line from your cart."""
            with self.write(request) as db:
                n = db.execute("DELETE FROM cart_items WHERE username = ? AND sku = ? COLLATE NOCASE", (user, sku)).rowcount
                if not n:
                    raise ApiError(404, f"{sku} is not in your cart")
                return self._cart(db, user)

        @app.post("/api/checkout", response_model=OrderOut, status_code=201, tags=["orders"])
        def checkout(body: CheckoutIn, user: User, request: Request) -> dict:
            """Place an order for everything in your cart (card on file); stock is taken line by line."""
            with self.write(request) as db:
                cart = self._cart(db, user)
                if not cart["items"]:
                    raise ApiError(422, "your cart is empty")
                c = db.execute("SELECT * FROM customers WHERE username = ?", (user,)).fetchone()
                a = body.ship_to
                ship_to = (f"{a.name}, {a.street}, {a.city} {a.region} {a.postcode}" if a else
                           f"{c['name']}, {c['street']}, {c['city']} {c['region']} {c['postcode']}")
                oid = self._next_id(db, "orders", "SO-", 20000)
                db.execute("INSERT INTO orders VALUES (?,?,?,'processing',NULL,?,?,?,0,?)",
                           (oid, user, self.now_iso(db), cart["shipping_cents"], cart["subtotal_cents"],
                            cart["total_cents"], ship_to))
                for it in cart["items"]:
                    db.execute("INSERT INTO order_lines (order_id, sku, name, quantity, unit_price_cents, "
                               "refunded_quantity) VALUES (?,?,?,?,?,0)",
                               (oid, it["sku"], it["name"], it["quantity"], it["unit_price_cents"]))
                    left = db.execute("UPDATE products SET stock = stock - ? WHERE sku = ? RETURNING stock",
                                      (it["quantity"], it["sku"])).fetchone()[0]
                    if left < 0:  # the whole order is rolled back, earlier lines included
                        raise ApiError(409, f"only {left + it['quantity']} of {it['sku']} left in stock", "out_of_stock")
                db.execute("DELETE FROM cart_items WHERE username = ?", (user,))
                return self._order(db, self._order_row(db, user, oid))

        @app.get("/api/orders", response_model=OrderList, tags=["orders"])
        def orders(user: User, customer: Annotated[str | None, Query(max_length=200,
                                                                      description="staff: a username or e-mail")] = None,
                   status: Literal["processing", "shipped", "delivered", "cancelled"] | None = None,
                   limit: Limit = 50, offset: Offset = 0) -> dict:
            """Your orders, newest first (staff: every customer's, optionally one customer's)."""
            with self.read() as db:
                return self.orders_for(db, user, customer, status, limit, offset)

        @app.get("/api/orders/{order_id}", response_model=OrderOut, tags=["orders"])
        def order(order_id: OrderId, user: User) -> dict:
            """One order."""
            with self.read() as db:
                return self._order(db, self._order_row(db, user, order_id))

        @app.post("/api/orders/{order_id}/cancel", response_model=OrderOut, tags=["orders"])
        def cancel(order_id: OrderId, user: User, request: Request) -> dict:
            """Cancel an order that has not shipped: stock goes back, the whole amount is refunded."""
            with self.write(request) as db:
                o = self._order_row(db, user, order_id)
                if o["status"] != "processing":
                    raise ApiError(409, f"order {o['id']} is {o['status']}: only processing orders can be cancelled",
                                   "conflict")
                for line in db.execute("SELECT * FROM order_lines WHERE order_id = ?", (o["id"],)).fetchall():
                    db.execute("UPDATE products SET stock = stock + ? WHERE sku = ?", (line["quantity"], line["sku"]))
                db.execute("UPDATE orders SET status = 'cancelled', refunded_cents = total_cents WHERE id = ?", (o["id"],))
                return self._order(db, self._order_row(db, user, o["id"]))

        @app.post("/api/orders/{order_id}/returns", response_model=list[ReturnOut], status_code=201, tags=["returns"])
        def request_return(order_id: OrderId, body: ReturnIn, user: User, request: Request) -> list:
            """Ask to return delivered items (one return per item); staff then refund them."""
            with self.write(request) as db:
                o = self._order_row(db, user, order_id)
                if o["status"] != "delivered":
                    raise ApiError(409, f"order {o['id']} is {o['status']}: only delivered items can be returned", "conflict")
                self._check_window(db, o)
                out = []
                for line, qty in self._lines_for(db, o, body.items):
                    rid = self._next_id(db, "returns", "RMA-", 5000)
                    db.execute("INSERT INTO returns VALUES (?,?,?,?,?,?,'requested',?)",
                               (rid, o["id"], o["customer"], line["sku"], qty, body.reason, self.now_iso(db)))
                    out.append(dict(db.execute("SELECT * FROM returns WHERE id = ?", (rid,)).fetchone()))
                return out

        @app.get("/api/returns", response_model=list[ReturnOut], tags=["returns"])
        def returns(user: User, status: Literal["requested", "refunded", "rejected"] | None = None) -> list:
            """Return requests: yours (staff: everyone's)."""
            with self.read() as db:
                where, args = ["1"], []
                if not self._is_staff(db, user):
                    where.append("customer = ?")
                    args.append(user)
                if status:
                    where.append("status = ?")
                    args.append(status)
                return [dict(r) for r in db.execute(f"SELECT * FROM returns WHERE {' AND '.join(where)} ORDER BY id", args)]

        @app.post("/api/orders/{order_id}/refunds", response_model=list[RefundOut], status_code=201, tags=["refunds"])
        def refund(order_id: OrderId, body: RefundIn, user: User, request: Request) -> list:
            """Staff only: refund items of a delivered order within the refund window (one refund per item)."""
            with self.write(request) as db:
                o = self._order_row(db, user, order_id)
                if not self._is_staff(db, user):
                    raise ApiError(403, "only shop staff can issue refunds; request a return instead")
                if o["status"] != "delivered":
                    raise ApiError(409, f"order {o['id']} is {o['status']}: refunds are for delivered orders "
                                        "(cancel an order that has not shipped)", "conflict")
                self._check_window(db, o)
                out = []
                total = 0
                for line, qty in self._lines_for(db, o, body.items):
                    amount = qty * line["unit_price_cents"]
                    rid = self._next_id(db, "refunds", "RF-", 7000)
                    ret = db.execute("SELECT id FROM returns WHERE order_id = ? AND sku = ? AND status = 'requested' "
                                     "ORDER BY id LIMIT 1", (o["id"], line["sku"])).fetchone()
                    db.execute("INSERT INTO refunds VALUES (?,?,?,?,?,?,?,?,?,?)",
                               (rid, o["id"], line["sku"], qty, amount, body.reason, ret[0] if ret else None,
                                int(body.restock), self.now_iso(db), user))
                    db.execute("UPDATE order_lines SET refunded_quantity = refunded_quantity + ? WHERE id = ?",
                               (qty, line["id"]))
                    if ret:
                        db.execute("UPDATE returns SET status = 'refunded' WHERE id = ?", (ret[0],))
                    if body.restock:
                        db.execute("UPDATE products SET stock = stock + ? WHERE sku = ?", (qty, line["sku"]))
                    total += amount
                    out.append(rid)
                if body.include_shipping and o["shipping_cents"]:
                    if db.execute("SELECT 1 FROM refunds WHERE order_id = ? AND sku IS NULL", (o["id"],)).fetchone():
                        raise ApiError(422, f"shipping of order {o['id']} was already refunded")
                    rid = self._next_id(db, "refunds", "RF-", 7000)
                    db.execute("INSERT INTO refunds VALUES (?,?,NULL,0,?,?,NULL,0,?,?)",
                               (rid, o["id"], o["shipping_cents"], body.reason, self.now_iso(db), user))
                    total += o["shipping_cents"]
                    out.append(rid)
                if o["refunded_cents"] + total > o["total_cents"]:
                    raise ApiError(422, f"refunds would exceed the order total of {money(o['total_cents'])}")
                db.execute("UPDATE orders SET refunded_cents = refunded_cents + ? WHERE id = ?", (total, o["id"]))
                return [self._refund(db, r) for r in out]

        @app.get("/api/orders/{order_id}/refunds", response_model=list[RefundOut], tags=["refunds"])
        def refunds(order_id: OrderId, user: User) -> list:
            """Refunds of one order."""
            with self.read() as db:
                o = self._order_row(db, user, order_id)
                return [self._refund(db, r[0]) for r in
                        db.execute("SELECT id FROM refunds WHERE order_id = ? ORDER BY id", (o["id"],))]

        @app.get("/api/customers", response_model=list[CustomerOut], tags=["customers"])
        def customers(user: User, q: Annotated[str | None, Query(max_length=200, description="name or e-mail")] = None
                      ) -> list:
            """Staff only: look customers up by name or e-mail."""
            with self.read() as db:
                if not self._is_staff(db, user):
                    raise ApiError(403, "only shop staff can look up customers")
                rows = db.execute("SELECT * FROM customers ORDER BY username").fetchall()
            return [{"username": r["username"], "name": r["name"], "email": r["email"], "phone": r["phone"],
                     "address": f"{r['street']}, {r['city']} {r['region']} {r['postcode']}", "since": r["since"],
                     "staff": bool(r["staff"])} for r in rows
                    if not q or q.lower() in (r["name"] + " " + r["email"] + " " + r["username"]).lower()]

        # ---------------------------------------------------------- HTML
        @app.get("/", response_class=HTMLResponse, include_in_schema=False)
        def home(request: Request, user: PageUser, q: Annotated[str | None, Query(max_length=200)] = None,
                 category: Annotated[str | None, Query(max_length=64)] = None,
                 page: Annotated[int, Query(ge=1, le=10_000)] = 1) -> HTMLResponse:
            link = Linker(request)
            with self.read() as db:
                res = self.catalogue(db, q, category, None, None, None, 24, (page - 1) * 24)
                cats = [r[0] for r in db.execute("SELECT DISTINCT category FROM products ORDER BY 1")]
            form = ('<form action="/" method="get"><input name="q" value="' + esc(q or "") + '"> <button>Search</button>'
                    + (f'<input type="hidden" name="token" value="{esc(link.token)}">' if link.token else "") + "</form>")
            rows = [[esc(p["sku"]), link.a(f"/product/{p['sku']}", p["name"]), esc(p["category"]), esc(p["price"]),
                     "in stock" if p["in_stock"] else "sold out"] for p in res["products"]]
            body = (form + "<p>Categories: " + " | ".join(link.a("/", c, category=c) for c in cats) + "</p>"
                    + f"<p>{res['total']} product(s)</p>" + table(["SKU", "Product", "Category", "Price", ""], rows)
                    + f"<p>Returns accepted within {self.facts.policies.refund_window_days} days of delivery.</p>")
            return html_response(self.facts.shop.brand, body, request, self._nav(user), user)

        @app.get("/product/{sku}", response_class=HTMLResponse, include_in_schema=False)
        def product_page(sku: SkuPath, request: Request, user: PageUser) -> HTMLResponse:
            with self.read() as db:
                p = self._product(self._get_product(db, sku))
            body = (f"<p><b>{esc(p['price'])}</b> &middot; {esc(p['category'])} &middot; SKU {esc(p['sku'])} &middot; "
                    f"{'in stock (' + str(p['stock']) + ')' if p['in_stock'] else 'sold out'}</p><p>{esc(p['description'])}</p>")
            return html_response(p["name"], body, request, self._nav(user), user)

        @app.get("/orders", response_class=HTMLResponse, include_in_schema=False)
        def orders_page(request: Request, user: PageUser, customer: Annotated[str | None, Query(max_length=200)] = None
                        ) -> HTMLResponse:
            link = Linker(request)
            if user is None:
                raise PageError(401, "Log in to see orders: HTTP basic auth or ?token=.")
            with self.read() as db:
                res = self.orders_for(db, user, customer, None, 100, 0)
            rows = [[link.a(f"/order/{o['id']}", o["id"]), esc(o["customer_email"]), esc(o["placed_at"][:10]),
                     esc(o["status"]), esc(money(o["total_cents"]))] for o in res["orders"]]
            return html_response("Orders", table(["Order", "Customer", "Placed", "Status", "Total"], rows), request,
                                 self._nav(user), user)

        @app.get("/order/{order_id}", response_class=HTMLResponse, include_in_schema=False)
        def order_page(order_id: OrderId, request: Request, user: PageUser) -> HTMLResponse:
            if user is None:
                raise PageError(401, "Log in to see orders: HTTP basic auth or ?token=.")
            with self.read() as db:
                o = self._order(db, self._order_row(db, user, order_id))
            rows = [[esc(x["sku"]), esc(x["name"]), str(x["quantity"]), esc(money(x["unit_price_cents"])),
                     str(x["refunded_quantity"])] for x in o["lines"]]
            body = (f"<p>Customer {esc(o['customer_email'])}, placed {esc(o['placed_at'])}, status <b>{esc(o['status'])}</b>"
                    f"{', delivered ' + esc(o['delivered_at']) if o['delivered_at'] else ''}.</p>"
                    + table(["SKU", "Item", "Qty", "Unit price", "Refunded"], rows)
                    + f"<p>Total {esc(money(o['total_cents']))}, refunded {esc(money(o['refunded_cents']))}. "
                    f"Refund window ends: {esc(o['refund_window_ends'] or 'n/a')}.</p>")
            return html_response(f"Order {o['id']}", body, request, self._nav(user), user)

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
