"""Relief in self-service (``/web/me/loans/{id}/relief``): a borrower in trouble sees what they
may ask for and why not the rest, asks for a deferral, an installment plan or any option they
qualify for, sees the offers with their schedules, and takes one.

The same actions as the API's (:mod:`tenor.actions.relief`): the request is made and offered in
one transaction, on the borrower's own loan only (another's answers 404). An offer that needs
a second person's approval waits for a checker on the staff approvals page; the others apply at
once. Refusals (a request already open, an option the loan no longer qualifies for, an offer
that expired or that the loan outgrew) show the page again with the reason and change nothing.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from tenor.actions import relief
from tenor.actions.relief import OfferNotOpenError, OfferStaleError, RequestOpenError
from tenor.api.parsing import parse_money
from tenor.api.queries import check_loan_in_scope
from tenor.core.errors import InvalidArgumentError
from tenor.core.money import Money
from tenor.core.restructure import Option
from tenor.relief.tables import ReliefOffer
from tenor.relief.workflow import (
    NotEligibleError,
    evaluate,
    loan_relief_document,
    options_document,
)
from tenor.store.journal import LoanNotActiveError, NotFoundError
from tenor.store.reads import get_loan
from tenor.web.pages import Viewer, borrower_viewer, check_form, database, redirect, render

router = APIRouter(prefix="/me")

Me = Annotated[Viewer, Depends(borrower_viewer)]
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
Field = Annotated[str | None, Form(max_length=500)]
#: A request's reason: a few sentences at most.
Reason = Annotated[str | None, Form(max_length=1000)]

#: Request statuses while a request is being handled: no second request until it is done.
OPEN_REQUEST: Final = ("open", "offered", "accepted")
#: Loans with a journal to read relief from (paid out).
BOOKED: Final = ("active", "overpaid", "closed", "written-off")
#: The choice on the form that asks for every option the loan qualifies for.
EVERY_OPTION: Final = "all"

#: The outcomes a redirect back to the page announces.
NOTICES: Final = ("requested", "declined", "accepted", "applied")
#: What the page says when a request or an acceptance is refused, by the refusal's code.
REFUSALS: Final = {
    RequestOpenError.code: "You already have a request being handled for this loan.",
    NotEligibleError.code: (
        "Your loan does not qualify for this option with what you told us; choose another, "
        "or ask for every option you qualify for."
    ),
    LoanNotActiveError.code: "Relief is for loans being repaid.",
    OfferNotOpenError.code: "This offer can no longer be taken; ask again for relief.",
    OfferStaleError.code: (
        "Your loan changed since this offer was made (a payment, say), so its schedule no "
        "longer holds; ask again for relief."
    ),
    InvalidArgumentError.code: (
        "Income and debts are amounts of at least zero, such as 5000 or 5000.50."
    ),
}


def _relief_page(
    request: Request,
    me: Viewer,
    loan_id: int,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    with database(request).reading() as session:
        check_loan_in_scope(session, me.principal(), loan_id)
        loan = get_loan(session, loan_id)
        document = loan_relief_document(session, loan_id) if loan["status"] in BOOKED else None
        requests = list(reversed(document["requests"])) if document else []
        current = next((r for r in requests if r["status"] in OPEN_REQUEST), None)
        options: list[dict[str, Any]] = []
        if current is None and loan["status"] in ("active", "overpaid"):
            options = options_document(evaluate(session, loan_id))["options"]
    notice = request.query_params.get("n")
    return render(
        request,
        "me_relief.html",
        {
            "loan": loan,
            "current": current,
            "history": [r for r in requests if r is not current],
            "options": options,
            "eligible": [option for option in options if option["eligible"]],
            "open": None if document is None else document["open"],
            "under_watch": bool(document and document["under_watch"]),
            "error": error,
            "notice": notice
            if notice in ("requested", "declined", "accepted", "applied")
            else None,
            "form": form or {},
            "every_option": EVERY_OPTION,
        },
        status=status,
    )


@router.get("/loans/{loan_id}/relief", name="my_relief")
def relief_page(request: Request, me: Me, loan_id: Id) -> HTMLResponse:
    """What the borrower may ask for, the offers they have, and what they asked before."""
    return _relief_page(request, me, loan_id)


def _amount(text: str | None, currency: str, what: str) -> Money | None:
    if text is None or not text.strip():
        return None
    return parse_money(text.strip().replace(",", ""), currency, what=what, allow_zero=True)


@router.post("/loans/{loan_id}/relief", name="request_my_relief")
def request_relief(
    request: Request,
    me: Me,
    loan_id: Id,
    csrf_token: Field = None,
    option: Field = None,
    reason: Reason = None,
    hardship_evidence: Field = None,
    monthly_income: Field = None,
    monthly_debt: Field = None,
) -> Response:
    """Ask for relief: the chosen option, or every one the loan qualifies for, offered at once."""
    check_form(request, csrf_token)
    form = {
        "option": option or "",
        "reason": reason or "",
        "hardship_evidence": hardship_evidence or "",
        "monthly_income": monthly_income or "",
        "monthly_debt": monthly_debt or "",
    }
    if option != EVERY_OPTION and option not in {item.value for item in Option}:
        return _relief_page(
            request, me, loan_id, error="Choose what you are asking for.", form=form, status=400
        )
    db = database(request)
    try:
        with db.transaction() as session:
            check_loan_in_scope(session, me.principal(), loan_id)
            currency = get_loan(session, loan_id)["currency"]
            asked = relief.request_relief(
                session,
                loan_id=loan_id,
                channel="self-service",
                actor=me.actor,
                reason=(reason or "").strip() or None,
                hardship_evidence=(hardship_evidence or "").strip() or None,
                monthly_income=_amount(monthly_income, currency, "monthly income"),
                monthly_debt=_amount(monthly_debt, currency, "monthly debts"),
            )
            chosen = None
            if option != EVERY_OPTION:
                # The option with the policy's defaults for this loan, as the API offers it.
                evaluation = evaluate(session, loan_id, request=asked)
                picked = Option(option)
                chosen = {
                    picked: evaluation.document.relief(picked, evaluation.state, evaluation.day)
                }
            offers = relief.make_offers(session, request_id=asked.id, actor=me.actor, chosen=chosen)
    except (RequestOpenError, NotEligibleError, LoanNotActiveError, InvalidArgumentError) as error:
        message = REFUSALS.get(error.code, REFUSALS[InvalidArgumentError.code])
        return _relief_page(request, me, loan_id, error=message, form=form, status=400)
    outcome = "requested" if offers else "declined"
    return redirect(request, f"/me/loans/{loan_id}/relief?n={outcome}")


@router.post("/relief/offers/{offer_id}/accept", name="accept_my_offer")
def accept_offer(request: Request, me: Me, offer_id: Id, csrf_token: Field = None) -> Response:
    """Take an offer: applied at once, or waiting for a second person's approval."""
    check_form(request, csrf_token)
    db = database(request)
    with db.reading() as session:
        offer = session.get(ReliefOffer, offer_id)
        if offer is None:
            raise NotFoundError(f"relief offer {offer_id} does not exist")
        loan_id = offer.loan_id
        check_loan_in_scope(session, me.principal(), loan_id)
    try:
        taken = relief.accept_offer(db, offer_id, actor=me.actor)
    except (OfferNotOpenError, OfferStaleError) as error:
        return _relief_page(request, me, loan_id, error=REFUSALS[error.code], status=409)
    outcome = "applied" if taken.status == "applied" else "accepted"
    return redirect(request, f"/me/loans/{loan_id}/relief?n={outcome}")
