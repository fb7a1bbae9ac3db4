"""Relief for borrowers in trouble: options, requests, offers, acceptance and approval.

- ``GET /v1/loans/{id}/relief/options`` answers every option, eligible or not, with the failed
  rules in Chinese and English and, when eligible, the proposed schedule and its comparison
  with the current one (the same document as ``tenor restructure options --json``).
- ``POST /v1/loans/{id}/relief/requests``: a request from the borrower (their own key) or from
  staff; it is offered at once every option it qualifies for (or those it names).
- ``POST /v1/relief/offers/{id}/accept``: the borrower, or staff for them, takes an offer. It
  applies at once unless the policy asks for a second person:
  ``POST /v1/relief/offers/{id}/approve`` by a risk officer or admin who neither requested,
  offered nor accepted it (``approver_is_maker`` otherwise).
- Credit scores (``POST /v1/borrowers/{id}/credit-scores``) and each product's versioned policy
  (``PUT /v1/products/{id}/relief-policy``) feed eligibility.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import Field

from tenor.actions import relief
from tenor.api.auth import database, require
from tenor.api.parsing import parse_money, parse_percent
from tenor.api.problems import problem_responses
from tenor.api.queries import check_borrower_in_scope, check_loan_in_scope
from tenor.api.roles import Permission, Principal, Role
from tenor.api.schemas import (
    MAX_ID,
    Amount,
    ApiDate,
    Currency,
    DecimalText,
    LongText,
    ShortText,
    _Request,
    _Response,
)
from tenor.core.errors import InvalidArgumentError
from tenor.core.money import Money
from tenor.core.restructure import DeferredInterest, Option, Relief
from tenor.relief.policy import ReliefPolicyDocument
from tenor.relief.tables import ReliefOffer, ReliefRequest
from tenor.relief.workflow import (
    Evaluation,
    current_policy,
    evaluate,
    loan_relief_document,
    offer_document,
    options_document,
    request_document,
)
from tenor.store.database import Database
from tenor.store.journal import NotFoundError, load_loan
from tenor.store.models import Product

router = APIRouter(
    prefix="/v1", tags=["relief"], responses=problem_responses(401, 403, 404, 409, 422)
)

Db = Annotated[Database, Depends(database)]
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Reader = Annotated[Principal, Depends(require(Permission.READ_LOANS))]
Requester = Annotated[Principal, Depends(require(Permission.REQUEST_RELIEF))]
Offerer = Annotated[Principal, Depends(require(Permission.OFFER_RELIEF))]
Acceptor = Annotated[Principal, Depends(require(Permission.ACCEPT_RELIEF))]
Approver = Annotated[Principal, Depends(require(Permission.APPROVE_RELIEF))]
PolicyWriter = Annotated[Principal, Depends(require(Permission.WRITE_RELIEF_POLICY))]
ProductReader = Annotated[Principal, Depends(require(Permission.READ_PRODUCTS))]
Scorer = Annotated[Principal, Depends(require(Permission.WRITE_CREDIT_SCORES))]

OptionType = Literal[
    "deferral",
    "term-extension",
    "re-amortisation",
    "arrears-plan",
    "lower-rate",
    "settlement",
    "milestone-reschedule",
]


# --- documents ------------------------------------------------------------------------------


class ReasonOut(_Response):
    """A failed rule: a stable code and words a borrower can read."""

    code: str
    zh: str
    en: str


class ProposedInstallmentOut(_Response):
    """One installment of a proposed schedule: what it asks for, and the principal after it."""

    number: int
    due_date: dt.date
    principal: str
    interest: str
    fee: str
    penalty: str
    waived: str
    total: str
    balance: str


class ProposedScheduleOut(_Response):
    """The installments left to pay once the relief is applied."""

    installments: list[ProposedInstallmentOut]


class SummaryOut(_Response):
    """A schedule in brief: the regular installment, the term and what is left to pay."""

    installment: str
    term: int
    last_due_date: dt.date | None
    total_interest: str
    total_cost: str


class ChangeOut(_Response):
    """The proposed schedule less the current one."""

    installment: str
    term: int
    total_interest: str
    total_cost: str


class ComparisonOut(_Response):
    """The current and the proposed schedule side by side."""

    currency: str
    current: SummaryOut
    proposed: SummaryOut
    change: ChangeOut


class OptionOut(_Response):
    """One option: eligible or not, why not, and the proposal when it is."""

    type: str
    eligible: bool
    reasons: list[ReasonOut]
    schedule: ProposedScheduleOut | None
    comparison: ComparisonOut | None


class OptionsOut(_Response):
    """Every option for a loan."""

    options: list[OptionOut]


class OfferOut(_Response):
    """An offer, its schedule, and where it stands (open, accepted, applied, superseded)."""

    id: int
    request_id: int
    loan_id: int
    type: str
    parameters: dict[str, Any]
    status: str
    needs_approval: bool
    business_date: dt.date
    expires_on: dt.date
    policy_version: int
    offered_by: str
    accepted_by: str | None
    approved_by: str | None
    event_id: str | None
    schedule: ProposedScheduleOut
    comparison: ComparisonOut


class RequestOut(_Response):
    """A request for relief and its offers."""

    id: int
    loan_id: int
    channel: str
    reason: str | None
    hardship_evidence: str | None
    monthly_income: str | None
    monthly_debt: str | None
    status: str
    requested_by: str
    business_date: dt.date
    offers: list[OfferOut]


class OpenOut(_Response):
    """Relief that pauses collections: an open offer, or a plan in force."""

    kind: str
    offer_id: int
    type: str
    until: dt.date | None


class LoanReliefOut(_Response):
    """A loan's relief: requests, offers, the watch flag and what is open or in force."""

    loan_id: int
    business_date: dt.date
    under_watch: bool
    open: OpenOut | None
    requests: list[RequestOut]


