"""Relief for borrowers in trouble: the options, their schedules, and who qualifies.

Pure functions of a loan's terms, its journal and a business date. Every option becomes one
:class:`~tenor.core.account.Restructured` event whose new installments come from
:func:`~tenor.core.schedule.build_schedule`; the proposed schedule is the account folded with
that event, so what a borrower is offered is exactly what the ledger will hold.

The options (:class:`Option`):

- **deferral**: a payment holiday of N installments (a moratorium of the schedule core); the
  holiday's interest is capitalised, accrued to the last installment, or waived;
- **term-extension**: the outstanding principal re-amortised over N more installments;
- **re-amortisation**: the outstanding principal over a new term, or over the fewest
  installments whose amount is at most a target installment;
- **arrears-plan**: the regular schedule goes on, and what is overdue is split over the next
  N installments beside it;
- **lower-rate**: a lower annual rate for N installments, then the loan's own rate;
- **settlement**: the whole principal by a deadline, with a discount on the overdue interest,
  fees and charges;
- **milestone-reschedule**: for a project loan, the milestones still ahead moved to the dates
  of a progress report.

Eligibility is a policy of rules (:class:`ReliefPolicy`); :func:`eligibility` answers for every
option with every rule that failed, in Chinese and English a borrower can read.
"""

# Reasons in Chinese are written with Chinese (full-width) punctuation, as Chinese is.
# ruff: noqa: RUF001

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Final

from tenor.core.account import (
    AccountRules,
    InstallmentState,
    LoanEvent,
    LoanState,
    Restructured,
    fold,
)
from tenor.core.calendar import add_months
from tenor.core.errors import DomainError, InvalidArgumentError
from tenor.core.money import Money, Rounding
from tenor.core.schedule import (
    GraceTreatment,
    Installment,
    LoanTerms,
    Method,
    Milestone,
    build_schedule,
    milestone_term,
)


class Option(StrEnum):
    """A kind of relief."""

    DEFERRAL = "deferral"
    TERM_EXTENSION = "term-extension"
    REAMORTISATION = "re-amortisation"
    ARREARS_PLAN = "arrears-plan"
    LOWER_RATE = "lower-rate"
    SETTLEMENT = "settlement"
    MILESTONE_RESCHEDULE = "milestone-reschedule"


class DeferredInterest(StrEnum):
    """What becomes of the interest of a payment holiday."""

    CAPITALISE = "capitalise"
    ACCRUE_TO_END = "accrue-to-end"
    WAIVE = "waive"


@dataclass(frozen=True, slots=True)
class Relief:
    """One option with its parameters; which ones apply depends on the option.

    ``installments``: the holiday (deferral), the added installments (term-extension), the
    months of the plan (arrears-plan) or the installments at the lower rate (lower-rate).
    ``term`` or ``installment_amount``: a re-amortisation's new term or target installment.
    ``annual_rate``: the lower rate, a fraction. ``discount``: a settlement's discount as a
    fraction of the overdue interest, fees and charges; ``deadline``: when it must be paid.
    ``milestone_dates``: the new expected dates of the milestones still ahead, in order.
    """

    option: Option
    installments: int | None = None
    interest: DeferredInterest = DeferredInterest.CAPITALISE
    term: int | None = None
    installment_amount: Money | None = None
    annual_rate: Decimal | None = None
    discount: Decimal | None = None
    deadline: dt.date | None = None
    milestone_dates: tuple[dt.date, ...] = ()


class ReliefError(InvalidArgumentError):
    """An option that cannot be computed for this loan (bad parameters, nothing to defer);
    ``zh`` says it in Chinese for the borrower."""

    code = "relief_not_possible"

    def __init__(self, message: str, zh: str) -> None:
        super().__init__(message)
        self.zh = zh


# ---------------------------------------------------------------------------------------------
# Where the loan stands


