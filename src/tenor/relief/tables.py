"""Relief's tables: credit scores, eligibility policies, requests and offers.

``credit_scores`` is where eligibility reads a borrower's score. Today scores are recorded by
hand or from a bureau (``tenor restructure score``, ``POST /v1/borrowers/{id}/credit-scores``);
the risk capability will write its champion model's scores here too, with the model's name as
the source.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tenor.store.models import Base, BigId, utc_now


class CreditScore(Base):
    """A borrower's credit score on a date, and where it came from (a bureau, a model)."""

    __tablename__ = "credit_scores"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"))
    score: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(64))
    as_of: Mapped[dt.date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)

    __table_args__ = (Index("ix_credit_scores_borrower_as_of", "borrower_id", "as_of"),)


class ReliefPolicyRow(Base):
    """One version of a product's eligibility policy; the newest version is in force."""

    __tablename__ = "relief_policies"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    version: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, Any]] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)

    __table_args__ = (
        UniqueConstraint("product_id", "version", name="uq_relief_policies_product_version"),
    )


class ReliefRequest(Base):
    """A borrower's request for relief, made by the borrower or by staff for them."""

    __tablename__ = "relief_requests"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    hardship_evidence: Mapped[str | None] = mapped_column(String(500))
    monthly_income_minor: Mapped[int | None] = mapped_column(BigInteger)
    monthly_debt_minor: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    requested_by: Mapped[str] = mapped_column(String(64))
    business_date: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class ReliefOffer(Base):
    """One option offered on a request, with its schedule, through acceptance and approval.

    ``status``: open, accepted (waiting for a second person's approval), applied, superseded
    (another offer of the request was accepted) or expired. ``proposal`` holds the schedule,
    the comparison and the journal event that applying it appends; ``event_id`` names that
    event once applied.
    """

    __tablename__ = "relief_offers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("relief_requests.id"), index=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    option: Mapped[str] = mapped_column(String(32))
    parameters: Mapped[dict[str, Any]] = mapped_column()
    proposal: Mapped[dict[str, Any]] = mapped_column()
    policy_version: Mapped[int] = mapped_column(Integer)
    business_date: Mapped[dt.date] = mapped_column(Date)
    expires_on: Mapped[dt.date] = mapped_column(Date)
    needs_approval: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16), index=True)
    offered_by: Mapped[str] = mapped_column(String(64))
    accepted_by: Mapped[str | None] = mapped_column(String(64))
    accepted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    event_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
