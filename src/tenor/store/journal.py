"""The event journal and its projections: the only place loan events are written.

Every write goes through :func:`append`: in one transaction it takes the loan (a row lock on
PostgreSQL; a version check elsewhere), replays an idempotent request, folds the journal with
the new event through ``tenor.core`` (which refuses an event that cannot happen), inserts the
event and rewrites the loan's projections. A refused event leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tenor.audit.log import insert_event
from tenor.core.account import LoanEvent, LoanState, fold
from tenor.core.delinquency import DelinquencyStatus, UnpaidInstallment, assess
from tenor.core.errors import DomainError
from tenor.core.restructure import under_watch
from tenor.products import ProductConfig
from tenor.store.codec import EVENT_KINDS, event_from_record, event_payload, terms_from_json
from tenor.store.database import Database, is_postgres
from tenor.store.models import (
    InstallmentRow,
    JournalEntry,
    Loan,
    LoanStateRow,
    Product,
    Setting,
    utc_now,
)


class NotFoundError(DomainError):
    """A loan, borrower, product or event that does not exist (or is not yours to see)."""

    code = "not_found"


class IdempotencyConflictError(DomainError):
    """An idempotency key reused with a different request."""

    code = "idempotency_conflict"


class LoanNotActiveError(DomainError):
    """The loan is not in a state that accepts this event."""

    code = "loan_not_active"


class ConcurrentUpdateError(DomainError):
    """The loan kept changing under us; the request can be retried."""

    code = "concurrent_update"


class _VersionMovedError(Exception):
    """Another writer committed to the loan between our read and our write."""


BUSINESS_DATE = "business_date"
_RETRIES = 20


def business_date(session: Session) -> dt.date:
    """The open business date of the book; until one is set, today's date (UTC)."""
    row = session.get(Setting, BUSINESS_DATE)
    if row is None:
        return dt.datetime.now(dt.UTC).date()
    return dt.date.fromisoformat(row.value)


def set_business_date(session: Session, day: dt.date) -> None:
    """Move the open business date to ``day``."""
    row = session.get(Setting, BUSINESS_DATE)
    if row is None:
        session.add(Setting(name=BUSINESS_DATE, value=day.isoformat()))
    else:
        row.value = day.isoformat()


