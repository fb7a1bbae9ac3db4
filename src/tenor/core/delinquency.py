"""Delinquency: days past due, buckets, penalty interest, 5-level class and IFRS 9 stage.

Pure functions of a loan's unpaid installments and a business date; nothing here reads a clock.

Days past due (DPD) count from the due date of the oldest installment still unpaid beyond the
arrears tolerance. An installment is not past due on its due date (DPD 0) and is one day past due
the day after (DPD 1).

The tolerance is one allowance for the whole loan, as Fineract's "in arrears tolerance" is: it
is compared with the total overdue amount, not with each installment. A per-installment rule
would let a borrower short-pay every installment by just under the tolerance and never fall
behind; a lender expects those shortfalls to add up. The allowance is spent on the oldest
overdue amounts first, so a small residual left on an old installment neither makes the loan
delinquent nor ages it: the loan is as many days past due as the oldest installment at which
the overdue amounts, summed from the oldest, exceed the tolerance. An overdue total equal to
the tolerance is still tolerated.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum
from itertools import pairwise
from typing import Final

from tenor.core.errors import CurrencyMismatchError, InvalidArgumentError
from tenor.core.money import Money, Rounding


def _check_whole(value: object, what: str, minimum: int = 0) -> None:
    # bool is an int subclass; True as a day count is a configuration mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError(f"{what} must be a whole number, not {value!r}")
    if value < minimum:
        raise InvalidArgumentError(f"{what} must be at least {minimum}, not {value}")


def _check_dpd(dpd: int) -> None:
    _check_whole(dpd, "days past due")


# ---------------------------------------------------------------------------------------------
# Days past due


@dataclass(frozen=True, slots=True)
class UnpaidInstallment:
    """What is still unpaid of one installment, and when it fell or falls due."""

    due_date: dt.date
    unpaid: Money

    def __post_init__(self) -> None:
        if self.unpaid.is_negative:
            raise InvalidArgumentError(
                f"the unpaid amount of the installment due {self.due_date} must not be "
                f"negative, not {self.unpaid}"
            )


def _check_tolerance(tolerance: Money) -> None:
    if tolerance.is_negative:
        raise InvalidArgumentError(f"the arrears tolerance must not be negative, not {tolerance}")


def _in_currency(
    installments: Iterable[UnpaidInstallment], currency: str
) -> tuple[UnpaidInstallment, ...]:
    result = tuple(installments)
    for installment in result:
        if installment.unpaid.currency != currency:
            raise CurrencyMismatchError(
                f"the installment due {installment.due_date} is in "
                f"{installment.unpaid.currency}, the tolerance in {currency}"
            )
    return result


def oldest_past_due_date(
    unpaid: Iterable[UnpaidInstallment], business_date: dt.date, tolerance: Money
) -> dt.date | None:
    """The due date DPD count from, or ``None`` when the loan is not past due beyond tolerance.

    Installments due before ``business_date`` are summed oldest first; the answer is the due
    date of the installment at which that sum first exceeds ``tolerance`` (see the module
    docstring for why). Installments may come in any order; all must be in the tolerance's
    currency.
    """
    _check_tolerance(tolerance)
    installments = sorted(_in_currency(unpaid, tolerance.currency), key=lambda i: i.due_date)
    overdue = Money.zero(tolerance.currency)
    for installment in installments:
        if installment.due_date >= business_date:
            break
        overdue = overdue + installment.unpaid
        if overdue > tolerance:
            return installment.due_date
    return None


def days_past_due(
    unpaid: Iterable[UnpaidInstallment], business_date: dt.date, tolerance: Money
) -> int:
    """Days from the oldest installment unpaid beyond ``tolerance`` to ``business_date``."""
    oldest = oldest_past_due_date(unpaid, business_date, tolerance)
    return 0 if oldest is None else (business_date - oldest).days


# ---------------------------------------------------------------------------------------------
# Buckets


@dataclass(frozen=True, slots=True)
class Bucket:
    """A named band of days past due, ``min_dpd`` to ``max_dpd`` inclusive (``None``: no end)."""

    name: str
    min_dpd: int
    max_dpd: int | None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidArgumentError(f"a bucket needs a non-empty name, not {self.name!r}")
        _check_whole(self.min_dpd, f"min_dpd of bucket {self.name!r}")
        if self.max_dpd is not None:
            _check_whole(self.max_dpd, f"max_dpd of bucket {self.name!r}", self.min_dpd)

    def contains(self, dpd: int) -> bool:
        """Whether ``dpd`` days past due fall in this bucket."""
        return self.min_dpd <= dpd and (self.max_dpd is None or dpd <= self.max_dpd)


_BAND_KEYS: Final = frozenset({"name", "min_dpd", "max_dpd"})


def _bucket_from_band(index: int, band: Mapping[str, object]) -> Bucket:
    where = f"bucket band {index}"
    if not isinstance(band, Mapping):
        raise InvalidArgumentError(f"{where} must be a mapping, not {band!r}")
    # An unknown key is most often a typo ("max" for "max_dpd") that would silently make the
    # band open-ended, so it is refused rather than ignored.
    unknown = sorted(set(band) - _BAND_KEYS)
    if unknown:
        raise InvalidArgumentError(
            f"{where} has unknown keys {unknown}; a band has name, min_dpd and max_dpd"
        )
    for key in ("name", "min_dpd"):
        if key not in band:
            raise InvalidArgumentError(f"{where} has no {key}")
    name, min_dpd, max_dpd = band["name"], band["min_dpd"], band.get("max_dpd")
    if not isinstance(name, str):
        raise InvalidArgumentError(f"{where}: name must be a string, not {name!r}")
    if isinstance(min_dpd, bool) or not isinstance(min_dpd, int):
        raise InvalidArgumentError(
            f"{where} ({name!r}): min_dpd must be a whole number, not {min_dpd!r}"
        )
    if max_dpd is not None and (isinstance(max_dpd, bool) or not isinstance(max_dpd, int)):
        raise InvalidArgumentError(
            f"{where} ({name!r}): max_dpd must be a whole number or null, not {max_dpd!r}"
        )
    return Bucket(name, min_dpd, max_dpd)


@dataclass(frozen=True, slots=True)
class BucketScheme:
    """Buckets covering every DPD exactly once: from 0, contiguous, the last open-ended."""

    name: str
    buckets: tuple[Bucket, ...]

    def __post_init__(self) -> None:
        scheme = f"bucket scheme {self.name!r}"
        if not self.buckets:
            raise InvalidArgumentError(f"{scheme} has no buckets")
        names = [bucket.name for bucket in self.buckets]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise InvalidArgumentError(f"{scheme} names buckets {duplicates} more than once")
        first = self.buckets[0]
        if first.min_dpd != 0:
            raise InvalidArgumentError(
                f"{scheme}: the first bucket {first.name!r} starts at {first.min_dpd}; "
                "it must start at 0"
            )
        for previous, bucket in pairwise(self.buckets):
            if previous.max_dpd is None:
                raise InvalidArgumentError(
                    f"{scheme}: bucket {previous.name!r} is open-ended but is not the last"
                )
            if bucket.min_dpd <= previous.max_dpd:
                raise InvalidArgumentError(
                    f"{scheme}: bucket {bucket.name!r} starts at {bucket.min_dpd}, which "
                    f"overlaps {previous.name!r} ending at {previous.max_dpd}"
                )
            if bucket.min_dpd > previous.max_dpd + 1:
                raise InvalidArgumentError(
                    f"{scheme}: no bucket covers {previous.max_dpd + 1}..{bucket.min_dpd - 1} "
                    f"days past due, between {previous.name!r} and {bucket.name!r}"
                )
        last = self.buckets[-1]
        if last.max_dpd is not None:
            raise InvalidArgumentError(
                f"{scheme}: the last bucket {last.name!r} ends at {last.max_dpd}; it must be "
                "open-ended (max_dpd None) so that every DPD has a bucket"
            )

    @classmethod
    def from_config(cls, name: str, bands: Sequence[Mapping[str, object]]) -> BucketScheme:
        """A scheme from configuration data: a list of ``{name, min_dpd, max_dpd}`` bands.

        ``max_dpd`` is omitted or null on the last, open-ended band.
        """
        if isinstance(bands, str | bytes) or not isinstance(bands, Sequence):
            raise InvalidArgumentError(
                f"bucket scheme {name!r} must be a list of bands, not {type(bands).__name__}"
            )
        return cls(name, tuple(_bucket_from_band(i, band) for i, band in enumerate(bands)))

    def to_config(self) -> list[dict[str, object]]:
        """The scheme as configuration data, the inverse of :meth:`from_config`."""
        return [
            {"name": bucket.name, "min_dpd": bucket.min_dpd, "max_dpd": bucket.max_dpd}
            for bucket in self.buckets
        ]


def bucket_for(dpd: int, scheme: BucketScheme) -> Bucket:
    """The bucket of ``scheme`` that ``dpd`` days past due fall in."""
    _check_dpd(dpd)
    # A valid scheme starts at 0 and is contiguous, so the last bucket starting at or before
    # dpd is the one containing it.
    return scheme.buckets[bisect_right(scheme.buckets, dpd, key=lambda b: b.min_dpd) - 1]


#: The monthly buckets of Chinese collections: M0 current, M1 1-30 ... M6 151-180, M6+ beyond.
CHINESE_BUCKETS: Final = BucketScheme(
    "chinese",
    (
        Bucket("M0", 0, 0),
        Bucket("M1", 1, 30),
        Bucket("M2", 31, 60),
        Bucket("M3", 61, 90),
        Bucket("M4", 91, 120),
        Bucket("M5", 121, 150),
        Bucket("M6", 151, 180),
        Bucket("M6+", 181, None),
    ),
)

#: US-style 30-day buckets, where under 30 days late still counts as current.
US_BUCKETS: Final = BucketScheme(
    "us",
    (
        Bucket("Current", 0, 29),
        Bucket("30-59", 30, 59),
        Bucket("60-89", 60, 89),
        Bucket("90-119", 90, 119),
        Bucket("120-149", 120, 149),
        Bucket("150-179", 150, 179),
        Bucket("180+", 180, None),
    ),
)


# ---------------------------------------------------------------------------------------------
# Penalty interest


@dataclass(frozen=True, slots=True)
class PenaltyRule:
    """Penalty interest at ``daily_rate`` on overdue amounts once ``grace_days`` have passed.

    ``daily_rate`` is a fraction per day (``Decimal("0.0005")`` is 0.05% a day). Overdue
    principal always bears penalty; overdue interest too when ``include_interest`` (compound
    penalty, as PBOC rules allow on unpaid interest). Grace runs from each installment's own
    due date: an installment settled within ``grace_days`` days past due bears no penalty.
    Once grace is exceeded, ``charge_from_due_date`` charges every day since the due date, as
    Chinese lenders commonly do; otherwise penalty runs only from day ``grace_days + 1``.
    """

    daily_rate: Decimal
    grace_days: int
    include_interest: bool = False
    rounding: Rounding = Rounding.HALF_UP
    charge_from_due_date: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.daily_rate, Decimal) or not self.daily_rate.is_finite():
            raise InvalidArgumentError(
                f"the penalty daily_rate must be a finite Decimal, not {self.daily_rate!r}"
            )
        # A rate of 1 or more is 100% a day: almost surely a percentage or an annual rate
        # entered where a daily fraction belongs.
        if not Decimal(0) <= self.daily_rate < Decimal(1):
            raise InvalidArgumentError(
                f"the penalty daily_rate must be a fraction per day from 0 up to 1 "
                f"(0.0005 is 0.05% a day), not {self.daily_rate}"
            )
        _check_whole(self.grace_days, "penalty grace_days")


#: A common Chinese consumer-lending penalty: 0.05% a day on overdue principal and interest,
#: three days' grace, charged from the due date once grace is exceeded.
DEFAULT_PENALTY_RULE: Final = PenaltyRule(
    daily_rate=Decimal("0.0005"),
    grace_days=3,
    include_interest=True,
    rounding=Rounding.HALF_UP,
    charge_from_due_date=True,
)


@dataclass(frozen=True, slots=True)
class OverdueInstallment:
    """The overdue principal and interest of one installment, and its due date."""

    due_date: dt.date
    principal: Money
    interest: Money

    def __post_init__(self) -> None:
        if self.principal.currency != self.interest.currency:
            raise CurrencyMismatchError(
                f"the installment due {self.due_date} has principal in "
                f"{self.principal.currency} and interest in {self.interest.currency}"
            )
        if self.principal.is_negative or self.interest.is_negative:
            raise InvalidArgumentError(
                f"the overdue amounts of the installment due {self.due_date} must not be "
                f"negative, not principal {self.principal} and interest {self.interest}"
            )


def _chargeable_days(due_date: dt.date, after: dt.date, through: dt.date, rule: PenaltyRule) -> int:
    """Day-units of penalty an installment bears over the days ``after`` < day <= ``through``."""
    dpd_before = (after - due_date).days
    dpd_through = (through - due_date).days
    # Days up to the end of grace never bear penalty on their own day.
    charged_from = max(dpd_before, rule.grace_days)
    if dpd_through <= charged_from:
        return 0
    days = dpd_through - charged_from
    if rule.charge_from_due_date and dpd_before <= rule.grace_days:
        # The day grace is exceeded falls in this range: the grace days are charged then.
        days += rule.grace_days
    return days


def penalty_for_days(
    overdue: Iterable[OverdueInstallment],
    *,
    after: dt.date,
    through: dt.date,
    rule: PenaltyRule,
    currency: str,
) -> Money:
    """The penalty accruing over the business dates ``after`` < day <= ``through``.

    Each day bears ``rule.daily_rate`` times each installment's penalty base (overdue principal,
    plus overdue interest when ``rule.include_interest``) once that installment is past grace.
    The amounts are taken as constant over the range (split the range where a payment changes
    them), and days charged back when grace is exceeded are charged on the amounts then
    overdue. The exact total is rounded once, with ``rule.rounding``, to the minor unit of
    ``currency``; so consecutive ranges can differ from one whole range by that rounding.
    """
    if through < after:
        raise InvalidArgumentError(f"penalty range ends {through}, before its start {after}")
    base_days = 0
    for installment in overdue:
        if installment.principal.currency != currency:
            raise CurrencyMismatchError(
                f"the installment due {installment.due_date} is in "
                f"{installment.principal.currency}, the penalty in {currency}"
            )
        base = installment.principal.minor
        if rule.include_interest:
            base += installment.interest.minor
        base_days += base * _chargeable_days(installment.due_date, after, through, rule)
    # Minor units times days is an exact integer; the rate is applied and rounded once.
    return Money(base_days, currency).scale(rule.daily_rate, rule.rounding)


def penalty_for_day(
    overdue: Iterable[OverdueInstallment], day: dt.date, rule: PenaltyRule, *, currency: str
) -> Money:
    """The penalty the daily close books for business date ``day``.

    On the day an installment's grace is exceeded this includes the grace days charged back
    when ``rule.charge_from_due_date``.
    """
    return penalty_for_days(
        overdue, after=day - dt.timedelta(days=1), through=day, rule=rule, currency=currency
    )


# ---------------------------------------------------------------------------------------------
# Five-level classification


class LoanClass(IntEnum):
    """The five-level loan classification (五级分类), from best (1) to worst (5)."""

    NORMAL = 1
    SPECIAL_MENTION = 2
    SUBSTANDARD = 3
    DOUBTFUL = 4
    LOSS = 5

    @property
    def label_zh(self) -> str:
        """The regulator's Chinese name, e.g. 关注."""
        return _CLASS_LABELS[self][0]

    @property
    def label_en(self) -> str:
        """The English name, e.g. Special mention."""
        return _CLASS_LABELS[self][1]


