"""Tenor's PD scorecard: optimal monotonic binning, IV selection, one weight per bin, points.

A credit officer reads the result as a table: for each characteristic, its bins and the points
each bin earns; a borrower's score is the sum of their bins' points. How it is built:

1. Derived characteristics (:data:`DERIVED`) are added where their inputs exist: ratios a
   lender reads anyway (loan to value, instalment to income, free income).
2. Every characteristic is binned by optbinning's optimal binning, numeric ones with a
   monotonic event rate (ascending or descending, whichever fits), categorical ones by merging
   categories with similar rates. Missing values get a bin of their own; a category never seen
   in training is treated as missing.
3. Characteristics with an information value under ``min_iv`` are dropped.
4. A logistic regression with one indicator per bin (an L2 penalty tuned by inner stratified
   cross-validation on AUC) gives each bin its own weight. With weight-of-evidence inputs every
   bin of a characteristic shares one coefficient; separate weights fit the German and credit
   data better (see README's figures) and stay one number per bin.
5. Weights become points: ``base_score`` points at good:bad odds ``base_odds``, ``pdo`` points
   to double the odds, the intercept spread evenly over the characteristics.

The probability of default comes from the regression itself (fitted on log loss, so it is
calibrated in the large); the score is the sum of the rounded points.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from optbinning import BinningProcess
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from threadpoolctl import threadpool_limits


@contextmanager
def quiet_libraries() -> Iterator[None]:
    """Silence the deprecation warnings optbinning and its kin raise under newer pandas.

    They concern the libraries' own use of pandas, not Tenor's data, and would otherwise turn
    into errors under ``filterwarnings = error`` or clutter the command's output.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", pd.errors.Pandas4Warning)
        yield


@dataclass(frozen=True, slots=True)
class Derived:
    """A characteristic computed from others: ``compute`` over a frame that has ``inputs``."""

    name: str
    inputs: tuple[str, ...]
    compute: Callable[[pd.DataFrame], pd.Series]
    description: str


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    # A zero or missing denominator makes the ratio missing, which gets a bin of its own.
    return numerator / denominator.where(denominator != 0)


#: Characteristics derived from the applicant's own figures, added when their inputs exist.
DERIVED: tuple[Derived, ...] = (
    Derived(
        "loan_to_value",
        ("Amount", "Price"),
        lambda f: _ratio(f["Amount"], f["Price"]),
        "amount lent / price of the goods",
    ),
    Derived(
        "instalment",
        ("Amount", "Time"),
        lambda f: _ratio(f["Amount"], f["Time"]),
        "amount lent / months",
    ),
    Derived(
        "instalment_to_income",
        ("Amount", "Time", "Income"),
        lambda f: _ratio(_ratio(f["Amount"], f["Time"]), f["Income"]),
        "monthly instalment / income",
    ),
    Derived(
        "free_income",
        ("Amount", "Time", "Income", "Expenses"),
        lambda f: f["Income"] - f["Expenses"] - _ratio(f["Amount"], f["Time"]),
        "income - expenses - instalment",
    ),
    Derived(
        "net_assets",
        ("Assets", "Debt"),
        lambda f: f["Assets"] - f["Debt"],
        "assets - debt",
    ),
    Derived(
        "debt_to_income",
        ("Debt", "Income"),
        lambda f: _ratio(f["Debt"], f["Income"]),
        "debt / income",
    ),
    Derived(
        "amount_to_income",
        ("Amount", "Income"),
        lambda f: _ratio(f["Amount"], f["Income"]),
        "amount lent / income",
    ),
    Derived(
        "expenses_to_income",
        ("Expenses", "Income"),
        lambda f: _ratio(f["Expenses"], f["Income"]),
        "expenses / income",
    ),
    Derived(
        "monthly_amount",
        ("credit_amount", "duration_in_month"),
        lambda f: _ratio(f["credit_amount"], f["duration_in_month"]),
        "credit amount / months",
    ),
)


