"""Borrower self-service under ``/web/me``: sign in with a one-time code, see one's own loans,
schedules, the next payment and past payments with receipts, and choose how to be contacted.

A borrower's session is scoped to that borrower: another borrower's loan or receipt answers
404, exactly like one that does not exist. The one-time code leaves through the seam in
:mod:`tenor.web.delivery`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from tenor.actions.borrowers import CHANNELS, update_contact_preferences
from tenor.api.queries import check_loan_in_scope
from tenor.core.errors import InvalidArgumentError
from tenor.store.journal import NotFoundError, business_date
from tenor.store.models import Borrower
from tenor.store.reads import (
    LoanFilter,
    get_loan,
    journal_document,
    list_loans,
    schedule_document,
)
from tenor.web.accounts import (
    SignInError,
    borrowers_with_phone,
    issue_code,
    normalise_phone,
    redeem_code,
)
from tenor.web.delivery import CodeDelivery
from tenor.web.i18n import LOCALES
from tenor.web.pages import (
    Viewer,
    borrower_viewer,
    check_form,
    database,
    now,
    redirect,
    render,
)
from tenor.web.security import SESSION_COOKIE, set_cookie
from tenor.web.views import next_due, reversed_events

router = APIRouter(prefix="/me")

Me = Annotated[Viewer, Depends(borrower_viewer)]
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
Field = Annotated[str | None, Form(max_length=200)]
Channels = Annotated[list[str] | None, Form(max_length=16)]


@router.get("/sign-in", name="borrower_sign_in_page")
def sign_in_page(request: Request) -> HTMLResponse:
    """Ask for the mobile number to send a code to."""
    return render(
        request,
        "me_sign_in.html",
        {"step": "phone", "phone": "", "error": None, "notice": request.query_params.get("n")},
    )


@router.post("/code", name="borrower_code")
def send_code(request: Request, csrf_token: Field = None, phone: Field = None) -> HTMLResponse:
    """Send a code to the number if it is a borrower's; the answer never tells whether it is."""
    check_form(request, csrf_token)
    try:
        number = normalise_phone(phone or "")
    except InvalidArgumentError as error:
        return render(
            request,
            "me_sign_in.html",
            {"step": "phone", "phone": phone or "", "error": error.message, "notice": None},
            status=400,
        )
    delivery: CodeDelivery = request.app.state.delivery
    moment = now(request)
    with database(request).transaction() as session:
        for borrower in borrowers_with_phone(session, number):
            issued = issue_code(session, borrower, moment)
            if issued is not None:
                delivery.deliver(session, borrower, number, issued)
    return render(
        request,
        "me_sign_in.html",
        {"step": "code", "phone": number, "error": None, "notice": None},
    )


@router.post("/sign-in", name="borrower_sign_in")
def sign_in(
    request: Request, csrf_token: Field = None, phone: Field = None, code: Field = None
) -> Response:
    """Check the code; open the borrower's session."""
    check_form(request, csrf_token)
    failure: SignInError | None = None
    with database(request).transaction() as session:
        # A wrong code still commits: it used up one of the code's tries.
        try:
            opened = redeem_code(session, normalise_phone(phone or ""), code or "", now(request))
        except SignInError as error:
            failure = error
        except InvalidArgumentError as error:
            failure = SignInError(error.message)
    if failure is not None:
        return render(
            request,
            "me_sign_in.html",
            {"step": "code", "phone": phone or "", "error": failure.message, "notice": None},
            status=401,
        )
    response = redirect(request, "/me")
    set_cookie(request, response, SESSION_COOKIE, opened.token)
    return response


def _loan_summary(session: Any, loan: dict[str, Any], today: str) -> dict[str, Any]:
    schedule = schedule_document(session, loan["id"])
    return {**loan, "next": next_due(schedule, loan["next_due_date"], today)}