class OptionIn(_Request):
    """An option and its parameters; those left out take the policy's defaults."""

    type: OptionType
    installments: Annotated[int, Field(ge=1, le=600)] | None = None
    interest: Literal["capitalise", "accrue-to-end", "waive"] | None = None
    term: Annotated[int, Field(ge=1, le=600)] | None = None
    installment_amount: Amount | None = None
    annual_rate_percent: DecimalText | None = None
    discount_percent: DecimalText | None = None
    deadline: ApiDate | None = None
    milestone_dates: Annotated[list[ApiDate], Field(max_length=100)] = Field(default_factory=list)


class RequestIn(_Request):
    """A request for relief: why, evidence of hardship, income and other monthly debts."""

    reason: LongText | None = None
    hardship_evidence: LongText | None = None
    currency: Currency | None = None
    monthly_income: Amount | None = None
    monthly_debt: Amount | None = None
    options: Annotated[list[OptionIn], Field(max_length=7)] | None = None


class OffersIn(_Request):
    """The options to offer (all the loan qualifies for, when left out)."""

    options: Annotated[list[OptionIn], Field(max_length=7)] | None = None


class CreditScoreIn(_Request):
    """A credit score and where it came from: a bureau, or a risk model by name."""

    score: Annotated[int, Field(ge=0, le=1000)]
    source: ShortText
    as_of: ApiDate


class CreditScoreOut(_Response):
    """A recorded credit score."""

    id: int
    borrower_id: int
    score: int
    source: str
    as_of: dt.date
    recorded_by: str


class PolicyOut(_Response):
    """The relief policy in force for a product (version 0: the default policy)."""

    product_id: int
    version: int
    document: dict[str, Any]


# --- helpers --------------------------------------------------------------------------------