_CLASS_LABELS: Final[dict[LoanClass, tuple[str, str]]] = {
    LoanClass.NORMAL: ("正常", "Normal"),
    LoanClass.SPECIAL_MENTION: ("关注", "Special mention"),
    LoanClass.SUBSTANDARD: ("次级", "Substandard"),
    LoanClass.DOUBTFUL: ("可疑", "Doubtful"),
    LoanClass.LOSS: ("损失", "Loss"),
}


@dataclass(frozen=True, slots=True)
class ClassificationThresholds:
    """The first DPD of each class below Normal; DPD 0 is always Normal."""

    special_mention_from: int = 1
    substandard_from: int = 91
    doubtful_from: int = 181
    loss_from: int = 361

    def __post_init__(self) -> None:
        values = (
            ("special_mention_from", self.special_mention_from),
            ("substandard_from", self.substandard_from),
            ("doubtful_from", self.doubtful_from),
            ("loss_from", self.loss_from),
        )
        for what, value in values:
            _check_whole(value, f"classification threshold {what}", 1)
        starts = [value for _, value in values]
        if starts != sorted(set(starts)):
            shown = " < ".join(f"{what}={value}" for what, value in values)
            raise InvalidArgumentError(f"classification thresholds must rise strictly: {shown}")


#: 正常 at 0 DPD, 关注 1-90, 次级 91-180, 可疑 181-360, 损失 beyond.
DEFAULT_CLASSIFICATION: Final = ClassificationThresholds()


