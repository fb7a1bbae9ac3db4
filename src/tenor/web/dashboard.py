"""The dashboard's readings of the daily close and of early warning: roll rates, vintages and
the watchlist, each a chart (or a table) with the same rows as its CSV file.

- The **roll-rate matrix** is the one ``tenor report portfolio`` prints
  (:func:`tenor.batch.portfolio.portfolio_report`): each loan's bucket at the last month end
  against its bucket (or paid off, written off) at the one before, from ``close_month_end``.
- **Vintage curves** read the same month-end snapshots: for each origination cohort (the month
  of a loan's first disbursement), the share of the cohort's loans more than 30 days past due,
  or written off, at each month end, by months on book (0 at the month end of the cohort's own
  month). A cohort is drawn from the first month end the close kept after it.
- The **watchlist** is early warning's open entries (:func:`tenor.risk.actions.watchlist`).

Amounts stay exact decimal strings; rates are percent to two places, computed with Decimal.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from tenor.batch.portfolio import (
    PAID_OFF,
    WRITTEN_OFF,
    ReportError,
    bucket_order,
    portfolio_report,
)
from tenor.batch.tables import CloseMonthEnd
from tenor.core.money import Money
from tenor.risk.actions import watchlist
from tenor.store.models import JournalEntry, Loan
from tenor.web.i18n import Formats
from tenor.web.views import borrower_names, csv_text, major, share

#: Past this many days a loan counts as delinquent in a vintage (the 30+ of "30+ DPD").
VINTAGE_DAYS: Final = 30
#: Cohorts a vintage chart draws (the newest); its table and CSV keep every cohort.
DRAWN_COHORTS: Final = 12
#: Where a month-over-month roll can end besides a bucket.
_EXITS: Final = (PAID_OFF, WRITTEN_OFF)


def _percent(rate: float) -> str:
    """The report's rate (a fraction to four places) in percent to two places."""
    return str((Decimal(str(rate)) * 100).quantize(Decimal("0.01")))


def _target_order(name: str) -> tuple[int, tuple[int, int, str]]:
    return (1, (0, _EXITS.index(name), name)) if name in _EXITS else (0, bucket_order(name))


@dataclass(frozen=True, slots=True)
class RollMatrix:
    """One currency's month-over-month roll rates: rows are buckets at ``from_month_end``,
    columns where those loans were at ``to_month_end``; each cell's loans, principal (at the
    earlier month end) and the share of its row's loans."""

    currency: str
    from_month_end: str
    to_month_end: str
    cells: tuple[dict[str, Any], ...]
    name: str = "rolls"

    @property
    def sources(self) -> list[str]:
        """The rows: buckets at the earlier month end, in band order."""
        return sorted({cell["from"] for cell in self.cells}, key=bucket_order)

    @property
    def targets(self) -> list[str]:
        """The columns: buckets at the later month end, then paid off and written off."""
        return sorted({cell["to"] for cell in self.cells}, key=_target_order)

    def cell(self, source: str, target: str) -> dict[str, Any] | None:
        """The cell of a row and a column, or None when no loan went that way."""
        return next((c for c in self.cells if c["from"] == source and c["to"] == target), None)

    def row_loans(self, source: str) -> int:
        """How many loans the row counts."""
        return sum(int(cell["loans"]) for cell in self.cells if cell["from"] == source)

    def csv(self) -> str:
        """Every cell as a CSV row."""
        columns = (
            "currency",
            "from_month_end",
            "to_month_end",
            "from_bucket",
            "to",
            "loans",
            "principal",
            "rate_percent",
        )
        return csv_text(
            columns,
            (
                {
                    "currency": self.currency,
                    "from_month_end": self.from_month_end,
                    "to_month_end": self.to_month_end,
                    "from_bucket": cell["from"],
                    "to": cell["to"],
                    "loans": cell["loans"],
                    "principal": cell["principal"],
                    "rate_percent": cell["rate_percent"],
                }
                for cell in self.cells
            ),
        )

    def spec(self, fmt: Formats, series: str) -> dict[str, Any]:
        """One bar a row, 100% wide, cut into where its loans went: a segment a column, each
        coloured by whether the loans cured, stayed, rolled further, paid off or were
        written off (the common ECharts build has bars; every row of a matrix reads as one)."""
        sources, targets = self.sources, self.targets
        return {
            "kind": self.name,
            "type": "rolls",
            "rows": sources,
            "targets": [fmt.label("roll:" + t) if t in _EXITS else t for t in targets],
            "values": [
                [None if (c := self.cell(s, t)) is None else c["rate_percent"] for s in sources]
                for t in targets
            ],
            "loans": [
                [None if (c := self.cell(s, t)) is None else c["loans"] for s in sources]
                for t in targets
            ],
            "tones": [[roll_tone(s, t) for s in sources] for t in targets],
            "series": series,
            "percent": True,
            "currency": self.currency,
            "locale": fmt.locale,
        }