def with_derived(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every derived characteristic whose inputs it has."""
    out = frame.copy()
    for item in DERIVED:
        if all(column in frame.columns for column in item.inputs):
            numbers = frame[list(item.inputs)].apply(pd.to_numeric, errors="coerce")
            out[item.name] = item.compute(numbers).replace([np.inf, -np.inf], np.nan)
    return out


def categorical_columns(frame: pd.DataFrame) -> list[str]:
    """The columns that hold categories rather than numbers."""
    return [name for name in frame.columns if not pd.api.types.is_numeric_dtype(frame[name])]


@dataclass(frozen=True, slots=True)
class ScorecardParams:
    """How a scorecard is built and scaled; the defaults are Tenor's champion."""

    min_iv: float = 0.02
    monotonic_trend: str = "auto_asc_desc"
    min_bin_share: float = 0.05
    penalties: tuple[float, ...] = (0.01, 0.03, 0.1, 0.3, 1.0)
    inner_folds: int = 5
    seed: int = 0
    base_score: int = 600
    base_odds: float = 50.0
    pdo: float = 20.0

    def document(self) -> dict[str, Any]:
        """The parameters as JSON-ready values."""
        return {
            "min_iv": self.min_iv,
            "monotonic_trend": self.monotonic_trend,
            "min_bin_share": self.min_bin_share,
            "penalties": list(self.penalties),
            "inner_folds": self.inner_folds,
            "seed": self.seed,
            "base_score": self.base_score,
            "base_odds": self.base_odds,
            "pdo": self.pdo,
        }


@dataclass(frozen=True, slots=True)
class Reason:
    """A reason code: a bin that cost the borrower points against the best bin."""

    characteristic: str
    bin: str
    points_lost: int


@dataclass
class Scorecard:
    """A fitted points scorecard; build one with :func:`fit_scorecard`."""

    params: ScorecardParams
    inputs: list[str]
    characteristics: list[str]
    bin_labels: dict[str, list[str]]
    coefficients: dict[str, np.ndarray]
    intercept: float
    points: dict[str, np.ndarray]
    penalty: float
    binning: BinningProcess = field(repr=False)

    def bin_indices(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The bin (its position in :attr:`bin_labels`) of each row in each characteristic."""
        missing = [name for name in self.inputs if name not in frame.columns]
        if missing:
            raise ValueError(f"missing characteristics: {', '.join(missing)}")
        derived = with_derived(self._typed(frame[self.inputs]))
        with quiet_libraries():
            indices = self.binning.transform(
                derived, metric="indices", metric_missing="empirical", metric_special="empirical"
            )
        out = {}
        for name in self.characteristics:
            column = indices[name].to_numpy().astype(np.int64)
            # An unseen category (-1) is scored as a missing value: the last bin.
            out[name] = np.where(column < 0, len(self.bin_labels[name]) - 1, column)
        return pd.DataFrame(out, index=frame.index)

    def _typed(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Numeric characteristics as numbers, whatever the rows came as.

        One applicant with a missing income arrives as an object column of ``None``; the same
        applicant among others as a float column with NaN. Both must fall in the same bin, so
        that a borrower scores the same alone (the API) as in a frame (the daily close).
        """
        categorical = set(self.binning.categorical_variables or ())
        typed = frame.copy()
        for name in self.inputs:
            if name not in categorical and not pd.api.types.is_numeric_dtype(typed[name]):
                typed[name] = pd.to_numeric(typed[name], errors="coerce")
        return typed

    def log_odds(self, frame: pd.DataFrame) -> np.ndarray:
        """The log odds of a bad outcome for each row of ``frame``."""
        indices = self.bin_indices(frame)
        total = np.full(len(frame), self.intercept)
        for name in self.characteristics:
            total += self.coefficients[name][indices[name].to_numpy()]
        return total

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Probabilities as scikit-learn gives them: columns P(good), P(bad)."""
        bad = 1.0 / (1.0 + np.exp(-self.log_odds(frame)))
        return np.column_stack([1.0 - bad, bad])

    def score(self, frame: pd.DataFrame) -> np.ndarray:
        """Each row's score: the sum of its bins' points (higher is safer)."""
        indices = self.bin_indices(frame)
        total = np.zeros(len(frame), dtype=np.int64)
        for name in self.characteristics:
            total += self.points[name][indices[name].to_numpy()]
        return total

    def reasons(self, frame: pd.DataFrame, top: int = 3) -> list[list[Reason]]:
        """For each row, the ``top`` bins that cost it the most points (none that cost none)."""
        indices = self.bin_indices(frame)
        lost = {
            name: self.points[name].max() - self.points[name][indices[name].to_numpy()]
            for name in self.characteristics
        }
        result = []
        for row in range(len(frame)):
            ranked = sorted(
                ((int(lost[name][row]), name) for name in self.characteristics),
                key=lambda item: (-item[0], item[1]),
            )
            result.append(
                [
                    Reason(name, self.bin_labels[name][int(indices[name].iat[row])], points)
                    for points, name in ranked[:top]
                    if points > 0
                ]
            )
        return result

    def table(self) -> list[dict[str, Any]]:
        """The card as rows: characteristic, bin, points (what a credit officer reads)."""
        return [
            {"characteristic": name, "bin": label, "points": int(self.points[name][index])}
            for name in self.characteristics
            for index, label in enumerate(self.bin_labels[name])
        ]


def _labels(binning: BinningProcess, name: str) -> list[str]:
    with quiet_libraries():
        built = binning.get_binned_variable(name).binning_table.build()
    labels = built["Bin"].iloc[:-1].tolist()  # the last row is the totals
    # A categorical bin is an array of the categories it merges.
    return [
        str(label) if isinstance(label, str) else ", ".join(map(str, list(label)))
        for label in labels
    ]


def _scale(
    params: ScorecardParams,
    intercept: float,
    coefficients: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    factor = params.pdo / math.log(2)
    offset = params.base_score - factor * math.log(params.base_odds)
    share = (offset - factor * intercept) / len(coefficients)
    return {
        name: np.rint(share - factor * weights).astype(np.int64)
        for name, weights in coefficients.items()
    }


def fit_scorecard(
    frame: pd.DataFrame, outcome: np.ndarray, params: ScorecardParams | None = None
) -> Scorecard:
    """Fit Tenor's scorecard on applicants ``frame`` and outcomes ``outcome`` (1 = bad)."""
    params = params or ScorecardParams()
    inputs = list(frame.columns)
    derived = with_derived(frame)
    categorical = categorical_columns(derived)
    names = list(derived.columns)
    binning = BinningProcess(
        names,
        categorical_variables=categorical,
        selection_criteria={"iv": {"min": params.min_iv}},
        min_prebin_size=params.min_bin_share,
        binning_fit_params={
            name: {"monotonic_trend": params.monotonic_trend}
            for name in names
            if name not in categorical
        },
    )
    with quiet_libraries():
        binning.fit(derived, outcome)
    characteristics = [str(name) for name in binning.get_support(names=True)]
    if not characteristics:
        raise ValueError("no characteristic has an information value of at least min_iv")
    labels = {name: _labels(binning, name) for name in characteristics}
    with quiet_libraries():
        indices = binning.transform(
            derived, metric="indices", metric_missing="empirical", metric_special="empirical"
        )
    columns = []
    for name in characteristics:
        width = len(labels[name])
        column = indices[name].to_numpy().astype(np.int64)
        column = np.where(column < 0, width - 1, column)
        columns.append(np.eye(width)[column])
    design = np.hstack(columns)
    inner = StratifiedKFold(params.inner_folds, shuffle=True, random_state=params.seed)

    def inner_auc(penalty: float) -> float:
        model = LogisticRegression(C=penalty, max_iter=5000)
        return float(np.mean(cross_val_score(model, design, outcome, cv=inner, scoring="roc_auc")))

    # Small fits: BLAS and OpenMP threads would only fight over the cores.
    with threadpool_limits(limits=1):
        penalty = max(params.penalties, key=inner_auc)
        model = LogisticRegression(C=penalty, max_iter=5000).fit(design, outcome)
    weights = model.coef_[0]
    coefficients = {}
    start = 0
    for name in characteristics:
        width = len(labels[name])
        coefficients[name] = weights[start : start + width].copy()
        start += width
    intercept = float(model.intercept_[0])
    return Scorecard(
        params=params,
        inputs=inputs,
        characteristics=characteristics,
        bin_labels=labels,
        coefficients=coefficients,
        intercept=intercept,
        points=_scale(params, intercept, coefficients),
        penalty=float(penalty),
        binning=binning,
    )
