"""Collections' side of the contact-rule engine: the history every collector shares, the check
before a call or a visit, and the notifications a treatment step sends.

Reminders and collections go through the same :func:`tenor.core.contact.check`; the history
it is given holds the notifications sent (reminders and collection messages) and every contact
outcome recorded by collectors and agencies, so that a cap counts everyone who collects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenor.collect.tables import ContactOutcome
from tenor.core.collection import OutcomeCode
from tenor.core.contact import (
    DEBTOR,
    Allowed,
    Channel,
    Contact,
    PastContact,
    Refused,
    check,
    profile,
)
from tenor.core.money import Money
from tenor.notify.reminders import (
    BorrowerRecord,
    borrower_context,
    contact_history,
    first_contact,
    recipient,
    send_instant,
)
from tenor.notify.render import ReminderFacts, render
from tenor.notify.tables import outbox_row
from tenor.store.bulk import among
from tenor.store.models import Borrower, utc_now

#: How far back the contact rules look (the longest window of any profile, with margin).
HISTORY_DAYS: Final = 10

#: The hour of the borrower's day at which a collection message is sent.
MESSAGE_HOUR: Final = 10

#: Notification channel of each message action ("letter": a formal demand, sent by email).
MESSAGE_CHANNEL: Final = {"sms": "sms", "push": "push", "email": "email", "letter": "email"}

#: Who a wrong-party contact reached: not the debtor, nobody the rules know by name.
WRONG_PARTY: Final = "wrong-party"


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def shared_history(
    session: Session, borrower_ids: Iterable[int], since: dt.datetime
) -> dict[int, list[PastContact]]:
    """Each borrower's contacts since ``since``: notifications sent and contact outcomes."""
    ids = sorted(set(borrower_ids))
    history = contact_history(session, ids, since)
    for condition in among(session, ContactOutcome.borrower_id, ids):
        rows = session.execute(
            select(
                ContactOutcome.borrower_id,
                ContactOutcome.at,
                ContactOutcome.channel,
                ContactOutcome.loan_id,
                ContactOutcome.code,
            )
            .where(condition, ContactOutcome.at >= since)
            .order_by(ContactOutcome.id)
        )
        for borrower_id, at, channel, loan_id, outcome in rows:
            code = OutcomeCode(outcome)
            history.setdefault(borrower_id, []).append(
                PastContact(
                    at=_aware(at),
                    channel=Channel(channel),
                    debt=str(loan_id),
                    connected=code.connected,
                    conversation=code.conversation and code is not OutcomeCode.WRONG_PARTY,
                    person=WRONG_PARTY if code is OutcomeCode.WRONG_PARTY else DEBTOR,
                )
            )
    return history


def check_contact(
    session: Session,
    borrower: Borrower,
    loan_id: int,
    channel: Channel,
    at: dt.datetime,
    contact_profile: str,
) -> Allowed | Refused:
    """May a collector contact the borrower about the loan on ``channel`` at ``at``?"""
    since = at - dt.timedelta(days=HISTORY_DAYS)
    history = shared_history(session, [borrower.id], since).get(borrower.id, [])
    return check(
        Contact(channel, debt=str(loan_id)),
        history,
        borrower_context(borrower),
        profile(contact_profile),
        at,
    )


def message_row(
    borrower: BorrowerRecord,
    *,
    case_id: int,
    step: int,
    action: str,
    template: str,
    facts: ReminderFacts,
    day: dt.date,
    contact_profile: str,
    history: list[PastContact],
) -> dict[str, Any]:
    """The outbox row of a collection message, checked against the contact rules: pending,
    held until the rules allow it, or refused (an opt-out, no address)."""
    channel = MESSAGE_CHANNEL[action]
    at = send_instant(day, borrower.time_zone or "Asia/Shanghai", MESSAGE_HOUR)
    rules = profile(contact_profile)
    context = borrower_context(borrower)
    decision = (
        check(Contact(Channel(channel), debt=str(facts.loan_id)), history, context, rules, at)
        if history
        else first_contact(Channel(channel), context, contact_profile, at)
    )
    state, rule, not_before = "pending", None, at
    if isinstance(decision, Refused):
        rule = decision.rule
        if decision.next_allowed_at is None:
            state = "refused"
        else:
            state, not_before = "held", decision.next_allowed_at.astimezone(dt.UTC)
    address = recipient(borrower, channel)
    if address is None:
        state, rule = "refused", "no_address"
    opt_out = channel in ("sms", "email") and bool(rules.opt_out_notice_channels)
    message = render(template, channel, borrower.locale, facts, opt_out=opt_out)
    return outbox_row(
        dedupe_key=f"collection:{case_id}:{day.isoformat()}:{step}:{channel}",
        kind="collection",
        borrower_id=borrower.id,
        facts=facts,
        channel=channel,
        recipient=address,
        locale=borrower.locale,
        message=message,
        policy=f"collection:{action}",
        contact_profile=contact_profile,
        hour=MESSAGE_HOUR,
        state=state,
        not_before=not_before,
        rule=rule,
        now=utc_now(),
    )


def message_facts(
    borrower: BorrowerRecord,
    loan_id: int,
    arrears: Money,
    oldest_due: dt.date,
    days_past_due: int,
) -> ReminderFacts:
    """What a collection message tells: the amount past due, since when, how many days."""
    return ReminderFacts(
        name=borrower.name,
        loan_id=loan_id,
        installment=0,
        amount=arrears,
        due_date=oldest_due,
        offset_days=days_past_due,
    )