def roll_tone(source: str, target: str) -> str:
    """How a roll reads: paid off, written off, cured (a better band), stayed, or worse."""
    if target in _EXITS:
        return target
    before, after = bucket_order(source), bucket_order(target)
    if before[0] != after[0] or before[0] == 9:
        return "other"  # another scheme's bucket, or one no scheme orders
    steps = after[1] - before[1]
    if steps < 0:
        return "cured"
    if steps == 0:
        return "stayed"
    return "worse" if steps == 1 else "much-worse"


def roll_matrices(session: Session) -> tuple[dict[str, RollMatrix], str | None]:
    """Each currency's roll-rate matrix from the portfolio report, and why there is none
    (nothing closed yet, or fewer than two month ends)."""
    try:
        report = portfolio_report(session)
    except ReportError:
        return {}, "no business date has been closed yet"
    rates = report["roll_rates"]
    if not rates["matrix"]:
        return {}, rates.get("note") or "needs two month ends closed"
    by_currency: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
    for cell in rates["matrix"]:
        by_currency[cell["currency"]].append({**cell, "rate_percent": _percent(cell["rate"])})
    return {
        currency: RollMatrix(currency, rates["from_month_end"], rates["to_month_end"], tuple(cells))
        for currency, cells in sorted(by_currency.items())
    }, None


@dataclass(frozen=True, slots=True)
class VintagePoint:
    """One cohort at one month end: how many of its loans were delinquent, and their principal."""

    month_end: dt.date
    months_on_book: int
    delinquent: int
    delinquent_principal: str
    share_percent: str


@dataclass(frozen=True, slots=True)
class Cohort:
    """The loans first paid out in one month, and their curve."""

    month: str
    loans: int
    principal: str
    points: tuple[VintagePoint, ...]

    def at(self, months_on_book: int) -> VintagePoint | None:
        """The point ``months_on_book`` after the cohort's month, if the close kept it."""
        return next((p for p in self.points if p.months_on_book == months_on_book), None)


@dataclass(frozen=True, slots=True)
class Vintages:
    """One currency's vintage curves: delinquency by months on book, per origination cohort."""

    currency: str
    cohorts: tuple[Cohort, ...]
    name: str = "vintages"

    @property
    def months(self) -> list[int]:
        """Months on book from 0 to the longest curve's last."""
        last = max((p.months_on_book for c in self.cohorts for p in c.points), default=-1)
        return list(range(last + 1))

    def csv(self) -> str:
        """One CSV row per cohort and month end."""
        columns = (
            "currency",
            "cohort",
            "loans",
            "principal",
            "month_end",
            "months_on_book",
            "loans_over_30_dpd_or_written_off",
            "their_principal",
            "share_percent",
        )
        return csv_text(
            columns,
            (
                {
                    "currency": self.currency,
                    "cohort": cohort.month,
                    "loans": cohort.loans,
                    "principal": cohort.principal,
                    "month_end": point.month_end.isoformat(),
                    "months_on_book": point.months_on_book,
                    "loans_over_30_dpd_or_written_off": point.delinquent,
                    "their_principal": point.delinquent_principal,
                    "share_percent": point.share_percent,
                }
                for cohort in self.cohorts
                for point in cohort.points
            ),
        )

    def spec(self, fmt: Formats, series: str) -> dict[str, Any]:
        """Lines, one per cohort (the newest :data:`DRAWN_COHORTS`), over months on book."""
        months = self.months
        drawn = self.cohorts[-DRAWN_COHORTS:]
        return {
            "kind": self.name,
            "type": "lines",
            "categories": [str(month) for month in months],
            "axis": fmt.label("Months on book"),
            "lines": [
                {
                    "name": cohort.month,
                    "values": [
                        None if (point := cohort.at(month)) is None else point.share_percent
                        for month in months
                    ],
                }
                for cohort in drawn
            ],
            "series": series,
            "percent": True,
            "currency": self.currency,
            "locale": fmt.locale,
        }