@router.get("", name="me")
def my_loans(request: Request, me: Me) -> HTMLResponse:
    """The borrower's loans, each with what is due next."""
    with database(request).reading() as session:
        today = business_date(session).isoformat()
        loans, _ = list_loans(session, LoanFilter(borrower_id=me.borrower_id), limit=500)
        summaries = [
            _loan_summary(session, loan, today)
            for loan in loans
            if loan["status"] not in ("pending", "rejected")
        ]
    return render(request, "me.html", {"loans": summaries})


def _own_loan(session: Any, me: Viewer, loan_id: int) -> dict[str, Any]:
    check_loan_in_scope(session, me.principal(), loan_id)
    return get_loan(session, loan_id)


def _payments(session: Any, loan_id: int) -> list[dict[str, Any]]:
    reversed_ids = reversed_events(session, loan_id)
    return [
        {**event, "reversed": event["event_id"] in reversed_ids}
        for event in journal_document(session, loan_id)["events"]
        if event["kind"] == "repayment-received"
    ]


@router.get("/loans/{loan_id}", name="my_loan")
def my_loan(request: Request, me: Me, loan_id: Id) -> HTMLResponse:
    """One of the borrower's loans: next payment, schedule and payment history."""
    with database(request).reading() as session:
        loan = _own_loan(session, me, loan_id)
        today = business_date(session).isoformat()
        schedule = schedule_document(session, loan_id)
        payments = _payments(session, loan_id)
    return render(
        request,
        "me_loan.html",
        {
            "loan": loan,
            "schedule": schedule,
            "next": next_due(schedule, loan["next_due_date"], today),
            "payments": list(reversed(payments)),
        },
    )


@router.get("/loans/{loan_id}/receipts/{event_id}", name="my_receipt")
def my_receipt(
    request: Request,
    me: Me,
    loan_id: Id,
    event_id: Annotated[str, Path(max_length=36, pattern=r"^[0-9A-Za-z-]+$")],
) -> HTMLResponse:
    """The receipt of one payment on one of the borrower's loans."""
    with database(request).reading() as session:
        loan = _own_loan(session, me, loan_id)
        found = [
            payment for payment in _payments(session, loan_id) if payment["event_id"] == event_id
        ]
        if not found:
            raise NotFoundError(f"no payment {event_id} on loan {loan_id}")
    return render(request, "me_receipt.html", {"loan": loan, "payment": found[0], "name": me.name})


def _preferences_page(
    request: Request, me: Me, *, saved: bool, error: str | None, status: int = 200
) -> HTMLResponse:
    with database(request).reading() as session:
        borrower = session.get(Borrower, me.borrower_id)
        if borrower is None:
            raise NotFoundError("borrower does not exist")
        context = {
            "preferred": list(borrower.preferred_channels),
            "opt_outs": list(borrower.opt_outs),
            "message_locale": borrower.locale,
        }
    return render(
        request,
        "me_contact.html",
        {**context, "channels": CHANNELS, "saved": saved, "error": error},
        status=status,
    )


@router.get("/contact", name="my_contact")
def contact_page(request: Request, me: Me) -> HTMLResponse:
    """How the borrower wants to be contacted, and which channels they refuse."""
    return _preferences_page(
        request, me, saved=request.query_params.get("saved") == "1", error=None
    )


@router.post("/contact", name="save_my_contact")
def save_contact(
    request: Request,
    me: Me,
    csrf_token: Field = None,
    preferred: Channels = None,
    opt_out: Channels = None,
    message_locale: Field = None,
) -> Response:
    """Save channels, opt-outs and the language of messages; bad values change nothing."""
    check_form(request, csrf_token)
    try:
        if message_locale not in LOCALES:
            raise InvalidArgumentError("the language of messages is zh-CN or en")
        if set(preferred or ()) & set(opt_out or ()):
            raise InvalidArgumentError("a channel cannot be both preferred and refused")
        with database(request).transaction() as session:
            update_contact_preferences(
                session,
                me.borrower_id or 0,
                preferred_channels=preferred or [],
                opt_outs=opt_out or [],
                locale=message_locale,
            )
    except InvalidArgumentError as error:
        return _preferences_page(request, me, saved=False, error=error.message, status=400)
    return redirect(request, "/me/contact?saved=1")
