"""The bank API's request and response bodies (pydantic): what its OpenAPI document describes."""
import re
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

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
    email: str | None = Field(None, max_length=200, description="an e-mail address, name@domain.tld (422 otherwise)")
    owner: Literal["org", "me"] = Field("me", description="org: a payee of the organisation (org account holders only)")


#: How far ahead a transfer may be scheduled (banks take future-dated payments up to about a year out).
MAX_SCHEDULE_DAYS = 365

#: Where a client reads the per-transfer limit of this bank (it is the organisation's policy, so it differs by world).
TRANSFER_LIMIT = "GET /api/limits per_transfer_limit_cents"


class TransferIn(Strict):
    from_account: str = Field(min_length=1, max_length=40, description="account id")
    payee_id: str | None = Field(None, max_length=40, description="pay a payee on file (of the same owner as "
                                 "from_account) ...; give exactly one of payee_id and to_account")
    to_account: str | None = Field(None, max_length=40, description="... or move money to another of your accounts "
                                   "(not from_account itself); give exactly one of payee_id and to_account")
    amount_cents: int = Field(gt=0, le=10**12, description=f"at most the per-transfer limit ({TRANSFER_LIMIT}); a "
                              "larger amount is refused with 422 over_limit, here and at confirmation",
                              json_schema_extra={"x-airgap-limit-from": TRANSFER_LIMIT})
    memo: str = Field("", max_length=140)
    scheduled_for: date | None = Field(None, description=(
        f"YYYY-MM-DD: send it on that day instead (after today on the bank's clock, at most {MAX_SCHEDULE_DAYS} days "
        "ahead; 422 otherwise). It is created `scheduled`, moves no money now, and can be cancelled until then"),
        json_schema_extra={"x-airgap-max-days-ahead": MAX_SCHEDULE_DAYS})

    @field_validator("scheduled_for", mode="before")
    @classmethod
    def _a_calendar_date(cls, v: object) -> object:
        if v is not None and not (isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v)):
            raise ValueError(f"scheduled_for must be a date written YYYY-MM-DD, not {v!r}")
        return v


TransferStatus = Literal["pending", "scheduled", "completed", "cancelled", "failed"]


class TransferOut(BaseModel):
    id: str
    from_account: str
    payee_id: str | None
    payee_name: str | None
    to_account: str | None
    amount_cents: int
    amount: str
    memo: str
    status: TransferStatus
    scheduled_for: str | None = Field(description="a scheduled transfer: the day it is to be sent (YYYY-MM-DD)")
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
