"""``/v1/loans``: originate, read, and service loans through their journal.

Every servicing write (disbursement, repayment, reversal, charge, waiver) appends one event and
answers ``{"event_id": ..., "loan": ...}``: 201 when it recorded the event; 200, with the same
event id and the header ``Idempotent-Replayed: true``, when an ``Idempotency-Key`` already
recorded this very request (the loan shown is the loan as it stands now). The same key with a
different request answers 409 ``idempotency_conflict``. Repayments require the key; the other
writes accept it.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Response

from tenor.actions import loans
from tenor.api.auth import database, require
from tenor.api.parsing import parse_milestones, parse_money, parse_percent
from tenor.api.problems import problem_responses
from tenor.api.queries import check_loan_in_scope, scoped_loans
from tenor.api.roles import Permission, Principal, Role
from tenor.api.schemas import (
    MAX_ID,
    ChargeIn,
    DisbursementIn,
    JournalOut,
    LoanIn,
    LoanOut,
    LoanPage,
    RepaymentIn,
    ScheduleOut,
    ShortText,
    WaiverIn,
    WriteResult,
)
from tenor.core.account import ChargeKind
from tenor.core.allocation import Component
from tenor.core.errors import InvalidArgumentError
from tenor.store.database import Database
from tenor.store.journal import Appended
from tenor.store.reads import (
    LoanFilter,
    get_loan,
    journal_document,
    list_loans,
    schedule_document,
)

router = APIRouter(
    prefix="/v1/loans",
    tags=["loans"],
    responses=problem_responses(401, 403, 404, 422),
)

Db = Annotated[Database, Depends(database)]
LoanId = Annotated[int, Path(ge=1, le=MAX_ID)]
Reader = Annotated[Principal, Depends(require(Permission.READ_LOANS))]
Originator = Annotated[Principal, Depends(require(Permission.ORIGINATE_LOANS))]
Collector = Annotated[Principal, Depends(require(Permission.POST_REPAYMENTS))]
Adjuster = Annotated[Principal, Depends(require(Permission.ADJUST_LOANS))]

_KEY_DESCRIPTION: Final = (
    "A key unique to this operation (a UUID, say), at most 200 visible ASCII characters. "
    "Sending the same request again with the same key records it once."
)
_KEY_PATTERN: Final = r"^[\x21-\x7e]{1,200}$"
RequiredKey = Annotated[
    str, Header(alias="Idempotency-Key", pattern=_KEY_PATTERN, description=_KEY_DESCRIPTION)
]
OptionalKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", pattern=_KEY_PATTERN, description=_KEY_DESCRIPTION),
]

#: Documented answers of a servicing write.
_WRITE_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    200: {"model": WriteResult, "description": "A replay of a request already recorded."},
    **problem_responses(400, 409),
}

LoanStatus = Literal[
    "pending", "approved", "rejected", "active", "overpaid", "closed", "written-off"
]


def _in_scope(db: Database, who: Principal, loan_id: int) -> None:
    if not who.sees_everything:
        with db.reading() as session:
            check_loan_in_scope(session, who, loan_id)


def _written(db: Database, loan_id: int, appended: Appended, response: Response) -> dict[str, Any]:
    if appended.replayed:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    with db.reading() as session:
        loan = get_loan(session, loan_id)
    return {"event_id": appended.event_id, "loan": loan}


# --- origination ----------------------------------------------------------------------------


@router.post(
    "",
    status_code=201,
    response_model=LoanOut,
    responses=problem_responses(400, 409),
    summary="Create a loan application",
)
def create_loan(body: LoanIn, db: Db, _who: Originator, response: Response) -> dict[str, Any]:
    """A pending loan with terms its product allows; approve it, then disburse it."""
    principal = parse_money(body.principal, body.currency, what="principal")
    rate = (
        None
        if body.annual_rate_percent is None
        else parse_percent(body.annual_rate_percent, what="annual_rate_percent")
    )
    stepped = tuple(
        parse_money(step, body.currency, what="stepped_principal", allow_zero=True)
        for step in body.stepped_principal
    )
    with db.transaction() as session:
        loan = loans.create_loan(
            session,
            borrower_id=body.borrower_id,
            product_id=body.product_id,
            principal=principal,
            term=body.term,
            start=body.start_date,
            annual_rate_percent=rate,
            first_due=body.first_due_date,
            milestones=parse_milestones(body.milestones),
            stepped_principal=stepped,
        )
        document = get_loan(session, loan.id)
    response.headers["Location"] = f"/v1/loans/{document['id']}"
    return document


@router.post(
    "/{loan_id}/approve",
    response_model=LoanOut,
    responses=problem_responses(409),
    summary="Approve a pending loan",
)
def approve_loan(loan_id: LoanId, db: Db, _who: Originator) -> dict[str, Any]:
    """Approve a pending loan; 409 ``loan_not_active`` for a loan in any other state."""
    with db.transaction() as session:
        loans.approve_loan(session, loan_id)
        return get_loan(session, loan_id)


@router.post(
    "/{loan_id}/disbursements",
    status_code=201,
    response_model=WriteResult,
    responses=_WRITE_RESPONSES,
    summary="Disburse the loan or one tranche of it",
)
def disburse(
    loan_id: LoanId,
    body: DisbursementIn,
    db: Db,
    who: Originator,
    response: Response,
    idempotency_key: OptionalKey = None,
) -> dict[str, Any]:
    """Pay out ``amount`` (by default whatever of the principal is not yet paid out)."""
    if (body.amount is None) != (body.currency is None):
        raise InvalidArgumentError("amount and currency are given together or not at all")
    amount = (
        parse_money(body.amount, body.currency)
        if body.amount is not None and body.currency is not None
        else None
    )
    request = {
        "operation": "disbursement",
        "amount": amount.format() if amount else None,
        "currency": body.currency,
        "value_date": body.value_date.isoformat(),
    }
    appended = loans.disburse(
        db,
        loan_id,
        value_date=body.value_date,
        amount=amount,
        idempotency_key=idempotency_key,
        request=request,
        actor=who.actor,
    )
    return _written(db, loan_id, appended, response)


# --- reads ----------------------------------------------------------------------------------


@router.get("/{loan_id}", response_model=LoanOut, name="get_loan", summary="Get a loan")
def get_loan_document(loan_id: LoanId, db: Db, who: Reader) -> dict[str, Any]:
    """State, balances, days past due, bucket and classification on the business date."""
    with db.reading() as session:
        check_loan_in_scope(session, who, loan_id)
        return get_loan(session, loan_id)


@router.get("/{loan_id}/schedule", response_model=ScheduleOut, summary="Get a loan's schedule")
def get_schedule(loan_id: LoanId, db: Db, who: Reader) -> dict[str, Any]:
    """Installments with their scheduled, paid, waived and unpaid parts."""
    with db.reading() as session:
        check_loan_in_scope(session, who, loan_id)
        return schedule_document(session, loan_id)


@router.get(
    "/{loan_id}/journal",
    response_model=JournalOut,
    # An event shows the fields of its kind only (no "target": null on a repayment).
    response_model_exclude_none=True,
    summary="Get a loan's journal",
)
def get_journal(loan_id: LoanId, db: Db, who: Reader) -> dict[str, Any]:
    """The loan's events in booking order, reversed ones included."""
    with db.reading() as session:
        check_loan_in_scope(session, who, loan_id)
        return journal_document(session, loan_id)


