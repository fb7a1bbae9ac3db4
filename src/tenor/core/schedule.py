"""Repayment schedules: what falls due on which date, split into principal, interest and fees.

A schedule is a pure function of the loan's terms: ``build_schedule(terms) -> Schedule``.

Conventions every method shares:

- **Timeline.** Due dates step from an anchor with :func:`~tenor.core.calendar.add_periods`
  (``first_due`` when given, else the disbursement date), always counted from the anchor so that
  month ends do not drift, then rolled to business days when a holiday calendar is given.
  Milestone dates are merged into the periodic dates.
- **Interest of a period.** Declining interest is the outstanding principal times the period's
  rate, rounded to the minor unit with ``terms.rounding``. The period's rate is
  ``annual_rate / periods_per_year`` for a regular period, or ``annual_rate`` times the day-count
  year fraction for a broken one (a ``first_due`` that is not one period after the start, a
  stretch cut by a milestone) and for every period when ``daily_interest`` is set; daily interest
  follows the business-day adjusted dates. Flat interest is the original principal times the
  sum of those rates, spread evenly over the installments (largest remainder).
- **Grace.** Periods ``1..moratorium`` ask for no payment at all; periods
  ``1..grace_principal`` ask for no principal; periods ``1..grace_interest`` ask for no interest.
  The interest of the interest-free periods still accrues and is capitalised into the balance,
  deferred to the first installment after them, or spread evenly over every installment after
  them (``moratorium_treatment`` for moratorium periods, ``interest_grace_treatment`` for the
  others).
- **Rounding.** Everything is computed exactly, in integer minor units with rates as integer
  ratios, and each amount is rounded once with ``terms.rounding``, so an exact half rounds by
  the stated rule. A level installment (annuity) is rounded to the minor unit or to
  ``installment_multiple``, and is recomputed on the balance at the first amortising period and
  after any capitalisation. Other methods have no level installment, so the multiple does not
  apply to them (as in Apache Fineract, where it rounds only the equal installment). The last
  installment takes whatever principal is still outstanding, so the principal always sums
  exactly to the loan plus the capitalised interest and the final balance is zero.
- **Fees.** ``upfront_fee`` is due at disbursement; ``installment_fee`` is added to every
  installment except those of the moratorium.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from functools import lru_cache
from typing import Final, NamedTuple

from tenor.core.calendar import (
    BusinessDayConvention,
    DayCount,
    Frequency,
    FrequencyUnit,
    HolidayCalendar,
    add_periods,
    day_count_days,
)
from tenor.core.errors import InvalidArgumentError
from tenor.core.money import Money, Rounding, allocate

#: The highest annual rate a loan may carry: 10 = 1000% a year.
MAX_ANNUAL_RATE: Final = Decimal(10)

#: The most installments a schedule may have: decades of daily collections.
MAX_TERM: Final = 10_000


class Method(StrEnum):
    """How the principal is paid back."""

    ANNUITY = "annuity"
    EQUAL_PRINCIPAL = "equal-principal"
    INTEREST_ONLY = "interest-only"
    BULLET = "bullet"
    STEPPED = "stepped"
    MILESTONE = "milestone"


class InterestMethod(StrEnum):
    """What interest is charged on."""

    DECLINING = "declining"
    FLAT = "flat"


class GraceTreatment(StrEnum):
    """What becomes of the interest of interest-free grace or moratorium periods."""

    DEFER = "defer"
    CAPITALISE = "capitalise"
    SPREAD = "spread"


class InvalidTermsError(InvalidArgumentError):
    """Loan terms that cannot make a schedule; ``field`` names the offending term."""

    code = "invalid_loan_terms"

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field} {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Milestone:
    """A project milestone on which ``share`` of the principal falls due."""

    name: str
    expected_date: date
    share: Decimal

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InvalidTermsError("milestones", "need a name for every milestone")
        if not isinstance(self.share, Decimal) or not self.share.is_finite():
            raise InvalidTermsError(
                "milestones", f"share of {self.name!r} must be a finite Decimal, got {self.share!r}"
            )
        if not 0 < self.share <= 1:
            raise InvalidTermsError(
                "milestones",
                f"share of {self.name!r} must be more than 0 and at most 1, got {self.share}",
            )


@dataclass(frozen=True, slots=True)
class LoanTerms:
    """Everything that decides a loan's repayment schedule.

    ``annual_rate`` is a fraction (``Decimal("0.12")`` for 12%). ``term`` is the number of
    installments; for a bullet loan the number of periods to maturity; for a milestone loan the
    number of periodic interest dates up to the last milestone (see :func:`milestone_term`).
    """

    principal: Money
    annual_rate: Decimal
    term: int
    frequency: Frequency
    start: date
    method: Method = Method.ANNUITY
    interest_method: InterestMethod = InterestMethod.DECLINING
    day_count: DayCount = DayCount.ACT_365F
    daily_interest: bool = False
    first_due: date | None = None
    grace_principal: int = 0
    grace_interest: int = 0
    interest_grace_treatment: GraceTreatment = GraceTreatment.DEFER
    moratorium: int = 0
    moratorium_treatment: GraceTreatment = GraceTreatment.CAPITALISE
    installment_multiple: Money | None = None
    rounding: Rounding = Rounding.HALF_EVEN
    upfront_fee: Money | None = None
    installment_fee: Money | None = None
    stepped_principal: tuple[Money, ...] = ()
    milestones: tuple[Milestone, ...] = ()
    holiday_calendar: HolidayCalendar | None = None
    business_day: BusinessDayConvention = BusinessDayConvention.UNADJUSTED
    month_end: bool = False

    def __post_init__(self) -> None:
        self._check_amounts()
        self._check_rate_and_term()
        self._check_grace()
        self._check_stepped()
        self._check_milestones()
        if self.business_day is not BusinessDayConvention.UNADJUSTED and (
            self.holiday_calendar is None
        ):
            raise InvalidTermsError("business_day", "needs a holiday calendar to adjust dates on")
        periods = _timeline(self)
        if periods[0].due <= self.start:
            raise InvalidTermsError(
                "business_day",
                f"rolls the first due date to {periods[0].due}, not after the start {self.start}",
            )
        if self.method is Method.MILESTONE:
            _check_no_principal_in_grace(self, _milestone_principal(self, periods))

    def _check_amounts(self) -> None:
        currency = self.principal.currency
        if not self.principal.is_positive:
            raise InvalidTermsError(
                "principal", f"must be greater than zero, got {self.principal.format()}"
            )
        optional = {
            "installment_multiple": self.installment_multiple,
            "upfront_fee": self.upfront_fee,
            "installment_fee": self.installment_fee,
        }
        for field, amount in optional.items():
            if amount is None:
                continue
            if amount.currency != currency:
                raise InvalidTermsError(
                    field, f"must be in {currency} like the principal, got {amount.currency}"
                )
            if amount.is_negative:
                raise InvalidTermsError(field, f"must not be negative, got {amount.format()}")
        if self.installment_multiple is not None and not self.installment_multiple.is_positive:
            raise InvalidTermsError(
                "installment_multiple",
                f"must be greater than zero, got {self.installment_multiple.format()}",
            )

    def _check_rate_and_term(self) -> None:
        if not isinstance(self.annual_rate, Decimal) or not self.annual_rate.is_finite():
            raise InvalidTermsError(
                "annual_rate",
                f"must be a finite Decimal fraction (0.12 for 12%), got {self.annual_rate!r}",
            )
        if not 0 <= self.annual_rate <= MAX_ANNUAL_RATE:
            raise InvalidTermsError(
                "annual_rate", f"must be between 0 and 10 (1000%), got {self.annual_rate}"
            )
        if isinstance(self.term, bool) or not isinstance(self.term, int):
            raise InvalidTermsError("term", f"must be a whole number, got {self.term!r}")
        if not 1 <= self.term <= MAX_TERM:
            raise InvalidTermsError(
                "term", f"must be between 1 and {MAX_TERM} installments, got {self.term}"
            )
        if self.first_due is not None and self.first_due <= self.start:
            raise InvalidTermsError(
                "first_due", f"must be after the start {self.start}, got {self.first_due}"
            )

    def _check_grace(self) -> None:
        for field, periods in (
            ("grace_principal", self.grace_principal),
            ("grace_interest", self.grace_interest),
            ("moratorium", self.moratorium),
        ):
            if periods < 0:
                raise InvalidTermsError(field, f"must not be negative, got {periods}")
            if periods and self.method is Method.BULLET:
                raise InvalidTermsError(
                    field, "does not apply to a bullet loan, which pays everything at maturity"
                )
            if periods >= self.term:
                raise InvalidTermsError(
                    field, f"must be less than the term ({self.term}), got {periods}"
                )

    def _check_stepped(self) -> None:
        if self.method is not Method.STEPPED:
            if self.stepped_principal:
                raise InvalidTermsError("stepped_principal", "is only for the stepped method")
            return
        steps = self.stepped_principal
        if len(steps) != self.term:
            raise InvalidTermsError(
                "stepped_principal",
                f"needs one amount per installment ({self.term}), got {len(steps)}",
            )
        currency = self.principal.currency
        if any(step.currency != currency for step in steps):
            raise InvalidTermsError(
                "stepped_principal", f"must be in {currency} like the principal"
            )
        if any(step.is_negative for step in steps):
            raise InvalidTermsError("stepped_principal", "must not hold negative amounts")
        total = Money.sum(steps, currency)
        if total != self.principal:
            raise InvalidTermsError(
                "stepped_principal",
                f"sums to {total.format()}, not the principal {self.principal.format()}",
            )
        _check_no_principal_in_grace(self, list(steps))

    def _check_milestones(self) -> None:
        if self.method is not Method.MILESTONE:
            if self.milestones:
                raise InvalidTermsError("milestones", "are only for the milestone method")
            return
        if not self.milestones:
            raise InvalidTermsError("milestones", "are needed for the milestone method")
        dates = [milestone.expected_date for milestone in self.milestones]
        if dates != sorted(set(dates)):
            raise InvalidTermsError("milestones", "must be in date order, on distinct dates")
        if dates[0] <= self.start:
            raise InvalidTermsError(
                "milestones", f"must fall after the start {self.start}, got {dates[0]}"
            )
        total = sum((milestone.share for milestone in self.milestones), Decimal(0))
        if total != 1:
            raise InvalidTermsError("milestones", f"shares must sum to 1, got {total}")
        expected = milestone_term(
            self.start,
            self.frequency,
            self.milestones,
            first_due=self.first_due,
            month_end=self.month_end,
        )
        if self.term != expected:
            raise InvalidTermsError(
                "term",
                f"must be {expected} for these milestones (periodic interest dates up to the "
                f"last milestone on {dates[-1]}), got {self.term}",
            )


@dataclass(frozen=True, slots=True)
class Installment:
    """One due date of a schedule; ``balance`` is the principal outstanding after it."""

    number: int
    start_date: date
    due_date: date
    principal: Money
    interest: Money
    fee: Money
    balance: Money

    @property
    def total(self) -> Money:
        """Everything due on this date."""
        return self.principal + self.interest + self.fee


@dataclass(frozen=True, slots=True)
class Schedule:
    """A loan's installments, in due-date order, and its up-front fee."""

    terms: LoanTerms
    installments: tuple[Installment, ...]
    upfront_fee: Money

    def _sum(self, amounts: Sequence[Money]) -> Money:
        return Money.sum(amounts, self.terms.principal.currency)

    @property
    def total_principal(self) -> Money:
        """Principal over all installments: the loan plus any capitalised interest."""
        return self._sum([installment.principal for installment in self.installments])

    @property
    def total_interest(self) -> Money:
        """Interest due over all installments (capitalised interest is principal instead)."""
        return self._sum([installment.interest for installment in self.installments])

    @property
    def total_fee(self) -> Money:
        """Every fee: the up-front fee plus the installment fees."""
        return self.upfront_fee + self._sum([installment.fee for installment in self.installments])

    @property
    def total_due(self) -> Money:
        """All the borrower pays: principal, interest and every fee."""
        return self.total_principal + self.total_interest + self.total_fee

    @property
    def capitalised_interest(self) -> Money:
        """Interest added to the principal during grace periods or a moratorium."""
        return self.total_principal - self.terms.principal


