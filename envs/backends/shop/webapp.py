"""The online store: catalogue, cart, checkout with a review step, orders, returns, and the support team's refunds.

Anyone may browse the catalogue (``/store``, search, categories, paging) and a product's page; signed in, a customer
adds to the cart, changes quantities, checks out after reviewing the order and where it ships, sees and cancels
orders and asks for returns; shop staff see every order, the queue of return requests and, on an order, the refund
screen (items, reason, restock, shipping), which shows the refund for confirmation before it is issued. Server-rendered
forms (``pages/web_*.html.j2``); every write calls the JSON API's handler in ``api.py``, so its rows and
``backend_change`` event are the API's (named as that call, ``via: web``)."""
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from airgap.envs.backends.shop import ShopBackend, api
from airgap.envs.backends.shop.model import Address, CartAdd, CartSet, CheckoutIn, RefundIn, ReturnIn
from airgap.envs.backends.web import PageError, current_backend
from airgap.envs.backends.webapp import WebApp, api_origin, build, call_api, read_form, redirect, text
from airgap.envs.common import money

PAGE_SIZE = 24

APP = WebApp(
    brand=lambda b: b.facts.shop.brand,
    home="/store",
    nav=[("/store", "Shop"), ("/store/cart", "Cart"), ("/store/orders", "Orders"), ("/store/returns", "Returns")],
    accent="#6b3fa0",
    public=True,
    notices={"added": "Added to your cart.", "cart": "Your cart was updated.", "placed": "Thank you: your order is placed.",
             "cancelled": "The order was cancelled and refunded.", "return": "Your return request was sent.",
             "refunded": "The refund was issued."},
)
Shop = Annotated[ShopBackend, Depends(current_backend)]
WebUser = Annotated[str, Depends(APP.user)]
Visitor = Annotated[str | None, Depends(APP.visitor)]
web = APIRouter(include_in_schema=False)
LABELS = {"quantity": "Quantity", "sku": "Product", "name": "Name", "street": "Street", "city": "City",
          "region": "Region", "postcode": "Postcode", "reason": "Reason", "items": "Items"}


def _int(value: str) -> int | None:
    value = value.strip()
    return int(value) if value.isdigit() and len(value) < 10 else None