@router.get("", response_model=LoanPage, summary="List loans")
def get_loans(
    db: Db,
    who: Reader,
    status: LoanStatus | None = None,
    bucket: Annotated[ShortText | None, Query(description="M0, M1, ... M6+")] = None,
    min_dpd: Annotated[int | None, Query(ge=0, le=100_000)] = None,
    max_dpd: Annotated[int | None, Query(ge=0, le=100_000)] = None,
    product_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Loans in the caller's scope matching every filter given, by id, with the total."""
    filters = LoanFilter(
        status=status,
        bucket=bucket,
        min_dpd=min_dpd,
        max_dpd=max_dpd,
        product_id=product_id,
        borrower_id=who.borrower_id if who.role is Role.BORROWER else None,
        within=scoped_loans(who),
    )
    with db.reading() as session:
        items, total = list_loans(session, filters, offset=offset, limit=limit)
    return {"items": items, "total": total, "offset": offset, "limit": limit}


# --- servicing ------------------------------------------------------------------------------


@router.post(
    "/{loan_id}/repayments",
    status_code=201,
    response_model=WriteResult,
    responses=_WRITE_RESPONSES,
    summary="Record a repayment",
)
def post_repayment(
    loan_id: LoanId,
    body: RepaymentIn,
    idempotency_key: RequiredKey,
    db: Db,
    who: Collector,
    response: Response,
) -> dict[str, Any]:
    """A payment from the borrower, allocated by the product's waterfall."""
    _in_scope(db, who, loan_id)
    amount = parse_money(body.amount, body.currency)
    request = {
        "operation": "repayment",
        "amount": amount.format(),
        "currency": amount.currency,
        "value_date": body.value_date.isoformat(),
        "channel": body.channel,
        "external_reference": body.external_reference,
    }
    appended = loans.post_repayment(
        db,
        loan_id,
        amount=amount,
        value_date=body.value_date,
        channel=body.channel,
        external_reference=body.external_reference,
        idempotency_key=idempotency_key,
        request=request,
        actor=who.actor,
    )
    return _written(db, loan_id, appended, response)


@router.post(
    "/{loan_id}/events/{event_id}/reversal",
    status_code=201,
    response_model=WriteResult,
    responses=_WRITE_RESPONSES,
    summary="Reverse an event",
)
def reverse_event(
    loan_id: LoanId,
    event_id: Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[0-9A-Za-z-]+$")],
    db: Db,
    who: Adjuster,
    response: Response,
    idempotency_key: OptionalKey = None,
) -> dict[str, Any]:
    """Reverse one of the loan's events (a bounced payment, a charge posted in error).

    The account re-folds as if the event had never been posted; reversing an event twice, or
    one the loan does not have, answers 422 ``invalid_event``.
    """
    appended = loans.reverse(
        db,
        loan_id,
        event_id,
        idempotency_key=idempotency_key,
        request={"operation": "reversal", "target": event_id},
        actor=who.actor,
    )
    return _written(db, loan_id, appended, response)


@router.post(
    "/{loan_id}/charges",
    status_code=201,
    response_model=WriteResult,
    responses=_WRITE_RESPONSES,
    summary="Post a charge",
)
def post_charge(
    loan_id: LoanId,
    body: ChargeIn,
    db: Db,
    who: Adjuster,
    response: Response,
    idempotency_key: OptionalKey = None,
) -> dict[str, Any]:
    """A late fee, penalty interest or fee, on an installment or the next one due."""
    amount = parse_money(body.amount, body.currency)
    appended = loans.apply_charge(
        db,
        loan_id,
        kind=ChargeKind(body.kind),
        amount=amount,
        value_date=body.value_date,
        installment=body.installment,
        idempotency_key=idempotency_key,
        request={"operation": "charge", **body.model_dump(mode="json"), "amount": amount.format()},
        actor=who.actor,
    )
    return _written(db, loan_id, appended, response)


@router.post(
    "/{loan_id}/waivers",
    status_code=201,
    response_model=WriteResult,
    responses=_WRITE_RESPONSES,
    summary="Waive penalty, fee or interest",
)
def post_waiver(
    loan_id: LoanId,
    body: WaiverIn,
    db: Db,
    who: Adjuster,
    response: Response,
    idempotency_key: OptionalKey = None,
) -> dict[str, Any]:
    """Forgive part of what is owed; more than is outstanding answers 422 ``invalid_event``."""
    amount = parse_money(body.amount, body.currency)
    appended = loans.waive(
        db,
        loan_id,
        component=Component[body.component.upper()],
        amount=amount,
        value_date=body.value_date,
        installment=body.installment,
        idempotency_key=idempotency_key,
        request={"operation": "waiver", **body.model_dump(mode="json"), "amount": amount.format()},
        actor=who.actor,
    )
    return _written(db, loan_id, appended, response)
