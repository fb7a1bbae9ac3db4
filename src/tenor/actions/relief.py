"""Relief's writes: credit scores, policies, requests, offers, acceptance and approval.

Applying an offer appends one ``restructured`` event to the loan's journal, in the same
transaction that marks the offer applied. The event is computed again from the journal at that
moment and must be the one the borrower was offered: if the loan changed in between (a payment,
a new business period), the offer is stale and a new one must be made.

Maker-checker: an offer that needs approval (above the policy's limit, or an option the policy
always has approved) is applied only when a second person approves it, and the approver is
never the person who requested, offered or accepted it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tenor.audit.log import record_change
from tenor.core.account import LoanEvent, LoanState
from tenor.core.errors import DomainError, InvalidArgumentError
from tenor.core.money import Money
from tenor.core.restructure import Option, Relief, restructuring
from tenor.relief.policy import ReliefPolicyDocument
from tenor.relief.tables import CreditScore, ReliefOffer, ReliefPolicyRow, ReliefRequest
from tenor.relief.workflow import (
    NotEligibleError,
    current_policy,
    evaluate,
    proposal_document,
    relief_from_json,
    relief_to_json,
)
from tenor.store.codec import event_payload, terms_from_json
from tenor.store.database import Database
from tenor.store.journal import (
    LoanBook,
    LoanNotActiveError,
    NotFoundError,
    Slot,
    append_in,
    business_date,
    load_loan,
    request_fingerprint,
)
from tenor.store.models import Borrower, Product, utc_now

#: Channels a request comes through.
CHANNELS = ("self-service", "staff")


class OfferNotOpenError(DomainError):
    """An offer that is not (or no longer) waiting for this step."""

    code = "offer_not_open"


class OfferStaleError(DomainError):
    """The loan changed since the offer was made: its schedule no longer holds."""

    code = "offer_stale"


class MakerCheckerError(DomainError):
    """The approver is the person who requested, offered or accepted the relief."""

    code = "approver_is_maker"


class ApprovalRequiredError(DomainError):
    """The relief needs a second person's approval, and none was given."""

    code = "approval_required"


class RequestOpenError(DomainError):
    """The loan already has a relief request that is being handled."""

    code = "relief_request_open"


def record_credit_score(
    session: Session,
    *,
    borrower_id: int,
    score: int,
    source: str,
    as_of: dt.date,
    actor: str,
) -> CreditScore:
    """Record a borrower's credit score (from a bureau, or a risk model named as the source)."""
    if session.get(Borrower, borrower_id) is None:
        raise NotFoundError(f"borrower {borrower_id} does not exist")
    if isinstance(score, bool) or not 0 <= score <= 1000:
        raise InvalidArgumentError(f"a credit score is between 0 and 1000, got {score}")
    source = source.strip()
    if not 1 <= len(source) <= 64:
        raise InvalidArgumentError("a credit score needs its source, at most 64 characters")
    if as_of > business_date(session):
        raise InvalidArgumentError(f"a credit score as of {as_of} is after the business date")
    row = CreditScore(
        borrower_id=borrower_id, score=score, source=source, as_of=as_of, recorded_by=actor
    )
    session.add(row)
    session.flush()
    return row


def set_relief_policy(
    session: Session, *, product_id: int, document: dict[str, Any], actor: str
) -> ReliefPolicyRow:
    """Store a new version of the product's relief policy; it is in force at once."""
    product = session.get(Product, product_id)
    if product is None:
        raise NotFoundError(f"product {product_id} does not exist")
    try:
        policy = ReliefPolicyDocument.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "policy"
        raise InvalidArgumentError(f"{where}: {first['msg']}") from None
    except DomainError as error:
        raise InvalidArgumentError(error.message) from None
    if policy.currency != product.currency:
        raise InvalidArgumentError(
            f"the policy is in {policy.currency}; product {product_id} is in {product.currency}"
        )
    version, _ = current_policy(session, product_id, product.currency)
    row = ReliefPolicyRow(
        product_id=product_id, version=version + 1, document=policy.document(), created_by=actor
    )
    session.add(row)
    session.flush()
    record_change(
        session,
        "policy",
        f"relief-policies/product-{product_id}/v{row.version}",
        {"product_id": product_id, "version": row.version, "by": actor, **row.document},
    )
    return row


