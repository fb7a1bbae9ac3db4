"""Eligibility policies as validated documents, versioned per product.

A policy is data (a JSON body or YAML), checked here with pydantic and turned into the core's
:class:`~tenor.core.restructure.ReliefPolicy`. Amounts are decimal strings in the product's
currency, shares and rates in percent. A rule left out (``null``) is not applied. Every option
named under ``options`` is offered, with its defaults and limits; an option left out is not
offered, and eligibility says so.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tenor.core.account import LoanState
from tenor.core.calendar import add_months
from tenor.core.money import Money
from tenor.core.restructure import (
    DeferredInterest,
    Option,
    OptionLimits,
    Relief,
    ReliefPolicy,
)

DecimalText = Annotated[Decimal, Field(allow_inf_nan=False)]
Count = Annotated[int, Field(ge=1, le=600)]


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OptionDocument(_Document):
    """One option's defaults (what ``tenor restructure options`` proposes) and limits."""

    installments: Count | None = None
    max_installments: Count | None = None
    interest: DeferredInterest = DeferredInterest.CAPITALISE
    term: Count | None = None
    installment_amount: DecimalText | None = Field(default=None, gt=0)
    annual_rate_percent: DecimalText | None = Field(default=None, ge=0, le=1000)
    min_annual_rate_percent: DecimalText | None = Field(default=None, ge=0, le=1000)
    discount_percent: DecimalText | None = Field(default=None, ge=0, le=100)
    max_discount_percent: DecimalText | None = Field(default=None, ge=0, le=100)
    deadline_days: int = Field(default=30, ge=1, le=366)
    slip_months: int = Field(default=3, ge=1, le=120)


def _default_options() -> dict[Option, OptionDocument]:
    return {
        Option.DEFERRAL: OptionDocument(installments=2, max_installments=3),
        Option.TERM_EXTENSION: OptionDocument(installments=6, max_installments=12),
        Option.REAMORTISATION: OptionDocument(),
        Option.ARREARS_PLAN: OptionDocument(installments=3, max_installments=6),
        Option.LOWER_RATE: OptionDocument(
            installments=3, max_installments=6, annual_rate_percent=Decimal(6)
        ),
        Option.SETTLEMENT: OptionDocument(
            discount_percent=Decimal(20), max_discount_percent=Decimal(50)
        ),
        Option.MILESTONE_RESCHEDULE: OptionDocument(slip_months=3),
    }


class ReliefPolicyDocument(_Document):
    """A product's relief policy: the eligibility rules, the options and their limits.

    Every count and day limit has a ceiling: a policy is logged in the transparency log as
    RFC 8785 JSON, which carries integers only up to 2**53.
    """

    currency: str = Field(min_length=3, max_length=3)
    min_credit_score: int | None = Field(default=600, ge=0, le=1000)
    max_score_age_days: int | None = Field(default=365, ge=0, le=3660)
    max_days_past_due: int | None = Field(default=90, ge=0, le=3660)
    min_on_time_payments_12m: int | None = Field(default=None, ge=0, le=366)
    max_restructurings_12m: int | None = Field(default=1, ge=0, le=100)
    max_restructurings_ever: int | None = Field(default=2, ge=0, le=100)
    min_paid_share_percent: DecimalText | None = Field(default=None, ge=0, le=100)
    hardship_evidence_above: DecimalText | None = Field(default=None, ge=0)
    max_debt_to_income_percent: DecimalText | None = Field(default=None, gt=0, le=1000)
    approval_above: DecimalText | None = Field(default=None, ge=0)
    always_approve: list[Option] = Field(default_factory=lambda: [Option.SETTLEMENT])
    watch_days: int = Field(default=180, ge=0, le=3660)
    offer_valid_days: int = Field(default=14, ge=1, le=366)
    plan_broken_after_days: int = Field(default=30, ge=1, le=3660)
    options: dict[Option, OptionDocument] = Field(default_factory=_default_options)

    @model_validator(mode="after")
    def _amounts_in_currency(self) -> ReliefPolicyDocument:
        for name in ("hardship_evidence_above", "approval_above"):
            value = getattr(self, name)
            if value is not None:
                Money.of(value, self.currency)  # refuses an unknown currency or too many places
        return self

    def money(self, value: Decimal | None) -> Money | None:
        """An amount of the document in its currency."""
        return None if value is None else Money.of(value, self.currency)

    def relief(self, option: Option, state: LoanState, day: dt.date) -> Relief:
        """The option with the document's default parameters for this loan on ``day``."""
        spec = self.options.get(option, OptionDocument())
        rate = spec.annual_rate_percent
        discount = spec.discount_percent
        dates: tuple[dt.date, ...] = ()
        if option is Option.MILESTONE_RESCHEDULE:
            # Without a progress report, the proposal slips every milestone still ahead.
            dates = tuple(
                add_months(item.due_date, spec.slip_months)
                for item in state.installments
                if item.due_date > day and item.unpaid_principal.is_positive
            )
        return Relief(
            option=option,
            installments=spec.installments,
            interest=spec.interest,
            term=spec.term,
            installment_amount=self.money(spec.installment_amount),
            annual_rate=None if rate is None else rate / 100,
            discount=None if discount is None else discount / 100,
            deadline=day + dt.timedelta(days=spec.deadline_days)
            if option is Option.SETTLEMENT
            else None,
            milestone_dates=dates,
        )

    def policy(self, state: LoanState, day: dt.date) -> ReliefPolicy:
        """The core policy for one loan on ``day`` (defaults depend on the loan and date)."""

        def percent(value: Decimal | None) -> Decimal | None:
            return None if value is None else value / 100

        options = {
            option: OptionLimits(
                default=self.relief(option, state, day),
                max_installments=spec.max_installments,
                min_annual_rate=percent(spec.min_annual_rate_percent),
                max_discount=percent(spec.max_discount_percent),
            )
            for option, spec in self.options.items()
        }
        return ReliefPolicy(
            options=options,
            min_credit_score=self.min_credit_score,
            max_score_age_days=self.max_score_age_days,
            max_days_past_due=self.max_days_past_due,
            min_on_time_payments_12m=self.min_on_time_payments_12m,
            max_restructurings_12m=self.max_restructurings_12m,
            max_restructurings_ever=self.max_restructurings_ever,
            min_paid_share=percent(self.min_paid_share_percent),
            hardship_evidence_above=self.money(self.hardship_evidence_above),
            max_debt_to_income=percent(self.max_debt_to_income_percent),
            approval_above=self.money(self.approval_above),
            always_approve=frozenset(self.always_approve),
            watch_days=self.watch_days,
        )

    def document(self) -> dict[str, Any]:
        """The document as JSON, for storing."""
        return self.model_dump(mode="json")


def default_policy(currency: str) -> ReliefPolicyDocument:
    """The policy of a product that has none of its own: every option, the default rules."""
    return ReliefPolicyDocument(currency=currency)
