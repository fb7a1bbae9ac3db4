"""Cross-validated comparison of Tenor's scorecard with the models a lender would try instead.

Every model is fitted and tested on the same folds of repeated stratified 5-fold
cross-validation in one run (fixed seeds), and reported by its mean over the folds: AUC, Gini,
KS, Brier score, and the calibration slope and intercept (a logistic regression of the outcome
on the model's log odds; a perfectly calibrated model has slope 1, intercept 0).

The models: ``tenor`` (:mod:`tenor.risk.scorecard`); ``logistic``, scikit-learn's logistic
regression on one-hot categories and standardised numbers; ``optbinning``, optbinning's
``Scorecard`` with its defaults; ``toad``, toad's ``ScoreCard`` on chi-merge bins; ``hgb``,
scikit-learn's ``HistGradientBoostingClassifier``; and ``lightgbm``, Tenor's gradient-boosted
challenger with sigmoid-calibrated probabilities.
"""

# optbinning, toad and LightGBM load only when their model is asked for (toad may be missing).
# ruff: noqa: PLC0415

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any, Final

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve
from sklearn.model_selection import RepeatedStratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from tenor.risk.scorecard import ScorecardParams, categorical_columns, fit_scorecard

#: The extra that installs the comparison-only libraries.
COMPARE_EXTRA: Final = "risk-compare"

Fitter = Callable[[pd.DataFrame, np.ndarray, pd.DataFrame, int], np.ndarray]


class MissingExtraError(RuntimeError):
    """A comparison model needs a library that is not installed."""


def _tenor(train: pd.DataFrame, outcome: np.ndarray, test: pd.DataFrame, seed: int) -> np.ndarray:
    card = fit_scorecard(train, outcome, ScorecardParams(seed=seed))
    return card.predict_proba(test)[:, 1]


