"""Delivery through real local servers: the provider down and back, a dispatcher killed
mid-batch, timeouts, dead letters, SMTP with STARTTLS and login, push, status callbacks."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tenor.notify.channels import FcmPush, SmtpEmail, TwilioSms, WebhookPush
from tenor.notify.outbox import LEASE, MAX_ATTEMPTS, dispatch_once, requeue, run_workers
from tenor.notify.tables import Notification
from tenor.store.database import Database
from tenor.store.models import Loan
from tests.builders import seed_loan
from tests.conftest import make_database
from tests.notify.servers import ACCOUNT, PUSH_SECRET, TOKEN, Provider, provider_server, smtp_server

#: A weekday morning in Shanghai, inside every profile's hours.
MORNING = dt.datetime(2026, 3, 12, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def sms(provider: Provider, *, timeout: float = 5.0, callback: str | None = None) -> TwilioSms:
    return TwilioSms(
        base_url=provider.url,
        account_sid=ACCOUNT,
        auth_token=TOKEN,
        sender="+15005550006",
        status_callback=callback,
        timeout=timeout,
    )


def enqueue(
    db: Database,
    count: int,
    channel: str = "sms",
    recipient: str = "13800138000",
    *,
    loan_id: int | None = None,
) -> int:
    """``count`` due reminders about installment 2 of a loan (a new one by default)."""
    loan_id = loan_id or seed_loan(db)
    with db.transaction() as session:
        first = len(session.scalars(select(Notification.id)).all())
        loan = session.get(Loan, loan_id)
        assert loan is not None
        for number in range(first, first + count):
            session.add(
                Notification(
                    dedupe_key=f"test:{loan_id}:{number}:{channel}",
                    loan_id=loan_id,
                    borrower_id=loan.borrower_id,
                    installment=2,
                    channel=channel,
                    recipient=recipient,
                    locale="zh-CN",
                    subject="还款提醒" if channel != "sms" else None,
                    body=f"第{number}条提醒",
                    contact_profile="cn-cba-2026",
                    hour=9,
                    state="pending",
                    not_before=MORNING - dt.timedelta(hours=1),
                    attempts=0,
                )
            )
    return loan_id


def states(db: Database) -> Counter[str]:
    with db.reading() as session:
        return Counter(session.scalars(select(Notification.state)))


def test_provider_down_for_a_while_then_back_delivers_each_once(db: Database) -> None:
    enqueue(db, 6)
    with provider_server() as provider:
        provider.mode = "down"
        assert dispatch_once(db, {"sms": sms(provider)}, now=MORNING).outcomes == {"retry": 6}
        # Backing off: nothing is due ten seconds later.
        later = MORNING + dt.timedelta(seconds=10)
        assert dispatch_once(db, {"sms": sms(provider)}, now=later).total == 0
        provider.mode = "up"
        back = MORNING + dt.timedelta(minutes=5)
        assert dispatch_once(db, {"sms": sms(provider)}, now=back).outcomes == {"sent": 6}
        assert dispatch_once(db, {"sms": sms(provider)}, now=back + LEASE * 2).total == 0
        assert len(provider.delivered()) == 6
        accepted = Counter(provider.requests[6:])
        assert set(accepted.values()) == {1}
    assert states(db) == {"sent": 6}


def test_concurrent_workers_never_send_the_same_notification(db: Database) -> None:
    enqueue(db, 24)
    with provider_server() as provider:
        provider.mode, provider.delay = "slow", 0.02
        report = run_workers(db, {"sms": sms(provider)}, workers=3, once=True, now=MORNING)
        assert report.outcomes == {"sent": 24}
        assert len(provider.delivered()) == 24
        assert len(provider.requests) == 24
    with db.reading() as session:
        # No notification was claimed by two workers (SKIP LOCKED on PostgreSQL).
        assert len(set(session.scalars(select(Notification.provider_id)))) == 24


def test_timeouts_retry_and_the_last_attempt_is_a_dead_letter_to_requeue(db: Database) -> None:
    enqueue(db, 2)
    with provider_server() as provider:
        provider.mode, provider.delay = "slow", 1.0
        now = MORNING
        for attempt in range(1, MAX_ATTEMPTS + 1):
            report = dispatch_once(db, {"sms": sms(provider, timeout=0.2)}, now=now)
            assert report.outcomes == ({"dead": 2} if attempt == MAX_ATTEMPTS else {"retry": 2})
            now += dt.timedelta(hours=2)
        with db.reading() as session:
            dead = list(session.scalars(select(Notification)))
        assert all("did not answer in time" in (row.last_error or "") for row in dead)
        provider.mode = "up"
        assert dispatch_once(db, {"sms": sms(provider)}, now=now).total == 0
        assert requeue(db) == 2
        assert dispatch_once(db, {"sms": sms(provider)}, now=dt.datetime.now(dt.UTC)).total >= 0
    # Requeued rows are due now; the rules are checked at this real instant, so they are sent
    # or held for quiet hours, never lost and never dead again.
    assert set(states(db)) <= {"sent", "held"}


_WORKER = """
import datetime as dt, sys
from tenor.notify.channels import TwilioSms
from tenor.notify.outbox import dispatch_once
from tenor.store.database import Database
db = Database(sys.argv[1])
sms = TwilioSms(base_url=sys.argv[2], account_sid=sys.argv[3], auth_token=sys.argv[4], sender="+1")
dispatch_once(db, {"sms": sms}, worker="doomed", now=dt.datetime.fromisoformat(sys.argv[5]),
              batch=4)
