"""What collections tell reminders: loans whose borrower promised to pay or disputes the debt.

A reminder policy may stop on either (``stop_when: [promise_to_pay, dispute]``): a borrower
who agreed a date with a collector is not also reminded the debt is overdue, and a disputed
debt is not chased while it is looked into.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenor.collect.tables import Dispute, Promise
from tenor.core.collection import PromiseStatus
from tenor.store.bulk import among


def reminder_stops(session: Session, loan_ids: Iterable[int]) -> tuple[set[int], set[int]]:
    """Of ``loan_ids``: those with a promise to pay pending, and those with an open dispute."""
    ids = sorted(set(loan_ids))
    promised: set[int] = set()
    disputed: set[int] = set()
    for condition in among(session, Promise.loan_id, ids):
        promised.update(
            session.scalars(
                select(Promise.loan_id).where(
                    condition, Promise.status == PromiseStatus.PENDING.value
                )
            )
        )
    for condition in among(session, Dispute.loan_id, ids):
        disputed.update(
            session.scalars(select(Dispute.loan_id).where(condition, Dispute.resolved_on.is_(None)))
        )
    return promised, disputed
