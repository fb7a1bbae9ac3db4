"""The end-of-day portfolio the close leaves, and the portfolio report read from it.

At the end of each business date's close, :func:`write_end_of_day` writes (again, if a rerun
gets there twice) the open loans and their balances by bucket, five-level class and IFRS 9
stage, the bucket-to-bucket rolls of the day, and on a month end each loan's bucket, from which
:func:`portfolio_report` reads the month-over-month roll-rate matrix and cure rates.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any, Final, cast

from sqlalchemy import Table, case, delete, func, insert, literal, select
from sqlalchemy.orm import Session, aliased

from tenor.batch.tables import (
    CloseDay,
    CloseMonthEnd,
    CloseRoll,
    CloseSummary,
)
from tenor.core.delinquency import CHINESE_BUCKETS, US_BUCKETS, LoanClass
from tenor.core.errors import DomainError
from tenor.core.money import Money
from tenor.risk import close as risk_close
from tenor.store.journal import business_date
from tenor.store.models import JournalEntry, LoanStateRow

#: Loans the summary counts: paid out and not yet paid off or written off.
SUMMARY_STATUSES: Final = ("active", "overpaid")
#: Loans a month end's snapshot keeps: written-off loans too, so that roll rates show them.
SNAPSHOT_STATUSES: Final = ("active", "overpaid", "written-off")
#: The "from" of a roll for a loan's first close.
NEW: Final = "new"
#: The "to" of a month-over-month roll for a loan paid off since the earlier month end.
PAID_OFF: Final = "paid-off"
WRITTEN_OFF: Final = "written-off"

_STATES = cast(Table, LoanStateRow.__table__)
_SUMMARY = cast(Table, CloseSummary.__table__)
_ROLLS = cast(Table, CloseRoll.__table__)
_MONTH_END = cast(Table, CloseMonthEnd.__table__)
_JOURNAL = cast(Table, JournalEntry.__table__)
_BUCKET_ORDER: Final = {
    bucket.name: (scheme, index)
    for scheme, buckets in enumerate((CHINESE_BUCKETS, US_BUCKETS))
    for index, bucket in enumerate(buckets.buckets)
}


class ReportError(DomainError):
    """A report asked for a date the close has not summarised."""

    code = "not_closed"


def bucket_order(name: str) -> tuple[int, int, str]:
    """Sort key: known schemes' buckets in band order, any other bucket after them by name."""
    scheme, index = _BUCKET_ORDER.get(name, (9, 0))
    return scheme, index, name


def _is_month_end(day: dt.date) -> bool:
    return (day + dt.timedelta(days=1)).day == 1


def write_end_of_day(session: Session, day: dt.date) -> None:
    """Write ``day``'s summary, rolls and (on a month end) snapshot, replacing any earlier."""
    connection = session.connection()
    for table, column in (
        (_SUMMARY, _SUMMARY.c.business_date),
        (_ROLLS, _ROLLS.c.business_date),
        (_MONTH_END, _MONTH_END.c.month_end),
    ):
        connection.execute(delete(table).where(column == day))
    open_loans = _STATES.c.status.in_(SUMMARY_STATUSES)
    outstanding = (
        _STATES.c.outstanding_principal_minor
        + _STATES.c.outstanding_interest_minor
        + _STATES.c.outstanding_fees_minor
        + _STATES.c.outstanding_penalties_minor
    )
    summary: list[dict[str, Any]] = []
    for dimension, column in (
        ("bucket", _STATES.c.bucket),
        ("class", _STATES.c.loan_class),
        ("stage", _STATES.c.stage),
    ):
        rows = connection.execute(
            select(
                _STATES.c.currency,
                column,
                func.count(),
                func.sum(_STATES.c.outstanding_principal_minor),
                func.sum(outstanding),
                func.sum(_STATES.c.arrears_minor),
            )
            .where(open_loans)
            .group_by(_STATES.c.currency, column)
        )
        summary.extend(
            {
                "business_date": day,
                "currency": currency,
                "dimension": dimension,
                "key": str(key),
                "loans": loans,
                "principal_minor": int(principal or 0),
                "outstanding_minor": int(total or 0),
                "arrears_minor": int(arrears or 0),
            }
            for currency, key, loans, principal, total, arrears in rows
        )
    if summary:
        connection.execute(insert(_SUMMARY), summary)
    _write_rolls(session, day, summary)
    if _is_month_end(day):
        connection.execute(
            insert(_MONTH_END).from_select(
                [
                    "month_end",
                    "loan_id",
                    "currency",
                    "status",
                    "days_past_due",
                    "bucket",
                    "principal_minor",
                ],
                select(
                    literal(day, CloseMonthEnd.month_end.type),
                    _STATES.c.loan_id,
                    _STATES.c.currency,
                    _STATES.c.status,
                    _STATES.c.days_past_due,
                    _STATES.c.bucket,
                    _STATES.c.outstanding_principal_minor,
                ).where(_STATES.c.status.in_(SNAPSHOT_STATUSES)),
            )
        )


