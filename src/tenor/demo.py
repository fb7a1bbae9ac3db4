"""The demo: a few repayment schedules and one consumer loan's life, day by day.

Everything here is computed by ``tenor.core``; the demo only scripts a borrower and prints.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

from tenor.core.account import (
    ChargeApplied,
    ChargeKind,
    Disbursed,
    LoanEvent,
    LoanState,
    RepaymentReceived,
    Reversed,
    fold,
)
from tenor.core.calendar import Frequency
from tenor.core.delinquency import (
    DelinquencyPolicy,
    OverdueInstallment,
    UnpaidInstallment,
    assess,
    penalty_for_day,
)
from tenor.core.money import Money
from tenor.core.schedule import LoanTerms, Method, Milestone, build_schedule
from tenor.tables import schedule_table


def cny(amount: str) -> Money:
    """An amount in yuan."""
    return Money.of(amount, "CNY")


def sample_loans() -> list[tuple[str, LoanTerms]]:
    """Loans of the kinds Tenor services, to show their schedules."""
    start = dt.date(2026, 1, 15)
    monthly = Frequency.every_months(1)
    return [
        (
            "Consumer credit line: 6,000 CNY, 18% a year, 6 monthly annuity installments",
            LoanTerms(
                principal=cny("6000"),
                annual_rate=Decimal("0.18"),
                term=6,
                frequency=monthly,
                start=start,
            ),
        ),
        (
            "Equal principal: 12,000 CNY, 9.6% a year, 6 months, 10 CNY fee per installment",
            LoanTerms(
                principal=cny("12000"),
                annual_rate=Decimal("0.096"),
                term=6,
                frequency=monthly,
                start=start,
                method=Method.EQUAL_PRINCIPAL,
                installment_fee=cny("10"),
            ),
        ),
        (
            "Project finance: 50,000,000 CNY, 5.2% a year, quarterly interest, principal on "
            "milestones",
            LoanTerms(
                principal=cny("50000000"),
                annual_rate=Decimal("0.052"),
                term=8,
                frequency=Frequency.every_months(3),
                start=start,
                method=Method.MILESTONE,
                milestones=(
                    Milestone("phase 1 complete", dt.date(2027, 3, 1), Decimal("0.3")),
                    Milestone("plant commissioned", dt.date(2027, 9, 1), Decimal("0.3")),
                    Milestone("first full year of operation", dt.date(2028, 1, 15), Decimal("0.4")),
                ),
            ),
        ),
    ]


@dataclass(frozen=True, slots=True)
class Day:
    """One line of a loan's life: what happened and where the loan then stood."""

    date: dt.date
    happened: str
    state: LoanState
    days_past_due: int
    bucket: str
    loan_class: str


def live_through(terms: LoanTerms, script: dict[dt.date, str], until: dt.date) -> Iterator[Day]:
    """Walk a loan day by day: post the borrower's scripted payments and the daily penalty.

    ``script`` maps a date to an amount paid, to ``"bounce"`` to reverse the last payment, or
    to ``"payoff"`` to pay everything owed and a little over. Yields a line on every day
    something happens or the loan changes bucket.
    """
    policy = DelinquencyPolicy(tolerance=cny("1"))
    events: list[LoanEvent] = []

    def post(event: LoanEvent) -> LoanEvent:
        events.append(event)
        return event

    def slot(day: dt.date) -> dict[str, Any]:
        return {"event_id": f"e{len(events) + 1}", "sequence": len(events) + 1, "value_date": day}

    post(Disbursed(**slot(terms.start), amount=terms.principal))
    state = fold(terms, events)
    yield Day(terms.start, f"disbursed {terms.principal}", state, 0, "M0", "正常 Normal")
    last_payment = ""
    previous_bucket = "M0"
    day = terms.start
    while day < until:
        day += dt.timedelta(days=1)
        happened = []
        action = script.get(day)
        if action == "bounce":
            post(Reversed(**slot(day), target=last_payment))
            happened.append(f"payment {last_payment} bounced and was reversed")
        elif action:
            amount = (
                fold(terms, events, as_of=day).total_outstanding + cny("8.80")
                if action == "payoff"
                else cny(action)
            )
            last_payment = post(RepaymentReceived(**slot(day), amount=amount)).event_id
            happened.append(f"paid {amount}")
        state = fold(terms, events, as_of=day)
        overdue = [
            OverdueInstallment(item.due_date, item.unpaid_principal, item.unpaid_interest)
            for item in state.installments
            if item.due_date < day and not item.is_settled
        ]
        penalty = penalty_for_day(overdue, day, policy.penalty, currency="CNY")
        if penalty:
            post(ChargeApplied(**slot(day), kind=ChargeKind.PENALTY_INTEREST, amount=penalty))
            state = fold(terms, events, as_of=day)
        status = assess(
            [UnpaidInstallment(item.due_date, item.unpaid) for item in state.installments],
            day,
            policy,
        )
        bucket = status.bucket.name
        if bucket != previous_bucket:
            happened.append(f"moved from {previous_bucket} to {bucket}")
            previous_bucket = bucket
        if happened:
            yield Day(
                day,
                "; ".join(happened),
                state,
                status.days_past_due,
                bucket,
                f"{status.loan_class.label_zh} {status.loan_class.label_en}",
            )


def life_table(days: list[Day]) -> Table:
    """A loan's life as a Rich table."""
    table = Table(title="A consumer loan's life, day by day", title_justify="left")
    for column in ("Date", "What happened", "Principal left", "Penalties", "DPD", "Bucket"):
        table.add_column(column, justify="left" if column == "What happened" else "right")
    table.add_column("Class")
    table.add_column("Status")
    for line in days:
        table.add_row(
            line.date.isoformat(),
            line.happened,
            line.state.outstanding_principal.format(),
            line.state.outstanding_penalties.format(),
            str(line.days_past_due),
            line.bucket,
            line.loan_class,
            line.state.status.value,
        )
    return table


def run(console: Console) -> None:
    """Print the sample schedules, then one loan's life from disbursement to its end."""
    for title, terms in sample_loans():
        console.print(schedule_table(build_schedule(terms), title))
        console.print()
    terms = sample_loans()[0][1]
    schedule = build_schedule(terms)
    regular = schedule.installments[0].total.format()
    dues = [item.due_date for item in schedule.installments]
    script = {
        dues[0]: regular,  # on time
        dues[1] - dt.timedelta(days=2): regular,  # early
        dues[2] + dt.timedelta(days=1): regular,  # a payment that bounces
        dues[2] + dt.timedelta(days=4): "bounce",
        dues[3] + dt.timedelta(days=20): "2200",  # catches up late, with penalties
        dues[4]: "500",  # partial
        dues[5] + dt.timedelta(days=3): "payoff",  # pays off, a little over
    }
    days = list(live_through(terms, script, dues[-1] + dt.timedelta(days=10)))
    console.print(life_table(days))
    final = days[-1].state
    console.print(
        f"Repaid {final.repaid} against {schedule.total_due} scheduled; "
        f"status {final.status.value}, credit balance {final.credit_balance}."
    )
