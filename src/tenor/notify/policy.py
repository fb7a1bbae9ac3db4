"""Reminder policies: versioned documents that say when, how and with what words to remind.

A policy is chosen by product and segment. Each step is an offset from the due date (-3 is
three days before it, 0 the due date, 7 a week late), the channels of that step, the template,
and whether the timing bandit picks one channel of them (``choose_channel``) or every channel
is used. Overdue steps may follow the loan's propensity to pay (:mod:`tenor.collect.propensity`):
a step adds channels for a loan unlikely to pay (``low_propensity_channels``, below the
policy's ``low_propensity``) or spares one likely to pay anyway (``spare_high_propensity``, at
or above ``high_propensity``). Stop conditions (the installment paid, a promise to pay, a
dispute, an opt-out) end the reminders of an installment. Versions are kept in
``reminder_policies``; the newest version of a code wins, and the built-in
:data:`DEFAULT_POLICY` answers when none is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from tenor.audit.log import record_change
from tenor.core.contact import PROFILES
from tenor.notify.tables import ReminderPolicyRow

ReminderChannel = Literal["sms", "push", "email", "voice"]
StopCondition = Literal["paid", "promise_to_pay", "dispute", "opt_out"]


class Step(BaseModel):
    """One reminder of a policy: its offset from the due date, channels and template."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    offset: int = Field(ge=-30, le=90, description="Days from the due date: -3 is D-3.")
    channels: tuple[ReminderChannel, ...] = Field(min_length=1)
    template: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    choose_channel: bool = Field(
        default=False, description="The timing bandit picks one of the channels."
    )
    low_propensity_channels: tuple[ReminderChannel, ...] = Field(
        default=(),
        description="Channels added for a loan whose propensity to pay is below the policy's "
        "low_propensity (an overdue step only).",
    )
    spare_high_propensity: bool = Field(
        default=False,
        description="Skip the step for a loan whose propensity to pay is at least the "
        "policy's high_propensity (an overdue step only).",
    )

    @model_validator(mode="after")
    def _propensity_on_overdue_steps(self) -> Step:
        if (self.low_propensity_channels or self.spare_high_propensity) and self.offset < 1:
            raise ValueError(
                "propensity to pay is known of overdue loans only: low_propensity_channels "
                f"and spare_high_propensity need an offset of 1 or more, not {self.offset}"
            )
        if set(self.low_propensity_channels) & set(self.channels):
            raise ValueError("low_propensity_channels adds channels the step does not have")
        return self

    @property
    def uses_propensity(self) -> bool:
        """Whether the step depends on the loan's propensity to pay."""
        return bool(self.low_propensity_channels) or self.spare_high_propensity

    def channels_for(
        self, propensity: Decimal | None, policy: ReminderPolicy
    ) -> tuple[ReminderChannel, ...]:
        """The channels of this step for a loan with ``propensity`` (None: not known); none
        when the step spares it."""
        if propensity is None:
            return self.channels
        if self.spare_high_propensity and propensity >= policy.high_propensity:
            return ()
        if propensity < policy.low_propensity:
            return (*self.channels, *self.low_propensity_channels)
        return self.channels