def _chosen(options: list[OptionIn] | None, evaluation: Evaluation) -> dict[Option, Relief] | None:
    """The options asked for, each starting from the policy's defaults for the loan."""
    if options is None:
        return None
    document, state, day = evaluation.document, evaluation.state, evaluation.day
    chosen: dict[Option, Relief] = {}
    currency = document.currency
    for item in options:
        option = Option(item.type)
        base = document.relief(option, state, day)
        chosen[option] = Relief(
            option=option,
            installments=item.installments if item.installments is not None else base.installments,
            interest=DeferredInterest(item.interest) if item.interest else base.interest,
            term=item.term if item.term is not None else base.term,
            installment_amount=parse_money(item.installment_amount, currency)
            if item.installment_amount is not None
            else base.installment_amount,
            annual_rate=parse_percent(item.annual_rate_percent, what="annual_rate_percent") / 100
            if item.annual_rate_percent is not None
            else base.annual_rate,
            discount=parse_percent(item.discount_percent, what="discount_percent") / 100
            if item.discount_percent is not None
            else base.discount,
            deadline=item.deadline or base.deadline,
            milestone_dates=tuple(item.milestone_dates) or base.milestone_dates,
        )
    return chosen


def _offer_in_scope(db: Database, who: Principal, offer_id: int) -> int:
    with db.reading() as session:
        offer = session.get(ReliefOffer, offer_id)
        if offer is None:
            raise NotFoundError(f"relief offer {offer_id} does not exist")
        check_loan_in_scope(session, who, offer.loan_id)
        return offer.loan_id


def _money(text: str | None, currency: str | None, what: str) -> Money | None:
    if text is None:
        return None
    if currency is None:
        raise InvalidArgumentError(f"{what} needs the currency")
    return parse_money(text, currency, what=what, allow_zero=True)


# --- options and the loan's relief ----------------------------------------------------------


@router.get(
    "/loans/{loan_id}/relief/options",
    response_model=OptionsOut,
    summary="Every relief option for a loan, eligible or not",
)
def get_relief_options(
    loan_id: Id,
    db: Db,
    who: Reader,
    date: Annotated[ApiDate | None, Query(description="Default: the business date.")] = None,
) -> dict[str, Any]:
    """Every option with the rules it fails (zh-CN and en) or its schedule and comparison."""
    with db.reading() as session:
        check_loan_in_scope(session, who, loan_id)
        return options_document(evaluate(session, loan_id, date))


@router.get("/loans/{loan_id}/relief", response_model=LoanReliefOut, summary="A loan's relief")
def get_loan_relief(loan_id: Id, db: Db, who: Reader) -> dict[str, Any]:
    """Requests and offers, whether the loan is under watch, and what pauses collections."""
    with db.reading() as session:
        check_loan_in_scope(session, who, loan_id)
        return loan_relief_document(session, loan_id)


# --- requests and offers --------------------------------------------------------------------


@router.post(
    "/loans/{loan_id}/relief/requests",
    status_code=201,
    response_model=RequestOut,
    summary="Ask for relief",
    responses=problem_responses(400),
)
def post_relief_request(
    loan_id: Id, body: RequestIn, db: Db, who: Requester, response: Response
) -> dict[str, Any]:
    """A request, offered at once every option the loan qualifies for (or those named)."""
    channel = "self-service" if who.role is Role.BORROWER else "staff"
    with db.transaction() as session:
        check_loan_in_scope(session, who, loan_id)
        book = load_loan(session, loan_id)
        currency = book.loan.currency
        if body.currency is not None and body.currency != currency:
            raise InvalidArgumentError(
                f"amounts are in {body.currency}; loan {loan_id} is in {currency}"
            )
        request = relief.request_relief(
            session,
            loan_id=loan_id,
            channel=channel,
            actor=who.actor,
            reason=body.reason,
            hardship_evidence=body.hardship_evidence,
            monthly_income=_money(body.monthly_income, body.currency, "monthly_income"),
            monthly_debt=_money(body.monthly_debt, body.currency, "monthly_debt"),
        )
        chosen = None
        if body.options is not None:
            evaluation = evaluate(session, loan_id)
            chosen = _chosen(body.options, evaluation)
        relief.make_offers(session, request_id=request.id, actor=who.actor, chosen=chosen)
        response.headers["Location"] = f"/v1/relief/requests/{request.id}"
        return request_document(session, request)


