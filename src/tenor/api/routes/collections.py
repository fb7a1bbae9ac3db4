"""Collections and legal recovery over REST: queues, cases, outcomes, agencies, strategies.

- ``/v1/collections/queue``: a collector's open calls and visits in working order at an
  instant, the contact rules consulted (:func:`tenor.collect.queue.collector_queue`).
- ``/v1/collections/cases``: the cases the close opened, their history, and what a collector or
  an agency records on them (``outcomes``: a promise to pay, a dispute...), the dispute's
  resolution, placement with an agency and recall, and write-off through the journal; money
  recovered after a write-off is ``POST /v1/loans/{id}/recoveries``.
- ``/v1/collections/strategies``, ``/collectors``, ``/agencies``: configuration, versioned or
  audited, and each agency's cases and statement (collected, commission and net, to the cent).
- ``/v1/legal-cases``: legal recovery, its dated transitions, asset preservation, costs
  (charged to the borrower when the judgment allows) and documents stored with their SHA-256.
- ``/v1/reports/collections`` and ``/v1/reports/strategies``: rates by stage, arm, agency and
  collector; champion against challenger with confidence intervals.

An agency's key sees and works only the cases placed with its agency now; any other case, loan
or agency answers it 404 (see :mod:`tenor.api.roles`). Every write goes through
:mod:`tenor.collect.actions`.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile
from fastapi import Path as PathParam
from pydantic import AfterValidator, AwareDatetime, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from tenor.actions.loans import CurrencyError
from tenor.api.auth import database, require
from tenor.api.parsing import parse_money
from tenor.api.problems import ForbiddenError, problem_responses
from tenor.api.queries import (
    check_loan_in_scope,
    list_agencies,
    list_cases,
    list_collectors,
)
from tenor.api.roles import Permission, Principal, Role
from tenor.api.routes.loans import RequiredKey
from tenor.api.schemas import (
    MAX_ID,
    MAX_YEAR,
    MIN_YEAR,
    Amount,
    ApiDate,
    Currency,
    DecimalText,
    Instant,
    Locale,
    LongText,
    MediumText,
    Name,
    ShortText,
    WriteResult,
    _Request,
    _Response,
)
from tenor.collect import actions
from tenor.collect.queue import (
    agency_cases,
    case_document,
    case_summary,
    collector_queue,
    legal_document,
    on_shift,
    placement_document,
)
from tenor.collect.reports import (
    agency_statement,
    collections_report,
    statement_document,
    strategies_report,
)
from tenor.collect.strategy import StrategyDocument, strategy_in_force, strategy_versions
from tenor.collect.tables import Agency, CollectionCase, CollectionStrategyRow, Collector, LegalCase
from tenor.core.collection import (
    CommissionBand,
    Judgment,
    LegalStage,
    OutcomeCode,
    Preservation,
)
from tenor.core.errors import DomainError, InvalidArgumentError
from tenor.core.money import to_decimal
from tenor.store.database import Database
from tenor.store.journal import NotFoundError, business_date
from tenor.store.models import Loan, utc_now
from tenor.store.reads import get_loan

router = APIRouter(
    prefix="/v1", tags=["collections"], responses=problem_responses(401, 403, 404, 409, 422)
)

Db = Annotated[Database, Depends(database)]
Id = Annotated[int, PathParam(ge=1, le=MAX_ID)]
Reader = Annotated[Principal, Depends(require(Permission.READ_COLLECTIONS))]
Worker = Annotated[Principal, Depends(require(Permission.WORK_COLLECTIONS))]
Manager = Annotated[Principal, Depends(require(Permission.MANAGE_COLLECTIONS))]
Strategist = Annotated[Principal, Depends(require(Permission.WRITE_STRATEGIES))]
ReportReader = Annotated[Principal, Depends(require(Permission.READ_COLLECTION_REPORTS))]
LegalReader = Annotated[Principal, Depends(require(Permission.READ_LEGAL))]
LegalWriter = Annotated[Principal, Depends(require(Permission.WRITE_LEGAL))]
Repayer = Annotated[Principal, Depends(require(Permission.POST_REPAYMENTS))]

#: The largest legal document accepted (a scanned judgment runs to a few megabytes).
MAX_DOCUMENT_BYTES: Final = 20 * 1024 * 1024


class DocumentTooLargeError(DomainError):
    """An uploaded document beyond :data:`MAX_DOCUMENT_BYTES`."""

    code = "document_too_large"


def _bounded_instant(value: dt.datetime) -> dt.datetime:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise PydanticCustomError(
            "invalid_date", f"instants must fall between {MIN_YEAR} and {MAX_YEAR}"
        )
    return value


ApiInstant = Annotated[
    AwareDatetime,
    AfterValidator(_bounded_instant),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "description": "An RFC 3339 instant with its UTC offset, such as "
            "2026-02-21T10:00:00+08:00.",
        }
    ),
]

OutcomeChannel = Literal["call", "visit", "sms", "email", "push"]
CaseStatus = Literal["open", "closed"]
AgencyName = Annotated[Name, Field(max_length=120)]


# --- documents ------------------------------------------------------------------------------


class CaseSummaryOut(_Response):
    """Where a collection case stands: its segment and arm, days past due, balance, pause."""

    id: int
    loan_id: int
    borrower_id: int
    status: str
    opened_on: dt.date
    closed_on: dt.date | None
    close_reason: str | None
    strategy: str
    strategy_version: int
    segment: str
    arm: str
    steps_taken: int
    days_past_due: int
    balance: str
    currency: str
    paused: str | None
    flags: list[str]
    collector_id: int | None
    agency_id: int | None


class CasePage(_Response):
    """One page of cases and how many match in all."""

    items: list[CaseSummaryOut]
    total: int
    offset: int
    limit: int


class CaseActionOut(_Response):
    """What the strategy did for the case on a business date, or asked a person to do."""

    id: int
    business_date: dt.date
    segment: str
    arm: str
    step: int
    kind: str
    state: str
    detail: dict[str, Any]
    cost: str | None
    collector_id: int | None


class OutcomeRecordOut(_Response):
    """A contact's outcome as recorded."""

    id: int
    at: Instant
    channel: str
    code: str
    collector_id: int | None
    agency_id: int | None
    note: str | None


