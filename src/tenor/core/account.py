"""The loan account: a fold over its event journal.

``fold(terms, events)`` replays a loan's events in value-date order (booking sequence breaks
ties) and returns its state: each installment's paid and unpaid parts, outstanding balances,
credit balance and status. Nothing is stored between events, so a backdated event or a
reversal simply re-folds the journal and ends exactly where posting in order would have.

The fold keeps its running book in plain integers (minor units) and builds the immutable
:class:`LoanState` once at the end; a loan with thousands of events re-folds in milliseconds.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from tenor.core.allocation import (
    PENALTY_FEE_INTEREST_PRINCIPAL,
    Component,
    Waterfall,
    allocate_minor,
)
from tenor.core.errors import EventError, InvalidArgumentError
from tenor.core.money import Money, Rounding, allocate
from tenor.core.schedule import Installment, LoanTerms, Method, build_schedule


class Status(StrEnum):
    """Where a loan stands in its life."""

    PENDING = "pending"
    ACTIVE = "active"
    OVERPAID = "overpaid"
    CLOSED = "closed"
    WRITTEN_OFF = "written-off"


class OverpaymentPolicy(StrEnum):
    """What a payment beyond what is due does, per product.

    ``CREDIT_BALANCE`` pays later installments in advance and keeps anything beyond the last
    as a credit balance. The prepayment policies pay what is past due and the current
    installment, then reduce the outstanding principal and re-amortise the installments after
    the current one, which keep the loan's rate and method: ``REDUCE_TERM`` keeps the
    installment and shortens the loan, ``REDUCE_INSTALLMENT`` keeps the term.
    """

    CREDIT_BALANCE = "credit-balance"
    REDUCE_TERM = "reduce-term"
    REDUCE_INSTALLMENT = "reduce-installment"


class ChargeKind(StrEnum):
    """Charges posted to a loan; late fees and penalty interest are penalties."""

    LATE_FEE = "late-fee"
    PENALTY_INTEREST = "penalty-interest"
    FEE = "fee"

    @property
    def component(self) -> Component:
        """The installment component this charge adds to."""
        return Component.FEE if self is ChargeKind.FEE else Component.PENALTY


@dataclass(frozen=True, slots=True)
class AccountRules:
    """The product settings that govern how events change a loan account."""

    waterfall: Waterfall = PENALTY_FEE_INTEREST_PRINCIPAL
    overpayment: OverpaymentPolicy = OverpaymentPolicy.CREDIT_BALANCE


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Something that happened to a loan, effective on ``value_date``.

    ``sequence`` is the booking order; it breaks ties between events of one value date.
    """

    event_id: str
    sequence: int
    value_date: dt.date


@dataclass(frozen=True, slots=True, kw_only=True)
class Disbursed(Event):
    """Money paid out to the borrower: the whole loan or one tranche of it."""

    amount: Money


@dataclass(frozen=True, slots=True, kw_only=True)
class RepaymentReceived(Event):
    """A payment from the borrower, with where it came from (kept for reconciliation)."""

    amount: Money
    channel: str | None = None
    external_reference: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargeApplied(Event):
    """A late fee, penalty interest or other fee, on one installment or the oldest unpaid."""

    kind: ChargeKind
    amount: Money
    installment: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Waived(Event):
    """Forgiven penalty, fee or interest, on one installment or oldest first."""

    component: Component
    amount: Money
    installment: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Reversed(Event):
    """Undoes the event ``target`` names (a bounced payment, a charge posted in error)."""

    target: str


