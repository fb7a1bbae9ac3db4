"""The outbox's dispatcher: claim due notifications, check the rules again, send, record.

Workers claim a batch in one short transaction (``SELECT ... FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so that workers on any number of machines never take the same row; SQLite's
single writer serialises the claim) and mark it ``sending`` with a lease. Each message is then
checked once more (a payment may have settled the installment: ``cancelled``; the contact
rules at this instant: ``held`` until the next allowed instant; a message the borrower asked
for, such as a sign-in code, is no contact about a debt and the rules pass it), sent outside
any transaction, and recorded: ``sent`` with the provider's id, or back to ``pending`` after an
exponential backoff (tenacity's ``wait_exponential``), or ``dead`` after the last attempt. A
worker that dies mid-batch leaves ``sending`` rows whose lease runs out; the next worker takes
them again and resends them under the same idempotency key.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session
from tenacity import RetryCallState, wait_exponential

from tenor.core.contact import Contact, Refused, check, profile
from tenor.notify import timing
from tenor.notify.channels import DeliveryError, OutgoingMessage, Sender
from tenor.notify.reminders import (
    CONTACT_CHANNEL,
    HISTORY_DAYS,
    borrower_context,
    contact_history,
    installment_paid,
)
from tenor.notify.tables import REQUESTED_KINDS, Notification
from tenor.store.database import Database, is_postgres
from tenor.store.models import Borrower, InstallmentRow, utc_now

log = logging.getLogger("tenor.notify")

#: Attempts before a notification is dead.
MAX_ATTEMPTS: Final = 5

#: How long a claimed notification stays with its worker before another may take it.
LEASE: Final = dt.timedelta(minutes=5)

#: Wait before the next attempt: 30 s, 60 s, 2 min, ... at most an hour.
BACKOFF: Final = wait_exponential(multiplier=30, min=30, max=3600)

#: How long a notification whose channel is not configured waits before it is looked at again.
NO_CHANNEL_WAIT: Final = dt.timedelta(minutes=10)


@dataclass
class DispatchReport:
    """How many notifications each pass ended in each state."""

    outcomes: Counter[str]

    @property
    def total(self) -> int:
        """Notifications handled."""
        return sum(self.outcomes.values())


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the ``attempts``-th failed attempt."""
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
    state.attempt_number = attempts
    return dt.timedelta(seconds=BACKOFF(state))


def claim(db: Database, worker: str, now: dt.datetime, limit: int) -> list[int]:
    """Claim up to ``limit`` due notifications for ``worker``; their ids."""
    due = or_(
        and_(Notification.state.in_(("pending", "held")), Notification.not_before <= now),
        and_(Notification.state == "sending", Notification.claimed_until < now),
    )
    query = (
        select(Notification.id)
        .where(due)
        .order_by(Notification.not_before, Notification.id)
        .limit(limit)
    )
    if is_postgres(db.engine):
        query = query.with_for_update(skip_locked=True)
    with db.transaction() as session:
        ids = list(session.scalars(query))
        if ids:
            session.execute(
                update(Notification)
                .where(Notification.id.in_(ids))
                .values(
                    state="sending", claimed_by=worker, claimed_until=now + LEASE, updated_at=now
                )
            )
    return ids


def _prepare(
    db: Database, notification_id: int, worker: str, now: dt.datetime
) -> OutgoingMessage | str:
    """The message to send, or the state the notification ended in instead."""
    with db.transaction() as session:
        row = session.get(Notification, notification_id)
        if row is None or row.state != "sending" or row.claimed_by != worker:
            return "lost"
        if row.kind == "reminder" and installment_paid(session, row.loan_id, row.installment):
            row.state, row.rule, row.updated_at = "cancelled", "paid", now
            return "cancelled"
        borrower = session.get(Borrower, row.borrower_id)
        if borrower is None:
            row.state, row.rule, row.updated_at = "refused", "no_borrower", now
            return "refused"
        if row.channel == "email" and borrower.email_invalid_since is not None:
            # The address bounced for good repeatedly since this was written.
            row.state, row.rule, row.updated_at = "refused", "email_invalid", now
            row.claimed_by = row.claimed_until = None
            return "refused"
        if row.kind in REQUESTED_KINDS:
            return _outgoing(row)
        context = borrower_context(borrower)
        history = contact_history(session, [borrower.id], now - dt.timedelta(days=HISTORY_DAYS))
        contact = Contact(
            CONTACT_CHANNEL[row.channel], debt=None if row.loan_id is None else str(row.loan_id)
        )
        decision = check(contact, history[borrower.id], context, profile(row.contact_profile), now)
        if isinstance(decision, Refused):
            row.rule, row.updated_at = decision.rule, now
            row.claimed_by = row.claimed_until = None
            if decision.next_allowed_at is None:
                row.state = "refused"
            else:
                row.state, row.not_before = "held", decision.next_allowed_at
            log.info(
                "contact refused: notification %s (borrower %s, %s) by %s until %s",
                row.id,
                row.borrower_id,
                row.channel,
                decision.rule,
                "never" if decision.next_allowed_at is None else decision.next_allowed_at,
            )
            return row.state
        return _outgoing(row)


