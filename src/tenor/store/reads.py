"""The read side: loans, schedules, journals and borrowers as plain JSON-ready documents.

The API and the CLI both answer from these, so a loan looks the same in ``GET /v1/loans/{id}``
and in ``tenor loans show ID --json``. Amounts are decimal strings in major units.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from tenor.core.delinquency import LoanClass, Stage
from tenor.core.money import Money
from tenor.store.journal import NotFoundError, business_date
from tenor.store.models import Borrower, InstallmentRow, JournalEntry, Loan, LoanStateRow, Product


def amount(minor: int, currency: str) -> str:
    """Minor units as a decimal string in major units."""
    return Money(minor, currency).format()


def mask(value: str | None, keep: int = 4) -> str | None:
    """``value`` with all but its first three and last ``keep`` characters hidden."""
    if value is None:
        return None
    if len(value) <= keep + 3:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 3 - keep) + value[-keep:]


def loan_document(loan: Loan, state: LoanStateRow | None, day: dt.date) -> dict[str, Any]:
    """One loan: its terms, balances and delinquency on business date ``day``."""
    currency = loan.currency
    document: dict[str, Any] = {
        "id": loan.id,
        "borrower_id": loan.borrower_id,
        "product_id": loan.product_id,
        "status": loan.status,
        "currency": currency,
        "principal": amount(loan.principal_minor, currency),
        "annual_rate_percent": f"{(Decimal(loan.terms['annual_rate']) * 100).normalize():f}",
        "term": loan.terms["term"],
        "frequency": loan.terms["frequency"],
        "method": loan.terms["method"],
        "start_date": loan.terms["start"],
        "business_date": day.isoformat(),
        "created_at": loan.created_at.isoformat(),
        "approved_at": loan.approved_at.isoformat() if loan.approved_at else None,
    }
    if state is None:
        # Not disbursed yet: nothing owed, no delinquency.
        nothing = amount(0, currency)
        document.update(
            dict.fromkeys(
                (
                    "disbursed",
                    "repaid",
                    "outstanding_principal",
                    "outstanding_interest",
                    "outstanding_fees",
                    "outstanding_penalties",
                    "arrears",
                    "credit_balance",
                    "written_off",
                    "recovered",
                ),
                nothing,
            )
        )
        document.update(
            {
                "days_past_due": 0,
                "bucket": None,
                "classification": None,
                "classification_zh": None,
                "ifrs9_stage": None,
                "next_due_date": None,
            }
        )
        return document
    loan_class = LoanClass(state.loan_class)
    document.update(
        {
            "disbursed": amount(state.disbursed_minor, currency),
            "repaid": amount(state.repaid_minor, currency),
            "outstanding_principal": amount(state.outstanding_principal_minor, currency),
            "outstanding_interest": amount(state.outstanding_interest_minor, currency),
            "outstanding_fees": amount(state.outstanding_fees_minor, currency),
            "outstanding_penalties": amount(state.outstanding_penalties_minor, currency),
            "arrears": amount(state.arrears_minor, currency),
            "credit_balance": amount(state.credit_balance_minor, currency),
            "written_off": amount(state.written_off_minor, currency),
            "recovered": amount(state.recovered_minor, currency),
            "days_past_due": state.days_past_due,
            "bucket": state.bucket,
            "classification": loan_class.label_en.lower().replace(" ", "-"),
            "classification_zh": loan_class.label_zh,
            "ifrs9_stage": int(Stage(state.stage)),
            "next_due_date": state.next_due_date.isoformat() if state.next_due_date else None,
        }
    )
    return document


def get_loan(session: Session, loan_id: int) -> dict[str, Any]:
    """The document of loan ``loan_id``; raises NotFoundError."""
    loan = session.get(Loan, loan_id)
    if loan is None:
        raise NotFoundError(f"loan {loan_id} does not exist")
    return loan_document(loan, session.get(LoanStateRow, loan_id), business_date(session))


@dataclass(frozen=True, slots=True)
class LoanFilter:
    """Filters for listing loans; ``None`` means any."""

    status: str | None = None
    bucket: str | None = None
    min_dpd: int | None = None
    max_dpd: int | None = None
    product_id: int | None = None
    borrower_id: int | None = None
    #: Only the loans whose ids this selects (a key's scope, such as an agency's placements).
    within: Select[int] | None = None


_Statement = TypeVar("_Statement", bound="Select[*tuple[Any, ...]]")


def _filtered(statement: _Statement, filters: LoanFilter) -> _Statement:
    if filters.status is not None:
        statement = statement.where(Loan.status == filters.status)
    if filters.bucket is not None:
        statement = statement.where(LoanStateRow.bucket == filters.bucket)
    if filters.min_dpd is not None:
        statement = statement.where(func.coalesce(LoanStateRow.days_past_due, 0) >= filters.min_dpd)
    if filters.max_dpd is not None:
        statement = statement.where(func.coalesce(LoanStateRow.days_past_due, 0) <= filters.max_dpd)
    if filters.product_id is not None:
        statement = statement.where(Loan.product_id == filters.product_id)
    if filters.borrower_id is not None:
        statement = statement.where(Loan.borrower_id == filters.borrower_id)
    if filters.within is not None:
        statement = statement.where(Loan.id.in_(filters.within))
    return statement


def list_loans(
    session: Session, filters: LoanFilter, *, offset: int = 0, limit: int = 100
) -> tuple[list[dict[str, Any]], int]:
    """One page of loans matching ``filters``, ordered by id, and how many match in all."""
    base = select(Loan, LoanStateRow).outerjoin(LoanStateRow, LoanStateRow.loan_id == Loan.id)
    statement = _filtered(base, filters).order_by(Loan.id).offset(offset).limit(limit)
    counted = _filtered(
        select(func.count())
        .select_from(Loan)
        .outerjoin(LoanStateRow, LoanStateRow.loan_id == Loan.id),
        filters,
    )
    day = business_date(session)
    loans = [loan_document(loan, state, day) for loan, state in session.execute(statement)]
    return loans, int(session.scalar(counted) or 0)


def schedule_document(session: Session, loan_id: int) -> dict[str, Any]:
    """The loan's installments with their scheduled, paid and unpaid parts."""
    loan = session.get(Loan, loan_id)
    if loan is None:
        raise NotFoundError(f"loan {loan_id} does not exist")
    currency = loan.currency
    rows = session.scalars(
        select(InstallmentRow)
        .where(InstallmentRow.loan_id == loan_id)
        .order_by(InstallmentRow.number)
    )
    installments = []
    for row in rows:
        total = row.principal_minor + row.interest_minor + row.fee_minor + row.penalty_minor
        paid = (
            row.paid_principal_minor
            + row.paid_interest_minor
            + row.paid_fee_minor
            + row.paid_penalty_minor
        )
        installments.append(
            {
                "number": row.number,
                "due_date": row.due_date.isoformat(),
                "principal": amount(row.principal_minor, currency),
                "interest": amount(row.interest_minor, currency),
                "fee": amount(row.fee_minor, currency),
                "penalty": amount(row.penalty_minor, currency),
                "total": amount(total, currency),
                "paid": amount(paid, currency),
                "waived": amount(row.waived_minor, currency),
                "unpaid": amount(row.unpaid_minor, currency),
                "settled_on": row.settled_on.isoformat() if row.settled_on else None,
            }
        )
    return {"loan_id": loan_id, "currency": currency, "installments": installments}


