"""What collections know of a loan, as features for the propensity-to-pay model.

One row per loan and date on which something changed: the counts, as of that date, of promises
kept and broken and of contacts and right-party contacts. The model joins them as of each
observation date (:func:`tenor.risk.propensity.join_extra`), so a feature never sees the future.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Final

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from tenor.collect.tables import ContactOutcome, Promise

#: The features, each a running count.
FEATURES: Final = ("promises_kept", "promises_broken", "contacts", "right_party_contacts")


def collection_features(session: Session, loan_ids: Sequence[int] | None = None) -> pl.DataFrame:
    """Running counts per loan, one row per (loan, date) where one of them moved; of the whole
    book, or of ``loan_ids`` only."""
    changes: dict[tuple[int, object], dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(FEATURES, 0)
    )
    promises = select(Promise.loan_id, Promise.status, Promise.decided_on).where(
        Promise.status.in_(("kept", "broken"))
    )
    contacts = select(ContactOutcome.loan_id, ContactOutcome.code, ContactOutcome.business_date)
    wanted = sorted(set(loan_ids or ()))
    chunks: list[list[int] | None] = (
        [None]
        if loan_ids is None
        else [wanted[start : start + 500] for start in range(0, len(wanted), 500)]
    )
    for chunk in chunks:
        in_chunk = [] if chunk is None else [Promise.loan_id.in_(chunk)]
        for loan_id, status, decided_on in session.execute(promises.where(*in_chunk)):
            changes[(loan_id, decided_on)][f"promises_{status}"] += 1
        in_chunk = [] if chunk is None else [ContactOutcome.loan_id.in_(chunk)]
        for loan_id, code, contacted_on in session.execute(contacts.where(*in_chunk)):
            moved = changes[(loan_id, contacted_on)]
            moved["contacts"] += 1
            moved["right_party_contacts"] += code not in ("no_answer", "wrong_party")
    rows = []
    running: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FEATURES, 0))
    for (loan_id, day), delta in sorted(changes.items()):
        total = running[loan_id]
        for name in FEATURES:
            total[name] += delta[name]
        rows.append({"loan_id": loan_id, "business_date": day, **total})
    schema: dict[str, Any] = {
        "loan_id": pl.Int64,
        "business_date": pl.Date,
        **dict.fromkeys(FEATURES, pl.Int64),
    }
    return pl.DataFrame(rows, schema=schema)
