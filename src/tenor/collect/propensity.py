"""Propensity to pay of delinquent loans: what collectors' queues rank by, and what smart
reminders escalate or spare by.

The promoted propensity model (``tenor risk train-propensity``, then ``promote``) scores a loan
with the collections features it was trained with. Before any model is promoted, or for a loan
the model does not score, a transparent heuristic answers: a base rate by days past due, moved
by the loan's promises kept and broken and by a payment in the last 30 days
(:func:`tenor.core.collection.heuristic_propensity`). Every answer says which of the two gave it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenor.collect.features import collection_features
from tenor.collect.payments import payments_between
from tenor.collect.tables import Promise
from tenor.core.collection import heuristic_propensity
from tenor.risk.propensity import MODEL_NAME, score_loans

#: The source of a propensity given by :func:`tenor.core.collection.heuristic_propensity`.
HEURISTIC: Final = "heuristic"

#: Days back that count as a recent payment for the heuristic.
RECENT_PAYMENT_DAYS: Final = 30


@dataclass(frozen=True, slots=True)
class Propensity:
    """A delinquent loan's chance of a payment within 14 days, and what gave it."""

    chance: Decimal
    source: str


def loan_propensities(
    session: Session, days_past_due: Mapping[int, int], day: dt.date
) -> dict[int, Propensity]:
    """The propensity to pay of each loan in ``days_past_due`` (loan id to its days past due)
    at the end of business date ``day``: by the promoted model where it scores the loan, by
    the heuristic otherwise."""
    if not days_past_due:
        return {}
    ids = sorted(days_past_due)
    scored = score_loans(session, ids, day, extra=collection_features(session, ids)) or {}
    kept: dict[int, int] = defaultdict(int)
    broken: dict[int, int] = defaultdict(int)
    for start in range(0, len(ids), 500):
        for loan_id, status in session.execute(
            select(Promise.loan_id, Promise.status).where(
                Promise.loan_id.in_(ids[start : start + 500]),
                Promise.status.in_(("kept", "broken")),
                Promise.decided_on <= day,
            )
        ):
            (kept if status == "kept" else broken)[loan_id] += 1
    recent = payments_between(
        session, dict.fromkeys(ids, day - dt.timedelta(days=RECENT_PAYMENT_DAYS)), day
    )
    answers = {}
    for loan_id in ids:
        if loan_id in scored:
            answers[loan_id] = Propensity(Decimal(str(round(scored[loan_id], 4))), MODEL_NAME)
        else:
            chance = heuristic_propensity(
                days_past_due[loan_id], kept[loan_id], broken[loan_id], bool(recent.get(loan_id))
            )
            answers[loan_id] = Propensity(chance, HEURISTIC)
    return answers
