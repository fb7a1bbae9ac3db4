"""Reminder actions to outbox rows: policy steps, templates, stop conditions, contact rules,
exactly one row per installment, offset and channel; and the migration matches the tables."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from tenor.actions import loans
from tenor.core.money import Money
from tenor.notify.policy import DEFAULT_POLICY, ReminderPolicy, Step, save_policy
from tenor.notify.reminders import ReminderDue, due_reminders, schedule_reminders
from tenor.notify.render import ReminderFacts, render
from tenor.notify.tables import Notification
from tenor.store.database import Database
from tenor.store.models import Base, Borrower, Loan
from tests.builders import seed_loan

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: Installment 2 of the builders' loan falls due on 15 March 2026.
DUE = dt.date(2026, 3, 15)


def rows(db: Database) -> list[Notification]:
    with db.reading() as session:
        return list(session.scalars(select(Notification).order_by(Notification.id)))


def schedule(db: Database, day: dt.date, **kwargs: object) -> int:
    with db.transaction() as session:
        actions = [a for a in due_reminders(session, day) if a.installment == 2]
        return schedule_reminders(session, actions, day, **kwargs).written  # type: ignore[arg-type]


def test_one_reminder_per_installment_offset_and_channel_however_often_it_runs(
    db: Database,
) -> None:
    seed_loan(db)
    three_before = DUE - dt.timedelta(days=3)
    assert schedule(db, three_before) == 1
    assert schedule(db, three_before) == 0
    one_late = DUE + dt.timedelta(days=1)
    assert schedule(db, one_late) == 2  # D+1: SMS and email
    assert schedule(db, one_late) == 0
    sms, *overdue = rows(db)
    assert (sms.offset_days, sms.channel, sms.state) == (-3, "sms", "pending")
    assert sms.policy == "consumer-standard@1"
    assert sms.not_before.replace(tzinfo=sms.not_before.tzinfo or dt.UTC) == dt.datetime(
        2026, 3, 12, 9, tzinfo=SHANGHAI
    )
    assert sms.body.startswith("【Tenor金融】张伟您好")
    # Chinese punctuation is full-width: the text as a borrower reads it.
    assert re.search(r"第2期¥1,0\d\d\.\d\d将于2026年3月15日（3天后）到期", sms.body)  # noqa: RUF001
    assert [(n.offset_days, n.channel) for n in overdue] == [(1, "sms"), (1, "email")]
    assert overdue[1].subject is not None
    assert "逾期" in overdue[1].subject


def test_a_paid_installment_gets_no_reminder(db: Database) -> None:
    loan_id = seed_loan(db, business_date=DUE)
    with db.transaction() as session:
        actions = [a for a in due_reminders(session, DUE) if a.installment == 2]
    loans.post_repayment(db, loan_id, amount=Money.of("2200", "CNY"), value_date=DUE)
    with db.transaction() as session:
        result = schedule_reminders(session, actions, DUE)
    assert (result.written, result.skipped) == (0, {"paid": 1})


def test_stop_conditions_and_unknown_offsets_write_nothing(db: Database) -> None:
    loan_id = seed_loan(db)
    actions = [
        ReminderDue(loan_id, 2, DUE, -3, 100_00, promise_to_pay=True),
        ReminderDue(loan_id, 2, DUE, 0, 100_00, dispute=True),
        ReminderDue(loan_id, 2, DUE, -2, 100_00),
        ReminderDue(loan_id, 2, DUE, -2, 100_00, kind="collection"),
    ]
    with db.transaction() as session:
        result = schedule_reminders(session, actions, DUE)
    assert result.written == 0
    assert result.skipped == {"promise_to_pay": 1, "dispute": 1, "no_step": 1}


def test_refusals_are_kept_with_their_rule(db: Database) -> None:
    loan_id = seed_loan(db)
    with db.transaction() as session:
        loan = session.get(Loan, loan_id)
        assert loan is not None
        borrower = session.get(Borrower, loan.borrower_id)
        assert borrower is not None
        borrower.opt_outs = ["email"]
        borrower.locale = "en"
        save_policy(
            session,
            DEFAULT_POLICY.model_copy(
                update={
                    "version": 2,
                    "hours": (23,),
                    "default_hour": 23,
                    "steps": (Step(offset=1, channels=("sms", "email"), template="overdue"),),
                }
            ),
        )
    assert schedule(db, DUE + dt.timedelta(days=1)) == 2
    sms, email = rows(db)
    assert (email.state, email.rule) == ("refused", "opt_out")
    assert (sms.state, sms.rule) == ("held", "quiet_hours")
    held_until = sms.not_before.replace(tzinfo=sms.not_before.tzinfo or dt.UTC)
    assert held_until == dt.datetime(2026, 3, 17, 8, tzinfo=SHANGHAI)
    assert sms.policy == "consumer-standard@2"
    assert sms.body.startswith("Tenor Finance: Hello 张伟, installment 2 of your loan, CN¥")


def test_us_profile_texts_carry_an_opt_out(db: Database) -> None:
    seed_loan(db)
    policy = ReminderPolicy(
        code="us-consumer",
        version=1,
        contact_profile="us-regf",
        steps=(Step(offset=-3, channels=("sms",), template="upcoming"),),
    )
    with db.transaction() as session:
        actions = due_reminders(session, DUE - dt.timedelta(days=3))
        schedule_reminders(session, actions, DUE - dt.timedelta(days=3), policies=[policy])
    (sms,) = rows(db)
    assert sms.body.endswith("回复TD退订。")


def test_the_migration_matches_the_tables(db: Database) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    ours = {"notifications", "reminder_policies", "timing_arms"}
    mine = [
        difference for difference in differences if any(name in repr(difference) for name in ours)
    ]
    assert mine == []


# --- propensity to pay --------------------------------------------------------------------


def _propensity_policy(session: Session) -> None:
    """The default steps with thresholds the heuristic's answers fall either side of."""
    save_policy(
        session,
        DEFAULT_POLICY.model_copy(
            update={
                "version": 2,
                "low_propensity": Decimal("0.50"),
                "high_propensity": Decimal("0.55"),
            }
        ),
    )


