"""Risk profiles for the demo book's consumers, drawn from the public ``credit_data`` applicants.

A lender keeps each borrower's application; the demo has none, so each individual borrower is
given the characteristics of one real applicant of the ``credit_data`` set (seniority, home,
income, expenses, assets, debt, amount, price...) as they stand in the file. Which applicant
depends on how the borrower will behave: one who will default is more likely to get an
applicant the data set knows went bad (:data:`BAD_SHARE`), so that the champion scorecard's
scores of the demo book rank its borrowers as their payments later do. Enterprises get no
profile: a consumer application scorecard does not score them.

Every draw comes from ``random.Random`` seeded by the book's seed and the borrower's number.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy.orm import Session

from tenor.risk.actions import record_profiles
from tenor.risk.datasets import Dataset, load

#: For each demo behaviour, the chance the borrower's profile is an applicant who went bad.
BAD_SHARE: Final = {
    "on-time": 0.12,
    "early": 0.10,
    "late": 0.45,
    "partial": 0.40,
    "settles-early": 0.12,
    "cures": 0.50,
    "defaults": 0.80,
}


def _native(value: Any) -> Any:
    if isinstance(value, str):
        return value
    number = float(value)
    if math.isnan(number):
        return None
    return int(number) if number.is_integer() else number


def draw_profiles(plan: Any) -> dict[int, dict[str, Any]]:
    """Characteristics for each individual borrower of ``plan`` (a demo ``BookPlan``), by the
    borrower's number in the plan."""
    frame, outcome = load(Dataset.CREDIT_DATA)
    records = [
        {name: _native(value) for name, value in row.items()}
        for row in frame.to_dict(orient="records")
    ]
    good = [record for record, bad in zip(records, outcome, strict=True) if not bad]
    bad = [record for record, bad in zip(records, outcome, strict=True) if bad]
    profiles = {}
    for borrower in plan.borrowers:
        if borrower.kind != "individual":
            continue
        rng = random.Random(f"tenor-demo:{plan.seed}:profile:{borrower.number}")
        pool = bad if rng.random() < BAD_SHARE[str(borrower.behaviour)] else good
        profiles[borrower.number] = dict(rng.choice(pool))
    return profiles


def record_demo_profiles(session: Session, plan: Any, borrower_ids: Mapping[int, int]) -> int:
    """Record the demo's profiles (``borrower_ids``: plan number -> database id); how many."""
    profiles = draw_profiles(plan)
    return record_profiles(
        session,
        [(borrower_ids[number], characteristics) for number, characteristics in profiles.items()],
        dataset=Dataset.CREDIT_DATA.value,
        actor="demo",
    )