@router.get("/relief/requests/{request_id}", response_model=RequestOut, summary="A relief request")
def get_relief_request(request_id: Id, db: Db, who: Reader) -> dict[str, Any]:
    """The request and its offers."""
    with db.reading() as session:
        request = session.get(ReliefRequest, request_id)
        if request is None:
            raise NotFoundError(f"relief request {request_id} does not exist")
        check_loan_in_scope(session, who, request.loan_id)
        return request_document(session, request)


@router.post(
    "/relief/requests/{request_id}/offers",
    status_code=201,
    response_model=RequestOut,
    summary="Offer options on a request",
    responses=problem_responses(400),
)
def post_relief_offers(request_id: Id, body: OffersIn, db: Db, who: Offerer) -> dict[str, Any]:
    """Offer the named options (with their parameters), or every one the loan qualifies for."""
    with db.transaction() as session:
        request = session.get(ReliefRequest, request_id)
        if request is None:
            raise NotFoundError(f"relief request {request_id} does not exist")
        evaluation = evaluate(session, request.loan_id, request=request)
        chosen = _chosen(body.options, evaluation)
        relief.make_offers(session, request_id=request_id, actor=who.actor, chosen=chosen)
        return request_document(session, request)


@router.post(
    "/relief/offers/{offer_id}/accept",
    response_model=OfferOut,
    summary="Accept an offer",
)
def accept_relief_offer(offer_id: Id, db: Db, who: Acceptor) -> dict[str, Any]:
    """Take the offer: applied at once, or waiting for a second person's approval."""
    _offer_in_scope(db, who, offer_id)
    return offer_document(relief.accept_offer(db, offer_id, actor=who.actor))


@router.post(
    "/relief/offers/{offer_id}/approve",
    response_model=OfferOut,
    summary="Approve an accepted offer (maker-checker)",
)
def approve_relief_offer(offer_id: Id, db: Db, who: Approver) -> dict[str, Any]:
    """Approve and apply; the approver must not have requested, offered or accepted it."""
    _offer_in_scope(db, who, offer_id)
    return offer_document(relief.approve_offer(db, offer_id, approver=who.actor))


# --- what eligibility reads -----------------------------------------------------------------


@router.post(
    "/borrowers/{borrower_id}/credit-scores",
    status_code=201,
    response_model=CreditScoreOut,
    summary="Record a credit score",
    responses=problem_responses(400),
)
def post_credit_score(borrower_id: Id, body: CreditScoreIn, db: Db, who: Scorer) -> dict[str, Any]:
    """A score from a bureau or a model (the risk capability records its champion's here)."""
    with db.transaction() as session:
        check_borrower_in_scope(session, who, borrower_id)
        row = relief.record_credit_score(
            session,
            borrower_id=borrower_id,
            score=body.score,
            source=body.source,
            as_of=body.as_of,
            actor=who.actor,
        )
        return {
            "id": row.id,
            "borrower_id": row.borrower_id,
            "score": row.score,
            "source": row.source,
            "as_of": row.as_of,
            "recorded_by": row.recorded_by,
        }


@router.get(
    "/products/{product_id}/relief-policy",
    response_model=PolicyOut,
    summary="A product's relief policy",
)
def get_relief_policy(product_id: Id, db: Db, _who: ProductReader) -> dict[str, Any]:
    """The policy in force: the newest version, or the default policy (version 0)."""
    with db.reading() as session:
        product = session.get(Product, product_id)
        if product is None:
            raise NotFoundError(f"product {product_id} does not exist")
        version, document = current_policy(session, product_id, product.currency)
        return {"product_id": product_id, "version": version, "document": document.document()}


@router.put(
    "/products/{product_id}/relief-policy",
    response_model=PolicyOut,
    summary="Set a product's relief policy (a new version)",
    responses=problem_responses(400),
)
def put_relief_policy(
    product_id: Id, body: ReliefPolicyDocument, db: Db, who: PolicyWriter
) -> dict[str, Any]:
    """Store the policy as the product's next version; it is in force at once."""
    with db.transaction() as session:
        row = relief.set_relief_policy(
            session, product_id=product_id, document=body.document(), actor=who.actor
        )
        return {"product_id": product_id, "version": row.version, "document": row.document}
