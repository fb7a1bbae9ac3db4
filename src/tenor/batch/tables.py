"""Tables of the daily close: its runs and progress, each loan's close state, actions, summaries.

The close keeps what it needs between business dates beside the journal's projections:

- ``close_days``: one row per business date being closed or closed, with the journal mark the
  close started from (the loans whose journal grew since the previous mark are touched) and the
  number of partitions, fixed when the date's close starts so that a rerun splits the book the
  same way. ``finished_at`` is set when every partition is done and the summary is written.
- ``close_progress``: one row per partition done, written in the partition's own transaction
  together with everything the partition changed. A rerun skips the partitions listed here.
- ``close_state``: per loan, what the last close that touched it found: days past due and where
  they count from, bucket, class, stage, penalty posted through, and ``next_touch``, the first
  business date on which the close has anything to do for the loan (indexed, so a quiet loan
  costs nothing).
- ``close_arrears``: per loan and installment, the overdue principal and interest left by the
  loan's last close: the penalty base of the days until its next touch.
- ``close_actions``, ``close_errors``: reminders and other actions for the rest of Tenor, and
  loans whose data broke a rule, per business date.
- ``close_summary``, ``close_rolls``, ``close_month_end``: the end-of-day portfolio (loans and
  balances by bucket, class and stage; bucket-to-bucket rolls since yesterday) and each month
  end's bucket per loan, from which the month-over-month roll rates are read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, DateTime, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tenor.store.models import Base


class CloseDay(Base):
    """One business date's close: where it started and whether it finished."""

    __tablename__ = "close_days"

    business_date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    journal_from: Mapped[int] = mapped_column(BigInteger)
    journal_to: Mapped[int] = mapped_column(BigInteger)
    first_close: Mapped[bool] = mapped_column()
    partitions: Mapped[int] = mapped_column(Integer)
    partition_size: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    totals: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class CloseProgress(Base):
    """One partition of one business date, done: written with the partition's changes."""

    __tablename__ = "close_progress"

    business_date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    partition: Mapped[int] = mapped_column(Integer, primary_key=True)
    loans: Mapped[int] = mapped_column(Integer)
    events: Mapped[int] = mapped_column(Integer)
    penalties: Mapped[int] = mapped_column(Integer)
    penalty_minor: Mapped[int] = mapped_column(BigInteger)
    actions: Mapped[int] = mapped_column(Integer)
    errors: Mapped[int] = mapped_column(Integer)


class CloseState(Base):
    """What the last close that touched a loan found, and when the close next has work for it."""

    __tablename__ = "close_state"

    loan_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    closed_on: Mapped[dt.date] = mapped_column(Date)
    dpd_anchor: Mapped[dt.date | None] = mapped_column(Date)
    days_past_due: Mapped[int] = mapped_column(Integer)
    bucket: Mapped[str] = mapped_column(String(16))
    loan_class: Mapped[int] = mapped_column(SmallInteger)
    stage: Mapped[int] = mapped_column(SmallInteger)
    overdue_minor: Mapped[int] = mapped_column(BigInteger)
    accrued_interest_minor: Mapped[int] = mapped_column(BigInteger)
    penalty_through: Mapped[dt.date | None] = mapped_column(Date)
    next_touch: Mapped[dt.date | None] = mapped_column(Date)

    __table_args__ = (Index("ix_close_state_next_touch", "next_touch"),)


class CloseArrears(Base):
    """Overdue principal and interest of one installment as the loan's last close left them."""

    __tablename__ = "close_arrears"

    loan_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    due_date: Mapped[dt.date] = mapped_column(Date)
    principal_minor: Mapped[int] = mapped_column(BigInteger)
    interest_minor: Mapped[int] = mapped_column(BigInteger)


class CloseAction(Base):
    """Something the rest of Tenor acts on, found by the close of ``business_date``."""

    __tablename__ = "close_actions"

    business_date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    loan_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    installment: Mapped[int] = mapped_column(Integer, primary_key=True)
    offset_days: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[dt.date] = mapped_column(Date)
    amount_minor: Mapped[int] = mapped_column(BigInteger)


class CloseError(Base):
    """A loan the close of ``business_date`` left out because its data broke a rule."""

    __tablename__ = "close_errors"

    business_date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    loan_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    message: Mapped[str] = mapped_column(Text)


class CloseSummary(Base):
    """Open loans and their balances in one bucket, class or stage at the end of a day."""

    __tablename__ = "close_summary"

    business_date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(16), primary_key=True)
    loans: Mapped[int] = mapped_column(Integer)
    principal_minor: Mapped[int] = mapped_column(BigInteger)
    outstanding_minor: Mapped[int] = mapped_column(BigInteger)
    arrears_minor: Mapped[int] = mapped_column(BigInteger)


class CloseRoll(Base):
    """Loans that went from one bucket to another on a business date (``from`` "new": first
    close), with their outstanding principal."""

    __tablename__ = "close_rolls"

    business_date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    from_bucket: Mapped[str] = mapped_column(String(16), primary_key=True)
    to_bucket: Mapped[str] = mapped_column(String(16), primary_key=True)
    loans: Mapped[int] = mapped_column(Integer)
    principal_minor: Mapped[int] = mapped_column(BigInteger)


class CloseMonthEnd(Base):
    """A loan's status, days past due, bucket and outstanding principal at a month end's close."""

    __tablename__ = "close_month_end"

    month_end: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    loan_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    days_past_due: Mapped[int] = mapped_column(Integer)
    bucket: Mapped[str] = mapped_column(String(16))
    principal_minor: Mapped[int] = mapped_column(BigInteger)
