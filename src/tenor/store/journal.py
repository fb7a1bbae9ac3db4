"""The event journal and its projections: the only place loan events are written.

Every write goes through :func:`append`: in one transaction it takes the loan (a row lock on
PostgreSQL; a version check elsewhere), replays an idempotent request, folds the journal with
the new event through ``tenor.core`` (which refuses an event that cannot happen), inserts the
event and rewrites the loan's projections. A refused event leaves nothing behind.

Posting is the hot path, so a process keeps each loan's last fold (:class:`_Kept`): while the
journal's last event, read under the lock, is the one that fold ends with, the journal is
neither read nor replayed, and the new event is applied to the kept fold alone
(:meth:`tenor.core.account.Folded.with_event`). On PostgreSQL a single request's append runs
on a psycopg connection of its own pool in two round trips (:func:`_append_postgres`); batch
writers append in their own transaction through :func:`append_in`, on SQLAlchemy.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import psycopg
from psycopg.pq.abc import PGresult
from sqlalchemy import (
    ARRAY,
    Integer,
    Table,
    Text,
    any_,
    bindparam,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from tenor.audit.log import INSERT_EVENT_AND_LEAF, event_statement_values, insert_event
from tenor.core.account import (
    AccountRules,
    Folded,
    InstallmentState,
    LoanEvent,
    LoanState,
    fold,
    fold_journal,
)
from tenor.core.delinquency import (
    DelinquencyPolicy,
    DelinquencyStatus,
    UnpaidInstallment,
    assess,
)
from tenor.core.errors import DomainError
from tenor.core.restructure import under_watch
from tenor.products import ProductConfig
from tenor.store.codec import EVENT_KINDS, event_from_record, event_payload, terms_from_json
from tenor.store.database import (
    Database,
    PreparedStatement,
    connection_lost,
    is_postgres,
    run_script,
)
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
        # As text: the cache of validated products is keyed by it (:func:`_product`).
        sql_cast(Product.config, Text),
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


_LAST_EVENT = (
    select(_JOURNAL.c.event_id, _JOURNAL.c.sequence)
    .where(_JOURNAL.c.loan_id == bindparam("loan_id"))
    .order_by(_JOURNAL.c.sequence.desc())
    .limit(1)
)


# The statements of :func:`_append_postgres`, prepared once per connection.
_PG_LOAN_LOCKED = PreparedStatement.of("tenor_loan_locked", _LOAN_LOCKED)
_PG_LAST_EVENT = PreparedStatement.of("tenor_last_event", _LAST_EVENT)
_PG_EVENTS = PreparedStatement.of("tenor_events", _EVENTS)
_PG_INSERT_EVENT = PreparedStatement.of("tenor_insert_event", INSERT_EVENT_AND_LEAF)
_PG_SET_STATUS = PreparedStatement.of("tenor_set_status", _SET_STATUS)
_PG_UPDATE_INSTALLMENT = PreparedStatement.of("tenor_update_installment", _UPDATE_INSTALLMENT)
_PG_UPDATE_STATE = PreparedStatement.of("tenor_update_state", _UPDATE_STATE)
_PG_INSERT_INSTALLMENT = PreparedStatement.of(
    "tenor_insert_installment",
    insert(_INSTALLMENTS).values(
        {column.name: bindparam(column.name) for column in _INSTALLMENTS.c}
    ),
)
_PG_INSERT_STATE = PreparedStatement.of(
    "tenor_insert_state",
    insert(_STATES).values({column.name: bindparam(column.name) for column in _STATES.c}),
)
_PG_DELETE_INSTALLMENTS = PreparedStatement.of(
    "tenor_delete_installments",
    delete(_INSTALLMENTS).where(_INSTALLMENTS.c.loan_id == bindparam("loan_id")),
)
_PG_DELETE_STATE = PreparedStatement.of(
    "tenor_delete_state", delete(_STATES).where(_STATES.c.loan_id == bindparam("loan_id"))
)
_PG_DELETE_GONE = PreparedStatement.of(
    "tenor_delete_gone",
    delete(_INSTALLMENTS).where(
        _INSTALLMENTS.c.loan_id == bindparam("loan_id"),
        _INSTALLMENTS.c.number == any_(bindparam("numbers", type_=ARRAY(Integer))),
    ),
)
_PG_SETUP = ";".join(
    statement.prepare
    for statement in (
        _PG_LOAN_LOCKED,
        _PG_LAST_EVENT,
        _PG_EVENTS,
        _PG_INSERT_EVENT,
        _PG_SET_STATUS,
        _PG_UPDATE_INSTALLMENT,
        _PG_UPDATE_STATE,
        _PG_INSERT_INSTALLMENT,
        _PG_INSERT_STATE,
        _PG_DELETE_INSTALLMENTS,
        _PG_DELETE_STATE,
        _PG_DELETE_GONE,
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
    #: The product's account rules and delinquency policy, made once with the product.
    rules: AccountRules
    policy: DelinquencyPolicy


_PRODUCTS: dict[str, tuple[ProductConfig, AccountRules, DelinquencyPolicy]] = {}


def product_config(document: dict[str, Any]) -> ProductConfig:
    """The validated product of a stored document, validated once per process.

    Product rows never change (a new version is a new row), so the document's text is a
    safe key; it keeps pydantic off the path of every payment.
    """
    return _product(json.dumps(document, sort_keys=True, separators=(",", ":")))[0]


def _product(document: str) -> tuple[ProductConfig, AccountRules, DelinquencyPolicy]:
    """The product of a stored document's JSON text, with its rules, made once per process."""
    product = _PRODUCTS.get(document)
    if product is None:
        if len(_PRODUCTS) > 1024:
            _PRODUCTS.clear()
        config = ProductConfig.model_validate(json.loads(document))
        product = _PRODUCTS[document] = (
            config,
            config.account_rules(),
            config.delinquency_policy(),
        )
    return product


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
    return _book(tuple(row))


