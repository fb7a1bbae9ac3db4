"""Risk fixtures: one scorecard fitted on the German credit data, shared by the whole run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tenor.risk.datasets import Dataset, load
from tenor.risk.scorecard import Scorecard, ScorecardParams, fit_scorecard

#: Fewer penalties than the champion's grid: the tests check the mechanics, not the tuning.
QUICK = ScorecardParams(penalties=(0.03, 0.3), inner_folds=3)


@pytest.fixture(scope="session")
def german() -> tuple[pd.DataFrame, np.ndarray]:
    """The German credit applicants and outcomes (1 = bad)."""
    return load(Dataset.GERMAN_CREDIT)


#: The characteristics the tests' scorecard uses: the strongest ones, to keep the fit quick.
COLUMNS = [
    "status_of_existing_checking_account",
    "duration_in_month",
    "credit_history",
    "purpose",
    "credit_amount",
    "savings_account_and_bonds",
    "age_in_years",
    "property",
]


@pytest.fixture(scope="session")
def german_card(german: tuple[pd.DataFrame, np.ndarray]) -> Scorecard:
    """A scorecard fitted once on eight characteristics of the German credit data."""
    frame, outcome = german
    return fit_scorecard(frame[COLUMNS], outcome, QUICK)


@pytest.fixture(scope="session")
def credit() -> tuple[pd.DataFrame, np.ndarray]:
    """The credit_data applicants and outcomes (1 = bad): the shape of the demo's profiles."""
    return load(Dataset.CREDIT_DATA)


@pytest.fixture(scope="session")
def credit_card(credit: tuple[pd.DataFrame, np.ndarray]) -> Scorecard:
    """A scorecard fitted once on every characteristic of the credit_data applicants."""
    frame, outcome = credit
    return fit_scorecard(frame, outcome, QUICK)