class PromiseOut(_Response):
    """A promise to pay; the close decides it kept or broken."""

    id: int
    case_id: int
    loan_id: int
    amount: str
    currency: str
    made_on: dt.date
    due_date: dt.date
    channel: str
    status: str
    paid: str
    decided_on: dt.date | None


class DisputeOut(_Response):
    """A dispute of the debt: collection pauses until it is resolved."""

    id: int
    opened_on: dt.date
    reason: str | None
    resolved_on: dt.date | None
    resolution: str | None
    resolved_by: str | None = None


class PlacementOut(_Response):
    """A case placed with an agency, at the rate of its days past due at placement."""

    id: int
    case_id: int
    loan_id: int
    agency_id: int
    placed_on: dt.date
    recall_on: dt.date
    recalled_on: dt.date | None
    recall_reason: str | None
    rate: str
    days_past_due: int


class CaseOut(CaseSummaryOut):
    """A case with everything that happened to it (an agency sees its own placements only)."""

    actions: list[CaseActionOut]
    outcomes: list[OutcomeRecordOut]
    promises: list[PromiseOut]
    disputes: list[DisputeOut]
    placements: list[PlacementOut]
    legal_cases: list[int]


class QueueEntryOut(_Response):
    """A task in a collector's queue: what orders it, and whether the rules allow it now."""

    rank: int
    case_id: int
    task_id: int
    action: str
    loan_id: int
    borrower_id: int
    borrower_name: str
    locale: str
    segment: str
    arm: str
    days_past_due: int
    balance: str
    currency: str
    propensity: str
    propensity_source: str
    contact_cost: str
    expected_value: str
    broken_promise: bool
    contactable_now: bool
    refused_rule: str | None
    next_allowed_at: Instant | None


class QueueOut(_Response):
    """A collector's queue at an instant of a business date."""

    collector_id: int
    at: Instant
    business_date: dt.date
    on_shift: bool = Field(description="Whether ``at`` is in the collector's working hours.")
    entries: list[QueueEntryOut]


class OutcomeIn(_Request):
    """A contact's outcome; a promise to pay carries its amount and date."""

    code: OutcomeCode
    channel: OutcomeChannel = "call"
    at: ApiInstant | None = Field(default=None, description="When; default: now.")
    amount: Amount | None = None
    promise_date: ApiDate | None = None
    note: LongText | None = None
    collector_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = Field(
        default=None, description="The collector who made the contact (not with an agency key)."
    )


class OutcomeOut(_Response):
    """What recording the outcome wrote, and the case after it."""

    outcome_id: int
    case_id: int
    code: str
    promise_id: int | None
    dispute_id: int | None
    case: CaseSummaryOut


class DisputeResolutionIn(_Request):
    """How a dispute was resolved: upheld (the borrower was right) or rejected."""

    resolution: LongText
    upheld: bool


