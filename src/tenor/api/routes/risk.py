"""``/v1/risk``: scoring by a model's champion, the watchlist and its post-loan tasks, loans'
covenants and borrowers' risk profiles.

Scoring runs through :func:`tenor.risk.registry.score_frame`, the same function the daily close
uses on a whole frame, so a borrower scores the same in the API as in the batch:
``GET /v1/risk/borrowers/{id}/score`` scores the borrower's profile in force exactly as the
close does before it records the score for relief.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from tenor.api.auth import database, require
from tenor.api.problems import problem_responses
from tenor.api.queries import check_borrower_in_scope, check_loan_in_scope
from tenor.api.roles import Permission, Principal
from tenor.api.schemas import MAX_ID, DecimalText, LongText, _Request, _Response
from tenor.core.errors import InvalidArgumentError
from tenor.risk.ews import INDICATORS
from tenor.store.database import Database

router = APIRouter(
    prefix="/v1/risk",
    tags=["risk"],
    responses=problem_responses(401, 403, 404, 422),
)

Db = Annotated[Database, Depends(database)]
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Reader = Annotated[Principal, Depends(require(Permission.READ_RISK))]
Writer = Annotated[Principal, Depends(require(Permission.WRITE_RISK))]
Scorer = Annotated[Principal, Depends(require(Permission.SCORE_RISK))]

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
def get_watchlist(db: Db, _who: Reader) -> dict[str, Any]:
    """Open watchlist entries, breaches first, each with its task (zh-CN and en)."""
    from tenor.risk.actions import watchlist  # noqa: PLC0415

    with db.reading() as session:
        return {"entries": watchlist(session)}


# --- covenants ------------------------------------------------------------------------------


class CovenantIn(_Request):
    """A covenant: ``indicator`` at least ``minimum`` or at most ``maximum`` (one of them)."""

    indicator: Literal[INDICATORS]  # type: ignore[valid-type]
    minimum: DecimalText | None = None
    maximum: DecimalText | None = None
    headroom: DecimalText | None = Field(
        default=None,
        description="Within this fraction of the threshold the covenant holds but warns "
        "(default 0.05).",
    )


class CovenantsIn(_Request):
    """Every covenant of the loan (an empty list: the default covenants apply again)."""

    covenants: list[CovenantIn] = Field(max_length=len(INDICATORS))


class CovenantOut(_Response):
    """A covenant as ingesting a statement checks it."""

    indicator: str
    minimum: str | None
    maximum: str | None
    headroom: str


class CovenantsOut(_Response):
    """The covenants a statement is checked against: the loan's own, or the defaults."""

    loan_id: int
    source: Literal["loan", "default"]
    covenants: list[CovenantOut]


@router.get(
    "/loans/{loan_id}/covenants",
    response_model=CovenantsOut,
    summary="A loan's covenants",
)
def get_covenants(loan_id: Id, db: Db, who: Reader) -> dict[str, Any]:
    """The loan's covenants, or the default ones (``source``: ``default``) when it has none."""
    from tenor.risk.actions import covenants_document  # noqa: PLC0415

    with db.reading() as session:
        check_loan_in_scope(session, who, loan_id)
        return covenants_document(session, loan_id)


@router.put(
    "/loans/{loan_id}/covenants",
    response_model=CovenantsOut,
    responses=problem_responses(400),
    summary="Set a loan's covenants",
)
def put_covenants(loan_id: Id, body: CovenantsIn, db: Db, who: Writer) -> dict[str, Any]:
    """Replace every covenant of the loan; the next statement ingested is checked on them."""
    from tenor.risk.actions import covenants_document, set_covenants  # noqa: PLC0415
    from tenor.risk.ews import covenant_from_text  # noqa: PLC0415

    covenants = [
        covenant_from_text(
            item.indicator, minimum=item.minimum, maximum=item.maximum, headroom=item.headroom
        )
        for item in body.covenants
    ]
    with db.transaction() as session:
        check_loan_in_scope(session, who, loan_id)
        set_covenants(session, loan_id, covenants, actor=who.actor)
        return covenants_document(session, loan_id)


# --- post-loan tasks ------------------------------------------------------------------------


class TaskOut(_Response):
    """A post-loan task for the relationship manager, opened with a watchlist entry."""

    id: int
    watchlist_id: int
    borrower_id: int
    loan_id: int | None
    assignee: str
    title: dict[str, str]
    opened_on: dt.date
    due_date: dt.date
    state: Literal["open", "done"]
    overdue: bool
    completed_by: str | None
    completed_at: dt.datetime | None
    note: str | None


class TasksOut(_Response):
    """Post-loan tasks, earliest due first."""

    tasks: list[TaskOut]


class CompleteTaskIn(_Request):
    """What the review found; ``resolve`` also closes the watchlist entry (and its stage)."""

    note: LongText | None = None
    resolve: bool = False


