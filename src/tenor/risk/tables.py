"""Risk tables: the model registry, recorded scores, statements, covenants and the watchlist.

Migration ``risk1`` (branch ``risk``) creates the registry, scores, statements, covenants and
the watchlist; ``risk2`` adds borrowers' risk profiles (the characteristics a PD scorecard
reads), the post-loan tasks watchlist entries open, the close's daily risk summary, and each
covenant's headroom (one covenant per loan and indicator). Figures in statements are decimal
strings in major units inside a JSON document, beside their currency, as products keep their
rates.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tenor.store.models import Base, BigId, utc_now


class RiskModel(Base):
    """A trained model version: its artifact, training data hash, parameters and metrics."""

    __tablename__ = "risk_models"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_risk_models_version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    dataset: Mapped[str] = mapped_column(String(64))
    data_sha256: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: Score distribution and bin shares at training, the baseline of stability monitoring.
    baseline: Mapped[dict[str, Any]] = mapped_column(JSON)
    artifact: Mapped[bytes] = mapped_column(LargeBinary)
    artifact_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    trained_by: Mapped[str] = mapped_column(String(64))
    trained_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    promoted_by: Mapped[str | None] = mapped_column(String(64))
    promoted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class RiskScore(Base):
    """A score the registry's model gave one applicant or loan in a month."""

    __tablename__ = "risk_scores"
    __table_args__ = (
        UniqueConstraint("model_id", "month", "subject", name="uq_risk_scores_subject"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("risk_models.id"), index=True)
    month: Mapped[str] = mapped_column(String(7), index=True)
    subject: Mapped[str] = mapped_column(String(64))
    score: Mapped[int] = mapped_column(Integer)
    probability: Mapped[float] = mapped_column(Float)
    bins: Mapped[dict[str, Any]] = mapped_column(JSON)
    scored_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class FinancialStatement(Base):
    """One period's statements of an enterprise borrower, validated on the way in."""

    __tablename__ = "risk_statements"
    __table_args__ = (
        UniqueConstraint("borrower_id", "period_end", name="uq_risk_statements_period"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"), index=True)
    period_end: Mapped[dt.date] = mapped_column(Date)
    period_months: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class LoanCovenant(Base):
    """A financial covenant on a loan: an indicator at least or at most a threshold.

    ``headroom`` (a fraction) is how close to the threshold a value still holds but warns;
    None (rows from before ``risk2``) is the default of :class:`tenor.risk.ews.Covenant`.
    """

    __tablename__ = "risk_covenants"
    __table_args__ = (UniqueConstraint("loan_id", "indicator", name="uq_risk_covenants_indicator"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    indicator: Mapped[str] = mapped_column(String(32))
    minimum: Mapped[str | None] = mapped_column(String(32))
    maximum: Mapped[str | None] = mapped_column(String(32))
    headroom: Mapped[str | None] = mapped_column(String(32))


class WatchlistEntry(Base):
    """An early warning on a borrower (and loan): the signal, the task, the stage it moves to."""

    __tablename__ = "risk_watchlist"
    __table_args__ = (
        UniqueConstraint("borrower_id", "code", "period_end", name="uq_risk_watchlist_signal"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"), index=True)
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loans.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    period_end: Mapped[dt.date] = mapped_column(Date)
    detail: Mapped[str] = mapped_column(Text)
    #: The post-loan task for the relationship manager, in zh-CN and en.
    task: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: The IFRS 9 stage the policy moves the loan to (None: no move).
    stage: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="open")
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class PostLoanTask(Base):
    """A post-loan task for the relationship manager, opened with a watchlist entry.

    ``state`` is ``open`` until someone completes it (``done``); an open task past its
    ``due_date`` is overdue (a reading, not a state, since it follows the business date).
    """

    __tablename__ = "risk_tasks"
    __table_args__ = (Index("ix_risk_tasks_state_due", "state", "due_date"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    watchlist_id: Mapped[int] = mapped_column(ForeignKey("risk_watchlist.id"), unique=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"), index=True)
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loans.id"), index=True)
    assignee: Mapped[str] = mapped_column(String(64))
    #: What to do, in zh-CN and en.
    title: Mapped[dict[str, Any]] = mapped_column(JSON)
    opened_on: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16))
    completed_by: Mapped[str | None] = mapped_column(String(64))
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)


class RiskProfile(Base):
    """A borrower's application characteristics, as a PD scorecard of ``dataset``'s shape reads
    them. A borrower's newest row is the one in force; rows are only added."""

    __tablename__ = "risk_profiles"
    __table_args__ = (Index("ix_risk_profiles_borrower", "borrower_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"))
    dataset: Mapped[str] = mapped_column(String(64))
    characteristics: Mapped[dict[str, Any]] = mapped_column(JSON)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class RiskCloseDay(Base):
    """What the daily close of ``business_date`` did for risk, and the early-warning counts at
    the end of that day (the daily summary reads them back)."""

    __tablename__ = "risk_close_days"

    business_date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