def _months_between(first: dt.date, later: dt.date) -> int:
    return (later.year - first.year) * 12 + later.month - first.month


@dataclass
class _Cohort:
    loans: int = 0
    principal: int = 0
    members: set[int] = field(default_factory=set)


def vintages(session: Session) -> dict[str, Vintages]:
    """Each currency's vintage curves from the close's month-end snapshots."""
    month_ends = list(
        session.scalars(
            select(CloseMonthEnd.month_end)
            .group_by(CloseMonthEnd.month_end)
            .order_by(CloseMonthEnd.month_end)
        )
    )
    if not month_ends:
        return {}
    first_paid = (
        select(JournalEntry.loan_id, func.min(JournalEntry.value_date).label("on"))
        .where(JournalEntry.kind == "disbursed")
        .group_by(JournalEntry.loan_id)
        .subquery()
    )
    cohorts: defaultdict[tuple[str, dt.date], _Cohort] = defaultdict(_Cohort)
    cohort_of: dict[int, tuple[str, dt.date]] = {}
    for loan_id, currency, principal, on in session.execute(
        select(Loan.id, Loan.currency, Loan.principal_minor, first_paid.c.on).join(
            first_paid, first_paid.c.loan_id == Loan.id
        )
    ):
        key = (currency, on.replace(day=1))
        cohort = cohorts[key]
        cohort.loans += 1
        cohort.principal += int(principal)
        cohort_of[int(loan_id)] = key
    late: defaultdict[tuple[str, dt.date, dt.date], list[int]] = defaultdict(lambda: [0, 0])
    for month_end, loan_id, principal in session.execute(
        select(CloseMonthEnd.month_end, CloseMonthEnd.loan_id, CloseMonthEnd.principal_minor).where(
            or_(
                CloseMonthEnd.days_past_due > VINTAGE_DAYS,
                CloseMonthEnd.status == WRITTEN_OFF,
            )
        )
    ):
        found = cohort_of.get(int(loan_id))
        if found is None:
            continue
        cell = late[(*found, month_end)]
        cell[0] += 1
        cell[1] += int(principal)
    curves: defaultdict[str, list[Cohort]] = defaultdict(list)
    for (currency, month), cohort in sorted(cohorts.items()):
        points = []
        for month_end in month_ends:
            if month_end < month:
                continue
            count, principal = late.get((currency, month, month_end), (0, 0))
            points.append(
                VintagePoint(
                    month_end=month_end,
                    months_on_book=_months_between(month, month_end),
                    delinquent=count,
                    delinquent_principal=major(principal, currency),
                    share_percent=share(count, cohort.loans),
                )
            )
        if points:
            curves[currency].append(
                Cohort(
                    month=f"{month:%Y-%m}",
                    loans=cohort.loans,
                    principal=Money(cohort.principal, currency).format(),
                    points=tuple(points),
                )
            )
    return {currency: Vintages(currency, tuple(found)) for currency, found in curves.items()}


@dataclass(frozen=True, slots=True)
class Watchlist:
    """Early warning's open entries, breaches first, with the borrowers' names."""

    entries: tuple[dict[str, Any], ...]
    name: str = "watchlist"

    def csv(self) -> str:
        """One CSV row per entry, its task in both languages."""
        columns = (
            "id",
            "severity",
            "code",
            "borrower_id",
            "borrower",
            "loan_id",
            "period_end",
            "detail",
            "stage",
            "task_zh",
            "task_en",
            "status",
        )
        return csv_text(
            columns,
            (
                {
                    **{key: entry[key] for key in columns if key in entry},
                    "task_zh": entry["task"].get("zh-CN", ""),
                    "task_en": entry["task"].get("en", ""),
                }
                for entry in self.entries
            ),
        )


def open_watchlist(session: Session) -> Watchlist:
    """The open watchlist entries with their borrowers' names."""
    entries = watchlist(session)
    names = borrower_names(session, {int(entry["borrower_id"]) for entry in entries})
    return Watchlist(
        tuple({**entry, "borrower": names.get(int(entry["borrower_id"]), "")} for entry in entries)
    )