class PlacementIn(_Request):
    """The agency to place the case with."""

    agency_id: Annotated[int, Field(ge=1, le=MAX_ID)]


class RecoveryIn(_Request):
    """Money recovered on a written-off loan."""

    amount: Amount
    currency: Currency


class StrategyInForceOut(_Response):
    """The strategy the close follows (version 0: the default strategy, before any is saved)."""

    name: str
    version: int
    document: dict[str, Any]


class StrategyVersionOut(_Response):
    """A saved version of a strategy."""

    id: int
    name: str
    version: int
    document: dict[str, Any]
    created_by: str
    created_at: Instant
    in_force: bool


class StrategiesOut(_Response):
    """The strategy in force and every saved version, newest first."""

    in_force: StrategyInForceOut
    items: list[StrategyVersionOut]


class CollectorIn(_Request):
    """A collector: team, languages, products and segments covered, capacity, hours."""

    name: AgencyName
    team: ShortText
    languages: Annotated[list[Locale], Field(min_length=1, max_length=2)]
    products: Annotated[list[ShortText], Field(max_length=50)] = Field(default_factory=list)
    stages: Annotated[list[ShortText], Field(max_length=50)] = Field(
        default_factory=list, description="Strategy segments covered (none listed: all)."
    )
    capacity: Annotated[int, Field(ge=1, le=100_000)] = 200
    time_zone: ShortText = "Asia/Shanghai"
    work_start: Annotated[int, Field(ge=0, le=23)] = 9
    work_end: Annotated[int, Field(ge=1, le=24)] = 18
    field: bool = Field(default=False, description="A field collector, who goes on visits.")


class CollectorOut(_Response):
    """A collector."""

    id: int
    name: str
    team: str
    languages: list[str]
    products: list[str]
    stages: list[str]
    capacity: int
    time_zone: str
    work_start: int
    work_end: int
    field: bool
    active: bool


class CollectorList(_Response):
    """Every collector."""

    items: list[CollectorOut]


class BandIn(_Request):
    """A commission rate (a share: "0.15") for cases placed from ``min_dpd`` days past due."""

    min_dpd: Annotated[int, Field(ge=1, le=100_000)]
    rate: DecimalText


class AgencyIn(_Request):
    """An agency: commission bands, the days after which a placement is recalled, capacity."""

    name: AgencyName
    commission: Annotated[list[BandIn], Field(min_length=1, max_length=20)]
    recall_days: Annotated[int, Field(ge=1, le=3650)] = 90
    capacity: Annotated[int, Field(ge=1, le=1_000_000)] = 1000


class BandOut(_Response):
    """A commission band."""

    min_dpd: int
    rate: str


class AgencyOut(_Response):
    """An agency."""

    id: int
    name: str
    commission: list[BandOut]
    recall_days: int
    capacity: int
    active: bool


class AgencyList(_Response):
    """The agencies in the caller's scope."""

    items: list[AgencyOut]


class AgencyCasesOut(_Response):
    """The cases placed with an agency now."""

    agency_id: int
    items: list[CaseSummaryOut]


class StatementLineOut(_Response):
    """A payment collected on a placed case: commission + net = collected."""

    payment: str
    loan_id: int
    collected: str
    rate: str
    commission: str
    net: str


class StatementOut(_Response):
    """What an agency collected, its commission and the lender's net; totals are the lines'."""

    agency_id: int
    since: dt.date | None
    through: dt.date
    currency: str
    collected: str
    commission: str
    net: str
    lines: list[StatementLineOut]


class JudgmentIn(_Request):
    """What the court awarded; ``costs_to_borrower`` charges the legal costs to the borrower."""

    amount: Amount
    costs: Amount = "0"
    interest: Amount = "0"
    costs_to_borrower: bool = False


class LegalIn(_Request):
    """A loan referred to legal recovery (it needs an open collection case)."""

    loan_id: Annotated[int, Field(ge=1, le=MAX_ID)]
    court: Name | None = None


class TransitionIn(_Request):
    """The legal case's next stage; a judgment comes with its award."""

    to: LegalStage
    on: ApiDate | None = Field(default=None, description="Default: the business date.")
    judgment: JudgmentIn | None = None
    court: Name | None = None
    reference: MediumText | None = None
    note: LongText | None = None


class PreservationIn(_Request):
    """Asset preservation's next state."""

    to: Preservation
    on: ApiDate | None = None
    note: LongText | None = None


