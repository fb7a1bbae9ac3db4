"""Risk writes: statements in, covenants set, watchlist entries opened (the only writers).

Statements are validated before anything is written (:mod:`tenor.risk.ews`); ingesting the
same period again replaces its figures and opens no second watchlist entry for the same signal.
A breach opens a watchlist entry with a post-loan task for the relationship manager (zh-CN and
en) and, where :data:`STAGE_POLICY` says so, the IFRS 9 stage the loan moves to; the ECL report
takes the higher of the loan's own stage and that one.
"""

# Borrower- and collector-facing text in zh-CN uses full-width punctuation, as it should.
# ruff: noqa: RUF001

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenor.core.errors import InvalidArgumentError
from tenor.risk.ews import (
    DEFAULT_COVENANTS,
    Covenant,
    Severity,
    Signal,
    Statement,
    check_covenants,
    check_trends,
    statement_from_document,
)
from tenor.risk.tables import FinancialStatement, LoanCovenant, WatchlistEntry
from tenor.store.journal import NotFoundError
from tenor.store.models import Borrower, Loan

#: The IFRS 9 stage each severity moves a loan to (a significant increase in credit risk).
STAGE_POLICY: Final = {Severity.BREACH: 2, Severity.WARNING: None}

_OPEN_LOANS: Final = ("active", "approved", "overpaid")


def _task(signal: Signal) -> dict[str, str]:
    if signal.severity is Severity.BREACH:
        return {
            "zh-CN": f"客户经理：{signal.period_end} 财务报表触发契约违约（{signal.detail}），"
            "请在 5 个工作日内完成贷后检查并提交处置方案。",
            "en": f"Relationship manager: the statements of {signal.period_end} breach a "
            f"covenant ({signal.detail}); complete a post-loan review within 5 business days "
            "and propose an action.",
        }
    return {
        "zh-CN": f"客户经理：{signal.period_end} 财务报表出现预警（{signal.detail}），"
        "请在 10 个工作日内联系企业核实经营情况。",
        "en": f"Relationship manager: the statements of {signal.period_end} raise a warning "
        f"({signal.detail}); contact the borrower within 10 business days to review it.",
    }


def _statement(row: FinancialStatement) -> Statement:
    document = {
        "period_end": row.period_end.isoformat(),
        "period_months": row.period_months,
        "currency": row.currency,
        **row.figures,
    }
    return statement_from_document(document)


def covenants_for(session: Session, loan_id: int) -> list[Covenant]:
    """The loan's covenants, or :data:`DEFAULT_COVENANTS` when none are set."""
    rows = session.scalars(
        select(LoanCovenant).where(LoanCovenant.loan_id == loan_id).order_by(LoanCovenant.id)
    ).all()
    if not rows:
        return list(DEFAULT_COVENANTS)
    return [
        Covenant(
            row.indicator,
            minimum=None if row.minimum is None else Decimal(row.minimum),
            maximum=None if row.maximum is None else Decimal(row.maximum),
        )
        for row in rows
    ]