def _book(row: tuple[Any, ...]) -> LoanBook:
    """A :class:`LoanBook` from a row of :data:`_LOAN`."""
    *columns, document, day = row
    today = dt.date.fromisoformat(day) if day else dt.datetime.now(dt.UTC).date()
    config, rules, policy = _product(document)
    return LoanBook(LoanRecord(*columns), config, today, rules, policy)


def loan_state(session: Session, book: LoanBook, events: Sequence[LoanEvent]) -> LoanState:
    """The fold of ``events`` under the loan's terms and product rules."""
    return fold(terms_from_json(book.loan.terms), events, book.rules)


def delinquency(state: LoanState, product: ProductConfig, day: dt.date) -> DelinquencyStatus:
    """Days past due, bucket, class and stage of a loan state on business date ``day``.

    A restructured loan under watch (:func:`tenor.core.restructure.under_watch`) is at least
    关注 and IFRS 9 stage 2.
    """
    return _assess(state, product.delinquency_policy(), day)


def _assess(state: LoanState, policy: DelinquencyPolicy, day: dt.date) -> DelinquencyStatus:
    # Only installments due before the day count towards days past due and the overdue
    # amount; the rest are left out rather than turned into Money for nothing.
    return assess(
        [
            UnpaidInstallment(item.due_date, item.unpaid)
            for item in state.installments
            if item.due_date < day
        ],
        day,
        policy,
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
    return state_row(loan_id, state, status, day, last_sequence), installment_rows(loan_id, state)


def state_row(
    loan_id: int,
    state: LoanState,
    status: DelinquencyStatus,
    day: dt.date,
    last_sequence: int,
) -> dict[str, Any]:
    """The loan_state row that projects ``state`` on business date ``day``."""
    next_due = state.next_installment(day)
    return {
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


def installment_rows(loan_id: int, state: LoanState) -> list[dict[str, Any]]:
    """The installment rows that project ``state`` (the business date does not change them)."""
    return [_installment_row(loan_id, item) for item in state.installments]


def _installment_row(loan_id: int, item: InstallmentState) -> dict[str, Any]:
    return {
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


def write_projection(
    session: Session,
    book: LoanBook,
    state: LoanState,
    day: dt.date,
    last_sequence: int,
) -> None:
    """Replace the loan's projection with ``state`` as of business date ``day``."""
    loan_id = book.loan.id
    status = _assess(state, book.policy, day)
    state_values, installment_values = projection_rows(loan_id, state, status, day, last_sequence)
    session.execute(delete(InstallmentRow).where(InstallmentRow.loan_id == loan_id))
    session.execute(delete(LoanStateRow).where(LoanStateRow.loan_id == loan_id))
    session.execute(insert(LoanStateRow), [state_values])
    if installment_values:
        session.execute(insert(InstallmentRow), installment_values)


def loan_status(book: LoanBook, state: LoanState) -> str:
    """The loan's lifecycle status once ``state`` holds: application statuses until paid out.

    A loan whose only disbursement was reversed is approved again, ready to be paid out.
    """
    if state.disbursed:
        return state.status.value
    if book.loan.status in ("pending", "approved", "rejected"):
        return book.loan.status
    return "approved"


@dataclass(frozen=True, slots=True)
class _Kept:
    """A loan's journal as its last append in this process left it: folded, and projected."""

    last_event_id: str
    last_sequence: int
    terms: dict[str, Any]
    product_id: int
    folded: Folded
    installments: list[dict[str, Any]]


# The fold and installment rows each loan's last append left, so that the next append to it
# in this process need neither read nor replay its journal. An entry counts only while the
# journal's last event, read under the loan's lock, is the one it ends with (ids are random
# UUIDs, so neither a rolled-back append nor another database can match) and the loan's terms
# and product are the same.
_KEPT: dict[int, _Kept] = {}
_KEPT_LIMIT = 10_000


def _kept(book: LoanBook, last: tuple[str, int] | None) -> _Kept | None:
    kept = _KEPT.get(book.loan.id)
    if (
        kept is None
        or last is None
        or (kept.last_event_id, kept.last_sequence) != last
        or kept.product_id != book.loan.product_id
        or kept.terms != book.loan.terms
    ):
        return None
    return kept


@dataclass(frozen=True, slots=True)
class _Posting:
    """What one append writes: the journal row, and the projection's rows that change."""

    event: LoanEvent
    journal_row: dict[str, Any]
    #: The loan's lifecycle status after the event (``loans.status``).
    status: str
    state_row: dict[str, Any]
    #: Whether the projection is written whole (the loan had no journal before): its rows
    #: deleted, the state row inserted, and every installment row in ``added``.
    whole: bool
    #: Installment rows: changed, new, and the numbers of those no longer in the schedule.
    updated: list[dict[str, Any]]
    added: list[dict[str, Any]]
    gone: list[int]
    after: LoanState


def _posting(
    book: LoanBook,
    last: tuple[str, int] | None,
    load_journal: Callable[[], list[LoanEvent]],
    make_event: EventFactory,
    *,
    idempotency_key: str | None,
    fingerprint: str | None,
    actor: str,
) -> _Posting:
    """The event ``make_event`` builds and everything its append writes, no I/O but
    ``load_journal`` (called only when this process does not hold the loan's journal folded).

    ``last``: the (event id, sequence) of the journal's last event, read under the loan's lock.
    """
    loan_id = book.loan.id
    kept = _kept(book, last)
    events: list[LoanEvent] | None = None
    if kept is not None:
        before = kept.folded
        before_rows: list[dict[str, Any]] | None = kept.installments
        sequence = kept.last_sequence + 1
    else:
        events = load_journal()
        before = fold_journal(terms_from_json(book.loan.terms), events, book.rules)
        before_rows = installment_rows(loan_id, before.state) if events else None
        sequence = max((event.sequence for event in events), default=0) + 1
    event_id = str(uuid.uuid4())
    today = book.business_date
    event = make_event(book, before.state, Slot(event_id, sequence, today))
    after = before.with_event(event)
    if after is None:
        # A backdated event or a reversal: the whole journal folds again.
        events = load_journal() if events is None else events
        after = fold_journal(terms_from_json(book.loan.terms), [*events, event], book.rules)
    # The fold reuses the installments an event leaves unchanged, and so do their rows.
    kept_rows = (
        {}
        if before_rows is None
        else dict(zip(map(id, before.state.installments), before_rows, strict=True))
    )
    after_rows = [
        kept_rows.get(id(item)) or _installment_row(loan_id, item)
        for item in after.state.installments
    ]
    if len(_KEPT) >= _KEPT_LIMIT:
        _KEPT.clear()
    _KEPT[loan_id] = _Kept(
        event_id, sequence, book.loan.terms, book.loan.product_id, after, after_rows
    )
    updated: list[dict[str, Any]] = []
    added: list[dict[str, Any]] = after_rows
    gone: list[int] = []
    if before_rows is not None:
        before_by_number = {row["number"]: row for row in before_rows}
        changed = [row for row in after_rows if before_by_number.get(row["number"]) != row]
        added = [row for row in changed if row["number"] not in before_by_number]
        updated = [row for row in changed if row["number"] in before_by_number]
        numbers = {row["number"] for row in after_rows}
        gone = [number for number in before_by_number if number not in numbers]
    status = _assess(after.state, book.policy, today)
    return _Posting(
        event=event,
        journal_row={
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
        status=loan_status(book, after.state),
        state_row=state_row(loan_id, after.state, status, today, sequence),
        whole=before_rows is None,
        updated=updated,
        added=added,
        gone=gone,
        after=after.state,
    )


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
    postgres = is_postgres(db.engine)
    # The first attempt goes straight for the insert: the unique key on (loan, idempotency
    # key) refuses a repeat, and only then is the earlier request looked up.
    look_first = False
    for _ in range(_RETRIES):
        try:
            if postgres:
                if idempotency_key and look_first:
                    with db.reading() as session:
                        earlier = _replay(session, loan_id, idempotency_key, fingerprint)
                    if earlier is not None:
                        return earlier
                return _append_postgres(
                    db,
                    loan_id,
                    make_event,
                    idempotency_key=idempotency_key,
                    fingerprint=fingerprint,
                    actor=actor,
                )
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
        except (IntegrityError, _VersionMovedError, _StaleConnectionError):
            # Another writer appended to this loan first (the same idempotency key, or the
            # same next sequence), or a pooled connection had gone before anything was
            # written: look again from the start.
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
    connection = session.connection()
    last = connection.execute(_LAST_EVENT, {"loan_id": loan_id}).one_or_none()
    posting = _posting(
        book,
        None if last is None else (last[0], last[1]),
        lambda: load_events(session, loan_id),
        make_event,
        idempotency_key=idempotency_key,
        fingerprint=fingerprint,
        actor=actor,
    )
    # The transparency log queues the event's leaf with the row, in this transaction.
    journal_id = insert_event(connection, posting.journal_row)
    if is_postgres(connection.engine):
        # The row lock taken above already serialises writers to this loan.
        if posting.status != book.loan.status:
            connection.execute(_SET_STATUS, {"b_id": loan_id, "status": posting.status})
    else:
        moved = connection.execute(
            _SET_STATUS_IF_VERSION,
            {"b_id": loan_id, "b_version": book.loan.version, "status": posting.status},
        )
        if moved.rowcount != 1:
            raise _VersionMovedError
    if posting.whole:
        connection.execute(delete(_INSTALLMENTS).where(_INSTALLMENTS.c.loan_id == loan_id))
        connection.execute(delete(_STATES).where(_STATES.c.loan_id == loan_id))
        connection.execute(insert(_STATES), [posting.state_row])
    else:
        if posting.gone:
            connection.execute(
                delete(_INSTALLMENTS).where(
                    _INSTALLMENTS.c.loan_id == loan_id, _INSTALLMENTS.c.number.in_(posting.gone)
                )
            )
        if posting.updated:
            connection.execute(_UPDATE_INSTALLMENT, [_keyed(row) for row in posting.updated])
        connection.execute(_UPDATE_STATE, {**posting.state_row, "b_loan_id": loan_id})
    if posting.added:
        connection.execute(insert(_INSTALLMENTS), posting.added)
    return Appended(posting.event.event_id, journal_id, replayed=False, state=posting.after)


def _keyed(row: dict[str, Any]) -> dict[str, Any]:
    """An installment row with the keys :data:`_UPDATE_INSTALLMENT` finds it by."""
    return {**row, "b_loan_id": row["loan_id"], "b_number": row["number"]}


class _StaleConnectionError(Exception):
    """A pooled connection had gone (a server restart) before the append wrote anything."""


def _append_postgres(
    db: Database,
    loan_id: int,
    make_event: EventFactory,
    *,
    idempotency_key: str | None,
    fingerprint: str | None,
    actor: str,
) -> Appended:
    """:func:`append_in` on PostgreSQL in two round trips, on a psycopg connection.

    The statements are :func:`append_in`'s, each round trip one script in the simple query
    protocol (as ``pgbench`` sends its own): ``BEGIN``, the loan's lock and its journal's last
    event; then the event and its leaf, the projection's changed rows and ``COMMIT``. The
    driver's per-statement work was most of a payment's cost. Each statement is prepared
    once per connection and run by ``EXECUTE`` with its values written in as literals
    (:class:`tenor.store.database.PreparedStatement`; libpq quotes strings); a failing
    statement stops the script, and the transaction is rolled back.

    A connection found dead in the first round trip had died idle in the pool:
    :class:`_StaleConnectionError` asks for a new start. Driver errors come out as
    SQLAlchemy's (an ``IntegrityError`` for a unique key), as from every other path.
    """
    # Only a connection lost while reading asks for a new start: nothing was written yet.
    reading = False
    try:
        with db.postgres_connection(_PG_SETUP) as connection:
            escaping = psycopg.pq.Escaping(connection.pgconn)

            def bind(statement: PreparedStatement, values: dict[str, Any]) -> str:
                return statement.execute(values, escaping)

            reading = True
            _, locked, last = run_script(
                connection,
                f"BEGIN;{bind(_PG_LOAN_LOCKED, {'loan_id': loan_id})};"
                f"{bind(_PG_LAST_EVENT, {'loan_id': loan_id})}",
            )
            if not locked.ntuples:
                raise NotFoundError(f"loan {loan_id} does not exist")
            book = _book(_loan_row(locked))
            last_row = _last_event(last)

            def load_journal() -> list[LoanEvent]:
                cursor = psycopg.ClientCursor(connection)
                cursor.execute(bind(_PG_EVENTS, {"loan_id": loan_id}))
                return [event_from_record(*record) for record in cursor.fetchall()]

            posting = _posting(
                book,
                last_row,
                load_journal,
                make_event,
                idempotency_key=idempotency_key,
                fingerprint=fingerprint,
                actor=actor,
            )
            reading = False
            # The insert comes first: its result, the journal row's id, is the script's first.
            script = [bind(_PG_INSERT_EVENT, event_statement_values(posting.journal_row))]
            if posting.status != book.loan.status:
                script.append(bind(_PG_SET_STATUS, {"b_id": loan_id, "status": posting.status}))
            if posting.whole:
                script.append(bind(_PG_DELETE_INSTALLMENTS, {"loan_id": loan_id}))
                script.append(bind(_PG_DELETE_STATE, {"loan_id": loan_id}))
                script.append(bind(_PG_INSERT_STATE, posting.state_row))
            else:
                if posting.gone:
                    script.append(
                        bind(_PG_DELETE_GONE, {"loan_id": loan_id, "numbers": posting.gone})
                    )
                script.extend(
                    bind(_PG_UPDATE_INSTALLMENT, _keyed(item)) for item in posting.updated
                )
                script.append(bind(_PG_UPDATE_STATE, {**posting.state_row, "b_loan_id": loan_id}))
            script.extend(bind(_PG_INSERT_INSTALLMENT, item) for item in posting.added)
            script.append("COMMIT")
            journal_id = _int(run_script(connection, ";".join(script))[0].get_value(0, 0))
    except psycopg.Error as error:
        if reading and connection_lost(error):
            raise _StaleConnectionError from error
        raise DBAPIError.instance(None, None, error, psycopg.Error, hide_parameters=True) from error
    return Appended(posting.event.event_id, journal_id, replayed=False, state=posting.after)


def _int(value: bytes | None) -> int:
    if value is None:
        raise LookupError("a statement of the payment returned no value")
    return int(value)


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode()


def _loan_row(result: PGresult) -> tuple[Any, ...]:
    """The row of :data:`_LOAN` in ``result`` (as text) with its values typed, for :func:`_book`."""
    value = result.get_value
    return (
        _int(value(0, 0)),
        _int(value(0, 1)),
        _int(value(0, 2)),
        _text(value(0, 3)),
        _int(value(0, 4)),
        json.loads(value(0, 5) or b"null"),
        _text(value(0, 6)),
        _int(value(0, 7)),
        _text(value(0, 8)),
        _text(value(0, 9)),
    )


def _last_event(result: PGresult) -> tuple[str, int] | None:
    """The (event id, sequence) of :data:`_LAST_EVENT` in ``result``, if the loan has events."""
    if not result.ntuples:
        return None
    event_id = _text(result.get_value(0, 0))
    assert event_id is not None
    return event_id, _int(result.get_value(0, 1))


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