def _outgoing(row: Notification) -> OutgoingMessage:
    return OutgoingMessage(
        key=row.dedupe_key,
        recipient=row.recipient,
        subject=row.subject,
        body=row.body,
        locale=row.locale,
        notification=row.id,
    )


def _record(
    db: Database,
    notification_id: int,
    worker: str,
    now: dt.datetime,
    *,
    provider_id: str | None = None,
    error: DeliveryError | None = None,
    max_attempts: int = MAX_ATTEMPTS,
) -> str:
    with db.transaction() as session:
        row = session.get(Notification, notification_id)
        if row is None or row.state != "sending" or row.claimed_by != worker:
            return "lost"
        row.attempts += 1
        row.updated_at = now
        row.claimed_by = row.claimed_until = None
        if error is None:
            row.state, row.sent_at, row.provider_id, row.rule = "sent", now, provider_id, None
            return "sent"
        row.last_error = str(error)[:2000]
        if not error.transient:
            row.state = "failed"
            count_failure(session, row)
        elif row.attempts >= max_attempts:
            row.state = "dead"
        else:
            row.state, row.not_before = "pending", now + backoff(row.attempts)
            return "retry"
        log.warning("notification %s (%s) %s: %s", row.id, row.channel, row.state, row.last_error)
        return row.state


def count_failure(session: Session, row: Notification) -> None:
    """A bounce or failure counts against the channel and hour it was sent on."""
    if row.hour is not None and row.rewarded is None:
        timing.reward(session, row.borrower_id, (row.channel, row.hour), paid=False)
        row.rewarded = False


def dispatch_once(
    db: Database,
    channels: Mapping[str, Sender],
    *,
    worker: str = "worker-1",
    now: dt.datetime | None = None,
    batch: int = 50,
    max_attempts: int = MAX_ATTEMPTS,
) -> DispatchReport:
    """Send every notification due at ``now`` (default: the clock), batch by batch."""
    outcomes: Counter[str] = Counter()
    while True:
        moment = now or utc_now()
        ids = claim(db, worker, moment, batch)
        if not ids:
            return DispatchReport(outcomes)
        for notification_id in ids:
            outcomes[_deliver(db, channels, notification_id, worker, moment, max_attempts)] += 1


def _deliver(
    db: Database,
    channels: Mapping[str, Sender],
    notification_id: int,
    worker: str,
    now: dt.datetime,
    max_attempts: int,
) -> str:
    prepared = _prepare(db, notification_id, worker, now)
    if isinstance(prepared, str):
        return prepared
    with db.reading() as session:
        channel = session.scalar(
            select(Notification.channel).where(Notification.id == notification_id)
        )
    if channel == "voice":
        # A robocall is the dialer's work: once the rules allow it, it becomes its task.
        with db.transaction() as session:
            session.execute(
                update(Notification)
                .where(Notification.id == notification_id, Notification.claimed_by == worker)
                .values(state="task", claimed_by=None, claimed_until=None, updated_at=now)
            )
        return "task"
    sender = channels.get(channel or "")
    if sender is None:
        with db.transaction() as session:
            session.execute(
                update(Notification)
                .where(Notification.id == notification_id, Notification.claimed_by == worker)
                .values(
                    state="pending",
                    not_before=now + NO_CHANNEL_WAIT,
                    claimed_by=None,
                    claimed_until=None,
                    last_error=f"no {channel} channel is configured",
                )
            )
        return "no_channel"
    try:
        provider_id = sender.send(prepared)
    except DeliveryError as error:
        return _record(db, notification_id, worker, now, error=error, max_attempts=max_attempts)
    return _record(db, notification_id, worker, now, provider_id=provider_id)