def classify(
    dpd: int,
    *,
    restructured: bool = False,
    thresholds: ClassificationThresholds = DEFAULT_CLASSIFICATION,
) -> LoanClass:
    """The five-level class of a loan ``dpd`` days past due; restructured is at least 关注."""
    _check_dpd(dpd)
    if dpd >= thresholds.loss_from:
        by_dpd = LoanClass.LOSS
    elif dpd >= thresholds.doubtful_from:
        by_dpd = LoanClass.DOUBTFUL
    elif dpd >= thresholds.substandard_from:
        by_dpd = LoanClass.SUBSTANDARD
    elif dpd >= thresholds.special_mention_from:
        by_dpd = LoanClass.SPECIAL_MENTION
    else:
        by_dpd = LoanClass.NORMAL
    return max(by_dpd, LoanClass.SPECIAL_MENTION) if restructured else by_dpd


# ---------------------------------------------------------------------------------------------
# IFRS 9 stage


class Stage(IntEnum):
    """IFRS 9 impairment stage: performing, significant increase in credit risk, impaired."""

    STAGE_1 = 1
    STAGE_2 = 2
    STAGE_3 = 3


@dataclass(frozen=True, slots=True)
class StageThresholds:
    """The first DPD of stages 2 and 3; the defaults are IFRS 9's 30 and 90 DPD presumptions."""

    stage_2_from: int = 31
    stage_3_from: int = 91

    def __post_init__(self) -> None:
        _check_whole(self.stage_2_from, "stage threshold stage_2_from", 1)
        _check_whole(self.stage_3_from, "stage threshold stage_3_from", 1)
        if self.stage_3_from <= self.stage_2_from:
            raise InvalidArgumentError(
                f"stage thresholds must rise strictly: stage_2_from={self.stage_2_from} < "
                f"stage_3_from={self.stage_3_from}"
            )


