"""Reads the API needs beyond :mod:`tenor.store.reads`: lists of borrowers and products, scope.

Only reads live here; writes go through :mod:`tenor.actions`.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tenor.api.roles import Principal, Role
from tenor.store.journal import NotFoundError
from tenor.store.models import Borrower, Loan, Product


def list_borrowers(
    session: Session,
    *,
    kind: str | None,
    name: str | None,
    only_id: int | None,
    offset: int,
    limit: int,
) -> tuple[list[Borrower], int]:
    """One page of borrowers, by id, whose name contains ``name`` (any case); and the count."""
    conditions = []
    if kind is not None:
        conditions.append(Borrower.kind == kind)
    if name is not None:
        conditions.append(func.lower(Borrower.name).contains(name.lower(), autoescape=True))
    if only_id is not None:
        conditions.append(Borrower.id == only_id)
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


def check_loan_in_scope(session: Session, principal: Principal, loan_id: int) -> None:
    """Raise NotFoundError, as for a loan that does not exist, when the loan is out of scope."""
    if principal.sees_everything:
        return
    if principal.role is Role.BORROWER:
        owner = session.scalar(select(Loan.borrower_id).where(Loan.id == loan_id))
        if owner is not None and owner == principal.borrower_id:
            return
    # Agencies: placements do not exist yet, so no loan is placed with any agency.
    raise NotFoundError(f"loan {loan_id} does not exist")


def check_borrower_in_scope(principal: Principal, borrower_id: int) -> None:
    """Raise NotFoundError, as for a borrower that does not exist, when out of scope."""
    if not principal.sees_borrower(borrower_id):
        raise NotFoundError(f"borrower {borrower_id} does not exist")