@dataclass(frozen=True, slots=True)
class Position:
    """The parts of a loan's state on the effective date that the options are computed from."""

    day: dt.date
    currency: str
    #: Unpaid principal of every installment, and of those already due.
    principal: int
    overdue_principal: int
    #: Unpaid interest and fees due on or before ``day``, and every unpaid charge.
    overdue_charges: int
    #: The unsettled installments due after ``day``.
    ahead: tuple[InstallmentState, ...]
    #: Where the new schedule starts and first falls due.
    start: dt.date
    first_due: dt.date | None


def position(state: LoanState, day: dt.date) -> Position:
    """Where ``state`` stands on ``day`` for restructuring."""
    unsettled = [item for item in state.installments if not item.is_settled]
    if not unsettled or state.written_off_on is not None:
        raise ReliefError("the loan has nothing left to restructure", "该笔贷款已无可重组的欠款")
    due = [item for item in unsettled if item.due_date <= day]
    ahead = tuple(item for item in unsettled if item.due_date > day)
    start, first_due = (ahead[0].start_date, ahead[0].due_date) if ahead else (day, None)
    start = min(start, day)
    return Position(
        day=day,
        currency=state.currency,
        principal=sum(item.unpaid_principal.minor for item in unsettled),
        overdue_principal=sum(item.unpaid_principal.minor for item in due),
        overdue_charges=sum(item.unpaid_interest.minor + item.unpaid_fee.minor for item in due)
        + sum(item.unpaid_penalty.minor for item in unsettled),
        ahead=ahead,
        start=start,
        first_due=first_due,
    )


def _remainder(terms: LoanTerms, where: Position, principal: int, term: int) -> LoanTerms:
    """The terms of a new schedule of ``principal`` over ``term`` installments from ``where``.

    Stepped and bullet loans are re-amortised as annuities: their steps belong to the old
    schedule.
    """
    keeps = (Method.ANNUITY, Method.EQUAL_PRINCIPAL, Method.INTEREST_ONLY)
    return dataclasses.replace(
        terms,
        principal=Money(principal, where.currency),
        start=where.start,
        first_due=where.first_due,
        term=term,
        method=terms.method if terms.method in keeps else Method.ANNUITY,
        grace_principal=0,
        grace_interest=0,
        moratorium=0,
        upfront_fee=None,
        stepped_principal=(),
        milestones=(),
    )


def _count(relief: Relief, default: int | None = None) -> int:
    value = relief.installments if relief.installments is not None else default
    if value is None or isinstance(value, bool) or value < 1:
        raise ReliefError(
            f"{relief.option} needs a number of installments of at least 1", "需要至少1期"
        )
    return value


# ---------------------------------------------------------------------------------------------
# The options' schedules


@dataclass(frozen=True, slots=True)
class Plan:
    """What a :class:`Restructured` event says beyond its id, sequence and value date."""

    installments: tuple[Installment, ...]
    capitalised: int = 0
    spread: int = 1
    carry_from: int = 0
    forgive: int | None = None


def _deferral(terms: LoanTerms, where: Position, relief: Relief) -> Plan:
    holiday = _count(relief)
    term = max(len(where.ahead), 1) + holiday
    treatment = (
        GraceTreatment.CAPITALISE
        if relief.interest is DeferredInterest.CAPITALISE
        else GraceTreatment.DEFER
    )
    base = _remainder(terms, where, where.principal, term)
    schedule = build_schedule(
        dataclasses.replace(base, moratorium=holiday, moratorium_treatment=treatment)
    )
    rows = list(schedule.installments)
    capitalised = schedule.capitalised_interest.minor
    if relief.interest is not DeferredInterest.CAPITALISE:
        # The holiday's interest is what an interest-only schedule of the same dates earns
        # in those periods; the core deferred it onto the first installment after them.
        accrued = build_schedule(
            dataclasses.replace(base, method=Method.INTEREST_ONLY, term=holiday + 1)
        )
        deferred = Money.sum(
            (row.interest for row in accrued.installments[:holiday]), base.principal.currency
        )
        first = rows[holiday]
        rows[holiday] = dataclasses.replace(first, interest=first.interest - deferred)
        if relief.interest is DeferredInterest.ACCRUE_TO_END:
            last = rows[-1]
            rows[-1] = dataclasses.replace(last, interest=last.interest + deferred)
    return Plan(tuple(rows), capitalised=capitalised, carry_from=holiday)