def _write_rolls(session: Session, day: dt.date, summary: list[dict[str, Any]]) -> None:
    """Rolls since yesterday: the day's bucket moves, and loans that stayed in their bucket.

    The moves are the close's ``bucket-changed`` events of the day (found past the journal mark
    the day's close started from); a loan that stayed is one in the bucket at the end of the
    day that did not move into it.
    """
    connection = session.connection()
    mark = session.scalar(select(CloseDay.journal_to).where(CloseDay.business_date == day)) or 0
    # The day's moves, counted in SQL: a book-wide salary day moves a fifth of the book.
    summarised = _STATES.c.status.in_(SUMMARY_STATUSES)
    principal = _STATES.c.outstanding_principal_minor
    from_bucket = func.coalesce(func.nullif(_JOURNAL.c.payload["from_bucket"].as_string(), ""), NEW)
    to_bucket = _JOURNAL.c.payload["to_bucket"].as_string()
    moves = connection.execute(
        select(
            _STATES.c.currency,
            from_bucket,
            to_bucket,
            func.count(),
            func.sum(principal),
            func.sum(case((summarised, 1), else_=0)),
            func.sum(case((summarised, principal), else_=0)),
        )
        .join(_STATES, _STATES.c.loan_id == _JOURNAL.c.loan_id)
        .where(
            _JOURNAL.c.id > mark,
            _JOURNAL.c.kind == "bucket-changed",
            _JOURNAL.c.value_date == day,
            _JOURNAL.c.actor == "close",
        )
        .group_by(_STATES.c.currency, from_bucket, to_bucket)
    ).all()
    rolls: defaultdict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    arrived: defaultdict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for currency, source, target, loans, moved, came, came_principal in moves:
        cell = rolls[(currency, source, target)]
        cell[0] += int(loans)
        cell[1] += int(moved or 0)
        arrival = arrived[(currency, target)]
        arrival[0] += int(came or 0)
        arrival[1] += int(came_principal or 0)
    for row in summary:
        if row["dimension"] != "bucket":
            continue
        came = arrived.get((row["currency"], row["key"]), [0, 0])
        stayed = (row["loans"] - came[0], row["principal_minor"] - came[1])
        if stayed[0] > 0:
            rolls[(row["currency"], row["key"], row["key"])] = list(stayed)
    if rolls:
        connection.execute(
            insert(_ROLLS),
            [
                {
                    "business_date": day,
                    "currency": currency,
                    "from_bucket": from_bucket,
                    "to_bucket": to_bucket,
                    "loans": loans,
                    "principal_minor": principal,
                }
                for (currency, from_bucket, to_bucket), (loans, principal) in sorted(rolls.items())
            ],
        )


# ---------------------------------------------------------------------------------------------
# The report


def _amount(minor: int, currency: str) -> str:
    return Money(int(minor), currency).format()


def last_closed(session: Session) -> dt.date | None:
    """The latest business date whose close finished."""
    return session.scalar(
        select(func.max(CloseDay.business_date)).where(CloseDay.finished_at.is_not(None))
    )


def _summary_rows(session: Session, day: dt.date, dimension: str) -> list[CloseSummary]:
    return list(
        session.scalars(
            select(CloseSummary).where(
                CloseSummary.business_date == day, CloseSummary.dimension == dimension
            )
        )
    )


def _row_document(row: CloseSummary) -> dict[str, Any]:
    return {
        "currency": row.currency,
        "loans": row.loans,
        "principal": _amount(row.principal_minor, row.currency),
        "outstanding": _amount(row.outstanding_minor, row.currency),
        "arrears": _amount(row.arrears_minor, row.currency),
    }


def rolls_since_yesterday(session: Session, day: dt.date) -> list[dict[str, Any]]:
    """The bucket-to-bucket rolls of ``day``'s close."""
    rows = session.scalars(select(CloseRoll).where(CloseRoll.business_date == day)).all()
    return [
        {
            "currency": row.currency,
            "from": row.from_bucket,
            "to": row.to_bucket,
            "loans": row.loans,
            "principal": _amount(row.principal_minor, row.currency),
        }
        for row in sorted(
            rows,
            key=lambda r: (r.currency, bucket_order(r.from_bucket), bucket_order(r.to_bucket)),
        )
    ]


