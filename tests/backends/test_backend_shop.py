"""Shop: public catalogue, cart and checkout, orders per customer, returns, refunds within the policy window."""
from __future__ import annotations

from datetime import timedelta

from airgap.envs.common import iso, parse_iso


def test_catalogue_is_public_and_searchable(api, facts):
    anon = api("shop")
    p = facts.shop.products[3]
    res = anon.get("/api/products", params={"q": p.name.split(" - ")[0]}).json()
    assert p.sku in {x["sku"] for x in res["products"]}
    assert anon.get(f"/api/products/{p.sku}").json()["price_cents"] == p.price_cents
    cats = anon.get("/api/categories").json()
    assert sum(c["products"] for c in cats) == len(facts.shop.products)
    assert anon.get("/api/policies").json()["refund_window_days"] == facts.policies.refund_window_days
    assert anon.get("/api/products", params={"max_price_cents": 1000, "min_price_cents": 5000}).json()["total"] == 0
    assert anon.get("/api/cart").status_code == 401
    assert anon.get("/api/products/NOPE-0000").status_code == 404
    html = anon.get("/", params={"q": p.name.split(" - ")[0]})
    assert html.status_code == 200 and p.sku in html.text


def test_cart_checkout_and_order_visibility(api, facts, backends):
    c1, c2 = facts.shop.customers[0], facts.shop.customers[1]
    a = api("shop", c1.username)
    stocked = [p for p in facts.shop.products if p.stock >= 3][:2]
    empty = next(p for p in facts.shop.products if p.stock == 0)
    assert a.post("/api/cart/items", json={"sku": empty.sku}).status_code == 409
    a.post("/api/cart/items", json={"sku": stocked[0].sku, "quantity": 2})
    cart = a.post("/api/cart/items", json={"sku": stocked[1].sku}).json()
    assert cart["subtotal_cents"] == 2 * stocked[0].price_cents + stocked[1].price_cents
    assert a.patch(f"/api/cart/items/{stocked[0].sku}", json={"quantity": 1}).json()["items"][0]["quantity"] == 1
    order = a.post("/api/checkout", json={}).json()
    assert order["status"] == "processing" and order["total_cents"] == cart["total_cents"] - stocked[0].price_cents
    assert a.get("/api/cart").json()["items"] == []
    assert a.get(f"/api/products/{stocked[0].sku}").json()["stock"] == stocked[0].stock - 1
    assert a.post("/api/checkout", json={}).status_code == 422  # empty cart
    mine = a.get("/api/orders").json()
    assert {o["customer"] for o in mine["orders"]} == {c1.username} and mine["orders"][0]["id"] == order["id"]
    other = api("shop", c2.username)
    r = other.get(f"/api/orders/{order['id']}")
    assert r.status_code == 404 and c1.email not in r.text
    assert all(o["customer"] == c2.username for o in other.get("/api/orders").json()["orders"])
    # a processing order can be cancelled: stock comes back
    assert a.post(f"/api/orders/{order['id']}/cancel").json()["status"] == "cancelled"
    assert a.get(f"/api/products/{stocked[0].sku}").json()["stock"] == stocked[0].stock
    assert a.post(f"/api/orders/{order['id']}/cancel").status_code == 409


def test_checkout_that_runs_out_of_stock_midway_changes_nothing(api, facts, backends):
    c1, c2 = facts.shop.customers[2].username, facts.shop.customers[3].username
    plenty = next(p for p in facts.shop.products if p.stock >= 5)
    scarce = next(p for p in facts.shop.products if p.stock == 2)
    a, b = api("shop", c1), api("shop", c2)
    a.post("/api/cart/items", json={"sku": plenty.sku})
    a.post("/api/cart/items", json={"sku": scarce.sku, "quantity": 2})
    b.post("/api/cart/items", json={"sku": scarce.sku})
    b.post("/api/checkout", json={})                 # someone else takes one of the two
    before = backends["shop"].state()
    r = a.post("/api/checkout", json={})
    assert r.status_code == 409 and scarce.sku in r.json()["message"]
    assert backends["shop"].state() == before        # not even the first line's stock was taken


