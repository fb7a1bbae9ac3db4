"""``/v1/borrowers``: create, read, list, and change how a borrower may be contacted."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response

from tenor.actions import borrowers
from tenor.api.auth import database, require
from tenor.api.parsing import parse_money
from tenor.api.problems import problem_responses
from tenor.api.queries import check_borrower_in_scope, list_borrowers, scoped_borrowers
from tenor.api.roles import Permission, Principal, Role, borrower_view
from tenor.api.schemas import (
    MAX_ID,
    BorrowerIn,
    BorrowerOut,
    BorrowerPage,
    ContactPreferencesIn,
    Name,
)
from tenor.core.errors import InvalidArgumentError
from tenor.store.database import Database
from tenor.store.journal import NotFoundError
from tenor.store.models import Borrower

router = APIRouter(
    prefix="/v1/borrowers",
    tags=["borrowers"],
    responses=problem_responses(401, 403, 404, 422),
)

Db = Annotated[Database, Depends(database)]
BorrowerId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _load(db: Database, who: Principal, borrower_id: int) -> dict[str, Any]:
    with db.reading() as session:
        check_borrower_in_scope(session, who, borrower_id)
        borrower = session.get(Borrower, borrower_id)
        if borrower is None:
            raise NotFoundError(f"borrower {borrower_id} does not exist")
        return borrower_view(borrower, who)


@router.post(
    "",
    status_code=201,
    response_model=BorrowerOut,
    responses=problem_responses(400, 409),
    summary="Create a borrower",
)
def create_borrower(
    body: BorrowerIn,
    db: Db,
    who: Annotated[Principal, Depends(require(Permission.CREATE_BORROWERS))],
    response: Response,
) -> dict[str, Any]:
    """A new individual or enterprise borrower; 201 with its document."""
    if (body.registered_capital is None) != (body.registered_capital_currency is None):
        raise InvalidArgumentError(
            "registered_capital and registered_capital_currency are given together or not at all"
        )
    capital = (
        parse_money(
            body.registered_capital, body.registered_capital_currency, what="registered_capital"
        )
        if body.registered_capital is not None and body.registered_capital_currency is not None
        else None
    )
    with db.transaction() as session:
        borrower = borrowers.create_borrower(
            session,
            kind=body.kind,
            name=body.name,
            national_id=body.national_id,
            phones=body.phones,
            email=body.email,
            address=body.address,
            time_zone=body.time_zone,
            locale=body.locale,
            preferred_channels=body.preferred_channels,
            consents=body.consents,
            opt_outs=body.opt_outs,
            industry=body.industry,
            registered_capital=capital,
            contacts=[contact.model_dump(exclude_none=True) for contact in body.contacts],
        )
        document = borrower_view(borrower, who)
    response.headers["Location"] = f"/v1/borrowers/{document['id']}"
    return document


@router.get("/{borrower_id}", response_model=BorrowerOut, summary="Get a borrower")
def get_borrower(
    borrower_id: BorrowerId,
    db: Db,
    who: Annotated[Principal, Depends(require(Permission.READ_BORROWERS))],
) -> dict[str, Any]:
    """One borrower, masked as the caller's role requires."""
    return _load(db, who, borrower_id)


@router.get("", response_model=BorrowerPage, summary="List borrowers")
def get_borrowers(
    db: Db,
    who: Annotated[Principal, Depends(require(Permission.READ_BORROWERS))],
    kind: Literal["individual", "enterprise"] | None = None,
    name: Annotated[Name | None, Query(description="Part of the name, any case.")] = None,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Borrowers in the caller's scope, by id: a page and the total that match."""
    with db.reading() as session:
        rows, total = list_borrowers(
            session,
            kind=kind,
            name=name,
            only_id=who.borrower_id if who.role is Role.BORROWER else None,
            offset=offset,
            limit=limit,
            within=scoped_borrowers(who),
        )
        items = [borrower_view(row, who) for row in rows]
    return {"items": items, "total": total, "offset": offset, "limit": limit}


@router.patch(
    "/{borrower_id}/contact-preferences",
    response_model=BorrowerOut,
    responses=problem_responses(400),
    summary="Change contact preferences and opt-outs",
)
def update_contact_preferences(
    borrower_id: BorrowerId,
    body: ContactPreferencesIn,
    db: Db,
    who: Annotated[Principal, Depends(require(Permission.UPDATE_CONTACTS))],
) -> dict[str, Any]:
    """Phones, email, time zone, locale, channels, consents and opt-outs; omitted fields stay."""
    with db.transaction() as session:
        check_borrower_in_scope(session, who, borrower_id)
        borrower = borrowers.update_contact_preferences(
            session,
            borrower_id,
            phones=body.phones,
            email=body.email,
            time_zone=body.time_zone,
            locale=body.locale,
            preferred_channels=body.preferred_channels,
            consents=body.consents,
            opt_outs=body.opt_outs,
        )
        return borrower_view(borrower, who)
