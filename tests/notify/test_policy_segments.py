"""Reminder policies chosen by product and segment: the borrower's kind picks the policy that
names it, before the one for every borrower."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, select

from tenor.notify.policy import DEFAULT_POLICY, ReminderPolicy
from tenor.notify.reminders import ReminderDue, schedule_reminders
from tenor.notify.tables import Notification
from tenor.store.database import Database
from tenor.store.models import Borrower
from tests.builders import seed_loan

DUE = dt.date(2026, 2, 15)


def _policy(code: str, channel: str, segment: str | None) -> ReminderPolicy:
    return ReminderPolicy.model_validate(
        {
            "code": code,
            "version": 1,
            "segment": segment,
            "steps": [{"offset": 1, "channels": [channel], "template": "overdue"}],
        }
    )


def test_an_enterprise_borrower_gets_the_enterprise_policy(db: Database) -> None:
    loan_id = seed_loan(db, business_date=DUE)
    policies = [_policy("everyone", "sms", None), _policy("companies", "email", "enterprise")]

    def remind(day: dt.date) -> list[tuple[str, str]]:
        with db.transaction() as session:
            schedule_reminders(
                session, [ReminderDue(loan_id, 1, DUE, 1, 105315)], day, policies=policies
            )
        with db.reading() as session:
            return [
                (row.policy or "", row.channel)
                for row in session.scalars(select(Notification).order_by(Notification.id))
            ]

    assert remind(DUE + dt.timedelta(days=1)) == [("everyone@1", "sms")]
    with db.transaction() as session:
        borrower = session.scalars(select(Borrower)).one()
        borrower.kind = "enterprise"
        session.execute(delete(Notification))
    assert remind(DUE + dt.timedelta(days=1)) == [("companies@1", "email")]


def test_a_policy_names_a_known_segment_or_none() -> None:
    assert DEFAULT_POLICY.segment is None
    with pytest.raises(ValueError, match="segment"):
        _policy("typo", "sms", "enterprises")