def set_covenants(session: Session, loan_id: int, covenants: Sequence[Covenant]) -> None:
    """Replace the covenants of loan ``loan_id``."""
    if session.get(Loan, loan_id) is None:
        raise NotFoundError(f"loan {loan_id} does not exist")
    for row in session.scalars(select(LoanCovenant).where(LoanCovenant.loan_id == loan_id)):
        session.delete(row)
    for covenant in covenants:
        session.add(
            LoanCovenant(
                loan_id=loan_id,
                indicator=covenant.indicator,
                minimum=None if covenant.minimum is None else str(covenant.minimum),
                maximum=None if covenant.maximum is None else str(covenant.maximum),
            )
        )


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What an ingest stored and what it raised."""

    borrower_id: int
    periods: list[dt.date]
    signals: list[dict[str, Any]]
    opened: int

    def document(self) -> dict[str, Any]:
        """The result as JSON."""
        return {
            "borrower_id": self.borrower_id,
            "periods": [period.isoformat() for period in self.periods],
            "signals": self.signals,
            "watchlist_opened": self.opened,
        }


def ingest_statements(
    session: Session, borrower_id: int, statements: Sequence[Statement], *, source: str
) -> IngestResult:
    """Store ``statements`` of an enterprise borrower and run the early-warning rules.

    Each period is checked as of itself (the trends over the statements up to it), so that a
    file of several quarters raises each warning on the quarter it first appeared.
    """
    borrower = session.get(Borrower, borrower_id)
    if borrower is None:
        raise NotFoundError(f"borrower {borrower_id} does not exist")
    if borrower.kind != "enterprise":
        raise InvalidArgumentError(f"borrower {borrower_id} is not an enterprise")
    for statement in statements:
        row = session.scalars(
            select(FinancialStatement).where(
                FinancialStatement.borrower_id == borrower_id,
                FinancialStatement.period_end == statement.period_end,
            )
        ).one_or_none()
        figures = statement.document()["figures"]
        if row is None:
            session.add(
                FinancialStatement(
                    borrower_id=borrower_id,
                    period_end=statement.period_end,
                    period_months=statement.period_months,
                    currency=statement.currency,
                    figures=figures,
                    source=source[:200],
                )
            )
        else:
            row.period_months = statement.period_months
            row.currency = statement.currency
            row.figures = figures
            row.source = source[:200]
    session.flush()
    history = [
        _statement(row)
        for row in session.scalars(
            select(FinancialStatement)
            .where(FinancialStatement.borrower_id == borrower_id)
            .order_by(FinancialStatement.period_end)
        )
    ]
    loans = session.scalars(
        select(Loan)
        .where(Loan.borrower_id == borrower_id, Loan.status.in_(_OPEN_LOANS))
        .order_by(Loan.id)
    ).all()
    signals: list[tuple[Signal, int | None]] = []
    for statement in sorted(statements, key=lambda item: item.period_end):
        upto = [item for item in history if item.period_end <= statement.period_end]
        signals.extend((signal, None) for signal in check_trends(upto))
        for loan in loans:
            signals.extend(
                (signal, loan.id)
                for signal in check_covenants(statement, covenants_for(session, loan.id))
            )
    opened = 0
    for signal, loan_id in signals:
        exists = session.scalars(
            select(WatchlistEntry.id).where(
                WatchlistEntry.borrower_id == borrower_id,
                WatchlistEntry.code == signal.code,
                WatchlistEntry.period_end == signal.period_end,
            )
        ).first()
        if exists is not None:
            continue
        session.add(
            WatchlistEntry(
                borrower_id=borrower_id,
                loan_id=loan_id if loan_id is not None else (loans[0].id if loans else None),
                code=signal.code,
                severity=signal.severity.value,
                period_end=signal.period_end,
                detail=signal.detail,
                task=_task(signal),
                stage=STAGE_POLICY[signal.severity],
                status="open",
            )
        )
        session.flush()
        opened += 1
    return IngestResult(
        borrower_id=borrower_id,
        periods=[statement.period_end for statement in statements],
        signals=[
            {
                "code": signal.code,
                "severity": signal.severity.value,
                "period_end": signal.period_end.isoformat(),
                "detail": signal.detail,
                "loan_id": loan_id,
            }
            for signal, loan_id in signals
        ],
        opened=opened,
    )


def watchlist_document(entry: WatchlistEntry) -> dict[str, Any]:
    """A watchlist entry as JSON."""
    return {
        "id": entry.id,
        "borrower_id": entry.borrower_id,
        "loan_id": entry.loan_id,
        "code": entry.code,
        "severity": entry.severity,
        "period_end": entry.period_end.isoformat(),
        "detail": entry.detail,
        "task": entry.task,
        "stage": entry.stage,
        "status": entry.status,
    }


def watchlist(session: Session, *, status: str | None = "open") -> list[dict[str, Any]]:
    """Watchlist entries (open ones by default), breaches first, then by period and borrower."""
    query = select(WatchlistEntry)
    if status is not None:
        query = query.where(WatchlistEntry.status == status)
    rows = session.scalars(query).all()
    order = {Severity.BREACH.value: 0, Severity.WARNING.value: 1}
    rows = sorted(rows, key=lambda row: (order[row.severity], row.period_end, row.borrower_id))
    return [watchlist_document(row) for row in rows]


def watchlist_summary(session: Session) -> dict[str, int]:
    """Counts of open entries by severity, for the daily summary."""
    counts = {Severity.BREACH.value: 0, Severity.WARNING.value: 0}
    for row in session.scalars(select(WatchlistEntry).where(WatchlistEntry.status == "open")):
        counts[row.severity] += 1
    return counts


def stage_overrides(session: Session) -> dict[int, int]:
    """The IFRS 9 stage open watchlist entries move each loan to (the highest per loan)."""
    stages: dict[int, int] = {}
    query = select(WatchlistEntry).where(
        WatchlistEntry.status == "open", WatchlistEntry.stage.is_not(None)
    )
    for row in session.scalars(query):
        if row.loan_id is not None and row.stage is not None:
            stages[row.loan_id] = max(stages.get(row.loan_id, 1), row.stage)
    return stages
