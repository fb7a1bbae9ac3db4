"""Tests of ``tenor.core.allocation``: payment waterfalls over unpaid installments."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tenor.core.allocation import (
    OVERDUE_INTEREST_PRINCIPAL_FIRST,
    PENALTY_FEE_INTEREST_PRINCIPAL,
    PRINCIPAL_INTEREST_PENALTY_FEE,
    WATERFALLS,
    Allocation,
    AllocationResult,
    Component,
    FutureOrder,
    InstallmentDue,
    TimeClass,
    Waterfall,
    WaterfallStyle,
    allocate_minor,
    allocate_payment,
    payment_order,
    time_class,
)
from tenor.core.errors import CurrencyMismatchError, InvalidArgumentError
from tenor.core.money import CURRENCY_EXPONENTS, Money

D = dt.date.fromisoformat
PEN, FEE, INT, PRI = Component.PENALTY, Component.FEE, Component.INTEREST, Component.PRINCIPAL
ALL_RULES = [f"{t.value}-{c.name.lower()}" for t in TimeClass for c in Component]


def cny(amount: str) -> Money:
    return Money.of(amount, "CNY")


def due(
    number: int, due_date: str, penalty: str, fee: str, interest: str, principal: str
) -> InstallmentDue:
    """An installment's unpaid parts in CNY, in the order penalty, fee, interest, principal."""
    return InstallmentDue(
        number, D(due_date), cny(penalty), cny(fee), cny(interest), cny(principal)
    )


def result(*slices: tuple[int, Component, str], unallocated: str = "0") -> AllocationResult:
    """The expected result, written as (installment number, component, amount) rows."""
    return AllocationResult(
        allocations=tuple(
            Allocation(number, component, cny(amount)) for number, component, amount in slices
        ),
        unallocated=cny(unallocated),
    )


# Value date 15 March 2026: #1 is past due, #2 falls due today, #3 is paid in advance.
VALUE_DATE = D("2026-03-15")
DUES = (
    #   no  due date      penalty fee    interest principal
    due(1, "2026-02-15", "5.00", "2.00", "10.00", "100.00"),  # 117.00
    due(2, "2026-03-15", "0.00", "2.00", "9.00", "101.00"),  # 112.00
    due(3, "2026-04-15", "0.00", "2.00", "8.00", "102.00"),  # 112.00
)


def test_time_classes() -> None:
    assert [time_class(d.due_date, VALUE_DATE) for d in DUES] == [
        TimeClass.PAST_DUE,
        TimeClass.DUE,
        TimeClass.IN_ADVANCE,
    ]


def test_shipped_waterfalls_are_registered_by_name() -> None:
    assert WATERFALLS == {
        "penalty-fee-interest-principal": PENALTY_FEE_INTEREST_PRINCIPAL,
        "principal-interest-penalty-fee": PRINCIPAL_INTEREST_PENALTY_FEE,
        "overdue-interest-principal-first": OVERDUE_INTEREST_PRINCIPAL_FIRST,
    }


def test_penalty_fee_interest_principal() -> None:
    assert allocate_payment(
        cny("250.00"), DUES, VALUE_DATE, PENALTY_FEE_INTEREST_PRINCIPAL
    ) == result(
        (1, PEN, "5.00"),
        (1, FEE, "2.00"),
        (1, INT, "10.00"),
        (1, PRI, "100.00"),
        (2, FEE, "2.00"),
        (2, INT, "9.00"),
        (2, PRI, "101.00"),
        (3, FEE, "2.00"),
        (3, INT, "8.00"),
        (3, PRI, "11.00"),
    )


def test_principal_interest_penalty_fee() -> None:
    assert allocate_payment(
        cny("250.00"), DUES, VALUE_DATE, PRINCIPAL_INTEREST_PENALTY_FEE
    ) == result(
        (1, PRI, "100.00"),
        (1, INT, "10.00"),
        (1, PEN, "5.00"),
        (1, FEE, "2.00"),
        (2, PRI, "101.00"),
        (2, INT, "9.00"),
        (2, FEE, "2.00"),
        (3, PRI, "21.00"),
    )


