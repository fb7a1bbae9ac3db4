"""Money received on loans, as collections reads it from the journal: repayments and recoveries
after a write-off, less any that were reversed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenor.core.money import Money
from tenor.store.codec import money_from_json
from tenor.store.models import JournalEntry

#: Journal kinds that bring money in.
RECEIVED: Final = ("repayment-received", "recovered")


@dataclass(frozen=True, slots=True)
class Received:
    """One payment on a loan that stands (not reversed)."""

    event_id: str
    loan_id: int
    value_date: dt.date
    amount: Money
    channel: str | None


def payments_between(
    session: Session, since: Mapping[int, dt.date], through: dt.date
) -> dict[int, list[Received]]:
    """Each loan's payments value-dated from its ``since`` date through ``through``."""
    found: dict[int, list[Received]] = {}
    ids = sorted(since)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        earliest = min(since[loan_id] for loan_id in chunk)
        rows = session.execute(
            select(
                JournalEntry.event_id,
                JournalEntry.loan_id,
                JournalEntry.kind,
                JournalEntry.value_date,
                JournalEntry.payload,
            ).where(
                JournalEntry.loan_id.in_(chunk),
                JournalEntry.kind.in_((*RECEIVED, "reversed")),
            )
        ).all()
        reversed_ids = {row.payload["target"] for row in rows if row.kind == "reversed"}
        for row in rows:
            if row.kind == "reversed" or row.event_id in reversed_ids:
                continue
            if not earliest <= row.value_date <= through or row.value_date < since[row.loan_id]:
                continue
            found.setdefault(row.loan_id, []).append(
                Received(
                    event_id=row.event_id,
                    loan_id=row.loan_id,
                    value_date=row.value_date,
                    amount=money_from_json(row.payload["amount"]),
                    channel=row.payload.get("channel"),
                )
            )
    for payments in found.values():
        payments.sort(key=lambda p: (p.value_date, p.event_id))
    return found
