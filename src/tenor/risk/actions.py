"""Risk writes: statements in, covenants set, watchlist entries and their post-loan tasks,
borrowers' risk profiles (the only writers of those tables).

Statements are validated before anything is written (:mod:`tenor.risk.ews`); ingesting the
same period again replaces its figures and opens no second watchlist entry for the same signal.
Each period is checked against the covenants stored for each of the borrower's open loans, or
:data:`~tenor.risk.ews.DEFAULT_COVENANTS` for a loan with none stored. A breach or a warning
opens a watchlist entry and a post-loan task for the relationship manager (a row with a due
date :data:`TASK_BUSINESS_DAYS` business days ahead and a state) and, where
:data:`STAGE_POLICY` says so, the IFRS 9 stage the loan moves to while the entry is open: the
ECL report and the daily summary take the higher of the loan's own stage and that one.
Completing a task with ``resolve`` closes its entry, and the stage it set is lifted.
"""

# Borrower- and collector-facing text in zh-CN uses full-width punctuation, as it should.
# ruff: noqa: RUF001

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from tenor.audit.log import record_change
from tenor.core.calendar import HolidayCalendar
from tenor.core.errors import DomainError, InvalidArgumentError
from tenor.relief.tables import CreditScore
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
from tenor.risk.tables import (
    FinancialStatement,
    LoanCovenant,
    PostLoanTask,
    RiskProfile,
    WatchlistEntry,
)
from tenor.store.journal import NotFoundError, business_date
from tenor.store.models import Borrower, Loan, LoanStateRow

#: The IFRS 9 stage each severity moves a loan to while its entry is open: a covenant breach
#: is a significant increase in credit risk (stage 2); a warning alone moves nothing.
STAGE_POLICY: Final = {Severity.BREACH: 2, Severity.WARNING: None}
#: Business days (China's calendar) the relationship manager has for each severity's task.
TASK_BUSINESS_DAYS: Final = {Severity.BREACH: 5, Severity.WARNING: 10}
#: Who a post-loan task is for.
RELATIONSHIP_MANAGER: Final = "relationship-manager"
TASK_STATES: Final = ("open", "done")

_OPEN_LOANS: Final = ("active", "approved", "overpaid")
_CALENDAR: Final = HolidayCalendar("CN")


class TaskNotOpenError(DomainError):
    """A post-loan task that was completed already."""

    code = "task_not_open"


def add_business_days(day: dt.date, days: int) -> dt.date:
    """The ``days``-th working day after ``day`` in China (weekends, holidays, make-up days)."""
    cursor = day
    for _ in range(days):
        cursor += dt.timedelta(days=1)
        while not _CALENDAR.is_business_day(cursor):
            cursor += dt.timedelta(days=1)
    return cursor


def _task(signal: Signal) -> dict[str, str]:
    days = TASK_BUSINESS_DAYS[signal.severity]
    if signal.severity is Severity.BREACH:
        return {
            "zh-CN": f"客户经理：{signal.period_end} 财务报表触发契约违约（{signal.detail}），"
            f"请在 {days} 个工作日内完成贷后检查并提交处置方案。",
            "en": f"Relationship manager: the statements of {signal.period_end} breach a "
            f"covenant ({signal.detail}); complete a post-loan review within {days} business "
            "days and propose an action.",
        }
    return {
        "zh-CN": f"客户经理：{signal.period_end} 财务报表出现预警（{signal.detail}），"
        f"请在 {days} 个工作日内联系企业核实经营情况。",
        "en": f"Relationship manager: the statements of {signal.period_end} raise a warning "
        f"({signal.detail}); contact the borrower within {days} business days to review it.",
    }


def _statement(row: FinancialStatement) -> Statement:
    document = {
        "period_end": row.period_end.isoformat(),
        "period_months": row.period_months,
        "currency": row.currency,
        **row.figures,
    }
    return statement_from_document(document)


def _covenant(row: LoanCovenant) -> Covenant:
    extra = {} if row.headroom is None else {"headroom": Decimal(row.headroom)}
    return Covenant(
        row.indicator,
        minimum=None if row.minimum is None else Decimal(row.minimum),
        maximum=None if row.maximum is None else Decimal(row.maximum),
        **extra,
    )


