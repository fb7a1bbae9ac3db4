"""``/v1/risk``: scoring applicants by a model's champion, pricing, and the watchlist.

Scoring runs through :func:`tenor.risk.registry.score_frame`, the same function the daily close
uses on a whole frame, so a borrower scores the same in the API as in the batch.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from tenor.api.auth import database, require
from tenor.api.problems import problem_responses
from tenor.api.roles import Permission, Principal
from tenor.core.errors import InvalidArgumentError
from tenor.store.database import Database

router = APIRouter(
    prefix="/v1/risk",
    tags=["risk"],
    responses=problem_responses(401, 403, 404, 422),
)

Db = Annotated[Database, Depends(database)]

#: The most applicants one scoring request may carry.
MAX_APPLICANTS = 1000


class ScoreRequest(BaseModel):
    """Applicants to score: each a mapping of characteristic to value, as in the training data."""

    model: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", examples=["pd-credit-data"])
    applicants: list[dict[str, str | int | float | None]] = Field(
        min_length=1, max_length=MAX_APPLICANTS
    )


class ScoredApplicant(BaseModel):
    """One applicant's score, probability of a bad outcome and reason codes."""

    score: int
    probability: float
    reasons: list[str]


class ScoreResponse(BaseModel):
    """The scores, in the order of the request, and the model version that gave them."""

    model: str
    version: int
    model_id: int
    scores: list[ScoredApplicant]


def _score(db: Database, body: ScoreRequest) -> dict[str, Any]:
    import pandas as pd  # noqa: PLC0415 - the model libraries load on the first scoring call

    from tenor.risk.registry import champion, score_frame  # noqa: PLC0415

    with db.reading() as session:
        row, card = champion(session, body.model)
        version, model_id = row.version, row.id
    frame = pd.DataFrame.from_records(body.applicants)
    try:
        scored = score_frame(card, frame)
    except ValueError as error:
        raise InvalidArgumentError(str(error)) from None
    return {
        "model": body.model,
        "version": version,
        "model_id": model_id,
        "scores": [
            {"score": int(score), "probability": float(probability), "reasons": reasons}
            for score, probability, reasons in zip(
                scored["score"], scored["probability"], scored["reasons"], strict=True
            )
        ],
    }


@router.post(
    "/score",
    response_model=ScoreResponse,
    responses=problem_responses(400),
    summary="Score applicants by the champion",
)
async def score_applicants(
    body: ScoreRequest,
    db: Db,
    _who: Annotated[Principal, Depends(require(Permission.SCORE_RISK))],
) -> dict[str, Any]:
    """Scores by the champion of ``model``: points, probability of default, reason codes."""
    return await run_in_threadpool(_score, db, body)


@router.get("/watchlist", summary="The open early-warning watchlist")
def get_watchlist(
    db: Db,
    _who: Annotated[Principal, Depends(require(Permission.READ_RISK))],
) -> dict[str, Any]:
    """Open watchlist entries, breaches first, each with its task (zh-CN and en)."""
    from tenor.risk.actions import watchlist  # noqa: PLC0415

    with db.reading() as session:
        return {"entries": watchlist(session)}
