"""The demo's consumers get real credit_data applicants as profiles, seeded, and more often a
bad applicant the worse they will pay; the champion scores them apart."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import numpy as np
import pandas as pd

from tenor.risk.close import applicant_frame
from tenor.risk.datasets import Dataset, characteristics_of
from tenor.risk.demo_profiles import draw_profiles
from tenor.risk.scorecard import Scorecard
from tenor.simulation import Behaviour, plan_book

START = dt.date(2026, 1, 5)


def test_profiles_are_seeded_real_applicants_and_only_for_individuals(
    credit: tuple[pd.DataFrame, np.ndarray],
) -> None:
    plan = plan_book(borrowers=120, months=6, seed=5, start=START)
    profiles = draw_profiles(plan)
    assert profiles == draw_profiles(plan)
    assert profiles != draw_profiles(plan_book(borrowers=120, months=6, seed=6, start=START))
    individuals = {item.number for item in plan.borrowers if item.kind == "individual"}
    assert set(profiles) == individuals
    frame, _ = credit
    rows = {tuple(row) for row in frame.astype(object).where(frame.notna(), None).values}
    for profile in profiles.values():
        assert tuple(profile) == characteristics_of(Dataset.CREDIT_DATA)
        assert tuple(profile.values()) in rows


def test_the_champion_scores_borrowers_who_will_default_lower(credit_card: Scorecard) -> None:
    plan = plan_book(borrowers=1500, months=6, seed=5, start=START)
    profiles = draw_profiles(plan)
    behaviour = {item.number: item.behaviour for item in plan.borrowers}
    numbers = sorted(profiles)
    scores = credit_card.score(applicant_frame([profiles[n] for n in numbers], credit_card.inputs))
    by_behaviour: defaultdict[Behaviour, list[int]] = defaultdict(list)
    for number, score in zip(numbers, scores, strict=True):
        by_behaviour[behaviour[number]].append(int(score))
    mean = {key: float(np.mean(values)) for key, values in by_behaviour.items()}
    # Seed 5: defaulters about 500 points, late payers 516, those who pay on time 535.
    assert mean[Behaviour.DEFAULTS] + 10 < mean[Behaviour.LATE]
    assert mean[Behaviour.LATE] + 10 < mean[Behaviour.ON_TIME]