def test_overdue_interest_principal_first() -> None:
    assert allocate_payment(
        cny("250.00"), DUES, VALUE_DATE, OVERDUE_INTEREST_PRINCIPAL_FIRST
    ) == result(
        (1, INT, "10.00"),
        (1, PRI, "100.00"),
        (1, PEN, "5.00"),
        (1, FEE, "2.00"),
        (2, INT, "9.00"),
        (2, PRI, "101.00"),
        (2, FEE, "2.00"),
        (3, INT, "8.00"),
        (3, PRI, "13.00"),
    )


def test_overdue_first_pays_every_overdue_installment_before_their_penalties() -> None:
    """Rule by rule: all past-due interest, then all past-due principal, then penalties."""
    dues = (
        due(1, "2026-01-15", "5.00", "2.00", "10.00", "100.00"),
        due(2, "2026-02-15", "5.00", "2.00", "9.00", "101.00"),
        due(3, "2026-03-15", "0.00", "0.00", "8.00", "102.00"),
    )
    assert allocate_payment(
        cny("225.00"), dues, VALUE_DATE, OVERDUE_INTEREST_PRINCIPAL_FIRST
    ) == result(
        (1, INT, "10.00"),
        (2, INT, "9.00"),
        (1, PRI, "100.00"),
        (2, PRI, "101.00"),
        (1, PEN, "5.00"),
    )
    # By installment, the same payment settles #1 entirely before touching #2.
    assert allocate_payment(
        cny("225.00"), dues, VALUE_DATE, PENALTY_FEE_INTEREST_PRINCIPAL
    ) == result(
        (1, PEN, "5.00"),
        (1, FEE, "2.00"),
        (1, INT, "10.00"),
        (1, PRI, "100.00"),
        (2, PEN, "5.00"),
        (2, FEE, "2.00"),
        (2, INT, "9.00"),
        (2, PRI, "92.00"),
    )


def test_overpayment_is_unallocated() -> None:
    for waterfall in WATERFALLS.values():
        paid = allocate_payment(cny("400.00"), DUES, VALUE_DATE, waterfall)
        assert paid.unallocated == cny("59.00"), waterfall.name
        assert {component: paid.total(component) for component in Component} == {
            PEN: cny("5.00"),
            FEE: cny("6.00"),
            INT: cny("27.00"),
            PRI: cny("303.00"),
        }


def test_nothing_to_pay_or_nothing_paid() -> None:
    assert allocate_payment(cny("0"), DUES, VALUE_DATE, PENALTY_FEE_INTEREST_PRINCIPAL) == result()
    assert allocate_payment(
        cny("10.00"), (), VALUE_DATE, OVERDUE_INTEREST_PRINCIPAL_FIRST
    ) == result(unallocated="10.00")
    settled = (due(1, "2026-02-15", "0", "0", "0", "0"),)
    assert allocate_payment(
        cny("1.00"), settled, VALUE_DATE, PRINCIPAL_INTEREST_PENALTY_FEE
    ) == result(unallocated="1.00")


