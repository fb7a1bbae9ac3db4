"""Loan products as validated documents: the configurable parts of the ledger core.

A product is data (YAML or a JSON body), checked here with pydantic and turned into the core's
records: the terms of a loan, the account rules and the delinquency policy.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tenor.core.account import AccountRules, OverpaymentPolicy
from tenor.core.allocation import WATERFALLS, FutureOrder, Waterfall
from tenor.core.calendar import BusinessDayConvention, DayCount, Frequency, HolidayCalendar
from tenor.core.delinquency import (
    CHINESE_BUCKETS,
    US_BUCKETS,
    BucketScheme,
    ClassificationThresholds,
    DelinquencyPolicy,
    PenaltyRule,
    StageThresholds,
)
from tenor.core.errors import DomainError
from tenor.core.money import CURRENCY_EXPONENTS, Money, Rounding
from tenor.core.schedule import GraceTreatment, InterestMethod, LoanTerms, Method, Milestone

DecimalText = Annotated[Decimal, Field(allow_inf_nan=False)]


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PenaltyDocument(_Document):
    """Penalty interest: a daily rate in percent on overdue amounts after a grace."""

    daily_rate_percent: DecimalText = Field(default=Decimal("0.05"), ge=0, lt=100)
    grace_days: int = Field(default=3, ge=0, le=365)
    include_interest: bool = True
    charge_from_due_date: bool = True


class BucketBand(_Document):
    """One band of days past due."""

    name: str = Field(min_length=1, max_length=16)
    min_dpd: int = Field(ge=0)
    max_dpd: int | None = Field(default=None, ge=0)


class ClassificationDocument(_Document):
    """The first DPD of each class below 正常 (normal)."""

    special_mention_from: int = 1
    substandard_from: int = 91
    doubtful_from: int = 181
    loss_from: int = 361


class StageDocument(_Document):
    """The first DPD of IFRS 9 stages 2 and 3."""

    stage_2_from: int = 31
    stage_3_from: int = 91


class ProductConfig(_Document):
    """Everything a product decides about its loans."""

    currency: str = Field(min_length=3, max_length=3)
    method: Method = Method.ANNUITY
    interest_method: InterestMethod = InterestMethod.DECLINING
    annual_rate_percent: DecimalText = Field(ge=0, le=1000)
    frequency: str = "monthly"
    terms: list[Annotated[int, Field(ge=1, le=600)]] = Field(
        default_factory=lambda: [3, 6, 9, 12, 18, 24]
    )
    min_principal: DecimalText | None = Field(default=None, gt=0)
    max_principal: DecimalText | None = Field(default=None, gt=0)
    day_count: DayCount = DayCount.ACT_365F
    daily_interest: bool = False
    rounding: Rounding = Rounding.HALF_EVEN
    installment_multiple: DecimalText | None = Field(default=None, gt=0)
    upfront_fee: DecimalText | None = Field(default=None, ge=0)
    installment_fee: DecimalText | None = Field(default=None, ge=0)
    grace_principal: int = Field(default=0, ge=0)
    grace_interest: int = Field(default=0, ge=0)
    interest_grace_treatment: GraceTreatment = GraceTreatment.DEFER
    holiday_calendar: Literal["CN", "US"] | None = None
    business_day: BusinessDayConvention = BusinessDayConvention.UNADJUSTED
    waterfall: str | list[str] = "penalty-fee-interest-principal"
    future_order: FutureOrder = FutureOrder.NEXT_FIRST
    overpayment: OverpaymentPolicy = OverpaymentPolicy.CREDIT_BALANCE
    arrears_tolerance: DecimalText = Field(default=Decimal(0), ge=0)
    buckets: Literal["chinese", "us"] | list[BucketBand] = "chinese"
    penalty: PenaltyDocument = PenaltyDocument()
    classification: ClassificationDocument = ClassificationDocument()
    stages: StageDocument = StageDocument()

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, currency: str) -> str:
        if currency not in CURRENCY_EXPONENTS:
            raise ValueError(f"unknown currency {currency!r}")
        return currency

    @field_validator("frequency")
    @classmethod
    def _known_frequency(cls, frequency: str) -> str:
        Frequency.parse(frequency)
        return frequency

    @model_validator(mode="after")
    def _consistent(self) -> ProductConfig:
        # Build every core record once, so that a bad product is refused when it is created
        # rather than when its first loan is disbursed.
        try:
            self.account_rules()
            self.delinquency_policy()
            for amount in (self.installment_multiple, self.upfront_fee, self.installment_fee):
                if amount is not None:
                    Money.of(amount, self.currency)
        except DomainError as error:
            raise ValueError(error.message) from None
        if (
            self.min_principal is not None
            and self.max_principal is not None
            and self.min_principal > self.max_principal
        ):
            raise ValueError("min_principal is above max_principal")
        return self

    def waterfall_rule(self) -> Waterfall:
        """The payment waterfall the product names or lists."""
        if isinstance(self.waterfall, str):
            if self.waterfall not in WATERFALLS:
                raise ValueError(
                    f"unknown waterfall {self.waterfall!r}; use one of {', '.join(WATERFALLS)} "
                    "or a list of rules"
                )
            return WATERFALLS[self.waterfall]
        return Waterfall.from_rules("custom", self.waterfall, self.future_order)

    def account_rules(self) -> AccountRules:
        """How events change the product's loan accounts."""
        return AccountRules(waterfall=self.waterfall_rule(), overpayment=self.overpayment)

    def bucket_scheme(self) -> BucketScheme:
        """The product's days-past-due buckets."""
        if self.buckets == "chinese":
            return CHINESE_BUCKETS
        if self.buckets == "us":
            return US_BUCKETS
        return BucketScheme.from_config("custom", [band.model_dump() for band in self.buckets])

    def delinquency_policy(self) -> DelinquencyPolicy:
        """Tolerance, buckets, penalty, classification and stages of the product's loans."""
        return DelinquencyPolicy(
            tolerance=Money.of(self.arrears_tolerance, self.currency),
            buckets=self.bucket_scheme(),
            classification=ClassificationThresholds(**self.classification.model_dump()),
            stages=StageThresholds(**self.stages.model_dump()),
            penalty=PenaltyRule(
                daily_rate=self.penalty.daily_rate_percent / 100,
                grace_days=self.penalty.grace_days,
                include_interest=self.penalty.include_interest,
                rounding=Rounding.HALF_UP,
                charge_from_due_date=self.penalty.charge_from_due_date,
            ),
        )

    def loan_terms(
        self,
        *,
        principal: Money,
        term: int,
        start: dt.date,
        annual_rate_percent: Decimal | None = None,
        first_due: dt.date | None = None,
        milestones: tuple[Milestone, ...] = (),
        stepped_principal: tuple[Money, ...] = (),
    ) -> LoanTerms:
        """The terms of one loan of this product; raises a DomainError when they break it."""
        if principal.currency != self.currency:
            raise ValueError(f"the product lends in {self.currency}, not {principal.currency}")
        if term not in self.terms and self.method not in (Method.MILESTONE, Method.STEPPED):
            raise ValueError(
                f"term {term} is not offered; this product offers {', '.join(map(str, self.terms))}"
            )
        amount = principal.amount
        if self.min_principal is not None and amount < self.min_principal:
            raise ValueError(f"principal {principal} is below the product's {self.min_principal}")
        if self.max_principal is not None and amount > self.max_principal:
            raise ValueError(f"principal {principal} is above the product's {self.max_principal}")
        rate = self.annual_rate_percent if annual_rate_percent is None else annual_rate_percent

        def money(value: Decimal | None) -> Money | None:
            return None if value is None else Money.of(value, self.currency)

        return LoanTerms(
            principal=principal,
            annual_rate=rate / 100,
            term=term,
            frequency=Frequency.parse(self.frequency),
            start=start,
            method=self.method,
            interest_method=self.interest_method,
            day_count=self.day_count,
            daily_interest=self.daily_interest,
            first_due=first_due,
            grace_principal=self.grace_principal,
            grace_interest=self.grace_interest,
            interest_grace_treatment=self.interest_grace_treatment,
            installment_multiple=money(self.installment_multiple),
            rounding=self.rounding,
            upfront_fee=money(self.upfront_fee),
            installment_fee=money(self.installment_fee),
            stepped_principal=stepped_principal,
            milestones=milestones,
            holiday_calendar=HolidayCalendar(self.holiday_calendar)
            if self.holiday_calendar
            else None,
            business_day=self.business_day,
        )

    def document(self) -> dict[str, Any]:
        """The product as a JSON document, as stored."""
        return self.model_dump(mode="json")
