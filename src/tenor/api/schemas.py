"""Request and response bodies of the REST API.

Requests refuse unknown fields. Amounts are decimal strings in major units (``"120.50"``): a
JSON number is refused (``invalid_amount``), because a float cannot hold money and a client
that sends one has already lost a cent somewhere. Dates are ``YYYY-MM-DD`` strings between
1900 and 2199. Free text refuses control characters and lone surrogates, which neither the
databases nor the logs should have to hold. Responses are the documents of
:mod:`tenor.store.reads`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Final, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from tenor.core.money import CURRENCY_EXPONENTS
from tenor.products import ProductConfig

#: The largest id a BIGINT column holds; larger ones are refused before they reach a driver.
MAX_ID: Final = 2**63 - 1
MIN_YEAR: Final = 1900
MAX_YEAR: Final = 2199
_MAX_NUMBER_LENGTH: Final = 40

Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def _clean_text(value: str) -> str:
    if any(
        (character < " " and character not in "\t\n\r") or character == "\x7f"
        for character in value
    ):
        raise PydanticCustomError("invalid_text", "must not contain control characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PydanticCustomError("invalid_text", "must be valid Unicode text") from None
    return value


_Clean = AfterValidator(_clean_text)
Name = Annotated[str, Field(min_length=1, max_length=200), _Clean]
ShortText = Annotated[str, Field(min_length=1, max_length=64), _Clean]
MediumText = Annotated[str, Field(min_length=1, max_length=100), _Clean]
LongText = Annotated[str, Field(min_length=1, max_length=500), _Clean]
Reference = Annotated[str, Field(min_length=1, max_length=200), _Clean]
Phone = Annotated[str, Field(pattern=r"^\+?[0-9][0-9 ()-]{4,30}$")]
Email = Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"), _Clean]
NationalId = Annotated[str, Field(pattern=r"^[0-9A-Za-z-]{4,64}$")]
# Checked for shape only, so that a well-formed code Tenor does not book answers
# ``unknown_currency``; the document lists the codes it does book.
Currency = Annotated[
    str,
    Field(pattern=r"^[A-Z]{3}$"),
    WithJsonSchema(
        {
            "type": "string",
            "enum": sorted(CURRENCY_EXPONENTS),
            "description": "ISO 4217 code",
            "examples": ["CNY"],
        }
    ),
]
Channel = Literal["sms", "push", "email", "voice", "letter"]
Locale = Literal["zh-CN", "en"]
ConsentName = Annotated[str, Field(pattern=r"^[a-z0-9_.-]{1,64}$")]

# A sign is accepted so that a negative amount is refused by meaning (amount_not_positive),
# not by shape; the document shows what is wanted: no sign.
_DECIMAL_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_DECIMAL_PATTERN: Final = r"^[0-9]+(\.[0-9]+)?$"


def _decimal_text(error_type: str, what: str, example: str) -> BeforeValidator:
    def check(value: object) -> object:
        if not isinstance(value, str):
            kind = "null" if value is None else type(value).__name__
            raise PydanticCustomError(
                error_type,
                f'{what} must be a decimal string such as "{example}", not a JSON {{kind}}; '
                "a binary float cannot hold it exactly",
                {"kind": kind},
            )
        if len(value) > _MAX_NUMBER_LENGTH or not _DECIMAL_TEXT.fullmatch(value):
            raise PydanticCustomError(
                error_type,
                f'{what} must be a decimal number such as "{example}" '
                "(no exponent, NaN, infinity or spaces)",
            )
        return value

    return BeforeValidator(check)


def _decimal_schema(description: str, example: str) -> WithJsonSchema:
    return WithJsonSchema(
        {
            "type": "string",
            "pattern": _DECIMAL_PATTERN,
            "maxLength": _MAX_NUMBER_LENGTH,
            "description": description,
            "examples": [example],
        }
    )


Amount = Annotated[
    str,
    _decimal_text("invalid_amount", "an amount", "120.50"),
    _decimal_schema("An amount in major units as a decimal string.", "120.50"),
]
DecimalText = Annotated[
    str,
    _decimal_text("invalid_number", "a number", "12.5"),
    _decimal_schema("An exact decimal number as a string.", "12.5"),
]

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _date_text(value: object) -> object:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        day = value
    elif isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise PydanticCustomError(
                "invalid_date", "{value} is not a real date", {"value": value}
            ) from None
    else:
        raise PydanticCustomError("invalid_date", "dates are strings written YYYY-MM-DD")
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise PydanticCustomError(
            "invalid_date", f"dates must fall between {MIN_YEAR} and {MAX_YEAR}"
        )
    return day


ApiDate = Annotated[
    dt.date,
    BeforeValidator(_date_text),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date",
            "pattern": r"^(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$",
            "description": f"A date written YYYY-MM-DD, from {MIN_YEAR} to {MAX_YEAR}.",
        }
    ),
]


def _utc(value: dt.datetime) -> dt.datetime:
    # SQLite gives back the stored UTC instants without their zone; RFC 3339 needs one.
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


Instant = Annotated[dt.datetime, AfterValidator(_utc)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Response(BaseModel):
    """Base of response documents (kept apart from requests, which forbid extra fields)."""


# --- borrowers ------------------------------------------------------------------------------


class ContactIn(_Request):
    """A person to reach at an enterprise borrower."""

    name: Name
    role: MediumText | None = None
    phone: Phone | None = None
    email: Email | None = None


def _sms_only() -> list[Channel]:
    return ["sms"]


class BorrowerIn(_Request):
    """A new individual or enterprise borrower."""

    kind: Literal["individual", "enterprise"]
    name: Name
    national_id: NationalId | None = Field(
        default=None, description="National ID number, or an enterprise's registration number."
    )
    phones: list[Phone] = Field(default_factory=list, max_length=10)
    email: Email | None = None
    address: LongText | None = None
    time_zone: ShortText = Field(default="Asia/Shanghai", description="An IANA time zone name.")
    locale: Locale = "zh-CN"
    preferred_channels: list[Channel] = Field(default_factory=_sms_only, max_length=5)
    consents: dict[ConsentName, bool] = Field(default_factory=dict, max_length=32)
    opt_outs: list[Channel] = Field(default_factory=list, max_length=5)
    industry: MediumText | None = None
    registered_capital: Amount | None = None
    registered_capital_currency: Currency | None = None
    contacts: list[ContactIn] = Field(default_factory=list, max_length=20)


class ContactPreferencesIn(_Request):
    """How and when a borrower may be contacted; a field left out stays as it is."""

    phones: list[Phone] | None = Field(default=None, max_length=10)
    email: Email | None = None
    time_zone: ShortText | None = None
    locale: Locale | None = None
    preferred_channels: list[Channel] | None = Field(default=None, max_length=5)
    consents: dict[ConsentName, bool] | None = Field(
        default=None, max_length=32, description="Merged into the consents on record."
    )
    opt_outs: list[Channel] | None = Field(default=None, max_length=5)


class BorrowerOut(_Response):
    """A borrower; national ID and phone numbers masked for roles that do not need them."""

    id: int
    kind: str
    name: str
    national_id: str | None
    phones: list[str | None]
    email: str | None
    address: str | None
    time_zone: str
    locale: str
    preferred_channels: list[str]
    consents: dict[str, Any]
    opt_outs: list[str]
    email_invalid_since: Instant | None = Field(
        description="When reminders stopped using the email address on record because it "
        "bounced for good repeatedly (null: it works, as far as anyone knows); a new address "
        "clears it."
    )
    industry: str | None
    registered_capital: str | None
    registered_capital_currency: str | None
    contacts: list[dict[str, Any]]
    created_at: Instant


class BorrowerPage(_Response):
    """One page of borrowers and how many match in all."""

    items: list[BorrowerOut]
    total: int
    offset: int
    limit: int


# --- products -------------------------------------------------------------------------------


class ProductIn(_Request):
    """A product: its code (a new version when the code exists), name and configuration."""

    code: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    name: Name
    config: ProductConfig


class ProductOut(_Response):
    """A product version and its configuration document."""

    id: int
    code: str
    version: int
    name: str
    currency: str
    config: dict[str, Any]
    created_at: Instant


class ProductPage(_Response):
    """One page of products and how many match in all."""

    items: list[ProductOut]
    total: int
    offset: int
    limit: int


# --- loans ----------------------------------------------------------------------------------


class MilestoneIn(_Request):
    """A project milestone on which ``share`` (a fraction, such as "0.4") of principal falls."""

    name: MediumText
    expected_date: ApiDate
    share: DecimalText


class LoanIn(_Request):
    """A loan application: borrower, product and the terms the product leaves open."""

    borrower_id: Id
    product_id: Id
    principal: Amount
    currency: Currency
    term: int = Field(ge=1, le=600, description="Number of installments.")
    start_date: ApiDate
    annual_rate_percent: DecimalText | None = Field(
        default=None, description="Overrides the product's rate, in percent: 12 for 12%."
    )
    first_due_date: ApiDate | None = None
    milestones: list[MilestoneIn] = Field(default_factory=list, max_length=100)
    stepped_principal: list[Amount] = Field(default_factory=list, max_length=600)


class DisbursementIn(_Request):
    """One tranche paid out; without an amount, whatever of the principal is left."""

    amount: Amount | None = None
    currency: Currency | None = None
    value_date: ApiDate


class RepaymentIn(_Request):
    """A payment received from the borrower."""

    amount: Amount
    currency: Currency
    value_date: ApiDate
    channel: ShortText | None = Field(default=None, examples=["bank-transfer"])
    external_reference: Reference | None = Field(
        default=None, description="The payment's reference at the bank or payment processor."
    )


class ChargeIn(_Request):
    """A late fee, penalty interest or other fee."""

    kind: Literal["late-fee", "penalty-interest", "fee"]
    amount: Amount
    currency: Currency
    value_date: ApiDate
    installment: int | None = Field(default=None, ge=1, le=10_000)


class WaiverIn(_Request):
    """Penalty, fee or interest forgiven (principal is never waived)."""

    component: Literal["penalty", "fee", "interest"]
    amount: Amount
    currency: Currency
    value_date: ApiDate
    installment: int | None = Field(default=None, ge=1, le=10_000)


class LoanOut(_Response):
    """A loan: terms, balances and delinquency on the book's business date."""

    id: int
    borrower_id: int
    product_id: int
    status: str
    currency: str
    principal: str
    annual_rate_percent: str
    term: int
    frequency: str
    method: str
    start_date: dt.date
    business_date: dt.date
    created_at: Instant
    approved_at: Instant | None
    disbursed: str
    repaid: str
    outstanding_principal: str
    outstanding_interest: str
    outstanding_fees: str
    outstanding_penalties: str
    arrears: str
    credit_balance: str
    written_off: str
    recovered: str
    days_past_due: int
    bucket: str | None
    classification: str | None
    classification_zh: str | None
    ifrs9_stage: int | None
    next_due_date: dt.date | None