def _extension(terms: LoanTerms, where: Position, relief: Relief) -> Plan:
    term = max(len(where.ahead), 1) + _count(relief)
    schedule = build_schedule(_remainder(terms, where, where.principal, term))
    return Plan(schedule.installments)


def _reamortisation(terms: LoanTerms, where: Position, relief: Relief) -> Plan:
    if relief.term is not None:
        if relief.term < 1:
            raise ReliefError(
                "re-amortisation needs a term of at least 1 installment", "新期限至少为1期"
            )
        term = relief.term
    elif relief.installment_amount is not None:
        term = _term_for(terms, where, relief.installment_amount)
    else:
        term = max(len(where.ahead), 1)
    schedule = build_schedule(_remainder(terms, where, where.principal, term))
    return Plan(schedule.installments)


#: The longest term a re-amortisation searches for a target installment.
MAX_SEARCH_TERM: Final = 600


def _term_for(terms: LoanTerms, where: Position, target: Money) -> int:
    """The fewest installments whose regular (first) installment is at most ``target``."""
    if target.currency != where.currency or not target.is_positive:
        raise ReliefError(
            f"the target installment must be a positive amount in {where.currency}",
            f"目标月供须为大于零的{where.currency}金额",
        )

    def first(term: int) -> int:
        rows = build_schedule(_remainder(terms, where, where.principal, term)).installments
        return rows[0].total.minor

    low, high = 1, MAX_SEARCH_TERM
    if first(high) > target.minor:
        raise ReliefError(
            f"no term up to {MAX_SEARCH_TERM} installments brings the installment down to "
            f"{target.format()}",
            f"{MAX_SEARCH_TERM}期以内无法将月供降至{target.format()}",
        )
    while low < high:
        middle = (low + high) // 2
        if first(middle) <= target.minor:
            high = middle
        else:
            low = middle + 1
    return low


def _arrears_plan(terms: LoanTerms, where: Position, relief: Relief) -> Plan:
    months = _count(relief)
    if not where.overdue_principal and not where.overdue_charges:
        raise ReliefError(
            "nothing is overdue to put in an arrears plan", "没有逾期欠款，无需分期还欠"
        )
    future = where.principal - where.overdue_principal
    if future:
        term = max(len(where.ahead), months)
        schedule = build_schedule(_remainder(terms, where, future, term))
    else:
        # Only arrears are left: the plan's own installments carry them, without interest.
        schedule = build_schedule(
            dataclasses.replace(
                _remainder(terms, where, where.overdue_principal, months),
                annual_rate=Decimal(0),
                method=Method.ANNUITY,
                installment_fee=None,
            )
        )
        rows = tuple(
            dataclasses.replace(row, principal=Money.zero(where.currency))
            for row in schedule.installments
        )
        return Plan(rows, spread=months)
    return Plan(schedule.installments, spread=months)


def _lower_rate(terms: LoanTerms, where: Position, relief: Relief) -> Plan:
    periods = _count(relief)
    term = max(len(where.ahead), 1)
    if periods >= term:
        raise ReliefError(
            f"a lower rate for {periods} installments needs a longer loan: {term} are left",
            f"剩余{term}期，不足以享受{periods}期的优惠利率",
        )
    rate = relief.annual_rate
    if rate is None or not 0 <= rate < terms.annual_rate:
        raise ReliefError(
            f"the lower rate must be below the loan's rate {terms.annual_rate}",
            "优惠利率须低于贷款原利率",
        )
    base = _remainder(terms, where, where.principal, term)
    low = build_schedule(dataclasses.replace(base, annual_rate=rate)).installments
    balance = low[periods - 1].balance
    if not balance.is_positive:
        raise ReliefError(
            "the lower-rate installments already repay the whole principal",
            "优惠利率期内已还清全部本金",
        )
    rest = build_schedule(
        dataclasses.replace(
            base,
            principal=balance,
            start=low[periods - 1].due_date,
            first_due=low[periods].due_date,
            term=term - periods,
        )
    ).installments
    return Plan((*low[:periods], *rest))


