"""Propensity to pay: the chance a delinquent loan receives a payment within 14 days.

Trained on Tenor's own history, with an honest time-based split:

- **Observations.** On business dates ``step_days`` apart (counted back from the last one whose
  14 days are all in), every loan that is delinquent at the end of the date (an installment
  due before it still unsettled on it) is one row. Its label is 1 if a repayment that was not
  later reversed has a value date in the 14 days after.
- **Features**, each read only from what was known on that date (:data:`FEATURES`): days past
  due and the overdue installments and amount (from the installments' due and settled dates),
  the scheduled principal still unsettled (balance), tenure, bucket history from the close's
  ``bucket-changed`` events (times rolled forward and cured in the last 90 days), payments in
  the last 30 days and days since the last, and reminder response from the notification outbox:
  reminders in the last 30 days, and the share of the loan's earlier reminders followed by a
  payment within 48 hours (counted only for reminders whose 48 hours were over on the date,
  with one success and one failure as a prior). A reminder is an outbox row the contact rules
  let through (any state but ``refused`` and ``dead``), dated by the day it was for.
- **Extra features** (promises kept and broken, contact outcomes...) join in from an optional
  Polars frame keyed by ``loan_id``, with a ``business_date`` column when they change over
  time (then each row takes the latest value on or before its date). Every other column is a
  numeric feature; a model trained with extras scores missing ones as missing.
- **The split.** The later share of the observation dates (30% by default) is the test
  period; the model is fitted only on dates whose 14 days end before the test period starts,
  so no outcome of the test period is seen in training. AUC and Brier score are measured on
  the test period; the registered model is exactly the one measured.

The model is LightGBM (the default: on the demo book it measures far better in the later
period, see README.md) or a logistic regression on standardised, median-imputed features; it
is registered in the model registry as kind ``propensity``, name :data:`MODEL_NAME`, and
promoted like a scorecard. :func:`score_loans` is what collections queues call.
"""

# scikit-learn and LightGBM load only when a model is fitted.
# ruff: noqa: PLC0415

from __future__ import annotations

import datetime as dt
import hashlib
import math
import pickle
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tenor.core.errors import InvalidArgumentError
from tenor.risk.tables import RiskModel
from tenor.store.bulk import among
from tenor.store.journal import NotFoundError, business_date
from tenor.store.models import Borrower, InstallmentRow, JournalEntry, Loan, LoanStateRow

#: Days within which a payment counts.
HORIZON_DAYS: Final = 14
#: The registry's name and kind of the propensity model.
MODEL_NAME: Final = "propensity-14d"
KIND: Final = "propensity"
ALGORITHMS: Final = ("logistic", "lightgbm")
#: Hours after a reminder within which a payment answers it (as the smart-timing bandit).
RESPONSE_DAYS: Final = 2

FEATURES: Final = (
    "days_past_due",
    "overdue_installments",
    "log_overdue",
    "log_balance",
    "tenure_days",
    "rolls_forward_90d",
    "cures_90d",
    "payments_30d",
    "days_since_payment",
    "reminders_30d",
    "reminder_response",
    "enterprise",
)

_REMINDER_GONE: Final = ("refused", "dead")


class PropensityDataError(InvalidArgumentError):
    """The book's history is too short or too uniform to train or test a model on."""

    code = "propensity_data"


@dataclass(frozen=True)
class History:
    """What the features and labels are read from, one frame per source."""

    #: loan_id, disbursed_on, enterprise (0/1)
    loans: pl.DataFrame
    #: loan_id, due_date, principal_minor, amount_minor, settled_on
    installments: pl.DataFrame
    #: loan_id, value_date (repayments not reversed)
    payments: pl.DataFrame
    #: loan_id, value_date, forward (1: to a later bucket), cured (1: to an earlier one)
    buckets: pl.DataFrame
    #: loan_id, day, answered (a payment within RESPONSE_DAYS of it)
    reminders: pl.DataFrame
    #: loan_id, value_date of a write-off
    written_off: pl.DataFrame