@router.get("/tasks", response_model=TasksOut, summary="Post-loan tasks")
def get_tasks(
    db: Db,
    _who: Reader,
    state: Annotated[Literal["open", "done"] | None, Query()] = "open",
    loan_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> dict[str, Any]:
    """Open post-loan tasks by default (``state=done`` for completed ones), earliest due
    first; ``overdue`` is an open task past its due date on the business date."""
    from tenor.risk.actions import tasks  # noqa: PLC0415

    with db.reading() as session:
        return {"tasks": tasks(session, state=state, loan_id=loan_id)}


@router.post(
    "/tasks/{task_id}/complete",
    response_model=TaskOut,
    responses=problem_responses(400, 409),
    summary="Complete a post-loan task",
)
def complete_post_loan_task(
    task_id: Id, body: CompleteTaskIn, db: Db, who: Writer
) -> dict[str, Any]:
    """Mark the task done (409 ``task_not_open`` if it was done before)."""
    from tenor.risk.actions import complete_task  # noqa: PLC0415

    with db.transaction() as session:
        return complete_task(
            session,
            task_id,
            actor=who.actor,
            now=dt.datetime.now(dt.UTC),
            note=body.note,
            resolve=body.resolve,
        )


# --- borrowers' risk profiles and their scores ----------------------------------------------


Characteristic = Annotated[str, Field(min_length=1, max_length=100)]
CharacteristicValue = Annotated[str, Field(max_length=200)] | int | float | None


class ProfileIn(_Request):
    """A borrower's application characteristics, named as in the data set's columns."""

    dataset: Literal["credit-data", "german-credit"]
    characteristics: dict[Characteristic, CharacteristicValue] = Field(max_length=64)


class ProfileOut(_Response):
    """The borrower's profile in force."""

    id: int
    borrower_id: int
    dataset: str
    characteristics: dict[str, str | int | float | None]
    recorded_by: str
    recorded_at: str | None


class BorrowerScoreOut(_Response):
    """A borrower's score by the champion of their profile's PD model."""

    borrower_id: int
    model: str
    version: int
    model_id: int
    score: int
    probability: float
    reasons: list[str]


@router.put(
    "/borrowers/{borrower_id}/profile",
    response_model=ProfileOut,
    responses=problem_responses(400),
    summary="Record a borrower's risk profile",
)
def put_profile(borrower_id: Id, body: ProfileIn, db: Db, who: Writer) -> dict[str, Any]:
    """The characteristics the champion scorecard reads, from the borrower's application; the
    newest is in force (earlier ones are kept)."""
    from tenor.risk.actions import profile_document, record_profile  # noqa: PLC0415

    with db.transaction() as session:
        check_borrower_in_scope(session, who, borrower_id)
        row = record_profile(
            session,
            borrower_id,
            dataset=body.dataset,
            characteristics=body.characteristics,
            actor=who.actor,
        )
        return profile_document(row)


def _borrower_score(db: Database, who: Principal, borrower_id: int) -> dict[str, Any]:
    from tenor.risk.actions import latest_profile  # noqa: PLC0415
    from tenor.risk.close import applicant_frame  # noqa: PLC0415
    from tenor.risk.registry import champion, score_frame  # noqa: PLC0415

    with db.reading() as session:
        check_borrower_in_scope(session, who, borrower_id)
        profile = latest_profile(session, borrower_id)
        row, card = champion(session, f"pd-{profile.dataset}")
        name, version, model_id = row.name, row.version, row.id
        characteristics = dict(profile.characteristics)
    frame = applicant_frame([characteristics], card.inputs)
    try:
        scored = score_frame(card, frame)
    except ValueError as error:
        raise InvalidArgumentError(str(error)) from None
    return {
        "borrower_id": borrower_id,
        "model": name,
        "version": version,
        "model_id": model_id,
        "score": int(scored["score"].iat[0]),
        "probability": float(scored["probability"].iat[0]),
        "reasons": scored["reasons"].iat[0],
    }


@router.get(
    "/borrowers/{borrower_id}/score",
    response_model=BorrowerScoreOut,
    summary="Score a borrower by the champion",
)
async def get_borrower_score(borrower_id: Id, db: Db, who: Scorer) -> dict[str, Any]:
    """The borrower's profile in force scored by the champion of ``pd-<dataset>``, as the
    daily close scores it (404 without a profile or a champion)."""
    return await run_in_threadpool(_borrower_score, db, who, borrower_id)


class PropensityOut(_Response):
    """A delinquent loan's propensity to pay, by the promoted propensity model."""

    loan_id: int
    model: str
    business_date: dt.date
    probability: float = Field(description="P(a payment within 14 days).")


def _propensity(db: Database, who: Principal, loan_id: int) -> dict[str, Any]:
    from tenor.collect.features import collection_features  # noqa: PLC0415
    from tenor.risk.propensity import MODEL_NAME, score_loans  # noqa: PLC0415
    from tenor.store.journal import NotFoundError, business_date  # noqa: PLC0415

    with db.reading() as session:
        check_loan_in_scope(session, who, loan_id)
        day = business_date(session)
        scores = score_loans(session, [loan_id], day, extra=collection_features(session, [loan_id]))
    if scores is None:
        raise NotFoundError(f"no {MODEL_NAME} model is promoted")
    if loan_id not in scores:
        raise NotFoundError(f"loan {loan_id} is not delinquent on {day.isoformat()}")
    return {
        "loan_id": loan_id,
        "model": MODEL_NAME,
        "business_date": day,
        "probability": scores[loan_id],
    }


@router.get(
    "/loans/{loan_id}/propensity",
    response_model=PropensityOut,
    summary="A delinquent loan's propensity to pay",
)
async def get_loan_propensity(loan_id: Id, db: Db, who: Reader) -> dict[str, Any]:
    """P(a payment within 14 days) by the promoted propensity model, with collections'
    features, as collectors' queues use it (404 without a model, or for a loan not past due)."""
    return await run_in_threadpool(_propensity, db, who, loan_id)