def milestone_term(
    start: date,
    frequency: Frequency,
    milestones: Sequence[Milestone],
    *,
    first_due: date | None = None,
    month_end: bool = False,
) -> int:
    """The ``term`` of a milestone loan: periodic interest dates until the last milestone.

    The last periodic date is the first one on or after the last milestone; the loan matures on
    the last milestone itself, so that final period may be shorter than the others.
    """
    if not milestones:
        raise InvalidTermsError("milestones", "are needed for the milestone method")
    last = max(milestone.expected_date for milestone in milestones)
    count = 1
    while _periodic_date(start, frequency, count, first_due, month_end) < last:
        count += 1
    return count


def build_schedule(terms: LoanTerms) -> Schedule:
    """The repayment schedule of ``terms``; see the module docstring for the conventions."""
    periods = _timeline(terms)
    if terms.method is Method.BULLET:
        installments: tuple[Installment, ...] = (_bullet(terms, periods),)
    else:
        installments = _amortise(terms, periods)
    upfront = terms.upfront_fee or Money.zero(terms.principal.currency)
    return Schedule(terms, installments, upfront)


class _Period(NamedTuple):
    """One interest period of the timeline, ending on a due date."""

    start: date  # adjusted: the previous due date, or the disbursement date
    due: date  # adjusted
    nominal_start: date  # unadjusted
    nominal_due: date  # unadjusted
    regular: bool  # exactly one frequency step long, so it earns the rate per period
    milestone: Milestone | None