def test_from_rules_future_order() -> None:
    """A prepayment before any due date: next-first pays #1 onward, last-first #3 backward."""
    rules = [
        *(rule for rule in ALL_RULES if not rule.startswith("in-advance-")),
        "in-advance-principal",
        "in-advance-interest",
        "in-advance-penalty",
        "in-advance-fee",
    ]
    next_first = Waterfall.from_rules("prepay-next", rules)
    last_first = Waterfall.from_rules("prepay-last", rules, FutureOrder.LAST_FIRST)
    assert (next_first.style, next_first.future_order, last_first.future_order) == (
        WaterfallStyle.BY_RULE,
        FutureOrder.NEXT_FIRST,
        FutureOrder.LAST_FIRST,
    )
    early = D("2026-01-01")
    assert allocate_payment(cny("230.00"), DUES, early, next_first) == result(
        (1, PRI, "100.00"),
        (2, PRI, "101.00"),
        (3, PRI, "29.00"),
    )
    assert allocate_payment(cny("230.00"), DUES, early, last_first) == result(
        (3, PRI, "102.00"),
        (2, PRI, "101.00"),
        (1, PRI, "27.00"),
    )
    # Past-due and due rules still come first; only the in-advance span is reversed.
    assert allocate_payment(cny("240.00"), DUES, VALUE_DATE, last_first) == result(
        (1, PEN, "5.00"),
        (1, FEE, "2.00"),
        (1, INT, "10.00"),
        (1, PRI, "100.00"),
        (2, FEE, "2.00"),
        (2, INT, "9.00"),
        (2, PRI, "101.00"),
        (3, PRI, "11.00"),
    )


def test_from_rules_matches_the_shipped_rule_waterfall() -> None:
    rules = [f"{t.value}-{c.name.lower()}" for t, c in OVERDUE_INTEREST_PRINCIPAL_FIRST.rules]
    assert Waterfall.from_rules(OVERDUE_INTEREST_PRINCIPAL_FIRST.name, rules) == (
        OVERDUE_INTEREST_PRINCIPAL_FIRST
    )


def test_payment_order_by_rule_and_by_installment() -> None:
    due_dates = [
        D("2026-02-15"),
        D("2026-03-15"),
        D("2026-03-15"),
        D("2026-04-15"),
        D("2026-05-15"),
    ]
    prepay_last = Waterfall.from_rules(
        "in-advance-first",
        [*ALL_RULES[8:], *ALL_RULES[:8]],
        FutureOrder.LAST_FIRST,
    )
    order = list(payment_order(due_dates, VALUE_DATE, prepay_last))
    assert order[:8] == [
        (4, PEN),
        (3, PEN),
        (4, FEE),
        (3, FEE),
        (4, INT),
        (3, INT),
        (4, PRI),
        (3, PRI),
    ]
    assert order[8:12] == [(0, PEN), (0, FEE), (0, INT), (0, PRI)]
    assert order[12:] == [
        (1, PEN),
        (2, PEN),
        (1, FEE),
        (2, FEE),
        (1, INT),
        (2, INT),
        (1, PRI),
        (2, PRI),
    ]
    assert list(payment_order(due_dates, VALUE_DATE, PRINCIPAL_INTEREST_PENALTY_FEE, first=3)) == [
        (3, PRI),
        (3, INT),
        (3, PEN),
        (3, FEE),
        (4, PRI),
        (4, INT),
        (4, PEN),
        (4, FEE),
    ]


@pytest.mark.parametrize(
    "components",
    [
        (),
        (PEN, FEE, INT),
        (PEN, FEE, INT, INT),
        (PEN, PEN, FEE, INT, PRI),
        (PRI, INT, FEE, PEN, PRI),
    ],
)
def test_by_installment_waterfall_lists_each_component_once(
    components: tuple[Component, ...],
) -> None:
    with pytest.raises(InvalidArgumentError, match="each component exactly once"):
        Waterfall("bad", WaterfallStyle.BY_INSTALLMENT, components=components)


@pytest.mark.parametrize(
    "rules",
    [
        [],
        ALL_RULES[:-1],
        [*ALL_RULES[:-1], ALL_RULES[0]],
        [*ALL_RULES, ALL_RULES[0]],
    ],
)
def test_by_rule_waterfall_lists_each_rule_once(rules: list[str]) -> None:
    with pytest.raises(InvalidArgumentError, match="exactly once"):
        Waterfall.from_rules("bad", rules)


@pytest.mark.parametrize(
    "unknown",
    ["overdue-penalty", "past-due-tax", "due", "past-due-", "", "due-principal ", "in_advance-fee"],
)
def test_unknown_rule_names_are_refused(unknown: str) -> None:
    with pytest.raises(InvalidArgumentError, match="unknown allocation rule") as caught:
        Waterfall.from_rules("bad", [*ALL_RULES[:-1], unknown])
    assert repr(unknown) in caught.value.message


