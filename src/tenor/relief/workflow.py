"""The reads of the relief workflow: what a loan qualifies for, its offers, and whether relief
is open or in force.

``open_relief(session, loan_id, day)`` is what collections read to pause a case (an offer is
open, or a plan is in force and not broken); ``watch_flag(session, loan_id, day)`` is what the
daily close reads to keep a restructured loan at 关注 / stage 2 through its watch period.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenor.actions.loans import ValueDateError
from tenor.core.account import InstallmentState, LoanState, Reversed
from tenor.core.errors import DomainError
from tenor.core.money import Money
from tenor.core.restructure import (
    BorrowerFacts,
    DeferredInterest,
    LoanFacts,
    Option,
    OptionResult,
    Proposal,
    Relief,
    ReliefPolicy,
    ScheduleSummary,
    eligibility,
    under_watch,
)
from tenor.relief.policy import ReliefPolicyDocument, default_policy
from tenor.relief.tables import CreditScore, ReliefOffer, ReliefPolicyRow, ReliefRequest
from tenor.store.codec import event_payload, terms_from_json
from tenor.store.journal import (
    LoanBook,
    LoanNotActiveError,
    delinquency,
    load_events,
    load_loan,
    loan_state,
)

#: Offer statuses that keep relief open (collections pause).
OPEN_OFFER: Final = ("open", "accepted")


class NotEligibleError(DomainError):
    """The loan does not qualify for the relief asked for; the message says every reason."""

    code = "not_eligible"


# --- parameters as JSON -----------------------------------------------------------------------


def relief_to_json(relief: Relief) -> dict[str, Any]:
    """An option's parameters as a JSON document (only those that are set)."""
    document: dict[str, Any] = {"option": relief.option.value}
    if relief.installments is not None:
        document["installments"] = relief.installments
    if relief.option is Option.DEFERRAL:
        document["interest"] = relief.interest.value
    if relief.term is not None:
        document["term"] = relief.term
    if relief.installment_amount is not None:
        document["installment_amount"] = relief.installment_amount.format()
    if relief.annual_rate is not None:
        document["annual_rate_percent"] = str((relief.annual_rate * 100).normalize())
    if relief.discount is not None:
        document["discount_percent"] = str((relief.discount * 100).normalize())
    if relief.deadline is not None:
        document["deadline"] = relief.deadline.isoformat()
    if relief.milestone_dates:
        document["milestone_dates"] = [day.isoformat() for day in relief.milestone_dates]
    return document


def relief_from_json(document: dict[str, Any], currency: str) -> Relief:
    """The inverse of :func:`relief_to_json`."""
    rate = document.get("annual_rate_percent")
    discount = document.get("discount_percent")
    amount = document.get("installment_amount")
    deadline = document.get("deadline")
    return Relief(
        option=Option(document["option"]),
        installments=document.get("installments"),
        interest=DeferredInterest(document.get("interest", DeferredInterest.CAPITALISE.value)),
        term=document.get("term"),
        installment_amount=None if amount is None else Money.of(amount, currency),
        annual_rate=None if rate is None else Decimal(rate) / 100,
        discount=None if discount is None else Decimal(discount) / 100,
        deadline=None if deadline is None else dt.date.fromisoformat(deadline),
        milestone_dates=tuple(
            dt.date.fromisoformat(d) for d in document.get("milestone_dates", [])
        ),
    )


# --- what eligibility reads -------------------------------------------------------------------


def current_policy(
    session: Session, product_id: int, currency: str
) -> tuple[int, ReliefPolicyDocument]:
    """The product's policy in force and its version (0: the default policy)."""
    row = session.scalars(
        select(ReliefPolicyRow)
        .where(ReliefPolicyRow.product_id == product_id)
        .order_by(ReliefPolicyRow.version.desc())
        .limit(1)
    ).one_or_none()
    if row is None:
        return 0, default_policy(currency)
    return row.version, ReliefPolicyDocument.model_validate(row.document)


def latest_score(session: Session, borrower_id: int, day: dt.date) -> CreditScore | None:
    """The borrower's newest credit score as of ``day``."""
    return session.scalars(
        select(CreditScore)
        .where(CreditScore.borrower_id == borrower_id, CreditScore.as_of <= day)
        .order_by(CreditScore.as_of.desc(), CreditScore.id.desc())
        .limit(1)
    ).one_or_none()


