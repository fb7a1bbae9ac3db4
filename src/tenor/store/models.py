"""Tables: borrowers, products, loans, the event journal and its projections, API keys.

Amounts are integer minor units (``*_minor``, BIGINT) beside a currency; rates and other exact
decimals are strings in JSON documents. The journal is append-only; ``loan_state`` and
``installments`` are projections rebuilt from it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# BIGINT keys that still autoincrement on SQLite, where only INTEGER PRIMARY KEY does.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utc_now() -> dt.datetime:
    """The current instant, timezone-aware."""
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base of Tenor's tables."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[str]: JSON,
        list[dict[str, Any]]: JSON,
    }


class Borrower(Base):
    """A person or an enterprise that owes money."""

    __tablename__ = "borrowers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    national_id: Mapped[str | None] = mapped_column(String(64))
    phones: Mapped[list[str]] = mapped_column(default=list)
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(Text)
    time_zone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    locale: Mapped[str] = mapped_column(String(16), default="zh-CN")
    preferred_channels: Mapped[list[str]] = mapped_column(default=list)
    consents: Mapped[dict[str, Any]] = mapped_column(default=dict)
    opt_outs: Mapped[list[str]] = mapped_column(default=list)
    #: When the email address on record was found dead (it hard-bounced repeatedly): reminders
    #: stop using it until the address changes.
    email_invalid_since: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    industry: Mapped[str | None] = mapped_column(String(100))
    registered_capital_minor: Mapped[int | None] = mapped_column(BigInteger)
    registered_capital_currency: Mapped[str | None] = mapped_column(String(3))
    contacts: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)

    __table_args__ = (Index("ix_borrowers_kind_name", "kind", "name"),)


class Product(Base):
    """A loan product: the configurable parts of the ledger core, as a validated document."""

    __tablename__ = "products"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    config: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)

    __table_args__ = (UniqueConstraint("code", "version", name="uq_products_code_version"),)


class Loan(Base):
    """A loan: its borrower, product, agreed terms and where it stands in its life.

    ``version`` grows with every journal append; on databases without row locks, two writers
    that read the same version cannot both commit.
    """

    __tablename__ = "loans"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    principal_minor: Mapped[int] = mapped_column(BigInteger)
    terms: Mapped[dict[str, Any]] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), index=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class JournalEntry(Base):
    """One event of one loan. Rows are only ever inserted.

    ``sequence`` is the booking order within the loan; its uniqueness also keeps two writers
    from both appending the same next event.
    """

    __tablename__ = "journal"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"))
    sequence: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    value_date: Mapped[dt.date] = mapped_column(Date)
    payload: Mapped[dict[str, Any]] = mapped_column()
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(64), default="system")
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)

    __table_args__ = (
        UniqueConstraint("loan_id", "sequence", name="uq_journal_loan_sequence"),
        UniqueConstraint("loan_id", "idempotency_key", name="uq_journal_loan_idempotency_key"),
    )


class LoanStateRow(Base):
    """Projection: a loan's balances and delinquency, as its journal and the business date say."""

    __tablename__ = "loan_state"

    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    disbursed_minor: Mapped[int] = mapped_column(BigInteger)
    repaid_minor: Mapped[int] = mapped_column(BigInteger)
    outstanding_principal_minor: Mapped[int] = mapped_column(BigInteger)
    outstanding_interest_minor: Mapped[int] = mapped_column(BigInteger)
    outstanding_fees_minor: Mapped[int] = mapped_column(BigInteger)
    outstanding_penalties_minor: Mapped[int] = mapped_column(BigInteger)
    arrears_minor: Mapped[int] = mapped_column(BigInteger)
    credit_balance_minor: Mapped[int] = mapped_column(BigInteger)
    written_off_minor: Mapped[int] = mapped_column(BigInteger)
    recovered_minor: Mapped[int] = mapped_column(BigInteger)
    days_past_due: Mapped[int] = mapped_column(Integer, index=True)
    bucket: Mapped[str] = mapped_column(String(16), index=True)
    loan_class: Mapped[int] = mapped_column(Integer)
    stage: Mapped[int] = mapped_column(Integer)
    next_due_date: Mapped[dt.date | None] = mapped_column(Date, index=True)
    business_date: Mapped[dt.date] = mapped_column(Date)
    last_sequence: Mapped[int] = mapped_column(BigInteger, default=0)


class InstallmentRow(Base):
    """Projection: one installment's scheduled, paid, waived and unpaid parts."""

    __tablename__ = "installments"

    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    start_date: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date, index=True)
    principal_minor: Mapped[int] = mapped_column(BigInteger)
    interest_minor: Mapped[int] = mapped_column(BigInteger)
    fee_minor: Mapped[int] = mapped_column(BigInteger)
    penalty_minor: Mapped[int] = mapped_column(BigInteger)
    paid_principal_minor: Mapped[int] = mapped_column(BigInteger)
    paid_interest_minor: Mapped[int] = mapped_column(BigInteger)
    paid_fee_minor: Mapped[int] = mapped_column(BigInteger)
    paid_penalty_minor: Mapped[int] = mapped_column(BigInteger)
    waived_minor: Mapped[int] = mapped_column(BigInteger)
    unpaid_minor: Mapped[int] = mapped_column(BigInteger)
    settled_on: Mapped[dt.date | None] = mapped_column(Date)


class ApiKey(Base):
    """An API key: its role and scope; only an argon2 hash of the secret is kept."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    key_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    borrower_id: Mapped[int | None] = mapped_column(ForeignKey("borrowers.id"))
    agency_id: Mapped[int | None] = mapped_column(BigInteger)
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Setting(Base):
    """Book-wide settings, such as the open business date."""

    __tablename__ = "settings"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
