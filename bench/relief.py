"""Relief: what computing every option for a loan costs, against one fold of its journal.

A 24-installment annuity loan (24,000 CNY at 18%) with four payments, in a SQLite file. Measured
in the same run: the fold of its journal (the baseline), all seven options through eligibility
(two folds each, in memory), the options document as ``tenor restructure options`` reads it
from the database, and a one-step restructuring (request, offers, acceptance, approval and the
journal append).

    ./run bench relief [--repeat N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from tenor.actions import loans, relief
from tenor.core.account import fold
from tenor.core.money import Money
from tenor.core.restructure import BorrowerFacts, LoanFacts, Option, Relief, eligibility
from tenor.products import ProductConfig
from tenor.relief.workflow import evaluate, options_document
from tenor.store.codec import terms_from_json
from tenor.store.database import Database
from tenor.store.journal import load_events, load_loan, set_business_date
from tenor.store.migrate import upgrade
from tenor.store.models import Borrower, Loan, Product

DAY = dt.date(2026, 6, 1)
START = dt.date(2026, 1, 15)


def _seed_loan(db: Database) -> int:
    """A borrower, an 18% CNY annuity product and the loan, disbursed on 15 January."""
    with db.transaction() as session:
        set_business_date(session, DAY)
        borrower = Borrower(kind="individual", name="张伟", phones=[])
        config = ProductConfig(currency="CNY", annual_rate_percent=Decimal(18)).document()
        product = Product(code="consumer", name="Consumer", currency="CNY", config=config)
        session.add_all([borrower, product])
        session.flush()
        loan = loans.create_loan(
            session,
            borrower_id=borrower.id,
            product_id=product.id,
            principal=Money.of("24000", "CNY"),
            term=24,
            start=START,
        )
        loans.approve_loan(session, loan.id)
        loan_id = loan.id
    loans.disburse(db, loan_id, value_date=START)
    return loan_id


def _median_ms(work: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=30)
    repeat = parser.parse_args().repeat
    with tempfile.TemporaryDirectory() as directory:
        db = Database(f"sqlite:///{Path(directory) / 'relief.db'}")
        upgrade(db)
        loan_id = _seed_loan(db)
        for month in range(2, 6):
            loans.post_repayment(
                db, loan_id, amount=Money.of("1198.18", "CNY"), value_date=dt.date(2026, month, 15)
            )
        with db.transaction() as session:
            set_business_date(session, DAY)
            row = session.get(Loan, loan_id)
            assert row is not None
            relief.record_credit_score(
                session,
                borrower_id=row.borrower_id,
                score=700,
                source="bureau",
                as_of=dt.date(2026, 5, 1),
                actor="bench",
            )
        with db.reading() as session:
            book = load_loan(session, loan_id)
            events = tuple(load_events(session, loan_id))
            document = evaluate(session, loan_id).document
        terms, rules = terms_from_json(book.loan.terms), book.product.account_rules()
        state = fold(terms, events, rules)
        facts = LoanFacts(terms, events, rules, 0)
        policy = document.policy(state, DAY)
        borrower = BorrowerFacts(credit_score=700, score_as_of=dt.date(2026, 5, 1))

        def read_options() -> object:
            with db.reading() as session:
                return options_document(evaluate(session, loan_id))

        baseline = _median_ms(lambda: fold(terms, events, rules), repeat)
        options = _median_ms(lambda: eligibility(facts, borrower, policy, DAY), repeat)
        read = _median_ms(read_options, repeat)
        start = time.perf_counter()
        relief.restructure(
            db, loan_id, Relief(Option.DEFERRAL, installments=2), maker="bench", approver="other"
        )
        applied = (time.perf_counter() - start) * 1000
        db.dispose()
    figures = [
        ("fold of the loan's journal (baseline)", baseline),
        ("seven options through eligibility", options),
        ("options document read from the database", read),
        ("one-step restructuring, approved, appended", applied),
    ]
    for name, value in figures:
        print(f"{name:44} {value:8.2f} ms  ({value / baseline:5.1f}x the baseline)")


if __name__ == "__main__":
    main()