def _settlement(terms: LoanTerms, where: Position, relief: Relief) -> Plan:
    deadline = relief.deadline
    if deadline is None or deadline <= where.day:
        raise ReliefError(
            f"a settlement needs a deadline after {where.day}", f"结清期限须晚于{where.day}"
        )
    discount = relief.discount or Decimal(0)
    if not 0 <= discount <= 1:
        raise ReliefError(
            "a settlement's discount is a fraction between 0 and 1", "减免比例须在0到100%之间"
        )
    zero = Money.zero(where.currency)
    principal = Money(where.principal, where.currency)
    row = Installment(1, where.start, deadline, principal, zero, zero, zero)
    forgiven = Money(where.overdue_charges, where.currency).scale(discount, Rounding.DOWN)
    return Plan((row,), forgive=forgiven.minor or None)


def _milestones(terms: LoanTerms, where: Position, relief: Relief) -> Plan:
    if terms.method is not Method.MILESTONE:
        raise ReliefError(
            "only a milestone loan is rescheduled from a progress report",
            "只有按里程碑还款的贷款才能按进度报告调整",
        )
    ahead = [item for item in where.ahead if item.unpaid_principal.is_positive]
    if not ahead or where.first_due is None:
        raise ReliefError("no milestone is left ahead to reschedule", "没有待调整的里程碑")
    dates = relief.milestone_dates
    if len(dates) != len(ahead):
        raise ReliefError(
            f"the progress report must date each of the {len(ahead)} milestones still ahead, "
            f"got {len(dates)} dates",
            f"进度报告须为剩余的{len(ahead)}个里程碑各给出日期，收到{len(dates)}个",
        )
    if list(dates) != sorted(set(dates)) or dates[0] <= where.day:
        raise ReliefError(
            f"milestone dates must rise and fall after {where.day}",
            f"里程碑日期须递增且晚于{where.day}",
        )
    names = [milestone.name for milestone in terms.milestones][-len(ahead) :]
    if len(names) < len(ahead):
        names = [f"milestone {number}" for number in range(1, len(ahead) + 1)]
    # Each milestone keeps its share of what is still owed; the overdue principal goes with
    # the first. Shares are exact fractions written as 20-digit decimals, the last taking
    # whatever makes them sum to one.
    amounts = [item.unpaid_principal.minor for item in ahead]
    amounts[0] += where.overdue_principal
    total = sum(amounts)
    shares = [
        (Decimal(amount) / Decimal(total)).quantize(Decimal("1e-20")) for amount in amounts[:-1]
    ]
    shares.append(Decimal(1) - sum(shares, Decimal(0)))
    milestones = tuple(
        Milestone(name, day, share) for name, day, share in zip(names, dates, shares, strict=True)
    )
    start = where.start
    term = milestone_term(start, terms.frequency, milestones, month_end=terms.month_end)
    new = dataclasses.replace(
        terms,
        principal=Money(total, where.currency),
        start=start,
        first_due=None,
        term=term,
        grace_principal=0,
        grace_interest=0,
        moratorium=0,
        upfront_fee=None,
        milestones=milestones,
    )
    return Plan(build_schedule(new).installments)


_PLANNERS: Final = {
    Option.DEFERRAL: _deferral,
    Option.TERM_EXTENSION: _extension,
    Option.REAMORTISATION: _reamortisation,
    Option.ARREARS_PLAN: _arrears_plan,
    Option.LOWER_RATE: _lower_rate,
    Option.SETTLEMENT: _settlement,
    Option.MILESTONE_RESCHEDULE: _milestones,
}


