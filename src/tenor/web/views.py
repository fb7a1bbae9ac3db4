"""What the console's pages read, beyond the documents of :mod:`tenor.store.reads`.

The portfolio comes from the ``loan_state`` projection (balances, bucket and class of every
open loan), grouped in SQL; amounts stay integer minor units until they are shown. Each chart
is a :class:`Chart`: its rows are the table under the chart and its CSV file, so what a person
reads, what the chart draws and what they download are one set of numbers.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from tenor.core.account import Status
from tenor.core.delinquency import CHINESE_BUCKETS, LoanClass
from tenor.core.money import Money
from tenor.store.models import Borrower, JournalEntry, Loan, LoanStateRow, Product
from tenor.web.i18n import Formats

OPEN_STATUSES: Final = (Status.ACTIVE.value, Status.OVERPAID.value)
BUCKET_ORDER: Final = tuple(bucket.name for bucket in CHINESE_BUCKETS.buckets)


#: Text a spreadsheet would run as a formula: =, +, @, a tab or a return first, or a minus
#: that does not start a number (a negative amount such as -246.90 stays a number).
_FORMULA: Final = re.compile(r"[=+@\t\r]|-(?![0-9.])")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and _FORMULA.match(value):
        return "'" + value  # OWASP's advice: shown as text, never evaluated
    return value


def csv_text(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> str:
    """``rows`` as CSV under a header of ``columns``: None an empty cell, and text that a
    spreadsheet would take for a formula (a borrower's name, a product's) quoted as text."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _cell(value) for key, value in row.items()})
    return out.getvalue()


def major(minor: int, currency: str) -> str:
    """Minor units as an exact decimal string in major units."""
    return Money(minor, currency).format()