def _periodic_date(
    start: date, frequency: Frequency, number: int, first_due: date | None, month_end: bool
) -> date:
    if first_due is None:
        return add_periods(start, frequency, number, month_end=month_end)
    return add_periods(first_due, frequency, number - 1, month_end=month_end)


def _timeline(terms: LoanTerms) -> tuple[_Period, ...]:
    return _dates(
        terms.start,
        terms.frequency,
        terms.term,
        terms.first_due,
        terms.month_end,
        terms.milestones,
        terms.holiday_calendar,
        terms.business_day,
    )


# A book disburses many loans on the same day for the same term, and a re-fold rebuilds the
# same schedule again: the dates depend on these few terms only, so they are computed once.
@lru_cache(maxsize=4096)
def _dates(
    start: date,
    frequency: Frequency,
    term: int,
    first_due: date | None,
    month_end: bool,
    milestones: tuple[Milestone, ...],
    calendar: HolidayCalendar | None,
    convention: BusinessDayConvention,
) -> tuple[_Period, ...]:
    # Nodes are (unadjusted date, index among the periodic dates or None, milestone); the
    # disbursement date is periodic index 0.
    periodic = [
        _periodic_date(start, frequency, number, first_due, month_end)
        for number in range(1, term + 1)
    ]
    nodes: list[tuple[date, int | None, Milestone | None]]
    if milestones:
        by_date = {milestone.expected_date: milestone for milestone in milestones}
        last = milestones[-1].expected_date
        indices = {day: number for number, day in enumerate(periodic, start=1) if day < last}
        nodes = [(day, indices.get(day), by_date.get(day)) for day in sorted({*indices, *by_date})]
        if last == periodic[-1]:
            nodes[-1] = (last, term, by_date[last])
    else:
        nodes = [(day, number, None) for number, day in enumerate(periodic, start=1)]
    first_regular = first_due is None or first_due == add_periods(
        start, frequency, 1, month_end=month_end
    )

    periods = []
    previous_day, previous_due = start, start
    previous_index: int | None = 0
    for day, index, milestone in nodes:
        regular = (
            previous_index is not None
            and index == previous_index + 1
            and (previous_index > 0 or first_regular)
        )
        due = day if calendar is None else calendar.adjust(day, convention)
        periods.append(_Period(previous_due, due, previous_day, day, regular, milestone))
        previous_day, previous_index, previous_due = day, index, due
    return tuple(periods)