#: Stage 2 beyond 30 DPD, stage 3 beyond 90.
DEFAULT_STAGES: Final = StageThresholds()


def ifrs9_stage(
    dpd: int,
    *,
    restructured: bool,
    watchlist: bool,
    written_off: bool,
    thresholds: StageThresholds = DEFAULT_STAGES,
) -> Stage:
    """The IFRS 9 stage: 3 when impaired or written off, 2 on a significant increase in risk."""
    _check_dpd(dpd)
    if written_off or dpd >= thresholds.stage_3_from:
        return Stage.STAGE_3
    if restructured or watchlist or dpd >= thresholds.stage_2_from:
        return Stage.STAGE_2
    return Stage.STAGE_1


# ---------------------------------------------------------------------------------------------
# Policy and assessment


@dataclass(frozen=True, slots=True)
class DelinquencyPolicy:
    """A product's delinquency configuration.

    The tolerance has no default because it is an amount in the loan's currency; use
    ``Money.zero(currency)`` for none.
    """

    tolerance: Money
    buckets: BucketScheme = CHINESE_BUCKETS
    classification: ClassificationThresholds = DEFAULT_CLASSIFICATION
    stages: StageThresholds = DEFAULT_STAGES
    penalty: PenaltyRule = DEFAULT_PENALTY_RULE

    def __post_init__(self) -> None:
        _check_tolerance(self.tolerance)


