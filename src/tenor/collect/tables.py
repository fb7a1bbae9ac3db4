"""Collections' tables: strategies, collectors, cases and their actions, contact outcomes,
promises to pay, disputes, agencies and placements, legal cases with their events, documents
and costs.

A case is one loan's stay in collections: opened by the daily close when the loan falls past
due, closed when it is cured, paid, written off or stopped. Everything that happens to it is a
row of its own, never an update of history: ``collection_actions`` (what the strategy did or
asked a person to do), ``collection_outcomes`` (what a contact gave), ``collection_promises``
(decided by the close), ``collection_disputes``, ``collection_placements``. The case row keeps
only where the case stands now, so that the queue and the close read one row per case.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
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

from tenor.core.collection import CommissionBand, commission_rate
from tenor.store.models import Base, BigId, utc_now


class CollectionStrategyRow(Base):
    """One version of a collection strategy; the latest row saved is the strategy in force."""

    __tablename__ = "collection_strategies"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)

    __table_args__ = (
        UniqueConstraint("name", "version", name="uq_collection_strategies_name_version"),
    )


class Collector(Base):
    """A collector: team, skills (languages, products, stages), capacity and working hours."""

    __tablename__ = "collectors"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    team: Mapped[str] = mapped_column(String(64))
    languages: Mapped[list[str]] = mapped_column(JSON)
    products: Mapped[list[str]] = mapped_column(JSON)
    stages: Mapped[list[str]] = mapped_column(JSON)
    capacity: Mapped[int] = mapped_column(Integer)
    time_zone: Mapped[str] = mapped_column(String(64))
    work_start: Mapped[int] = mapped_column(Integer)
    work_end: Mapped[int] = mapped_column(Integer)
    field: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class Agency(Base):
    """A third-party collection agency: commission bands and its recall period."""

    __tablename__ = "collection_agencies"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    commission: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    recall_days: Mapped[int] = mapped_column(Integer)
    capacity: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)

    def rate_on(self, days_past_due: int) -> Decimal:
        """The commission rate of a case placed at ``days_past_due`` (its band's rate)."""
        bands = [CommissionBand(int(b["min_dpd"]), Decimal(b["rate"])) for b in self.commission]
        return commission_rate(bands, days_past_due)


class CollectionCase(Base):
    """A loan's stay in collections and where it stands now."""

    __tablename__ = "collection_cases"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"))
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    opened_on: Mapped[dt.date] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    close_reason: Mapped[str | None] = mapped_column(String(32))
    strategy: Mapped[str] = mapped_column(String(64))
    strategy_version: Mapped[int] = mapped_column(Integer)
    segment: Mapped[str] = mapped_column(String(64))
    arm: Mapped[str] = mapped_column(String(16))
    #: The segment and arm the case entered with: what champion/challenger compares.
    opened_segment: Mapped[str] = mapped_column(String(64))
    opened_arm: Mapped[str] = mapped_column(String(16))
    steps_taken: Mapped[int] = mapped_column(Integer)
    path_since: Mapped[dt.date] = mapped_column(Date)
    days_past_due: Mapped[int] = mapped_column(Integer)
    balance_minor: Mapped[int] = mapped_column(BigInteger)
    opened_balance_minor: Mapped[int] = mapped_column(BigInteger)
    opened_days_past_due: Mapped[int] = mapped_column(Integer)
    max_days_past_due: Mapped[int] = mapped_column(Integer)
    paused: Mapped[str | None] = mapped_column(String(32))
    flags: Mapped[list[str]] = mapped_column(JSON)
    collector_id: Mapped[int | None] = mapped_column(ForeignKey("collectors.id"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("collection_agencies.id"))
    contact_cost_minor: Mapped[int] = mapped_column(BigInteger)
    updated_on: Mapped[dt.date] = mapped_column(Date)

    __table_args__ = (
        UniqueConstraint("loan_id", "opened_on", name="uq_collection_cases_loan_opened"),
        Index("ix_collection_cases_status", "status"),
        Index("ix_collection_cases_loan", "loan_id"),
        Index("ix_collection_cases_collector", "collector_id"),
        Index("ix_collection_cases_agency", "agency_id"),
    )


class CaseAction(Base):
    """What the strategy did for a case on a business date, or asked a person to do."""

    __tablename__ = "collection_actions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("collection_cases.id"))
    business_date: Mapped[dt.date] = mapped_column(Date)
    segment: Mapped[str] = mapped_column(String(64))
    arm: Mapped[str] = mapped_column(String(16))
    step: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    cost_minor: Mapped[int] = mapped_column(BigInteger)
    notification_id: Mapped[int | None] = mapped_column(BigInteger)
    collector_id: Mapped[int | None] = mapped_column(BigInteger)
    done_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("case_id", "business_date", "step", name="uq_collection_actions_step"),
        Index("ix_collection_actions_case", "case_id"),
        Index("ix_collection_actions_open_tasks", "state", "kind"),
    )


class ContactOutcome(Base):
    """A contact's result, with a standard code."""

    __tablename__ = "collection_outcomes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("collection_cases.id"))
    loan_id: Mapped[int] = mapped_column(BigInteger)
    borrower_id: Mapped[int] = mapped_column(BigInteger, index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    business_date: Mapped[dt.date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(32))
    collector_id: Mapped[int | None] = mapped_column(BigInteger)
    agency_id: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(Text)
    action_id: Mapped[int | None] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_collection_outcomes_case", "case_id"),)


class Promise(Base):
    """A promise to pay: amount and date; the close decides kept or broken."""

    __tablename__ = "collection_promises"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("collection_cases.id"))
    loan_id: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    made_on: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    paid_minor: Mapped[int] = mapped_column(BigInteger)
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    outcome_id: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        Index("ix_collection_promises_status", "status"),
        Index("ix_collection_promises_case", "case_id"),
    )