def _month_over_month(session: Session, day: dt.date) -> tuple[dict[str, Any], dict[str, Any]]:
    """The roll-rate matrix and cure rates between the last two month ends up to ``day``."""
    ends = list(
        session.scalars(
            select(CloseMonthEnd.month_end)
            .where(CloseMonthEnd.month_end <= day)
            .group_by(CloseMonthEnd.month_end)
            .order_by(CloseMonthEnd.month_end.desc())
            .limit(2)
        )
    )
    if len(ends) < 2:
        note = "needs two month ends closed"
        return {"from_month_end": None, "to_month_end": None, "matrix": [], "note": note}, {
            "overall": None,
            "by_bucket": [],
            "note": note,
        }
    later, earlier = ends
    before = aliased(CloseMonthEnd)
    after = aliased(CloseMonthEnd)
    rows = session.execute(
        select(
            before.currency,
            before.bucket,
            before.days_past_due,
            after.bucket,
            after.status,
            after.days_past_due,
            func.count(),
            func.sum(before.principal_minor),
        )
        .outerjoin(after, (after.loan_id == before.loan_id) & (after.month_end == later))
        .where(before.month_end == earlier, before.status != WRITTEN_OFF)
        .group_by(
            before.currency,
            before.bucket,
            before.days_past_due,
            after.bucket,
            after.status,
            after.days_past_due,
        )
    ).all()
    cells: defaultdict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    cures: defaultdict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for currency, from_bucket, from_dpd, to_bucket, to_status, to_dpd, loans, principal in rows:
        if to_status is None:
            to = PAID_OFF
        elif to_status == WRITTEN_OFF:
            to = WRITTEN_OFF
        else:
            to = to_bucket
        cell = cells[(currency, from_bucket, to)]
        cell[0] += loans
        cell[1] += int(principal or 0)
        if from_dpd > 0:
            cure = cures[(currency, from_bucket)]
            cure[0] += loans
            if to_status is None or (to_status != WRITTEN_OFF and to_dpd == 0):
                cure[1] += loans
    totals: defaultdict[tuple[str, str], int] = defaultdict(int)
    for (currency, from_bucket, _), (loans, _) in cells.items():
        totals[(currency, from_bucket)] += loans
    matrix = [
        {
            "currency": currency,
            "from": from_bucket,
            "to": to,
            "loans": loans,
            "principal": _amount(principal, currency),
            "rate": round(loans / totals[(currency, from_bucket)], 4),
        }
        for (currency, from_bucket, to), (loans, principal) in sorted(
            cells.items(),
            key=lambda item: (item[0][0], bucket_order(item[0][1]), bucket_order(item[0][2])),
        )
    ]
    delinquent = sum(loans for loans, _ in cures.values())
    cured = sum(count for _, count in cures.values())
    cure_rates = {
        "overall": round(cured / delinquent, 4) if delinquent else None,
        "delinquent_loans": delinquent,
        "cured_loans": cured,
        "by_bucket": [
            {
                "currency": currency,
                "from": from_bucket,
                "loans": loans,
                "cured": count,
                "rate": round(count / loans, 4),
            }
            for (currency, from_bucket), (loans, count) in sorted(
                cures.items(), key=lambda item: (item[0][0], bucket_order(item[0][1]))
            )
        ],
    }
    return {
        "from_month_end": earlier.isoformat(),
        "to_month_end": later.isoformat(),
        "matrix": matrix,
    }, cure_rates


def portfolio_report(session: Session, day: dt.date | None = None) -> dict[str, Any]:
    """The portfolio at the end of business date ``day`` (default: the last one closed).

    Buckets, classes and stages with their loans and balances, the rolls since the day
    before, the month-over-month roll-rate matrix and cure rates, and the early-warning
    summary the day's close wrote (:func:`tenor.risk.close.day_summary`).
    """
    closed = last_closed(session)
    if closed is None:
        raise ReportError("no business date has been closed yet; run `tenor close` first")
    if day is None:
        day = closed
    elif (
        session.scalar(
            select(CloseDay.business_date).where(
                CloseDay.business_date == day, CloseDay.finished_at.is_not(None)
            )
        )
        is None
    ):
        raise ReportError(f"business date {day} has not been closed; the last closed is {closed}")
    buckets = sorted(
        _summary_rows(session, day, "bucket"), key=lambda r: (r.currency, bucket_order(r.key))
    )
    classes = sorted(_summary_rows(session, day, "class"), key=lambda r: (r.currency, r.key))
    stages = sorted(_summary_rows(session, day, "stage"), key=lambda r: (r.currency, r.key))
    balances: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for row in buckets:
        total = balances[row.currency]
        total[0] += row.loans
        total[1] += row.principal_minor
        total[2] += row.outstanding_minor
        total[3] += row.arrears_minor
    roll_rates, cure_rates = _month_over_month(session, day)
    return {
        "business_date": day.isoformat(),
        "open_business_date": business_date(session).isoformat(),
        "balances": [
            {
                "currency": currency,
                "loans": loans,
                "principal": _amount(principal, currency),
                "outstanding": _amount(outstanding, currency),
                "arrears": _amount(arrears, currency),
            }
            for currency, (loans, principal, outstanding, arrears) in sorted(balances.items())
        ],
        "buckets": [{"bucket": row.key, **_row_document(row)} for row in buckets],
        "classes": [
            {
                "class": int(row.key),
                "label_zh": LoanClass(int(row.key)).label_zh,
                "label_en": LoanClass(int(row.key)).label_en,
                **_row_document(row),
            }
            for row in classes
        ],
        "stages": [{"stage": int(row.key), **_row_document(row)} for row in stages],
        "rolls": rolls_since_yesterday(session, day),
        "roll_rates": roll_rates,
        "cure_rates": cure_rates,
        "early_warning": risk_close.day_summary(session, day),
    }
