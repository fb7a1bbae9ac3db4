"""Payment waterfalls: which parts of which installments a repayment pays, in what order.

A waterfall is chosen per product. The classic ones pay installment by installment, oldest
first, each in a fixed component order; the advanced one (in the style of Apache Fineract's
advanced payment allocation) is a rule list over {past due, due, in advance} x {penalty, fee,
interest, principal}, with future installments paid next-first or last-first. Whatever the
waterfall, the allocations plus the unallocated rest sum to the payment exactly.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from tenor.core.errors import CurrencyMismatchError, InvalidArgumentError
from tenor.core.money import Money


class Component(IntEnum):
    """The parts of an installment a payment can pay; the value indexes component arrays."""

    PENALTY = 0
    FEE = 1
    INTEREST = 2
    PRINCIPAL = 3


class TimeClass(StrEnum):
    """Where an installment's due date stands against the payment's value date."""

    PAST_DUE = "past-due"
    DUE = "due"
    IN_ADVANCE = "in-advance"


class FutureOrder(StrEnum):
    """Which in-advance installment a payment reaches first."""

    NEXT_FIRST = "next-first"
    LAST_FIRST = "last-first"


class WaterfallStyle(StrEnum):
    """Installment by installment (horizontal) or rule by rule across installments (vertical)."""

    BY_INSTALLMENT = "by-installment"
    BY_RULE = "by-rule"


@dataclass(frozen=True, slots=True)
class Waterfall:
    """A payment allocation order.

    ``BY_INSTALLMENT``: installments oldest first, each paid in ``components`` order before the
    next is touched. ``BY_RULE``: ``rules`` in order, each a (time class, component) pair paid
    across every installment of that class, oldest first (in-advance ones by ``future_order``).
    """

    name: str
    style: WaterfallStyle
    components: tuple[Component, ...] = ()
    rules: tuple[tuple[TimeClass, Component], ...] = ()
    future_order: FutureOrder = FutureOrder.NEXT_FIRST

    def __post_init__(self) -> None:
        if self.style is WaterfallStyle.BY_INSTALLMENT:
            if sorted(self.components) != sorted(Component):
                raise InvalidArgumentError(
                    f"waterfall {self.name!r} must list each component exactly once"
                )
        elif sorted(self.rules) != sorted((t, c) for t in TimeClass for c in Component):
            raise InvalidArgumentError(
                f"waterfall {self.name!r} must list each (time class, component) pair exactly once"
            )

    @classmethod
    def from_rules(
        cls,
        name: str,
        rules: Sequence[str],
        future_order: FutureOrder = FutureOrder.NEXT_FIRST,
    ) -> Waterfall:
        """An advanced waterfall from rule names such as ``"past-due-penalty"``."""
        parsed: list[tuple[TimeClass, Component]] = []
        for rule in rules:
            for time_class in TimeClass:
                prefix = f"{time_class.value}-"
                if rule.startswith(prefix):
                    component_name = rule.removeprefix(prefix).upper()
                    if component_name in Component.__members__:
                        parsed.append((time_class, Component[component_name]))
                        break
            else:
                raise InvalidArgumentError(
                    f"unknown allocation rule {rule!r}; use <past-due|due|in-advance>-"
                    "<penalty|fee|interest|principal>"
                )
        return cls(name, WaterfallStyle.BY_RULE, rules=tuple(parsed), future_order=future_order)


_P, _F, _I, _PR = Component.PENALTY, Component.FEE, Component.INTEREST, Component.PRINCIPAL

#: Penalties, fees, interest, principal; oldest installment first (Fineract's default order).
PENALTY_FEE_INTEREST_PRINCIPAL = Waterfall(
    "penalty-fee-interest-principal", WaterfallStyle.BY_INSTALLMENT, components=(_P, _F, _I, _PR)
)
#: Principal, interest, penalties, fees; oldest installment first.
PRINCIPAL_INTEREST_PENALTY_FEE = Waterfall(
    "principal-interest-penalty-fee", WaterfallStyle.BY_INSTALLMENT, components=(_PR, _I, _P, _F)
)
#: Interest and principal of every overdue installment before any of their penalties and fees,
#: then what is due today, then what is due later.
OVERDUE_INTEREST_PRINCIPAL_FIRST = Waterfall(
    "overdue-interest-principal-first",
    WaterfallStyle.BY_RULE,
    rules=(
        (TimeClass.PAST_DUE, _I),
        (TimeClass.PAST_DUE, _PR),
        (TimeClass.PAST_DUE, _P),
        (TimeClass.PAST_DUE, _F),
        (TimeClass.DUE, _I),
        (TimeClass.DUE, _PR),
        (TimeClass.DUE, _P),
        (TimeClass.DUE, _F),
        (TimeClass.IN_ADVANCE, _I),
        (TimeClass.IN_ADVANCE, _PR),
        (TimeClass.IN_ADVANCE, _P),
        (TimeClass.IN_ADVANCE, _F),
    ),
)

WATERFALLS: dict[str, Waterfall] = {
    waterfall.name: waterfall
    for waterfall in (
        PENALTY_FEE_INTEREST_PRINCIPAL,
        PRINCIPAL_INTEREST_PENALTY_FEE,
        OVERDUE_INTEREST_PRINCIPAL_FIRST,
    )
}


@dataclass(frozen=True, slots=True)
class InstallmentDue:
    """What remains unpaid of one installment, per component."""

    number: int
    due_date: dt.date
    penalty: Money
    fee: Money
    interest: Money
    principal: Money

    def component(self, component: Component) -> Money:
        """The unpaid amount of ``component``."""
        return (self.penalty, self.fee, self.interest, self.principal)[component]


@dataclass(frozen=True, slots=True)
class Allocation:
    """One slice of a payment: ``amount`` to ``component`` of installment ``number``."""

    number: int
    component: Component
    amount: Money


@dataclass(frozen=True, slots=True)
class AllocationResult:
    """Where a payment went; ``unallocated`` is what no installment needed."""

    allocations: tuple[Allocation, ...]
    unallocated: Money

    def total(self, component: Component) -> Money:
        """All that was paid to ``component``."""
        return Money.sum(
            (a.amount for a in self.allocations if a.component is component),
            self.unallocated.currency,
        )


def time_class(due_date: dt.date, value_date: dt.date) -> TimeClass:
    """Whether an installment is past due, due or in advance on ``value_date``."""
    if due_date < value_date:
        return TimeClass.PAST_DUE
    if due_date == value_date:
        return TimeClass.DUE
    return TimeClass.IN_ADVANCE


def payment_order(
    due_dates: Sequence[dt.date],
    value_date: dt.date,
    waterfall: Waterfall,
    first: int = 0,
) -> Iterator[tuple[int, Component]]:
    """(installment index, component) pairs in the order ``waterfall`` pays them.

    ``due_dates`` are in schedule order; indexes before ``first`` are known to be settled and
    are skipped, which keeps a long journal's fold from rescanning paid installments.
    """
    count = len(due_dates)
    if waterfall.style is WaterfallStyle.BY_INSTALLMENT:
        for index in range(first, count):
            for component in waterfall.components:
                yield index, component
        return
    past_due_end = first
    while past_due_end < count and due_dates[past_due_end] < value_date:
        past_due_end += 1
    due_end = past_due_end
    while due_end < count and due_dates[due_end] == value_date:
        due_end += 1
    spans = {
        TimeClass.PAST_DUE: range(first, past_due_end),
        TimeClass.DUE: range(past_due_end, due_end),
        TimeClass.IN_ADVANCE: (
            range(due_end, count)
            if waterfall.future_order is FutureOrder.NEXT_FIRST
            else range(count - 1, due_end - 1, -1)
        ),
    }
    for rule_class, component in waterfall.rules:
        for index in spans[rule_class]:
            yield index, component


def allocate_minor(
    payment: int,
    unpaid: Sequence[list[int]],
    due_dates: Sequence[dt.date],
    value_date: dt.date,
    waterfall: Waterfall,
    first: int = 0,
) -> tuple[list[tuple[int, Component, int]], int]:
    """The integer core of :func:`allocate_payment`; ``unpaid[i][component]`` in minor units.

    Returns the slices as (index, component, minor units) and the unallocated rest. It reads
    ``unpaid`` and never changes it.
    """
    if payment < 0:
        raise InvalidArgumentError("a payment to allocate must not be negative")
    slices: list[tuple[int, Component, int]] = []
    remaining = payment
    for index, component in payment_order(due_dates, value_date, waterfall, first):
        if remaining == 0:
            break
        owed = unpaid[index][component]
        if owed > 0:
            paid = owed if owed < remaining else remaining
            slices.append((index, component, paid))
            remaining -= paid
    return slices, remaining


def allocate_payment(
    payment: Money,
    dues: Sequence[InstallmentDue],
    value_date: dt.date,
    waterfall: Waterfall,
) -> AllocationResult:
    """Split ``payment`` over the unpaid parts of ``dues`` (in schedule order) by ``waterfall``."""
    if payment.is_negative:
        raise InvalidArgumentError(f"a payment must not be negative, got {payment}")
    currency = payment.currency
    unpaid: list[list[int]] = []
    for due in dues:
        parts = [due.component(component) for component in Component]
        if any(part.currency != currency for part in parts):
            raise CurrencyMismatchError(
                f"installment {due.number} is not in the payment's currency {currency}"
            )
        if any(part.is_negative for part in parts):
            raise InvalidArgumentError(f"installment {due.number} has a negative unpaid amount")
        unpaid.append([part.minor for part in parts])
    if any(later.due_date < earlier.due_date for earlier, later in itertools.pairwise(dues)):
        raise InvalidArgumentError("installments must be given in due-date order")
    slices, rest = allocate_minor(
        payment.minor, unpaid, [due.due_date for due in dues], value_date, waterfall
    )
    return AllocationResult(
        allocations=tuple(
            Allocation(dues[index].number, component, Money(amount, currency))
            for index, component, amount in slices
        ),
        unallocated=Money(rest, currency),
    )
