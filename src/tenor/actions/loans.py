"""Servicing actions on loans: the writes the API, the CLI and the demo call.

Each action validates what the core cannot know (the business date, the loan's lifecycle) and
appends one event through :func:`tenor.store.journal.append`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from tenor.core.account import (
    ChargeApplied,
    ChargeKind,
    Disbursed,
    LoanEvent,
    LoanState,
    Recovered,
    RepaymentReceived,
    Reversed,
    Status,
    Waived,
    WrittenOff,
)
from tenor.core.allocation import Component
from tenor.core.errors import DomainError, InvalidArgumentError
from tenor.core.money import Money
from tenor.core.schedule import Milestone, build_schedule
from tenor.products import ProductConfig
from tenor.store.codec import terms_to_json
from tenor.store.database import Database
from tenor.store.journal import (
    Appended,
    EventFactory,
    LoanBook,
    LoanNotActiveError,
    NotFoundError,
    Slot,
    append,
)
from tenor.store.models import Borrower, Loan, Product, utc_now


class ValueDateError(DomainError):
    """A value date the loan cannot take (in the future, or before the money went out)."""

    code = "invalid_value_date"


def create_loan(
    session: Session,
    *,
    borrower_id: int,
    product_id: int,
    principal: Money,
    term: int,
    start: dt.date,
    annual_rate_percent: Decimal | None = None,
    first_due: dt.date | None = None,
    milestones: tuple[Milestone, ...] = (),
    stepped_principal: tuple[Money, ...] = (),
) -> Loan:
    """A new loan application, pending approval, with terms the product allows."""
    if session.get(Borrower, borrower_id) is None:
        raise NotFoundError(f"borrower {borrower_id} does not exist")
    product = session.get(Product, product_id)
    if product is None:
        raise NotFoundError(f"product {product_id} does not exist")
    config = ProductConfig.model_validate(product.config)
    try:
        terms = config.loan_terms(
            principal=principal,
            term=term,
            start=start,
            annual_rate_percent=annual_rate_percent,
            first_due=first_due,
            milestones=milestones,
            stepped_principal=stepped_principal,
        )
    except ValueError as error:
        if isinstance(error, DomainError):
            raise
        raise InvalidArgumentError(str(error)) from None
    build_schedule(terms)  # refuses terms that cannot make a schedule, before anything is kept
    loan = Loan(
        borrower_id=borrower_id,
        product_id=product_id,
        currency=principal.currency,
        principal_minor=principal.minor,
        terms=terms_to_json(terms),
        status="pending",
    )
    session.add(loan)
    session.flush()
    return loan


def approve_loan(session: Session, loan_id: int) -> Loan:
    """Approve a pending loan so that it can be disbursed."""
    loan = session.get(Loan, loan_id)
    if loan is None:
        raise NotFoundError(f"loan {loan_id} does not exist")
    if loan.status != "pending":
        raise LoanNotActiveError(
            f"loan {loan_id} is {loan.status}; only a pending loan is approved"
        )
    loan.status = "approved"
    loan.approved_at = utc_now()
    return loan


class CurrencyError(DomainError):
    """An amount in a currency the loan is not in."""

    code = "currency_mismatch"


class AmountNotPositiveError(DomainError):
    """A zero or negative amount where money must move."""

    code = "amount_not_positive"


def _check_amount(book: LoanBook, amount: Money) -> None:
    if amount.currency != book.loan.currency:
        raise CurrencyError(
            f"amount is in {amount.currency}; loan {book.loan.id} is in {book.loan.currency}"
        )
    if not amount.is_positive:
        raise AmountNotPositiveError(f"amount must be greater than zero, got {amount}")


def _check_dates(state: LoanState, value_date: dt.date, slot: Slot) -> None:
    if value_date > slot.business_date:
        raise ValueDateError(
            f"value date {value_date} is after the business date {slot.business_date}"
        )
    if state.disbursed_on is not None and value_date < state.disbursed_on:
        raise ValueDateError(
            f"value date {value_date} is before the loan was disbursed on {state.disbursed_on}"
        )


def _active(book: LoanBook, state: LoanState, what: str) -> None:
    if not state.disbursed or state.status in (Status.CLOSED, Status.WRITTEN_OFF):
        status = state.status.value if state.disbursed else book.loan.status
        raise LoanNotActiveError(f"loan {book.loan.id} is {status}; it cannot take {what}")


def disbursement(*, value_date: dt.date, amount: Money | None = None) -> EventFactory:
    """The event :func:`disburse` appends, checked the same way; for batch writers that
    append many events in one transaction with :func:`tenor.store.journal.append_in`."""

    def make(book: LoanBook, state: LoanState, slot: Slot) -> LoanEvent:
        loan = book.loan
        if loan.status not in ("approved", "active", "overpaid"):
            raise LoanNotActiveError(
                f"loan {loan.id} is {loan.status}; only an approved loan is disbursed"
            )
        paying = amount or Money(loan.principal_minor - state.disbursed.minor, loan.currency)
        _check_amount(book, paying)
        if state.disbursed.minor + paying.minor > loan.principal_minor:
            raise InvalidArgumentError(
                f"disbursing {paying} would pay out more than the loan's "
                f"{Money(loan.principal_minor, loan.currency)}"
            )
        _check_dates(state, value_date, slot)
        return Disbursed(
            event_id=slot.event_id, sequence=slot.sequence, value_date=value_date, amount=paying
        )

    return make


def disburse(
    db: Database,
    loan_id: int,
    *,
    value_date: dt.date,
    amount: Money | None = None,
    idempotency_key: str | None = None,
    request: Any = None,
    actor: str = "system",
) -> Appended:
    """Pay out the loan, or one more tranche of it (``amount`` defaults to what is left)."""
    make = disbursement(value_date=value_date, amount=amount)
    return append(db, loan_id, make, idempotency_key=idempotency_key, request=request, actor=actor)


def repayment(
    *,
    amount: Money,
    value_date: dt.date,
    channel: str | None = None,
    external_reference: str | None = None,
) -> EventFactory:
    """The event :func:`post_repayment` appends, checked the same way (see :func:`disbursement`)."""

    def make(book: LoanBook, state: LoanState, slot: Slot) -> LoanEvent:
        _check_amount(book, amount)
        _active(book, state, "a repayment")
        _check_dates(state, value_date, slot)
        return RepaymentReceived(
            event_id=slot.event_id,
            sequence=slot.sequence,
            value_date=value_date,
            amount=amount,
            channel=channel,
            external_reference=external_reference,
        )

    return make


def post_repayment(
    db: Database,
    loan_id: int,
    *,
    amount: Money,
    value_date: dt.date,
    channel: str | None = None,
    external_reference: str | None = None,
    idempotency_key: str | None = None,
    request: Any = None,
    actor: str = "system",
) -> Appended:
    """Record a payment from the borrower, and the channel and reference it came with."""
    make = repayment(
        amount=amount,
        value_date=value_date,
        channel=channel,
        external_reference=external_reference,
    )
    return append(db, loan_id, make, idempotency_key=idempotency_key, request=request, actor=actor)


def charge(
    *, kind: ChargeKind, amount: Money, value_date: dt.date, installment: int | None = None
) -> EventFactory:
    """The event :func:`apply_charge` appends, checked the same way (see :func:`disbursement`)."""

    def make(book: LoanBook, state: LoanState, slot: Slot) -> LoanEvent:
        _check_amount(book, amount)
        _active(book, state, "a charge")
        _check_dates(state, value_date, slot)
        return ChargeApplied(
            event_id=slot.event_id,
            sequence=slot.sequence,
            value_date=value_date,
            kind=kind,
            amount=amount,
            installment=installment,
        )

    return make


def apply_charge(
    db: Database,
    loan_id: int,
    *,
    kind: ChargeKind,
    amount: Money,
    value_date: dt.date,
    installment: int | None = None,
    idempotency_key: str | None = None,
    request: Any = None,
    actor: str = "system",
) -> Appended:
    """Post a late fee, penalty interest or other fee."""
    make = charge(kind=kind, amount=amount, value_date=value_date, installment=installment)
    return append(db, loan_id, make, idempotency_key=idempotency_key, request=request, actor=actor)


def waive(
    db: Database,
    loan_id: int,
    *,
    component: Component,
    amount: Money,
    value_date: dt.date,
    installment: int | None = None,
    idempotency_key: str | None = None,
    request: Any = None,
    actor: str = "system",
) -> Appended:
    """Forgive penalty, fee or interest."""

    def make(book: LoanBook, state: LoanState, slot: Slot) -> LoanEvent:
        _check_amount(book, amount)
        _active(book, state, "a waiver")
        _check_dates(state, value_date, slot)
        return Waived(
            event_id=slot.event_id,
            sequence=slot.sequence,
            value_date=value_date,
            component=component,
            amount=amount,
            installment=installment,
        )

    return append(db, loan_id, make, idempotency_key=idempotency_key, request=request, actor=actor)


def reverse(
    db: Database,
    loan_id: int,
    target_event_id: str,
    *,
    idempotency_key: str | None = None,
    request: Any = None,
    actor: str = "system",
) -> Appended:
    """Reverse one of the loan's events (a bounced payment, a charge posted in error).

    The reversal is booked on the business date; the account re-folds as if the reversed
    event had never been posted.
    """

    def make(book: LoanBook, state: LoanState, slot: Slot) -> LoanEvent:
        return Reversed(
            event_id=slot.event_id,
            sequence=slot.sequence,
            value_date=slot.business_date,
            target=target_event_id,
        )

    return append(db, loan_id, make, idempotency_key=idempotency_key, request=request, actor=actor)


def write_off(
    db: Database, loan_id: int, *, value_date: dt.date, actor: str = "system"
) -> Appended:
    """Write off what the loan still owes."""

    def make(book: LoanBook, state: LoanState, slot: Slot) -> LoanEvent:
        _active(book, state, "a write-off")
        _check_dates(state, value_date, slot)
        return WrittenOff(event_id=slot.event_id, sequence=slot.sequence, value_date=value_date)

    return append(db, loan_id, make, actor=actor)


def recover(
    db: Database,
    loan_id: int,
    *,
    amount: Money,
    value_date: dt.date,
    idempotency_key: str | None = None,
    request: Any = None,
    actor: str = "system",
) -> Appended:
    """Record money recovered after a write-off."""

    def make(book: LoanBook, state: LoanState, slot: Slot) -> LoanEvent:
        _check_amount(book, amount)
        _check_dates(state, value_date, slot)
        return Recovered(
            event_id=slot.event_id, sequence=slot.sequence, value_date=value_date, amount=amount
        )

    return append(db, loan_id, make, idempotency_key=idempotency_key, request=request, actor=actor)
