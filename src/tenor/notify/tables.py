"""Tables of reminders and their delivery: the outbox, policy versions, the timing bandit.

- ``notifications`` is the outbox: one row per reminder (or other message) to one borrower on
  one channel, written in the same transaction as the action that caused it. ``dedupe_key`` is
  unique, so one installment, offset and channel give one reminder however often the close
  runs. ``state`` moves pending -> sending -> sent -> delivered (or failed, after a receipt);
  a failed attempt goes back to pending with a later ``not_before``; after the last attempt it
  is ``dead`` (requeueable). A contact rule that refuses leaves it ``held`` with the ``rule``
  and ``not_before`` = the next allowed instant, or ``refused`` when time will not help.
  Voice reminders are ``task`` rows for the dialer; ``cancelled`` ones met a stop condition.
- ``reminder_policies`` holds every version of every policy document.
- ``timing_arms`` is each borrower's Thompson-sampling posterior over (channel, hour) arms.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tenor.store.models import Base, BigId, utc_now

if TYPE_CHECKING:
    from tenor.notify.render import ReminderFacts, Rendered

#: A borrower's one-time sign-in code, written by the web console (``tenor.web.delivery``).
SIGN_IN_CODE: Final = "sign-in-code"

#: Messages the borrower asked for that very minute: the contact rules, which govern contact
#: about a debt (quiet hours, opt-outs of reminders, caps), do not hold them; a code held
#: until 8 a.m., or refused because texts about arrears were refused, could never be used.
REQUESTED_KINDS: Final = frozenset({SIGN_IN_CODE})


class Notification(Base):
    """One message to one borrower on one channel: the outbox row and its delivery."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32), default="reminder")
    loan_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    borrower_id: Mapped[int] = mapped_column(BigInteger, index=True)
    installment: Mapped[int | None] = mapped_column(Integer)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    offset_days: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    policy: Mapped[str | None] = mapped_column(String(80))
    contact_profile: Mapped[str] = mapped_column(String(32))
    hour: Mapped[int | None] = mapped_column(Integer)
    #: The propensity to pay an overdue step weighed for this loan (None: the step did not).
    propensity: Mapped[float | None] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(16))
    not_before: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    rule: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_id: Mapped[str | None] = mapped_column(String(255), index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    rewarded: Mapped[bool | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)

    __table_args__ = (Index("ix_notifications_state_not_before", "state", "not_before"),)


def outbox_row(
    *,
    dedupe_key: str,
    kind: str,
    borrower_id: int,
    facts: ReminderFacts,
    channel: str,
    recipient: str | None,
    locale: str,
    message: Rendered,
    policy: str,
    contact_profile: str,
    hour: int,
    state: str,
    not_before: dt.datetime,
    rule: str | None,
    now: dt.datetime,
) -> dict[str, Any]:
    """A new outbox row about an installment (``facts``), as the bulk writers insert it: a
    reminder's or a collection message's, every column they fill but the reminder's
    ``propensity``. No address (``recipient`` None) is stored as an empty one."""
    return {
        "dedupe_key": dedupe_key,
        "kind": kind,
        "loan_id": facts.loan_id,
        "borrower_id": borrower_id,
        "installment": facts.installment,
        "due_date": facts.due_date,
        "offset_days": facts.offset_days,
        "channel": channel,
        "recipient": recipient or "",
        "locale": locale,
        "subject": message.subject,
        "body": message.body,
        "policy": policy,
        "contact_profile": contact_profile,
        "hour": hour,
        "state": state,
        "not_before": not_before,
        "attempts": 0,
        "rule": rule,
        "created_at": now,
        "updated_at": now,
    }


class ReminderPolicyRow(Base):
    """One version of a reminder policy document."""

    __tablename__ = "reminder_policies"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)

    __table_args__ = (
        UniqueConstraint("code", "version", name="uq_reminder_policies_code_version"),
    )


class TimingArm(Base):
    """A borrower's Beta posterior for paying soon after a reminder on a channel at an hour."""

    __tablename__ = "timing_arms"

    borrower_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    hour: Mapped[int] = mapped_column(Integer, primary_key=True)
    successes: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