def plan(terms: LoanTerms, state: LoanState, relief: Relief, day: dt.date) -> Plan:
    """The new schedule ``relief`` gives the loan ``state`` describes, effective ``day``.

    Raises :class:`ReliefError` when the option cannot be computed for this loan, and the
    schedule core's errors for terms it refuses.
    """
    if relief.option is not Option.MILESTONE_RESCHEDULE and terms.method is Method.MILESTONE:
        raise ReliefError(
            "a milestone loan is rescheduled from a progress report",
            "按里程碑还款的贷款须按进度报告调整",
        )
    return _PLANNERS[relief.option](terms, position(state, day), relief)


def restructuring(
    terms: LoanTerms,
    state: LoanState,
    relief: Relief,
    day: dt.date,
    *,
    event_id: str,
    sequence: int,
    watch_days: int,
) -> Restructured:
    """The journal event that applies ``relief`` on ``day``."""
    planned = plan(terms, state, relief, day)
    currency = state.currency
    return Restructured(
        event_id=event_id,
        sequence=sequence,
        value_date=day,
        option=relief.option.value,
        installments=planned.installments,
        capitalised=Money(planned.capitalised, currency),
        spread=planned.spread,
        carry_from=planned.carry_from,
        forgive=None if planned.forgive is None else Money(planned.forgive, currency),
        watch_days=watch_days,
    )


# ---------------------------------------------------------------------------------------------
# Proposals and their comparison with the current schedule


@dataclass(frozen=True, slots=True)
class ScheduleSummary:
    """What a borrower compares: the installment, the term, and what it costs from here.

    ``installment`` is the regular one: the median of what the installments ahead ask for
    (a holiday's empty installments and a first one carrying arrears do not make it); ``term``
    counts the installments left, overdue ones and a holiday's included.
    """

    installment: Money
    term: int
    last_due_date: dt.date | None
    total_interest: Money
    total_cost: Money