class CostIn(_Request):
    """A court or lawyer cost, in the legal case's currency."""

    kind: Literal["court", "lawyer", "enforcement", "other"]
    amount: Amount
    on: ApiDate | None = None
    note: LongText | None = None


class JudgmentOut(_Response):
    """A judgment's award."""

    amount: str
    costs: str
    interest: str
    costs_to_borrower: bool | None


class LegalEventOut(_Response):
    """A dated, audited step of a legal case."""

    on: dt.date
    kind: str
    from_: str | None = Field(alias="from")
    to: str | None
    note: str | None
    actor: str


class LegalDocumentOut(_Response):
    """A stored document of a legal case."""

    id: int
    name: str
    kind: str
    sha256: str
    size: int


class LegalCostOut(_Response):
    """A legal cost, and the journal's charge when it was charged to the borrower."""

    id: int
    kind: str
    amount: str
    incurred_on: dt.date
    charged: bool
    charge_event_id: str | None


class LegalOut(_Response):
    """A legal case: stage, preservation, judgment, events, documents and costs."""

    id: int
    loan_id: int
    borrower_id: int
    case_id: int | None
    stage: str
    preservation: str
    court: str | None
    reference: str | None
    currency: str
    judgment: JudgmentOut | None
    opened_on: dt.date
    closed_on: dt.date | None
    events: list[LegalEventOut]
    documents: list[LegalDocumentOut]
    costs: list[LegalCostOut]


class CollectionsReportOut(_Response):
    """Cases, rates by stage, strategy arm and agency, promises and collector productivity."""

    business_date: dt.date
    currency: str
    cases: dict[str, Any]
    total: dict[str, Any]
    by_stage: dict[str, dict[str, Any]]
    by_arm: list[dict[str, Any]]
    promises: dict[str, Any]
    agencies: list[dict[str, Any]]
    collectors: list[dict[str, Any]]


class StrategiesReportOut(_Response):
    """Champion against challenger in each segment, with 95% confidence intervals."""

    business_date: dt.date
    currency: str
    segments: list[dict[str, Any]]


# --- scope ----------------------------------------------------------------------------------


def _agency_of(who: Principal) -> int | None:
    """The agency whose placements bound the caller's scope, or None for staff."""
    if who.role is not Role.AGENCY:
        return None
    # An agency key always names its agency (tenor.actions.apikeys); -1 names none.
    return who.agency_id if who.agency_id is not None else -1


def _whole_book(who: Principal) -> None:
    if who.role is Role.AGENCY:
        raise ForbiddenError("an agency key sees only the cases placed with its agency")


def _case_in_scope(db: Database, who: Principal, case_id: int) -> None:
    agency = _agency_of(who)
    if agency is None:
        return
    with db.reading() as session:
        case = session.get(CollectionCase, case_id)
        if case is None or case.agency_id != agency:
            raise NotFoundError(f"collection case {case_id} does not exist")


def _agency_in_scope(who: Principal, agency_id: int) -> None:
    agency = _agency_of(who)
    if agency is not None and agency != agency_id:
        raise NotFoundError(f"agency {agency_id} does not exist")


# --- queue and cases ------------------------------------------------------------------------


@router.get("/collections/queue", response_model=QueueOut, summary="A collector's work queue")
def get_collector_queue(
    db: Db,
    who: Reader,
    collector_id: Annotated[int, Query(ge=1, le=MAX_ID)],
    at: Annotated[ApiInstant | None, Query(description="Default: now.")] = None,
) -> dict[str, Any]:
    """Open calls and visits, contactable ones first, then broken promises, then expected
    value (balance x propensity to pay - contact cost); each says whether the contact rules
    allow it at ``at`` and, if not, which rule and when."""
    _whole_book(who)
    moment = at or utc_now()
    with db.reading() as session:
        day = business_date(session)
        entries = collector_queue(session, collector_id, moment, day)
        collector = session.get(Collector, collector_id)
        assert collector is not None  # the queue of an unknown collector raised NotFoundError
        working = on_shift(collector, moment)
    return {
        "collector_id": collector_id,
        "at": moment,
        "business_date": day,
        "on_shift": working,
        "entries": [entry.document() for entry in entries],
    }


