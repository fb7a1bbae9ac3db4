"""Quarterly financial statements for the demo book's enterprise borrowers.

After the demo has lived through its days, every enterprise files a statement for each quarter
from a year before its first loan to the book's last date. Most are healthy. A borrower who
defaults or falls behind deteriorates first: from three quarters before the quarter in which
it first misses a payment its revenue and margins slide, so that operating cash flow falls
three quarters running and its DSCR breaches the 1.20 covenant by the quarter-end before that
first missed payment. The statements go through :func:`tenor.risk.actions.ingest_statements`,
so the watchlist the demo ends with is the one the early-warning rules open.

Everything is drawn from ``random.Random`` seeded by the book's seed: the same book, the same
statements.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tenor.risk.actions import ingest_statements
from tenor.risk.ews import Statement, statement_from_document
from tenor.store.database import Database
from tenor.store.models import Borrower, InstallmentRow, Loan


def quarter_ends(first: dt.date, last: dt.date) -> list[dt.date]:
    """Quarter-end dates from the one on or after ``first`` to the one on or before ``last``."""
    ends: list[dt.date] = []
    year, quarter = first.year, (first.month - 1) // 3
    while True:
        month = quarter * 3 + 3
        end = (dt.date(year, month % 12 + 1, 1) if month < 12 else dt.date(year + 1, 1, 1)) - (
            dt.timedelta(days=1)
        )
        if end > last:
            return ends
        if end >= first:
            ends.append(end)
        quarter += 1
        if quarter == 4:
            year, quarter = year + 1, 0


def _level(quarter: int, onset: int | None) -> float:
    """How far a borrower has deteriorated in ``quarter`` (0 healthy), ``onset`` the quarter
    whose end is the last before the first missed payment."""
    if onset is None or quarter < onset - 2:
        return 0.0
    return {onset - 2: 0.3, onset - 1: 0.6}.get(quarter, 1.0 + 0.5 * (quarter - onset))


def statement_for(
    period_end: dt.date, debt: int, level: float, rng: random.Random, currency: str
) -> Statement:
    """One quarter's statements of an enterprise owing ``debt`` yuan, ``level`` deteriorated."""
    noise = 1 + rng.uniform(-0.02, 0.02)
    revenue = round(debt * 0.6 * (1 - 0.08 * level) * noise)
    gross = 0.30 - 0.03 * level
    ebitda = round(revenue * max(0.15 - 0.03 * level, 0.005))
    depreciation = round(revenue * 0.03)
    interest = round(debt * 0.015)
    ebit = ebitda - depreciation
    total_assets = debt * 2
    current_assets = round(total_assets * 0.4 * (1 - 0.1 * min(level, 3)))
    current_liabilities = round(current_assets / (1.6 - 0.25 * min(level, 2)))
    total_liabilities = debt + current_liabilities
    equity = total_assets - total_liabilities
    document: dict[str, Any] = {
        "period_end": period_end.isoformat(),
        "period_months": 3,
        "currency": currency,
        "cash": current_assets - round(current_assets * 0.3) - round(current_assets * 0.4),
        "receivables": round(current_assets * 0.4),
        "inventory": round(current_assets * 0.3),
        "current_assets": current_assets,
        "total_assets": total_assets,
        "current_liabilities": current_liabilities,
        "total_liabilities": total_liabilities,
        "total_debt": debt,
        "equity": equity,
        "retained_earnings": round(equity * 0.5),
        "revenue": revenue,
        "cost_of_sales": round(revenue * (1 - gross)),
        "ebit": ebit,
        "depreciation": depreciation,
        "interest_expense": interest,
        "net_income": round((ebit - interest) * 0.75),
        "operating_cash_flow": round(ebitda * 0.8),
        "debt_service": interest + round(debt * 0.05),
    }
    return statement_from_document({key: str(value) for key, value in document.items()})


def _first_missed(session: Session, loan_ids: list[int], last: dt.date) -> dt.date | None:
    """The earliest due date a payment was missed on (unsettled, or settled late)."""
    missed: dt.date | None = session.scalar(
        select(InstallmentRow.due_date)
        .where(
            InstallmentRow.loan_id.in_(loan_ids),
            InstallmentRow.due_date < last,
            or_(
                InstallmentRow.settled_on.is_(None),
                InstallmentRow.settled_on > InstallmentRow.due_date,
            ),
        )
        .order_by(InstallmentRow.due_date)
        .limit(1)
    )
    return missed


#: The demo behaviours whose finances slide before their first missed payment.
TROUBLED: Final = frozenset({"defaults", "cures"})


def file_statements(db: Database, plan: Any, borrower_ids: Mapping[int, int]) -> int:
    """File every enterprise's quarterly statements up to the book's last date; how many.

    ``plan`` is the demo's :class:`~tenor.simulation.BookPlan` and ``borrower_ids`` maps its
    borrower numbers to database ids. Defaulting and curing borrowers deteriorate before their
    first missed payment; the others stay healthy.
    """
    seed, last = plan.seed, plan.end
    deteriorating = {
        borrower_ids[item.number]: str(item.behaviour) in TROUBLED for item in plan.borrowers
    }
    filed = 0
    with db.transaction() as session:
        enterprises = session.scalars(
            select(Borrower).where(Borrower.kind == "enterprise").order_by(Borrower.id)
        ).all()
        for borrower in enterprises:
            loans = session.scalars(
                select(Loan).where(Loan.borrower_id == borrower.id).order_by(Loan.id)
            ).all()
            if not loans:
                continue
            rng = random.Random(f"{seed}:statements:{borrower.id}")
            first = dt.date.fromisoformat(loans[0].terms["start"])
            ends = quarter_ends(first.replace(year=first.year - 1), last)
            missed = (
                _first_missed(session, [loan.id for loan in loans], last)
                if deteriorating.get(borrower.id, False)
                else None
            )
            onset = None
            if missed is not None:
                before = [index for index, end in enumerate(ends) if end < missed]
                onset = before[-1] if before else None
            debt = int(Decimal(sum(loan.principal_minor for loan in loans)) / 100)
            statements = [
                statement_for(end, debt, _level(index, onset), rng, loans[0].currency)
                for index, end in enumerate(ends)
            ]
            if statements:
                ingest_statements(session, borrower.id, statements, source="demo")
                filed += len(statements)
    return filed
