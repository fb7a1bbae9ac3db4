"""IFRS 9 expected credit loss of one loan: PD x LGD x EAD, discounted at the effective rate.

- Stage 1: losses from defaults in the next 12 months (or the remaining term, if shorter).
- Stage 2: losses from defaults over the loan's remaining life.
- Stage 3: the loan is credit-impaired: default has happened, ECL = LGD x EAD today.

A one-year PD ``p`` becomes a constant monthly hazard ``h = 1 - (1 - p) ^ (1/12)``; the chance
of defaulting in month ``t`` is ``(1 - h) ^ (t - 1) x h``. The exposure in month ``t`` is the
outstanding principal amortising in a straight line over the remaining months (plus interest
and charges already due, exposed from the start), and each month's loss is discounted at the
loan's effective annual rate to today. The result is rounded half-up to the minor unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Final

from tenor.core.errors import InvalidArgumentError
from tenor.core.money import Money, Rounding

_TWELVE_MONTHS: Final = 12


@dataclass(frozen=True, slots=True)
class EclPolicy:
    """PD and LGD by segment and the stage-2 PD uplift: the inputs a risk committee sets."""

    pd_12m: dict[str, Decimal]
    lgd: dict[str, Decimal]
    stage2_pd_multiplier: Decimal = Decimal("3")

    @classmethod
    def default(cls) -> EclPolicy:
        """Tenor's illustrative policy: unsecured consumer and enterprise segments."""
        return cls(
            pd_12m={"consumer": Decimal("0.030"), "enterprise": Decimal("0.015")},
            lgd={"consumer": Decimal("0.75"), "enterprise": Decimal("0.45")},
        )


def expected_credit_loss(
    *,
    stage: int,
    pd_12m: Decimal,
    lgd: Decimal,
    principal: Money,
    due: Money,
    annual_rate: Decimal,
    remaining_months: int,
) -> Money:
    """The ECL of one loan; ``due`` is interest and charges already owed beside ``principal``."""
    if stage not in (1, 2, 3):
        raise InvalidArgumentError(f"stage must be 1, 2 or 3, got {stage}")
    if not (0 <= pd_12m <= 1 and 0 <= lgd <= 1):
        raise InvalidArgumentError("PD and LGD must be between 0 and 1")
    if remaining_months < 0 or annual_rate < 0:
        raise InvalidArgumentError("remaining months and the rate must not be negative")
    currency = principal.currency
    exposure = principal.amount + due.amount
    with localcontext() as context:
        context.prec = 34
        if stage == 3 or pd_12m == 1:
            loss = lgd * exposure
        else:
            months = max(remaining_months, 1)
            horizon = min(months, _TWELVE_MONTHS) if stage == 1 else months
            monthly_pd = 1 - (1 - pd_12m) ** (Decimal(1) / _TWELVE_MONTHS)
            monthly_discount = (1 + annual_rate) ** (Decimal(1) / _TWELVE_MONTHS)
            survival = Decimal(1)
            loss = Decimal(0)
            for month in range(1, horizon + 1):
                defaulting = survival * monthly_pd
                survival -= defaulting
                ead = principal.amount * (months - month + 1) / months + due.amount
                loss += defaulting * lgd * ead / monthly_discount**month
    return Money.from_decimal(loss, currency, Rounding.HALF_UP)


def stage_pd(policy: EclPolicy, segment: str, stage: int) -> Decimal:
    """The one-year PD the policy gives a loan of ``segment`` in ``stage``."""
    base = policy.pd_12m[segment]
    if stage == 2:
        return min(Decimal(1), base * policy.stage2_pd_multiplier)
    if stage == 3:
        return Decimal(1)
    return base


def segment_of(borrower_kind: str) -> str:
    """The ECL segment of a borrower: enterprises apart from everyone else."""
    return "enterprise" if borrower_kind == "enterprise" else "consumer"
