"""Money invariants of the loan account, over random journals."""

from __future__ import annotations

import dataclasses
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tenor.core.account import (
    AccountRules,
    LoanEvent,
    LoanState,
    Reversed,
    fold,
    fold_journal,
)
from tenor.core.errors import EventError
from tenor.core.money import Money
from tenor.core.schedule import LoanTerms
from tests.strategies import journals

Journal = tuple[LoanTerms, AccountRules, list[LoanEvent]]


def principal_booked(state: LoanState) -> Money:
    """Principal the installments carry, plus what was prepaid outside them."""
    scheduled = Money.sum((item.principal for item in state.installments), state.currency)
    return scheduled + state.prepaid_principal


def paid_in(state: LoanState) -> Money:
    """Everything a borrower's payments went to."""
    paid = Money.sum((item.paid for item in state.installments), state.currency)
    return paid + state.prepaid_principal + state.credit_balance


@given(journal=journals())
def test_principal_is_conserved(journal: Journal) -> None:
    terms, rules, events = journal
    state = fold(terms, events, rules)
    assert principal_booked(state) == state.disbursed


@given(journal=journals())
def test_every_payment_is_accounted_for(journal: Journal) -> None:
    terms, rules, events = journal
    state = fold(terms, events, rules)
    assert paid_in(state) == state.repaid


@given(journal=journals())
def test_no_balance_goes_negative(journal: Journal) -> None:
    terms, rules, events = journal
    state = fold(terms, events, rules)
    zero = Money.zero(state.currency)
    for item in state.installments:
        for part in (
            item.unpaid_principal,
            item.unpaid_interest,
            item.unpaid_fee,
            item.unpaid_penalty,
        ):
            assert part >= zero
        assert item.is_settled == (item.settled_on is not None)
    assert state.outstanding_principal >= zero
    assert state.credit_balance >= zero


@given(journal=journals(), seed=st.integers(0, 2**32))
def test_posting_out_of_order_ends_in_the_in_order_state(journal: Journal, seed: int) -> None:
    terms, rules, events = journal
    shuffled = list(events)
    random.Random(seed).shuffle(shuffled)
    assert fold(terms, shuffled, rules) == fold(terms, events, rules)


@given(journal=journals(), data=st.data())
def test_a_reversal_restores_the_state_without_the_event(
    journal: Journal, data: st.DataObject
) -> None:
    terms, rules, events = journal
    # Any event but the first disbursement can be reversed and leave a loan.
    target = data.draw(st.sampled_from(events[1:]) if len(events) > 1 else st.nothing())
    reversal = Reversed(
        event_id="reversal",
        sequence=len(events) + 1,
        value_date=max(event.value_date for event in events),
        target=target.event_id,
    )
    without = [event for event in events if event is not target]
    try:
        expected = fold(terms, without, rules)
    except EventError:
        # Reversing, say, a write-off that later recoveries depend on is refused either way.
        with pytest.raises(EventError):
            fold(terms, [*events, reversal], rules)
        return
    assert fold(terms, [*events, reversal], rules) == expected


@given(journal=journals())
def test_payments_cover_charges_before_credit(journal: Journal) -> None:
    terms, rules, events = journal
    state = fold(terms, events, rules)
    if state.credit_balance.is_positive:
        assert all(item.is_settled for item in state.installments)
        assert state.outstanding_penalties == Money.zero(state.currency)


@given(journal=journals())
def test_a_kept_fold_takes_the_next_event_as_a_whole_fold_would(journal: Journal) -> None:
    terms, rules, events = journal
    # Booked in the order the fold applies them, every event comes last and is applied alone.
    in_order = sorted(events, key=lambda event: (event.value_date, event.sequence))
    booked = [
        dataclasses.replace(event, sequence=number)
        for number, event in enumerate(in_order, start=1)
    ]
    kept = fold_journal(terms, booked[:1], rules)
    for count in range(2, len(booked) + 1):
        following = kept.with_event(booked[count - 1])
        assert following is not None
        assert following.state == fold(terms, booked[:count], rules)
        # The kept fold is unchanged: it can take the same event again.
        again = kept.with_event(booked[count - 1])
        assert again is not None
        assert again.state == following.state
        kept = following
    assert kept.state == fold_journal(terms, booked, rules).state


@given(journal=journals())
def test_a_kept_fold_refuses_what_it_cannot_apply_alone(journal: Journal) -> None:
    terms, rules, events = journal
    # Drawn in booking order with backdated value dates: each event either comes last and
    # gives the whole fold's state, or asks for a whole fold.
    for count in range(1, len(events)):
        kept = fold_journal(terms, events[:count], rules)
        assert kept.state == fold(terms, events[:count], rules)
        following = kept.with_event(events[count])
        last = max(events[: count + 1], key=lambda event: (event.value_date, event.sequence))
        if last is events[count]:
            assert following is not None
            assert following.state == fold(terms, events[: count + 1], rules)
        else:
            assert following is None