def test_staff_refund_within_window_only(api, facts, backends):
    staff = api("shop", facts.shop.staff[0])
    inside = next(c for c in facts.shop.cases if c.within_refund_window and c.problem == "damaged")
    outside = next(c for c in facts.shop.cases if not c.within_refund_window)
    cust = next(x for x in facts.shop.customers if x.username == inside.customer)
    found = staff.get("/api/orders", params={"customer": cust.email}).json()["orders"]
    assert inside.order in {o["id"] for o in found}
    order = staff.get(f"/api/orders/{inside.order}").json()
    line = next(x for x in order["lines"] if x["sku"] == inside.sku)
    r = staff.post(f"/api/orders/{inside.order}/refunds", json={"items": [{"sku": inside.sku, "quantity": 1}],
                                                                "reason": "arrived damaged"})
    assert r.status_code == 201, r.text
    assert r.json()[0]["amount_cents"] == line["unit_price_cents"] and r.json()[0]["restocked"] is False
    after = staff.get(f"/api/orders/{inside.order}").json()
    assert after["refunded_cents"] == line["unit_price_cents"]
    # the same units cannot be refunded twice
    left = line["quantity"] - 1
    r = staff.post(f"/api/orders/{inside.order}/refunds", json={"items": [{"sku": inside.sku, "quantity": left + 1}],
                                                                "reason": "again"})
    assert r.status_code == 422 and "not yet refunded" in r.json()["message"]
    before = backends["shop"].state()
    r = staff.post(f"/api/orders/{outside.order}/refunds", json={"items": [{"sku": outside.sku}], "reason": "late"})
    assert r.status_code == 422 and r.json()["error"] == "outside_refund_window"
    assert f"{facts.policies.refund_window_days}-day" in r.json()["message"]
    assert backends["shop"].state() == before
    # customers cannot refund themselves
    r = api("shop", inside.customer).post(f"/api/orders/{inside.order}/refunds",
                                           json={"items": [{"sku": inside.sku}], "reason": "please"})
    assert r.status_code == 403


def test_return_request_then_refund_closes_it(api, facts):
    case = next(c for c in facts.shop.cases if c.within_refund_window)
    cust = api("shop", case.customer)
    rets = cust.post(f"/api/orders/{case.order}/returns", json={"items": [{"sku": case.sku}], "reason": "broken"})
    assert rets.status_code == 201 and rets.json()[0]["status"] == "requested"
    staff = api("shop", facts.shop.staff[-1])
    assert any(r["id"] == rets.json()[0]["id"] for r in staff.get("/api/returns", params={"status": "requested"}).json())
    ref = staff.post(f"/api/orders/{case.order}/refunds", json={"items": [{"sku": case.sku}], "reason": "return",
                                                                "restock": True}).json()
    assert ref[0]["return_id"] == rets.json()[0]["id"]
    assert cust.get("/api/returns").json()[0]["status"] == "refunded"
    assert api("shop", facts.shop.customers[-1].username).get("/api/returns").json() == []


def test_refund_window_boundary_follows_the_world_clock(facts):
    o = next(o for o in facts.shop.orders if o.delivered_at)
    end = parse_iso(o.delivered_at) + timedelta(days=facts.policies.refund_window_days)
    case = next((c for c in facts.shop.cases if c.order == o.id), None)
    if case is not None:
        assert case.within_refund_window == (iso(end) >= facts.now)


def test_customer_lookup_is_staff_only(api, facts):
    c = facts.shop.customers[0]
    assert api("shop", c.username).get("/api/customers").status_code == 403
    found = api("shop", facts.shop.staff[0]).get("/api/customers", params={"q": c.email}).json()
    assert [x["username"] for x in found] == [c.username]


def test_the_customer_lookup_tells_employees_from_customers(api, facts):
    everyone = api("shop", facts.shop.staff[0]).get("/api/customers").json()
    employees = {x["username"] for x in everyone if x["employee"]}
    assert employees == {p.username for p in facts.people}
    assert {x["username"] for x in everyone if not x["employee"]} == {c.username for c in facts.shop.customers}
    assert {x["username"] for x in everyone if x["staff"]} == set(facts.shop.staff) <= employees