class Dispute(Base):
    """A borrower's dispute of a debt: collection pauses until it is resolved."""

    __tablename__ = "collection_disputes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("collection_cases.id"))
    loan_id: Mapped[int] = mapped_column(BigInteger, index=True)
    opened_on: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    resolved_on: Mapped[dt.date | None] = mapped_column(Date)
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[str | None] = mapped_column(String(64))


class Placement(Base):
    """A case placed with an agency, from placement to recall, at the placement's rate."""

    __tablename__ = "collection_placements"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("collection_cases.id"))
    loan_id: Mapped[int] = mapped_column(BigInteger, index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("collection_agencies.id"))
    placed_on: Mapped[dt.date] = mapped_column(Date)
    recall_on: Mapped[dt.date] = mapped_column(Date)
    recalled_on: Mapped[dt.date | None] = mapped_column(Date)
    recall_reason: Mapped[str | None] = mapped_column(String(32))
    rate: Mapped[str] = mapped_column(String(16))
    days_past_due: Mapped[int] = mapped_column(Integer)
    balance_minor: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_collection_placements_agency", "agency_id"),)


class LegalCase(Base):
    """A legal recovery case for a loan: its stage, asset preservation and judgment."""

    __tablename__ = "legal_cases"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    borrower_id: Mapped[int] = mapped_column(BigInteger)
    case_id: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    stage: Mapped[str] = mapped_column(String(16))
    preservation: Mapped[str] = mapped_column(String(16))
    court: Mapped[str | None] = mapped_column(String(200))
    reference: Mapped[str | None] = mapped_column(String(100))
    judgment_amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    judgment_costs_minor: Mapped[int | None] = mapped_column(BigInteger)
    judgment_interest_minor: Mapped[int | None] = mapped_column(BigInteger)
    costs_to_borrower: Mapped[bool | None] = mapped_column(Boolean)
    opened_on: Mapped[dt.date] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)


class LegalEvent(Base):
    """A dated step of a legal case: a stage or preservation transition, a cost, a document."""

    __tablename__ = "legal_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    legal_case_id: Mapped[int] = mapped_column(ForeignKey("legal_cases.id"), index=True)
    on: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class LegalDocument(Base):
    """A file attached to a legal case, stored with its SHA-256."""

    __tablename__ = "legal_documents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    legal_case_id: Mapped[int] = mapped_column(ForeignKey("legal_cases.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    path: Mapped[str] = mapped_column(String(500))
    actor: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class LegalCost(Base):
    """A court or lawyer cost of a legal case; charged to the borrower when the judgment allows
    (``charge_event_id`` is then the journal's charge)."""

    __tablename__ = "legal_costs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    legal_case_id: Mapped[int] = mapped_column(ForeignKey("legal_cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    incurred_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    charge_event_id: Mapped[str | None] = mapped_column(String(36))
