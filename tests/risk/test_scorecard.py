"""The PD scorecard: points, reasons, reproducibility; the CV comparison's metrics and shape."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from tenor.risk.datasets import Dataset, data_hash, load
from tenor.risk.evaluate import evaluate, metrics
from tenor.risk.registry import score_frame
from tenor.risk.scorecard import Scorecard, fit_scorecard, with_derived
from tests.risk.conftest import QUICK


def test_score_is_the_sum_of_the_bins_points(
    german: tuple[pd.DataFrame, np.ndarray], german_card: Scorecard
) -> None:
    frame, _ = german
    head = frame.head(20)
    indices = german_card.bin_indices(head)
    by_hand = sum(
        german_card.points[name][indices[name].to_numpy()] for name in german_card.characteristics
    )
    assert german_card.score(head).tolist() == list(by_hand)
    table = german_card.table()
    assert {row["characteristic"] for row in table} == set(german_card.characteristics)
    assert all(isinstance(row["points"], int) for row in table)


def test_points_follow_the_scale(german_card: Scorecard) -> None:
    """600 points at odds 50:1 and 20 points to double them: score tracks the log odds."""
    frame, _ = load(Dataset.GERMAN_CREDIT)
    log_odds = german_card.log_odds(frame)
    factor = 20 / math.log(2)
    exact = 600 - factor * math.log(50) - factor * log_odds
    # Each characteristic's points are rounded once: the sum is within half a point each.
    assert np.max(np.abs(german_card.score(frame) - exact)) <= len(german_card.characteristics) / 2


def test_the_card_separates_good_from_bad(
    german: tuple[pd.DataFrame, np.ndarray], german_card: Scorecard
) -> None:
    frame, outcome = german
    assert roc_auc_score(outcome, german_card.predict_proba(frame)[:, 1]) > 0.75
    # A higher score means a safer borrower.
    assert roc_auc_score(outcome, -german_card.score(frame)) > 0.75


def test_reasons_are_the_bins_that_cost_most(german_card: Scorecard) -> None:
    frame, _ = load(Dataset.GERMAN_CREDIT)
    row = frame.head(1)
    reasons = german_card.reasons(row, top=3)[0]
    indices = german_card.bin_indices(row)
    lost = sorted(
        (
            int(german_card.points[name].max() - german_card.points[name][indices[name].iat[0]])
            for name in german_card.characteristics
        ),
        reverse=True,
    )
    assert [reason.points_lost for reason in reasons] == [item for item in lost[:3] if item > 0]


def test_training_is_reproducible(german: tuple[pd.DataFrame, np.ndarray]) -> None:
    frame, outcome = german
    columns = ["status_of_existing_checking_account", "duration_in_month", "credit_amount"]
    sample, labels = frame[columns].head(400), outcome[:400]
    first = fit_scorecard(sample, labels, QUICK)
    again = fit_scorecard(sample.copy(), labels.copy(), QUICK)
    assert again.table() == first.table()
    assert again.penalty == first.penalty
    assert np.array_equal(again.log_odds(frame[columns]), first.log_odds(frame[columns]))


def test_unseen_and_missing_values_score_as_missing(german_card: Scorecard) -> None:
    frame, _ = load(Dataset.GERMAN_CREDIT)
    odd = frame.head(2).copy()
    odd["purpose"] = "a spaceship"
    odd["age_in_years"] = np.nan
    scored = score_frame(german_card, odd)
    assert scored["score"].notna().all()
    assert scored["probability"].between(0, 1).all()


def test_a_frame_without_a_characteristic_is_refused(german_card: Scorecard) -> None:
    frame, _ = load(Dataset.GERMAN_CREDIT)
    with pytest.raises(ValueError, match="missing characteristics: purpose"):
        german_card.score(frame.drop(columns=["purpose"]).head(1))


def test_derived_characteristics_only_where_their_inputs_are() -> None:
    frame = pd.DataFrame({"Amount": [1000, 500], "Price": [2000, 0], "Other": [1, 2]})
    derived = with_derived(frame)
    assert derived["loan_to_value"].iloc[0] == 0.5
    assert math.isnan(derived["loan_to_value"].iloc[1])  # a zero price: missing, not infinite
    assert "instalment" not in derived.columns


def test_data_hash_changes_with_the_data(german: tuple[pd.DataFrame, np.ndarray]) -> None:
    frame, outcome = german
    flipped = outcome.copy()
    flipped[0] = 1 - flipped[0]
    assert data_hash(frame, outcome) == data_hash(frame.copy(), outcome.copy())
    assert data_hash(frame, outcome) != data_hash(frame, flipped)


def test_metrics_on_a_worked_example() -> None:
    outcome = np.array([0, 0, 1, 1])
    perfect = metrics(outcome, np.array([0.1, 0.2, 0.8, 0.9]))
    assert perfect["auc"] == 1.0
    assert perfect["gini"] == 1.0
    assert perfect["ks"] == 1.0
    assert perfect["brier"] == pytest.approx((0.01 + 0.04 + 0.04 + 0.01) / 4)
    useless = metrics(outcome, np.array([0.5, 0.5, 0.5, 0.5]))
    assert useless["auc"] == 0.5


def test_calibration_of_a_calibrated_model_is_slope_one() -> None:
    rng = np.random.default_rng(7)
    probability = rng.uniform(0.05, 0.95, 20_000)
    outcome = (rng.uniform(size=probability.size) < probability).astype(int)
    result = metrics(outcome, probability)
    assert result["calibration_slope"] == pytest.approx(1.0, abs=0.08)
    assert result["calibration_intercept"] == pytest.approx(0.0, abs=0.05)


def test_evaluate_runs_every_model_on_the_same_folds(
    german: tuple[pd.DataFrame, np.ndarray],
) -> None:
    frame, outcome = german
    rows = np.random.default_rng(0).choice(len(frame), 400, replace=False)
    sample, labels = frame.iloc[rows].reset_index(drop=True), outcome[rows]
    report = evaluate(sample, labels, repeats=1, folds=2, models=("logistic", "hgb", "toad"))
    assert list(report["models"]) == ["logistic", "hgb", "toad"]
    for item in report["models"].values():
        assert set(item) >= {"auc", "gini", "ks", "brier", "calibration_slope"}
        assert len(item["fold_auc"]) == 2
    again = evaluate(sample, labels, repeats=1, folds=2, models=("logistic",))
    assert again["models"]["logistic"] == report["models"]["logistic"]