def _rows(session: Session, query: Any, column: Any, ids: Sequence[int] | None) -> list[Any]:
    if ids is None:
        return list(session.execute(query).all())
    found: list[Any] = []
    for condition in among(session, column, ids):
        found.extend(session.execute(query.where(condition)).all())
    return found


def _bucket_rank(name: str | None) -> int:
    from tenor.batch.portfolio import bucket_order

    if name is None:
        return 0
    scheme, index, _ = bucket_order(name)
    return scheme * 100 + index


def read_history(session: Session, loan_ids: Sequence[int] | None = None) -> History:
    """The journal, installments and outbox rows the features read, for ``loan_ids`` (all
    loans paid out when None)."""
    from tenor.notify.tables import Notification

    ids = None if loan_ids is None else sorted(set(loan_ids))
    disbursed = _rows(
        session,
        select(JournalEntry.loan_id, func.min(JournalEntry.value_date))
        .where(JournalEntry.kind == "disbursed")
        .group_by(JournalEntry.loan_id),
        JournalEntry.loan_id,
        ids,
    )
    kinds = dict(
        _rows(
            session,
            select(Loan.id, Borrower.kind).join(Borrower, Borrower.id == Loan.borrower_id),
            Loan.id,
            ids,
        )
    )
    loans = pl.DataFrame(
        [(loan_id, day, int(kinds.get(loan_id) == "enterprise")) for loan_id, day in disbursed],
        schema={"loan_id": pl.Int64, "disbursed_on": pl.Date, "enterprise": pl.Int64},
        orient="row",
    )
    installments = pl.DataFrame(
        _rows(
            session,
            select(
                InstallmentRow.loan_id,
                InstallmentRow.due_date,
                InstallmentRow.principal_minor,
                InstallmentRow.principal_minor + InstallmentRow.interest_minor,
                InstallmentRow.settled_on,
            ),
            InstallmentRow.loan_id,
            ids,
        ),
        schema={
            "loan_id": pl.Int64,
            "due_date": pl.Date,
            "principal_minor": pl.Int64,
            "amount_minor": pl.Int64,
            "settled_on": pl.Date,
        },
        orient="row",
    )
    events = _rows(
        session,
        select(
            JournalEntry.loan_id,
            JournalEntry.kind,
            JournalEntry.value_date,
            JournalEntry.event_id,
            JournalEntry.payload,
        ).where(
            JournalEntry.kind.in_(
                ("repayment-received", "reversed", "bucket-changed", "written-off")
            )
        ),
        JournalEntry.loan_id,
        ids,
    )
    reversed_ids = {payload["target"] for _, kind, _, _, payload in events if kind == "reversed"}
    payments = pl.DataFrame(
        [
            (loan_id, day)
            for loan_id, kind, day, event_id, _ in events
            if kind == "repayment-received" and event_id not in reversed_ids
        ],
        schema={"loan_id": pl.Int64, "value_date": pl.Date},
        orient="row",
    ).sort("loan_id", "value_date")
    moves = []
    for loan_id, kind, day, _, payload in events:
        if kind != "bucket-changed":
            continue
        before, after = _bucket_rank(payload.get("from_bucket")), _bucket_rank(payload["to_bucket"])
        moves.append((loan_id, day, int(after > before), int(after < before)))
    buckets = pl.DataFrame(
        moves,
        schema={"loan_id": pl.Int64, "value_date": pl.Date, "forward": pl.Int64, "cured": pl.Int64},
        orient="row",
    )
    written_off = pl.DataFrame(
        [(loan_id, day) for loan_id, kind, day, _, _ in events if kind == "written-off"],
        schema={"loan_id": pl.Int64, "value_date": pl.Date},
        orient="row",
    )
    sent = _rows(
        session,
        select(Notification.loan_id, Notification.due_date, Notification.offset_days).where(
            Notification.kind == "reminder",
            Notification.loan_id.is_not(None),
            Notification.due_date.is_not(None),
            Notification.state.not_in(_REMINDER_GONE),
        ),
        Notification.loan_id,
        ids,
    )
    reminders = pl.DataFrame(
        [(loan_id, due + dt.timedelta(days=offset or 0)) for loan_id, due, offset in sent],
        schema={"loan_id": pl.Int64, "day": pl.Date},
        orient="row",
    ).unique()
    return History(
        loans, installments, payments, buckets, _answered(reminders, payments), written_off
    )