@dataclass(frozen=True, slots=True, kw_only=True)
class WrittenOff(Event):
    """The lender writes off what remains; later money comes in as recoveries."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Recovered(Event):
    """Money recovered after a write-off."""

    amount: Money


@dataclass(frozen=True, slots=True, kw_only=True)
class BucketChanged(Event):
    """The daily close moved the loan to another days-past-due bucket (up or down).

    A record of what the close saw, not a financial event: the fold passes over it.
    ``from_bucket`` is ``None`` on the loan's first close.
    """

    from_bucket: str | None
    to_bucket: str
    days_past_due: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ClassificationChanged(Event):
    """The daily close moved the loan's five-level class or IFRS 9 stage.

    Like :class:`BucketChanged`, a record the fold passes over; the ``from_`` values are
    ``None`` on the loan's first close.
    """

    from_class: int | None
    to_class: int
    from_stage: int | None
    to_stage: int
    days_past_due: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Restructured(Event):
    """Relief for a borrower in trouble: a new schedule from ``value_date`` on.

    Every installment still unsettled on the value date is closed at what was paid on it, and
    ``installments`` (computed by :mod:`tenor.core.restructure` with the schedule core) follow.
    What the closed installments still asked for and the new schedule does not hold (interest,
    fees and charges already due, charges on later installments, overdue principal that
    ``installments`` leave out) is carried onto ``spread`` new installments from the one at
    index ``carry_from`` (after a payment holiday, say), in equal parts by largest remainder.
    ``capitalised`` is interest the new schedule adds to the principal; ``forgive`` is forgiven
    from the carried charges, fees and interest (in that order), as a settlement's discount.
    ``option`` names the relief, and ``watch_days`` how long the loan stays flagged for
    classification afterwards.

    Reversing the event restores the account exactly: the fold simply replays without it.
    """

    option: str
    installments: tuple[Installment, ...]
    capitalised: Money
    spread: int = 1
    carry_from: int = 0
    forgive: Money | None = None
    watch_days: int = 0


LoanEvent = (
    Disbursed
    | RepaymentReceived
    | ChargeApplied
    | Waived
    | Reversed
    | WrittenOff
    | Recovered
    | BucketChanged
    | ClassificationChanged
    | Restructured
)


@dataclass(frozen=True, slots=True)
class InstallmentState:
    """One installment: what it asks for, what was paid and waived, and what is left."""

    number: int
    start_date: dt.date
    due_date: dt.date
    principal: Money
    interest: Money
    fee: Money
    penalty: Money
    paid_principal: Money
    paid_interest: Money
    paid_fee: Money
    paid_penalty: Money
    waived_interest: Money
    waived_fee: Money
    waived_penalty: Money
    settled_on: dt.date | None

    # The sums below work on minor units and make one Money each: the daily close and the
    # journal's projections read them for every installment of every loan.

    def _money(self, minor: int) -> Money:
        return Money.trusted(minor, self.principal.currency)

    @property
    def total_due(self) -> Money:
        """Everything this installment asks for, charges included."""
        return self._money(
            self.principal.minor + self.interest.minor + self.fee.minor + self.penalty.minor
        )

    @property
    def paid(self) -> Money:
        """Everything paid towards it."""
        return self._money(self.paid_minor)

    @property
    def paid_minor(self) -> int:
        """Everything paid towards it, in minor units."""
        return (
            self.paid_principal.minor
            + self.paid_interest.minor
            + self.paid_fee.minor
            + self.paid_penalty.minor
        )

    @property
    def waived(self) -> Money:
        """Everything forgiven on it."""
        return self._money(self.waived_minor)

    @property
    def waived_minor(self) -> int:
        """Everything forgiven on it, in minor units."""
        return self.waived_interest.minor + self.waived_fee.minor + self.waived_penalty.minor

    @property
    def unpaid_principal(self) -> Money:
        """Principal still owed."""
        return self._money(self.principal.minor - self.paid_principal.minor)

    @property
    def unpaid_interest(self) -> Money:
        """Interest still owed."""
        return self._money(self.unpaid_interest_minor)

    @property
    def unpaid_interest_minor(self) -> int:
        """Interest still owed, in minor units."""
        return self.interest.minor - self.paid_interest.minor - self.waived_interest.minor

    @property
    def unpaid_fee(self) -> Money:
        """Fees still owed."""
        return self._money(self.unpaid_fee_minor)

    @property
    def unpaid_fee_minor(self) -> int:
        """Fees still owed, in minor units."""
        return self.fee.minor - self.paid_fee.minor - self.waived_fee.minor

    @property
    def unpaid_penalty(self) -> Money:
        """Penalties still owed."""
        return self._money(self.unpaid_penalty_minor)

    @property
    def unpaid_penalty_minor(self) -> int:
        """Penalties still owed, in minor units."""
        return self.penalty.minor - self.paid_penalty.minor - self.waived_penalty.minor

    @property
    def unpaid_minor(self) -> int:
        """Everything still owed on this installment, in minor units."""
        return (
            self.principal.minor
            + self.interest.minor
            + self.fee.minor
            + self.penalty.minor
            - self.paid_minor
            - self.waived_minor
        )

    @property
    def unpaid(self) -> Money:
        """Everything still owed on this installment."""
        return self._money(self.unpaid_minor)

    @property
    def is_settled(self) -> bool:
        """Nothing is left to pay."""
        return self.unpaid_minor == 0


@dataclass(frozen=True, slots=True)
class LoanState:
    """A loan as its journal leaves it on ``as_of``."""

    currency: str
    status: Status
    as_of: dt.date | None
    installments: tuple[InstallmentState, ...]
    disbursed: Money
    repaid: Money
    outstanding_principal: Money
    prepaid_principal: Money
    credit_balance: Money
    written_off: Money
    recovered: Money
    written_off_on: dt.date | None = None
    disbursed_on: dt.date | None = None
    #: The value dates of the restructurings in force, oldest first.
    restructured_on: tuple[dt.date, ...] = ()
    #: The last day of the latest restructuring's watch period.
    watch_until: dt.date | None = None

    def _unpaid_sum(self, name: str, on: dt.date | None, *, strictly_before: bool) -> Money:
        """The sum of the installments' ``name`` (a ``*_minor`` property), those due before
        (or on) ``on`` only when it is given."""
        total = 0
        for item in self.installments:
            if on is not None and (item.due_date >= on if strictly_before else item.due_date > on):
                continue
            total += getattr(item, name)
        return Money.trusted(total, self.currency)

    @property
    def outstanding_interest(self) -> Money:
        """Scheduled interest not yet paid or waived, due or not."""
        return self._unpaid_sum("unpaid_interest_minor", None, strictly_before=False)

    @property
    def outstanding_fees(self) -> Money:
        """Fees not yet paid or waived."""
        return self._unpaid_sum("unpaid_fee_minor", None, strictly_before=False)

    @property
    def outstanding_penalties(self) -> Money:
        """Penalties not yet paid or waived."""
        return self._unpaid_sum("unpaid_penalty_minor", None, strictly_before=False)

    @property
    def total_outstanding(self) -> Money:
        """Principal plus every unpaid interest, fee and penalty of the schedule."""
        return self._unpaid_sum("unpaid_minor", None, strictly_before=False)

    def arrears(self, on: dt.date) -> Money:
        """What fell due before ``on`` and is still unpaid."""
        return self._unpaid_sum("unpaid_minor", on, strictly_before=True)

    def due(self, on: dt.date) -> Money:
        """What has fallen due on or before ``on`` and is still unpaid."""
        return self._unpaid_sum("unpaid_minor", on, strictly_before=False)

    def next_installment(self, on: dt.date) -> InstallmentState | None:
        """The first unsettled installment due on or after ``on``."""
        for item in self.installments:
            if item.due_date >= on and not item.is_settled:
                return item
        return None


@dataclass(slots=True)
class _Book:
    """The fold's running state in minor units; private to a fold (and its :class:`Folded`)."""

    terms: LoanTerms
    rules: AccountRules
    currency: str
    numbers: list[int] = field(default_factory=list)
    start_dates: list[dt.date] = field(default_factory=list)
    due_dates: list[dt.date] = field(default_factory=list)
    owed: list[list[int]] = field(default_factory=list)
    paid: list[list[int]] = field(default_factory=list)
    waived: list[list[int]] = field(default_factory=list)
    unpaid: list[list[int]] = field(default_factory=list)
    settled_on: list[dt.date | None] = field(default_factory=list)
    # What an installment asks for beyond its scheduled terms (charged penalties and fees, the
    # up-front fee, interest earned before a tranche), per component: a new schedule keeps it.
    kept: list[list[int]] = field(default_factory=list)
    first_open: int = 0
    disbursed: int = 0
    disbursed_on: dt.date | None = None
    repaid: int = 0
    prepaid_principal: int = 0
    credit: int = 0
    written_off: int = 0
    recovered: int = 0
    written_off_on: dt.date | None = None
    restructured_on: list[dt.date] = field(default_factory=list)
    watch_until: dt.date | None = None

    def copy(self) -> _Book:
        """A book that can go on without changing this one."""
        return dataclasses.replace(
            self,
            numbers=list(self.numbers),
            start_dates=list(self.start_dates),
            due_dates=list(self.due_dates),
            owed=[list(row) for row in self.owed],
            paid=[list(row) for row in self.paid],
            waived=[list(row) for row in self.waived],
            unpaid=[list(row) for row in self.unpaid],
            settled_on=list(self.settled_on),
            kept=[list(row) for row in self.kept],
            restructured_on=list(self.restructured_on),
        )

    def minor(self, amount: Money, event: Event) -> int:
        if amount.currency != self.currency:
            raise EventError(
                f"event {event.event_id}: amount in {amount.currency}, loan is in {self.currency}"
            )
        if not amount.is_positive:
            raise EventError(f"event {event.event_id}: amount must be positive, got {amount}")
        return amount.minor

    def set_installments(self, start: int, installments: Sequence[Installment]) -> None:
        """Replace installments from index ``start`` on with freshly scheduled ones."""
        del self.numbers[start:], self.start_dates[start:], self.due_dates[start:]
        del self.owed[start:], self.paid[start:], self.waived[start:], self.unpaid[start:]
        del self.settled_on[start:], self.kept[start:]
        for offset, item in enumerate(installments):
            owed = [0, item.fee.minor, item.interest.minor, item.principal.minor]
            self.numbers.append(start + offset + 1)
            self.start_dates.append(item.start_date)
            self.due_dates.append(item.due_date)
            self.owed.append(owed)
            self.paid.append([0, 0, 0, 0])
            self.waived.append([0, 0, 0, 0])
            self.unpaid.append(list(owed))
            self.kept.append([0, 0, 0, 0])
            # An installment that asks for nothing (interest-only at 0%) is settled when due.
            self.settled_on.append(None if any(owed) else item.due_date)
        self.first_open = min(self.first_open, start)
        self.advance_open()

    def keep(self, index: int, component: Component, amount: int) -> None:
        """Add to installment ``index`` an amount of ``component`` no new schedule may drop."""
        self.owed[index][component] += amount
        self.unpaid[index][component] += amount
        self.kept[index][component] += amount

    def cancel_scheduled(self, index: int, components: Sequence[Component]) -> None:
        """Cancel what is unpaid of the scheduled part of ``components`` (kept amounts stay)."""
        for component in components:
            unpaid = self.unpaid[index][component]
            cancelled = unpaid - min(unpaid, self.kept[index][component])
            self.owed[index][component] -= cancelled
            self.unpaid[index][component] -= cancelled

    def credit_installment(self, index: int, component: Component, amount: int) -> None:
        self.unpaid[index][component] -= amount
        self.paid[index][component] += amount

    def mark(self, index: int, value_date: dt.date) -> None:
        """Record whether installment ``index`` is now settled, and move the open pointer."""
        if any(self.unpaid[index]):
            self.settled_on[index] = None
            self.first_open = min(self.first_open, index)
        elif self.settled_on[index] is None:
            self.settled_on[index] = value_date
        self.advance_open()

    def advance_open(self) -> None:
        """Move the open pointer past installments that are settled."""
        while self.first_open < len(self.unpaid) and not any(self.unpaid[self.first_open]):
            self.first_open += 1

    def outstanding_principal(self) -> int:
        return sum(row[Component.PRINCIPAL] for row in self.unpaid[self.first_open :])

    # --- events -----------------------------------------------------------------------------

    def disburse(self, event: Disbursed) -> None:
        amount = self.minor(event.amount, event)
        if not self.numbers:
            first_due = self.terms.first_due
            if first_due is not None and first_due <= event.value_date:
                first_due = None
            terms = dataclasses.replace(
                self.terms, principal=event.amount, start=event.value_date, first_due=first_due
            )
            schedule = build_schedule(terms)
            self.set_installments(0, schedule.installments)
            if schedule.upfront_fee:
                # Due with the first installment, and never dropped by a new schedule.
                self.keep(0, Component.FEE, schedule.upfront_fee.minor)
                self.mark(0, event.value_date)
            self.disbursed_on = event.value_date
        else:
            self.add_tranche(event, amount)
        self.disbursed += amount

    def add_tranche(self, event: Disbursed, amount: int) -> None:
        """A later tranche re-amortises the installments that fall due after it."""
        day = event.value_date
        current = bisect.bisect_right(self.due_dates, day)
        if current == len(self.due_dates):
            raise EventError(
                f"event {event.event_id}: a tranche on {day} comes after the last due date"
            )
        remaining = sum(row[Component.PRINCIPAL] for row in self.owed[current:])
        period_start, period_due = self.start_dates[current], self.due_dates[current]
        # Interest already earned on the old balance in the current period stays owed; only the
        # scheduled part is pro-rated (interest kept from an earlier tranche is whole already).
        scheduled = self.owed[current][Component.INTEREST] - self.kept[current][Component.INTEREST]
        earned = Money(scheduled, self.currency).scale(
            Decimal((day - period_start).days) / Decimal((period_due - period_start).days),
            Rounding.HALF_EVEN,
        )
        self.reamortise(
            current,
            Money(remaining + amount, self.currency),
            day,
            len(self.numbers) - current,
            earned_interest=earned.minor,
        )

    def reamortise(
        self,
        start: int,
        principal: Money,
        from_date: dt.date,
        term: int,
        *,
        earned_interest: int = 0,
    ) -> None:
        """Schedule ``principal`` anew over ``term`` installments from index ``start`` on.

        What was already paid in advance on the replaced installments is paid again, by the
        waterfall, to the new ones, so no payment is lost when a schedule changes.
        """
        if self.terms.method in (Method.STEPPED, Method.MILESTONE):
            raise EventError(
                f"a {self.terms.method} schedule follows its agreed steps and cannot be "
                "re-amortised; restructure the loan instead"
            )
        if self.restructured_on:
            raise EventError(
                "a restructured loan follows its agreed relief schedule and cannot be "
                "re-amortised; restructure it again instead"
            )
        if any(any(row) for row in self.waived[start:]):
            raise EventError(
                "installments with waivers cannot be re-amortised; reverse the waiver first"
            )
        # Payments already made to the replaced installments, and any credit balance, pay the
        # new ones.
        carried = sum(sum(row) for row in self.paid[start:]) + self.credit
        self.credit = 0
        kept = [sum(row[component] for row in self.kept[start:]) for component in Component]
        kept[Component.INTEREST] += earned_interest
        terms = self.reamortised_terms(start, principal, from_date, term)
        self.set_installments(start, build_schedule(terms).installments)
        # Charges, the up-front fee and earned interest move to the first new installment.
        for component in Component:
            if kept[component]:
                self.keep(start, component, kept[component])
        if any(kept):
            self.mark(start, from_date)
        if carried:
            slices, rest = allocate_minor(
                carried, self.unpaid, self.due_dates, from_date, self.rules.waterfall, start
            )
            for index, component, part in slices:
                self.credit_installment(index, component, part)
                self.mark(index, from_date)
            self.credit += rest

    def reamortised_terms(
        self, start: int, principal: Money, from_date: dt.date, term: int
    ) -> LoanTerms:
        return dataclasses.replace(
            self.terms,
            principal=principal,
            start=from_date,
            first_due=self.due_dates[start],
            term=term,
            grace_principal=0,
            grace_interest=0,
            moratorium=0,
            upfront_fee=None,
        )

    def repay(self, event: RepaymentReceived) -> None:
        amount = self.minor(event.amount, event)
        if self.written_off_on is not None:
            raise EventError(
                f"event {event.event_id}: the loan was written off on {self.written_off_on}; "
                "post money received after a write-off as a recovery"
            )
        if not self.numbers:
            raise EventError(f"event {event.event_id}: a repayment before any disbursement")
        self.repaid += amount
        policy = self.rules.overpayment
        count = len(self.due_dates)
        current = bisect.bisect_left(self.due_dates, event.value_date)
        # Under a prepayment policy, only what is due up to the current installment is paid
        # in the ordinary way; the rest goes to principal. A restructured loan keeps its relief
        # schedule: money beyond it pays later installments in advance.
        in_advance = policy is OverpaymentPolicy.CREDIT_BALANCE or bool(self.restructured_on)
        limit = count if in_advance else min(current + 1, count)
        slices, rest = allocate_minor(
            amount,
            self.unpaid[:limit],
            self.due_dates[:limit],
            event.value_date,
            self.rules.waterfall,
            self.first_open,
        )
        for index, component, part in slices:
            self.credit_installment(index, component, part)
        for index in {index for index, _, _ in slices}:
            self.mark(index, event.value_date)
        if rest and limit < count:
            rest = self.prepay(limit, rest, event.value_date)
            if rest:
                # A payoff can leave charges owed on the installments it closed: pay them
                # before anything becomes a credit balance.
                slices, rest = allocate_minor(
                    rest,
                    self.unpaid,
                    self.due_dates,
                    event.value_date,
                    self.rules.waterfall,
                    self.first_open,
                )
                for index, component, part in slices:
                    self.credit_installment(index, component, part)
                    self.mark(index, event.value_date)
        self.credit += rest

    def prepay(self, start: int, amount: int, value_date: dt.date) -> int:
        """Reduce principal of installments from ``start`` on; returns what is left over."""
        unpaid = sum(row[Component.PRINCIPAL] for row in self.unpaid[start:])
        if amount >= unpaid:
            self.pay_off(start, unpaid, value_date)
            return amount - unpaid
        self.prepaid_principal += amount
        # The new schedule carries what the replaced installments asked for, less the
        # prepayment; what was already paid on them is paid again to the new ones.
        owed = sum(row[Component.PRINCIPAL] for row in self.owed[start:])
        from_date = self.start_dates[start]
        term = len(self.numbers) - start
        principal = Money(owed - amount, self.currency)
        if self.rules.overpayment is OverpaymentPolicy.REDUCE_TERM:
            term = self.shortest_term(start, principal, from_date, term)
        self.reamortise(start, principal, from_date, term)
        return 0

    def pay_off(self, start: int, principal: int, value_date: dt.date) -> None:
        """Settle the loan early: the installments from ``start`` on lose their unpaid scheduled
        interest and fees, their unpaid principal is prepaid, and those that then ask for
        nothing go. Charges on them stay owed."""
        self.prepaid_principal += principal
        for index in range(start, len(self.numbers)):
            self.cancel_scheduled(index, (Component.FEE, Component.INTEREST))
            self.owed[index][Component.PRINCIPAL] -= self.unpaid[index][Component.PRINCIPAL]
            self.unpaid[index][Component.PRINCIPAL] = 0
            self.mark(index, value_date)
        keep = len(self.numbers)
        while keep > start and not any(self.owed[keep - 1]):
            keep -= 1
        self.set_installments(keep, ())

    def shortest_term(self, start: int, principal: Money, from_date: dt.date, term: int) -> int:
        """The fewest installments whose amount is no more than today's installment."""
        ceiling = sum(
            self.owed[start][c] for c in (Component.PRINCIPAL, Component.INTEREST, Component.FEE)
        )
        low, high = 1, term
        while low < high:
            middle = (low + high) // 2
            terms = self.reamortised_terms(start, principal, from_date, middle)
            first = build_schedule(terms).installments[0]
            if first.principal.minor + first.interest.minor + first.fee.minor <= ceiling:
                high = middle
            else:
                low = middle + 1
        return low

    def restructure(self, event: Restructured) -> None:
        """Close what is unsettled at what was paid on it and follow the relief schedule."""
        day = event.value_date
        if self.written_off_on is not None:
            raise EventError(f"event {event.event_id}: a written-off loan is not restructured")
        if not self.numbers:
            raise EventError(f"event {event.event_id}: the loan has not been disbursed")
        start = self.first_open
        if start >= len(self.numbers):
            raise EventError(f"event {event.event_id}: nothing is left to restructure")
        if not event.installments:
            raise EventError(f"event {event.event_id}: a restructuring needs installments")
        if event.carry_from < 0 or not 1 <= event.spread <= (
            len(event.installments) - event.carry_from
        ):
            raise EventError(
                f"event {event.event_id}: carries over {event.spread} installments from index "
                f"{event.carry_from}, the new schedule has {len(event.installments)}"
            )
        if event.watch_days < 0:
            raise EventError(f"event {event.event_id}: a watch period cannot be negative")
        for item in event.installments:
            for amount in (item.principal, item.interest, item.fee):
                if amount.currency != self.currency or amount.is_negative:
                    raise EventError(
                        f"event {event.event_id}: an installment amount {amount} is not a "
                        f"non-negative amount in {self.currency}"
                    )
        dates = [item.due_date for item in event.installments]
        if dates != sorted(dates) or dates[0] <= day:
            raise EventError(
                f"event {event.event_id}: new due dates must be in order and after {day}"
            )
        capitalised = self.minor(event.capitalised, event) if event.capitalised.minor else 0
        # Installments already due are closed at what was paid on them; what they leave
        # unpaid is carried. Those not yet due are replaced: their principal and their kept
        # charges are carried, and what was paid on them in advance pays the new ones.
        carried = [0, 0, 0, 0]
        advance = 0
        replaced: list[int] = []
        for index in range(start, len(self.numbers)):
            owed, paid, waived = self.owed[index], self.paid[index], self.waived[index]
            if self.due_dates[index] > day:
                replaced.append(index)
                advance += sum(paid)
                for component in Component:
                    if component in (Component.FEE, Component.INTEREST):
                        kept = self.kept[index][component]
                        carried[component] += max(kept - waived[component], 0)
                    else:
                        carried[component] += owed[component] - waived[component]
                continue
            for component in Component:
                carried[component] += self.unpaid[index][component]
                owed[component] -= self.unpaid[index][component]
                self.unpaid[index][component] = 0
            self.mark(index, day)
        scheduled = sum(item.principal.minor for item in event.installments)
        carried[Component.PRINCIPAL] += capitalised - scheduled
        # A payment backdated before the restructuring can leave less principal owed than the
        # new schedule repays: the excess comes off its last installments, as a prepayment.
        excess = max(-carried[Component.PRINCIPAL], 0)
        carried[Component.PRINCIPAL] = max(carried[Component.PRINCIPAL], 0)
        # Closed installments that ask for nothing go; the new ones follow the rest.
        keep = [
            i for i in range(start, len(self.numbers)) if i not in replaced and any(self.owed[i])
        ]
        rows = [
            (
                self.start_dates[i],
                self.due_dates[i],
                self.owed[i],
                self.paid[i],
                self.waived[i],
                self.kept[i],
                self.settled_on[i],
            )
            for i in keep
        ]
        self.set_installments(start, ())
        for row in rows:
            self.numbers.append(len(self.numbers) + 1)
            self.start_dates.append(row[0])
            self.due_dates.append(row[1])
            self.owed.append(row[2])
            self.paid.append(row[3])
            self.waived.append(row[4])
            self.unpaid.append([0, 0, 0, 0])
            self.kept.append(row[5])
            self.settled_on.append(row[6])
        first_new = len(self.numbers)
        self.set_installments(first_new, event.installments)
        for index in range(len(self.numbers) - 1, first_new - 1, -1):
            cut = min(excess, self.owed[index][Component.PRINCIPAL])
            self.owed[index][Component.PRINCIPAL] -= cut
            self.unpaid[index][Component.PRINCIPAL] -= cut
            excess -= cut
        carry = first_new + event.carry_from
        self.spread_carried(carry, carried, event.spread)
        if event.forgive is not None:
            self.forgive(carry, self.minor(event.forgive, event), event)
        for index in range(first_new, len(self.numbers)):
            self.mark(index, day)
        if self.credit or advance:
            credit, self.credit = self.credit + advance, 0
            slices, rest = allocate_minor(
                credit, self.unpaid, self.due_dates, day, self.rules.waterfall, first_new
            )
            for index, component, part in slices:
                self.credit_installment(index, component, part)
                self.mark(index, day)
            self.credit = rest
        self.restructured_on.append(day)
        self.watch_until = day + dt.timedelta(days=event.watch_days)

    def spread_carried(self, start: int, carried: Sequence[int], spread: int) -> None:
        """Add the carried amounts to installments ``start`` .. ``start + spread - 1``."""
        for component in Component:
            if not carried[component]:
                continue
            parts = allocate(Money(carried[component], self.currency), [1] * spread)
            for offset, part in enumerate(parts):
                if component is Component.PRINCIPAL:
                    self.owed[start + offset][component] += part.minor
                    self.unpaid[start + offset][component] += part.minor
                else:
                    self.keep(start + offset, component, part.minor)

    def forgive(self, index: int, amount: int, event: Event) -> None:
        """Waive ``amount`` of installment ``index``: penalties, then fees, then interest."""
        left = amount
        for component in (Component.PENALTY, Component.FEE, Component.INTEREST):
            part = min(left, self.unpaid[index][component])
            self.unpaid[index][component] -= part
            self.waived[index][component] += part
            left -= part
        if left:
            raise EventError(
                f"event {event.event_id}: forgives {Money(amount, self.currency)}, more than "
                "the charges, fees and interest the settlement carries"
            )

    def charge(self, event: ChargeApplied) -> None:
        amount = self.minor(event.amount, event)
        if self.written_off_on is not None:
            raise EventError(f"event {event.event_id}: no charges after a write-off")
        index = self.target_installment(event.installment, event)
        component = event.kind.component
        self.keep(index, component, amount)
        if self.credit:
            # A credit balance pays new charges at once.
            used = min(self.credit, amount)
            self.credit -= used
            self.credit_installment(index, component, used)
        self.mark(index, event.value_date)

    def waive(self, event: Waived) -> None:
        amount = self.minor(event.amount, event)
        component = event.component
        if component is Component.PRINCIPAL:
            raise EventError(
                f"event {event.event_id}: principal cannot be waived; write the loan off instead"
            )
        if event.installment is None:
            indexes = range(self.first_open, len(self.numbers))
        else:
            index = self.target_installment(event.installment, event)
            indexes = range(index, index + 1)
        left = amount
        for index in indexes:
            part = min(left, self.unpaid[index][component])
            if part:
                self.unpaid[index][component] -= part
                self.waived[index][component] += part
                self.mark(index, event.value_date)
                left -= part
        if left:
            raise EventError(
                f"event {event.event_id}: waives {event.amount} of {component.name.lower()}, "
                f"more than the {Money(amount - left, self.currency)} owed"
            )

    def target_installment(self, number: int | None, event: Event) -> int:
        """The installment a charge or waiver lands on."""
        if not self.numbers:
            raise EventError(f"event {event.event_id}: the loan has not been disbursed")
        if number is not None:
            if not 1 <= number <= len(self.numbers):
                raise EventError(
                    f"event {event.event_id}: installment {number} does not exist "
                    f"(the loan has {len(self.numbers)})"
                )
            return number - 1
        day = event.value_date
        for index in range(self.first_open, len(self.numbers)):
            if self.due_dates[index] <= day and any(self.unpaid[index]):
                return index
        for index, due in enumerate(self.due_dates):
            if due > day:
                return index
        return len(self.numbers) - 1

    def write_off(self, event: WrittenOff) -> None:
        if self.written_off_on is not None:
            raise EventError(f"event {event.event_id}: the loan is already written off")
        if not self.numbers:
            raise EventError(f"event {event.event_id}: the loan has not been disbursed")
        total = 0
        for index in range(self.first_open, len(self.numbers)):
            if self.due_dates[index] > event.value_date:
                # Scheduled interest and fees not yet due are cancelled; principal and any
                # charges already made are written off.
                self.cancel_scheduled(index, (Component.FEE, Component.INTEREST))
                self.mark(index, event.value_date)
            total += sum(self.unpaid[index])
        self.written_off = total
        self.written_off_on = event.value_date

    def recover(self, event: Recovered) -> None:
        amount = self.minor(event.amount, event)
        if self.written_off_on is None:
            raise EventError(
                f"event {event.event_id}: a recovery needs a written-off loan; "
                "post a repayment instead"
            )
        if self.recovered + amount > self.written_off:
            raise EventError(
                f"event {event.event_id}: recovers {event.amount}, more than the "
                f"{Money(self.written_off - self.recovered, self.currency)} still written off"
            )
        self.recovered += amount

    # --- result -----------------------------------------------------------------------------

    def state(
        self, as_of: dt.date | None, earlier: tuple[_Book, LoanState] | None = None
    ) -> LoanState:
        """The immutable state of the book; ``earlier``: a book this one was copied from and
        its state, whose installments are reused where nothing of them changed."""
        currency = self.currency

        def money(minor: int) -> Money:
            return Money.trusted(minor, currency)

        def installment(i: int) -> InstallmentState:
            if earlier is not None:
                book, state = earlier
                if (
                    i < len(book.numbers)
                    and book.numbers[i] == self.numbers[i]
                    and book.owed[i] == self.owed[i]
                    and book.paid[i] == self.paid[i]
                    and book.waived[i] == self.waived[i]
                    and book.settled_on[i] == self.settled_on[i]
                    and book.due_dates[i] == self.due_dates[i]
                    and book.start_dates[i] == self.start_dates[i]
                ):
                    return state.installments[i]
            return InstallmentState(
                number=self.numbers[i],
                start_date=self.start_dates[i],
                due_date=self.due_dates[i],
                principal=money(self.owed[i][Component.PRINCIPAL]),
                interest=money(self.owed[i][Component.INTEREST]),
                fee=money(self.owed[i][Component.FEE]),
                penalty=money(self.owed[i][Component.PENALTY]),
                paid_principal=money(self.paid[i][Component.PRINCIPAL]),
                paid_interest=money(self.paid[i][Component.INTEREST]),
                paid_fee=money(self.paid[i][Component.FEE]),
                paid_penalty=money(self.paid[i][Component.PENALTY]),
                waived_interest=money(self.waived[i][Component.INTEREST]),
                waived_fee=money(self.waived[i][Component.FEE]),
                waived_penalty=money(self.waived[i][Component.PENALTY]),
                settled_on=self.settled_on[i],
            )

        installments = tuple(installment(i) for i in range(len(self.numbers)))
        outstanding = self.outstanding_principal()
        if not self.numbers and not self.disbursed:
            status = Status.PENDING
        elif self.written_off_on is not None:
            status = Status.WRITTEN_OFF
            outstanding = 0
        elif self.credit:
            status = Status.OVERPAID
        elif self.first_open >= len(self.numbers):
            status = Status.CLOSED
        else:
            status = Status.ACTIVE
        return LoanState(
            currency=currency,
            status=status,
            as_of=as_of,
            installments=installments,
            disbursed=money(self.disbursed),
            repaid=money(self.repaid),
            outstanding_principal=money(outstanding),
            prepaid_principal=money(self.prepaid_principal),
            credit_balance=money(self.credit),
            written_off=money(self.written_off),
            recovered=money(self.recovered),
            written_off_on=self.written_off_on,
            disbursed_on=self.disbursed_on,
            restructured_on=tuple(self.restructured_on),
            watch_until=self.watch_until,
        )