@router.get("/collections/cases", response_model=CasePage, summary="List collection cases")
def list_collection_cases(
    db: Db,
    who: Reader,
    status: CaseStatus | None = None,
    collector_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    agency_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    segment: Annotated[ShortText | None, Query()] = None,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Cases in the caller's scope matching every filter, by id, with the total; an agency's
    key lists the cases placed with it now."""
    scope = _agency_of(who)
    if scope is not None:
        if agency_id is not None and agency_id != scope:
            return {"items": [], "total": 0, "offset": offset, "limit": limit}
        agency_id = scope
    with db.reading() as session:
        rows, total = list_cases(
            session,
            status=status,
            collector_id=collector_id,
            agency_id=agency_id,
            segment=segment,
            offset=offset,
            limit=limit,
        )
        items = [case_summary(row) for row in rows]
    return {"items": items, "total": total, "offset": offset, "limit": limit}


@router.get("/collections/cases/{case_id}", response_model=CaseOut, summary="Get a collection case")
def get_collection_case(case_id: Id, db: Db, who: Reader) -> dict[str, Any]:
    """The case with its actions, contacts, promises, disputes, placements and legal cases."""
    with db.reading() as session:
        return case_document(session, case_id, agency_id=_agency_of(who))


@router.post(
    "/collections/cases/{case_id}/outcomes",
    status_code=201,
    response_model=OutcomeOut,
    responses=problem_responses(400),
    summary="Record a contact's outcome",
)
def post_outcome(case_id: Id, body: OutcomeIn, db: Db, who: Worker) -> dict[str, Any]:
    """A contact's result with its standard code. A promise to pay needs ``amount`` and
    ``promise_date``; a dispute or hardship pauses the case; deceased and bankruptcy stop it.
    A call or visit the contact rules forbid at ``at`` answers 409 ``contact_refused`` and
    records nothing; a closed case answers 409 ``case_closed``."""
    _case_in_scope(db, who, case_id)
    agency = _agency_of(who)
    if agency is not None and body.collector_id is not None:
        raise InvalidArgumentError(
            "an agency records outcomes under its own name, not a collector's"
        )
    recorded = actions.record_outcome(
        db,
        case_id,
        actions.OutcomeRequest(
            code=body.code,
            channel=body.channel,
            at=body.at,
            amount=None if body.amount is None else to_decimal(body.amount, what="amount"),
            promise_date=body.promise_date,
            note=body.note,
            collector_id=body.collector_id,
            agency_id=agency,
        ),
        actor=who.actor,
    )
    with db.reading() as session:
        case = session.get(CollectionCase, case_id)
        assert case is not None  # the case was just written to
        summary = case_summary(case)
    return {
        "outcome_id": recorded.outcome_id,
        "case_id": recorded.case_id,
        "code": recorded.code,
        "promise_id": recorded.promise_id,
        "dispute_id": recorded.dispute_id,
        "case": summary,
    }


@router.post(
    "/collections/cases/{case_id}/dispute-resolution",
    response_model=DisputeOut,
    responses=problem_responses(400),
    summary="Resolve a case's open dispute",
)
def resolve_case_dispute(
    case_id: Id, body: DisputeResolutionIn, db: Db, who: Manager
) -> dict[str, Any]:
    """Rejected: collection resumes at the next close. Upheld: the case stays stopped until the
    ledger is corrected."""
    dispute = actions.resolve_dispute(
        db, case_id, resolution=body.resolution, upheld=body.upheld, actor=who.actor
    )
    return {
        "id": dispute.id,
        "opened_on": dispute.opened_on,
        "reason": dispute.reason,
        "resolved_on": dispute.resolved_on,
        "resolution": dispute.resolution,
        "resolved_by": dispute.resolved_by,
    }


@router.post(
    "/collections/cases/{case_id}/placement",
    status_code=201,
    response_model=PlacementOut,
    responses=problem_responses(400),
    summary="Place a case with an agency",
)
def place_case(case_id: Id, body: PlacementIn, db: Db, who: Manager) -> dict[str, Any]:
    """At the agency's commission rate for the case's days past due; a case excluded from
    placement (a dispute, hardship, a deceased or bankrupt borrower) answers 422."""
    placement = actions.place(db, case_id, body.agency_id, actor=who.actor)
    return placement_document(placement)


@router.post(
    "/collections/cases/{case_id}/recall",
    response_model=PlacementOut,
    summary="Recall a case from its agency",
)
def recall_case(case_id: Id, db: Db, who: Manager) -> dict[str, Any]:
    """End the case's placement today; the case comes back to the in-house path."""
    return placement_document(actions.recall(db, case_id, actor=who.actor))


@router.post(
    "/collections/cases/{case_id}/write-off",
    status_code=201,
    response_model=WriteResult,
    summary="Write a case's loan off",
)
def write_off_case(case_id: Id, db: Db, who: Manager) -> dict[str, Any]:
    """A written-off event in the loan's journal; the case closes as written off."""
    event_id = actions.write_off(db, case_id, actor=who.actor)
    with db.reading() as session:
        case = session.get(CollectionCase, case_id)
        assert case is not None  # written off just now
        return {"event_id": event_id, "loan": get_loan(session, case.loan_id)}


@router.post(
    "/loans/{loan_id}/recoveries",
    status_code=201,
    response_model=WriteResult,
    responses={
        200: {"model": WriteResult, "description": "A replay of a request already recorded."},
        **problem_responses(400),
    },
    summary="Record money recovered after a write-off",
)
def post_recovery(
    loan_id: Id,
    body: RecoveryIn,
    idempotency_key: RequiredKey,
    db: Db,
    who: Repayer,
    response: Response,
) -> dict[str, Any]:
    """A recovered event in the written-off loan's journal; the same Idempotency-Key and
    request again answers 200 with the same event."""
    money = parse_money(body.amount, body.currency)
    with db.reading() as session:
        check_loan_in_scope(session, who, loan_id)
        loan = session.get(Loan, loan_id)
        if loan is None:
            raise NotFoundError(f"loan {loan_id} does not exist")
        if loan.currency != money.currency:
            raise CurrencyError(
                f"amount is in {money.currency}; loan {loan_id} is in {loan.currency}"
            )
    appended = actions.recover(
        db, loan_id, money.amount, idempotency_key=idempotency_key, actor=who.actor
    )
    if appended.replayed:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    with db.reading() as session:
        return {"event_id": appended.event_id, "loan": get_loan(session, loan_id)}


# --- configuration --------------------------------------------------------------------------


def _strategy_version(row: CollectionStrategyRow, in_force: bool) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "version": row.version,
        "document": row.document,
        "created_by": row.created_by,
        "created_at": row.created_at,
        "in_force": in_force,
    }


