"""The loan account as a fold over its journal: whole lives, corrections and refusals."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from tenor.core.account import (
    AccountRules,
    ChargeApplied,
    ChargeKind,
    Disbursed,
    LoanEvent,
    LoanState,
    OverpaymentPolicy,
    Recovered,
    RepaymentReceived,
    Reversed,
    Status,
    Waived,
    WrittenOff,
    fold,
    fold_journal,
)
from tenor.core.allocation import OVERDUE_INTEREST_PRINCIPAL_FIRST, Component
from tenor.core.calendar import Frequency
from tenor.core.errors import EventError, InvalidArgumentError
from tenor.core.money import Money
from tenor.core.schedule import LoanTerms, Method

D = dt.date


def cny(amount: str) -> Money:
    return Money.of(amount, "CNY")


def terms(
    principal: str = "1200", term: int = 3, method: Method = Method.ANNUITY, **overrides: Any
) -> LoanTerms:
    return LoanTerms(
        principal=cny(principal),
        annual_rate=Decimal("0.12"),
        term=term,
        frequency=Frequency.every_months(1),
        start=D(2026, 1, 15),
        method=method,
        **overrides,
    )


class Journal:
    """Builds events with ids and booking sequence numbers in posting order."""

    def __init__(self) -> None:
        self.events: list[LoanEvent] = []

    def _next(self) -> dict[str, Any]:
        number = len(self.events) + 1
        return {"event_id": f"e{number}", "sequence": number}

    def disburse(self, day: dt.date, amount: str = "1200") -> str:
        self.events.append(Disbursed(**self._next(), value_date=day, amount=cny(amount)))
        return self.events[-1].event_id

    def pay(self, day: dt.date, amount: str) -> str:
        self.events.append(RepaymentReceived(**self._next(), value_date=day, amount=cny(amount)))
        return self.events[-1].event_id

    def charge(
        self,
        day: dt.date,
        amount: str,
        kind: ChargeKind = ChargeKind.LATE_FEE,
        installment: int | None = None,
    ) -> str:
        self.events.append(
            ChargeApplied(
                **self._next(),
                value_date=day,
                kind=kind,
                amount=cny(amount),
                installment=installment,
            )
        )
        return self.events[-1].event_id

    def waive(self, day: dt.date, component: Component, amount: str) -> str:
        self.events.append(
            Waived(**self._next(), value_date=day, component=component, amount=cny(amount))
        )
        return self.events[-1].event_id

    def reverse(self, day: dt.date, target: str) -> str:
        self.events.append(Reversed(**self._next(), value_date=day, target=target))
        return self.events[-1].event_id

    def write_off(self, day: dt.date) -> str:
        self.events.append(WrittenOff(**self._next(), value_date=day))
        return self.events[-1].event_id

    def recover(self, day: dt.date, amount: str) -> str:
        self.events.append(Recovered(**self._next(), value_date=day, amount=cny(amount)))
        return self.events[-1].event_id


def table(state: LoanState) -> list[tuple[int, str, str, str, str, str | None]]:
    """Each installment as (number, due date, total due, paid, unpaid, settled on)."""
    return [
        (
            item.number,
            item.due_date.isoformat(),
            item.total_due.format(),
            item.paid.format(),
            item.unpaid.format(),
            item.settled_on.isoformat() if item.settled_on else None,
        )
        for item in state.installments
    ]


def test_a_loan_paid_on_time_closes() -> None:
    """1200 CNY at 12% over 3 months, each installment paid on its due date."""
    journal = Journal()
    journal.disburse(D(2026, 1, 15))
    for item in fold(terms(), journal.events).installments:
        journal.pay(item.due_date, item.total_due.format())
    state = fold(terms(), journal.events)
    assert table(state) == [
        (1, "2026-02-15", "408.03", "408.03", "0.00", "2026-02-15"),
        (2, "2026-03-15", "408.03", "408.03", "0.00", "2026-03-15"),
        (3, "2026-04-15", "408.02", "408.02", "0.00", "2026-04-15"),
    ]
    assert state.status is Status.CLOSED
    assert state.outstanding_principal == Money.zero("CNY")
    assert state.total_outstanding == Money.zero("CNY")


def test_whole_life_with_partial_payment_fee_and_overpayment() -> None:
    journal = Journal()
    journal.disburse(D(2026, 1, 15))
    journal.pay(D(2026, 2, 15), "408.03")
    journal.charge(D(2026, 3, 20), "20")  # late fee on the overdue March installment
    journal.pay(D(2026, 3, 25), "100")  # pays the fee first, then interest and principal
    journal.pay(D(2026, 4, 15), "800")  # clears March and April, leaves a credit balance
    state = fold(terms(), journal.events)
    assert table(state) == [
        (1, "2026-02-15", "408.03", "408.03", "0.00", "2026-02-15"),
        (2, "2026-03-15", "428.03", "428.03", "0.00", "2026-04-15"),
        (3, "2026-04-15", "408.02", "408.02", "0.00", "2026-04-15"),
    ]
    assert state.status is Status.OVERPAID
    assert state.credit_balance == cny("63.95")
    assert state.repaid == cny("1308.03")
    assert state.installments[1].paid_penalty == cny("20")


def test_arrears_and_due_follow_the_date() -> None:
    journal = Journal()
    journal.disburse(D(2026, 1, 15))
    journal.pay(D(2026, 2, 15), "100")
    state = fold(terms(), journal.events)
    first = state.installments[0]
    assert first.unpaid == first.total_due - cny("100")
    assert state.arrears(D(2026, 2, 15)) == Money.zero("CNY")
    assert state.arrears(D(2026, 2, 16)) == first.unpaid
    assert state.due(D(2026, 2, 15)) == first.unpaid
    assert state.next_installment(D(2026, 2, 16)) == state.installments[1]


def test_backdated_payment_refolds_to_the_in_order_state() -> None:
    in_order = Journal()
    in_order.disburse(D(2026, 1, 15))
    in_order.pay(D(2026, 2, 10), "300")
    in_order.charge(D(2026, 3, 20), "15", ChargeKind.PENALTY_INTEREST)
    in_order.pay(D(2026, 3, 25), "600")
    posted = [in_order.events[i] for i in (0, 2, 3, 1)]
    assert fold(terms(), posted) == fold(terms(), in_order.events)


def test_reversal_restores_the_prior_state_exactly() -> None:
    journal = Journal()
    journal.disburse(D(2026, 1, 15))
    journal.pay(D(2026, 2, 15), "408.03")
    before = fold(terms(), journal.events)
    bounced = journal.pay(D(2026, 3, 15), "408.03")
    assert fold(terms(), journal.events) != before
    journal.reverse(D(2026, 3, 18), bounced)
    assert fold(terms(), journal.events) == before


def test_waterfall_is_the_products() -> None:
    journal = Journal()
    journal.disburse(D(2026, 1, 15))
    journal.charge(D(2026, 2, 20), "30")
    journal.pay(D(2026, 2, 25), "50")
    default = fold(terms(), journal.events).installments[0]
    assert (default.paid_penalty, default.paid_interest, default.paid_principal) == (
        cny("30"),
        cny("12"),
        cny("8"),
    )
    rules = AccountRules(waterfall=OVERDUE_INTEREST_PRINCIPAL_FIRST)
    overdue_first = fold(terms(), journal.events, rules).installments[0]
    assert (overdue_first.paid_penalty, overdue_first.paid_interest) == (cny("0"), cny("12"))
    assert overdue_first.paid_principal == cny("38")


def test_prepayment_reduces_the_installment() -> None:
    rules = AccountRules(overpayment=OverpaymentPolicy.REDUCE_INSTALLMENT)
    journal = Journal()
    journal.disburse(D(2026, 1, 15))
    journal.pay(D(2026, 2, 15), "608.03")  # the first installment and 200.00 of principal
    state = fold(terms(), journal.events, rules)
    assert state.prepaid_principal == cny("200")
    assert len(state.installments) == 3
    later = state.installments[1:]
    assert all(item.total_due < cny("408.03") for item in later)
    total_principal = Money.sum((i.principal for i in state.installments), "CNY")
    assert total_principal + state.prepaid_principal == cny("1200")
    assert state.installments[1].principal.minor > 0


def test_prepayment_reduces_the_term() -> None:
    rules = AccountRules(overpayment=OverpaymentPolicy.REDUCE_TERM)
    loan = terms(principal="12000", term=12)
    journal = Journal()
    journal.disburse(D(2026, 1, 15), "12000")
    regular = fold(loan, journal.events, rules).installments[0].total_due
    journal.pay(D(2026, 2, 15), (regular + cny("3000")).format())
    state = fold(loan, journal.events, rules)
    assert len(state.installments) < 12
    assert all(item.total_due <= regular for item in state.installments[1:-1])
    total_principal = Money.sum((i.principal for i in state.installments), "CNY")
    assert total_principal + state.prepaid_principal == cny("12000")


def test_prepayment_beyond_the_balance_pays_off_and_keeps_the_rest() -> None:
    rules = AccountRules(overpayment=OverpaymentPolicy.REDUCE_INSTALLMENT)
    journal = Journal()
    journal.disburse(D(2026, 1, 15))
    journal.pay(D(2026, 1, 20), "1500")
    state = fold(terms(), journal.events, rules)
    assert len(state.installments) == 1
    assert state.outstanding_principal == Money.zero("CNY")
    assert state.status is Status.OVERPAID
    first = state.installments[0]
    assert state.credit_balance == cny("1500") - first.total_due - state.prepaid_principal


def test_second_tranche_reamortises_and_keeps_principal_whole() -> None:
    loan = terms(principal="10000", term=6)
    journal = Journal()
    journal.disburse(D(2026, 1, 15), "6000")
    journal.pay(D(2026, 2, 15), "1035.29")
    journal.disburse(D(2026, 3, 1), "4000")
    state = fold(loan, journal.events)
    assert state.disbursed == cny("10000")
    total_principal = Money.sum((i.principal for i in state.installments), "CNY")
    assert total_principal == cny("10000")
    assert len(state.installments) == 6
    # Interest earned on the first tranche from 15 Feb to 1 Mar stays owed.
    assert state.installments[1].interest > cny("0")


def test_waiver_and_its_limits() -> None:
    journal = Journal()
    journal.disburse(D(2026, 1, 15))
    journal.charge(D(2026, 2, 20), "30")
    journal.waive(D(2026, 2, 21), Component.PENALTY, "30")
    state = fold(terms(), journal.events)
    assert state.installments[0].waived_penalty == cny("30")
    assert state.outstanding_penalties == Money.zero("CNY")
    journal.waive(D(2026, 2, 22), Component.PENALTY, "1")
    with pytest.raises(EventError, match="more than"):
        fold(terms(), journal.events)


def test_write_off_and_recovery() -> None:
    journal = Journal()
    journal.disburse(D(2026, 1, 15))
    journal.write_off(D(2026, 6, 30))
    journal.recover(D(2026, 7, 10), "500")
    state = fold(terms(), journal.events)
    assert state.status is Status.WRITTEN_OFF
    assert state.written_off == Money.sum((i.total_due for i in state.installments), "CNY")
    assert state.recovered == cny("500")
    assert state.outstanding_principal == Money.zero("CNY")
    journal.pay(D(2026, 7, 11), "10")
    with pytest.raises(EventError, match="recovery"):
        fold(terms(), journal.events)


def test_write_off_cancels_interest_not_yet_due() -> None:
    journal = Journal()
    journal.disburse(D(2026, 1, 15))
    journal.write_off(D(2026, 2, 20))
    state = fold(terms(), journal.events)
    assert state.written_off == state.installments[0].total_due + cny("1200") - (
        state.installments[0].principal
    )


def test_as_of_ignores_later_events() -> None:
    journal = Journal()
    journal.disburse(D(2026, 1, 15))
    journal.pay(D(2026, 2, 15), "408.03")
    journal.pay(D(2026, 3, 15), "408.03")
    state = fold(terms(), journal.events, as_of=D(2026, 2, 28))
    assert state.repaid == cny("408.03")
    assert state.as_of == D(2026, 2, 28)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda j: j.pay(D(2026, 2, 1), "10"), "before any disbursement"),
        (lambda j: (j.disburse(D(2026, 1, 15)), j.reverse(D(2026, 2, 1), "nope")), "unknown"),
        (
            lambda j: (
                j.disburse(D(2026, 1, 15)),
                j.reverse(D(2026, 2, 1), "e1"),
                j.reverse(D(2026, 2, 2), "e1"),
            ),
            "more than once",
        ),
        (
            lambda j: (
                j.disburse(D(2026, 1, 15)),
                j.reverse(D(2026, 2, 1), j.reverse(D(2026, 2, 1), "e1")),
            ),
            "targets reversal",
        ),
        (
            lambda j: (
                j.disburse(D(2026, 1, 15)),
                j.waive(D(2026, 2, 1), Component.PRINCIPAL, "1"),
            ),
            "principal cannot be waived",
        ),
        (lambda j: (j.disburse(D(2026, 1, 15)), j.recover(D(2026, 2, 1), "1")), "written-off"),
        (
            lambda j: (
                j.disburse(D(2026, 1, 15)),
                j.write_off(D(2026, 2, 1)),
                j.write_off(D(2026, 3, 1)),
            ),
            "already written off",
        ),
    ],
)
def test_impossible_journals_are_refused(build: Callable[[Journal], object], message: str) -> None:
    journal = Journal()
    build(journal)
    with pytest.raises(EventError, match=message):
        fold(terms(), journal.events)


def test_amount_in_another_currency_is_refused() -> None:
    event = Disbursed(
        event_id="e1", sequence=1, value_date=D(2026, 1, 15), amount=Money(100, "USD")
    )
    with pytest.raises(EventError, match="USD"):
        fold(terms(), [event])


def test_prepayment_policy_refused_for_milestone_loans() -> None:
    rules = AccountRules(overpayment=OverpaymentPolicy.REDUCE_TERM)
    loan = terms(
        method=Method.STEPPED,
        stepped_principal=(cny("400"), cny("400"), cny("400")),
    )
    with pytest.raises(InvalidArgumentError, match="credit-balance"):
        fold(loan, [], rules)


def test_no_events_is_a_pending_loan() -> None:
    state = fold(terms(), [])
    assert state.status is Status.PENDING
    assert state.installments == ()


# --- found in review: what a new schedule, a payoff or a recovery must not lose -------------


def test_a_prepayment_keeps_charges_on_the_installments_it_reschedules() -> None:
    rules = AccountRules(overpayment=OverpaymentPolicy.REDUCE_INSTALLMENT)
    journal = Journal()
    journal.disburse(D(2026, 1, 15), "6000")
    loan = terms(principal="6000", term=6)
    journal.charge(D(2026, 1, 20), "50", installment=4)  # on an installment to be rescheduled
    before = fold(loan, journal.events, rules)
    journal.pay(D(2026, 1, 25), "2000")
    after = fold(loan, journal.events, rules)
    assert before.outstanding_penalties == cny("50")
    assert after.outstanding_penalties == cny("50")
    assert after.installments[1].penalty == cny("50")
    assert after.repaid == Money.sum((i.paid for i in after.installments), "CNY") + (
        after.prepaid_principal
    )


def test_a_tranche_keeps_a_fee_charged_on_a_later_installment() -> None:
    loan = terms(principal="6000", term=6)
    journal = Journal()
    journal.disburse(D(2026, 1, 15), "3000")
    journal.charge(D(2026, 1, 20), "30", ChargeKind.FEE)
    journal.disburse(D(2026, 2, 1), "3000")
    state = fold(loan, journal.events)
    assert state.outstanding_fees == cny("30")


def test_each_tranche_in_one_period_keeps_the_interest_earned_before_it() -> None:
    """9,000 at 12% in three tranches of 3,000 within the first period (15 Jan to 15 Feb).

    3,000 earns 1% a month: 30.00 for the period; on 25 Jan 10/31 of it is earned (9.68) and
    6,000 is scheduled from 25 Jan, 21 days at ACT/365F: 41.42. On 5 Feb 11/21 of that 41.42
    is earned (21.70) and 9,000 runs the last 10 days: 29.59. 9.68 + 21.70 + 29.59 = 60.97.
    """
    loan = terms(principal="9000", term=6)
    journal = Journal()
    journal.disburse(D(2026, 1, 15), "3000")
    journal.disburse(D(2026, 1, 25), "3000")
    assert fold(loan, journal.events).installments[0].interest == cny("51.10")
    journal.disburse(D(2026, 2, 5), "3000")
    assert fold(loan, journal.events).installments[0].interest == cny("60.97")


def test_a_payoff_pays_charges_before_any_credit_balance() -> None:
    rules = AccountRules(overpayment=OverpaymentPolicy.REDUCE_TERM)
    journal = Journal()
    journal.disburse(D(2026, 1, 15), "6000")
    loan = terms(principal="6000", term=6)
    journal.charge(D(2026, 1, 16), "40", ChargeKind.FEE, installment=5)
    journal.charge(D(2026, 1, 17), "25", ChargeKind.LATE_FEE, installment=6)
    journal.pay(D(2026, 1, 20), "7000")
    state = fold(loan, journal.events, rules)
    assert state.total_outstanding == Money.zero("CNY")
    assert state.status is Status.OVERPAID
    paid = Money.sum((i.paid for i in state.installments), "CNY")
    assert paid + state.prepaid_principal + state.credit_balance == cny("7000")
    assert Money.sum((i.paid_fee + i.paid_penalty for i in state.installments), "CNY") == cny("65")


def test_a_recovery_cannot_exceed_what_was_written_off() -> None:
    journal = Journal()
    journal.disburse(D(2026, 1, 15))
    journal.write_off(D(2026, 6, 30))
    written_off = fold(terms(), journal.events).written_off
    journal.recover(D(2026, 7, 1), (written_off + cny("0.01")).format())
    with pytest.raises(EventError, match="still written off"):
        fold(terms(), journal.events)


def test_the_up_front_fee_is_owed_with_the_first_installment() -> None:
    loan = terms(upfront_fee=cny("120"))
    journal = Journal()
    journal.disburse(D(2026, 1, 15))
    state = fold(loan, journal.events)
    assert state.installments[0].fee == cny("120")
    assert state.outstanding_fees == cny("120")


def test_the_disbursement_date_is_the_first_tranche_s() -> None:
    journal = Journal()
    journal.disburse(D(2026, 1, 15), "600")
    journal.disburse(D(2026, 1, 25), "600")
    assert fold(terms(), journal.events).disbursed_on == D(2026, 1, 15)


def test_a_kept_fold_takes_a_later_event_and_refuses_others() -> None:
    loan = terms()
    disbursed = Disbursed(event_id="d", sequence=1, value_date=D(2026, 1, 15), amount=cny("1200"))
    paid = RepaymentReceived(event_id="p", sequence=2, value_date=D(2026, 2, 15), amount=cny("410"))
    kept = fold_journal(loan, [disbursed, paid])
    later = RepaymentReceived(event_id="q", sequence=3, value_date=D(2026, 3, 1), amount=cny("50"))
    following = kept.with_event(later)
    assert following is not None
    assert following.state == fold(loan, [disbursed, paid, later])
    # Backdated, a reversal, an id the journal holds: only a whole fold can say.
    assert kept.with_event(dataclasses.replace(later, value_date=D(2026, 2, 1))) is None
    assert (
        kept.with_event(Reversed(event_id="r", sequence=3, value_date=D(2026, 3, 1), target="p"))
        is None
    )
    assert kept.with_event(dataclasses.replace(later, event_id="p")) is None
    written_off = WrittenOff(event_id="w", sequence=4, value_date=D(2026, 4, 1))
    after_write_off = following.with_event(written_off)
    assert after_write_off is not None
    with pytest.raises(EventError, match="already written off"):
        after_write_off.with_event(dataclasses.replace(written_off, event_id="w2", sequence=5))