def _stored_covenants(session: Session, loan_id: int) -> list[LoanCovenant]:
    return list(
        session.scalars(
            select(LoanCovenant).where(LoanCovenant.loan_id == loan_id).order_by(LoanCovenant.id)
        )
    )


def covenants_for(session: Session, loan_id: int) -> list[Covenant]:
    """The loan's covenants, or :data:`DEFAULT_COVENANTS` when none are set."""
    rows = _stored_covenants(session, loan_id)
    if not rows:
        return list(DEFAULT_COVENANTS)
    return [_covenant(row) for row in rows]


def covenants_document(session: Session, loan_id: int) -> dict[str, Any]:
    """The covenants ingesting a statement checks for loan ``loan_id``, as JSON.

    ``source`` is ``loan`` when the loan has covenants of its own, ``default`` when it has none
    and :data:`DEFAULT_COVENANTS` apply.
    """
    if session.get(Loan, loan_id) is None:
        raise NotFoundError(f"loan {loan_id} does not exist")
    rows = _stored_covenants(session, loan_id)
    covenants = [_covenant(row) for row in rows] if rows else list(DEFAULT_COVENANTS)
    return {
        "loan_id": loan_id,
        "source": "loan" if rows else "default",
        "covenants": [covenant.document() for covenant in covenants],
    }


def _log_covenants(session: Session, loan_id: int, actor: str) -> None:
    session.flush()
    record_change(
        session,
        "covenant",
        f"loans/{loan_id}/covenants",
        {"by": actor, **covenants_document(session, loan_id)},
    )


def _row_of(loan_id: int, covenant: Covenant) -> LoanCovenant:
    return LoanCovenant(
        loan_id=loan_id,
        indicator=covenant.indicator,
        minimum=None if covenant.minimum is None else str(covenant.minimum),
        maximum=None if covenant.maximum is None else str(covenant.maximum),
        headroom=str(covenant.headroom),
    )


def set_covenants(
    session: Session, loan_id: int, covenants: Sequence[Covenant], *, actor: str = "system"
) -> None:
    """Replace the covenants of loan ``loan_id`` (an empty list: the defaults apply again)."""
    if session.get(Loan, loan_id) is None:
        raise NotFoundError(f"loan {loan_id} does not exist")
    indicators = [covenant.indicator for covenant in covenants]
    if len(set(indicators)) != len(indicators):
        raise InvalidArgumentError("a loan has at most one covenant per indicator")
    for row in _stored_covenants(session, loan_id):
        session.delete(row)
    session.flush()
    session.add_all([_row_of(loan_id, covenant) for covenant in covenants])
    _log_covenants(session, loan_id, actor)


def set_covenant(session: Session, loan_id: int, covenant: Covenant, *, actor: str) -> None:
    """Set one covenant of loan ``loan_id``, replacing the one on the same indicator.

    Once a loan has a covenant of its own, the defaults no longer apply to it: set every
    covenant the loan agreement has.
    """
    if session.get(Loan, loan_id) is None:
        raise NotFoundError(f"loan {loan_id} does not exist")
    for row in _stored_covenants(session, loan_id):
        if row.indicator == covenant.indicator:
            session.delete(row)
    session.flush()
    session.add(_row_of(loan_id, covenant))
    _log_covenants(session, loan_id, actor)