class ReminderPolicy(BaseModel):
    """A versioned reminder policy document."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    version: int = Field(ge=1)
    products: tuple[str, ...] = Field(
        default=(), description="Product codes it applies to; empty: every product."
    )
    segment: Literal["individual", "enterprise"] | None = Field(
        default=None,
        description="The borrowers it applies to, by kind; none: every borrower.",
    )
    contact_profile: str = "cn-cba-2026"
    default_channel: ReminderChannel = "sms"
    default_hour: int = Field(default=10, ge=0, le=23)
    hours: tuple[int, ...] = Field(
        default=(9, 12, 15, 18), description="Start hours of the slots the bandit may pick."
    )
    low_propensity: Decimal = Field(
        default=Decimal("0.30"),
        ge=0,
        le=1,
        decimal_places=4,
        description="Below this propensity to pay, overdue steps add their "
        "low_propensity_channels.",
    )
    high_propensity: Decimal = Field(
        default=Decimal("0.70"),
        ge=0,
        le=1,
        decimal_places=4,
        description="At or above this propensity to pay, overdue steps marked "
        "spare_high_propensity are skipped.",
    )
    steps: tuple[Step, ...] = Field(min_length=1)
    stop_when: frozenset[StopCondition] = frozenset(
        {"paid", "promise_to_pay", "dispute", "opt_out"}
    )

    @model_validator(mode="after")
    def _consistent(self) -> ReminderPolicy:
        if self.contact_profile not in PROFILES:
            known = ", ".join(PROFILES)
            raise ValueError(
                f"contact_profile must be one of {known}, not {self.contact_profile!r}"
            )
        offsets = [step.offset for step in self.steps]
        if len(offsets) != len(set(offsets)):
            raise ValueError("each offset appears in one step only")
        if not self.hours or any(not 0 <= hour <= 23 for hour in self.hours):
            raise ValueError("hours are hours of the day, 0 to 23")
        if self.low_propensity > self.high_propensity:
            raise ValueError("low_propensity cannot be above high_propensity")
        return self

    @property
    def uses_propensity(self) -> bool:
        """Whether any step depends on the loan's propensity to pay."""
        return any(step.uses_propensity for step in self.steps)

    @property
    def name(self) -> str:
        """``code@version``, as notifications record it."""
        return f"{self.code}@{self.version}"

    def step(self, offset: int) -> Step | None:
        """The step at ``offset`` days from the due date, if the policy has one."""
        return next((step for step in self.steps if step.offset == offset), None)


DEFAULT_POLICY = ReminderPolicy(
    code="consumer-standard",
    version=1,
    steps=(
        Step(offset=-3, channels=("sms", "push"), template="upcoming", choose_channel=True),
        Step(offset=-1, channels=("sms", "push"), template="upcoming", choose_channel=True),
        Step(offset=0, channels=("sms", "push"), template="due_today", choose_channel=True),
        Step(offset=1, channels=("sms", "email"), template="overdue"),
        # A borrower likely to pay on their own is not texted again two days after the first
        # overdue notice; a robocall goes only to those unlikely to pay without one.
        Step(offset=3, channels=("sms",), template="overdue", spare_high_propensity=True),
        Step(offset=7, channels=("sms",), template="overdue", low_propensity_channels=("voice",)),
    ),
)


def save_policy(session: Session, policy: ReminderPolicy) -> ReminderPolicyRow:
    """Store ``policy`` as a new version (its code and version must be new)."""
    row = ReminderPolicyRow(
        code=policy.code, version=policy.version, document=policy.model_dump(mode="json")
    )
    session.add(row)
    session.flush()
    record_change(session, "policy", f"reminder-policies/{row.code}/v{row.version}", row.document)
    return row


def stored_policies(session: Session) -> list[ReminderPolicy]:
    """The newest version of every stored policy."""
    newest: dict[str, ReminderPolicy] = {}
    rows = session.scalars(select(ReminderPolicyRow).order_by(ReminderPolicyRow.version))
    for row in rows:
        newest[row.code] = ReminderPolicy.model_validate(row.document)
    return list(newest.values())


def choose_policy(
    policies: Sequence[ReminderPolicy], product_code: str, segment: str | None = None
) -> ReminderPolicy:
    """The policy for ``product_code`` and ``segment``: the most specific match wins.

    A policy naming the product beats one for every product; one naming the segment beats one
    without; :data:`DEFAULT_POLICY` when nothing matches.
    """
    matching = [
        policy
        for policy in policies
        if (not policy.products or product_code in policy.products)
        and (policy.segment is None or policy.segment == segment)
    ]
    if not matching:
        return DEFAULT_POLICY
    return max(matching, key=lambda p: (bool(p.products), p.segment is not None, p.version))