def run_workers(
    db: Database,
    channels: Mapping[str, Sender],
    *,
    workers: int = 1,
    once: bool = False,
    poll: float = 5.0,
    stop: threading.Event | None = None,
    now: dt.datetime | None = None,
) -> DispatchReport:
    """Run ``workers`` dispatch loops in threads; with ``once``, until nothing is due.

    ``now`` fixes the clock (for tests); by default each pass reads it.
    """
    stop = stop or threading.Event()
    totals: Counter[str] = Counter()
    lock = threading.Lock()

    def loop(name: str, settles: bool) -> None:
        while not stop.is_set():
            report = dispatch_once(db, channels, worker=name, now=now)
            if settles:
                settle_rewards(db, now)
            with lock:
                totals.update(report.outcomes)
            if once:
                return
            stop.wait(poll)

    threads = [
        threading.Thread(
            target=loop, args=(f"worker-{n}-{time.monotonic_ns()}", n == 1), daemon=True
        )
        for n in range(1, workers + 1)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return DispatchReport(totals)


# --- receipts, dead letters, rewards ----------------------------------------------------------

#: Twilio's message statuses that end a message's delivery.
DELIVERED: Final = frozenset({"delivered"})
UNDELIVERED: Final = frozenset({"failed", "undelivered"})


def record_receipt(
    db: Database, provider_id: str, status: str, error_code: str | None = None
) -> str | None:
    """Apply a delivery receipt to the notification with ``provider_id``; its new state.

    None when no notification has that id. Failures count against the channel.
    """
    now = utc_now()
    with db.transaction() as session:
        row = session.scalars(
            select(Notification).where(Notification.provider_id == provider_id)
        ).first()
        if row is None:
            return None
        if status in DELIVERED and row.state == "sent":
            row.state, row.delivered_at, row.updated_at = "delivered", now, now
        elif status in UNDELIVERED and row.state in ("sent", "delivered"):
            row.state, row.updated_at = "failed", now
            row.last_error = f"the provider reported {status}" + (
                f" (error {error_code})" if error_code else ""
            )
            count_failure(session, row)
        return row.state


def requeue(db: Database, ids: Iterable[int] | None = None) -> int:
    """Put dead notifications (all, or those in ``ids``) back in the queue; how many."""
    now = utc_now()
    statement = update(Notification).where(Notification.state == "dead")
    if ids is not None:
        statement = statement.where(Notification.id.in_(list(ids)))
    with db.transaction() as session:
        result = session.execute(
            statement.values(state="pending", attempts=0, not_before=now, updated_at=now)
        )
        return int(getattr(result, "rowcount", 0) or 0)


def settle_rewards(db: Database, now: dt.datetime | None = None) -> int:
    """Reward each sent reminder whose 48 hours are over, or whose installment was paid.

    A payment within 48 hours of the reminder is a success of its (channel, hour) arm.
    """
    moment = now or utc_now()
    window = dt.timedelta(hours=timing.REWARD_HOURS)
    settled = 0
    with db.transaction() as session:
        rows = session.execute(
            select(Notification, InstallmentRow.settled_on)
            .join(
                InstallmentRow,
                and_(
                    InstallmentRow.loan_id == Notification.loan_id,
                    InstallmentRow.number == Notification.installment,
                ),
            )
            .where(
                Notification.state.in_(("sent", "delivered")),
                Notification.rewarded.is_(None),
                Notification.hour.is_not(None),
            )
        )
        for row, settled_on in rows:
            if row.sent_at is None:
                continue
            sent = row.sent_at if row.sent_at.tzinfo else row.sent_at.replace(tzinfo=dt.UTC)
            paid = settled_on is not None and settled_on <= (sent + window).date()
            if not paid and moment < sent + window:
                continue
            assert row.hour is not None
            timing.reward(session, row.borrower_id, (row.channel, row.hour), paid=paid)
            row.rewarded = paid
            settled += 1
    return settled