def effective_events(events: Iterable[LoanEvent]) -> list[LoanEvent]:
    """The events that shape the account, in the order the fold applies them.

    Reversals are validated and drop the events they name; what is left is sorted by value
    date, then booking sequence.
    """
    journal = list(events)
    by_id: dict[str, LoanEvent] = {}
    for event in journal:
        if event.event_id in by_id:
            raise EventError(f"event id {event.event_id!r} appears twice in the journal")
        by_id[event.event_id] = event
    reversed_ids: set[str] = set()
    for event in journal:
        if isinstance(event, Reversed):
            target = by_id.get(event.target)
            if target is None:
                raise EventError(f"reversal {event.event_id} names unknown event {event.target!r}")
            if isinstance(target, Reversed):
                raise EventError(
                    f"reversal {event.event_id} targets reversal {target.event_id}; "
                    "post the original event again instead"
                )
            if event.target in reversed_ids:
                raise EventError(f"event {event.target} is reversed more than once")
            reversed_ids.add(event.target)
    kept: list[LoanEvent] = [
        event
        for event in journal
        if not isinstance(event, Reversed) and event.event_id not in reversed_ids
    ]
    kept.sort(key=lambda event: (event.value_date, event.sequence))
    return kept


def fold(
    terms: LoanTerms,
    events: Iterable[LoanEvent],
    rules: AccountRules | None = None,
    as_of: dt.date | None = None,
) -> LoanState:
    """The loan's state after its events, optionally only those with value date <= ``as_of``.

    Raises :class:`EventError` when the journal cannot describe a real loan (a repayment before
    any disbursement, a reversal of an unknown event, a waiver of more than is owed).
    """
    book = _new_book(terms, rules)
    for event in effective_events(events):
        if as_of is not None and event.value_date > as_of:
            break
        _apply(book, event)
    return book.state(as_of)