def journal_document(session: Session, loan_id: int) -> dict[str, Any]:
    """The loan's events in booking order, as recorded."""
    if session.get(Loan, loan_id) is None:
        raise NotFoundError(f"loan {loan_id} does not exist")
    rows = session.scalars(
        select(JournalEntry).where(JournalEntry.loan_id == loan_id).order_by(JournalEntry.sequence)
    )
    return {
        "loan_id": loan_id,
        "events": [
            {
                "event_id": row.event_id,
                "sequence": row.sequence,
                "kind": row.kind,
                "value_date": row.value_date.isoformat(),
                "recorded_at": row.recorded_at.isoformat(),
                "actor": row.actor,
                # A charge's payload has a "kind" of its own (late-fee, ...): it must not
                # overwrite the event's kind (charge-applied).
                **{
                    ("charge_kind" if key == "kind" else key): value
                    for key, value in row.payload.items()
                },
            }
            for row in rows
        ],
    }


def borrower_document(
    borrower: Borrower, *, reveal_identity: bool, reveal_phones: bool
) -> dict[str, Any]:
    """A borrower; the national ID masked unless ``reveal_identity``, and every phone number
    (the borrower's and an enterprise's contact people's) masked unless ``reveal_phones``."""
    capital = (
        amount(borrower.registered_capital_minor, borrower.registered_capital_currency)
        if borrower.registered_capital_minor is not None and borrower.registered_capital_currency
        else None
    )
    dead_since = borrower.email_invalid_since
    return {
        "id": borrower.id,
        "kind": borrower.kind,
        "name": borrower.name,
        "national_id": borrower.national_id if reveal_identity else mask(borrower.national_id),
        "phones": list(borrower.phones) if reveal_phones else [mask(p) for p in borrower.phones],
        "email": borrower.email,
        "address": borrower.address,
        "time_zone": borrower.time_zone,
        "locale": borrower.locale,
        "preferred_channels": list(borrower.preferred_channels),
        "consents": dict(borrower.consents),
        "opt_outs": list(borrower.opt_outs),
        "email_invalid_since": None if dead_since is None else dead_since.isoformat(),
        "industry": borrower.industry,
        "registered_capital": capital,
        "registered_capital_currency": borrower.registered_capital_currency,
        "contacts": [
            {**contact, "phone": mask(contact["phone"])}
            if not reveal_phones and isinstance(contact.get("phone"), str)
            else contact
            for contact in borrower.contacts
        ],
        "created_at": borrower.created_at.isoformat(),
    }


def get_borrower(session: Session, borrower_id: int, *, reveal: bool) -> dict[str, Any]:
    """The document of borrower ``borrower_id``; raises NotFoundError."""
    borrower = session.get(Borrower, borrower_id)
    if borrower is None:
        raise NotFoundError(f"borrower {borrower_id} does not exist")
    return borrower_document(borrower, reveal_identity=reveal, reveal_phones=reveal)


def product_document(product: Product) -> dict[str, Any]:
    """A product and its configuration document."""
    return {
        "id": product.id,
        "code": product.code,
        "version": product.version,
        "name": product.name,
        "currency": product.currency,
        "config": product.config,
        "created_at": product.created_at.isoformat(),
    }