def request_relief(
    session: Session,
    *,
    loan_id: int,
    channel: str,
    actor: str,
    reason: str | None = None,
    hardship_evidence: str | None = None,
    monthly_income: Money | None = None,
    monthly_debt: Money | None = None,
) -> ReliefRequest:
    """Record a request for relief on a loan, from the borrower or from staff for them."""
    if channel not in CHANNELS:
        raise InvalidArgumentError(f"channel must be one of {', '.join(CHANNELS)}, not {channel!r}")
    book = load_loan(session, loan_id)
    if book.loan.status not in ("active", "overpaid"):
        raise LoanNotActiveError(
            f"loan {loan_id} is {book.loan.status}; only a loan being repaid can get relief"
        )
    for amount in (monthly_income, monthly_debt):
        if amount is not None and (amount.currency != book.loan.currency or amount.is_negative):
            raise InvalidArgumentError(
                f"income and debts are amounts of at least zero in {book.loan.currency}"
            )
    if hardship_evidence is not None and len(hardship_evidence) > 500:
        raise InvalidArgumentError("hardship evidence is a reference of at most 500 characters")
    pending = session.scalars(
        select(ReliefRequest).where(
            ReliefRequest.loan_id == loan_id, ReliefRequest.status.in_(("open", "offered"))
        )
    ).first()
    if pending is not None:
        raise RequestOpenError(
            f"loan {loan_id} already has relief request {pending.id} being handled"
        )
    row = ReliefRequest(
        loan_id=loan_id,
        channel=channel,
        reason=reason,
        hardship_evidence=hardship_evidence or None,
        monthly_income_minor=None if monthly_income is None else monthly_income.minor,
        monthly_debt_minor=None if monthly_debt is None else monthly_debt.minor,
        status="open",
        requested_by=actor,
        business_date=book.business_date,
    )
    session.add(row)
    session.flush()
    return row


def _request(session: Session, request_id: int) -> ReliefRequest:
    request = session.get(ReliefRequest, request_id)
    if request is None:
        raise NotFoundError(f"relief request {request_id} does not exist")
    return request


def make_offers(
    session: Session,
    *,
    request_id: int,
    actor: str,
    chosen: dict[Option, Relief] | None = None,
) -> list[ReliefOffer]:
    """Offer the options the loan is eligible for (only ``chosen`` ones, when given).

    A chosen option the loan does not qualify for is refused with every reason; with nothing
    chosen and nothing eligible, the request is declined and no offer is made.
    """
    request = _request(session, request_id)
    if request.status not in ("open", "offered"):
        raise OfferNotOpenError(f"relief request {request_id} is {request.status}")
    evaluation = evaluate(session, request.loan_id, request=request, chosen=chosen)
    results = [r for r in evaluation.results if chosen is None or r.option in chosen]
    refused = [r for r in results if not r.eligible]
    if chosen is not None and refused:
        raise NotEligibleError(
            "; ".join(
                f"{r.option.value}: " + ", ".join(reason.en for reason in r.reasons)
                for r in refused
            )
        )
    day = evaluation.day
    expires = day + dt.timedelta(days=evaluation.document.offer_valid_days)
    offers = [
        ReliefOffer(
            request_id=request.id,
            loan_id=request.loan_id,
            option=result.option.value,
            parameters=relief_to_json(result.relief),
            proposal=proposal_document(result),
            policy_version=evaluation.policy_version,
            business_date=day,
            expires_on=expires,
            needs_approval=result.needs_approval,
            status="open",
            offered_by=actor,
        )
        for result in results
        if result.eligible
    ]
    request.status = "offered" if offers else "declined"
    session.add_all(offers)
    session.flush()
    return offers


def _offer(session: Session, offer_id: int) -> ReliefOffer:
    offer = session.get(ReliefOffer, offer_id, with_for_update=True)
    if offer is None:
        raise NotFoundError(f"relief offer {offer_id} does not exist")
    return offer