def test_a_loan_unlikely_to_pay_gets_the_robocall_and_is_not_spared(db: Database) -> None:
    seed_loan(db, business_date=dt.date(2026, 3, 17))
    with db.transaction() as session:
        _propensity_policy(session)
    # Installment 1 is 30 days late and nothing was paid: the heuristic's 0.45.
    assert schedule(db, DUE + dt.timedelta(days=3)) == 1
    assert schedule(db, DUE + dt.timedelta(days=7)) == 2
    third, sms, voice = rows(db)
    assert (third.offset_days, third.channel) == (3, "sms")
    assert [(n.offset_days, n.channel, n.state) for n in (sms, voice)] == [
        (7, "sms", "pending"),
        (7, "voice", "task"),
    ]
    assert third.propensity == sms.propensity == voice.propensity == pytest.approx(0.45)


def test_a_loan_likely_to_pay_is_spared_the_second_text_and_the_robocall(db: Database) -> None:
    loan_id = seed_loan(db, business_date=dt.date(2026, 3, 17))
    with db.transaction() as session:
        _propensity_policy(session)
    # A payment in the last 30 days (it goes to installment 1): the heuristic's 0.55.
    loans.post_repayment(db, loan_id, amount=Money.of("300", "CNY"), value_date=DUE)
    with db.transaction() as session:
        actions = due_reminders(session, DUE + dt.timedelta(days=3))
        spared = schedule_reminders(session, actions, DUE + dt.timedelta(days=3))
    assert (spared.written, spared.skipped) == (0, {"high_propensity": 1})
    with db.transaction() as session:
        actions = due_reminders(session, DUE + dt.timedelta(days=7))
        week = schedule_reminders(session, actions, DUE + dt.timedelta(days=7))
    assert (week.written, week.escalated) == (1, 0)
    (sms,) = rows(db)
    assert (sms.offset_days, sms.channel) == (7, "sms")
    assert sms.propensity == pytest.approx(0.55)


