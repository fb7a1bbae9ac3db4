"""Sign-in codes through the notification outbox, on SQLite and PostgreSQL: the text message is
an SMS notification in the borrower's language, written with the code, sent by the outbox's
dispatcher whatever the contact rules say of reminders, and the code is never logged."""

from __future__ import annotations

import datetime as dt
import io
import logging

import pytest
from alembic import command
from sqlalchemy import inspect, select

from tenor.actions.borrowers import update_contact_preferences
from tenor.api.logs import configure_logging
from tenor.notify.outbox import dispatch_once
from tenor.notify.reminders import ReminderDue, schedule_reminders
from tenor.notify.tables import SIGN_IN_CODE, Notification
from tenor.store.database import Database
from tenor.store.migrate import alembic_config, upgrade
from tenor.web.tables import SignInCode
from tests.api.conftest import Book
from tests.web.books import FakeSms
from tests.web.conftest import Web

PHONE_A = "13800138000"
PHONE_B = "13900139000"


def _ask(web: Web, phone: str) -> None:
    browser = web.browser()
    browser.get("/web/me/sign-in")
    assert browser.post("/web/me/code", {"phone": phone}).status_code == 200


def _codes(web: Web) -> list[Notification]:
    with web.db.reading() as session:
        return list(
            session.scalars(
                select(Notification)
                .where(Notification.kind == SIGN_IN_CODE)
                .order_by(Notification.id)
            )
        )


def test_a_code_is_an_sms_notification_in_the_borrowers_language_and_never_logged(
    web: Web, book: Book
) -> None:
    with web.db.transaction() as session:
        update_contact_preferences(session, book.borrower_b, locale="en")
    logs = io.StringIO()
    configure_logging(file=logs)
    try:
        _ask(web, PHONE_A)
        _ask(web, "139 0013 9000")
    finally:
        configure_logging()
    first, second = _codes(web)
    code_a, code_b = web.last_code(book.borrower_a), web.last_code(book.borrower_b)
    assert (first.borrower_id, first.channel, first.recipient, first.locale) == (
        book.borrower_a,
        "sms",
        PHONE_A,
        "zh-CN",
    )
    assert first.body == f"您的 Tenor 登录验证码为 {code_a}，10 分钟内有效。"  # noqa: RUF001
    assert (second.recipient, second.locale) == (PHONE_B, "en")
    assert second.body == f"Your sign-in code for Tenor is {code_b}. It expires in 10 minutes."
    assert (first.state, first.loan_id, first.policy) == ("pending", None, None)
    # Due when it was asked for, by the console's clock; one row per code.
    assert first.not_before.replace(tzinfo=first.not_before.tzinfo or dt.UTC) == web.clock.now
    with web.db.reading() as session:
        code_rows = session.scalars(select(SignInCode.id).order_by(SignInCode.id)).all()
    assert [row.dedupe_key for row in (first, second)] == [
        f"{SIGN_IN_CODE}:{code_id}" for code_id in code_rows
    ]
    text = logs.getvalue()
    assert text.count("sign-in code queued") == 2
    assert "138****8000" in text
    assert code_a not in text
    assert code_b not in text
    assert PHONE_A not in text


def test_the_dispatcher_sends_a_code_at_night_to_a_borrower_who_refused_texts(
    web: Web, book: Book, caplog: pytest.LogCaptureFixture
) -> None:
    # 23:30 in Shanghai: quiet hours for every contact about a debt.
    web.clock.now = dt.datetime(2026, 3, 1, 15, 30, tzinfo=dt.UTC)
    with web.db.transaction() as session:
        update_contact_preferences(session, book.borrower_a, opt_outs=["sms"])
        # A reminder by text at the same hour is refused: the rules still hold reminders.
        schedule_reminders(
            session,
            [ReminderDue(book.loan_a, 1, dt.date(2026, 2, 15), 3, 95315)],
            web.clock.now.date(),
        )
    _ask(web, PHONE_A)
    code = web.last_code(book.borrower_a)
    sms = FakeSms()
    caplog.set_level(logging.DEBUG)
    report = dispatch_once(web.db, {"sms": sms}, now=web.clock.now)
    assert report.outcomes["sent"] == 1
    assert [(m.recipient, m.body) for m in sms.sent] == [
        (PHONE_A, f"您的 Tenor 登录验证码为 {code}，10 分钟内有效。")  # noqa: RUF001
    ]
    (sent,) = _codes(web)
    assert (sent.state, sent.rule, sent.attempts) == ("sent", None, 1)
    with web.db.reading() as session:
        reminder = session.scalars(
            select(Notification).where(Notification.kind == "reminder")
        ).one()
    assert (reminder.state, reminder.rule) == ("refused", "opt_out")
    assert code not in caplog.text
    # The code that was sent signs the borrower in.
    browser = web.browser()
    browser.get("/web/me/sign-in")
    signed = browser.post("/web/me/sign-in", {"phone": PHONE_A, "code": code})
    assert signed.status_code == 303


def test_migration_web2_drops_the_stand_in_outbox_and_gives_it_back(db: Database) -> None:
    config = alembic_config(db.url)
    command.downgrade(config, "web1")
    with db.engine.connect() as connection:
        assert "web_code_outbox" in inspect(connection).get_table_names()
    upgrade(db)
    with db.engine.connect() as connection:
        names = inspect(connection).get_table_names()
    assert "web_code_outbox" not in names
    assert "web_sign_in_codes" in names