def borrower_facts(
    session: Session, borrower_id: int, currency: str, day: dt.date, request: ReliefRequest | None
) -> BorrowerFacts:
    """The score on record and what the request says about income, debts and hardship."""
    score = latest_score(session, borrower_id, day)

    def money(minor: int | None) -> Money | None:
        return None if minor is None else Money(minor, currency)

    return BorrowerFacts(
        credit_score=None if score is None else score.score,
        score_as_of=None if score is None else score.as_of,
        monthly_income=money(request.monthly_income_minor) if request else None,
        monthly_debt=money(request.monthly_debt_minor) if request else None,
        hardship_evidence=bool(request and request.hardship_evidence),
    )


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Every option for a loan on a date, with what it was computed from."""

    book: LoanBook
    state: LoanState
    day: dt.date
    policy_version: int
    document: ReliefPolicyDocument
    policy: ReliefPolicy
    results: tuple[OptionResult, ...]


def evaluate(
    session: Session,
    loan_id: int,
    day: dt.date | None = None,
    request: ReliefRequest | None = None,
    chosen: dict[Option, Relief] | None = None,
) -> Evaluation:
    """Every option for the loan on ``day`` (default: the business date) under its policy."""
    book = load_loan(session, loan_id)
    if book.loan.status not in ("active", "overpaid"):
        raise LoanNotActiveError(
            f"loan {loan_id} is {book.loan.status}; only a loan being repaid can get relief"
        )
    on = day or book.business_date
    events = tuple(load_events(session, loan_id))
    last = max((event.value_date for event in events), default=on)
    if not last <= on <= book.business_date + dt.timedelta(days=366):
        raise ValueDateError(
            f"relief is computed on a date from the loan's last event ({last}) to a year after "
            f"the business date {book.business_date}, not {on}"
        )
    state = loan_state(session, book, events)
    version, document = current_policy(session, book.loan.product_id, book.loan.currency)
    policy = document.policy(state, on)
    status = delinquency(state, book.product, on)
    facts = LoanFacts(
        terms_from_json(book.loan.terms),
        events,
        book.product.account_rules(),
        status.days_past_due,
    )
    borrower = borrower_facts(session, book.loan.borrower_id, book.loan.currency, on, request)
    results = eligibility(facts, borrower, policy, on, chosen)
    return Evaluation(book, state, on, version, document, policy, tuple(results))


# --- documents ----------------------------------------------------------------------------------


def _summary_document(summary: ScheduleSummary) -> dict[str, Any]:
    return {
        "installment": summary.installment.format(),
        "term": summary.term,
        "last_due_date": None
        if summary.last_due_date is None
        else summary.last_due_date.isoformat(),
        "total_interest": summary.total_interest.format(),
        "total_cost": summary.total_cost.format(),
    }


def comparison_document(proposal: Proposal) -> dict[str, Any]:
    """The current and proposed schedules side by side, and the change."""
    current, proposed = proposal.current, proposal.proposed
    return {
        "currency": proposal.before.currency,
        "current": _summary_document(current),
        "proposed": _summary_document(proposed),
        "change": {
            "installment": (proposed.installment - current.installment).format(),
            "term": proposed.term - current.term,
            "total_interest": (proposed.total_interest - current.total_interest).format(),
            "total_cost": (proposed.total_cost - current.total_cost).format(),
        },
    }


def schedule_document(items: tuple[InstallmentState, ...]) -> dict[str, Any]:
    """The proposed installments with what each asks for and the principal left after it."""
    left = sum(item.unpaid_principal.minor for item in items)
    rows = []
    for item in items:
        left -= item.unpaid_principal.minor
        rows.append(
            {
                "number": item.number,
                "due_date": item.due_date.isoformat(),
                "principal": item.unpaid_principal.format(),
                "interest": item.unpaid_interest.format(),
                "fee": item.unpaid_fee.format(),
                "penalty": item.unpaid_penalty.format(),
                "waived": item.waived.format(),
                "total": item.unpaid.format(),
                "balance": Money(left, item.principal.currency).format(),
            }
        )
    return {"installments": rows}


def reason_documents(result: OptionResult) -> list[dict[str, str]]:
    """The failed rules, each with a stable code and words in Chinese and English."""
    return [{"code": r.code, "zh": r.zh, "en": r.en} for r in result.reasons]


def options_document(evaluation: Evaluation) -> dict[str, Any]:
    """``tenor restructure options --json``: every option, eligible or not."""
    return {
        "options": [
            {
                "type": result.option.value,
                "eligible": result.eligible,
                "reasons": reason_documents(result),
                "schedule": schedule_document(result.proposal.schedule)
                if result.proposal
                else None,
                "comparison": comparison_document(result.proposal) if result.proposal else None,
            }
            for result in evaluation.results
        ]
    }


def proposal_document(result: OptionResult) -> dict[str, Any]:
    """What an offer keeps: the schedule, the comparison and the event it would append."""
    proposal = result.proposal
    if proposal is None:
        raise NotEligibleError(f"{result.option.value} is not eligible")
    return {
        "schedule": schedule_document(proposal.schedule),
        "comparison": comparison_document(proposal),
        "event": event_payload(proposal.event),
    }


def offer_document(offer: ReliefOffer) -> dict[str, Any]:
    """An offer as the API and the CLI show it."""
    return {
        "id": offer.id,
        "request_id": offer.request_id,
        "loan_id": offer.loan_id,
        "type": offer.option,
        "parameters": offer.parameters,
        "status": offer.status,
        "needs_approval": offer.needs_approval,
        "business_date": offer.business_date.isoformat(),
        "expires_on": offer.expires_on.isoformat(),
        "policy_version": offer.policy_version,
        "offered_by": offer.offered_by,
        "accepted_by": offer.accepted_by,
        "approved_by": offer.approved_by,
        "event_id": offer.event_id,
        "schedule": offer.proposal["schedule"],
        "comparison": offer.proposal["comparison"],
    }


def request_document(session: Session, request: ReliefRequest) -> dict[str, Any]:
    """A request with its offers."""
    offers = session.scalars(
        select(ReliefOffer).where(ReliefOffer.request_id == request.id).order_by(ReliefOffer.id)
    ).all()
    currency = _currency(session, request.loan_id)

    def money(minor: int | None) -> str | None:
        return None if minor is None else Money(minor, currency).format()

    return {
        "id": request.id,
        "loan_id": request.loan_id,
        "channel": request.channel,
        "reason": request.reason,
        "hardship_evidence": request.hardship_evidence,
        "monthly_income": money(request.monthly_income_minor),
        "monthly_debt": money(request.monthly_debt_minor),
        "status": request.status,
        "requested_by": request.requested_by,
        "business_date": request.business_date.isoformat(),
        "offers": [offer_document(offer) for offer in offers],
    }


def _currency(session: Session, loan_id: int) -> str:
    return load_loan(session, loan_id).loan.currency


def loan_relief_document(
    session: Session, loan_id: int, day: dt.date | None = None
) -> dict[str, Any]:
    """A loan's relief: its requests and offers, the watch flag and what is open or in force."""
    book = load_loan(session, loan_id)
    on = day or book.business_date
    requests = session.scalars(
        select(ReliefRequest).where(ReliefRequest.loan_id == loan_id).order_by(ReliefRequest.id)
    ).all()
    found = open_relief(session, loan_id, on)
    return {
        "loan_id": loan_id,
        "business_date": on.isoformat(),
        "under_watch": watch_flag(session, loan_id, on),
        "open": None
        if found is None
        else {
            "kind": found.kind,
            "offer_id": found.offer_id,
            "type": found.option,
            "until": None if found.until is None else found.until.isoformat(),
        },
        "requests": [request_document(session, request) for request in requests],
    }