def _logistic(
    train: pd.DataFrame, outcome: np.ndarray, test: pd.DataFrame, seed: int
) -> np.ndarray:
    categorical = categorical_columns(train)
    numeric = [name for name in train.columns if name not in categorical]
    columns = ColumnTransformer(
        [
            (
                "categories",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                categorical,
            ),
            ("numbers", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
        ]
    )
    model = make_pipeline(columns, LogisticRegression(max_iter=5000, random_state=seed))
    return np.asarray(model.fit(train, outcome).predict_proba(test)[:, 1])


def _optbinning(
    train: pd.DataFrame, outcome: np.ndarray, test: pd.DataFrame, seed: int
) -> np.ndarray:
    from optbinning import BinningProcess, Scorecard

    binning = BinningProcess(list(train.columns), categorical_variables=categorical_columns(train))
    card = Scorecard(
        binning_process=binning,
        estimator=LogisticRegression(max_iter=5000, random_state=seed),
        scaling_method="pdo_odds",
        scaling_method_params={"pdo": 20, "odds": 50, "scorecard_points": 600},
    )
    return np.asarray(card.fit(train, outcome).predict_proba(test)[:, 1])


def _filled(frame: pd.DataFrame) -> pd.DataFrame:
    # toad's ScoreCard refuses bins it did not see for missing values; give them a value.
    out = frame.copy()
    for name in out.columns:
        if pd.api.types.is_numeric_dtype(out[name]):
            out[name] = out[name].fillna(-1)
        else:
            out[name] = out[name].astype(object).fillna("missing")
    return out


def _toad(train: pd.DataFrame, outcome: np.ndarray, test: pd.DataFrame, seed: int) -> np.ndarray:
    try:
        import toad
    except ImportError:
        raise MissingExtraError(
            f"the toad model needs the {COMPARE_EXTRA} extra: pip install 'tenor[{COMPARE_EXTRA}]'"
        ) from None
    train, test = _filled(train), _filled(test)
    labelled = train.assign(_bad=outcome)
    combiner = toad.transform.Combiner()
    combiner.fit(labelled, y="_bad", method="chi", min_samples=0.05)
    woe = toad.transform.WOETransformer()
    weights = woe.fit_transform(combiner.transform(train), outcome)
    card = toad.ScoreCard(combiner=combiner, transer=woe, random_state=seed)
    card.fit(weights, outcome)
    return np.asarray(card.predict_proba(test)[:, 1])


def _as_categories(train: pd.DataFrame, test: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    train, test = train.copy(), test.copy()
    for name in categorical_columns(train):
        kind = pd.CategoricalDtype(sorted(train[name].dropna().unique()))
        train[name] = train[name].astype(kind)
        test[name] = test[name].astype(kind)
    return train, test


def _hgb(train: pd.DataFrame, outcome: np.ndarray, test: pd.DataFrame, seed: int) -> np.ndarray:
    train, test = _as_categories(train, test)
    model = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=seed)
    return np.asarray(model.fit(train, outcome).predict_proba(test)[:, 1])


def fit_challenger(frame: pd.DataFrame, outcome: np.ndarray, seed: int = 0) -> Any:
    """LightGBM with sigmoid-calibrated probabilities (3-fold), categories as categories."""
    from lightgbm import LGBMClassifier

    model = LGBMClassifier(
        n_estimators=200,
        learning_rate=0.03,
        num_leaves=8,
        min_child_samples=30,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        reg_lambda=1.0,
        random_state=seed,
        n_jobs=1,
        verbose=-1,
    )
    return CalibratedClassifierCV(model, method="sigmoid", cv=3).fit(frame, outcome)


def _lightgbm(
    train: pd.DataFrame, outcome: np.ndarray, test: pd.DataFrame, seed: int
) -> np.ndarray:
    train, test = _as_categories(train, test)
    return np.asarray(fit_challenger(train, outcome, seed).predict_proba(test)[:, 1])


#: The models, in the order they are reported.
MODELS: Final[dict[str, Fitter]] = {
    "tenor": _tenor,
    "logistic": _logistic,
    "optbinning": _optbinning,
    "toad": _toad,
    "hgb": _hgb,
    "lightgbm": _lightgbm,
}


def metrics(outcome: np.ndarray, probability: np.ndarray) -> dict[str, float]:
    """AUC, Gini, KS, Brier score and calibration slope and intercept of ``probability``."""
    auc = float(roc_auc_score(outcome, probability))
    false_positive, true_positive, _ = roc_curve(outcome, probability)
    clipped = np.clip(probability, 1e-6, 1 - 1e-6)
    log_odds = np.log(clipped / (1 - clipped)).reshape(-1, 1)
    # An unpenalised fit (a huge C), written so on every scikit-learn version.
    calibration = LogisticRegression(C=1e12, max_iter=1000).fit(log_odds, outcome)
    return {
        "auc": auc,
        "gini": 2 * auc - 1,
        "ks": float(np.max(true_positive - false_positive)),
        "brier": float(brier_score_loss(outcome, probability)),
        "calibration_slope": float(calibration.coef_[0][0]),
        "calibration_intercept": float(calibration.intercept_[0]),
    }


def _run_folds(
    frame: pd.DataFrame,
    outcome: np.ndarray,
    splits: Sequence[tuple[np.ndarray, np.ndarray]],
    models: Sequence[str],
    seed: int,
    scores: dict[str, list[dict[str, float]]],
    progress: Callable[[int, int], None] | None,
) -> None:
    for done, (train_rows, test_rows) in enumerate(splits, start=1):
        train = frame.iloc[train_rows].reset_index(drop=True)
        test = frame.iloc[test_rows].reset_index(drop=True)
        for name in models:
            with warnings.catch_warnings():
                # The comparison libraries warn about their own dependencies' deprecations.
                warnings.simplefilter("ignore")
                probability = MODELS[name](train, outcome[train_rows], test, seed)
            scores[name].append(metrics(outcome[test_rows], probability))
        if progress is not None:
            progress(done, len(splits))


def evaluate(
    frame: pd.DataFrame,
    outcome: np.ndarray,
    *,
    repeats: int = 3,
    folds: int = 5,
    seed: int = 0,
    models: Sequence[str] = tuple(MODELS),
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Every model in ``models`` on the same repeated stratified folds; means and spreads.

    Returns ``{"models": {name: {metric: mean, "auc_std": ..., "folds": n}}, "folds": ...,
    "repeats": ..., "seed": ..., "rows": ..., "bad_rate": ...}``. ``progress(done, total)`` is
    called after each fold.
    """
    unknown = [name for name in models if name not in MODELS]
    if unknown:
        raise ValueError(f"unknown models: {', '.join(unknown)}")
    splitter = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=seed)
    scores: dict[str, list[dict[str, float]]] = {name: [] for name in models}
    splits = list(splitter.split(frame, outcome))
    # Fold-level fits are small: OpenMP threads (HistGradientBoosting, LightGBM) only fight
    # over the cores, and on a busy machine make a fit a hundred times slower.
    with threadpool_limits(limits=1):
        _run_folds(frame, outcome, splits, models, seed, scores, progress)
    report: dict[str, Any] = {}
    for name, per_fold in scores.items():
        summary: dict[str, Any] = {
            key: float(np.mean([fold[key] for fold in per_fold])) for key in per_fold[0]
        }
        summary["auc_std"] = float(np.std([fold["auc"] for fold in per_fold]))
        summary["fold_auc"] = [round(fold["auc"], 6) for fold in per_fold]
        report[name] = summary
    return {
        "models": report,
        "folds": folds,
        "repeats": repeats,
        "seed": seed,
        "rows": len(frame),
        "bad_rate": float(np.mean(outcome)),
    }