def summary(state: LoanState, day: dt.date) -> ScheduleSummary:
    """The unsettled part of ``state``'s schedule, from ``day`` on."""
    unsettled = [item for item in state.installments if not item.is_settled]
    remaining = [item for item in state.installments if item.due_date > day or not item.is_settled]
    ahead = [item for item in unsettled if item.due_date > day] or unsettled
    amounts = sorted(item.unpaid_minor for item in ahead if item.unpaid_minor)
    regular = amounts[(len(amounts) - 1) // 2] if amounts else 0
    return ScheduleSummary(
        installment=Money(regular, state.currency),
        term=len(remaining),
        last_due_date=remaining[-1].due_date if remaining else None,
        total_interest=Money.sum((item.unpaid_interest for item in unsettled), state.currency),
        total_cost=Money.sum((item.unpaid for item in unsettled), state.currency),
    )


@dataclass(frozen=True, slots=True)
class Proposal:
    """An option computed for a loan: its event, the account after it, and the comparison."""

    relief: Relief
    event: Restructured
    before: LoanState
    after: LoanState
    current: ScheduleSummary
    proposed: ScheduleSummary

    @property
    def schedule(self) -> tuple[InstallmentState, ...]:
        """The installments ahead once the relief is applied (a holiday's empty ones too)."""
        day = self.event.value_date
        return tuple(
            item for item in self.after.installments if item.due_date > day or not item.is_settled
        )


def propose(
    terms: LoanTerms,
    events: Sequence[LoanEvent],
    rules: AccountRules,
    relief: Relief,
    day: dt.date,
    *,
    watch_days: int = 0,
    before: LoanState | None = None,
) -> Proposal:
    """``relief`` computed on the loan's journal, folded through the account core.

    ``before`` is the fold of ``events`` when the caller has it already.
    """
    before = before or fold(terms, events, rules)
    sequence = max((event.sequence for event in events), default=0) + 1
    event = restructuring(
        terms, before, relief, day, event_id="proposal", sequence=sequence, watch_days=watch_days
    )
    after = fold(terms, [*events, event], rules)
    return Proposal(relief, event, before, after, summary(before, day), summary(after, day))


# ---------------------------------------------------------------------------------------------
# The watch period


def under_watch(state: LoanState, day: dt.date) -> bool:
    """Whether a restructured loan is still flagged for classification on ``day``.

    It is flagged through its watch period, and after it until every installment that fell
    due within the period has been paid on time: the flag clears only for a borrower who kept
    paying.
    """
    if not state.restructured_on or state.watch_until is None:
        return False
    if day <= state.watch_until:
        return True
    start = state.restructured_on[-1]
    return any(
        item.settled_on is None or item.settled_on > item.due_date
        for item in state.installments
        if start < item.due_date <= state.watch_until
    )


# ---------------------------------------------------------------------------------------------
# Eligibility


@dataclass(frozen=True, slots=True)
class Reason:
    """A failed rule, in words a borrower can read."""

    code: str
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class OptionLimits:
    """How far one option may go under a policy, and what it offers by default."""

    default: Relief
    max_installments: int | None = None
    min_annual_rate: Decimal | None = None
    max_discount: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ReliefPolicy:
    """The eligibility rules of one product (the validated document is in ``tenor.relief``).

    ``None`` turns a rule off. ``approval_above`` is the outstanding amount above which an
    applied relief needs a second person's approval; options in ``always_approve`` always do.
    """

    options: Mapping[Option, OptionLimits]
    min_credit_score: int | None = None
    max_score_age_days: int | None = None
    max_days_past_due: int | None = None
    min_on_time_payments_12m: int | None = None
    max_restructurings_12m: int | None = None
    max_restructurings_ever: int | None = None
    min_paid_share: Decimal | None = None
    hardship_evidence_above: Money | None = None
    max_debt_to_income: Decimal | None = None
    approval_above: Money | None = None
    always_approve: frozenset[Option] = field(default_factory=frozenset)
    watch_days: int = 180


@dataclass(frozen=True, slots=True)
class BorrowerFacts:
    """What eligibility knows about the borrower beyond the loan."""

    credit_score: int | None = None
    score_as_of: dt.date | None = None
    monthly_income: Money | None = None
    monthly_debt: Money | None = None
    hardship_evidence: bool = False


@dataclass(frozen=True, slots=True)
class LoanFacts:
    """The loan as eligibility reads it: terms, journal, account rules, days past due."""

    terms: LoanTerms
    events: tuple[LoanEvent, ...]
    rules: AccountRules
    days_past_due: int


@dataclass(frozen=True, slots=True)
class OptionResult:
    """One option for one loan: eligible or not, why not, and the proposal when it is."""

    option: Option
    relief: Relief
    eligible: bool
    reasons: tuple[Reason, ...]
    proposal: Proposal | None
    needs_approval: bool


def on_time_payments(state: LoanState, day: dt.date) -> int:
    """Installments due in the 12 months up to ``day`` that were settled by their due date."""
    since = add_months(day, -12)
    return sum(
        1
        for item in state.installments
        if since < item.due_date <= day
        and item.settled_on is not None
        and item.settled_on <= item.due_date
    )


def paid_share(state: LoanState) -> Fraction:
    """The share of the principal owed that has been repaid."""
    owed = sum(item.principal.minor for item in state.installments)
    paid = sum(item.paid_principal.minor for item in state.installments)
    return Fraction(paid, owed) if owed else Fraction(0)


def _loan_reasons(
    facts: LoanFacts, state: LoanState, borrower: BorrowerFacts, policy: ReliefPolicy, day: dt.date
) -> list[Reason]:
    reasons: list[Reason] = []
    score = borrower.credit_score
    if policy.min_credit_score is not None:
        if score is None:
            reasons.append(
                Reason("no_credit_score", "没有信用评分记录", "No credit score on record")
            )
        elif score < policy.min_credit_score:
            reasons.append(
                Reason(
                    "credit_score_too_low",
                    f"信用评分 {score} 低于要求的 {policy.min_credit_score}",
                    f"Credit score {score} is below the {policy.min_credit_score} required",
                )
            )
        elif (
            policy.max_score_age_days is not None
            and borrower.score_as_of is not None
            and (day - borrower.score_as_of).days > policy.max_score_age_days
        ):
            reasons.append(
                Reason(
                    "credit_score_stale",
                    f"信用评分日期 {borrower.score_as_of} 已超过 {policy.max_score_age_days} 天",
                    f"The credit score of {borrower.score_as_of} is older than "
                    f"{policy.max_score_age_days} days",
                )
            )
    dpd = facts.days_past_due
    if policy.max_days_past_due is not None and dpd > policy.max_days_past_due:
        reasons.append(
            Reason(
                "too_many_days_past_due",
                f"已逾期 {dpd} 天，超过上限 {policy.max_days_past_due} 天",
                f"{dpd} days past due, more than the {policy.max_days_past_due} allowed",
            )
        )
    on_time = on_time_payments(state, day)
    if policy.min_on_time_payments_12m is not None and on_time < policy.min_on_time_payments_12m:
        reasons.append(
            Reason(
                "too_few_on_time_payments",
                f"过去12个月按时还款 {on_time} 期，少于要求的 {policy.min_on_time_payments_12m} 期",
                f"{on_time} installments paid on time in the last 12 months, fewer than the "
                f"{policy.min_on_time_payments_12m} required",
            )
        )
    since = add_months(day, -12)
    recent = sum(1 for when in state.restructured_on if when > since)
    if policy.max_restructurings_12m is not None and recent >= policy.max_restructurings_12m:
        reasons.append(
            Reason(
                "too_many_recent_restructurings",
                f"过去12个月已重组 {recent} 次，上限 {policy.max_restructurings_12m} 次",
                f"Restructured {recent} times in the last 12 months; at most "
                f"{policy.max_restructurings_12m} allowed",
            )
        )
    ever = len(state.restructured_on)
    if policy.max_restructurings_ever is not None and ever >= policy.max_restructurings_ever:
        reasons.append(
            Reason(
                "too_many_restructurings",
                f"已重组 {ever} 次，上限 {policy.max_restructurings_ever} 次",
                f"Restructured {ever} times; at most {policy.max_restructurings_ever} allowed",
            )
        )
    share = paid_share(state)
    if policy.min_paid_share is not None and share < policy.min_paid_share:
        shown, wanted = _percent(share), _percent(policy.min_paid_share)
        reasons.append(
            Reason(
                "too_little_repaid",
                f"已还本金 {shown}，少于要求的 {wanted}",
                f"{shown} of the principal repaid, less than the {wanted} required",
            )
        )
    owed = state.total_outstanding
    threshold = policy.hardship_evidence_above
    if threshold is not None and owed > threshold and not borrower.hardship_evidence:
        reasons.append(
            Reason(
                "hardship_evidence_required",
                f"欠款 {owed.format()} 超过 {threshold.format()}，需要提供困难证明",
                f"Evidence of hardship is needed when more than {threshold.format()} is owed "
                f"({owed.format()})",
            )
        )
    return reasons


def _percent(value: Fraction | Decimal) -> str:
    number = (
        Decimal(value.numerator) / Decimal(value.denominator)
        if isinstance(value, Fraction)
        else value
    )
    return f"{(number * 100).quantize(Decimal('0.1'))}%"


def _option_reasons(
    option: Option,
    relief: Relief,
    limits: OptionLimits,
    proposal: Proposal,
    borrower: BorrowerFacts,
    policy: ReliefPolicy,
) -> list[Reason]:
    reasons: list[Reason] = []
    if (
        limits.max_installments is not None
        and relief.installments is not None
        and relief.installments > limits.max_installments
    ):
        reasons.append(
            Reason(
                "beyond_policy_limit",
                f"申请 {relief.installments} 期，超过上限 {limits.max_installments} 期",
                f"{relief.installments} installments asked for; at most "
                f"{limits.max_installments} allowed",
            )
        )
    if (
        limits.min_annual_rate is not None
        and relief.annual_rate is not None
        and relief.annual_rate < limits.min_annual_rate
    ):
        reasons.append(
            Reason(
                "rate_below_floor",
                f"利率 {_percent(relief.annual_rate)} 低于下限 {_percent(limits.min_annual_rate)}",
                f"A rate of {_percent(relief.annual_rate)} is below the floor of "
                f"{_percent(limits.min_annual_rate)}",
            )
        )
    if (
        limits.max_discount is not None
        and relief.discount is not None
        and relief.discount > limits.max_discount
    ):
        reasons.append(
            Reason(
                "discount_too_large",
                f"减免 {_percent(relief.discount)} 超过上限 {_percent(limits.max_discount)}",
                f"A discount of {_percent(relief.discount)} is more than the "
                f"{_percent(limits.max_discount)} allowed",
            )
        )
    income, limit = borrower.monthly_income, policy.max_debt_to_income
    if income is not None and limit is not None and income.is_positive:
        installment = proposal.proposed.installment
        other = borrower.monthly_debt or Money.zero(income.currency)
        if installment.currency == income.currency == other.currency:
            ratio = Fraction(installment.minor + other.minor, income.minor)
            if ratio > limit:
                reasons.append(
                    Reason(
                        "debt_to_income_too_high",
                        f"月供与其他债务占收入 {_percent(ratio)}，超过上限 {_percent(limit)}",
                        f"The installment and other debts take {_percent(ratio)} of income, "
                        f"more than the {_percent(limit)} allowed",
                    )
                )
    return reasons


def _not_offered(option: Option) -> Reason:
    return Reason(
        "option_not_offered",
        f"本产品不提供此方案（{option.value}）",
        f"This product does not offer {option.value}",
    )


def eligibility(
    loan: LoanFacts,
    borrower: BorrowerFacts,
    policy: ReliefPolicy,
    day: dt.date,
    chosen: Mapping[Option, Relief] | None = None,
) -> list[OptionResult]:
    """Every option, eligible or not, with every failed rule and, when eligible, the proposal.

    ``chosen`` overrides an option's parameters (otherwise the policy's defaults).
    """
    state = fold(loan.terms, loan.events, loan.rules)
    common = _loan_reasons(loan, state, borrower, policy, day)
    results = []
    for option in Option:
        limits = policy.options.get(option)
        relief = (chosen or {}).get(option) or (limits.default if limits else Relief(option))
        reasons = list(common)
        if limits is None:
            reasons.append(_not_offered(option))
        proposal = None
        try:
            proposal = propose(
                loan.terms,
                loan.events,
                loan.rules,
                relief,
                day,
                watch_days=policy.watch_days,
                before=state,
            )
        except ReliefError as error:
            reasons.append(Reason("option_not_possible", error.zh, error.message))
        except DomainError as error:
            # The schedule core refused the terms: its message is for staff; the borrower
            # reads that the option does not fit this loan.
            reasons.append(Reason("option_not_possible", "此方案不适用于该笔贷款", error.message))
        if proposal is not None and limits is not None:
            reasons.extend(_option_reasons(option, relief, limits, proposal, borrower, policy))
        eligible = not reasons
        results.append(
            OptionResult(
                option=option,
                relief=relief,
                eligible=eligible,
                reasons=tuple(reasons),
                proposal=proposal if eligible else None,
                needs_approval=needs_approval(policy, option, state),
            )
        )
    return results


def needs_approval(policy: ReliefPolicy, option: Option, state: LoanState) -> bool:
    """Whether applying ``option`` needs a second person under ``policy``."""
    if option in policy.always_approve:
        return True
    threshold = policy.approval_above
    return threshold is not None and state.total_outstanding > threshold
