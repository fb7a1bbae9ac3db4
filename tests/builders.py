"""Builders for storage and API tests: a borrower, a product and a loan in a few lines."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from tenor.actions import loans, relief
from tenor.core.money import Money
from tenor.core.restructure import Option
from tenor.products import ProductConfig
from tenor.relief.workflow import relief_from_json
from tenor.store.database import Database
from tenor.store.journal import set_business_date
from tenor.store.models import Borrower, Loan, Product

START = dt.date(2026, 1, 15)


def consumer_product(**overrides: Any) -> ProductConfig:
    """An 18% CNY annuity product with monthly installments."""
    return ProductConfig(currency="CNY", annual_rate_percent=Decimal("18"), **overrides)


def seed_loan(
    db: Database,
    *,
    principal: str = "6000",
    term: int = 6,
    business_date: dt.date = dt.date(2026, 3, 1),
    disburse: bool = True,
    product: ProductConfig | None = None,
) -> int:
    """A borrower, a product and a loan (approved, and disbursed on 15 January 2026)."""
    with db.transaction() as session:
        set_business_date(session, business_date)
        borrower = Borrower(
            kind="individual",
            name="张伟",
            national_id="110101199003071234",
            phones=["13800138000"],
            email="zhang.wei@example.cn",
        )
        row = Product(
            code="consumer",
            name="Consumer credit line",
            currency="CNY",
            config=(product or consumer_product()).document(),
        )
        session.add_all([borrower, row])
        session.flush()
        loan = loans.create_loan(
            session,
            borrower_id=borrower.id,
            product_id=row.id,
            principal=Money.of(principal, "CNY"),
            term=term,
            start=START,
        )
        loans.approve_loan(session, loan.id)
        loan_id = loan.id
    if disburse:
        loans.disburse(db, loan_id, value_date=START)
    return loan_id


def seed_relief(db: Database, loan_id: int, options: dict[str, Any]) -> tuple[int, list[int]]:
    """A credit score for the loan's borrower and a staff request offering ``options``
    (option name to parameters); the request's id and its offers' ids."""
    with db.transaction() as session:
        loan = session.get(Loan, loan_id)
        assert loan is not None
        relief.record_credit_score(
            session,
            borrower_id=loan.borrower_id,
            score=700,
            source="bureau",
            as_of=START,
            actor="key:seed",
        )
        request = relief.request_relief(session, loan_id=loan_id, channel="staff", actor="key:seed")
        chosen = {
            Option(name): relief_from_json({"option": name, **parameters}, "CNY")
            for name, parameters in options.items()
        }
        offers = relief.make_offers(session, request_id=request.id, actor="key:seed", chosen=chosen)
        return request.id, [offer.id for offer in offers]
