"""Books in collections, for the collections tests.

:func:`past_due`: the builders' loan, missed on 15 February.

:func:`seed_loans` and :func:`seed_collections`: four borrowers took 18% CNY loans on 15
January 2026 (first installment due 15 February) and paid nothing. The book is closed from 10
February through 20 February: the close of 15 February opens a case per loan on 16 February
(first-payment default: a call first), and the business date is 21 February, six days past
due. A desk collector speaking Chinese works the cases; two agencies exist. In
:func:`seed_collections`, the case of loan C is placed with the first agency, the case of loan
B is disputed and loan D is referred to legal.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Final

from sqlalchemy import select

from tenor.actions import loans
from tenor.actions.borrowers import create_borrower
from tenor.batch.close import close_book
from tenor.collect import actions
from tenor.collect.tables import CollectionCase
from tenor.core.collection import CommissionBand, OutcomeCode
from tenor.core.money import Money
from tenor.store.database import Database
from tenor.store.journal import set_business_date
from tenor.store.models import Product
from tests.builders import START, consumer_product, seed_loan

#: The builders' loan: 6000 CNY over six months from 15 January 2026, 1053.15 a month.
FIRST_DUE = dt.date(2026, 2, 15)

#: The open business date once the book of :func:`seed_loans` is built.
TODAY: Final = dt.date(2026, 2, 21)

#: Principal of loans A, B, C and D.
PRINCIPALS: Final = ("6000", "3000", "9000", "1200")


def past_due(db: Database) -> tuple[int, int]:
    """The loan, missed on 15 February and closed through then, and a desk collector's id."""
    loan_id = seed_loan(db, business_date=dt.date(2026, 2, 10))
    collector = actions.add_collector(
        db, actions.CollectorSpec(name="王芳", team="early", languages=("zh-CN", "en")), actor="t"
    )
    close_book(db, through=FIRST_DUE)
    return loan_id, collector.id


@dataclass(frozen=True)
class CollectionsBook:
    """Ids of what :func:`seed_collections` made."""

    product_id: int
    borrowers: tuple[int, int, int, int]
    loans: tuple[int, int, int, int]
    cases: tuple[int, int, int, int]
    collector: int
    agency: int
    other_agency: int
    legal: int  # 0 until seed_collections opens it

    def case_of(self, loan_id: int) -> int:
        """The case of one of the book's loans."""
        return self.cases[self.loans.index(loan_id)]


def shanghai(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """An instant on ``day`` at ``hour`` in Shanghai, where the borrowers live."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=dt.UTC) - dt.timedelta(
        hours=8
    )


def seed_loans(db: Database, *, through: dt.date = TODAY - dt.timedelta(days=1)) -> CollectionsBook:
    """The borrowers, loans, a collector and two agencies; closed ``through`` (cases opened)."""
    with db.transaction() as session:
        set_business_date(session, dt.date(2026, 2, 10))
        product = Product(
            code="consumer", name="Consumer", currency="CNY", config=consumer_product().document()
        )
        session.add(product)
        session.flush()
        borrowers = []
        loan_ids = []
        for letter, principal in zip("ABCD", PRINCIPALS, strict=True):
            borrower = create_borrower(
                session,
                kind="individual",
                name=f"借款人{letter}",
                phones=["13800138000"],
                time_zone="Asia/Shanghai",
            )
            loan = loans.create_loan(
                session,
                borrower_id=borrower.id,
                product_id=product.id,
                principal=Money.of(principal, "CNY"),
                term=6,
                start=START,
            )
            loans.approve_loan(session, loan.id)
            borrowers.append(borrower.id)
            loan_ids.append(loan.id)
        product_id = product.id
    for loan_id in loan_ids:
        loans.disburse(db, loan_id, value_date=START)
    collector = actions.add_collector(
        db, actions.CollectorSpec(name="王芳", team="early", languages=["zh-CN"]), actor="test"
    )
    agency = actions.add_agency(
        db,
        name="Acme Collections",
        commission=[CommissionBand(1, Decimal("0.15")), CommissionBand(91, Decimal("0.25"))],
        recall_days=60,
        capacity=100,
        actor="test",
    )
    other = actions.add_agency(
        db,
        name="Beta Recovery",
        commission=[CommissionBand(1, Decimal("0.2"))],
        recall_days=60,
        capacity=100,
        actor="test",
    )
    close_book(db, through=through)
    with db.reading() as session:
        cases = {
            case.loan_id: case.id
            for case in session.scalars(
                select(CollectionCase).where(CollectionCase.status == "open")
            )
        }
    a, b, c, d = loan_ids
    return CollectionsBook(
        product_id=product_id,
        borrowers=(borrowers[0], borrowers[1], borrowers[2], borrowers[3]),
        loans=(a, b, c, d),
        cases=(cases[a], cases[b], cases[c], cases[d]),
        collector=collector.id,
        agency=agency.id,
        other_agency=other.id,
        legal=0,
    )


def seed_collections(db: Database) -> CollectionsBook:
    """:func:`seed_loans`, then C placed with the first agency, B disputed, D referred to legal."""
    book = seed_loans(db)
    _, b, c, d = book.loans
    actions.place(db, book.case_of(c), book.agency, actor="test")
    actions.record_outcome(
        db,
        book.case_of(b),
        actions.OutcomeRequest(
            code=OutcomeCode.DISPUTE, at=shanghai(TODAY, 10), collector_id=book.collector
        ),
        actor="test",
    )
    legal = actions.open_legal(db, d, court="上海市浦东新区人民法院", actor="test")
    return replace(book, legal=legal.id)
