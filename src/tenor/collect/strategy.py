"""Collection strategies as validated, versioned documents (YAML or JSON), and the one in force.

A document names its segments in order; the first one a loan matches decides its path::

    name: consumer
    contact_profile: cn-cba-2026
    promise: {tolerance_percent: 5, grace_days: 1}
    costs: {sms: "0.05", call: "2.00", visit: "60.00"}     # per action, in the book's currency
    segments:
      - name: early
        min_dpd: 1
        max_dpd: 30
        champion:
          - {action: sms, wait_days: 0, template: collection_notice}
          - {action: call, wait_days: 2}
        challenger:
          - {action: call, wait_days: 0}
        challenger_percent: 20

Saving a document makes it a new version of its name and the strategy in force
(:func:`tenor.collect.actions.save_strategy`); open cases move to it at their next step.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Final

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from tenor.collect.tables import CollectionStrategyRow
from tenor.core.collection import (
    DEFAULT_COSTS,
    ActionKind,
    ExitCondition,
    PromiseRules,
    Segment,
    Strategy,
    TreatmentStep,
)
from tenor.core.contact import PROFILES
from tenor.core.errors import DomainError
from tenor.core.money import Money

#: What a strategy's action costs are expressed in when it gives them in major units.
COST_CURRENCY: Final = "CNY"


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StepDocument(_Document):
    """One step of a treatment path."""

    action: ActionKind
    wait_days: Annotated[int, Field(ge=0, le=365)] = 0
    template: str | None = None


class SegmentDocument(_Document):
    """A segment: its bounds and its champion and challenger paths."""

    name: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_\-]+$")]
    # Bounded so that every stored document is canonical JSON for the transparency log.
    min_dpd: Annotated[int, Field(ge=1, le=36500)]
    max_dpd: Annotated[int, Field(ge=1, le=36500)] | None = None
    min_score: Annotated[int, Field(ge=-100000, le=100000)] | None = None
    max_score: Annotated[int, Field(ge=-100000, le=100000)] | None = None
    min_balance: Decimal | None = None
    max_balance: Decimal | None = None
    products: list[str] = []
    first_payment_default: bool | None = None
    hardship: bool | None = None
    champion: Annotated[list[StepDocument], Field(min_length=1)]
    challenger: list[StepDocument] = []
    challenger_percent: Annotated[Decimal, Field(ge=0, le=100)] = Decimal(0)

    @model_validator(mode="after")
    def _consistent(self) -> SegmentDocument:
        if self.max_dpd is not None and self.max_dpd < self.min_dpd:
            raise ValueError(f"segment {self.name}: max_dpd is below min_dpd")
        if self.challenger_percent > 0 and not self.challenger:
            raise ValueError(f"segment {self.name}: challenger_percent needs a challenger path")
        return self


class PromiseDocument(_Document):
    """How the close judges promises to pay."""

    tolerance_percent: Annotated[Decimal, Field(ge=0, lt=100)] = Decimal(5)
    grace_days: Annotated[int, Field(ge=0, le=30)] = 0


class StrategyDocument(_Document):
    """A whole collection strategy as stored."""

    name: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_\-]+$")]
    contact_profile: str = "cn-cba-2026"
    promise: PromiseDocument = PromiseDocument()
    pause_on: list[ExitCondition] = [
        ExitCondition.PROMISE_TO_PAY,
        ExitCondition.DISPUTE,
        ExitCondition.HARDSHIP,
    ]
    costs: dict[ActionKind, Annotated[Decimal, Field(ge=0, le=1_000_000)]] = {}
    segments: Annotated[list[SegmentDocument], Field(min_length=1)]

    @field_validator("contact_profile")
    @classmethod
    def _known_profile(cls, value: str) -> str:
        if value not in PROFILES:
            raise ValueError(f"contact_profile must be one of {', '.join(sorted(PROFILES))}")
        return value

    @model_validator(mode="after")
    def _unique_segments(self) -> StrategyDocument:
        names = [segment.name for segment in self.segments]
        if len(set(names)) != len(names):
            raise ValueError("segment names must be unique")
        # What the core refuses (a cost or a balance finer than a cent, inverted score bands)
        # is refused here, when the document is saved, and not by the close that reads it.
        try:
            self.strategy(0)
        except DomainError as error:
            raise ValueError(error.message) from None
        return self

    def strategy(self, version: int) -> Strategy:
        """The core's strategy for this document at ``version``."""
        costs = dict(DEFAULT_COSTS)
        for action, amount in self.costs.items():
            costs[action] = Money.of(amount, COST_CURRENCY).minor
        return Strategy(
            name=self.name,
            version=version,
            segments=tuple(_segment(s) for s in self.segments),
            pause_on=frozenset(self.pause_on),
            costs=costs,
        )

    def promise_rules(self) -> PromiseRules:
        """How promises are judged under this strategy."""
        return PromiseRules(
            tolerance=self.promise.tolerance_percent / 100, grace_days=self.promise.grace_days
        )