@router.get(
    "/collections/strategies", response_model=StrategiesOut, summary="Collection strategies"
)
def list_strategies(db: Db, who: Reader) -> dict[str, Any]:
    """The strategy in force and every saved version, newest first (the first is in force)."""
    _whole_book(who)
    with db.reading() as session:
        document, version = strategy_in_force(session)
        rows = strategy_versions(session)
        items = [_strategy_version(row, index == 0) for index, row in enumerate(rows)]
    return {
        "in_force": {
            "name": document.name,
            "version": version,
            "document": document.model_dump(mode="json"),
        },
        "items": items,
    }


@router.post(
    "/collections/strategies",
    status_code=201,
    response_model=StrategyVersionOut,
    responses=problem_responses(400),
    summary="Save a new version of a strategy",
)
def save_collection_strategy(body: StrategyDocument, db: Db, who: Strategist) -> dict[str, Any]:
    """The document becomes the next version of its name and the strategy in force; open cases
    move to it at their next step. A document that does not validate answers 422 with where
    and why, and nothing is saved."""
    row = actions.save_strategy(db, body.model_dump(mode="json"), actor=who.actor)
    return _strategy_version(row, True)


def _collector_document(row: Collector) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "team": row.team,
        "languages": row.languages,
        "products": row.products,
        "stages": row.stages,
        "capacity": row.capacity,
        "time_zone": row.time_zone,
        "work_start": row.work_start,
        "work_end": row.work_end,
        "field": row.field,
        "active": row.active,
    }


@router.get("/collections/collectors", response_model=CollectorList, summary="List collectors")
def get_collectors(db: Db, who: Reader) -> dict[str, Any]:
    """Every collector, by id."""
    _whole_book(who)
    with db.reading() as session:
        return {"items": [_collector_document(row) for row in list_collectors(session)]}


@router.post(
    "/collections/collectors",
    status_code=201,
    response_model=CollectorOut,
    responses=problem_responses(400),
    summary="Register a collector",
)
def post_collector(body: CollectorIn, db: Db, who: Manager) -> dict[str, Any]:
    """A collector; the next close assigns cases to them."""
    row = actions.add_collector(
        db,
        actions.CollectorSpec(
            name=body.name,
            team=body.team,
            languages=body.languages,
            products=body.products,
            stages=body.stages,
            capacity=body.capacity,
            time_zone=body.time_zone,
            work_start=body.work_start,
            work_end=body.work_end,
            field=body.field,
        ),
        actor=who.actor,
    )
    return _collector_document(row)


def _agency_document(row: Agency) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "commission": row.commission,
        "recall_days": row.recall_days,
        "capacity": row.capacity,
        "active": row.active,
    }


