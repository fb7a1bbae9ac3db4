"""The collector workbench: the queue in working order, one case at a time, and an outcome or a
promise to pay recorded in two clicks (open the case, press the outcome's button).

A collector's user linked to a collector (``tenor web user create --collector ID``) sees their
own queue; admins, risk officers and auditors choose whose queue to read. Only collectors and
admins record (``collections:work``). Recording goes through
:func:`tenor.collect.actions.record_outcome`, which checks the contact rules again at that
instant: a call the rules forbid is refused with the rule and the time it is next allowed, and
nothing is recorded. After an outcome the collector is taken to the next case of the queue.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from tenor.api.roles import Role
from tenor.collect.actions import (
    MAX_PROMISE_DAYS,
    CaseClosedError,
    ContactRefusedError,
    OutcomeRequest,
    record_outcome,
)
from tenor.collect.tables import CollectionCase, ContactOutcome, Promise
from tenor.core.collection import OutcomeCode
from tenor.core.errors import InvalidArgumentError
from tenor.core.money import Money
from tenor.store.journal import NotFoundError, business_date
from tenor.web.i18n import Formats
from tenor.web.pages import (
    Collections,
    Viewer,
    check_form,
    database,
    locale_of,
    now,
    redirect,
    render,
    require,
    staff_viewer,
)
from tenor.web.security import PREFIX
from tenor.web.workbench import (
    OUTCOME_BUTTONS,
    TASK_CHANNELS,
    CaseView,
    Queue,
    case_view,
    collectors,
    queue,
)

router = APIRouter()

Staff = Annotated[Viewer, Depends(staff_viewer)]
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
OptionalId = Annotated[int | None, Query(ge=1, le=2**63 - 1)]
Field = Annotated[str | None, Form(max_length=500)]

#: What the case page says when an outcome is refused, by the refusal's code.
REFUSALS: Final = {
    ContactRefusedError.code: (
        "The contact rules do not allow this contact now: nothing was recorded."
    ),
    CaseClosedError.code: "This case is closed: nothing was recorded.",
}
#: What the case page says of a promise form it cannot take.
PROMISE_ERRORS: Final = {
    "amount": "The promised amount is a positive amount such as 1053.15.",
    "too_much": "A promise cannot be for more than the case's balance (%(balance)s).",
    "date": "The promised date is a date such as 2026-03-01.",
    "past": "A promise cannot be dated before the business date.",
    "far": "A promise is at most %(days)s days ahead.",
}


def _owner(viewer: Viewer, asked: int | None) -> int | None:
    """Whose queue the viewer works: a linked collector's own; the one an admin or a reader
    asked for; none for a collector's user that is not linked to a collector."""
    if viewer.collector_id is not None:
        return viewer.collector_id
    if viewer.role is Role.COLLECTOR:
        return None
    return asked


def _chooses(viewer: Viewer) -> bool:
    return viewer.collector_id is None and viewer.role is not Role.COLLECTOR


def _recorded(session: Session, viewer: Viewer, outcome_id: int | None) -> dict[str, Any] | None:
    """The outcome the viewer just recorded (and its promise), for the next page's notice."""
    if outcome_id is None:
        return None
    outcome = session.get(ContactOutcome, outcome_id)
    if outcome is None or outcome.actor != viewer.actor:
        return None
    promise = session.scalars(select(Promise).where(Promise.outcome_id == outcome.id)).one_or_none()
    return {
        "case_id": outcome.case_id,
        "loan_id": outcome.loan_id,
        "code": outcome.code,
        "promise": None
        if promise is None
        else {
            "amount": str(Money(promise.amount_minor, promise.currency).amount),
            "currency": promise.currency,
            "due_date": promise.due_date,
        },
    }


@router.get("/collect", name="workbench")
def workbench(
    request: Request,
    viewer: Staff,
    collector: OptionalId = None,
    recorded: OptionalId = None,
) -> HTMLResponse:
    """The queue of the viewer's collector (or of the one chosen) in working order, with the
    contact rules' answer for each task at this instant."""
    require(viewer, Collections.READ)
    owner = _owner(viewer, collector)
    moment = now(request)
    with database(request).reading() as session:
        context = {
            "choices": collectors(session) if _chooses(viewer) else [],
            "chosen": owner,
            "queue": queue(session, owner, moment, business_date(session)) if owner else None,
            "recorded": _recorded(session, viewer, recorded),
            "unlinked": viewer.role is Role.COLLECTOR and viewer.collector_id is None,
        }
    return render(request, "collect.html", context)