"""


def test_a_dispatcher_killed_mid_batch_and_restarted_delivers_each_once(
    db: Database, tmp_path: Path
) -> None:
    enqueue(db, 10)
    with provider_server() as provider:
        provider.mode, provider.delay = "slow", 0.3
        worker = subprocess.Popen(
            [sys.executable, "-c", _WORKER, db.url, provider.url, ACCOUNT, TOKEN,
             MORNING.isoformat()],
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while len(provider.delivered()) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        killed_after = len(provider.delivered())
        assert 3 <= killed_after < 10
        provider.mode = "up"
        # The dead worker's claims are taken again once their lease is over.
        again = MORNING + LEASE + dt.timedelta(seconds=1)
        report = dispatch_once(db, {"sms": sms(provider)}, now=again)
        assert report.outcomes["sent"] == 10 - (10 - report.total)
        assert len(provider.delivered()) == 10
        resent = [key for key, n in Counter(provider.requests).items() if n > 1]
        # At most the message in flight at the kill was asked for twice; the provider kept
        # it once, by its idempotency key.
        assert len(resent) <= 1
    assert states(db) == {"sent": 10}


@pytest.fixture
def sqlite_db(tmp_path: Path, request: pytest.FixtureRequest) -> Database:
    """SQLite only: for channel tests, whose storage path the other tests already cover."""
    return make_database("sqlite", tmp_path, request)


def test_a_refused_number_fails_at_once_and_counts_against_the_channel(sqlite_db: Database) -> None:
    db = sqlite_db
    enqueue(db, 1, recipient="+0000")
    with provider_server() as provider:
        assert dispatch_once(db, {"sms": sms(provider)}, now=MORNING).outcomes == {"failed": 1}
    with db.reading() as session:
        row = session.scalars(select(Notification)).one()
        assert "21211" in (row.last_error or "")
        assert row.rewarded is False


def test_email_over_smtp_with_starttls_and_login(sqlite_db: Database, tmp_path: Path) -> None:
    db = sqlite_db
    loan_id = enqueue(db, 1, channel="email", recipient="zhang.wei@example.cn")
    with smtp_server(tmp_path) as (mailbox, port, tls):
        mail = SmtpEmail(
            host="127.0.0.1",
            port=port,
            sender="reminders@tenor.example",
            starttls=True,
            username="tenor",
            password="mail-secret",
            tls_context=tls,
        )
        assert dispatch_once(db, {"email": mail}, now=MORNING).outcomes == {"sent": 1}
        wrong = SmtpEmail(
            host="127.0.0.1", port=port, username="tenor", password="nope", tls_context=tls
        )
        enqueue(db, 1, channel="email", recipient="li.na@example.cn", loan_id=loan_id)
        assert dispatch_once(db, {"email": wrong}, now=MORNING).outcomes == {"retry": 1}
    (message,) = mailbox.messages
    assert message["Subject"] == "还款提醒"
    assert message["To"] == "zhang.wei@example.cn"
    assert message["Content-Language"] == "zh-CN"
    assert message["X-Tenor-Notification"].startswith("test:")
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)
    assert body.decode("utf-8").strip() == "第0条提醒"
    assert mailbox.logins in (["LOGIN"], ["PLAIN"])


@pytest.mark.parametrize("kind", ["fcm", "webhook"])
def test_push_through_fcm_v1_or_a_signed_webhook(sqlite_db: Database, kind: str) -> None:
    db = sqlite_db
    loan_id = enqueue(db, 2, channel="push", recipient="borrower-1")
    with provider_server() as provider:
        channel = (
            FcmPush(base_url=provider.url, project="p", access_token="fcm-token")
            if kind == "fcm"
            else WebhookPush(url=f"{provider.url}/push", secret=PUSH_SECRET)
        )
        assert dispatch_once(db, {"push": channel}, now=MORNING).outcomes == {"sent": 2}
        bad = WebhookPush(url=f"{provider.url}/push", secret="wrong")
        enqueue(db, 1, channel="push", recipient="borrower-2", loan_id=loan_id)
        if kind == "webhook":
            assert dispatch_once(db, {"push": bad}, now=MORNING).outcomes == {"failed": 1}
        documents = [d["document"] for d in provider.delivered().values()]
    if kind == "fcm":
        assert documents[0]["message"]["topic"] == "borrower-1"
        assert documents[0]["message"]["notification"]["title"] == "还款提醒"
    else:
        assert documents[0]["to"] == "borrower-1"


def test_a_voice_reminder_the_rules_allow_becomes_a_dialer_task(sqlite_db: Database) -> None:
    enqueue(sqlite_db, 1, channel="voice")
    assert dispatch_once(sqlite_db, {}, now=MORNING).outcomes == {"task": 1}
    assert states(sqlite_db) == {"task": 1}