def share(part: int, whole: int) -> str:
    """``part`` as percent of ``whole``, to two places ("0" of nothing)."""
    if whole == 0:
        return "0"
    return str((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01")))


@dataclass(frozen=True, slots=True)
class Chart:
    """A chart of one currency's open loans: its rows, and which columns it draws.

    ``rows`` are dicts with exact values (amounts as decimal strings in major units);
    ``label`` names the category column and ``value`` the column the bars show. The bars
    start at row ``first_drawn``: current loans and Normal ones are most of any book, and
    beside them the past-due bars would not be seen; the table and the CSV keep every row.
    """

    name: str
    currency: str
    columns: tuple[str, ...]
    rows: list[dict[str, Any]]
    label: str
    value: str
    first_drawn: int = 0

    def csv(self) -> str:
        """The chart's rows as CSV, with a header line."""
        return csv_text(
            ("currency", *self.columns), [{"currency": self.currency, **row} for row in self.rows]
        )

    def spec(self, fmt: Formats, series: str) -> dict[str, Any]:
        """What the browser draws: bars labelled in the page's language, and their values.

        Values stay exact decimal strings; the script turns them into numbers only to draw.
        """
        rows = self.rows[self.first_drawn :]
        if self.name == "classes":
            categories = [fmt.loan_class(row["class"]) for row in rows]
        else:
            categories = [str(row[self.label]) for row in rows]
        return {
            "kind": self.name,
            "type": "bar",
            "categories": categories,
            "values": [row[self.value] for row in rows],
            "series": series,
            "percent": self.value.endswith("percent"),
            "currency": self.currency,
            "locale": fmt.locale,
        }


@dataclass(frozen=True, slots=True)
class Portfolio:
    """The open book of one currency: headline figures and its charts."""

    currency: str
    open_loans: int
    outstanding_principal: str
    past_due_loans: int
    by_bucket: Chart
    by_class: Chart
    by_product: Chart


def _open_rows(session: Session, key: Any) -> list[Any]:
    return list(
        session.execute(
            select(
                LoanStateRow.currency,
                key,
                func.count(),
                func.sum(LoanStateRow.outstanding_principal_minor),
                func.sum(LoanStateRow.arrears_minor),
            )
            .where(LoanStateRow.status.in_(OPEN_STATUSES))
            .group_by(LoanStateRow.currency, key)
        )
    )


def portfolio(session: Session) -> list[Portfolio]:
    """Open loans by bucket, by five-level class and by product, one section per currency."""
    buckets = _open_rows(session, LoanStateRow.bucket)
    classes = _open_rows(session, LoanStateRow.loan_class)
    late = case((LoanStateRow.days_past_due > 30, LoanStateRow.outstanding_principal_minor))
    products = session.execute(
        select(
            LoanStateRow.currency,
            Product.id,
            Product.name,
            func.count(),
            func.sum(LoanStateRow.outstanding_principal_minor),
            func.sum(late),
        )
        .join(Loan, Loan.id == LoanStateRow.loan_id)
        .join(Product, Product.id == Loan.product_id)
        .where(LoanStateRow.status.in_(OPEN_STATUSES))
        .group_by(LoanStateRow.currency, Product.id, Product.name)
        .order_by(Product.id)
    ).all()
    currencies = sorted({row[0] for row in buckets})
    sections = []
    for currency in currencies:
        by_bucket = {row[1]: row for row in buckets if row[0] == currency}
        by_class = {row[1]: row for row in classes if row[0] == currency}
        total = sum(int(row[3] or 0) for row in by_bucket.values())
        names = [*BUCKET_ORDER, *sorted(set(by_bucket) - set(BUCKET_ORDER))]

        def segment(
            row: Any | None, total: int = total, currency: str = currency
        ) -> dict[str, Any]:
            count, principal, arrears = (
                (0, 0, 0) if row is None else (int(row[2]), int(row[3] or 0), int(row[4] or 0))
            )
            return {
                "loans": count,
                "outstanding_principal": major(principal, currency),
                "arrears": major(arrears, currency),
                "share_percent": share(principal, total),
            }

        columns = ("loans", "outstanding_principal", "arrears", "share_percent")
        sections.append(
            Portfolio(
                currency=currency,
                open_loans=sum(int(row[2]) for row in by_bucket.values()),
                outstanding_principal=major(total, currency),
                past_due_loans=sum(
                    int(row[2]) for name, row in by_bucket.items() if name != BUCKET_ORDER[0]
                ),
                by_bucket=Chart(
                    "buckets",
                    currency,
                    ("bucket", *columns),
                    [{"bucket": name, **segment(by_bucket.get(name))} for name in names],
                    label="bucket",
                    value="outstanding_principal",
                    first_drawn=1,
                ),
                by_class=Chart(
                    "classes",
                    currency,
                    ("class", *columns),
                    [
                        {"class": int(loan_class), **segment(by_class.get(int(loan_class)))}
                        for loan_class in LoanClass
                    ],
                    label="class",
                    value="outstanding_principal",
                    first_drawn=1,
                ),
                by_product=Chart(
                    "products",
                    currency,
                    ("product", "loans", "outstanding_principal", "over_30_dpd_share_percent"),
                    [
                        {
                            "product": name,
                            "loans": int(count),
                            "outstanding_principal": major(int(outstanding or 0), currency),
                            "over_30_dpd_share_percent": share(
                                int(past_30 or 0), int(outstanding or 0)
                            ),
                        }
                        for row_currency, _id, name, count, outstanding, past_30 in products
                        if row_currency == currency
                    ],
                    label="product",
                    value="over_30_dpd_share_percent",
                ),
            )
        )
    return sections


def borrower_names(session: Session, ids: set[int]) -> dict[int, str]:
    """The names of borrowers ``ids``."""
    if not ids:
        return {}
    rows = session.execute(select(Borrower.id, Borrower.name).where(Borrower.id.in_(ids)))
    return {int(row[0]): str(row[1]) for row in rows}


def reversed_events(session: Session, loan_id: int) -> set[str]:
    """The ids of the loan's events that a later event reversed."""
    rows = session.scalars(
        select(JournalEntry.payload).where(
            JournalEntry.loan_id == loan_id, JournalEntry.kind == "reversed"
        )
    )
    return {str(payload["target"]) for payload in rows}


def next_due(
    schedule: dict[str, Any], next_due_date: str | None, today: str
) -> dict[str, Any] | None:
    """What the borrower should pay by the next due date: that installment's unpaid part and
    everything still unpaid from earlier ones (the arrears). Past the last due date, the
    arrears are due today. None when nothing is owed."""
    currency = schedule["currency"]
    by = next_due_date or today
    due = Decimal(0)
    overdue = Decimal(0)
    for installment in schedule["installments"]:
        unpaid = Decimal(installment["unpaid"])
        if installment["due_date"] < today:
            overdue += unpaid
        if installment["due_date"] <= by:
            due += unpaid
    if due == 0:
        return None
    return {
        "date": by,
        "amount": Money.of(due, currency).format(),
        "overdue": Money.of(overdue, currency).format(),
        "has_overdue": overdue > 0,
        "currency": currency,
    }


def chart_spec(chart: Any, fmt: Formats, series: str) -> dict[str, Any]:
    """What the browser's chart script draws for ``chart`` (any of the console's charts)."""
    spec: dict[str, Any] = chart.spec(fmt, series)
    return spec
