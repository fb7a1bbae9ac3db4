"""What the staff loan page reads beside the loan's documents: its contacts (the notification
outbox), its relief, its bureau records and its place in the transparency log.

- **Contacts** are the outbox rows about the loan, newest first: channel, state, when sent,
  and for a contact the rules refused, the rule (and until when it is held). A message's text
  is not shown: the rows of a borrower's sign-in codes are about no loan and never appear.
- **Relief** is the relief capability's own document of the loan (requests, offers with their
  schedules, the watch flag) and the ``restructured`` events of the journal.
- **Bureau records** are what reporting says of each month end, computed as the exports
  compute them (:mod:`tenor.bureau.snapshot`, :func:`tenor.core.bureau.pboc_months` and
  :func:`~tenor.core.bureau.metro2_months`), with the loan's reporting settings, special
  comments, disputes and correction files.
- **Audit**: which events a signed tree head covers, so that their inclusion receipts
  (:func:`tenor.audit.receipts.build_receipt`) can be downloaded.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tenor.audit.log import tree_head_document, tree_heads
from tenor.audit.tables import AuditLeaf
from tenor.bureau.snapshot import load_history
from tenor.bureau.tables import BureauAccount, BureauComment, BureauDispute, BureauExport
from tenor.core.bureau import metro2_months, pboc_months
from tenor.notify.tables import Notification
from tenor.relief.workflow import loan_relief_document
from tenor.store.models import JournalEntry
from tenor.web.accounts import aware

#: Outbox rows the loan page lists (the newest).
CONTACT_ROWS: Final = 50
#: Month ends of bureau records the loan page lists (the newest), as a PBOC profile holds.
BUREAU_MONTHS: Final = 24


@dataclass(frozen=True, slots=True)
class Contacts:
    """The newest outbox rows about a loan, and how many there are in all."""

    rows: list[dict[str, Any]]
    total: int


def contacts(session: Session, loan_id: int) -> Contacts:
    """The loan's notifications, newest first: what was sent, held or refused, and why."""
    total = session.scalar(
        select(func.count()).select_from(Notification).where(Notification.loan_id == loan_id)
    )
    rows = session.scalars(
        select(Notification)
        .where(Notification.loan_id == loan_id)
        .order_by(Notification.id.desc())
        .limit(CONTACT_ROWS)
    )
    return Contacts(
        [
            {
                "id": row.id,
                "kind": row.kind,
                "channel": row.channel,
                "state": row.state,
                "rule": row.rule,
                "installment": row.installment,
                "offset_days": row.offset_days,
                "policy": row.policy,
                "attempts": row.attempts,
                "created_at": aware(row.created_at),
                "not_before": aware(row.not_before),
                "sent_at": None if row.sent_at is None else aware(row.sent_at),
                "delivered_at": None if row.delivered_at is None else aware(row.delivered_at),
                "last_error": row.last_error,
            }
            for row in rows
        ],
        int(total or 0),
    )


def relief(session: Session, loan_id: int, events: list[dict[str, Any]]) -> dict[str, Any]:
    """The loan's relief document and its ``restructured`` journal events (newest first)."""
    return {
        **loan_relief_document(session, loan_id),
        "restructurings": [event for event in reversed(events) if event["kind"] == "restructured"],
    }


def _last_month_end(day: dt.date) -> dt.date:
    return day.replace(day=1) - dt.timedelta(days=1)


def bureau(
    session: Session, loan_id: int, day: dt.date, events: list[dict[str, Any]]
) -> dict[str, Any]:
    """The loan's bureau records month by month up to the last month end before ``day``."""
    account = session.get(BureauAccount, loan_id)
    comments = list(
        session.scalars(
            select(BureauComment)
            .where(BureauComment.loan_id == loan_id)
            .order_by(BureauComment.starts_on)
        )
    )
    history = load_history(
        session,
        loan_id,
        _last_month_end(day),
        collections_on=None if account is None else account.collections_on,
    )
    # The exports' rule: a restructuring (journal or comment) marks its month as an extension.
    extended = [row.starts_on for row in comments] + [
        dt.date.fromisoformat(event["value_date"])
        for event in events
        if event["kind"] == "restructured"
    ]
    months = []
    for pboc, metro2 in zip(
        pboc_months(history.months, extended), metro2_months(history.months), strict=True
    ):
        facts = pboc.facts
        if not facts.opened:
            continue
        months.append(
            {
                "month": f"{facts.month_end:%Y-%m}",
                "character": pboc.status_character,
                "status": pboc.account_status,
                "history_24": pboc.history_24,
                "special": pboc.special_transactions,
                "metro2_status": metro2.account_status,
                "payment_rating": metro2.payment_rating,
                "profile": metro2.payment_history_profile,
                "balance": facts.balance.format(),
                "past_due": facts.past_due.format(),
                "days_past_due": facts.days_past_due,
                "loan_class": int(facts.loan_class),
            }
        )
    return {
        "account": account,
        "months": list(reversed(months))[:BUREAU_MONTHS],
        "comments": comments,
        "disputes": list(
            session.scalars(
                select(BureauDispute)
                .where(BureauDispute.loan_id == loan_id)
                .order_by(BureauDispute.opened_on)
            )
        ),
        "corrections": list(
            session.scalars(
                select(BureauExport)
                .where(BureauExport.loan_id == loan_id)
                .order_by(BureauExport.id.desc())
            )
        ),
    }


@dataclass(frozen=True, slots=True)
class AuditStatus:
    """Which of the loan's events the newest signed tree head covers."""

    logged: int
    covered: frozenset[str]
    head: dict[str, Any] | None


def audit(session: Session, loan_id: int) -> AuditStatus:
    """The loan's leaves in the transparency log and the newest signed tree head."""
    leaves = session.execute(
        select(AuditLeaf.event_id, AuditLeaf.leaf_index).where(AuditLeaf.loan_id == loan_id)
    ).all()
    newest = tree_heads(session, limit=1)
    size = newest[0].tree_size if newest else 0
    return AuditStatus(
        logged=len(leaves),
        covered=frozenset(
            str(event_id)
            for event_id, index in leaves
            if event_id is not None and index is not None and index < size
        ),
        head=tree_head_document(newest[0]) if newest else None,
    )


def event_of_loan(session: Session, loan_id: int, event_id: str) -> bool:
    """Whether journal event ``event_id`` is one of loan ``loan_id``'s."""
    found = session.scalar(select(JournalEntry.loan_id).where(JournalEntry.event_id == event_id))
    return found == loan_id