def _new_book(terms: LoanTerms, rules: AccountRules | None) -> _Book:
    rules = rules or AccountRules()
    if rules.overpayment is not OverpaymentPolicy.CREDIT_BALANCE and terms.method in (
        Method.STEPPED,
        Method.MILESTONE,
    ):
        raise InvalidArgumentError(
            f"overpayment policy {rules.overpayment} needs a schedule that can be re-amortised; "
            f"a {terms.method} loan takes credit-balance"
        )
    return _Book(terms=terms, rules=rules, currency=terms.principal.currency)


def _apply(book: _Book, event: LoanEvent) -> None:
    match event:
        case Disbursed():
            book.disburse(event)
        case RepaymentReceived():
            book.repay(event)
        case ChargeApplied():
            book.charge(event)
        case Waived():
            book.waive(event)
        case WrittenOff():
            book.write_off(event)
        case Recovered():
            book.recover(event)
        case Restructured():
            book.restructure(event)


@dataclass(frozen=True, slots=True)
class Folded:
    """A whole journal folded, kept so that one more event can be applied on its own.

    :func:`fold_journal` makes one; :meth:`with_event` gives the fold of the same journal and
    one more event exactly as :func:`fold` would, without replaying what came before, when
    the event comes last in the fold's order. Posting a payment is mostly that case.
    """

    state: LoanState
    _book: _Book
    #: (value date, booking sequence) of the last event the fold applied.
    _last: tuple[dt.date, int] | None
    _event_ids: frozenset[str]

    def with_event(self, event: LoanEvent) -> Folded | None:
        """The fold of the journal and ``event``; None when it needs a whole new fold.

        Applied alone, ``event`` ends where :func:`fold` of the longer journal ends only if
        the fold would apply it last: not a reversal (which removes an earlier event), with
        a later value date than every event folded (or the same date and a later sequence),
        and an id the journal does not hold yet. Raises :class:`EventError` as :func:`fold`
        does for an event the account refuses.
        """
        key = (event.value_date, event.sequence)
        if (
            isinstance(event, Reversed)
            or (self._last is not None and key <= self._last)
            or event.event_id in self._event_ids
        ):
            return None
        book = self._book.copy()
        _apply(book, event)
        state = book.state(None, (self._book, self.state))
        return Folded(state, book, key, self._event_ids | {event.event_id})


def fold_journal(
    terms: LoanTerms, events: Iterable[LoanEvent], rules: AccountRules | None = None
) -> Folded:
    """:func:`fold` of the whole journal, kept to take further events (:class:`Folded`)."""
    journal = list(events)
    book = _new_book(terms, rules)
    last: tuple[dt.date, int] | None = None
    for event in effective_events(journal):
        _apply(book, event)
        last = (event.value_date, event.sequence)
    return Folded(book.state(None), book, last, frozenset(event.event_id for event in journal))