def test_negative_payment_is_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="must not be negative"):
        allocate_payment(cny("-0.01"), DUES, VALUE_DATE, PENALTY_FEE_INTEREST_PRINCIPAL)
    with pytest.raises(InvalidArgumentError, match="must not be negative"):
        allocate_minor(-1, [[0, 0, 0, 1]], [VALUE_DATE], VALUE_DATE, PENALTY_FEE_INTEREST_PRINCIPAL)


def test_negative_unpaid_amount_is_refused() -> None:
    dues = (*DUES[:2], due(3, "2026-04-15", "0.00", "-2.00", "8.00", "102.00"))
    with pytest.raises(InvalidArgumentError, match="installment 3 has a negative unpaid amount"):
        allocate_payment(cny("1.00"), dues, VALUE_DATE, PENALTY_FEE_INTEREST_PRINCIPAL)


def test_installments_in_another_currency_are_refused() -> None:
    usd = InstallmentDue(
        4, D("2026-05-15"), Money(0, "CNY"), Money(0, "CNY"), Money(0, "CNY"), Money(100, "USD")
    )
    with pytest.raises(
        CurrencyMismatchError, match="installment 4 is not in the payment's currency CNY"
    ):
        allocate_payment(cny("1.00"), (*DUES, usd), VALUE_DATE, PENALTY_FEE_INTEREST_PRINCIPAL)
    with pytest.raises(CurrencyMismatchError, match="not in the payment's currency USD"):
        allocate_payment(Money(100, "USD"), DUES, VALUE_DATE, PENALTY_FEE_INTEREST_PRINCIPAL)


def test_installments_out_of_due_date_order_are_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="due-date order"):
        allocate_payment(
            cny("1.00"), (DUES[1], DUES[0], DUES[2]), VALUE_DATE, PENALTY_FEE_INTEREST_PRINCIPAL
        )


def test_allocate_minor_with_first_skips_settled_installments() -> None:
    unpaid = [[0, 0, 0, 0], [0, 0, 0, 0], [0, 200, 900, 10100], [0, 200, 800, 10200]]
    snapshot = [list(row) for row in unpaid]
    due_dates = [D("2026-01-15"), D("2026-02-15"), D("2026-03-15"), D("2026-04-15")]
    for waterfall in WATERFALLS.values():
        skipping = allocate_minor(15000, unpaid, due_dates, VALUE_DATE, waterfall, first=2)
        assert skipping == allocate_minor(15000, unpaid, due_dates, VALUE_DATE, waterfall)
    assert allocate_minor(
        15000, unpaid, due_dates, VALUE_DATE, OVERDUE_INTEREST_PRINCIPAL_FIRST, first=2
    ) == (
        [(2, INT, 900), (2, PRI, 10100), (2, FEE, 200), (3, INT, 800), (3, PRI, 3000)],
        0,
    )
    # What lies before ``first`` is taken as settled, even if the caller says otherwise.
    unpaid[0] = [100, 0, 0, 0]
    assert allocate_minor(
        100, unpaid, due_dates, VALUE_DATE, PENALTY_FEE_INTEREST_PRINCIPAL, first=2
    ) == (
        [(2, FEE, 100)],
        0,
    )
    unpaid[0] = [0, 0, 0, 0]
    assert unpaid == snapshot  # the fold's arrays are read, never changed


# --- Properties -----------------------------------------------------------------------------

# Local strategies (tests/strategies.py is owned elsewhere for now).


Scenario = tuple[Money, tuple[InstallmentDue, ...], dt.date, Waterfall]


