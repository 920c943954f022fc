"""The shop backend's HTTP routes, one APIRouter per area.

The shop backend's HTTP routes, one APIRouter per area: ``catalogue_api`` (products, categories, policies; public),
``cart_api``, ``orders_api`` (checkout, orders, cancel), ``returns_api``, ``refunds_api`` and ``customers_api`` (staff
only), and ``pages`` (the catalogue, a product, orders, an order). Handlers get the backend serving the request as
``b`` and the caller as ``user`` (``None`` where anyone may look)."""
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse

from airgap.envs.backends.shop import (
    FREE_SHIPPING_OVER,
    SHIPPING_CENTS,
    ShopBackend,
)
from airgap.envs.backends.shop.model import (
    CartAdd,
    CartOut,
    CartSet,
    CategoryOut,
    CheckoutIn,
    CustomerOut,
    OrderList,
    OrderOut,
    PolicyOut,
    ProductList,
    ProductOut,
    RefundIn,
    RefundOut,
    ReturnIn,
    ReturnOut,
)
from airgap.envs.backends.web import ApiError, BearerAuth, PageError, current_backend, html_page, optional_user, page_visitor
from airgap.envs.common import money

Shop = Annotated[ShopBackend, Depends(current_backend)]
catalogue_api = APIRouter(prefix="/api")
cart_api = APIRouter(prefix="/api")
orders_api = APIRouter(prefix="/api")
returns_api = APIRouter(prefix="/api")
refunds_api = APIRouter(prefix="/api")
customers_api = APIRouter(prefix="/api")
pages = APIRouter(include_in_schema=False)