def request_fingerprint(request: Any) -> str:
    """A stable hash of a request body, to tell a retry from a different request."""
    text = json.dumps(request, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


# The statements of a payment's transaction are built once: building them per request cost
# more than running them.
_JOURNAL = cast(Table, JournalEntry.__table__)
_EVENTS = (
    select(
        _JOURNAL.c.kind,
        _JOURNAL.c.event_id,
        _JOURNAL.c.sequence,
        _JOURNAL.c.value_date,
        _JOURNAL.c.payload,
    )
    .where(_JOURNAL.c.loan_id == bindparam("loan_id"))
    .order_by(_JOURNAL.c.sequence)
)
_LOANS = cast(Table, Loan.__table__)
_LOAN = (
    select(
        _LOANS.c.id,
        _LOANS.c.borrower_id,
        _LOANS.c.product_id,
        _LOANS.c.currency,
        _LOANS.c.principal_minor,
        _LOANS.c.terms,
        _LOANS.c.status,
        _LOANS.c.version,
        Product.config,
        Setting.value,
    )
    .join(Product, Product.id == _LOANS.c.product_id)
    .outerjoin(Setting, Setting.name == BUSINESS_DATE)
    .where(_LOANS.c.id == bindparam("loan_id"))
)
_LOAN_LOCKED = _LOAN.with_for_update(of=_LOANS)
_SET_STATUS = (
    update(_LOANS).where(_LOANS.c.id == bindparam("b_id")).values(status=bindparam("status"))
)
_SET_STATUS_IF_VERSION = (
    update(_LOANS)
    .where(_LOANS.c.id == bindparam("b_id"), _LOANS.c.version == bindparam("b_version"))
    .values(version=_LOANS.c.version + 1, status=bindparam("status"))
)
_INSTALLMENTS = cast(Table, InstallmentRow.__table__)
_UPDATE_INSTALLMENT = (
    update(_INSTALLMENTS)
    .where(
        _INSTALLMENTS.c.loan_id == bindparam("b_loan_id"),
        _INSTALLMENTS.c.number == bindparam("b_number"),
    )
    .values(
        {
            column.name: bindparam(column.name)
            for column in _INSTALLMENTS.c
            if column.name not in ("loan_id", "number")
        }
    )
)
_STATES = cast(Table, LoanStateRow.__table__)
_UPDATE_STATE = (
    update(_STATES)
    .where(_STATES.c.loan_id == bindparam("b_loan_id"))
    .values(
        {column.name: bindparam(column.name) for column in _STATES.c if column.name != "loan_id"}
    )
)


def load_events(session: Session, loan_id: int) -> list[LoanEvent]:
    """The loan's journal as core events, in booking order."""
    rows = session.connection().execute(_EVENTS, {"loan_id": loan_id})
    return [event_from_record(*row) for row in rows]


@dataclass(frozen=True, slots=True)
class LoanRecord:
    """The columns of a loan that writing to its journal needs."""

    id: int
    borrower_id: int
    product_id: int
    currency: str
    principal_minor: int
    terms: dict[str, Any]
    status: str
    version: int


@dataclass(frozen=True, slots=True)
class LoanBook:
    """A loan with what its projections are computed from, and the open business date."""

    loan: LoanRecord
    product: ProductConfig
    business_date: dt.date


_PRODUCTS: dict[str, ProductConfig] = {}


def product_config(document: dict[str, Any]) -> ProductConfig:
    """The validated product of a stored document, validated once per process.

    Product rows never change (a new version is a new row), so the document's text is a
    safe key; it keeps pydantic off the path of every payment.
    """
    key = json.dumps(document, sort_keys=True, separators=(",", ":"))
    config = _PRODUCTS.get(key)
    if config is None:
        if len(_PRODUCTS) > 1024:
            _PRODUCTS.clear()
        config = _PRODUCTS[key] = ProductConfig.model_validate(document)
    return config


def load_loan(session: Session, loan_id: int, *, lock: bool = False) -> LoanBook:
    """The loan, its product and the business date in one query; ``lock``: a row lock on
    PostgreSQL (only the loan's row, not its product's)."""
    # Core statements on the connection skip the ORM's autoflush: send pending changes
    # (a loan approved earlier in the same transaction) first.
    session.flush()
    connection = session.connection()
    statement = _LOAN_LOCKED if lock and is_postgres(connection.engine) else _LOAN
    row = connection.execute(statement, {"loan_id": loan_id}).one_or_none()
    if row is None:
        raise NotFoundError(f"loan {loan_id} does not exist")
    *columns, document, day = row
    today = dt.date.fromisoformat(day) if day else dt.datetime.now(dt.UTC).date()
    return LoanBook(LoanRecord(*columns), product_config(document), today)


def loan_state(session: Session, book: LoanBook, events: Sequence[LoanEvent]) -> LoanState:
    """The fold of ``events`` under the loan's terms and product rules."""
    return fold(terms_from_json(book.loan.terms), events, book.product.account_rules())


def delinquency(state: LoanState, product: ProductConfig, day: dt.date) -> DelinquencyStatus:
    """Days past due, bucket, class and stage of a loan state on business date ``day``.

    A restructured loan under watch (:func:`tenor.core.restructure.under_watch`) is at least
    关注 and IFRS 9 stage 2.
    """
    return assess(
        [UnpaidInstallment(item.due_date, item.unpaid) for item in state.installments],
        day,
        product.delinquency_policy(),
        restructured=under_watch(state, day),
        written_off=state.written_off_on is not None,
    )


def projection_rows(
    loan_id: int,
    state: LoanState,
    status: DelinquencyStatus,
    day: dt.date,
    last_sequence: int,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The loan_state row and installment rows that project ``state``."""
    next_due = state.next_installment(day)
    state_row = {
        "loan_id": loan_id,
        "status": state.status.value,
        "currency": state.currency,
        "disbursed_minor": state.disbursed.minor,
        "repaid_minor": state.repaid.minor,
        "outstanding_principal_minor": state.outstanding_principal.minor,
        "outstanding_interest_minor": state.outstanding_interest.minor,
        "outstanding_fees_minor": state.outstanding_fees.minor,
        "outstanding_penalties_minor": state.outstanding_penalties.minor,
        "arrears_minor": status.overdue_amount.minor,
        "credit_balance_minor": state.credit_balance.minor,
        "written_off_minor": state.written_off.minor,
        "recovered_minor": state.recovered.minor,
        "days_past_due": status.days_past_due,
        "bucket": status.bucket.name,
        "loan_class": int(status.loan_class),
        "stage": int(status.stage),
        "next_due_date": next_due.due_date if next_due else None,
        "business_date": day,
        "last_sequence": last_sequence,
    }
    installment_rows = [
        {
            "loan_id": loan_id,
            "number": item.number,
            "start_date": item.start_date,
            "due_date": item.due_date,
            "principal_minor": item.principal.minor,
            "interest_minor": item.interest.minor,
            "fee_minor": item.fee.minor,
            "penalty_minor": item.penalty.minor,
            "paid_principal_minor": item.paid_principal.minor,
            "paid_interest_minor": item.paid_interest.minor,
            "paid_fee_minor": item.paid_fee.minor,
            "paid_penalty_minor": item.paid_penalty.minor,
            "waived_minor": item.waived_minor,
            "unpaid_minor": item.unpaid_minor,
            "settled_on": item.settled_on,
        }
        for item in state.installments
    ]
    return state_row, installment_rows


def write_projection(
    session: Session,
    book: LoanBook,
    state: LoanState,
    day: dt.date,
    last_sequence: int,
    previous: LoanState | None = None,
) -> None:
    """Project ``state`` as of business date ``day``.

    With ``previous`` (the state the stored projection shows) only the rows that changed are
    written, which is what keeps a payment's transaction small; without it the loan's
    projection is replaced whole.
    """
    loan_id = book.loan.id
    status = delinquency(state, book.product, day)
    state_row, installment_rows = projection_rows(loan_id, state, status, day, last_sequence)
    if previous is None:
        session.execute(delete(InstallmentRow).where(InstallmentRow.loan_id == loan_id))
        session.execute(delete(LoanStateRow).where(LoanStateRow.loan_id == loan_id))
        session.execute(insert(LoanStateRow), [state_row])
        if installment_rows:
            session.execute(insert(InstallmentRow), installment_rows)
        return
    before_status = delinquency(previous, book.product, day)
    _, before_rows = projection_rows(loan_id, previous, before_status, day, last_sequence)
    before_by_number = {row["number"]: row for row in before_rows}
    changed = [row for row in installment_rows if before_by_number.get(row["number"]) != row]
    added = [row for row in changed if row["number"] not in before_by_number]
    updated = [row for row in changed if row["number"] in before_by_number]
    numbers = {row["number"] for row in installment_rows}
    gone = [number for number in before_by_number if number not in numbers]
    if gone:
        session.execute(
            delete(InstallmentRow).where(
                InstallmentRow.loan_id == loan_id, InstallmentRow.number.in_(gone)
            )
        )
    connection = session.connection()
    if updated:
        connection.execute(
            _UPDATE_INSTALLMENT,
            [{**row, "b_loan_id": loan_id, "b_number": row["number"]} for row in updated],
        )
    if added:
        connection.execute(insert(_INSTALLMENTS), added)
    connection.execute(_UPDATE_STATE, {**state_row, "b_loan_id": loan_id})


def loan_status(book: LoanBook, state: LoanState) -> str:
    """The loan's lifecycle status once ``state`` holds: application statuses until paid out.

    A loan whose only disbursement was reversed is approved again, ready to be paid out.
    """
    if state.disbursed:
        return state.status.value
    if book.loan.status in ("pending", "approved", "rejected"):
        return book.loan.status
    return "approved"


# The state each loan's last append left, so that the next append to it in this process
# need not fold the journal twice. An entry counts only while the journal read from the
# database ends with the same event (ids are random UUIDs, so neither a rolled-back append
# nor another database can match) and the loan's terms are the same.
_FOLDED: dict[int, tuple[str, int, dict[str, Any], LoanState]] = {}
_FOLDED_LIMIT = 10_000


def _last_folded(book: LoanBook, events: Sequence[LoanEvent]) -> LoanState | None:
    remembered = _FOLDED.get(book.loan.id)
    if remembered is None or not events:
        return None
    last_event_id, count, terms, state = remembered
    if events[-1].event_id != last_event_id or len(events) != count or terms != book.loan.terms:
        return None
    return state


def _remember_folded(book: LoanBook, event: LoanEvent, count: int, state: LoanState) -> None:
    if len(_FOLDED) >= _FOLDED_LIMIT:
        _FOLDED.clear()
    _FOLDED[book.loan.id] = (event.event_id, count, book.loan.terms, state)


@dataclass(frozen=True, slots=True)
class Appended:
    """The outcome of an append: the event, and whether it was a replay of an earlier request."""

    event_id: str
    journal_id: int
    replayed: bool
    state: LoanState


@dataclass(frozen=True, slots=True)
class Slot:
    """Where a new event goes: its id, its booking sequence and the open business date."""

    event_id: str
    sequence: int
    business_date: dt.date


EventFactory = Callable[[LoanBook, LoanState, Slot], LoanEvent]


def append(
    db: Database,
    loan_id: int,
    make_event: EventFactory,
    *,
    idempotency_key: str | None = None,
    request: Any = None,
    actor: str = "system",
) -> Appended:
    """Append the event ``make_event`` builds to a loan's journal and reproject the loan.

    ``make_event(book, state_before, slot)`` builds the event; it raises a DomainError to refuse.
    With an ``idempotency_key``, the same key and request return the first result again, and
    the same key with another request raises :class:`IdempotencyConflictError`.
    """
    fingerprint = request_fingerprint(request) if idempotency_key else None
    # The first attempt goes straight for the insert: the unique key on (loan, idempotency
    # key) refuses a repeat, and only then is the earlier request looked up.
    look_first = False
    for _ in range(_RETRIES):
        try:
            with db.transaction() as session:
                if idempotency_key and look_first:
                    earlier = _replay(session, loan_id, idempotency_key, fingerprint)
                    if earlier is not None:
                        return earlier
                return append_in(
                    session,
                    loan_id,
                    make_event,
                    idempotency_key=idempotency_key,
                    fingerprint=fingerprint,
                    actor=actor,
                )
        except (IntegrityError, _VersionMovedError):
            # Another writer appended to this loan first (the same idempotency key, or the
            # same next sequence): look again from the start.
            look_first = True
            continue
        except DomainError:
            # Going straight for the insert, a repeat is refused by the domain before the
            # unique key sees it when its event can no longer happen (a reversal sent twice,
            # a payoff sent again once the loan closed): it is still a replay.
            if idempotency_key and not look_first:
                with db.reading() as session:
                    earlier = _replay(session, loan_id, idempotency_key, fingerprint)
                if earlier is not None:
                    return earlier
            raise
    raise ConcurrentUpdateError(f"loan {loan_id} is changing too fast; retry the request")


def _replay(session: Session, loan_id: int, key: str, fingerprint: str | None) -> Appended | None:
    row = session.scalars(
        select(JournalEntry).where(
            JournalEntry.loan_id == loan_id, JournalEntry.idempotency_key == key
        )
    ).one_or_none()
    if row is None:
        return None
    if row.request_hash != fingerprint:
        raise IdempotencyConflictError(
            f"idempotency key {key!r} was already used for a different request on loan {loan_id}"
        )
    book = load_loan(session, loan_id)
    state = loan_state(session, book, load_events(session, loan_id))
    return Appended(row.event_id, row.id, replayed=True, state=state)


def append_in(
    session: Session,
    loan_id: int,
    make_event: EventFactory,
    *,
    idempotency_key: str | None = None,
    fingerprint: str | None = None,
    actor: str = "system",
) -> Appended:
    """Append one event inside the caller's transaction (batch writers such as the demo).

    The caller owns the transaction: a DomainError or a concurrent writer's IntegrityError
    must roll it back. Prefer :func:`append` for single requests.
    """
    book = load_loan(session, loan_id, lock=True)
    events = load_events(session, loan_id)
    before = _last_folded(book, events) or loan_state(session, book, events)
    sequence = max((event.sequence for event in events), default=0) + 1
    event_id = str(uuid.uuid4())
    today = book.business_date
    event = make_event(book, before, Slot(event_id, sequence, today))
    after = loan_state(session, book, [*events, event])
    _remember_folded(book, event, len(events) + 1, after)
    connection = session.connection()
    # The transparency log queues the event's leaf with the row, in this transaction.
    journal_id = insert_event(
        connection,
        {
            "event_id": event_id,
            "loan_id": loan_id,
            "sequence": sequence,
            "kind": EVENT_KINDS[type(event)],
            "value_date": event.value_date,
            "payload": event_payload(event),
            "idempotency_key": idempotency_key,
            "request_hash": fingerprint,
            "actor": actor,
            "recorded_at": utc_now(),
        },
    )
    status = loan_status(book, after)
    if is_postgres(connection.engine):
        # The row lock taken above already serialises writers to this loan.
        if status != book.loan.status:
            connection.execute(_SET_STATUS, {"b_id": loan_id, "status": status})
    else:
        moved = connection.execute(
            _SET_STATUS_IF_VERSION,
            {"b_id": loan_id, "b_version": book.loan.version, "status": status},
        )
        if moved.rowcount != 1:
            raise _VersionMovedError
    write_projection(session, book, after, today, sequence, previous=before if events else None)
    return Appended(event_id, journal_id, replayed=False, state=after)


@dataclass(frozen=True, slots=True)
class Rebuilt:
    """What a rebuild found for one loan: the differences between stored and replayed state."""

    loan_id: int
    differences: tuple[str, ...]


def rebuild(session: Session, loan_id: int) -> Rebuilt:
    """Rebuild a loan's projections from its journal and say what differed."""
    book = load_loan(session, loan_id, lock=True)
    events = load_events(session, loan_id)
    day = book.business_date
    state = loan_state(session, book, events)
    stored_state = session.get(LoanStateRow, loan_id)
    stored_installments = session.scalars(
        select(InstallmentRow)
        .where(InstallmentRow.loan_id == loan_id)
        .order_by(InstallmentRow.number)
    ).all()
    last_id = max((event.sequence for event in events), default=0)
    status = delinquency(state, book.product, day)
    wanted_state, wanted_installments = projection_rows(loan_id, state, status, day, last_id)
    differences: list[str] = []
    if stored_state is None:
        if events:
            differences.append("loan_state: missing")
    else:
        for column, value in wanted_state.items():
            if column in ("business_date", "last_sequence"):
                continue
            if getattr(stored_state, column) != value:
                differences.append(
                    f"loan_state.{column}: stored {getattr(stored_state, column)!r}, "
                    f"journal gives {value!r}"
                )
    stored_by_number = {row.number: row for row in stored_installments}
    for wanted in wanted_installments:
        row = stored_by_number.pop(wanted["number"], None)
        if row is None:
            differences.append(f"installment {wanted['number']}: missing")
            continue
        for column, value in wanted.items():
            if getattr(row, column) != value:
                differences.append(
                    f"installment {wanted['number']}.{column}: stored {getattr(row, column)!r}, "
                    f"journal gives {value!r}"
                )
    differences.extend(f"installment {number}: not in the journal" for number in stored_by_number)
    lifecycle = loan_status(book, state)
    if lifecycle != book.loan.status:
        differences.append(
            f"loans.status: stored {book.loan.status!r}, journal gives {lifecycle!r}"
        )
        session.execute(update(Loan).where(Loan.id == loan_id).values(status=lifecycle))
    if events:
        write_projection(session, book, state, day, last_id)
    return Rebuilt(loan_id, tuple(differences))
