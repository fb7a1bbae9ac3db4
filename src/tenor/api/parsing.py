"""Validated request text to domain values: amounts, rates, milestones.

The schemas have checked the shape (a decimal string); these check the meaning, raising the
domain errors the problem documents name: ``amount_not_positive``, ``amount_too_large``,
``amount_too_precise``, ``unknown_currency``, ``invalid_argument``.
"""

from __future__ import annotations

from decimal import Decimal

from tenor.actions.loans import AmountNotPositiveError
from tenor.api.problems import AmountTooLargeError
from tenor.api.schemas import MilestoneIn
from tenor.core.errors import InvalidArgumentError
from tenor.core.money import MAX_MINOR_UNITS, Money, exponent, to_decimal
from tenor.core.schedule import Milestone


def parse_money(
    text: str, currency: str, *, what: str = "amount", allow_zero: bool = False
) -> Money:
    """A positive (or, with ``allow_zero``, not negative) amount from a decimal string."""
    number = to_decimal(text, what=what)
    if number < 0 or (number == 0 and not allow_zero):
        problem = "must not be negative" if allow_zero else "must be greater than zero"
        raise AmountNotPositiveError(f"{what} {problem}, got {text}")
    places = exponent(currency)
    if number > Decimal(MAX_MINOR_UNITS).scaleb(-places):
        raise AmountTooLargeError(f"{what} {text} {currency} is beyond the largest Tenor books")
    return Money.of(number, currency)


def parse_percent(text: str, *, what: str) -> Decimal:
    """A percentage between 0 and 1000, as written (12 for 12%)."""
    number = to_decimal(text, what=what)
    if not 0 <= number <= 1000:
        raise InvalidArgumentError(f"{what} must be between 0 and 1000 (percent), got {text}")
    return number


def parse_milestones(milestones: list[MilestoneIn]) -> tuple[Milestone, ...]:
    """Core milestones; a share outside (0, 1] is refused by the core."""
    return tuple(
        Milestone(
            name=milestone.name,
            expected_date=milestone.expected_date,
            share=to_decimal(milestone.share, what=f"share of milestone {milestone.name!r}"),
        )
        for milestone in milestones
    )