User = Annotated[str, Depends(BearerAuth())]
Anyone = Annotated[str | None, Depends(optional_user)]
PageUser = Annotated[str | None, Depends(page_visitor)]
Limit = Annotated[int, Query(ge=1, le=100)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
SkuPath = Annotated[str, PathParam(min_length=1, max_length=32)]
OrderId = Annotated[str, PathParam(min_length=1, max_length=32)]
Cents = Annotated[int | None, Query(ge=0, le=10**9)]
#: The refund window is the organisation's policy (it differs by world): where a client reads it, on the operations
#: it limits (a delivered order older than the window: 422 outside_refund_window).
REFUND_WINDOW = {"x-airgap-limit-from": "GET /api/policies refund_window_days"}


@catalogue_api.get("/products", response_model=ProductList, tags=["catalogue"])
def products(b: Shop, anyone: Anyone, q: Annotated[str | None, Query(max_length=200)] = None,
             category: Annotated[str | None, Query(max_length=64)] = None, min_price_cents: Cents = None,
             max_price_cents: Cents = None, in_stock: bool | None = None, limit: Limit = 50,
             offset: Offset = 0) -> dict:
    """Search the catalogue (public): words match name, description, SKU and category."""
    with b.read() as db:
        return b.catalogue(db, q, category, min_price_cents, max_price_cents, in_stock, limit, offset)


@catalogue_api.get("/products/{sku}", response_model=ProductOut, tags=["catalogue"])
def product(b: Shop, sku: SkuPath, anyone: Anyone) -> dict:
    """One product (public)."""
    with b.read() as db:
        return b._product(b._get_product(db, sku))


@catalogue_api.get("/categories", response_model=list[CategoryOut], tags=["catalogue"])
def categories(b: Shop, anyone: Anyone) -> list:
    """Product categories with product counts (public)."""
    with b.read() as db:
        return [{"name": r[0], "products": r[1]} for r in
                db.execute("SELECT category, count(*) FROM products GROUP BY category ORDER BY category")]


@catalogue_api.get("/policies", response_model=PolicyOut, tags=["catalogue"])
def policies(b: Shop, anyone: Anyone) -> dict:
    """Refund window and shipping charges (public)."""
    return {"refund_window_days": b.facts.policies.refund_window_days, "free_shipping_over_cents":
            FREE_SHIPPING_OVER, "shipping_cents": SHIPPING_CENTS, "currency": b.facts.shop.currency}


@cart_api.get("/cart", response_model=CartOut, tags=["cart"])
def cart(b: Shop, user: User) -> dict:
    """Your cart."""
    with b.read() as db:
        return b._cart(db, user)


@cart_api.post("/cart/items", response_model=CartOut, status_code=201, tags=["cart"])
def cart_add(b: Shop, body: CartAdd, user: User, request: Request) -> dict:
    """Add a product to your cart (adds to the quantity already there)."""
    with b.write(request) as db:
        p = b._get_product(db, body.sku)
        have = db.execute("SELECT quantity FROM cart_items WHERE username = ? AND sku = ?",
                          (user, p["sku"])).fetchone()
        qty = (have[0] if have else 0) + body.quantity
        if qty > p["stock"]:
            raise ApiError(409, f"only {p['stock']} of {p['sku']} in stock (cart would hold {qty})", "out_of_stock")
        if have:
            db.execute("UPDATE cart_items SET quantity = ? WHERE username = ? AND sku = ?", (qty, user, p["sku"]))
        else:
            db.execute("INSERT INTO cart_items (username, sku, quantity) VALUES (?, ?, ?)", (user, p["sku"], qty))
        return b._cart(db, user)


@cart_api.patch("/cart/items/{sku}", response_model=CartOut, tags=["cart"])
def cart_set(b: Shop, sku: SkuPath, body: CartSet, user: User, request: Request) -> dict:
    """Set the quantity of a cart line (0 removes it)."""
    with b.write(request) as db:
        line = db.execute("SELECT * FROM cart_items WHERE username = ? AND sku = ? COLLATE NOCASE",
                          (user, sku)).fetchone()
        if line is None:
            raise ApiError(404, f"{sku} is not in your cart")
        if body.quantity == 0:
            db.execute("DELETE FROM cart_items WHERE id = ?", (line["id"],))
        else:
            stock = b._get_product(db, line["sku"])["stock"]
            if body.quantity > stock:
                raise ApiError(409, f"only {stock} of {line['sku']} in stock", "out_of_stock")
            db.execute("UPDATE cart_items SET quantity = ? WHERE id = ?", (body.quantity, line["id"]))
        return b._cart(db, user)


@cart_api.delete("/cart/items/{sku}", response_model=CartOut, tags=["cart"])
def cart_remove(b: Shop, sku: SkuPath, user: User, request: Request) -> dict:
    """Remove a line from your cart."""
    with b.write(request) as db:
        n = db.execute("DELETE FROM cart_items WHERE username = ? AND sku = ? COLLATE NOCASE", (user, sku)).rowcount
        if not n:
            raise ApiError(404, f"{sku} is not in your cart")
        return b._cart(db, user)


@orders_api.post("/checkout", response_model=OrderOut, status_code=201, tags=["orders"])
def checkout(b: Shop, body: CheckoutIn, user: User, request: Request) -> dict:
    """Place an order for everything in your cart (card on file); stock is taken line by line."""
    with b.write(request) as db:
        cart = b._cart(db, user)
        if not cart["items"]:
            raise ApiError(422, "your cart is empty")
        c = db.execute("SELECT * FROM customers WHERE username = ?", (user,)).fetchone()
        a = body.ship_to
        ship_to = (f"{a.name}, {a.street}, {a.city} {a.region} {a.postcode}" if a else
                   f"{c['name']}, {c['street']}, {c['city']} {c['region']} {c['postcode']}")
        oid = b._next_id(db, "orders", "SO-", 20000)
        db.execute("INSERT INTO orders VALUES (?,?,?,'processing',NULL,?,?,?,0,?)",
                   (oid, user, b.now_iso(db), cart["shipping_cents"], cart["subtotal_cents"],
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
        return b._order(db, b._order_row(db, user, oid))


@orders_api.get("/orders", response_model=OrderList, tags=["orders"])
def orders(b: Shop, user: User, customer: Annotated[str | None, Query(max_length=200,
                                                              description="staff: a username or e-mail")] = None,
           status: Literal["processing", "shipped", "delivered", "cancelled"] | None = None,
           limit: Limit = 50, offset: Offset = 0) -> dict:
    """Your orders, newest first (staff: every customer's, optionally one customer's)."""
    with b.read() as db:
        return b.orders_for(db, user, customer, status, limit, offset)


@orders_api.get("/orders/{order_id}", response_model=OrderOut, tags=["orders"])
def order(b: Shop, order_id: OrderId, user: User) -> dict:
    """One order."""
    with b.read() as db:
        return b._order(db, b._order_row(db, user, order_id))


@orders_api.post("/orders/{order_id}/cancel", response_model=OrderOut, tags=["orders"])
def cancel(b: Shop, order_id: OrderId, user: User, request: Request) -> dict:
    """Cancel an order that has not shipped: stock goes back, the whole amount is refunded."""
    with b.write(request) as db:
        o = b._order_row(db, user, order_id)
        if o["status"] != "processing":
            raise ApiError(409, f"order {o['id']} is {o['status']}: only processing orders can be cancelled",
                           "conflict")
        for line in db.execute("SELECT * FROM order_lines WHERE order_id = ?", (o["id"],)).fetchall():
            db.execute("UPDATE products SET stock = stock + ? WHERE sku = ?", (line["quantity"], line["sku"]))
        db.execute("UPDATE orders SET status = 'cancelled', refunded_cents = total_cents WHERE id = ?", (o["id"],))
        return b._order(db, b._order_row(db, user, o["id"]))


@returns_api.post("/orders/{order_id}/returns", response_model=list[ReturnOut], status_code=201, tags=["returns"],
                  openapi_extra=REFUND_WINDOW)
def request_return(b: Shop, order_id: OrderId, body: ReturnIn, user: User, request: Request) -> list:
    """Ask to return delivered items (one return per item) within the refund window (GET /api/policies:
    refund_window_days after delivery; later is 422 outside_refund_window); staff then refund them."""
    with b.write(request) as db:
        o = b._order_row(db, user, order_id)
        if o["status"] != "delivered":
            raise ApiError(409, f"order {o['id']} is {o['status']}: only delivered items can be returned", "conflict")
        b._check_window(db, o)
        out = []
        for line, qty in b._lines_for(db, o, body.items):
            rid = b._next_id(db, "returns", "RMA-", 5000)
            db.execute("INSERT INTO returns VALUES (?,?,?,?,?,?,'requested',?)",
                       (rid, o["id"], o["customer"], line["sku"], qty, body.reason, b.now_iso(db)))
            out.append(dict(db.execute("SELECT * FROM returns WHERE id = ?", (rid,)).fetchone()))
        return out


@returns_api.get("/returns", response_model=list[ReturnOut], tags=["returns"])
def returns(b: Shop, user: User, status: Literal["requested", "refunded", "rejected"] | None = None) -> list:
    """Return requests: yours (staff: everyone's)."""
    with b.read() as db:
        where, args = ["1"], []
        if not b._is_staff(db, user):
            where.append("customer = ?")
            args.append(user)
        if status:
            where.append("status = ?")
            args.append(status)
        return [dict(r) for r in db.execute(f"SELECT * FROM returns WHERE {' AND '.join(where)} ORDER BY id", args)]


@refunds_api.post("/orders/{order_id}/refunds", response_model=list[RefundOut], status_code=201, tags=["refunds"],
                  openapi_extra=REFUND_WINDOW)
def refund(b: Shop, order_id: OrderId, body: RefundIn, user: User, request: Request) -> list:
    """Staff only: refund items of a delivered order within the refund window (GET /api/policies: refund_window_days
    after delivery; later is 422 outside_refund_window), one refund per item; an item's quantity at most what is not
    refunded yet, shipping once, and never more than the order's total in all (422 otherwise)."""
    with b.write(request) as db:
        o = b._order_row(db, user, order_id)
        if not b._is_staff(db, user):
            raise ApiError(403, "only shop staff can issue refunds; request a return instead")
        if o["status"] != "delivered":
            raise ApiError(409, f"order {o['id']} is {o['status']}: refunds are for delivered orders "
                                "(cancel an order that has not shipped)", "conflict")
        b._check_window(db, o)
        out = []
        total = 0
        for line, qty in b._lines_for(db, o, body.items):
            amount = qty * line["unit_price_cents"]
            rid = b._next_id(db, "refunds", "RF-", 7000)
            ret = db.execute("SELECT id FROM returns WHERE order_id = ? AND sku = ? AND status = 'requested' "
                             "ORDER BY id LIMIT 1", (o["id"], line["sku"])).fetchone()
            db.execute("INSERT INTO refunds VALUES (?,?,?,?,?,?,?,?,?,?)",
                       (rid, o["id"], line["sku"], qty, amount, body.reason, ret[0] if ret else None,
                        int(body.restock), b.now_iso(db), user))
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
            rid = b._next_id(db, "refunds", "RF-", 7000)
            db.execute("INSERT INTO refunds VALUES (?,?,NULL,0,?,?,NULL,0,?,?)",
                       (rid, o["id"], o["shipping_cents"], body.reason, b.now_iso(db), user))
            total += o["shipping_cents"]
            out.append(rid)
        if o["refunded_cents"] + total > o["total_cents"]:
            raise ApiError(422, f"refunds would exceed the order total of {money(o['total_cents'])}")
        db.execute("UPDATE orders SET refunded_cents = refunded_cents + ? WHERE id = ?", (total, o["id"]))
        return [b._refund(db, r) for r in out]


@refunds_api.get("/orders/{order_id}/refunds", response_model=list[RefundOut], tags=["refunds"])
def refunds(b: Shop, order_id: OrderId, user: User) -> list:
    """Refunds of one order."""
    with b.read() as db:
        o = b._order_row(db, user, order_id)
        return [b._refund(db, r[0]) for r in
                db.execute("SELECT id FROM refunds WHERE order_id = ? ORDER BY id", (o["id"],))]


@customers_api.get("/customers", response_model=list[CustomerOut], tags=["customers"])
def customers(b: Shop, user: User, q: Annotated[str | None, Query(max_length=200, description="name or e-mail")] = None
              ) -> list:
    """Staff only: look customers up by name or e-mail."""
    with b.read() as db:
        if not b._is_staff(db, user):
            raise ApiError(403, "only shop staff can look up customers")
        rows = db.execute("SELECT * FROM customers ORDER BY username").fetchall()
    employees = {p.username for p in b.facts.people}  # staff accounts beside the customers': say which is which
    return [{"username": r["username"], "name": r["name"], "email": r["email"], "phone": r["phone"],
             "address": f"{r['street']}, {r['city']} {r['region']} {r['postcode']}", "since": r["since"],
             "staff": bool(r["staff"]), "employee": r["username"] in employees} for r in rows
            if not q or q.lower() in (r["name"] + " " + r["email"] + " " + r["username"]).lower()]

# ---------------------------------------------------------- HTML
@pages.get("/", response_class=HTMLResponse)
def home(b: Shop, request: Request, user: PageUser, q: Annotated[str | None, Query(max_length=200)] = None,
         category: Annotated[str | None, Query(max_length=64)] = None,
         page: Annotated[int, Query(ge=1, le=10_000)] = 1) -> HTMLResponse:
    """The catalogue (24 products a page), searchable and by category; anyone may look."""
    with b.read() as db:
        res = b.catalogue(db, q, category, None, None, None, 24, (page - 1) * 24)
        cats = [r[0] for r in db.execute("SELECT DISTINCT category FROM products ORDER BY 1")]
    return html_page(request, "shop/catalogue.html.j2", b.facts.shop.brand, b._nav(user), user, q=q, result=res,
                     categories=cats, refund_window_days=b.facts.policies.refund_window_days)


@pages.get("/product/{sku}", response_class=HTMLResponse)
def product_page(b: Shop, sku: SkuPath, request: Request, user: PageUser) -> HTMLResponse:
    """One product: price, category, stock, description."""
    with b.read() as db:
        p = b._product(b._get_product(db, sku))
    return html_page(request, "shop/product.html.j2", p["name"], b._nav(user), user, p=p)


@pages.get("/orders", response_class=HTMLResponse)
def orders_page(b: Shop, request: Request, user: PageUser, customer: Annotated[str | None, Query(max_length=200)] = None
                ) -> HTMLResponse:
    """Your orders (a customer) or everyone's, optionally one customer's (the support team)."""
    if user is None:
        raise PageError(401, "Log in to see orders: HTTP basic auth or ?token=.")
    with b.read() as db:
        res = b.orders_for(db, user, customer, None, 100, 0)
    return html_page(request, "shop/orders.html.j2", "Orders", b._nav(user), user, orders=res["orders"], money=money)


@pages.get("/order/{order_id}", response_class=HTMLResponse)
def order_page(b: Shop, order_id: OrderId, request: Request, user: PageUser) -> HTMLResponse:
    """One order: its lines, what was refunded, when the refund window ends."""
    if user is None:
        raise PageError(401, "Log in to see orders: HTTP basic auth or ?token=.")
    with b.read() as db:
        o = b._order(db, b._order_row(db, user, order_id))
    return html_page(request, "shop/order.html.j2", f"Order {o['id']}", b._nav(user), user, o=o, money=money)


routers = [catalogue_api, cart_api, orders_api, returns_api, refunds_api, customers_api, pages]
