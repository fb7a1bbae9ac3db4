"""Month-end snapshots of a loan, from its journal: the facts every bureau record is made of.

A loan's state at a month end is the fold of its events with value dates up to that day,
assessed for delinquency on the day after (the first business date of the next month), as
the daily close would see it. This is exact for any past month, which corrections need: a
backdated event changes the months after its value date and no others.

The 24 (or 60) months of a profile cost one fold per month in which the loan has events, not
one per month: a month without events leaves the state of the month before, and only the
assessment, which is cheap, runs again. When the daily close keeps month-end snapshots, they
can feed :class:`MonthFacts` directly.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from tenor.core.account import (
    Disbursed,
    LoanEvent,
    LoanState,
    Recovered,
    RepaymentReceived,
    Status,
    effective_events,
    fold,
)
from tenor.core.bureau import MonthFacts, month_ends
from tenor.core.delinquency import UnpaidInstallment, assess
from tenor.core.money import Money
from tenor.products import ProductConfig
from tenor.store.codec import terms_from_json
from tenor.store.journal import LoanBook, load_events, load_loan

#: Repayment channels that mean a guarantor paid (担保人代还) or assets did (以资抵债).
GUARANTOR_CHANNELS = frozenset({"guarantor"})
ASSET_CHANNELS = frozenset({"assets", "asset"})


@dataclass(frozen=True, slots=True)
class LoanHistory:
    """A loan's month-end facts, oldest first, and what they were made from."""

    book: LoanBook
    months: tuple[MonthFacts, ...]
    disbursed_on: dt.date | None
    disbursed: Money
    term: int
    frequency: tuple[str, int]


def _balance(state: LoanState, day: dt.date) -> Money:
    if state.written_off_on is not None:
        return state.written_off - state.recovered
    minor = state.outstanding_principal.minor
    for item in state.installments:
        if item.due_date <= day:
            minor += item.unpaid_minor - item.unpaid_principal.minor
    return Money.trusted(max(minor, 0), state.currency)


def _closed_on(state: LoanState) -> dt.date | None:
    if state.status not in (Status.CLOSED, Status.OVERPAID) or not state.installments:
        return None
    if any(item.settled_on is None for item in state.installments):
        return None
    return max(item.settled_on for item in state.installments if item.settled_on is not None)


def month_facts(
    book: LoanBook,
    events: list[LoanEvent],
    through: dt.date,
    *,
    collections_on: dt.date | None = None,
) -> LoanHistory:
    """The loan's facts at every month end from its disbursement through ``through``'s month."""
    product: ProductConfig = book.product
    terms = terms_from_json(book.loan.terms)
    rules = product.account_rules()
    kept = effective_events(events)
    days = [event.value_date for event in kept]
    policy = product.delinquency_policy()
    currency = book.loan.currency
    zero = Money.zero(currency)
    payments = [e for e in kept if isinstance(e, RepaymentReceived | Recovered)]
    disbursements = [e for e in kept if isinstance(e, Disbursed)]
    disbursed_on = disbursements[0].value_date if disbursements else None
    months: list[MonthFacts] = []
    if disbursed_on is not None:
        state: LoanState | None = None
        previous_end: dt.date | None = None
        previous_prepaid = zero
        for end in month_ends(disbursed_on, through):
            first = end.replace(day=1)
            # A month without events leaves the state of the month before.
            if state is None or bisect.bisect_right(days, end) > bisect.bisect_right(
                days, previous_end or end
            ):
                state = fold(terms, events, rules, as_of=end)
            status = assess(
                [UnpaidInstallment(item.due_date, item.unpaid) for item in state.installments],
                end + dt.timedelta(days=1),
                policy,
                written_off=state.written_off_on is not None,
            )
            in_month = [p for p in payments if first <= p.value_date <= end]
            balance = _balance(state, end)
            paid = [p for p in payments if p.value_date <= end]
            months.append(
                MonthFacts(
                    month_end=end,
                    opened=True,
                    days_past_due=status.days_past_due,
                    oldest_unpaid_due_date=status.oldest_unpaid_due_date,
                    balance=balance,
                    # What is written off is all past due; what is recovered is not owed.
                    past_due=balance if state.written_off_on else status.overdue_amount,
                    scheduled_payment=Money.sum(
                        (i.total_due for i in state.installments if first <= i.due_date <= end),
                        currency,
                    ),
                    paid_in_month=Money.sum((p.amount for p in in_month), currency),
                    last_payment_on=paid[-1].value_date if paid else None,
                    closed_on=_closed_on(state),
                    written_off_on=state.written_off_on,
                    written_off=state.written_off,
                    loan_class=status.loan_class,
                    due_in_month=any(first <= i.due_date <= end for i in state.installments),
                    collections=collections_on is not None and collections_on <= end,
                    prepaid_in_month=state.prepaid_principal - previous_prepaid,
                    guarantor_paid_in_month=any(
                        isinstance(p, RepaymentReceived) and p.channel in GUARANTOR_CHANNELS
                        for p in in_month
                    ),
                    asset_paid_in_month=any(
                        isinstance(p, RepaymentReceived) and p.channel in ASSET_CHANNELS
                        for p in in_month
                    ),
                )
            )
            previous_prepaid = state.prepaid_principal
            previous_end = end
    disbursed = Money.sum((e.amount for e in disbursements), currency)
    return LoanHistory(
        book=book,
        months=tuple(months),
        disbursed_on=disbursed_on,
        disbursed=disbursed,
        term=terms.term,
        frequency=(terms.frequency.unit.value, terms.frequency.count),
    )


def load_history(
    session: Session, loan_id: int, through: dt.date, *, collections_on: dt.date | None = None
) -> LoanHistory:
    """:func:`month_facts` of the stored loan ``loan_id``."""
    book = load_loan(session, loan_id)
    return month_facts(book, load_events(session, loan_id), through, collections_on=collections_on)
