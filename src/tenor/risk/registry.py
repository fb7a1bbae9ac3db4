"""The model registry: train, promote, score by the champion, and watch stability (PSI).

A model version keeps its artifact (the fitted scorecard, pickled, with its SHA-256), the
SHA-256 of the data it was trained on, its parameters, its metrics on the training data, who
trained and who promoted it, and a baseline for monitoring: the share of training applicants
in each score band and in each bin of each characteristic. Artifacts are only ever read back
from Tenor's own database, written by :func:`train`.

Population stability index: ``PSI = sum((actual - expected) x ln(actual / expected))`` over
the bands (shares floored at 0.0001 so that an empty band counts, finitely); above
:data:`PSI_ALERT` (0.25) the population has shifted and the model needs review.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import pickle
from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, roc_auc_score
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tenor.audit.log import record_change
from tenor.core.errors import InvalidArgumentError
from tenor.risk.datasets import Dataset, data_hash, load
from tenor.risk.scorecard import Scorecard, ScorecardParams, fit_scorecard
from tenor.risk.tables import RiskModel, RiskScore
from tenor.store.journal import NotFoundError

#: A PSI above this is an alert: the population the model scores has shifted.
PSI_ALERT: Final = 0.25
#: Score bands of the stability baseline: twenty points wide.
_BAND: Final = 20
_FLOOR: Final = 0.0001

_LOADED: dict[str, Any] = {}


def psi(expected: Sequence[float], actual: Sequence[float]) -> float:
    """Population stability index of ``actual`` shares against ``expected`` shares."""
    if len(expected) != len(actual):
        raise InvalidArgumentError("expected and actual shares need the same bands")
    total = 0.0
    for raw_before, raw_now in zip(expected, actual, strict=True):
        before, now = max(raw_before, _FLOOR), max(raw_now, _FLOOR)
        total += (now - before) * math.log(now / before)
    return total


def _shares(values: Sequence[int] | np.ndarray, bands: Sequence[int]) -> list[float]:
    counts = pd.Series(np.asarray(values)).value_counts()
    size = max(int(counts.sum()), 1)
    return [float(counts.get(band, 0)) / size for band in bands]


def score_bands(scores: np.ndarray) -> np.ndarray:
    """The band (its lower bound) of each score."""
    return np.asarray(np.floor_divide(scores, _BAND) * _BAND, dtype=np.int64)


def score_frame(card: Scorecard, frame: pd.DataFrame, *, reasons: int = 3) -> pd.DataFrame:
    """Score a frame of applicants or loans by ``card``: one row each, in ``frame``'s order.

    Columns: ``score`` (points), ``probability`` (of a bad outcome) and ``reasons`` (the
    characteristics that cost the most points, as ``"characteristic: bin (-points)"``).
    The batch entry point for the daily close; the API scores through the same function.
    """
    probability = card.predict_proba(frame)[:, 1]
    reason_lists = card.reasons(frame, top=reasons) if reasons else [[] for _ in range(len(frame))]
    return pd.DataFrame(
        {
            "score": card.score(frame),
            "probability": probability,
            "reasons": [
                [f"{item.characteristic}: {item.bin} (-{item.points_lost})" for item in items]
                for items in reason_lists
            ],
        },
        index=frame.index,
    )


def _baseline(card: Scorecard, frame: pd.DataFrame) -> dict[str, Any]:
    bands = score_bands(card.score(frame))
    lowest, highest = int(bands.min()) - _BAND, int(bands.max()) + _BAND
    all_bands = list(range(lowest, highest + 1, _BAND))
    indices = card.bin_indices(frame)
    return {
        "bands": all_bands,
        "score_shares": _shares(bands, all_bands),
        "characteristics": {
            name: _shares(indices[name].to_numpy(), list(range(len(card.bin_labels[name]))))
            for name in card.characteristics
        },
    }


def register(
    session: Session,
    card: Scorecard,
    frame: pd.DataFrame,
    outcome: np.ndarray,
    *,
    name: str,
    dataset: str,
    actor: str,
) -> RiskModel:
    """Register ``card``, fitted on ``frame`` and ``outcome``, as ``name``'s next version."""
    probability = card.predict_proba(frame)[:, 1]
    artifact = pickle.dumps(card, protocol=pickle.HIGHEST_PROTOCOL)
    latest = session.scalar(select(func.max(RiskModel.version)).where(RiskModel.name == name))
    row = RiskModel(
        name=name,
        version=(latest or 0) + 1,
        kind="scorecard",
        dataset=dataset,
        data_sha256=data_hash(frame, outcome),
        params={**card.params.document(), "chosen_penalty": card.penalty},
        metrics={
            "training_auc": float(roc_auc_score(outcome, probability)),
            "training_brier": float(brier_score_loss(outcome, probability)),
            "rows": len(frame),
            "characteristics": card.characteristics,
        },
        baseline=_baseline(card, frame),
        artifact=artifact,
        artifact_sha256=hashlib.sha256(artifact).hexdigest(),
        status="candidate",
        trained_by=actor,
    )
    session.add(row)
    session.flush()
    return row


