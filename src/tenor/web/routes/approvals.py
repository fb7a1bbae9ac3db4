"""The approvals page: relief offers waiting for a second person, and the policies and the
collection strategy in force, read-only.

A risk officer or an admin approves an accepted offer with one form (CSRF-checked like every
form of the console); :func:`tenor.actions.relief.approve_offer` applies it, or refuses the
person who requested, offered or accepted it (maker-checker), an offer no longer waiting, or
one the loan has outgrown. A refusal shows the page again with the reason and changes nothing.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from tenor.actions import relief
from tenor.actions.relief import MakerCheckerError, OfferNotOpenError, OfferStaleError
from tenor.api.roles import Permission
from tenor.relief.tables import ReliefOffer
from tenor.store.journal import NotFoundError
from tenor.web.approvals import (
    awaiting_approval,
    collection_strategies,
    relief_policies,
    reminder_policies,
)
from tenor.web.pages import (
    Collections,
    PageForbiddenError,
    Viewer,
    check_form,
    database,
    redirect,
    render,
    require,
    staff_viewer,
)

router = APIRouter()

Staff = Annotated[Viewer, Depends(staff_viewer)]
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
Field = Annotated[str | None, Form(max_length=200)]

#: What the page says when the approval is refused, by the refusal's code.
REFUSALS: Final = {
    MakerCheckerError.code: (
        "You requested, offered or accepted offer %(id)s: a second person must approve it."
    ),
    OfferNotOpenError.code: "Offer %(id)s is no longer waiting for approval.",
    OfferStaleError.code: (
        "The loan changed since offer %(id)s was made: its schedule no longer holds, and a new "
        "offer is needed."
    ),
}


def _page(
    request: Request,
    viewer: Viewer,
    *,
    approved: int | None = None,
    refused: tuple[str, int] | None = None,
    status: int = 200,
) -> HTMLResponse:
    require(viewer, Permission.READ_LOANS)
    if not viewer.principal().sees_everything:
        raise PageForbiddenError
    context: dict[str, Any] = {"approved": approved, "refused": refused}
    with database(request).reading() as session:
        context["offers"] = awaiting_approval(session)
        context["relief_policies"] = (
            relief_policies(session) if viewer.may(Permission.READ_PRODUCTS) else None
        )
        context["reminder_policies"] = (
            reminder_policies(session) if viewer.may(Permission.READ_NOTIFICATIONS) else None
        )
        context["strategies"] = (
            collection_strategies(session) if viewer.may(Collections.READ) else None
        )
    context["may_approve"] = viewer.may(Permission.APPROVE_RELIEF)
    return render(request, "approvals.html", context, status=status)


@router.get("/approvals", name="approvals")
def approvals_page(request: Request, viewer: Staff) -> HTMLResponse:
    """Offers waiting for a checker, and the relief and reminder policies and the collection
    strategy with their versions."""
    done = request.query_params.get("approved", "")
    return _page(request, viewer, approved=int(done) if done.isdigit() else None)


@router.post("/approvals/{offer_id}/approve", name="approve_offer")
def approve(request: Request, viewer: Staff, offer_id: Id, csrf_token: Field = None) -> Response:
    """Approve an accepted offer as the second person; it is applied to the loan's journal."""
    check_form(request, csrf_token)
    require(viewer, Permission.APPROVE_RELIEF)
    db = database(request)
    with db.reading() as session:
        if session.get(ReliefOffer, offer_id) is None:
            raise NotFoundError(f"relief offer {offer_id} does not exist")
    try:
        relief.approve_offer(db, offer_id, approver=viewer.actor)
    except (MakerCheckerError, OfferNotOpenError, OfferStaleError) as error:
        return _page(request, viewer, refused=(REFUSALS[error.code], offer_id), status=409)
    return redirect(request, f"/approvals?approved={offer_id}")
