"""A small random book for the close's tests, built through the write layer, and its payments.

Two products: a consumer product on Chinese buckets (no tolerance, 0.05% a day penalty with 3
days' grace, charged from the due date, on principal and interest) and one on US buckets (a
5 CNY arrears tolerance, penalty on principal only, no grace charged back). Loans are paid out
over the 90 days before the book's start, so the first close finds some already overdue.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import MetaData, Table, inspect, select, text

from tenor.actions import borrowers as borrower_actions
from tenor.actions import loans as loan_actions
from tenor.actions import products as product_actions
from tenor.core.money import Money
from tenor.products import PenaltyDocument, ProductConfig
from tenor.store.database import Database
from tenor.store.journal import append_in, business_date, load_events, set_business_date
from tenor.store.models import Loan

START = dt.date(2026, 3, 1)

CONSUMER = ProductConfig(currency="CNY", annual_rate_percent=Decimal("18"))
US_STYLE = ProductConfig(
    currency="CNY",
    annual_rate_percent=Decimal("12"),
    buckets="us",
    arrears_tolerance=Decimal("5"),
    penalty=PenaltyDocument(
        daily_rate_percent=Decimal("0.03"),
        grace_days=5,
        include_interest=False,
        charge_from_due_date=False,
    ),
)


@dataclass(frozen=True)
class Payment:
    """On ``day``, pay ``percent`` of what is owed up to installment ``installment``."""

    day: dt.date
    loan_id: int
    installment: int
    percent: int


def build_book(db: Database, *, loans: int, seed: int, start: dt.date = START) -> list[int]:
    """``loans`` loans paid out in the 90 days before ``start``; the business date is ``start``."""
    rng = random.Random(seed)
    with db.transaction() as session:
        set_business_date(session, start)
        products = [
            product_actions.create_product(session, code=code, name=code, config=config).id
            for code, config in (("consumer", CONSUMER), ("us-style", US_STYLE))
        ]
        borrower = borrower_actions.create_borrower(session, kind="individual", name="王芳").id
        session.flush()
        ids = []
        for number in range(loans):
            product = products[number % 2]
            loan = loan_actions.create_loan(
                session,
                borrower_id=borrower,
                product_id=product,
                principal=Money.of(str(rng.randrange(1000, 20000)), "CNY"),
                term=rng.choice((3, 6, 12)),
                start=start - dt.timedelta(days=rng.randrange(0, 90)),
            )
            loan_actions.approve_loan(session, loan.id)
            ids.append(loan.id)
        session.flush()
        for loan_id in ids:
            row = session.get(Loan, loan_id)
            assert row is not None
            value_date = dt.date.fromisoformat(row.terms["start"])
            append_in(session, loan_id, loan_actions.disbursement(value_date=value_date))
    return ids


def plan_payments(
    db: Database, ids: list[int], *, seed: int, first: dt.date, last: dt.date
) -> list[Payment]:
    """Each loan's borrower pays on time, late, in part or never, installment by installment."""
    rng = random.Random(seed)
    payments = []
    with db.reading() as session:
        for loan_id in ids:
            behaviour = rng.choice(("on-time", "late", "partial", "never", "late"))
            due_dates = [
                row[0]
                for row in session.execute(
                    text("SELECT due_date FROM installments WHERE loan_id = :l ORDER BY number"),
                    {"l": loan_id},
                )
            ]
            for number, due in enumerate(due_dates, start=1):
                due_date = due if isinstance(due, dt.date) else dt.date.fromisoformat(due)
                if behaviour == "never" or (behaviour == "partial" and number % 3 == 0):
                    continue
                delay = {
                    "on-time": 0,
                    "late": rng.randrange(1, 70),
                    "partial": rng.randrange(0, 20),
                }
                day = due_date + dt.timedelta(days=delay[behaviour])
                percent = 50 if behaviour == "partial" and number % 3 == 1 else 100
                if first <= day <= last:
                    payments.append(Payment(day, loan_id, number, percent))
    return sorted(payments, key=lambda p: (p.day, p.loan_id))


def post_payments(db: Database, payments: list[Payment]) -> int:
    """Post the payments (all of one business date), each what is owed then; how many posted."""
    posted = 0
    for payment in payments:
        with db.transaction() as session:
            day = business_date(session)
            assert day == payment.day
            owed = session.execute(
                text(
                    "SELECT COALESCE(SUM(unpaid_minor), 0) FROM installments "
                    "WHERE loan_id = :l AND number <= :n"
                ),
                {"l": payment.loan_id, "n": payment.installment},
            ).scalar_one()
            status = session.execute(
                text("SELECT status FROM loan_state WHERE loan_id = :l"), {"l": payment.loan_id}
            ).scalar_one()
            amount = int(owed) * payment.percent // 100
            if amount <= 0 or status not in ("active",):
                continue
            append_in(
                session,
                payment.loan_id,
                loan_actions.repayment(amount=Money(amount, "CNY"), value_date=payment.day),
            )
            posted += 1
    return posted


#: Columns that differ between two runs of the same work: clocks and random event ids.
VOLATILE = {
    "recorded_at",
    "created_at",
    "updated_at",
    "approved_at",
    "started_at",
    "finished_at",
    "event_id",
    # A reminder held by the contact rules waits until a time counted from when it was written.
    "not_before",
}
#: Surrogate journal ids, in the order rows were inserted: partitions closed in parallel, or
#: a PostgreSQL sequence advanced by a killed transaction, number the same rows differently.
SURROGATES = {
    ("journal", "id"),
    ("close_days", "journal_from"),
    ("close_days", "journal_to"),
    ("notifications", "id"),
}
#: The transparency log records rows in the order and at the instants they were committed, so
#: two runs of the same work log the same events in different leaves; ``tenor audit verify``
#: checks the log against the journal instead.
UNCOMPARED = {
    "alembic_version",
    "audit_leaves",
    "audit_nodes",
    "audit_log_head",
    "audit_tree_heads",
}


def dump(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, without the volatile columns, sorted: two equal dumps, equal books."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    with db.reading() as session:
        connection = session.connection()
        names = inspect(connection).get_table_names()
        for name in sorted(names):
            if name in UNCOMPARED:
                continue
            table = Table(name, MetaData(), autoload_with=connection)
            columns = [
                column
                for column in table.c
                if column.name not in VOLATILE and (name, column.name) not in SURROGATES
            ]
            rows = connection.execute(select(*columns)).all()
            tables[name] = sorted((tuple(row) for row in rows), key=repr)
    return tables


def journal_of(db: Database, loan_id: int) -> list[Any]:
    """The loan's journal as core events."""
    with db.reading() as session:
        return load_events(session, loan_id)
