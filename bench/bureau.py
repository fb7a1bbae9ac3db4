"""Benchmark: month-end snapshots and bureau records for a book, against one fold per loan.

Run with ``./run bench bureau [--loans N]``. No database: it builds N USD loans of 12 monthly
installments in memory (a seeded mix of on-time, late and defaulted payers, with penalty
charges), then measures in one run:

- baseline: one fold of each loan's whole journal, what every journal append already costs;
- snapshots: :func:`tenor.bureau.snapshot.month_facts` over 24 month ends per loan (one fold
  per month with events, one delinquency assessment per month);
- records: Metro 2 months (status, rating, profile, DOFD) and PBOC months from the snapshots,
  and one encoded 426-character base segment per loan.

It prints loans per second for each and the ratios to the baseline.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time
from decimal import Decimal

from tenor.bureau.snapshot import month_facts
from tenor.core.account import (
    ChargeApplied,
    ChargeKind,
    Disbursed,
    LoanEvent,
    RepaymentReceived,
    fold,
)
from tenor.core.bureau import (
    AccountRecord,
    Address,
    BaseSegment,
    Consumer,
    encode_account,
    metro2_months,
    pboc_months,
    whole_units,
)
from tenor.core.money import Money
from tenor.products import ProductConfig
from tenor.store.codec import terms_to_json
from tenor.store.journal import LoanBook, LoanRecord

START = dt.date(2025, 1, 15)
THROUGH = dt.date(2026, 12, 31)


def book_of(count: int, seed: int) -> list[tuple[LoanBook, list[LoanEvent]]]:
    """``count`` loans with their journals."""
    product = ProductConfig(currency="USD", annual_rate_percent=Decimal("18"))
    rules = product.account_rules()
    draw = random.Random(seed)
    book = []
    for number in range(1, count + 1):
        principal = Money.of(str(draw.randrange(1000, 20000)), "USD")
        terms = product.loan_terms(principal=principal, term=12, start=START)
        events: list[LoanEvent] = [
            Disbursed(event_id=f"{number}-0", sequence=0, value_date=START, amount=principal)
        ]
        state = fold(terms, events, rules)
        kind = draw.random()
        for item in state.installments:
            if kind > 0.9 and item.number > 4:
                break  # defaults
            late = draw.randrange(0, 45) if kind > 0.7 else 0
            day = item.due_date + dt.timedelta(days=late)
            if late > 3:
                events.append(
                    ChargeApplied(
                        event_id=f"{number}-c{item.number}",
                        sequence=len(events),
                        value_date=day,
                        kind=ChargeKind.LATE_FEE,
                        amount=Money.of("15", "USD"),
                    )
                )
            events.append(
                RepaymentReceived(
                    event_id=f"{number}-{item.number}",
                    sequence=len(events),
                    value_date=day,
                    amount=item.total_due
                    + (Money.of("15", "USD") if late > 3 else Money.zero("USD")),
                )
            )
        record = LoanRecord(
            id=number,
            borrower_id=number,
            product_id=1,
            currency="USD",
            principal_minor=principal.minor,
            terms=terms_to_json(terms),
            status="active",
            version=len(events),
        )
        book.append(
            (
                LoanBook(
                    record,
                    product,
                    THROUGH,
                    product.account_rules(),
                    product.delinquency_policy(),
                ),
                events,
            )
        )
    return book


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    arguments = parser.parse_args()
    book = book_of(arguments.loans, arguments.seed)
    consumer = Consumer(surname="DOE", first_name="JANE", social_security_number=123456789)
    address = Address(
        first_line_address="1 MAIN ST", city="SPRINGFIELD", state="IL", postal_code="62701"
    )

    started = time.perf_counter()
    for loan_book, events in book:
        fold(
            loan_book.product.loan_terms(
                principal=Money(loan_book.loan.principal_minor, "USD"), term=12, start=START
            ),
            events,
            loan_book.product.account_rules(),
        )
    baseline = time.perf_counter() - started

    started = time.perf_counter()
    histories = [month_facts(loan_book, events, THROUGH) for loan_book, events in book]
    snapshots = time.perf_counter() - started

    started = time.perf_counter()
    statuses: dict[str, int] = {}
    for history in histories:
        months = metro2_months(history.months)
        pboc_months(history.months)
        last = months[-1]
        statuses[last.account_status] = statuses.get(last.account_status, 0) + 1
        encode_account(
            AccountRecord(
                base=BaseSegment(
                    identification_number="TENOR0001",
                    consumer_account_number=str(history.book.loan.id),
                    portfolio_type="I",
                    account_type="01",
                    date_opened=START,
                    highest_credit=whole_units(history.disbursed),
                    terms_duration="012",
                    terms_frequency="M",
                    scheduled_monthly_payment=whole_units(last.facts.scheduled_payment),
                    actual_payment=whole_units(last.facts.paid_in_month),
                    account_status=last.account_status,
                    payment_rating=last.payment_rating,
                    payment_history_profile=last.payment_history_profile,
                    current_balance=whole_units(last.facts.balance),
                    amount_past_due=whole_units(last.facts.past_due),
                    original_charge_off_amount=0,
                    date_of_account_information=THROUGH,
                    date_of_first_delinquency=last.date_of_first_delinquency,
                    date_closed=last.facts.closed_on,
                    date_of_last_payment=last.facts.last_payment_on,
                    consumer=consumer,
                    address=address,
                )
            )
        )
    records = time.perf_counter() - started

    count = len(book)
    month_count = len(histories[0].months)
    final = dict(sorted(statuses.items()))
    print(f"{count} loans, {month_count} month ends each; final statuses {final}")
    for name, seconds in (
        ("baseline: one fold per loan", baseline),
        ("snapshots", snapshots),
        ("records", records),
    ):
        rate = count / seconds
        print(
            f"{name:32} {seconds:8.3f} s  {rate:10.0f} loans/s  {seconds / baseline:6.1f}x baseline"
        )


if __name__ == "__main__":
    main()
