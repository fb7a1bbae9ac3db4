"""Reads the API needs beyond :mod:`tenor.store.reads`: lists of borrowers, products and
collection cases, and scope.

Only reads live here; writes go through :mod:`tenor.actions` and each capability's actions.
"""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from tenor.api.roles import Principal, Role
from tenor.collect.tables import Agency, CollectionCase, Collector, Placement
from tenor.store.journal import NotFoundError
from tenor.store.models import Borrower, Loan, Product


def placed_loans(agency_id: int) -> Select[int]:
    """The ids of the loans placed with an agency now (its placements not yet recalled)."""
    return select(Placement.loan_id).where(
        Placement.agency_id == agency_id, Placement.recalled_on.is_(None)
    )


def scoped_loans(principal: Principal) -> Select[int] | None:
    """The ids of the loans an agency's key sees; None for a key whose scope is not placements."""
    if principal.role is not Role.AGENCY:
        return None
    # An agency key always names its agency; -1 names none, should a row say otherwise.
    return placed_loans(principal.agency_id if principal.agency_id is not None else -1)


def scoped_borrowers(principal: Principal) -> Select[int] | None:
    """The ids of the borrowers an agency's key sees: those of its placed loans."""
    loans = scoped_loans(principal)
    if loans is None:
        return None
    return select(Loan.borrower_id).where(Loan.id.in_(loans))


def list_borrowers(
    session: Session,
    *,
    kind: str | None,
    name: str | None,
    only_id: int | None,
    offset: int,
    limit: int,
    within: Select[int] | None = None,
) -> tuple[list[Borrower], int]:
    """One page of borrowers, by id, whose name contains ``name`` (any case); and the count.

    ``within``: only the borrowers whose ids it selects (a key's scope).
    """
    conditions = []
    if kind is not None:
        conditions.append(Borrower.kind == kind)
    if name is not None:
        conditions.append(func.lower(Borrower.name).contains(name.lower(), autoescape=True))
    if only_id is not None:
        conditions.append(Borrower.id == only_id)
    if within is not None:
        conditions.append(Borrower.id.in_(within))
    rows = session.scalars(
        select(Borrower).where(*conditions).order_by(Borrower.id).offset(offset).limit(limit)
    ).all()
    total = session.scalar(select(func.count()).select_from(Borrower).where(*conditions))
    return list(rows), int(total or 0)


def list_products(
    session: Session, *, code: str | None, offset: int, limit: int
) -> tuple[list[Product], int]:
    """One page of products (every version), by id; and the count."""
    conditions = [] if code is None else [Product.code == code]
    rows = session.scalars(
        select(Product).where(*conditions).order_by(Product.id).offset(offset).limit(limit)
    ).all()
    total = session.scalar(select(func.count()).select_from(Product).where(*conditions))
    return list(rows), int(total or 0)


def list_cases(
    session: Session,
    *,
    status: str | None,
    collector_id: int | None,
    agency_id: int | None,
    segment: str | None,
    offset: int,
    limit: int,
) -> tuple[list[CollectionCase], int]:
    """One page of collection cases, by id, matching every filter given; and the count.

    ``agency_id``: the cases placed with that agency now.
    """
    conditions = []
    if status is not None:
        conditions.append(CollectionCase.status == status)
    if collector_id is not None:
        conditions.append(CollectionCase.collector_id == collector_id)
    if agency_id is not None:
        conditions.append(CollectionCase.agency_id == agency_id)
    if segment is not None:
        conditions.append(CollectionCase.segment == segment)
    rows = session.scalars(
        select(CollectionCase)
        .where(*conditions)
        .order_by(CollectionCase.id)
        .offset(offset)
        .limit(limit)
    ).all()
    total = session.scalar(select(func.count()).select_from(CollectionCase).where(*conditions))
    return list(rows), int(total or 0)


def list_collectors(session: Session) -> list[Collector]:
    """Every collector, by id."""
    return list(session.scalars(select(Collector).order_by(Collector.id)))


def list_agencies(session: Session, *, only_id: int | None) -> list[Agency]:
    """Every agency (or only agency ``only_id``), by id."""
    conditions = [] if only_id is None else [Agency.id == only_id]
    return list(session.scalars(select(Agency).where(*conditions).order_by(Agency.id)))


def check_loan_in_scope(session: Session, principal: Principal, loan_id: int) -> None:
    """Raise NotFoundError, as for a loan that does not exist, when the loan is out of scope."""
    if principal.sees_everything:
        return
    if principal.role is Role.BORROWER:
        owner = session.scalar(select(Loan.borrower_id).where(Loan.id == loan_id))
        if owner is not None and owner == principal.borrower_id:
            return
    placed = scoped_loans(principal)
    if (
        placed is not None
        and session.scalar(select(Loan.id).where(Loan.id == loan_id, Loan.id.in_(placed)))
        is not None
    ):
        return
    raise NotFoundError(f"loan {loan_id} does not exist")


def check_borrower_in_scope(session: Session, principal: Principal, borrower_id: int) -> None:
    """Raise NotFoundError, as for a borrower that does not exist, when out of scope."""
    if principal.sees_everything:
        return
    if principal.role is Role.BORROWER and borrower_id == principal.borrower_id:
        return
    borrowers = scoped_borrowers(principal)
    if (
        borrowers is not None
        and session.scalar(
            select(Borrower.id).where(Borrower.id == borrower_id, Borrower.id.in_(borrowers))
        )
        is not None
    ):
        return
    raise NotFoundError(f"borrower {borrower_id} does not exist")