# --- for collections and the daily close ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpenRelief:
    """Relief that pauses collections: an open offer, or a plan in force."""

    kind: str  # "offer" or "plan"
    offer_id: int
    option: str
    until: dt.date | None


def open_relief(session: Session, loan_id: int, day: dt.date) -> OpenRelief | None:
    """The relief that pauses collections on the loan on ``day``, or None.

    An offer is open until it expires, is accepted and applied, or another is taken. A plan
    (any applied relief not reversed) is in force until its last installment, unless it is
    broken: more days past due than the policy's ``plan_broken_after_days``, which returns the
    case to its collection strategy.
    """
    offers = session.scalars(
        select(ReliefOffer).where(ReliefOffer.loan_id == loan_id).order_by(ReliefOffer.id.desc())
    ).all()
    for offer in offers:
        if offer.status in OPEN_OFFER and offer.expires_on >= day:
            return OpenRelief("offer", offer.id, offer.option, offer.expires_on)
    applied = next((offer for offer in offers if offer.status == "applied"), None)
    if applied is None:
        return None
    book = load_loan(session, loan_id)
    events = load_events(session, loan_id)
    if any(isinstance(event, Reversed) and event.target == applied.event_id for event in events):
        return None
    state = loan_state(session, book, events)
    unsettled = [item for item in state.installments if not item.is_settled]
    if not unsettled:
        return None
    _, document = current_policy(session, book.loan.product_id, book.loan.currency)
    if delinquency(state, book.product, day).days_past_due > document.plan_broken_after_days:
        return None
    return OpenRelief("plan", applied.id, applied.option, unsettled[-1].due_date)


def watch_flag(session: Session, loan_id: int, day: dt.date) -> bool:
    """Whether the loan is restructured and under watch on ``day`` (关注, stage 2 at least)."""
    book = load_loan(session, loan_id)
    return under_watch(loan_state(session, book, load_events(session, loan_id)), day)