@st.composite
def waterfalls(draw: st.DrawFn) -> Waterfall:
    """A shipped waterfall, or any valid by-installment or by-rule order."""
    kind = draw(st.sampled_from(["shipped", "by-installment", "by-rule"]))
    if kind == "shipped":
        return draw(st.sampled_from(list(WATERFALLS.values())))
    if kind == "by-installment":
        order = tuple(draw(st.permutations(list(Component))))
        return Waterfall("random", WaterfallStyle.BY_INSTALLMENT, components=order)
    return Waterfall.from_rules(
        "random", draw(st.permutations(ALL_RULES)), draw(st.sampled_from(list(FutureOrder)))
    )


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """A payment, installments in due-date order (some share a day), a value date, a waterfall."""
    currency = draw(st.sampled_from(sorted(CURRENCY_EXPONENTS)))
    start = D("2026-01-15")
    offsets = sorted(draw(st.lists(st.integers(min_value=0, max_value=365), max_size=8)))
    # Small amounts often, so that a payment often ends exactly on (or one unit off) a slice.
    owed = st.one_of(st.just(0), st.integers(1, 3), st.integers(min_value=0, max_value=50_000))
    dues = tuple(
        InstallmentDue(
            number,
            start + dt.timedelta(days=offset),
            *(Money(draw(owed), currency) for _ in Component),
        )
        for number, offset in enumerate(offsets, start=1)
    )
    total = sum(d.component(c).minor for d in dues for c in Component)
    payment = Money(
        draw(
            st.one_of(
                st.integers(min_value=0, max_value=total + 10_000),
                st.integers(min_value=max(0, total - 2), max_value=total + 2),
                st.integers(min_value=0, max_value=10),
            )
        ),
        currency,
    )
    value_date = start + dt.timedelta(days=draw(st.integers(min_value=-30, max_value=400)))
    return payment, dues, value_date, draw(waterfalls())


@given(scenarios())
def test_allocations_and_unallocated_sum_to_the_payment(scenario: Scenario) -> None:
    payment, dues, value_date, waterfall = scenario
    paid = allocate_payment(payment, dues, value_date, waterfall)
    allocated = Money.sum((a.amount for a in paid.allocations), payment.currency)
    assert allocated + paid.unallocated == payment
    assert sum((paid.total(c) for c in Component), paid.unallocated) == payment


@given(scenarios())
def test_no_slice_exceeds_what_was_owed_and_none_is_empty(scenario: Scenario) -> None:
    payment, dues, value_date, waterfall = scenario
    paid = allocate_payment(payment, dues, value_date, waterfall)
    owed = {(d.number, c): d.component(c) for d in dues for c in Component}
    slices = Counter((a.number, a.component) for a in paid.allocations)
    assert all(count == 1 for count in slices.values())
    for allocation in paid.allocations:
        assert allocation.amount.is_positive
        assert allocation.amount <= owed[allocation.number, allocation.component]
    assert not paid.unallocated.is_negative


@given(scenarios())
def test_unallocated_only_once_everything_owed_is_paid(scenario: Scenario) -> None:
    payment, dues, value_date, waterfall = scenario
    paid = allocate_payment(payment, dues, value_date, waterfall)
    total_owed = Money.sum((d.component(c) for d in dues for c in Component), payment.currency)
    allocated = payment - paid.unallocated
    assert allocated == payment.min(total_owed)
    if paid.unallocated.is_positive:
        owed = {(d.number, c): d.component(c) for d in dues for c in Component}
        assert {(a.number, a.component): a.amount for a in paid.allocations} == {
            key: amount for key, amount in owed.items() if amount
        }


@given(scenarios(), st.integers(min_value=0, max_value=8))
def test_skipping_settled_installments_changes_nothing(scenario: Scenario, settled: int) -> None:
    payment, dues, value_date, waterfall = scenario
    settled = min(settled, len(dues))
    unpaid = [
        [0, 0, 0, 0] if i < settled else [d.component(c).minor for c in Component]
        for i, d in enumerate(dues)
    ]
    due_dates = [d.due_date for d in dues]
    assert allocate_minor(
        payment.minor, unpaid, due_dates, value_date, waterfall, first=settled
    ) == (allocate_minor(payment.minor, unpaid, due_dates, value_date, waterfall))
