"""Risk-based pricing: the annual rate a loan needs, built up from what it costs the lender.

``rate = funding cost + expected loss + operating cost + capital charge + margin``, each an
annual rate shown on its own:

- expected loss = PD x LGD, with the one-year PD read off the score's scale (``base_score``
  points at good:bad odds ``base_odds``, ``pdo`` points to double them), so
  ``PD = 1 / (1 + base_odds x 2 ^ ((score - base_score) / pdo))``;
- operating cost = a rate on the balance plus a fixed yearly cost per loan over the amount;
- capital charge = the capital held against the loan (a share of it) x the hurdle rate.

Everything is :class:`~decimal.Decimal`; rates are rounded half-up to a hundredth of a percent
(a basis point) for the answer, never before.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from tenor.core.errors import InvalidArgumentError
from tenor.core.money import Money

_BASIS_POINT = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class PricingPolicy:
    """The lender's costs and targets, as annual fractions (``0.03`` is 3%)."""

    funding_cost: Decimal = Decimal("0.030")
    lgd: Decimal = Decimal("0.45")
    operating_rate: Decimal = Decimal("0.010")
    operating_cost_per_loan: Decimal = Decimal("200")
    capital_ratio: Decimal = Decimal("0.08")
    hurdle_rate: Decimal = Decimal("0.15")
    margin: Decimal = Decimal("0.020")
    base_score: int = 600
    base_odds: Decimal = Decimal("50")
    pdo: Decimal = Decimal("20")

    def document(self) -> dict[str, str]:
        """The policy as decimal strings."""
        return {
            "funding_cost": str(self.funding_cost),
            "lgd": str(self.lgd),
            "operating_rate": str(self.operating_rate),
            "operating_cost_per_loan": str(self.operating_cost_per_loan),
            "capital_ratio": str(self.capital_ratio),
            "hurdle_rate": str(self.hurdle_rate),
            "margin": str(self.margin),
            "base_score": str(self.base_score),
            "base_odds": str(self.base_odds),
            "pdo": str(self.pdo),
        }


def pd_from_score(score: int, policy: PricingPolicy | None = None) -> Decimal:
    """The one-year probability of default a score stands for on the policy's scale."""
    policy = policy or PricingPolicy()
    with localcontext() as context:
        context.prec = 28
        exponent = (Decimal(score) - policy.base_score) / policy.pdo
        odds = policy.base_odds * (Decimal(2) ** exponent)
        return Decimal(1) / (1 + odds)


@dataclass(frozen=True, slots=True)
class Price:
    """A priced loan: each component of the rate and their sum, annual fractions."""

    score: int
    term_months: int
    amount: Money
    probability_of_default: Decimal
    funding_cost: Decimal
    expected_loss: Decimal
    operating_cost: Decimal
    capital_charge: Decimal
    margin: Decimal

    @property
    def rate(self) -> Decimal:
        """The annual rate: the sum of the components, rounded to a basis point."""
        total = (
            self.funding_cost
            + self.expected_loss
            + self.operating_cost
            + self.capital_charge
            + self.margin
        )
        return total.quantize(_BASIS_POINT, ROUND_HALF_UP)

    def document(self) -> dict[str, Any]:
        """The price as JSON: rates as decimal strings (fractions), rounded to a basis point."""

        def bp(value: Decimal) -> str:
            return str(value.quantize(_BASIS_POINT, ROUND_HALF_UP))

        return {
            "score": self.score,
            "term_months": self.term_months,
            "amount": str(self.amount.amount),
            "currency": self.amount.currency,
            "probability_of_default": str(self.probability_of_default.quantize(Decimal("1e-6"))),
            "components": {
                "funding_cost": bp(self.funding_cost),
                "expected_loss": bp(self.expected_loss),
                "operating_cost": bp(self.operating_cost),
                "capital_charge": bp(self.capital_charge),
                "margin": bp(self.margin),
            },
            "rate": str(self.rate),
        }


def price(
    *, score: int, term_months: int, amount: Money, policy: PricingPolicy | None = None
) -> Price:
    """The rate for a loan of ``amount`` over ``term_months`` to a borrower scoring ``score``."""
    policy = policy or PricingPolicy()
    if not 1 <= term_months <= 600:
        raise InvalidArgumentError(f"--term must be 1 to 600 months, got {term_months}")
    if not 0 <= score <= 1500:
        raise InvalidArgumentError(f"--score must be 0 to 1500, got {score}")
    if amount.minor <= 0:
        raise InvalidArgumentError("--amount must be greater than zero")
    probability = pd_from_score(score, policy)
    return Price(
        score=score,
        term_months=term_months,
        amount=amount,
        probability_of_default=probability,
        funding_cost=policy.funding_cost,
        expected_loss=probability * policy.lgd,
        operating_cost=policy.operating_rate + policy.operating_cost_per_loan / amount.amount,
        capital_charge=policy.capital_ratio * policy.hurdle_rate,
        margin=policy.margin,
    )
