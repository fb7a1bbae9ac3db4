"""Collections: strategies and treatment paths, promises to pay, queue order, agencies, legal.

Everything here is pure: the shell (:mod:`tenor.collect`) reads cases, promises and payments,
asks these functions what follows, and writes the answer.

- A :class:`Strategy` is data: segments matched in order by days past due and the loan's
  facts (risk score, balance, product, first-payment default, hardship), each with a champion
  treatment path and optionally a challenger path that a stable hash of the loan id assigns to
  a share of the segment (:func:`assign_arm`).
- A path is a list of :class:`TreatmentStep`: an action and the days to wait after the previous
  step (the first step: after the case entered the segment). :func:`next_step` takes at most one
  step a day, so a case coming back from a pause does not receive a burst of actions.
- :func:`judge_promise` decides a promise to pay at the end of a business date: kept once the
  payments since it was made reach the promised amount less a tolerance, broken when its date
  (plus grace days) has passed without that.
- :func:`queue_order` sorts a collector's cases: those that may be contacted now first, then a
  recently broken promise, then expected value (balance x propensity to pay - contact cost).
- :class:`LegalStage` and :func:`legal_transition`: the legal-recovery state machine; an
  invalid transition raises :class:`InvalidTransitionError`.
- :func:`commission` and :func:`reconcile_agency`: an agency's commission on what it collected,
  each line rounded half-even to the cent, lines summing to the statement's totals.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise
from typing import Final

from tenor.core.errors import DomainError, InvalidArgumentError
from tenor.core.money import Money, Rounding


class ActionKind(StrEnum):
    """What a treatment step does."""

    SMS = "sms"
    PUSH = "push"
    EMAIL = "email"
    LETTER = "letter"
    CALL = "call"
    VISIT = "visit"
    AGENCY = "agency"
    LEGAL = "legal"
    WRITE_OFF = "write_off"

    @property
    def is_task(self) -> bool:
        """Whether a person works the action (a call or a field visit) from a queue."""
        return self in (ActionKind.CALL, ActionKind.VISIT)

    @property
    def is_message(self) -> bool:
        """Whether the action is a message sent through the notification outbox."""
        return self in (ActionKind.SMS, ActionKind.PUSH, ActionKind.EMAIL, ActionKind.LETTER)


class ExitCondition(StrEnum):
    """Why a case stops or pauses following its path."""

    PAID = "paid"
    CURED = "cured"
    PROMISE_TO_PAY = "promise_to_pay"
    DISPUTE = "dispute"
    HARDSHIP = "hardship"


class OutcomeCode(StrEnum):
    """Standard contact outcomes."""

    RIGHT_PARTY_CONTACT = "right_party_contact"
    WRONG_PARTY = "wrong_party"
    NO_ANSWER = "no_answer"
    REFUSED = "refused"
    PROMISE_TO_PAY = "promise_to_pay"
    DISPUTE = "dispute"
    HARDSHIP = "hardship"
    DECEASED = "deceased"
    BANKRUPTCY = "bankruptcy"

    @property
    def connected(self) -> bool:
        """Whether a call with this outcome was answered (the contact rules count these)."""
        return self is not OutcomeCode.NO_ANSWER

    @property
    def conversation(self) -> bool:
        """Whether the outcome means a conversation with the debtor about the debt."""
        return self not in (OutcomeCode.NO_ANSWER, OutcomeCode.WRONG_PARTY)

    @property
    def stops_collection(self) -> bool:
        """Outcomes after which nobody may be asked to pay through the ordinary path."""
        return self in (OutcomeCode.DECEASED, OutcomeCode.BANKRUPTCY)


class Arm(StrEnum):
    """The branch of a segment a case follows."""

    CHAMPION = "champion"
    CHALLENGER = "challenger"


#: What one action costs by default, in minor units (of the book's currency), when a strategy
#: does not say: what a contact-cost term in the queue's expected value subtracts.
DEFAULT_COSTS: Final = {
    ActionKind.SMS: 5,
    ActionKind.PUSH: 1,
    ActionKind.EMAIL: 1,
    ActionKind.LETTER: 300,
    ActionKind.CALL: 200,
    ActionKind.VISIT: 6000,
    ActionKind.AGENCY: 0,
    ActionKind.LEGAL: 50000,
    ActionKind.WRITE_OFF: 0,
}


@dataclass(frozen=True, slots=True)
class TreatmentStep:
    """One action of a path, ``wait_days`` after the previous one (or the segment's entry)."""

    action: ActionKind
    wait_days: int = 0
    template: str | None = None

    def __post_init__(self) -> None:
        if self.wait_days < 0:
            raise InvalidArgumentError("a treatment step cannot wait a negative number of days")


@dataclass(frozen=True, slots=True)
class Segment:
    """Loans in a days-past-due stage, narrowed by facts, and the paths they follow.

    Every bound is inclusive and optional. ``first_payment_default`` and ``hardship``, when
    set, must equal the loan's fact. ``challenger_share`` of the segment follows the challenger.
    """

    name: str
    min_dpd: int
    max_dpd: int | None
    champion: tuple[TreatmentStep, ...]
    challenger: tuple[TreatmentStep, ...] = ()
    challenger_share: Decimal = Decimal(0)
    min_score: int | None = None
    max_score: int | None = None
    min_balance_minor: int | None = None
    max_balance_minor: int | None = None
    products: frozenset[str] = frozenset()
    first_payment_default: bool | None = None
    hardship: bool | None = None

    def __post_init__(self) -> None:
        if self.min_dpd < 1:
            raise InvalidArgumentError(f"segment {self.name}: collections start at 1 day past due")
        if self.max_dpd is not None and self.max_dpd < self.min_dpd:
            raise InvalidArgumentError(f"segment {self.name}: max_dpd is below min_dpd")
        # An inverted band would match no loan at all: a configuration mistake, not a segment.
        for low, high, what in (
            (self.min_score, self.max_score, "max_score is below min_score"),
            (
                self.min_balance_minor,
                self.max_balance_minor,
                "max_balance_minor is below min_balance_minor",
            ),
        ):
            if low is not None and high is not None and high < low:
                raise InvalidArgumentError(f"segment {self.name}: {what}")
        if not Decimal(0) <= self.challenger_share <= Decimal(1):
            raise InvalidArgumentError(f"segment {self.name}: challenger share is not in [0, 1]")
        if self.challenger_share > 0 and not self.challenger:
            raise InvalidArgumentError(f"segment {self.name}: a challenger share needs a path")

    def path(self, arm: Arm) -> tuple[TreatmentStep, ...]:
        """The steps ``arm`` follows."""
        return self.challenger if arm is Arm.CHALLENGER else self.champion

    def matches(self, facts: CaseFacts) -> bool:
        """Whether the loan's facts fall in this segment."""
        dpd = facts.days_past_due
        if dpd < self.min_dpd or (self.max_dpd is not None and dpd > self.max_dpd):
            return False
        if self.min_score is not None or self.max_score is not None:
            if facts.score is None:
                return False
            if self.min_score is not None and facts.score < self.min_score:
                return False
            if self.max_score is not None and facts.score > self.max_score:
                return False
        if self.min_balance_minor is not None and facts.balance_minor < self.min_balance_minor:
            return False
        if self.max_balance_minor is not None and facts.balance_minor > self.max_balance_minor:
            return False
        if self.products and facts.product not in self.products:
            return False
        if (
            self.first_payment_default is not None
            and facts.first_payment_default != self.first_payment_default
        ):
            return False
        return self.hardship is None or facts.hardship == self.hardship


@dataclass(frozen=True, slots=True)
class Strategy:
    """A versioned collection strategy: segments tried in order, the first match wins."""

    name: str
    version: int
    segments: tuple[Segment, ...]
    pause_on: frozenset[ExitCondition] = frozenset(
        {ExitCondition.PROMISE_TO_PAY, ExitCondition.DISPUTE, ExitCondition.HARDSHIP}
    )
    costs: dict[ActionKind, int] = field(default_factory=lambda: dict(DEFAULT_COSTS))

    def __post_init__(self) -> None:
        names = [segment.name for segment in self.segments]
        if len(set(names)) != len(names):
            raise InvalidArgumentError(f"strategy {self.name}: segment names must be unique")
        if not self.segments:
            raise InvalidArgumentError(f"strategy {self.name}: needs at least one segment")

    def segment_for(self, facts: CaseFacts) -> Segment | None:
        """The first segment the loan falls in, or None."""
        return next((s for s in self.segments if s.matches(facts)), None)

    def segment(self, name: str) -> Segment:
        """The segment called ``name``."""
        for segment in self.segments:
            if segment.name == name:
                return segment
        raise InvalidArgumentError(f"strategy {self.name} has no segment {name}")

    def cost(self, action: ActionKind) -> int:
        """What one ``action`` costs, in minor units."""
        return self.costs.get(action, DEFAULT_COSTS[action])


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What a strategy reads of a delinquent loan on a business date."""

    loan_id: int
    days_past_due: int
    balance_minor: int
    product: str
    score: int | None = None
    first_payment_default: bool = False
    hardship: bool = False


def assign_arm(strategy: str, segment: Segment, loan_id: int) -> Arm:
    """The arm a loan follows in a segment: a stable hash of the loan id, so that reruns and
    every process agree, and a loan keeps its arm while it stays in the segment."""
    if segment.challenger_share <= 0:
        return Arm.CHAMPION
    digest = hashlib.sha256(f"{strategy}|{segment.name}|{loan_id}".encode()).digest()
    position = Decimal(int.from_bytes(digest[:8], "big")) / Decimal(2**64)
    return Arm.CHALLENGER if position < segment.challenger_share else Arm.CHAMPION


@dataclass(frozen=True, slots=True)
class PathPosition:
    """Where a case stands on its path: steps taken, and when the path or the last step began."""

    taken: int
    since: dt.date


def next_step(
    path: Sequence[TreatmentStep], position: PathPosition, day: dt.date
) -> tuple[int, TreatmentStep] | None:
    """The step to take on ``day`` (its index and itself), or None: the path is done or the
    next step's waiting days have not passed. At most one step a day."""
    if position.taken >= len(path):
        return None
    step = path[position.taken]
    # After a step, ``since`` is the day it was taken: a step that waits 0 days follows on the
    # next day, not on a rerun of the same day's close.
    least_wait = step.wait_days if position.taken == 0 else max(step.wait_days, 1)
    if (day - position.since).days < least_wait:
        return None
    return position.taken, step


def pause_reason(
    strategy: Strategy, *, promise_pending: bool, dispute_open: bool, hardship: bool
) -> ExitCondition | None:
    """Why a case does not follow its path today, or None when it does."""
    if dispute_open and ExitCondition.DISPUTE in strategy.pause_on:
        return ExitCondition.DISPUTE
    if hardship and ExitCondition.HARDSHIP in strategy.pause_on:
        return ExitCondition.HARDSHIP
    if promise_pending and ExitCondition.PROMISE_TO_PAY in strategy.pause_on:
        return ExitCondition.PROMISE_TO_PAY
    return None


# --- promises to pay --------------------------------------------------------------------------


class PromiseStatus(StrEnum):
    """A promise to pay, as the daily close decides it."""

    PENDING = "pending"
    KEPT = "kept"
    BROKEN = "broken"


@dataclass(frozen=True, slots=True)
class PromiseRules:
    """How promises are judged: a kept promise may fall short by ``tolerance`` of the amount
    (a share, 0.05 = 5%), and the money may come ``grace_days`` after the promised date."""

    tolerance: Decimal = Decimal("0.05")
    grace_days: int = 0

    def __post_init__(self) -> None:
        if not Decimal(0) <= self.tolerance < Decimal(1):
            raise InvalidArgumentError("a promise's tolerance must be a share in [0, 1)")
        if self.grace_days < 0:
            raise InvalidArgumentError("grace days cannot be negative")

    def threshold(self, promised: Money) -> Money:
        """The least payment that keeps a promise of ``promised`` (rounded up: never less)."""
        return promised.scale(Decimal(1) - self.tolerance, Rounding.UP)


def judge_promise(
    promised: Money, due: dt.date, paid: Money, day: dt.date, rules: PromiseRules
) -> PromiseStatus:
    """A promise at the end of ``day``, given what was paid since it was made (through ``day``).

    Kept as soon as the payments reach the threshold, even before the promised date; broken at
    the end of the promised date plus grace days when they have not; pending otherwise.
    """
    if not promised.is_positive:
        raise InvalidArgumentError("a promise to pay must be for a positive amount")
    if paid >= rules.threshold(promised):
        return PromiseStatus.KEPT
    if day >= due + dt.timedelta(days=rules.grace_days):
        return PromiseStatus.BROKEN
    return PromiseStatus.PENDING


# --- the work queue ---------------------------------------------------------------------------


#: Propensity to pay before any model: by days past due, a borrower who pays often pays again.
_BASE_PROPENSITY: Final = ((30, Decimal("0.45")), (60, Decimal("0.25")), (90, Decimal("0.12")))
_LATE_PROPENSITY: Final = Decimal("0.05")


def heuristic_propensity(
    days_past_due: int, promises_kept: int, promises_broken: int, paid_last_30_days: bool
) -> Decimal:
    """A transparent propensity to pay: a base rate by days past due, raised by kept promises
    and a recent payment, lowered by broken promises; always in [0.01, 0.95]."""
    base = next((rate for limit, rate in _BASE_PROPENSITY if days_past_due <= limit), None)
    rate = _LATE_PROPENSITY if base is None else base
    rate += Decimal("0.05") * min(promises_kept, 3)
    rate -= Decimal("0.05") * min(promises_broken, 3)
    if paid_last_30_days:
        rate += Decimal("0.10")
    return min(max(rate, Decimal("0.01")), Decimal("0.95"))


@dataclass(frozen=True, slots=True)
class QueueItem:
    """A case in a collector's queue with what orders it."""

    case_id: int
    balance_minor: int
    propensity: Decimal
    contact_cost_minor: int
    contactable_now: bool
    broken_promise: bool = False

    @property
    def expected_value_minor(self) -> int:
        """Balance x propensity to pay - contact cost, in minor units (rounded half-even)."""
        value = Decimal(self.balance_minor) * self.propensity - self.contact_cost_minor
        return int(value.quantize(Decimal(1), rounding="ROUND_HALF_EVEN"))


def queue_order(items: Iterable[QueueItem]) -> list[QueueItem]:
    """A collector's cases in working order: contactable now first (a case the contact rules
    refuse now cannot be at the top), then broken promises, then expected value, then case id."""
    return sorted(
        items,
        key=lambda item: (
            not item.contactable_now,
            not item.broken_promise,
            -item.expected_value_minor,
            item.case_id,
        ),
    )


# --- agencies ---------------------------------------------------------------------------------


#: Cases that are never placed with an agency (and are recalled when they become so).
PLACEMENT_EXCLUSIONS: Final = frozenset({"dispute", "bankruptcy", "deceased", "hardship"})


@dataclass(frozen=True, slots=True)
class CommissionBand:
    """An agency's commission rate for cases placed from ``min_dpd`` days past due on."""

    min_dpd: int
    rate: Decimal

    def __post_init__(self) -> None:
        if not Decimal(0) <= self.rate < Decimal(1):
            raise InvalidArgumentError("a commission rate must be a share in [0, 1)")


def commission_rate(bands: Sequence[CommissionBand], days_past_due: int) -> Decimal:
    """The rate of the band with the highest ``min_dpd`` not above ``days_past_due``."""
    starts = sorted(band.min_dpd for band in bands)
    # Two bands from one day would make the rate depend on the order the bands are listed in.
    twice = next((a for a, b in pairwise(starts) if a == b), None)
    if twice is not None:
        raise InvalidArgumentError(f"two commission bands start at {twice} days past due")
    eligible = [band for band in bands if band.min_dpd <= days_past_due]
    if not eligible:
        raise InvalidArgumentError(f"no commission band covers {days_past_due} days past due")
    return max(eligible, key=lambda band: band.min_dpd).rate


def placement_refusal(flags: Iterable[str]) -> str | None:
    """Why a case may not be placed with an agency (the first exclusion it has), or None."""
    found = sorted(set(flags) & PLACEMENT_EXCLUSIONS)
    return found[0] if found else None


def commission(collected: Money, rate: Decimal) -> Money:
    """The commission on one collected amount, rounded half-even to the minor unit."""
    if collected.is_negative:
        raise InvalidArgumentError("commission is due on collected money, not on a refund")
    return collected.scale(rate, Rounding.HALF_EVEN)


@dataclass(frozen=True, slots=True)
class AgencyCollection:
    """One payment an agency collected on a placed case, and the placement's rate."""

    reference: str
    loan_id: int
    amount: Money
    rate: Decimal


@dataclass(frozen=True, slots=True)
class StatementLine:
    """A reconciled payment: collected = commission + net to the lender."""

    reference: str
    loan_id: int
    collected: Money
    rate: Decimal
    commission: Money
    net: Money


@dataclass(frozen=True, slots=True)
class AgencyStatement:
    """An agency's reconciliation: every line, and totals that are the lines' sums."""

    currency: str
    lines: tuple[StatementLine, ...]
    collected: Money
    commission: Money
    net: Money


def reconcile_agency(collections: Sequence[AgencyCollection], currency: str) -> AgencyStatement:
    """Each payment's commission and net, and the totals, to the cent: the totals are the sums
    of the lines, and collected = commission + net on every line and in total."""
    lines = []
    for item in collections:
        if item.amount.currency != currency:
            raise InvalidArgumentError(
                f"payment {item.reference} is in {item.amount.currency}, not {currency}"
            )
        fee = commission(item.amount, item.rate)
        net = item.amount - fee
        lines.append(StatementLine(item.reference, item.loan_id, item.amount, item.rate, fee, net))
    return AgencyStatement(
        currency=currency,
        lines=tuple(lines),
        collected=Money.sum((line.collected for line in lines), currency),
        commission=Money.sum((line.commission for line in lines), currency),
        net=Money.sum((line.net for line in lines), currency),
    )


# --- legal recovery ---------------------------------------------------------------------------


class InvalidTransitionError(DomainError):
    """A legal case cannot move from its stage to the one asked for."""

    code = "invalid_transition"


class LegalStage(StrEnum):
    """Stages of a legal recovery case."""

    REFERRED = "referred"
    DEMAND_LETTER = "demand_letter"
    FILED = "filed"
    HEARING = "hearing"
    JUDGMENT = "judgment"
    ENFORCEMENT = "enforcement"
    SETTLEMENT = "settlement"
    CLOSED = "closed"


class Preservation(StrEnum):
    """Asset preservation beside the main track: requested, then granted or refused; released."""

    NONE = "none"
    REQUESTED = "requested"
    GRANTED = "granted"
    REFUSED = "refused"
    RELEASED = "released"


_ANYTIME: Final = frozenset({LegalStage.SETTLEMENT, LegalStage.CLOSED})

#: Forward moves of the main track; settlement and closing are open from every stage but closed.
LEGAL_TRANSITIONS: Final[dict[LegalStage, frozenset[LegalStage]]] = {
    LegalStage.REFERRED: frozenset({LegalStage.DEMAND_LETTER}) | _ANYTIME,
    LegalStage.DEMAND_LETTER: frozenset({LegalStage.FILED}) | _ANYTIME,
    LegalStage.FILED: frozenset({LegalStage.HEARING}) | _ANYTIME,
    LegalStage.HEARING: frozenset({LegalStage.JUDGMENT}) | _ANYTIME,
    LegalStage.JUDGMENT: frozenset({LegalStage.ENFORCEMENT}) | _ANYTIME,
    LegalStage.ENFORCEMENT: _ANYTIME,
    LegalStage.SETTLEMENT: frozenset({LegalStage.CLOSED}),
    LegalStage.CLOSED: frozenset(),
}

#: Preservation may be asked for once a demand has been made (pre-action preservation) and
#: until enforcement ends.
_PRESERVATION_STAGES: Final = frozenset(
    {
        LegalStage.DEMAND_LETTER,
        LegalStage.FILED,
        LegalStage.HEARING,
        LegalStage.JUDGMENT,
        LegalStage.ENFORCEMENT,
    }
)

PRESERVATION_TRANSITIONS: Final[dict[Preservation, frozenset[Preservation]]] = {
    Preservation.NONE: frozenset({Preservation.REQUESTED}),
    Preservation.REQUESTED: frozenset({Preservation.GRANTED, Preservation.REFUSED}),
    Preservation.GRANTED: frozenset({Preservation.RELEASED}),
    Preservation.REFUSED: frozenset({Preservation.REQUESTED}),
    Preservation.RELEASED: frozenset({Preservation.REQUESTED}),
}


@dataclass(frozen=True, slots=True)
class Judgment:
    """What a court awarded: the debt, the costs and the interest; ``costs_to_borrower`` when
    the judgment charges the lender's court and lawyer costs to the borrower."""

    amount: Money
    costs: Money
    interest: Money
    costs_to_borrower: bool

    def __post_init__(self) -> None:
        for part in (self.amount, self.costs, self.interest):
            if part.is_negative:
                raise InvalidArgumentError("a judgment's amounts cannot be negative")
        if len({self.amount.currency, self.costs.currency, self.interest.currency}) != 1:
            raise InvalidArgumentError("a judgment's amounts must share one currency")

    @property
    def total(self) -> Money:
        """Everything the borrower is ordered to pay."""
        return self.amount + self.costs + self.interest


@dataclass(frozen=True, slots=True)
class LegalState:
    """A legal case's stage and preservation, and its judgment once there is one."""

    stage: LegalStage = LegalStage.REFERRED
    preservation: Preservation = Preservation.NONE
    judgment: Judgment | None = None


def legal_transition(
    state: LegalState, to: LegalStage, *, judgment: Judgment | None = None
) -> LegalState:
    """The case after moving to ``to``; a judgment must come with its award, and nothing moves
    out of a closed case. Granted preservation must be released, and a pending request decided,
    before the case closes (a closed case's assets can no longer be held or let go)."""
    if to not in LEGAL_TRANSITIONS[state.stage]:
        raise InvalidTransitionError(f"a legal case cannot move from {state.stage} to {to}")
    if (to is LegalStage.JUDGMENT) != (judgment is not None):
        raise InvalidArgumentError(
            "a judgment needs its amount, costs and interest"
            if to is LegalStage.JUDGMENT
            else "only a judgment carries an award"
        )
    if to is LegalStage.CLOSED and state.preservation is Preservation.GRANTED:
        raise InvalidTransitionError("release the preserved assets before closing the case")
    if to is LegalStage.CLOSED and state.preservation is Preservation.REQUESTED:
        # Otherwise the court's later grant would leave assets held on a closed case.
        raise InvalidTransitionError(
            "record the decision on asset preservation before closing the case"
        )
    award = judgment or state.judgment
    return LegalState(stage=to, preservation=state.preservation, judgment=award)


def preservation_transition(state: LegalState, to: Preservation) -> LegalState:
    """The case after its asset preservation moves to ``to``."""
    if to not in PRESERVATION_TRANSITIONS[state.preservation]:
        raise InvalidTransitionError(
            f"asset preservation cannot move from {state.preservation} to {to}"
        )
    if to is Preservation.REQUESTED and state.stage not in _PRESERVATION_STAGES:
        raise InvalidTransitionError(f"asset preservation cannot be requested at {state.stage}")
    return LegalState(stage=state.stage, preservation=to, judgment=state.judgment)


# --- champion against challenger ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Interval:
    """An estimate with a 95% confidence interval."""

    estimate: float
    low: float
    high: float


_Z95: Final = 1.959963984540054


def proportion_interval(successes: int, trials: int) -> Interval | None:
    """Wilson's score interval for a proportion (None with no trials)."""
    if trials <= 0:
        return None
    if not 0 <= successes <= trials:
        raise InvalidArgumentError("successes must lie between 0 and the number of trials")
    p = successes / trials
    z2 = _Z95 * _Z95
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = _Z95 * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / (1 + z2 / trials)
    # At 0 or all successes the bound is exactly 0 or 1; the float difference can miss it by
    # an ulp and leave the estimate outside its own interval.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return Interval(p, low, high)


def mean_interval(values: Sequence[float]) -> Interval | None:
    """The mean and its normal-approximation interval (None with no values)."""
    n = len(values)
    if n == 0:
        return None
    mean = sum(values) / n
    if n == 1:
        return Interval(mean, mean, mean)
    variance = sum((v - mean) ** 2 for v in values) / (n - 1)
    half = _Z95 * math.sqrt(variance / n)
    return Interval(mean, mean - half, mean + half)
