"""Tables of bureau reporting; migration ``bureau1`` creates them.

Metro 2 needs identification Tenor's borrower record does not hold (a US surname and first
name, SSN, date of birth, a US address split into lines, city, state and ZIP): it lives in
``bureau_consumers``, and an account whose borrower has no row there is held back.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tenor.store.models import Base, BigId, utc_now


class BureauConsumer(Base):
    """A borrower's identification as Metro 2 carries it."""

    __tablename__ = "bureau_consumers"

    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"), primary_key=True)
    surname: Mapped[str] = mapped_column(String(25))
    first_name: Mapped[str] = mapped_column(String(20))
    middle_name: Mapped[str] = mapped_column(String(20), default="")
    generation_code: Mapped[str] = mapped_column(String(1), default="")
    social_security_number: Mapped[str | None] = mapped_column(String(9))
    date_of_birth: Mapped[dt.date | None] = mapped_column(Date)
    telephone_number: Mapped[str | None] = mapped_column(String(10))
    ecoa_code: Mapped[str] = mapped_column(String(1), default="1")
    country_code: Mapped[str] = mapped_column(String(2), default="US")
    first_line_address: Mapped[str] = mapped_column(String(32))
    second_line_address: Mapped[str] = mapped_column(String(32), default="")
    city: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(2))
    postal_code: Mapped[str] = mapped_column(String(9))


class BureauAccount(Base):
    """How one loan is reported: its Metro 2 account type, collections, original creditor and
    whether it was deleted from the bureaus (DA, or DF for fraud)."""

    __tablename__ = "bureau_accounts"

    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), primary_key=True)
    portfolio_type: Mapped[str] = mapped_column(String(1), default="I")
    account_type: Mapped[str] = mapped_column(String(2), default="01")
    #: Assigned to collections on this date (input until the collections capability exists).
    collections_on: Mapped[dt.date | None] = mapped_column(Date)
    original_creditor_name: Mapped[str | None] = mapped_column(String(30))
    creditor_classification: Mapped[int | None] = mapped_column(Integer)
    deleted_as: Mapped[str | None] = mapped_column(String(2))
    deleted_month: Mapped[str | None] = mapped_column(String(7))


class BureauAssociate(Base):
    """Another consumer on a loan (a co-borrower): a J1 segment when they share the primary
    consumer's address, a J2 segment otherwise."""

    __tablename__ = "bureau_associates"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"))
    ecoa_code: Mapped[str] = mapped_column(String(1), default="2")


class BureauComment(Base):
    """A special comment over a span of months: a restructuring or a deferral (as data until
    the relief capability records them in the journal)."""

    __tablename__ = "bureau_comments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(2))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)


class BureauDispute(Base):
    """A consumer's dispute of what is reported for a loan."""

    __tablename__ = "bureau_disputes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    opened_on: Mapped[dt.date] = mapped_column(Date)
    resolved_on: Mapped[dt.date | None] = mapped_column(Date)
    consumer_disagrees: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)


class BureauExport(Base):
    """One file written: its format, month, kind (monthly or correction) and what it held."""

    __tablename__ = "bureau_exports"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    format: Mapped[str] = mapped_column(String(8))
    month: Mapped[str] = mapped_column(String(7))
    kind: Mapped[str] = mapped_column(String(16))
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loans.id"))
    records: Mapped[int] = mapped_column(Integer)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
