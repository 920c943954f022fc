"""The shop API's request and response bodies (pydantic): what its OpenAPI document describes."""
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

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
    sku: Sku = Field(description="an item of the order (422 otherwise)")
    quantity: int = Field(1, ge=1, le=100, description="at most the line's quantity not yet refunded (422 otherwise)")


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
    staff: bool = Field(description="works the shop's support desk (can see every order and issue refunds)")
    employee: bool = Field(description="an account of someone who works at the organisation, not a customer")


class PolicyOut(BaseModel):
    refund_window_days: int
    free_shipping_over_cents: int
    shipping_cents: int
    currency: str