def remove_covenant(session: Session, loan_id: int, indicator: str, *, actor: str) -> None:
    """Remove loan ``loan_id``'s covenant on ``indicator`` (the last removed: defaults apply)."""
    if session.get(Loan, loan_id) is None:
        raise NotFoundError(f"loan {loan_id} does not exist")
    rows = [row for row in _stored_covenants(session, loan_id) if row.indicator == indicator]
    if not rows:
        raise NotFoundError(f"loan {loan_id} has no covenant on {indicator}")
    for row in rows:
        session.delete(row)
    _log_covenants(session, loan_id, actor)


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
    today = business_date(session)
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
        entry = WatchlistEntry(
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
        session.add(entry)
        session.flush()
        session.add(
            PostLoanTask(
                watchlist_id=entry.id,
                borrower_id=borrower_id,
                loan_id=entry.loan_id,
                assignee=RELATIONSHIP_MANAGER,
                title=entry.task,
                opened_on=today,
                due_date=add_business_days(today, TASK_BUSINESS_DAYS[signal.severity]),
                state="open",
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
    rows = session.execute(
        select(WatchlistEntry.severity, func.count())
        .where(WatchlistEntry.status == "open")
        .group_by(WatchlistEntry.severity)
    )
    for severity, count in rows:
        counts[severity] = int(count)
    return counts


def task_document(task: PostLoanTask, today: dt.date) -> dict[str, Any]:
    """A post-loan task as JSON; ``overdue`` as of business date ``today``."""
    return {
        "id": task.id,
        "watchlist_id": task.watchlist_id,
        "borrower_id": task.borrower_id,
        "loan_id": task.loan_id,
        "assignee": task.assignee,
        "title": task.title,
        "opened_on": task.opened_on.isoformat(),
        "due_date": task.due_date.isoformat(),
        "state": task.state,
        "overdue": task.state == "open" and task.due_date < today,
        "completed_by": task.completed_by,
        "completed_at": task.completed_at.isoformat() if task.completed_at else None,
        "note": task.note,
    }


def tasks(
    session: Session, *, state: str | None = "open", loan_id: int | None = None
) -> list[dict[str, Any]]:
    """Post-loan tasks (open ones by default), earliest due first."""
    if state is not None and state not in TASK_STATES:
        raise InvalidArgumentError(f"a task's state is one of {', '.join(TASK_STATES)}")
    query = select(PostLoanTask)
    if state is not None:
        query = query.where(PostLoanTask.state == state)
    if loan_id is not None:
        query = query.where(PostLoanTask.loan_id == loan_id)
    today = business_date(session)
    rows = session.scalars(query.order_by(PostLoanTask.due_date, PostLoanTask.id))
    return [task_document(row, today) for row in rows]


def task_summary(session: Session, day: dt.date) -> dict[str, int]:
    """Open post-loan tasks, and how many of them are past their due date on ``day``."""
    open_tasks = session.scalar(
        select(func.count()).select_from(PostLoanTask).where(PostLoanTask.state == "open")
    )
    overdue = session.scalar(
        select(func.count())
        .select_from(PostLoanTask)
        .where(PostLoanTask.state == "open", PostLoanTask.due_date < day)
    )
    return {"open": int(open_tasks or 0), "overdue": int(overdue or 0)}


def complete_task(
    session: Session,
    task_id: int,
    *,
    actor: str,
    now: dt.datetime,
    note: str | None = None,
    resolve: bool = False,
) -> dict[str, Any]:
    """Mark post-loan task ``task_id`` done; with ``resolve``, close its watchlist entry too
    (the review found the signal dealt with), which lifts the stage the entry set."""
    # Locked on PostgreSQL, so that two people completing it at once cannot both succeed.
    task = session.get(PostLoanTask, task_id, with_for_update=True)
    if task is None:
        raise NotFoundError(f"task {task_id} does not exist")
    if task.state != "open":
        raise TaskNotOpenError(f"task {task_id} was completed by {task.completed_by} already")
    task.state = "done"
    task.completed_by = actor
    task.completed_at = now
    task.note = note
    if resolve:
        entry = session.get(WatchlistEntry, task.watchlist_id)
        if entry is not None:
            entry.status = "closed"
    session.flush()
    return task_document(task, business_date(session))


def stage_summary(session: Session) -> dict[str, int]:
    """Loans the open watchlist moves above their own stage, by the stage they move to."""
    overrides = stage_overrides(session)
    own = dict(
        session.execute(
            select(LoanStateRow.loan_id, LoanStateRow.stage).where(
                LoanStateRow.loan_id.in_(sorted(overrides))
            )
        ).all()
    )
    counts: dict[str, int] = {}
    for loan_id, stage in overrides.items():
        if stage > own.get(loan_id, 1):
            counts[str(stage)] = counts.get(str(stage), 0) + 1
    return dict(sorted(counts.items()))


def record_profile(
    session: Session,
    borrower_id: int,
    *,
    dataset: str,
    characteristics: dict[str, Any],
    actor: str,
) -> RiskProfile:
    """Record a borrower's application characteristics for scorecards of ``dataset``'s shape.

    Every characteristic must be one of the data set's columns; a missing one is scored as
    missing (a bin of its own), so a partial profile is allowed but an unknown name is not.
    """
    from tenor.risk.datasets import Dataset, characteristics_of  # noqa: PLC0415 - pandas

    if session.get(Borrower, borrower_id) is None:
        raise NotFoundError(f"borrower {borrower_id} does not exist")
    try:
        shape = Dataset(dataset)
    except ValueError:
        names = ", ".join(item.value for item in Dataset)
        raise InvalidArgumentError(f"dataset must be one of {names}, got {dataset!r}") from None
    known = characteristics_of(shape)
    unknown = sorted(set(characteristics) - set(known))
    if unknown:
        raise InvalidArgumentError(
            f"{', '.join(unknown)}: not characteristics of {dataset} (it has {', '.join(known)})"
        )
    for name, value in characteristics.items():
        if isinstance(value, bool) or not isinstance(value, str | int | float | None):
            raise InvalidArgumentError(f"{name} must be a number, a text or null")
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidArgumentError(f"{name} must be finite; give null for a missing value")
    row = RiskProfile(
        borrower_id=borrower_id,
        dataset=shape.value,
        characteristics={name: characteristics[name] for name in known if name in characteristics},
        recorded_by=actor,
    )
    session.add(row)
    session.flush()
    return row


def record_profiles(
    session: Session,
    profiles: Sequence[tuple[int, dict[str, Any]]],
    *,
    dataset: str,
    actor: str,
) -> int:
    """Record many borrowers' profiles of ``dataset``'s shape in one statement (a bulk load
    of applications Tenor already holds); the same checks as :func:`record_profile` but the
    borrowers' existence, which their foreign key guards. Returns how many."""
    from tenor.risk.datasets import Dataset, characteristics_of  # noqa: PLC0415 - pandas

    known = characteristics_of(Dataset(dataset))
    rows = []
    for borrower_id, characteristics in profiles:
        unknown = sorted(set(characteristics) - set(known))
        if unknown:
            raise InvalidArgumentError(f"{', '.join(unknown)}: not characteristics of {dataset}")
        rows.append(
            {
                "borrower_id": borrower_id,
                "dataset": dataset,
                "characteristics": characteristics,
                "recorded_by": actor,
            }
        )
    if rows:
        session.execute(insert(RiskProfile), rows)
    return len(rows)


def profile_document(row: RiskProfile) -> dict[str, Any]:
    """A risk profile as JSON."""
    return {
        "id": row.id,
        "borrower_id": row.borrower_id,
        "dataset": row.dataset,
        "characteristics": row.characteristics,
        "recorded_by": row.recorded_by,
        "recorded_at": row.recorded_at.isoformat() if row.recorded_at else None,
    }


def latest_profile(session: Session, borrower_id: int) -> RiskProfile:
    """Borrower ``borrower_id``'s profile in force (its newest)."""
    row = session.scalars(
        select(RiskProfile)
        .where(RiskProfile.borrower_id == borrower_id)
        .order_by(RiskProfile.id.desc())
        .limit(1)
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"borrower {borrower_id} has no risk profile")
    return row


def record_model_scores(
    session: Session,
    scores: Sequence[tuple[int, int]],
    *,
    source: str,
    as_of: dt.date,
    actor: str,
) -> int:
    """Record ``(borrower_id, score)`` pairs in relief's credit scores, in one statement.

    The bulk form of :func:`tenor.actions.relief.record_credit_score` for a model's scores of
    borrowers Tenor already holds: the same rules (a score from 0 to 1000, a source of at most
    64 characters, not after the business date), but a score outside the range is left out
    and counted, not raised, so that one odd borrower never stops the close. Returns how many
    were recorded.
    """
    source = source.strip()
    if not 1 <= len(source) <= 64:
        raise InvalidArgumentError("a credit score needs its source, at most 64 characters")
    if as_of > business_date(session):
        raise InvalidArgumentError(f"a credit score as of {as_of} is after the business date")
    rows = [
        {
            "borrower_id": borrower_id,
            "score": score,
            "source": source,
            "as_of": as_of,
            "recorded_by": actor,
        }
        for borrower_id, score in scores
        if 0 <= score <= 1000
    ]
    if rows:
        session.execute(insert(CreditScore), rows)
    return len(rows)


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