def _answered(reminders: pl.DataFrame, payments: pl.DataFrame) -> pl.DataFrame:
    """Each reminder with whether a payment came on its day or within RESPONSE_DAYS after."""
    if reminders.is_empty():
        return reminders.with_columns(pl.lit(0, pl.Int64).alias("answered"))
    following = payments.rename({"value_date": "paid_on"}).sort("paid_on")
    # Sorted on the dates, then joined within each loan (polars cannot check that itself).
    joined = reminders.sort("day").join_asof(
        following,
        left_on="day",
        right_on="paid_on",
        by="loan_id",
        strategy="forward",
        check_sortedness=False,
    )
    within = (pl.col("paid_on") - pl.col("day")).dt.total_days() <= RESPONSE_DAYS
    return joined.select(
        "loan_id", "day", within.fill_null(value=False).cast(pl.Int64).alias("answered")
    )


def _window(frame: pl.DataFrame, column: str, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Rows of ``frame`` with ``column`` in (start, end]."""
    return frame.filter((pl.col(column) > start) & (pl.col(column) <= end))


def features_on(history: History, day: dt.date) -> pl.DataFrame:
    """One row per loan delinquent at the end of ``day``: ``loan_id``, ``business_date`` and
    :data:`FEATURES`, each from what was known on ``day``."""
    unsettled = history.installments.filter(
        pl.col("settled_on").is_null() | (pl.col("settled_on") > day)
    )
    overdue = (
        unsettled.filter(pl.col("due_date") < day)
        .group_by("loan_id")
        .agg(
            pl.col("due_date").min().alias("oldest_due"),
            pl.len().alias("overdue_installments"),
            pl.col("amount_minor").sum().alias("overdue_minor"),
        )
    )
    gone = history.written_off.filter(pl.col("value_date") <= day).select("loan_id")
    rows = (
        overdue.join(history.loans.filter(pl.col("disbursed_on") <= day), on="loan_id")
        .join(gone, on="loan_id", how="anti")
        .join(
            unsettled.group_by("loan_id").agg(pl.col("principal_minor").sum().alias("balance")),
            on="loan_id",
            how="left",
        )
    )
    if rows.is_empty():
        return _empty_features()
    paid = history.payments.filter(pl.col("value_date") <= day)
    recent_paid = _window(paid, "value_date", day - dt.timedelta(days=30), day)
    moves = _window(history.buckets, "value_date", day - dt.timedelta(days=90), day)
    reminded = _window(history.reminders, "day", day - dt.timedelta(days=30), day)
    # Only reminders whose 48 hours were over on the day: their answer was known then.
    judged = history.reminders.filter(pl.col("day") <= day - dt.timedelta(days=RESPONSE_DAYS))
    rows = (
        rows.join(
            recent_paid.group_by("loan_id").agg(pl.len().alias("payments_30d")),
            on="loan_id",
            how="left",
        )
        .join(
            paid.group_by("loan_id").agg(pl.col("value_date").max().alias("last_paid")),
            on="loan_id",
            how="left",
        )
        .join(
            moves.group_by("loan_id").agg(
                pl.col("forward").sum().alias("rolls_forward_90d"),
                pl.col("cured").sum().alias("cures_90d"),
            ),
            on="loan_id",
            how="left",
        )
        .join(
            reminded.group_by("loan_id").agg(pl.len().alias("reminders_30d")),
            on="loan_id",
            how="left",
        )
        .join(
            judged.group_by("loan_id").agg(
                pl.len().alias("judged"), pl.col("answered").sum().alias("answered")
            ),
            on="loan_id",
            how="left",
        )
    )
    on = pl.lit(day, pl.Date)
    tenure = (on - pl.col("disbursed_on")).dt.total_days()
    return rows.select(
        pl.col("loan_id"),
        on.alias("business_date"),
        (on - pl.col("oldest_due")).dt.total_days().cast(pl.Float64).alias("days_past_due"),
        pl.col("overdue_installments").cast(pl.Float64),
        (pl.col("overdue_minor") / 100).log1p().alias("log_overdue"),
        (pl.col("balance").fill_null(0) / 100).log1p().alias("log_balance"),
        tenure.cast(pl.Float64).alias("tenure_days"),
        pl.col("rolls_forward_90d").fill_null(0).cast(pl.Float64),
        pl.col("cures_90d").fill_null(0).cast(pl.Float64),
        pl.col("payments_30d").fill_null(0).cast(pl.Float64),
        pl.coalesce((on - pl.col("last_paid")).dt.total_days(), tenure)
        .cast(pl.Float64)
        .alias("days_since_payment"),
        pl.col("reminders_30d").fill_null(0).cast(pl.Float64),
        ((pl.col("answered").fill_null(0) + 1) / (pl.col("judged").fill_null(0) + 2)).alias(
            "reminder_response"
        ),
        pl.col("enterprise").cast(pl.Float64),
    ).sort("loan_id")


def _empty_features() -> pl.DataFrame:
    schema: dict[str, Any] = {"loan_id": pl.Int64, "business_date": pl.Date}
    schema.update(dict.fromkeys(FEATURES, pl.Float64))
    return pl.DataFrame(schema=schema)


def label(history: History, frame: pl.DataFrame, horizon: int = HORIZON_DAYS) -> pl.DataFrame:
    """``frame`` with ``paid``: 1 if a payment's value date is in the ``horizon`` days after
    the row's business date."""
    joined = (
        frame.select("loan_id", "business_date")
        .join(history.payments, on="loan_id", how="inner")
        .filter(
            (pl.col("value_date") > pl.col("business_date"))
            & (pl.col("value_date") <= pl.col("business_date") + pl.duration(days=horizon))
        )
        .select("loan_id", "business_date")
        .unique()
        .with_columns(pl.lit(1, pl.Int64).alias("paid"))
    )
    return frame.join(joined, on=["loan_id", "business_date"], how="left").with_columns(
        pl.col("paid").fill_null(0)
    )


def join_extra(frame: pl.DataFrame, extra: pl.DataFrame | None) -> pl.DataFrame:
    """``frame`` with ``extra``'s per-loan features: as of each row's business date when
    ``extra`` has a ``business_date`` column, else by loan alone."""
    if extra is None:
        return frame
    if "loan_id" not in extra.columns:
        raise InvalidArgumentError("the extra features need a loan_id column")
    names = extra_columns(extra)
    clash = sorted(set(names) & {*FEATURES, "paid"})
    if clash:
        raise InvalidArgumentError(f"extra features may not be named {', '.join(clash)}")
    typed = extra.with_columns(
        pl.col("loan_id").cast(pl.Int64), *(pl.col(name).cast(pl.Float64) for name in names)
    )
    if "business_date" in extra.columns:
        right = typed.with_columns(pl.col("business_date").cast(pl.Date)).sort("business_date")
        return (
            frame.sort("business_date")
            .join_asof(
                right,
                on="business_date",
                by="loan_id",
                strategy="backward",
                check_sortedness=False,
            )
            .sort("business_date", "loan_id")
        )
    return frame.join(typed.unique("loan_id", keep="last"), on="loan_id", how="left")


def extra_columns(extra: pl.DataFrame | None) -> list[str]:
    """The feature columns of an extra frame (all but ``loan_id`` and ``business_date``)."""
    if extra is None:
        return []
    return [name for name in extra.columns if name not in ("loan_id", "business_date")]


def observation_dates(last: dt.date, first: dt.date, step_days: int) -> list[dt.date]:
    """Dates ``step_days`` apart from ``last`` back to ``first``, oldest first."""
    if step_days < 1:
        raise InvalidArgumentError("the step between observation dates is at least one day")
    dates = []
    day = last
    while day >= first:
        dates.append(day)
        day -= dt.timedelta(days=step_days)
    return dates[::-1]


def last_labelled_date(session: Session, horizon: int = HORIZON_DAYS) -> dt.date:
    """The last date whose ``horizon`` days are all in: the day before the open business date
    is the last whose payments are complete."""
    return business_date(session) - dt.timedelta(days=horizon + 1)


def build_dataset(
    session: Session,
    *,
    step_days: int = 7,
    horizon: int = HORIZON_DAYS,
    extra: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Every labelled observation of the book: features, extras, ``paid``."""
    history = read_history(session)
    if history.loans.is_empty():
        raise PropensityDataError("the book has no loan paid out: nothing to learn from")
    first = history.loans["disbursed_on"].min()
    assert isinstance(first, dt.date)
    dates = observation_dates(last_labelled_date(session, horizon), first, step_days)
    frames = [features_on(history, day) for day in dates]
    frame = pl.concat([item for item in frames if not item.is_empty()] or [_empty_features()])
    return label(history, join_extra(frame, extra), horizon)


@dataclass(frozen=True)
class Split:
    """Where the time-based split falls and what each side holds."""

    train_from: dt.date
    train_to: dt.date
    test_from: dt.date
    test_to: dt.date
    train_rows: int
    test_rows: int
    train_paid: int
    test_paid: int

    def document(self) -> dict[str, Any]:
        """The split as JSON."""
        return {
            "train": {
                "from": self.train_from.isoformat(),
                "to": self.train_to.isoformat(),
                "rows": self.train_rows,
                "paid": self.train_paid,
            },
            "test": {
                "from": self.test_from.isoformat(),
                "to": self.test_to.isoformat(),
                "rows": self.test_rows,
                "paid": self.test_paid,
            },
        }


def time_split(
    frame: pl.DataFrame, *, test_share: float = 0.3, horizon: int = HORIZON_DAYS
) -> tuple[pl.DataFrame, pl.DataFrame, Split]:
    """The earlier dates for training, the later ``test_share`` of dates for testing; a
    training row's ``horizon`` days end before the first test date."""
    if not 0 < test_share < 1:
        raise InvalidArgumentError("the test share is between 0 and 1")
    dates = sorted(frame["business_date"].unique().to_list())
    if len(dates) < 3:
        raise PropensityDataError(
            f"{len(dates)} observation dates with a delinquent loan: too short a history to "
            "split in time (build a longer book, or observe more often with a smaller step)"
        )
    cut = min(len(dates) - 1, max(1, round(len(dates) * (1 - test_share))))
    test_from = dates[cut]
    train = frame.filter(
        pl.col("business_date") + pl.duration(days=horizon) < pl.lit(test_from, pl.Date)
    )
    test = frame.filter(pl.col("business_date") >= test_from)
    for name, part in (("training", train), ("test", test)):
        if part.is_empty() or part["paid"].n_unique() < 2:
            raise PropensityDataError(
                f"the {name} period needs delinquent loans that paid and loans that did not"
            )
    split = Split(
        train_from=train["business_date"].min(),  # type: ignore[arg-type]
        train_to=train["business_date"].max(),  # type: ignore[arg-type]
        test_from=test_from,
        test_to=dates[-1],
        train_rows=train.height,
        test_rows=test.height,
        train_paid=int(train["paid"].sum()),
        test_paid=int(test["paid"].sum()),
    )
    return train, test, split


@dataclass
class PropensityModel:
    """A fitted propensity model: the features it reads and the estimator."""

    algorithm: str
    features: list[str]
    horizon_days: int
    estimator: Any

    def predict(self, frame: pl.DataFrame) -> np.ndarray:
        """P(payment within the horizon) of each row of ``frame``, in its order."""
        matrix = _matrix(frame, self.features)
        with _quiet():
            return np.asarray(self.estimator.predict_proba(matrix)[:, 1], dtype=np.float64)


def _matrix(frame: pl.DataFrame, features: Sequence[str]) -> np.ndarray:
    columns = [
        frame[name].cast(pl.Float64).to_numpy()
        if name in frame.columns
        else np.full(frame.height, np.nan)
        for name in features
    ]
    if not columns:
        return np.empty((frame.height, 0))
    return np.column_stack(columns).astype(np.float64)


@contextmanager
def _quiet() -> Iterator[None]:
    """LightGBM and scikit-learn warn about feature names on plain arrays; the arrays are
    built in the model's own feature order, so the warning says nothing here."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*feature names.*", category=UserWarning)
        yield


def fit(
    train: pl.DataFrame, *, algorithm: str = "lightgbm", features: Sequence[str], seed: int = 0
) -> PropensityModel:
    """Fit ``algorithm`` on ``train``'s ``features`` and ``paid``."""
    from threadpoolctl import threadpool_limits

    if algorithm not in ALGORITHMS:
        raise InvalidArgumentError(f"algorithm must be one of {', '.join(ALGORITHMS)}")
    matrix = _matrix(train, features)
    outcome = train["paid"].to_numpy().astype(np.int64)
    estimator: Any
    if algorithm == "logistic":
        from sklearn.impute import SimpleImputer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        # keep_empty_features: an extra feature every training row lacks still has a column.
        estimator = make_pipeline(
            SimpleImputer(strategy="median", keep_empty_features=True),
            StandardScaler(),
            LogisticRegression(C=1.0, max_iter=5000),
        )
    else:
        from lightgbm import LGBMClassifier

        estimator = LGBMClassifier(
            n_estimators=300,
            learning_rate=0.03,
            num_leaves=15,
            min_child_samples=40,
            subsample=0.8,
            subsample_freq=1,
            colsample_bytree=0.8,
            reg_lambda=1.0,
            random_state=seed,
            n_jobs=1,
            verbose=-1,
        )
    with threadpool_limits(limits=1), _quiet():
        estimator.fit(matrix, outcome)
    return PropensityModel(algorithm, list(features), HORIZON_DAYS, estimator)


def _metrics(outcome: np.ndarray, probability: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import brier_score_loss, roc_auc_score

    return {
        "auc": round(float(roc_auc_score(outcome, probability)), 4),
        "brier": round(float(brier_score_loss(outcome, probability)), 4),
    }


def _base_rate_brier(train: pl.DataFrame, test: pl.DataFrame) -> float:
    """The Brier score of guessing the training period's payment rate for every test row."""
    rate = float(train["paid"].mean())  # type: ignore[arg-type]
    outcome = test["paid"].to_numpy().astype(np.float64)
    return round(float(np.mean((outcome - rate) ** 2)), 4)


def evaluate(
    session: Session,
    *,
    step_days: int = 7,
    test_share: float = 0.3,
    seed: int = 0,
    extra: pl.DataFrame | None = None,
) -> dict[str, Any]:
    """Both algorithms fitted on the earlier period and measured on the later: AUC and Brier,
    beside two baselines: the training period's payment rate as everyone's guess (Brier), and
    ranking by days past due alone (AUC)."""
    frame = build_dataset(session, step_days=step_days, extra=extra)
    train, test, split = time_split(frame, test_share=test_share)
    features = [*FEATURES, *extra_columns(extra)]
    from sklearn.metrics import roc_auc_score

    outcome = test["paid"].to_numpy().astype(np.int64)
    models = {}
    for algorithm in ALGORITHMS:
        model = fit(train, algorithm=algorithm, features=features, seed=seed)
        models[algorithm] = _metrics(outcome, model.predict(test))
    fewest_days = -test["days_past_due"].to_numpy()
    return {
        "horizon_days": HORIZON_DAYS,
        "step_days": step_days,
        "features": features,
        "split": split.document(),
        "models": models,
        "baselines": {
            # Guess the training period's payment rate for everyone: the Brier score to beat.
            "base_rate": {
                "rate": round(float(train["paid"].mean()), 4),  # type: ignore[arg-type]
                "brier": _base_rate_brier(train, test),
            },
            # Rank by days past due alone (fewest first), as a queue without a model would.
            "days_past_due": {"auc": round(float(roc_auc_score(outcome, fewest_days)), 4)},
        },
    }


def _frame_hash(frame: pl.DataFrame) -> str:
    ordered = frame.sort("business_date", "loan_id")
    return hashlib.sha256(ordered.write_csv().encode()).hexdigest()


def train(
    session: Session,
    *,
    actor: str,
    algorithm: str = "lightgbm",
    step_days: int = 7,
    test_share: float = 0.3,
    seed: int = 0,
    extra: pl.DataFrame | None = None,
) -> RiskModel:
    """Fit on the earlier period, measure on the later, register as ``propensity-14d``'s next
    version (a candidate; promote it to score)."""
    frame = build_dataset(session, step_days=step_days, extra=extra)
    train_part, test, split = time_split(frame, test_share=test_share)
    features = [*FEATURES, *extra_columns(extra)]
    model = fit(train_part, algorithm=algorithm, features=features, seed=seed)
    tested = _metrics(test["paid"].to_numpy().astype(np.int64), model.predict(test))
    trained = _metrics(train_part["paid"].to_numpy().astype(np.int64), model.predict(train_part))
    artifact = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
    latest = session.scalar(select(func.max(RiskModel.version)).where(RiskModel.name == MODEL_NAME))
    row = RiskModel(
        name=MODEL_NAME,
        version=(latest or 0) + 1,
        kind=KIND,
        dataset="tenor-book",
        data_sha256=_frame_hash(train_part),
        params={
            "algorithm": algorithm,
            "horizon_days": HORIZON_DAYS,
            "step_days": step_days,
            "test_share": test_share,
            "seed": seed,
            "features": features,
        },
        metrics={
            "training_auc": trained["auc"],
            "training_brier": trained["brier"],
            "test_auc": tested["auc"],
            "test_brier": tested["brier"],
            "base_rate_brier": _base_rate_brier(train_part, test),
            "rows": train_part.height,
            "split": split.document(),
        },
        baseline={
            "paid_rate": round(float(train_part["paid"].mean()), 4),  # type: ignore[arg-type]
            "feature_means": {
                name: _finite(train_part[name].mean()) if name in train_part.columns else None
                for name in features
            },
        },
        artifact=artifact,
        artifact_sha256=hashlib.sha256(artifact).hexdigest(),
        status="candidate",
        trained_by=actor,
    )
    session.add(row)
    session.flush()
    return row


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return round(number, 6) if math.isfinite(number) else None


def champion_model(session: Session) -> tuple[RiskModel, PropensityModel] | None:
    """The promoted propensity model, or None when there is none."""
    promoted = session.scalar(
        select(RiskModel.id)
        .where(RiskModel.name == MODEL_NAME, RiskModel.status == "champion")
        .limit(1)
    )
    if promoted is None:
        # Asked at every close: without a promoted model the model libraries (scikit-learn,
        # seconds to import in each worker process) are not imported at all.
        return None
    from tenor.risk.registry import champion_row, load_artifact

    try:
        row = champion_row(session, MODEL_NAME)
    except NotFoundError:
        return None
    model: PropensityModel = load_artifact(row)
    return row, model


def score_loans(
    session: Session,
    loan_ids: Sequence[int],
    business_date: dt.date,
    *,
    extra: pl.DataFrame | None = None,
) -> dict[int, float] | None:
    """P(payment within 14 days) of each of ``loan_ids`` delinquent at the end of
    ``business_date``, by the promoted model; None when no propensity model is promoted.

    A loan that is not delinquent on the date is left out of the answer (the model knows only
    delinquent loans). ``extra``: the same per-loan features the model was trained with.
    """
    found = champion_model(session)
    if found is None:
        return None
    _, model = found
    if not loan_ids:
        return {}
    frame = join_extra(features_on(read_history(session, loan_ids), business_date), extra)
    if frame.is_empty():
        return {}
    probability = model.predict(frame)
    return {
        int(loan_id): float(value)
        for loan_id, value in zip(frame["loan_id"].to_list(), probability, strict=True)
    }


def delinquent_loans(session: Session) -> list[int]:
    """The loans delinquent on the book's projections now (days past due above zero)."""
    return list(
        session.scalars(
            select(LoanStateRow.loan_id)
            .where(LoanStateRow.days_past_due > 0)
            .order_by(LoanStateRow.loan_id)
        )
    )