class LoanPage(_Response):
    """One page of loans and how many match in all."""

    items: list[LoanOut]
    total: int
    offset: int
    limit: int


class InstallmentOut(_Response):
    """One installment: scheduled, paid, waived and unpaid."""

    number: int
    due_date: dt.date
    principal: str
    interest: str
    fee: str
    penalty: str
    total: str
    paid: str
    waived: str
    unpaid: str
    settled_on: dt.date | None


class ScheduleOut(_Response):
    """A loan's installments (none before it is disbursed)."""

    loan_id: int
    currency: str
    installments: list[InstallmentOut]


class MoneyOut(_Response):
    """An amount and its currency."""

    amount: str
    currency: str


class JournalEventOut(_Response):
    """One event of a loan's journal; the fields beyond the first six depend on its kind."""

    model_config = ConfigDict(extra="allow")

    event_id: str
    sequence: int
    kind: str
    value_date: dt.date
    recorded_at: Instant
    actor: str
    amount: MoneyOut | None = None
    charge_kind: str | None = None
    component: str | None = None
    installment: int | None = None
    target: str | None = None


class JournalOut(_Response):
    """A loan's events in booking order."""

    loan_id: int
    events: list[JournalEventOut]


class WriteResult(_Response):
    """The event a write recorded and the loan as it stands after it."""

    event_id: str
    loan: LoanOut
