"""A US-dollar consumer loan with a Metro 2 identification, for bureau tests."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from tenor.actions import loans
from tenor.bureau import records
from tenor.core.money import Money
from tenor.products import ProductConfig
from tenor.store.database import Database
from tenor.store.journal import set_business_date
from tenor.store.models import Borrower, Product

START = dt.date(2026, 1, 15)


def set_day(db: Database, day: dt.date) -> None:
    """Move the book's business date."""
    with db.transaction() as session:
        set_business_date(session, day)


def usd_loan(
    db: Database,
    *,
    principal: str = "6000",
    term: int = 6,
    identity: bool = True,
    kind: str = "individual",
    currency: str = "USD",
) -> tuple[int, int]:
    """(loan id, borrower id): a loan disbursed on 15 January 2026; the furnisher is set."""
    with db.transaction() as session:
        set_business_date(session, START)
        borrower = Borrower(kind=kind, name="Jane Doe", national_id="110101199003071234")
        product = ProductConfig(currency=currency, annual_rate_percent=Decimal("18"))
        row = Product(
            code=f"consumer-{uuid.uuid4().hex[:8]}",
            name="Consumer",
            currency=currency,
            config=product.document(),
        )
        session.add_all([borrower, row])
        session.flush()
        loan = loans.create_loan(
            session,
            borrower_id=borrower.id,
            product_id=row.id,
            principal=Money.of(principal, currency),
            term=term,
            start=START,
        )
        loans.approve_loan(session, loan.id)
        loan_id, borrower_id = loan.id, borrower.id
        records.set_furnisher(
            session, records.Furnisher("TENOR0001", "Tenor Lending", "1 Main St Springfield IL")
        )
        if identity:
            records.set_consumer(
                session,
                borrower_id,
                records.ConsumerInput(
                    surname="Doe",
                    first_name="Jane",
                    first_line_address="12 Elm St",
                    city="Springfield",
                    state="IL",
                    postal_code="62701",
                    social_security_number="123-45-6789",
                    date_of_birth=dt.date(1990, 3, 7),
                ),
            )
    loans.disburse(db, loan_id, value_date=START)
    return loan_id, borrower_id