def _case_page(
    request: Request,
    viewer: Viewer,
    case_id: int,
    owner: int | None,
    *,
    at: dt.datetime,
    recorded: int | None = None,
    error: str | None = None,
    status: int = 200,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    with database(request).reading() as session:
        day = business_date(session)
        view: CaseView = case_view(session, case_id, viewer.principal(), at, day)
        found: Queue | None = queue(session, owner, at, day) if owner else None
        notice = _recorded(session, viewer, recorded)
    return render(
        request,
        "collect_case.html",
        {
            # After a refused form, the language switch comes back to the case, not the form.
            "path": f"{PREFIX}/collect/cases/{case_id}",
            "view": view,
            "queue": found,
            "owner": owner,
            "recorded": notice,
            "error": error,
            "form": form or {},
            "may_work": viewer.may(Collections.WORK) and view.is_open,
            "outcomes": OUTCOME_BUTTONS,
            "max_promise_days": MAX_PROMISE_DAYS,
        },
        status=status,
    )


@router.get("/collect/cases/{case_id}", name="collection_case")
def case_page(
    request: Request,
    viewer: Staff,
    case_id: Id,
    collector: OptionalId = None,
    recorded: OptionalId = None,
) -> HTMLResponse:
    """One case: the borrower, what is owed, the contact rules' answer before the call, the
    outcome buttons and the promise form, and everything the case has been through."""
    require(viewer, Collections.READ)
    return _case_page(
        request, viewer, case_id, _owner(viewer, collector), at=now(request), recorded=recorded
    )


class _PromiseError(Exception):
    """The promise form holds something Tenor cannot take: one of :data:`PROMISE_ERRORS`."""

    def __init__(self, message: str, **values: Any) -> None:
        super().__init__(message)
        self.message = message
        self.values = values


def _promise_fields(
    case: CollectionCase, day: dt.date, amount: str | None, promised: str | None
) -> tuple[Decimal, dt.date]:
    """The promise form's amount and date, checked as the action checks them, so that the
    refusal reads in the page's language (the action stays the judge: it checks again)."""
    currency = case.currency
    try:
        money = Money.of(Decimal((amount or "").strip().replace(",", "")), currency)
    except (InvalidOperation, InvalidArgumentError):
        raise _PromiseError(PROMISE_ERRORS["amount"]) from None
    if not money.is_positive:
        raise _PromiseError(PROMISE_ERRORS["amount"])
    balance = Money(case.balance_minor, currency)
    if money > balance:
        raise _PromiseError(PROMISE_ERRORS["too_much"], balance=balance)
    try:
        due = dt.date.fromisoformat((promised or "").strip())
    except ValueError:
        raise _PromiseError(PROMISE_ERRORS["date"]) from None
    if due < day:
        raise _PromiseError(PROMISE_ERRORS["past"])
    if (due - day).days > MAX_PROMISE_DAYS:
        raise _PromiseError(PROMISE_ERRORS["far"], days=MAX_PROMISE_DAYS)
    return money.amount, due


def _message(request: Request, message: str, **values: Any) -> str:
    """A refusal in the page's language, amounts in its format."""
    fmt = Formats(locale_of(request))
    shown = {
        key: fmt.money(value.amount, value.currency) if isinstance(value, Money) else value
        for key, value in values.items()
    }
    return fmt.label(message, **shown)


@router.post("/collect/cases/{case_id}/outcome", name="record_outcome")
def record(
    request: Request,
    viewer: Staff,
    case_id: Id,
    csrf_token: Field = None,
    code: Field = None,
    channel: Field = None,
    note: Field = None,
    amount: Field = None,
    promise_date: Field = None,
    collector: Annotated[int | None, Form(ge=1, le=2**63 - 1)] = None,
) -> Response:
    """Record what a contact gave; a promise to pay with its amount and date. Then the next
    case of the queue, or the queue itself when it is empty."""
    check_form(request, csrf_token)
    require(viewer, Collections.WORK)
    owner = _owner(viewer, collector)
    moment = now(request)
    if code not in {c.value for c in OutcomeCode} or channel not in TASK_CHANNELS:
        raise InvalidArgumentError("the form names an outcome or a channel Tenor does not know")
    outcome = OutcomeCode(code)
    db = database(request)
    money: Decimal | None = None
    due: dt.date | None = None
    if outcome is OutcomeCode.PROMISE_TO_PAY:
        with db.reading() as session:
            case = session.get(CollectionCase, case_id)
            if case is None:
                raise NotFoundError(f"collection case {case_id} does not exist")
            day = business_date(session)
        try:
            money, due = _promise_fields(case, day, amount, promise_date)
        except _PromiseError as refused:
            return _case_page(
                request,
                viewer,
                case_id,
                owner,
                at=moment,
                error=_message(request, refused.message, **refused.values),
                status=400,
                form={"amount": amount or "", "promise_date": promise_date or ""},
            )
    try:
        done = record_outcome(
            db,
            case_id,
            OutcomeRequest(
                code=outcome,
                channel=channel,
                at=moment,
                amount=money,
                promise_date=due,
                note=(note or "").strip() or None,
                collector_id=viewer.collector_id,
            ),
            actor=viewer.actor,
        )
    except (ContactRefusedError, CaseClosedError) as refusal:
        return _case_page(
            request,
            viewer,
            case_id,
            owner,
            at=moment,
            error=_message(request, REFUSALS[refusal.code]),
            status=409,
        )
    after = None
    if owner is not None:
        with db.reading() as session:
            after = queue(session, owner, moment, business_date(session)).after(case_id)
    chosen = f"&collector={owner}" if owner is not None and _chooses(viewer) else ""
    if after is None:
        return redirect(request, f"/collect?recorded={done.outcome_id}{chosen}")
    return redirect(request, f"/collect/cases/{after.case_id}?recorded={done.outcome_id}{chosen}")