def _milestone_principal(terms: LoanTerms, periods: Sequence[_Period]) -> list[Money]:
    # Largest remainder, so the milestone amounts sum exactly to the principal.
    shares = allocate(terms.principal, [milestone.share for milestone in terms.milestones])
    amount_of = dict(zip(terms.milestones, shares, strict=True))
    zero = Money.zero(terms.principal.currency)
    return [amount_of[period.milestone] if period.milestone else zero for period in periods]


def _check_no_principal_in_grace(terms: LoanTerms, scheduled: Sequence[Money]) -> None:
    principal_free = max(terms.grace_principal, terms.moratorium)
    for number, amount in enumerate(scheduled[:principal_free], start=1):
        if amount.is_positive:
            field = "stepped_principal" if terms.method is Method.STEPPED else "milestones"
            raise InvalidTermsError(
                field,
                f"put principal {amount.format()} in installment {number}, inside the "
                f"principal grace or moratorium ({principal_free} periods)",
            )


# The arithmetic is exact: amounts are integer minor units (cents, fen, yen) and rates are
# integer ratios, because a Decimal cannot hold 10% / 12 or 31/365 and rounding them early can
# tip an exact half the wrong way. Each computed amount is rounded once, by terms.rounding.


class _Ratio(NamedTuple):
    """A non-negative rational number; a period's interest rate."""

    numerator: int
    denominator: int