def _segment(document: SegmentDocument) -> Segment:
    def minor(amount: Decimal | None) -> int | None:
        return None if amount is None else Money.of(amount, COST_CURRENCY).minor

    def steps(path: list[StepDocument]) -> tuple[TreatmentStep, ...]:
        return tuple(TreatmentStep(s.action, s.wait_days, s.template) for s in path)

    return Segment(
        name=document.name,
        min_dpd=document.min_dpd,
        max_dpd=document.max_dpd,
        champion=steps(document.champion),
        challenger=steps(document.challenger),
        challenger_share=document.challenger_percent / 100,
        min_score=document.min_score,
        max_score=document.max_score,
        min_balance_minor=minor(document.min_balance),
        max_balance_minor=minor(document.max_balance),
        products=frozenset(document.products),
        first_payment_default=document.first_payment_default,
        hardship=document.hardship,
    )


def _step(action: str, wait: int = 0, template: str | None = None) -> dict[str, Any]:
    step: dict[str, Any] = {"action": action, "wait_days": wait}
    if template is not None:
        step["template"] = template
    return step


#: The strategy a book starts with: large exposures (500,000 or more owed) are called, written
#: to, visited and taken to court; other loans get texts and calls early, a letter and field
#: visits in the middle, an agency at 91 days, legal referral and a write-off recommendation
#: late. Its early segment tests calling first against texting first on a fifth of the loans.
DEFAULT_STRATEGY: Final[dict[str, Any]] = {
    "name": "standard",
    "contact_profile": "cn-cba-2026",
    "promise": {"tolerance_percent": 5, "grace_days": 1},
    "costs": {
        "sms": "0.05",
        "push": "0.01",
        "email": "0.01",
        "letter": "3.00",
        "call": "2.00",
        "visit": "60.00",
        "legal": "500.00",
    },
    "segments": [
        {
            # Large exposures (enterprise and project loans, in practice) are worked by
            # people and the courts, never by texts and agencies.
            "name": "large-exposure",
            "min_dpd": 1,
            "min_balance": "500000",
            "champion": [
                _step("call", 0),
                _step("letter", 3, "demand_letter"),
                _step("call", 4),
                _step("visit", 7),
                _step("call", 14),
                _step("legal", 30),
            ],
        },
        {
            "name": "first-payment-default",
            "min_dpd": 1,
            "max_dpd": 30,
            "first_payment_default": True,
            "champion": [
                _step("call", 0),
                _step("sms", 1, "collection_notice"),
                _step("call", 3),
                _step("call", 7),
            ],
        },
        {
            "name": "early",
            "min_dpd": 1,
            "max_dpd": 30,
            "champion": [
                _step("sms", 0, "collection_notice"),
                _step("push", 2, "collection_notice"),
                _step("call", 3),
                _step("call", 7),
                _step("email", 7, "collection_notice"),
            ],
            "challenger": [
                _step("call", 0),
                _step("sms", 1, "collection_notice"),
                _step("call", 5),
                _step("call", 7),
            ],
            "challenger_percent": 20,
        },
        {
            "name": "middle",
            "min_dpd": 31,
            "max_dpd": 90,
            "champion": [
                _step("letter", 0, "demand_letter"),
                _step("call", 1),
                _step("call", 7),
                _step("visit", 14),
                _step("call", 14),
            ],
        },
        {
            "name": "late",
            "min_dpd": 91,
            "max_dpd": 180,
            "champion": [
                _step("agency", 0),
                _step("legal", 60),
            ],
        },
        {
            "name": "charge-off",
            "min_dpd": 181,
            "champion": [_step("write_off", 0)],
        },
    ],
}


def parse_strategy(document: Any) -> StrategyDocument:
    """Validate a strategy document (pydantic's ValidationError on bad input)."""
    return StrategyDocument.model_validate(document)


def strategy_in_force(session: Session) -> tuple[StrategyDocument, int]:
    """The strategy saved last, and its version; the default strategy (version 0) before any."""
    row = session.scalars(
        select(CollectionStrategyRow).order_by(CollectionStrategyRow.id.desc()).limit(1)
    ).one_or_none()
    if row is None:
        return parse_strategy(DEFAULT_STRATEGY), 0
    return parse_strategy(row.document), row.version


def strategy_versions(session: Session) -> list[CollectionStrategyRow]:
    """Every saved version of every strategy, newest first."""
    return list(
        session.scalars(select(CollectionStrategyRow).order_by(CollectionStrategyRow.id.desc()))
    )