def _apply(session: Session, offer: ReliefOffer, actor: str) -> None:
    """Append the offer's restructuring to the journal, as offered."""
    wanted = offer.proposal["event"]

    def make(book: LoanBook, state: LoanState, slot: Slot) -> LoanEvent:
        event = restructuring(
            terms_from_json(book.loan.terms),
            state,
            relief_from_json(offer.parameters, book.loan.currency),
            slot.business_date,
            event_id=slot.event_id,
            sequence=slot.sequence,
            watch_days=int(wanted["watch_days"]),
        )
        if event_payload(event) != wanted:
            raise OfferStaleError(
                f"loan {offer.loan_id} changed since offer {offer.id} was made on "
                f"{offer.business_date}; make a new offer"
            )
        return event

    key = f"relief-offer-{offer.id}"
    appended = append_in(
        session,
        offer.loan_id,
        make,
        idempotency_key=key,
        fingerprint=request_fingerprint({"offer": offer.id}),
        actor=actor,
    )
    offer.status = "applied"
    offer.event_id = appended.event_id
    request = _request(session, offer.request_id)
    request.status = "applied"


def accept_offer(db: Database, offer_id: int, *, actor: str) -> ReliefOffer:
    """The borrower (or staff for them) takes an offer; it applies at once unless it needs
    approval. The request's other offers lapse."""
    with db.transaction() as session:
        offer = _offer(session, offer_id)
        today = business_date(session)
        if offer.status != "open":
            raise OfferNotOpenError(f"relief offer {offer_id} is {offer.status}, not open")
        if offer.expires_on < today:
            raise OfferNotOpenError(f"relief offer {offer_id} expired on {offer.expires_on}")
        offer.accepted_by = actor
        offer.accepted_at = utc_now()
        offer.status = "accepted"
        session.execute(
            update(ReliefOffer)
            .where(
                ReliefOffer.request_id == offer.request_id,
                ReliefOffer.id != offer.id,
                ReliefOffer.status == "open",
            )
            .values(status="superseded")
        )
        _request(session, offer.request_id).status = "accepted"
        if not offer.needs_approval:
            _apply(session, offer, actor)
        session.flush()
        session.expunge(offer)
    return offer


def approve_offer(db: Database, offer_id: int, *, approver: str) -> ReliefOffer:
    """A second person approves an accepted offer, which is then applied."""
    with db.transaction() as session:
        offer = _offer(session, offer_id)
        if offer.status != "accepted":
            raise OfferNotOpenError(
                f"relief offer {offer_id} is {offer.status}; only an accepted offer is approved"
            )
        request = _request(session, offer.request_id)
        makers = {offer.offered_by, offer.accepted_by, request.requested_by}
        if approver in makers:
            raise MakerCheckerError(
                f"{approver} requested, offered or accepted relief offer {offer_id}; a second "
                "person must approve it"
            )
        offer.approved_by = approver
        offer.approved_at = utc_now()
        _apply(session, offer, approver)
        session.flush()
        session.expunge(offer)
    return offer


def restructure(
    db: Database,
    loan_id: int,
    relief: Relief,
    *,
    maker: str,
    approver: str | None = None,
    reason: str | None = None,
) -> ReliefOffer:
    """Staff restructure a loan in one step: request, offer and acceptance by ``maker``, then
    approval by ``approver`` when the policy asks for it (and whenever one is given)."""
    if approver is not None and approver == maker:
        raise MakerCheckerError("the approver must be a second person, not the maker")
    with db.transaction() as session:
        request = request_relief(
            session, loan_id=loan_id, channel="staff", actor=maker, reason=reason
        )
        (offer,) = make_offers(
            session, request_id=request.id, actor=maker, chosen={relief.option: relief}
        )
        offer_id = offer.id
        if offer.needs_approval and approver is None:
            raise ApprovalRequiredError(
                f"{relief.option.value} on loan {loan_id} needs a second person's approval"
            )
    accepted = accept_offer(db, offer_id, actor=maker)
    if approver is None:
        return accepted
    if accepted.status == "accepted":
        return approve_offer(db, offer_id, approver=approver)
    # Applied without needing approval: the second person's name is kept all the same.
    with db.transaction() as session:
        row = _offer(session, offer_id)
        row.approved_by = approver
        row.approved_at = utc_now()
        session.flush()
        session.expunge(row)
        return row