@router.get("/collections/agencies", response_model=AgencyList, summary="List agencies")
def get_agencies(db: Db, who: Reader) -> dict[str, Any]:
    """Every agency (an agency's key: its own)."""
    with db.reading() as session:
        rows = list_agencies(session, only_id=_agency_of(who))
        return {"items": [_agency_document(row) for row in rows]}


@router.post(
    "/collections/agencies",
    status_code=201,
    response_model=AgencyOut,
    responses=problem_responses(400),
    summary="Register an agency",
)
def post_agency(body: AgencyIn, db: Db, who: Manager) -> dict[str, Any]:
    """An agency with its commission bands by days past due at placement."""
    bands = [
        CommissionBand(band.min_dpd, to_decimal(band.rate, what="rate")) for band in body.commission
    ]
    row = actions.add_agency(
        db,
        name=body.name,
        commission=bands,
        recall_days=body.recall_days,
        capacity=body.capacity,
        actor=who.actor,
    )
    return _agency_document(row)


@router.get(
    "/collections/agencies/{agency_id}/cases",
    response_model=AgencyCasesOut,
    summary="The cases placed with an agency",
)
def get_agency_cases(agency_id: Id, db: Db, who: Reader) -> dict[str, Any]:
    """Open cases placed with the agency now."""
    _agency_in_scope(who, agency_id)
    with db.reading() as session:
        return {"agency_id": agency_id, "items": agency_cases(session, agency_id)}


@router.get(
    "/collections/agencies/{agency_id}/statement",
    response_model=StatementOut,
    summary="An agency's statement",
)
def get_agency_statement(
    agency_id: Id,
    db: Db,
    who: Reader,
    since: Annotated[
        ApiDate | None, Query(description="Default: from the first placement.")
    ] = None,
    through: Annotated[ApiDate | None, Query(description="Default: the business date.")] = None,
) -> dict[str, Any]:
    """Payments on the agency's placed cases while placed, each with the commission at its
    placement's rate (half-even to the cent) and the lender's net; totals are the lines'."""
    _agency_in_scope(who, agency_id)
    with db.reading() as session:
        end = through or business_date(session)
        if since is not None and since > end:
            raise InvalidArgumentError("since must not be after through")
        statement = agency_statement(session, agency_id, since, end)
    return {**statement_document(statement, agency_id), "since": since, "through": end}


# --- legal recovery -------------------------------------------------------------------------


def _legal_currency(db: Database, legal_id: int) -> str:
    with db.reading() as session:
        legal = session.get(LegalCase, legal_id)
        if legal is None:
            raise NotFoundError(f"legal case {legal_id} does not exist")
        return legal.currency


def _legal(db: Database, legal_id: int) -> dict[str, Any]:
    with db.reading() as session:
        return legal_document(session, legal_id)


@router.post(
    "/legal-cases",
    status_code=201,
    response_model=LegalOut,
    responses=problem_responses(400),
    tags=["legal"],
    summary="Refer a loan to legal recovery",
)
def open_legal_case(body: LegalIn, db: Db, who: LegalWriter, response: Response) -> dict[str, Any]:
    """A legal case for a loan with an open collection case (one open legal case a loan)."""
    legal = actions.open_legal(db, body.loan_id, court=body.court, actor=who.actor)
    response.headers["Location"] = f"/v1/legal-cases/{legal.id}"
    return _legal(db, legal.id)


@router.get(
    "/legal-cases/{legal_id}", response_model=LegalOut, tags=["legal"], summary="A legal case"
)
def get_legal_case(legal_id: Id, db: Db, _who: LegalReader) -> dict[str, Any]:
    """Stage, preservation, judgment, dated events, documents and costs."""
    return _legal(db, legal_id)


@router.post(
    "/legal-cases/{legal_id}/transitions",
    response_model=LegalOut,
    responses=problem_responses(400),
    tags=["legal"],
    summary="Move a legal case to its next stage",
)
def post_legal_transition(
    legal_id: Id, body: TransitionIn, db: Db, who: LegalWriter
) -> dict[str, Any]:
    """referred, demand_letter, filed, hearing, judgment (with its award), enforcement;
    settlement and closed from any stage. A move the state machine does not allow answers
    409 ``invalid_transition``. A judgment charging costs to the borrower charges every cost
    recorded so far as a fee in the loan's journal."""
    judgment = None
    if body.judgment is not None:
        currency = _legal_currency(db, legal_id)
        award = body.judgment
        judgment = Judgment(
            amount=parse_money(award.amount, currency, what="amount", allow_zero=True),
            costs=parse_money(award.costs, currency, what="costs", allow_zero=True),
            interest=parse_money(award.interest, currency, what="interest", allow_zero=True),
            costs_to_borrower=award.costs_to_borrower,
        )
    actions.advance_legal(
        db,
        legal_id,
        body.to,
        on=body.on,
        judgment=judgment,
        court=body.court,
        reference=body.reference,
        note=body.note,
        actor=who.actor,
    )
    return _legal(db, legal_id)