@dataclass(frozen=True, slots=True)
class DelinquencyStatus:
    """Where a loan stands on a business date."""

    days_past_due: int
    bucket: Bucket
    loan_class: LoanClass
    stage: Stage
    #: Everything due before the business date and unpaid, tolerated residuals included.
    overdue_amount: Money
    #: The due date DPD count from; ``None`` when not past due beyond tolerance.
    oldest_unpaid_due_date: dt.date | None


def assess(
    unpaid: Iterable[UnpaidInstallment],
    business_date: dt.date,
    policy: DelinquencyPolicy,
    *,
    restructured: bool = False,
    watchlist: bool = False,
    written_off: bool = False,
) -> DelinquencyStatus:
    """DPD, bucket, five-level class, IFRS 9 stage and overdue amount of one loan.

    ``restructured`` is data the caller passes: true while a restructured loan is under watch
    (:func:`tenor.core.restructure.under_watch`), which keeps it at least 关注 and stage 2.
    """
    currency = policy.tolerance.currency
    installments = _in_currency(unpaid, currency)
    oldest = oldest_past_due_date(installments, business_date, policy.tolerance)
    dpd = 0 if oldest is None else (business_date - oldest).days
    overdue = Money.sum((i.unpaid for i in installments if i.due_date < business_date), currency)
    return DelinquencyStatus(
        days_past_due=dpd,
        bucket=bucket_for(dpd, policy.buckets),
        loan_class=classify(dpd, restructured=restructured, thresholds=policy.classification),
        stage=ifrs9_stage(
            dpd,
            restructured=restructured,
            watchlist=watchlist,
            written_off=written_off,
            thresholds=policy.stages,
        ),
        overdue_amount=overdue,
        oldest_unpaid_due_date=oldest,
    )