@web.get("/store", response_class=HTMLResponse)
def catalogue(b: Shop, request: Request, user: Visitor, q: Annotated[str | None, Query(max_length=200)] = None,
              category: Annotated[str | None, Query(max_length=64)] = None,
              page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> HTMLResponse:
    """The catalogue: search, a category, 24 products a page."""
    with b.read() as db:
        res = b.catalogue(db, q or None, category or None, None, None, None, PAGE_SIZE, (page - 1) * PAGE_SIZE)
        cats = [r[0] for r in db.execute("SELECT DISTINCT category FROM products ORDER BY category")]
    pages = max(1, -(-res["total"] // PAGE_SIZE))
    title = f"Results for “{q}”" if q else (category or "All products")
    return APP.page(request, "shop/web_catalogue.html.j2", title, user, res=res, q=q or "", category=category or "",
                    categories=cats, page=page, pages=pages)


def _product_page(request: Request, b: ShopBackend, user: str | None, sku: str, errors: list[str] | None = None,
                  quantity: str = "1", status: int = 200) -> HTMLResponse:
    with b.read() as db:
        p = b._product(b._get_product(db, sku))
    return APP.page(request, "shop/web_product.html.j2", p["name"], user, status=status, errors=errors, p=p,
                    quantity=quantity, current="/store")


@web.get("/store/product/{sku}", response_class=HTMLResponse)
def product(b: Shop, sku: api.SkuPath, request: Request, user: Visitor) -> HTMLResponse:
    """One product, with a quantity and Add to cart."""
    return _product_page(request, b, user, sku)


@web.post("/store/cart/add", response_class=HTMLResponse)
async def cart_add(b: Shop, request: Request, user: WebUser) -> Response:
    """Add a product to the cart (the API's POST /api/cart/items)."""
    form = await read_form(request)
    sku, qty = text(form, "sku"), text(form, "quantity", "1")
    body, errors = build(CartAdd, {"sku": sku, "quantity": _int(qty) if _int(qty) is not None else qty}, LABELS)
    if body is not None:
        api_origin(request, "POST", "/api/cart/items", 201)
        _, refused = await call_api(request, api.cart_add, b, body, user, request)
        if not refused:
            return redirect("/store/cart", notice="added")
        errors = {"form": refused}
    return _product_page(request, b, user, sku, list(errors.values()), qty, 422)


def _cart_page(request: Request, b: ShopBackend, user: str, errors: list[str] | None = None,
               status: int = 200) -> HTMLResponse:
    with b.read() as db:
        cart = b._cart(db, user)
    return APP.page(request, "shop/web_cart.html.j2", "Your cart", user, status=status, errors=errors, cart=cart,
                    money=money)


@web.get("/store/cart", response_class=HTMLResponse)
def cart(b: Shop, request: Request, user: WebUser) -> HTMLResponse:
    """The cart: quantities to change, lines to remove, the way to checkout."""
    return _cart_page(request, b, user)


@web.post("/store/cart/{sku}", response_class=HTMLResponse)
async def cart_set(b: Shop, sku: api.SkuPath, request: Request, user: WebUser) -> Response:
    """Change a line's quantity (0 or the Remove button: the API's DELETE)."""
    form = await read_form(request)
    if text(form, "remove"):
        api_origin(request, "DELETE", f"/api/cart/items/{sku}", 200)
        _, refused = await call_api(request, api.cart_remove, b, sku, user, request)
    else:
        qty = text(form, "quantity")
        body, errors = build(CartSet, {"quantity": _int(qty) if _int(qty) is not None else qty}, LABELS)
        if body is None:
            return _cart_page(request, b, user, list(errors.values()), 422)
        api_origin(request, "PATCH", f"/api/cart/items/{sku}", 200)
        _, refused = await call_api(request, api.cart_set, b, sku, body, user, request)
    if refused:
        return _cart_page(request, b, user, [refused], 422)
    return redirect("/store/cart", notice="cart")


def _customer(b: ShopBackend, user: str) -> dict[str, Any]:
    with b.read() as db:
        c = db.execute("SELECT * FROM customers WHERE username = ?", (user,)).fetchone()
    return dict(c) if c else {}


def _checkout_page(request: Request, b: ShopBackend, user: str, v: dict[str, Any], errors: Any = None,
                   status: int = 200) -> HTMLResponse:
    with b.read() as db:
        cart = b._cart(db, user)
    return APP.page(request, "shop/web_checkout.html.j2", "Review your order", user, status=status, errors=errors,
                    cart=cart, c=_customer(b, user), v=v, money=money, current="/store/cart")


@web.get("/store/checkout", response_class=HTMLResponse)
def checkout_review(b: Shop, request: Request, user: WebUser) -> Response:
    """The review step: items, totals, where it ships (your address, or another), then Place order."""
    with b.read() as db:
        if not b._cart(db, user)["items"]:
            return redirect("/store/cart")
    return _checkout_page(request, b, user, {"ship": "account"})


@web.post("/store/checkout", response_class=HTMLResponse)
async def place_order(b: Shop, request: Request, user: WebUser) -> Response:
    """Place the order (the API's POST /api/checkout), shipped to the account's address or the one typed."""
    form = await read_form(request)
    v = {k: text(form, k).strip() for k in ("ship", "name", "street", "city", "region", "postcode")}
    ship_to = None
    if v["ship"] == "other":
        addr, errors = build(Address, {k: v[k] for k in ("name", "street", "city", "region", "postcode")}, LABELS)
        if addr is None:
            return _checkout_page(request, b, user, v, errors, 422)
        ship_to = addr
    body = CheckoutIn(ship_to=ship_to)
    api_origin(request, "POST", "/api/checkout", 201)
    o, refused = await call_api(request, api.checkout, b, body, user, request)
    if refused:
        return _checkout_page(request, b, user, v, [refused], 422)
    return redirect(f"/store/orders/{o['id']}", notice="placed")


@web.get("/store/orders", response_class=HTMLResponse)
def orders(b: Shop, request: Request, user: WebUser, customer: Annotated[str | None, Query(max_length=200)] = None,
           page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> HTMLResponse:
    """Your orders (staff: every customer's, or one customer's by user name or e-mail), newest first."""
    with b.read() as db:
        staff = b._is_staff(db, user)
        res = b.orders_for(db, user, customer or None, None, 25, (page - 1) * 25)
    pages = max(1, -(-res["total"] // 25))
    return APP.page(request, "shop/web_orders.html.j2", "All orders" if staff else "Your orders", user, res=res,
                    staff=staff, customer=customer or "", page=page, pages=pages, money=money)


def _order_page(request: Request, b: ShopBackend, user: str, oid: str, errors: Any = None, status: int = 200,
                v: dict[str, Any] | None = None) -> HTMLResponse:
    with b.read() as db:
        o = b._order(db, b._order_row(db, user, oid))
        staff = b._is_staff(db, user)
        refunds = [b._refund(db, r[0]) for r in db.execute("SELECT id FROM refunds WHERE order_id = ? ORDER BY id",
                                                           (o["id"],))]
        rets = [dict(r) for r in db.execute("SELECT * FROM returns WHERE order_id = ? ORDER BY id", (o["id"],))]
    return APP.page(request, "shop/web_order.html.j2", f"Order {o['id']}", user, status=status, errors=errors, o=o,
                    staff=staff, refunds=refunds, returns=rets, v=v or {}, money=money, current="/store/orders")


@web.get("/store/orders/{order_id}", response_class=HTMLResponse)
def order(b: Shop, order_id: api.OrderId, request: Request, user: WebUser) -> HTMLResponse:
    """One order: its lines, status, refunds and returns; cancel it (processing) or ask for a return (delivered)."""
    return _order_page(request, b, user, order_id)


@web.post("/store/orders/{order_id}/cancel", response_class=HTMLResponse)
async def cancel(b: Shop, order_id: api.OrderId, request: Request, user: WebUser) -> Response:
    """Cancel an order that has not shipped (the API's POST /api/orders/{id}/cancel)."""
    await read_form(request)
    api_origin(request, "POST", f"/api/orders/{order_id}/cancel", 200)
    _, refused = await call_api(request, api.cancel, b, order_id, user, request)
    if refused:
        return _order_page(request, b, user, order_id, [refused], 409)
    return redirect(f"/store/orders/{order_id}", notice="cancelled")


def _items(form: Any, o: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The items a form names: ``qty_<sku>`` fields (blank or 0: not that item)."""
    items, errors = [], {}
    for line in o["lines"]:
        raw = text(form, f"qty_{line['sku']}").strip()
        if raw in ("", "0"):
            continue
        n = _int(raw)
        if n is None:
            errors[f"qty_{line['sku']}"] = f"{line['name']}: {raw!r} is not a quantity"
        else:
            items.append({"sku": line["sku"], "quantity": n})
    if not items and not errors:
        errors["items"] = "Items: choose at least one item and its quantity"
    return items, errors


@web.post("/store/orders/{order_id}/return", response_class=HTMLResponse)
async def request_return(b: Shop, order_id: api.OrderId, request: Request, user: WebUser) -> Response:
    """Ask to return delivered items (the API's POST /api/orders/{id}/returns)."""
    form = await read_form(request)
    with b.read() as db:
        o = b._order(db, b._order_row(db, user, order_id))
    v = {k: text(form, k) for k in form if isinstance(form.get(k), str)}
    items, errors = _items(form, o)
    body, model_errs = build(ReturnIn, {"items": items or [{"sku": "x"}], "reason": text(form, "reason").strip()},
                             LABELS)
    errors = {**{k: m for k, m in model_errs.items() if k != "items"}, **errors}
    if errors or body is None:
        return _order_page(request, b, user, order_id, errors, 422, v)
    api_origin(request, "POST", f"/api/orders/{order_id}/returns", 201)
    _, refused = await call_api(request, api.request_return, b, order_id, body, user, request)
    if refused:
        return _order_page(request, b, user, order_id, [refused], 422, v)
    return redirect(f"/store/orders/{order_id}", notice="return")


# ------------------------------------------------------------------------------------------------ support team
def _staff(b: ShopBackend, user: str) -> None:
    with b.read() as db:
        if not b._is_staff(db, user):
            raise PageError(403, "Only the shop's support team can issue refunds; ask for a return on your order.")


def _refund_page(request: Request, b: ShopBackend, user: str, oid: str, v: dict[str, Any], errors: Any = None,
                 status: int = 200, review: dict[str, Any] | None = None) -> HTMLResponse:
    with b.read() as db:
        o = b._order(db, b._order_row(db, user, oid))
        rets = [dict(r) for r in db.execute("SELECT * FROM returns WHERE order_id = ? AND status = 'requested' "
                                            "ORDER BY id", (o["id"],))]
    return APP.page(request, "shop/web_refund.html.j2", f"Refund order {o['id']}" if not review else
                    f"Confirm the refund of order {o['id']}", user, status=status, errors=errors, o=o, returns=rets,
                    v=v, review=review, money=money, window=b.facts.policies.refund_window_days,
                    current="/store/returns")


@web.get("/store/orders/{order_id}/refund", response_class=HTMLResponse)
def refund_form(b: Shop, order_id: api.OrderId, request: Request, user: WebUser) -> HTMLResponse:
    """Staff: the refund screen of an order (requested returns filled in)."""
    _staff(b, user)
    with b.read() as db:
        o = b._order_row(db, user, order_id)
        v = {f"qty_{r['sku']}": str(r["quantity"]) for r in db.execute(
            "SELECT sku, quantity FROM returns WHERE order_id = ? AND status = 'requested'", (o["id"],))}
        reason = db.execute("SELECT reason FROM returns WHERE order_id = ? AND status = 'requested' ORDER BY id",
                            (o["id"],)).fetchone()
    return _refund_page(request, b, user, order_id, {**v, "reason": reason[0] if reason else "", "restock": "on"})


@web.post("/store/orders/{order_id}/refund", response_class=HTMLResponse)
async def refund(b: Shop, order_id: api.OrderId, request: Request, user: WebUser) -> Response:
    """Staff: first the refund shown for confirmation (amount, items), then with ``confirm=yes`` the API's refund."""
    form = await read_form(request)
    _staff(b, user)
    with b.read() as db:
        o = b._order(db, b._order_row(db, user, order_id))
    v = {k: text(form, k) for k in form if isinstance(form.get(k), str) and k != "csrf_token"}
    items, errors = _items(form, o)
    data = {"items": items or [{"sku": "x"}], "reason": text(form, "reason").strip(),
            "restock": text(form, "restock") == "on", "include_shipping": text(form, "include_shipping") == "on"}
    body, model_errs = build(RefundIn, data, LABELS)
    errors = {**{k: m for k, m in model_errs.items() if k != "items"}, **errors}
    if errors or body is None:
        return _refund_page(request, b, user, order_id, v, errors, 422)
    if text(form, "confirm") != "yes":
        prices = {ln["sku"]: ln for ln in o["lines"]}
        lines = [{**prices[i["sku"]], "refund_quantity": i["quantity"],
                  "amount": i["quantity"] * prices[i["sku"]]["unit_price_cents"]} for i in items]
        total = sum(ln["amount"] for ln in lines) + (o["shipping_cents"] if data["include_shipping"] else 0)
        review = {"lines": lines, "total": total, "restock": data["restock"], "shipping": data["include_shipping"],
                  "reason": data["reason"]}
        return _refund_page(request, b, user, order_id, v, review=review)
    api_origin(request, "POST", f"/api/orders/{order_id}/refunds", 201)
    _, refused = await call_api(request, api.refund, b, order_id, body, user, request)
    if refused:
        return _refund_page(request, b, user, order_id, v, [refused], 422)
    return redirect(f"/store/orders/{order_id}", notice="refunded")


@web.get("/store/returns", response_class=HTMLResponse)
def returns_queue(b: Shop, request: Request, user: WebUser) -> HTMLResponse:
    """Staff: the return requests waiting for a refund (customers: their own requests)."""
    rows = api.returns(b, user, None)
    with b.read() as db:
        staff = b._is_staff(db, user)
    return APP.page(request, "shop/web_returns.html.j2", "Return requests" if staff else "Your returns", user,
                    rows=rows, staff=staff)


routers = [APP.login_router("Your store access token."), web]