@router.post(
    "/legal-cases/{legal_id}/preservation",
    response_model=LegalOut,
    responses=problem_responses(400),
    tags=["legal"],
    summary="Move a legal case's asset preservation",
)
def post_legal_preservation(
    legal_id: Id, body: PreservationIn, db: Db, who: LegalWriter
) -> dict[str, Any]:
    """requested, then granted or refused; granted assets are released. 409
    ``invalid_transition`` otherwise."""
    actions.preserve(db, legal_id, body.to, on=body.on, note=body.note, actor=who.actor)
    return _legal(db, legal_id)


@router.post(
    "/legal-cases/{legal_id}/costs",
    status_code=201,
    response_model=LegalOut,
    responses=problem_responses(400),
    tags=["legal"],
    summary="Record a legal cost",
)
def post_legal_cost(legal_id: Id, body: CostIn, db: Db, who: LegalWriter) -> dict[str, Any]:
    """A court, lawyer or enforcement cost; charged to the borrower at once when the judgment
    allows it, otherwise when a judgment that does comes."""
    money = parse_money(body.amount, _legal_currency(db, legal_id))
    actions.add_cost(
        db,
        legal_id,
        kind=body.kind,
        amount=money.amount,
        on=body.on,
        note=body.note,
        actor=who.actor,
    )
    return _legal(db, legal_id)


def _safe_name(filename: str | None) -> str:
    """The upload's own name, without a directory, control characters or excess length."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(character for character in name if character.isprintable()).strip()
    # File systems hold 255 bytes a name; leave room and keep whole characters.
    while len(name.encode("utf-8")) > 200:
        name = name[:-1]
    return name if name not in ("", ".", "..") else "document"


@router.post(
    "/legal-cases/{legal_id}/documents",
    status_code=201,
    response_model=LegalDocumentOut,
    responses=problem_responses(400, 413),
    tags=["legal"],
    summary="Attach a document to a legal case",
)
def post_legal_document(
    legal_id: Id,
    db: Db,
    who: LegalWriter,
    file: Annotated[UploadFile, File(description="The document (at most 20 MiB).")],
    kind: Annotated[str, Form(pattern=r"^[a-z_]{1,32}$", description="demand_letter, ...")] = (
        "other"
    ),
) -> dict[str, Any]:
    """Stored under its SHA-256, which the answer gives for the caller to check."""
    _legal_currency(db, legal_id)
    with tempfile.TemporaryDirectory(prefix="tenor-upload-") as directory:
        target = Path(directory) / _safe_name(file.filename)
        size = 0
        with target.open("wb") as out:
            for block in iter(lambda: file.file.read(1 << 20), b""):
                size += len(block)
                if size > MAX_DOCUMENT_BYTES:
                    raise DocumentTooLargeError(
                        f"a document is at most {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB"
                    )
                out.write(block)
        document = actions.attach_document(db, legal_id, target, kind=kind, actor=who.actor)
    return {
        "id": document.id,
        "name": document.name,
        "kind": document.kind,
        "sha256": document.sha256,
        "size": document.size,
    }


# --- reports --------------------------------------------------------------------------------


@router.get(
    "/reports/collections",
    response_model=CollectionsReportOut,
    tags=["reports"],
    summary="The collections report",
)
def get_collections_report(db: Db, _who: ReportReader) -> dict[str, Any]:
    """Roll, cure and recovery rates by stage, strategy arm and agency; promise keep rate;
    agency collections and commission; collector productivity; on the business date."""
    with db.reading() as session:
        return collections_report(session, business_date(session))


@router.get(
    "/reports/strategies",
    response_model=StrategiesReportOut,
    tags=["reports"],
    summary="Champion against challenger",
)
def get_strategies_report(db: Db, _who: ReportReader) -> dict[str, Any]:
    """Cure rate, roll rate, recovered and contact cost per case by arm in each segment, with
    95% intervals, and the challenger's cure-rate difference with its interval."""
    with db.reading() as session:
        return strategies_report(session, business_date(session))