def train(
    session: Session,
    dataset: Dataset,
    *,
    actor: str,
    params: ScorecardParams | None = None,
) -> RiskModel:
    """Fit the scorecard on ``dataset`` and register it as ``pd-<dataset>``'s next version."""
    frame, outcome = load(dataset)
    card = fit_scorecard(frame, outcome, params or ScorecardParams())
    return register(
        session,
        card,
        frame,
        outcome,
        name=f"pd-{dataset.value}",
        dataset=dataset.value,
        actor=actor,
    )


def model_document(row: RiskModel) -> dict[str, Any]:
    """A registered model as JSON (without its artifact)."""
    return {
        "id": row.id,
        "name": row.name,
        "version": row.version,
        "kind": row.kind,
        "dataset": row.dataset,
        "status": row.status,
        "data_sha256": row.data_sha256,
        "artifact_sha256": row.artifact_sha256,
        "params": row.params,
        "metrics": row.metrics,
        "trained_by": row.trained_by,
        "trained_at": row.trained_at.isoformat() if row.trained_at else None,
        "promoted_by": row.promoted_by,
        "promoted_at": row.promoted_at.isoformat() if row.promoted_at else None,
    }


def promote(session: Session, model_id: int, *, actor: str, now: dt.datetime) -> RiskModel:
    """Make model ``model_id`` its name's champion; the previous champion is retired."""
    row = session.get(RiskModel, model_id)
    if row is None:
        raise NotFoundError(f"model {model_id} does not exist")
    for other in session.scalars(
        select(RiskModel).where(RiskModel.name == row.name, RiskModel.status == "champion")
    ):
        if other.id != row.id:
            other.status = "retired"
    row.status = "champion"
    row.promoted_by = actor
    row.promoted_at = now
    session.flush()
    record_change(
        session,
        "model",
        f"models/{row.name}/{row.id}",
        {
            "name": row.name,
            "id": row.id,
            "status": "champion",
            "artifact_sha256": row.artifact_sha256,
            "promoted_by": actor,
        },
    )
    return row


def champion_row(session: Session, name: str) -> RiskModel:
    """The champion of model ``name``."""
    row = session.scalars(
        select(RiskModel).where(RiskModel.name == name, RiskModel.status == "champion")
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"model {name} has no champion; train one and promote it")
    return row


def load_artifact(row: RiskModel) -> Any:
    """The fitted model a registry row holds (unpickled once per process and artifact)."""
    model = _LOADED.get(row.artifact_sha256)
    if model is None:
        if hashlib.sha256(row.artifact).hexdigest() != row.artifact_sha256:
            raise InvalidArgumentError(f"model {row.id}'s artifact does not match its hash")
        model = pickle.loads(row.artifact)  # written by Tenor's own training into its database
        _LOADED[row.artifact_sha256] = model
    return model


def champion(session: Session, name: str) -> tuple[RiskModel, Scorecard]:
    """The champion scorecard of ``name`` and its registry row."""
    row = champion_row(session, name)
    if row.kind != "scorecard":
        raise InvalidArgumentError(f"model {name} is a {row.kind} model, not a scorecard")
    card: Scorecard = load_artifact(row)
    return row, card


def record_scores(
    session: Session,
    model: RiskModel,
    card: Scorecard,
    frame: pd.DataFrame,
    *,
    month: str,
    subjects: Sequence[str],
) -> pd.DataFrame:
    """Score ``frame`` by ``card`` and keep each subject's score for month ``month``."""
    scored = score_frame(card, frame, reasons=0)
    indices = card.bin_indices(frame)
    existing = set(
        session.scalars(
            select(RiskScore.subject).where(
                RiskScore.model_id == model.id, RiskScore.month == month
            )
        )
    )
    for position, subject in enumerate(subjects):
        if subject in existing:
            continue
        session.add(
            RiskScore(
                model_id=model.id,
                month=month,
                subject=subject,
                score=int(scored["score"].iat[position]),
                probability=float(scored["probability"].iat[position]),
                bins={name: int(indices[name].iat[position]) for name in card.characteristics},
            )
        )
    session.flush()
    return scored


def monitor(session: Session, name: str, month: str) -> dict[str, Any]:
    """PSI of the champion's scores and of each characteristic in ``month`` against training."""
    row, _card = champion(session, name)
    scores = session.scalars(
        select(RiskScore).where(RiskScore.model_id == row.id, RiskScore.month == month)
    ).all()
    if not scores:
        raise NotFoundError(f"model {name} recorded no scores in {month}")
    baseline: Mapping[str, Any] = row.baseline
    bands = baseline["bands"]
    values = score_bands(np.array([item.score for item in scores]))
    clipped = np.clip(values, bands[0], bands[-1])
    score_psi = psi(baseline["score_shares"], _shares(clipped, bands))
    characteristics = {}
    for characteristic, expected in baseline["characteristics"].items():
        actual = _shares([item.bins[characteristic] for item in scores], range(len(expected)))
        value = psi(expected, actual)
        characteristics[characteristic] = {"psi": round(value, 4), "alert": value > PSI_ALERT}
    return {
        "model": model_document(row),
        "month": month,
        "count": len(scores),
        "score": {"psi": round(score_psi, 4), "alert": score_psi > PSI_ALERT},
        "characteristics": characteristics,
        "alert": score_psi > PSI_ALERT or any(item["alert"] for item in characteristics.values()),
        "threshold": PSI_ALERT,
    }
