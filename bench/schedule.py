"""Benchmark: exact schedules per second, and re-folding a long journal after a backdated payment.

Run with ``./run bench schedule``. Prints each figure, its target from the issue, and a ratio
against a baseline measured in the same run: for schedules, the same annuity computed the
inexact way (Python floats, no rounding rules), which is what exactness costs; for the
re-fold, the first fold of the same journal in booking order.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import statistics
import time
from collections.abc import Callable
from decimal import Decimal

from tenor.core.account import Disbursed, LoanEvent, RepaymentReceived, fold
from tenor.core.calendar import Frequency
from tenor.core.money import Money
from tenor.core.schedule import LoanTerms, build_schedule

MONTHLY = Frequency.every_months(1)


def annuity_terms(term: int) -> LoanTerms:
    """A CNY annuity loan of ``term`` monthly installments at 12% a year."""
    return LoanTerms(
        principal=Money.of("250000", "CNY"),
        annual_rate=Decimal("0.12"),
        term=term,
        frequency=MONTHLY,
        start=dt.date(2026, 1, 15),
    )


def float_annuity(principal: float, annual_rate: float, term: int) -> list[tuple[float, float]]:
    """The inexact baseline: an annuity table in floats, as a spreadsheet would do it."""
    rate = annual_rate / 12
    payment = principal * rate / (1 - (1 + rate) ** -term)
    balance = principal
    rows = []
    for _ in range(term):
        interest = balance * rate
        rows.append((payment - interest, interest))
        balance -= payment - interest
    return rows


def rate_per_second(work: Callable[[], object], seconds: float = 1.5) -> float:
    """How many times ``work`` runs per second, best of three timed windows."""
    rates = []
    for _ in range(3):
        count = 0
        started = time.perf_counter()
        while (elapsed := time.perf_counter() - started) < seconds / 3:
            work()
            count += 1
        rates.append(count / elapsed)
    return max(rates)


def long_journal(events: int) -> tuple[LoanTerms, list[LoanEvent]]:
    """A 30-year loan with ``events`` events: one disbursement and many small repayments."""
    terms = annuity_terms(360)
    journal: list[LoanEvent] = [
        Disbursed(event_id="d", sequence=1, value_date=terms.start, amount=terms.principal)
    ]
    days = 360 * 30
    for number in range(2, events + 1):
        day = terms.start + dt.timedelta(days=1 + (number * days) // events)
        journal.append(
            RepaymentReceived(
                event_id=f"r{number}",
                sequence=number,
                value_date=day,
                amount=Money.of("180.00", "CNY"),
            )
        )
    return terms, journal


def milliseconds(work: Callable[[], object], repeat: int = 7) -> float:
    """Median wall time of ``work`` in milliseconds."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    """Measure and print every figure."""
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the issue asks
    print("Tenor core benchmark (one core)")
    for term, target in ((12, 20_000.0), (360, None)):
        terms = annuity_terms(term)
        exact = rate_per_second(functools.partial(build_schedule, terms))
        floats = rate_per_second(functools.partial(float_annuity, 250_000.0, 0.12, term))
        goal = f"target >= {target:,.0f}/s, {exact / target:.2f}x target; " if target else ""
        print(
            f"  exact {term:>3}-installment annuity schedules: {exact:>10,.0f}/s  "
            f"({goal}float baseline {floats:,.0f}/s, exact/float {exact / floats:.2f})"
        )
    terms, journal = long_journal(5_000)
    in_order = milliseconds(lambda: fold(terms, journal))
    backdated = RepaymentReceived(
        event_id="late",
        sequence=len(journal) + 1,
        value_date=terms.start + dt.timedelta(days=1),
        amount=Money.of("500.00", "CNY"),
    )
    refold = milliseconds(lambda: fold(terms, [*journal, backdated]))
    print(
        f"  re-fold of a 5,000-event loan after a backdated payment at its start: {refold:.1f} ms"
        f"  (target < 50 ms, {refold / 50:.2f}x target; first fold in order {in_order:.1f} ms,"
        f" ratio {refold / in_order:.2f})"
    )


if __name__ == "__main__":
    main()