def test_steps_before_the_due_date_weigh_no_propensity(db: Database) -> None:
    seed_loan(db)
    assert schedule(db, DUE - dt.timedelta(days=3)) == 1
    (upcoming,) = rows(db)
    assert upcoming.propensity is None


def test_a_policy_uses_propensity_on_overdue_steps_only() -> None:
    with pytest.raises(ValidationError, match="offset of 1 or more, not -1"):
        Step(offset=-1, channels=("sms",), template="upcoming", spare_high_propensity=True)
    with pytest.raises(ValidationError, match="adds channels the step does not have"):
        Step(offset=7, channels=("sms",), template="overdue", low_propensity_channels=("sms",))
    with pytest.raises(ValidationError, match="low_propensity cannot be above high_propensity"):
        DEFAULT_POLICY.model_validate(
            {**DEFAULT_POLICY.model_dump(), "low_propensity": "0.8", "high_propensity": "0.6"}
        )
    with pytest.raises(ValidationError, match="less than or equal to 1"):
        DEFAULT_POLICY.model_validate({**DEFAULT_POLICY.model_dump(), "high_propensity": 2})
    stored = ReminderPolicy.model_validate(DEFAULT_POLICY.model_dump(mode="json"))
    assert stored == DEFAULT_POLICY
    assert stored.uses_propensity


def test_a_long_message_id_fits_as_the_provider_id(db: Database) -> None:
    # SMTP's provider id is the Message-ID: the reminder's key and the sending host's name.
    seed_loan(db)
    assert schedule(db, DUE - dt.timedelta(days=3)) == 1
    message_id = "<" + "177.1.2.reminder.1.2.-3.sms|push@" + "mail-relay-01." * 15 + "example.cn>"
    assert 200 < len(message_id) <= 255
    with db.transaction() as session:
        (row,) = session.scalars(select(Notification))
        row.provider_id = message_id
    (stored,) = rows(db)
    assert stored.provider_id == message_id


# --- writing many at once -------------------------------------------------------------------


def test_a_rerun_writes_nothing_twice_and_counts_the_same(db: Database) -> None:
    """Duplicates within one call, a second call in the same transaction and a rerun in a new
    one: each key is written once, the rest counted as duplicates, in the actions' order."""
    loan_id = seed_loan(db)
    with db.transaction() as session:
        loan = session.get(Loan, loan_id)
        assert loan is not None
        borrower = session.get(Borrower, loan.borrower_id)
        assert borrower is not None
        # What COPY's text format must escape: a tab, a backslash, and the emails' newlines.
        borrower.name = "张\t伟\\"
    actions = [
        ReminderDue(loan_id, number, DUE, offset, 100_00 * number)
        for number in (2, 3, 4, 5)
        for offset in (-3, 1)
    ]
    with db.transaction() as session:
        first = schedule_reminders(session, [*actions, *actions[:3]], DUE)
        again = schedule_reminders(session, actions, DUE)
    with db.transaction() as session:
        rerun = schedule_reminders(session, actions, DUE)
    assert (first.written, first.duplicates, first.skipped) == (12, 4, {})
    assert (again.written, again.duplicates) == (0, 12)
    assert (rerun.written, rerun.duplicates, rerun.skipped, rerun.refusals) == (0, 12, {}, {})
    written = rows(db)
    assert [(n.installment, n.offset_days, n.channel) for n in written] == [
        (number, offset, channel)
        for number in (2, 3, 4, 5)
        for offset, channels in ((-3, ("sms",)), (1, ("sms", "email")))
        for channel in channels
    ]
    email = written[2]
    facts = ReminderFacts("张\t伟\\", loan_id, 2, Money(200_00, "CNY"), DUE, 1)
    assert (email.subject, email.body) == (
        render("overdue", "email", "zh-CN", facts).subject,
        render("overdue", "email", "zh-CN", facts).body,
    )
    assert "\n" in email.body
    assert email.body.startswith("张\t伟\\您好")