def _half_even(numerator: int, denominator: int) -> int:
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    return quotient + (twice > denominator or (twice == denominator and quotient % 2 == 1))


def _half_up(numerator: int, denominator: int) -> int:
    quotient, remainder = divmod(numerator, denominator)
    return quotient + (2 * remainder >= denominator)


def _down(numerator: int, denominator: int) -> int:
    return numerator // denominator


def _up(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


#: ``numerator / denominator``, both non-negative, rounded to a whole number by each mode.
_DIVIDE: Final[dict[Rounding, Callable[[int, int], int]]] = {
    Rounding.HALF_EVEN: _half_even,
    Rounding.HALF_UP: _half_up,
    Rounding.DOWN: _down,
    Rounding.UP: _up,
}


def _periods_per_year(frequency: Frequency) -> _Ratio:
    """:attr:`Frequency.periods_per_year` as an exact ratio (365/N is no finite Decimal)."""
    if frequency.unit is FrequencyUnit.MONTH:
        return _Ratio(12, frequency.count)
    if frequency.count % 7 == 0:
        return _Ratio(52, frequency.count // 7)
    return _Ratio(365, frequency.count)


def _year_fraction(start: date, end: date, convention: DayCount) -> _Ratio:
    """:func:`~tenor.core.calendar.year_fraction` as an exact ratio."""
    if convention is DayCount.ACT_ACT_ISDA:
        # Days in each calendar year over that year's length, over the common 365 x 366.
        numerator = 0
        cursor = start
        while cursor < end:
            stop = min(end, date(cursor.year + 1, 1, 1))
            other_length = 365 if _stdlib_calendar.isleap(cursor.year) else 366
            numerator += (stop - cursor).days * other_length
            cursor = stop
        return _Ratio(numerator, 365 * 366)
    basis = 365 if convention is DayCount.ACT_365F else 360
    return _Ratio(day_count_days(start, end, convention), basis)


def _regular_rate(terms: LoanTerms) -> _Ratio:
    """The rate of one regular period: the annual rate over the periods in a year."""
    annual, scale = terms.annual_rate.as_integer_ratio()
    per_year = _periods_per_year(terms.frequency)
    return _Ratio(annual * per_year.denominator, scale * per_year.numerator)


def _period_rates(terms: LoanTerms, periods: Sequence[_Period]) -> list[_Ratio]:
    """The fraction of the outstanding principal each period earns as interest."""
    annual, scale = terms.annual_rate.as_integer_ratio()
    regular = _regular_rate(terms)
    rates = []
    for period in periods:
        if terms.daily_interest:
            fraction = _year_fraction(period.start, period.due, terms.day_count)
        elif period.regular:
            rates.append(regular)
            continue
        else:
            fraction = _year_fraction(period.nominal_start, period.nominal_due, terms.day_count)
        rates.append(_Ratio(annual * fraction.numerator, scale * fraction.denominator))
    return rates


def _interest_on(amount: int, rates: Sequence[_Ratio], rounding: Rounding) -> int:
    """``amount`` times the sum of ``rates``, rounded once."""
    total = sum((Fraction(*rate) for rate in rates), Fraction(0))
    return _DIVIDE[rounding](amount * total.numerator, total.denominator)


def _level_amount(terms: LoanTerms, balance: int, remaining: int, future_flat: int | None) -> int:
    """The amount in minor units that stays level over the ``remaining`` installments.

    For an annuity the whole installment, rounded to the installment multiple if there is
    one; a flat annuity spreads the balance and the flat interest still to come,
    ``future_flat``, evenly. For equal principal the principal part, rounded to the minor unit.
    """
    divide = _DIVIDE[terms.rounding]
    if terms.method is Method.EQUAL_PRINCIPAL:
        return divide(balance, remaining)
    if future_flat is not None:
        exact = _Ratio(balance + future_flat, remaining)
    else:
        # Computed on the regular period even when interest runs by the day.
        exact = _annuity(balance, _regular_rate(terms), remaining)
    step = 1 if terms.installment_multiple is None else terms.installment_multiple.minor
    # One rounding straight from the exact amount to the multiple.
    return divide(exact.numerator, exact.denominator * step) * step


def _annuity(balance: int, rate: _Ratio, periods: int) -> _Ratio:
    """The level payment that repays ``balance`` over ``periods`` at ``rate`` a period.

    ``B r / (1 - (1 + r)^-n)`` with ``r = N / D`` is ``B N (D + N)^n / (D ((D + N)^n - D^n))``.
    """
    n, d = rate
    if n == 0:
        return _Ratio(balance, periods)
    grown, base = (d + n) ** periods, d**periods
    return _Ratio(balance * n * grown, d * (grown - base))


def _bullet(terms: LoanTerms, periods: Sequence[_Period]) -> Installment:
    # Nothing is repaid before maturity, so declining and flat interest are the same.
    currency = terms.principal.currency
    interest = _interest_on(terms.principal.minor, _period_rates(terms, periods), terms.rounding)
    return Installment(
        number=1,
        start_date=terms.start,
        due_date=periods[-1].due,
        principal=terms.principal,
        interest=Money(interest, currency),
        fee=terms.installment_fee or Money.zero(currency),
        balance=Money.zero(currency),
    )


def _amortise(terms: LoanTerms, periods: Sequence[_Period]) -> tuple[Installment, ...]:
    currency = terms.principal.currency
    rounding = terms.rounding
    divide = _DIVIDE[rounding]
    method = terms.method
    levelled = method in (Method.ANNUITY, Method.EQUAL_PRINCIPAL)
    annuity = method is Method.ANNUITY
    count = len(periods)
    rates = _period_rates(terms, periods)
    flat: list[int] | None = None
    if terms.interest_method is InterestMethod.FLAT:
        flat_total = Money(_interest_on(terms.principal.minor, rates, rounding), currency)
        flat = [part.minor for part in allocate(flat_total, [1] * count)]
    scheduled: list[int] | None = None
    if method is Method.STEPPED:
        scheduled = [step.minor for step in terms.stepped_principal]
    elif method is Method.MILESTONE:
        scheduled = [amount.minor for amount in _milestone_principal(terms, periods)]

    moratorium = terms.moratorium
    interest_free = max(moratorium, terms.grace_interest)
    principal_free = max(moratorium, terms.grace_principal)
    zero = Money.zero(currency)
    fee = terms.installment_fee or zero

    money = Money.trusted
    balance = terms.principal.minor
    level: int | None = None  # None until amortisation starts, and again after capitalising
    deferred = spread_pool = 0
    spread: list[int] = []
    installments = []
    for number, (period, (rate, per)) in enumerate(zip(periods, rates, strict=True), start=1):
        accrued = flat[number - 1] if flat is not None else divide(balance * rate, per)

        capitalised = interest = 0
        if number <= interest_free:
            treatment = (
                terms.moratorium_treatment
                if number <= moratorium
                else terms.interest_grace_treatment
            )
            if treatment is GraceTreatment.CAPITALISE:
                capitalised = accrued
            elif treatment is GraceTreatment.DEFER:
                deferred += accrued
            else:
                spread_pool += accrued
        else:
            interest = accrued
            if number == interest_free + 1:
                interest += deferred
                if spread_pool:
                    weights = [1] * (count - interest_free)
                    spread = [
                        part.minor for part in allocate(Money(spread_pool, currency), weights)
                    ]
            if spread:
                interest += spread[number - interest_free - 1]

        if number == count:
            principal = balance
        elif number <= principal_free:
            principal = 0
        elif levelled:
            if level is None:
                future_flat = None if flat is None else sum(flat[number - 1 :])
                level = _level_amount(terms, balance, count - number + 1, future_flat)
            # A long broken period can earn more than the level amount: never negative.
            principal = min(max(level - accrued, 0) if annuity else level, balance)
        elif scheduled is not None:
            principal = min(scheduled[number - 1], balance)
        else:
            principal = 0  # interest-only: the whole principal is the last installment's

        if capitalised:
            level = None
        balance += capitalised - principal
        installments.append(
            Installment(
                number,
                period.start,
                period.due,
                money(principal, currency),
                money(interest, currency),
                zero if number <= moratorium else fee,
                money(balance, currency),
            )
        )
    return tuple(installments)
