"""One partition of the book on SQLite or PostgreSQL: read the close's inputs, write its outputs.

A partition is a range of loan ids. :func:`load_partition` reads, for the loans the close
touches in that range, the frames :func:`tenor.batch.step.close_partition` takes; reads are
set-based (one statement per frame, never a loan at a time). :func:`write_partition` writes in
the caller's ONE transaction everything the step decided and the partition's progress row, so
that a close killed at any point and run again skips exactly the partitions that are done:

- the journal rows (penalty interest as ``ChargeApplied``, ``BucketChanged`` and
  ``ClassificationChanged``, actor ``close``), through :func:`insert_close_events` alone;
- the projections those events imply, as the fold would write them: the charged installment's
  penalty and unpaid amount, the loan's outstanding penalties, arrears, days past due, bucket,
  class, stage and next due date, all as of the next open date;
- days past due of the partition's past-due loans the close did not touch (one UPDATE);
- the close state and arrears snapshot of each touched loan, actions (and the reminders they
  put in the notification outbox), errors, progress.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, cast

import polars as pl
from sqlalchemy import (
    Connection,
    Date,
    Integer,
    Table,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
    text,
    union,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from tenor.audit.log import insert_events
from tenor.batch import step
from tenor.batch.tables import (
    CloseAction,
    CloseArrears,
    CloseError,
    CloseProgress,
    CloseState,
)
from tenor.collect.stops import reminder_stops
from tenor.core.account import (
    BucketChanged,
    ChargeApplied,
    ChargeKind,
    ClassificationChanged,
    Restructured,
)
from tenor.core.account import LoanEvent as CoreEvent
from tenor.core.money import Money
from tenor.core.restructure import under_watch
from tenor.notify.reminders import ReminderDue, schedule_reminders
from tenor.store.bulk import among_ids, copy_frame, insert_frame, read_frame
from tenor.store.codec import EVENT_KINDS, event_payload
from tenor.store.journal import (
    load_events,
    load_loan,
    loan_state,
    loan_status,
    write_projection,
)
from tenor.store.models import InstallmentRow, JournalEntry, Loan, LoanStateRow, utc_now

#: Who the journal says wrote the close's events; the close's own rows never touch a loan.
CLOSE_ACTOR: Final = "close"
#: Loans the close looks after: disbursed and not yet paid off (written off still ages).
OPEN_STATUSES: Final = ("active", "overpaid", "written-off")
#: Loans reminders go to.
REMINDED_STATUSES: Final = ("active", "overpaid")
#: Event ids of the close are derived, not drawn: the same close always writes the same ids.
_EVENT_NAMESPACE: Final = uuid.UUID("8d6f0c1e-5b7a-4f0e-9a51-6c1f3e2b7d40")

_JOURNAL = cast(Table, JournalEntry.__table__)
_LOANS = cast(Table, Loan.__table__)
_STATES = cast(Table, LoanStateRow.__table__)
_INSTALLMENTS = cast(Table, InstallmentRow.__table__)
_CLOSE_STATE = cast(Table, CloseState.__table__)
_ARREARS = cast(Table, CloseArrears.__table__)
_ACTIONS = cast(Table, CloseAction.__table__)
_ERRORS = cast(Table, CloseError.__table__)
_PROGRESS = cast(Table, CloseProgress.__table__)


#: The loan rows :func:`load_partition` reads: the step's loan columns and the account's.
_LOAN_ROW_SCHEMA: Final[dict[str, Any]] = {
    "loan_id": pl.Int64,
    "product_id": pl.Int64,
    "status": pl.Utf8,
    "prev_bucket": pl.Utf8,
    "prev_class": pl.Int8,
    "prev_stage": pl.Int8,
    "penalty_through": pl.Date,
    "currency": pl.Utf8,
    "credit_balance_minor": pl.Int64,
}


@dataclass(frozen=True, slots=True)
class CloseRun:
    """How one business date's close is split and where it starts in the journal."""

    business_date: dt.date
    journal_from: int
    journal_to: int
    first_close: bool
    partitions: int
    partition_size: int


@dataclass(frozen=True, slots=True)
class Partition:
    """Loans ``low`` to ``high`` (ids, inclusive): partition ``number`` of a close."""

    number: int
    low: int
    high: int


def partition(number: int, size: int) -> Partition:
    """Partition ``number`` (from 0) of a book split into ranges of ``size`` loan ids."""
    return Partition(number, number * size + 1, (number + 1) * size)


@dataclass(frozen=True)
class LoadedPartition:
    """A partition's inputs to the step, and what the writer needs beside them."""

    partition: Partition
    touched: tuple[int, ...]
    inputs: step.CloseInputs
    #: loan id -> (currency, credit balance in minor units, status) of each touched loan.
    accounts: dict[int, tuple[str, int, str]]
    #: Each touched loan's last installment (INSTALLMENT_SCHEMA), settled or not: where a
    #: penalty lands on a loan with nothing left unpaid.
    last_installments: pl.DataFrame


def _frame(rows: Iterable[Sequence[Any]], schema: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame([tuple(row) for row in rows], schema=schema, orient="row")


def touched_loans(
    connection: Connection, day: dt.date, close_day: CloseRun, part: Partition
) -> tuple[int, ...]:
    """The loans of ``part`` the close of ``day`` must step, in id order.

    Those whose ``next_touch`` has come, those whose journal grew since the previous close
    (the close's own rows aside), those the previous close could not step; on a book's first
    close, every open loan.
    """
    in_range = _STATES.c.loan_id.between(part.low, part.high)
    if close_day.first_close:
        query = select(_STATES.c.loan_id).where(in_range, _STATES.c.status.in_(OPEN_STATUSES))
        return tuple(connection.scalars(query.order_by(_STATES.c.loan_id)))
    due = select(_CLOSE_STATE.c.loan_id).where(
        _CLOSE_STATE.c.next_touch <= day,
        _CLOSE_STATE.c.loan_id.between(part.low, part.high),
    )
    written = select(_JOURNAL.c.loan_id).where(
        _JOURNAL.c.id > close_day.journal_from,
        _JOURNAL.c.id <= close_day.journal_to,
        _JOURNAL.c.actor != CLOSE_ACTOR,
        _JOURNAL.c.loan_id.between(part.low, part.high),
    )
    failed = select(_ERRORS.c.loan_id).where(
        _ERRORS.c.business_date == day - dt.timedelta(days=1),
        _ERRORS.c.loan_id.between(part.low, part.high),
    )
    candidate = union(due, written, failed).subquery().c[0]
    # Only loans with a projection: an approved loan not yet paid out has nothing to close.
    # Asked loan by loan (EXISTS): as an IN, PostgreSQL hashed the whole partition's states
    # to keep a few thousand candidates (70 ms a partition of 50,000 loans against 19 ms).
    projected = select(_STATES.c.loan_id).where(_STATES.c.loan_id == candidate).exists()
    return tuple(connection.scalars(select(candidate).where(projected).order_by(candidate)))


def _reminder_dates(day: dt.date, offsets: Sequence[int]) -> list[dt.date]:
    # An offset is days past the due date (negative: before it).
    return sorted({day - dt.timedelta(days=offset) for offset in offsets})


def watch_periods(session: Session, touched: Sequence[int], opening: dt.date) -> dict[int, dt.date]:
    """The watch period's end of each touched loan restructured and flagged on ``opening``.

    Only loans with a ``restructured`` event are folded. A loan still flagged after its watch
    period (an installment due in it was paid late: :func:`tenor.core.restructure.under_watch`)
    is given ``opening`` itself, so that every close looks at it again until the flag clears.
    """
    restructured = session.scalars(
        select(_JOURNAL.c.loan_id)
        .where(among_ids(session.connection(), _JOURNAL.c.loan_id))
        .where(_JOURNAL.c.kind == EVENT_KINDS[Restructured])
        .distinct(),
        {"ids": list(touched)},
    ).all()
    periods: dict[int, dt.date] = {}
    for loan_id in restructured:
        state = loan_state(session, load_loan(session, loan_id), load_events(session, loan_id))
        if under_watch(state, opening) and state.watch_until is not None:
            periods[loan_id] = max(state.watch_until, opening)
    return periods


def load_partition(
    session: Session,
    day: dt.date,
    close_day: CloseRun,
    part: Partition,
    reminder_offsets: Sequence[int] = step.DEFAULT_REMINDER_OFFSETS,
) -> LoadedPartition:
    """Read partition ``part``'s inputs to the close of ``day`` (see the module docstring)."""
    connection = session.connection()
    touched = touched_loans(connection, day, close_day, part)
    accounts: dict[int, tuple[str, int, str]] = {}
    last_installments = _frame([], step.INSTALLMENT_SCHEMA)
    loans = _frame([], step.LOAN_SCHEMA)
    installments = _frame([], step.INSTALLMENT_SCHEMA)
    arrears = _frame([], step.ARREARS_SCHEMA)
    if touched:
        loan_rows = read_frame(
            connection,
            select(
                _STATES.c.loan_id,
                _LOANS.c.product_id,
                _STATES.c.status,
                _CLOSE_STATE.c.bucket,
                _CLOSE_STATE.c.loan_class,
                _CLOSE_STATE.c.stage,
                _CLOSE_STATE.c.penalty_through,
                _STATES.c.currency,
                _STATES.c.credit_balance_minor,
            )
            .join(_LOANS, _LOANS.c.id == _STATES.c.loan_id)
            .outerjoin(
                _CLOSE_STATE,
                (_CLOSE_STATE.c.loan_id == _STATES.c.loan_id)
                & _CLOSE_STATE.c.loan_id.between(part.low, part.high),
            )
            .where(
                among_ids(connection, _STATES.c.loan_id),
                _STATES.c.loan_id.between(part.low, part.high),
                _LOANS.c.id.between(part.low, part.high),
            )
            .order_by(_STATES.c.loan_id),
            _LOAN_ROW_SCHEMA,
            {"ids": list(touched)},
        )
        accounts = {
            loan_id: (currency, credit, status)
            for loan_id, status, currency, credit in loan_rows.select(
                "loan_id", "status", "currency", "credit_balance_minor"
            ).iter_rows()
        }
        watched = watch_periods(session, touched, day + dt.timedelta(days=1))
        loans = loan_rows.with_columns(
            (pl.col("status") == "written-off").alias("written_off"),
            pl.col("loan_id")
            .replace_strict(watched, default=None, return_dtype=pl.Date)
            .alias("watch_until"),
        ).select(list(step.LOAN_SCHEMA))
        installments, last_installments = _installments(session, connection, touched, part)
        arrears = read_frame(
            connection,
            select(
                _ARREARS.c.loan_id,
                _ARREARS.c.number,
                _ARREARS.c.due_date,
                _ARREARS.c.principal_minor,
                _ARREARS.c.interest_minor,
            )
            .where(
                among_ids(connection, _ARREARS.c.loan_id),
                _ARREARS.c.loan_id.between(part.low, part.high),
            )
            .order_by(_ARREARS.c.loan_id, _ARREARS.c.number),
            step.ARREARS_SCHEMA,
            {"ids": list(touched)},
        )
    upcoming = read_frame(
        connection,
        select(
            _INSTALLMENTS.c.loan_id,
            _INSTALLMENTS.c.number,
            _INSTALLMENTS.c.due_date,
            _INSTALLMENTS.c.unpaid_minor,
        )
        .join(_STATES, _STATES.c.loan_id == _INSTALLMENTS.c.loan_id)
        .where(
            _INSTALLMENTS.c.due_date.in_(_reminder_dates(day, reminder_offsets)),
            _INSTALLMENTS.c.unpaid_minor > 0,
            _INSTALLMENTS.c.loan_id.between(part.low, part.high),
            _STATES.c.loan_id.between(part.low, part.high),
            _STATES.c.status.in_(REMINDED_STATUSES),
        )
        .order_by(_INSTALLMENTS.c.loan_id, _INSTALLMENTS.c.number),
        step.UPCOMING_SCHEMA,
    )
    inputs = step.CloseInputs(
        loans=loans, installments=installments, arrears_before=arrears, upcoming=upcoming
    )
    return LoadedPartition(part, touched, inputs, accounts, last_installments)


def book_penalties(
    loaded: LoadedPartition, outputs: step.CloseOutputs, day: dt.date, policies: pl.DataFrame
) -> tuple[step.CloseOutputs, pl.DataFrame]:
    """Place the day's penalties on installments as they stand now, and restate those loans.

    The step charges the penalty base the previous close left, but a payment during the day
    may have settled the installment it names. A penalty lands on the oldest installment still
    unpaid and due (else the oldest unpaid; else, on a loan paid off today, the last), so that
    a paid installment is not reopened. Days past due, bucket and class must count the
    penalty, as a fold of the journal does: when it lands on an installment already past due
    on a loan with no arrears tolerance, they cannot move, and only the overdue amount grows;
    any other loan charged is stepped again with the penalty in its installments (and no base
    left to charge). Returns the outputs and the installments after the day's charges.
    """
    penalties = outputs.penalties
    installments = loaded.inputs.installments
    if not penalties.height:
        return outputs, installments
    charged = penalties.select("loan_id")
    targets = (
        installments.join(charged, on="loan_id", how="semi")
        .sort("loan_id", pl.col("due_date") > day, "due_date", "number")
        .group_by("loan_id", maintain_order=True)
        .agg(pl.col("number").first().alias("target"), pl.col("due_date").first())
    )
    fallback = loaded.last_installments.select("loan_id", pl.col("number").alias("last"))
    penalties = (
        penalties.join(targets, on="loan_id", how="left")
        .join(fallback, on="loan_id", how="left")
        .with_columns(pl.coalesce("target", "last", "installment").alias("installment"))
        .select(list(step.PENALTY_SCHEMA))
        .cast(cast(Any, step.PENALTY_SCHEMA))
    )
    reopened = (
        loaded.last_installments.join(targets, on="loan_id", how="anti")
        .join(charged, on="loan_id", how="semi")
        .select(list(step.INSTALLMENT_SCHEMA))
    )
    amounts = penalties.select(
        "loan_id", pl.col("installment").alias("number"), pl.col("amount_minor").alias("penalty")
    )
    after = (
        pl.concat([installments, reopened])
        .join(amounts, on=["loan_id", "number"], how="left")
        .with_columns(
            (pl.col("unpaid_minor") + pl.col("penalty").fill_null(0)).alias("unpaid_minor")
        )
        .select(list(step.INSTALLMENT_SCHEMA))
        .sort("loan_id", "number")
    )
    untolerant = loaded.inputs.loans.join(
        policies.filter(pl.col("tolerance_minor") == 0).select("product_id"), on="product_id"
    ).select("loan_id")
    unmoved = (
        targets.filter(pl.col("due_date") <= day)
        .join(untolerant, on="loan_id", how="semi")
        .select("loan_id")
    )
    restate = charged.join(unmoved, on="loan_id", how="anti")
    state = outputs.state.join(
        penalties.join(unmoved, on="loan_id", how="semi").select(
            "loan_id", pl.col("amount_minor").alias("penalty")
        ),
        on="loan_id",
        how="left",
    ).with_columns(pl.col("overdue_minor") + pl.col("penalty").fill_null(0))
    outputs = step.CloseOutputs(
        state=state.select(outputs.state.columns),
        arrears_after=outputs.arrears_after,
        penalties=outputs.penalties,
        changes=outputs.changes,
        actions=outputs.actions,
        errors=outputs.errors,
    )
    if not restate.height:
        return dataclasses.replace(outputs, penalties=penalties.sort("loan_id")), after
    again = step.close_partition(
        step.CloseInputs(
            loans=loaded.inputs.loans.join(restate, on="loan_id", how="semi"),
            installments=after.join(restate, on="loan_id", how="semi"),
            arrears_before=step.empty(step.ARREARS_SCHEMA),
            upcoming=step.empty(step.UPCOMING_SCHEMA),
        ),
        day,
        policies,
    )

    def merged(first: pl.DataFrame, second: pl.DataFrame, *keys: str) -> pl.DataFrame:
        kept = first.join(restate, on="loan_id", how="anti")
        return pl.concat([kept, second]).sort("loan_id", *keys)

    restated = step.CloseOutputs(
        state=merged(outputs.state, again.state),
        arrears_after=merged(outputs.arrears_after, again.arrears_after, "due_date", "number"),
        penalties=penalties.sort("loan_id"),
        changes=merged(outputs.changes, again.changes, "kind"),
        actions=outputs.actions,
        errors=pl.concat([outputs.errors, again.errors]).sort("loan_id"),
    )
    return restated, after


def _installments(
    session: Session, connection: Connection, touched: Sequence[int], part: Partition
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The touched loans' unsettled installments, with unpaid principal and interest, and each
    loan's last installment, settled or not (one read of every installment of those loans).

    The projection keeps one ``waived_minor`` for interest, fees and penalties together, so
    the unpaid interest of an installment with a waiver is read from the loan's fold instead
    (waivers are rare; everything else is one set-based read).
    """
    rows = read_frame(
        connection,
        select(
            _INSTALLMENTS.c.loan_id,
            _INSTALLMENTS.c.number,
            _INSTALLMENTS.c.start_date,
            _INSTALLMENTS.c.due_date,
            _INSTALLMENTS.c.interest_minor,
            _INSTALLMENTS.c.principal_minor - _INSTALLMENTS.c.paid_principal_minor,
            _INSTALLMENTS.c.interest_minor - _INSTALLMENTS.c.paid_interest_minor,
            _INSTALLMENTS.c.unpaid_minor,
            _INSTALLMENTS.c.waived_minor,
        )
        .where(
            among_ids(connection, _INSTALLMENTS.c.loan_id),
            _INSTALLMENTS.c.loan_id.between(part.low, part.high),
        )
        .order_by(_INSTALLMENTS.c.loan_id, _INSTALLMENTS.c.number),
        {**step.INSTALLMENT_SCHEMA, "waived_minor": pl.Int64},
        {"ids": list(touched)},
    )
    last = (
        rows.group_by("loan_id", maintain_order=True).last().select(list(step.INSTALLMENT_SCHEMA))
    )
    rows = rows.filter(pl.col("unpaid_minor") != 0)
    waived = rows.filter(pl.col("waived_minor") != 0)["loan_id"].unique().sort().to_list()
    exact: list[tuple[int, int, int]] = []
    for loan_id in waived:
        book = load_loan(session, loan_id)
        state = loan_state(session, book, load_events(session, loan_id))
        exact.extend(
            (loan_id, item.number, item.unpaid_interest.minor) for item in state.installments
        )
    folded = pl.DataFrame(
        exact,
        schema={"loan_id": pl.Int64, "number": pl.Int32, "folded": pl.Int64},
        orient="row",
    )
    unsettled = (
        rows.join(folded, on=["loan_id", "number"], how="left")
        .with_columns(
            pl.when(pl.col("waived_minor") != 0)
            .then(pl.coalesce("folded", "unpaid_interest_minor"))
            .otherwise(pl.col("unpaid_interest_minor"))
            .alias("unpaid_interest_minor")
        )
        .select(list(step.INSTALLMENT_SCHEMA))
    )
    return unsettled, last


# ---------------------------------------------------------------------------------------------
# Writing


def close_event_id(loan_id: int, day: dt.date, kind: str) -> str:
    """The id of the close's ``kind`` event on ``loan_id`` for business date ``day``.

    ``uuid.uuid5(_EVENT_NAMESPACE, "loan/date/kind")``, computed without building UUID
    objects: a salary day's close names hundreds of thousands of events.
    """
    name = f"{loan_id}/{day.isoformat()}/{kind}".encode()
    digest = bytearray(hashlib.sha1(_EVENT_NAMESPACE.bytes + name).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # the RFC 4122 variant
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def insert_close_events(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert the close's journal rows: the one place the close writes to the journal.

    The transparency log queues a leaf for each row in the same transaction.
    """
    insert_events(connection, rows)


@dataclass(frozen=True, slots=True)
class PartitionCounts:
    """What one partition's close did."""

    partition: int
    loans: int
    events: int
    penalties: int
    penalty_minor: int
    actions: int
    errors: int


def _days_between(connection: Connection, later: dt.date, column: Any) -> ColumnElement[int]:
    """``later - column`` in days, in the database's own date arithmetic."""
    if connection.dialect.name == "postgresql":
        return cast(ColumnElement[int], literal(later, Date) - column)
    # SQLite keeps dates as ISO text.
    return sql_cast(func.julianday(later.isoformat()) - func.julianday(column), Integer)


def _is_postgres(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


def _update_from(
    connection: Connection,
    temporary: str,
    frame: pl.DataFrame,
    statement: str,
    parameters: dict[str, Any] | None = None,
) -> None:
    """On PostgreSQL: COPY ``frame`` into a temporary table and run one UPDATE ... FROM it."""
    name = temporary.split(" ", 1)[0]
    connection.execute(text(f"CREATE TEMPORARY TABLE {temporary} ON COMMIT DROP"))
    copy_frame(connection, name, frame)
    connection.execute(text(statement), parameters or {})


def _events(
    day: dt.date,
    outputs: step.CloseOutputs,
    accounts: dict[int, tuple[str, int, str]],
) -> dict[int, list[CoreEvent]]:
    """The close's journal events per loan, in booking order (sequences filled in later)."""
    events: dict[int, list[CoreEvent]] = {}
    for row in outputs.penalties.iter_rows(named=True):
        loan_id = row["loan_id"]
        kind = "penalty"
        events.setdefault(loan_id, []).append(
            ChargeApplied(
                event_id=close_event_id(loan_id, day, kind),
                sequence=0,
                value_date=day,
                kind=ChargeKind.PENALTY_INTEREST,
                amount=Money(row["amount_minor"], accounts[loan_id][0]),
                installment=row["installment"],
            )
        )
    for row in outputs.changes.iter_rows(named=True):
        loan_id = row["loan_id"]
        common = {
            "event_id": close_event_id(loan_id, day, row["kind"]),
            "sequence": 0,
            "value_date": day,
            "days_past_due": row["days_past_due"],
        }
        change: CoreEvent
        if row["kind"] == "bucket":
            change = BucketChanged(
                **common, from_bucket=row["from_bucket"], to_bucket=row["to_bucket"]
            )
        else:
            change = ClassificationChanged(
                **common,
                from_class=row["from_class"],
                to_class=row["to_class"],
                from_stage=row["from_stage"],
                to_stage=row["to_stage"],
            )
        events.setdefault(loan_id, []).append(change)
    return events


def write_partition(
    session: Session,
    day: dt.date,
    loaded: LoadedPartition,
    outputs: step.CloseOutputs,
    installments: pl.DataFrame,
) -> PartitionCounts:
    """Write one partition's close of ``day`` in the session's transaction (module docstring)."""
    connection = session.connection()
    part = loaded.partition
    opening = day + dt.timedelta(days=1)
    failed = set(outputs.errors["loan_id"].to_list())
    stepped = [loan_id for loan_id in loaded.touched if loan_id not in failed]
    events = _events(day, outputs, loaded.accounts)
    written = sorted(events)
    if written and connection.dialect.name == "postgresql":
        # The same lock a payment takes: a payment and the close never interleave on a loan.
        connection.execute(
            select(_LOANS.c.id).where(among_ids(connection, _LOANS.c.id)).with_for_update(),
            {"ids": written},
        ).all()
    last_sequence: dict[int, int] = {}
    if written:
        last_sequence = dict(
            connection.execute(
                select(_JOURNAL.c.loan_id, func.max(_JOURNAL.c.sequence))
                .where(among_ids(connection, _JOURNAL.c.loan_id))
                .group_by(_JOURNAL.c.loan_id),
                {"ids": written},
            ).all()
        )
    now = utc_now()
    journal_rows = []
    for loan_id in written:
        for event in events[loan_id]:
            last_sequence[loan_id] = last_sequence.get(loan_id, 0) + 1
            journal_rows.append(
                {
                    "event_id": event.event_id,
                    "loan_id": loan_id,
                    "sequence": last_sequence[loan_id],
                    "kind": EVENT_KINDS[type(event)],
                    "value_date": event.value_date,
                    "payload": event_payload(event),
                    "idempotency_key": None,
                    "request_hash": None,
                    "actor": CLOSE_ACTOR,
                    "recorded_at": now,
                }
            )
    insert_close_events(connection, journal_rows)
    if written:
        connection.execute(
            update(_LOANS)
            .where(among_ids(connection, _LOANS.c.id))
            .values(version=_LOANS.c.version + 1),
            {"ids": written},
        )

    # Days past due move on for every past-due loan of the partition; the touched ones are
    # rewritten whole below.
    anchored = select(_CLOSE_STATE.c.loan_id).where(
        _CLOSE_STATE.c.dpd_anchor.is_not(None),
        _CLOSE_STATE.c.loan_id.between(part.low, part.high),
    )
    anchor = (
        select(_days_between(connection, opening, _CLOSE_STATE.c.dpd_anchor))
        .where(_CLOSE_STATE.c.loan_id == _STATES.c.loan_id)
        .scalar_subquery()
    )
    connection.execute(
        update(_STATES)
        .where(_STATES.c.loan_id.between(part.low, part.high), _STATES.c.loan_id.in_(anchored))
        .values(days_past_due=anchor, business_date=opening)
    )

    penalties = outputs.penalties.select("loan_id", "installment", "amount_minor")
    # A penalty on a loan with a credit balance is paid from it at once, and one on a loan
    # paid off today reopens it: such loans are projected by the fold rather than by the
    # updates below.
    refold = sorted(
        loan_id
        for loan_id in penalties["loan_id"].to_list()
        if loaded.accounts[loan_id][1] > 0 or loaded.accounts[loan_id][2] != "active"
    )
    charged = penalties.filter(~pl.col("loan_id").is_in(refold)).select(
        pl.col("loan_id").alias("b_loan_id"),
        pl.col("installment").alias("b_number"),
        pl.col("amount_minor").alias("b_amount"),
    )
    if charged.height and _is_postgres(connection):
        _update_from(
            connection,
            "close_charged (b_loan_id BIGINT, b_number INTEGER, b_amount BIGINT)",
            charged,
            "UPDATE installments AS i SET penalty_minor = i.penalty_minor + t.b_amount, "
            "unpaid_minor = i.unpaid_minor + t.b_amount, settled_on = NULL FROM close_charged "
            "AS t WHERE i.loan_id = t.b_loan_id AND i.number = t.b_number",
        )
    elif charged.height:
        connection.execute(
            update(_INSTALLMENTS)
            .where(
                _INSTALLMENTS.c.loan_id == bindparam("b_loan_id"),
                _INSTALLMENTS.c.number == bindparam("b_number"),
            )
            .values(
                penalty_minor=_INSTALLMENTS.c.penalty_minor + bindparam("b_amount"),
                unpaid_minor=_INSTALLMENTS.c.unpaid_minor + bindparam("b_amount"),
                settled_on=None,
            ),
            charged.to_dicts(),
        )
    next_due = (
        installments.filter(pl.col("due_date") > day)
        .group_by("loan_id")
        .agg(pl.col("due_date").min().alias("b_next_due"))
    )
    sequences = pl.DataFrame(
        list(last_sequence.items()),
        schema={"loan_id": pl.Int64, "b_sequence": pl.Int64},
        orient="row",
    )
    state_rows = (
        outputs.state.filter(~pl.col("loan_id").is_in(refold))
        .join(penalties.select("loan_id", "amount_minor"), on="loan_id", how="left")
        .join(next_due, on="loan_id", how="left")
        .join(sequences, on="loan_id", how="left")
        .select(
            pl.col("loan_id").alias("b_loan_id"),
            pl.col("amount_minor").fill_null(0).alias("b_penalty"),
            # The restated loans' overdue amount already holds the day's penalty.
            pl.col("overdue_minor").alias("b_arrears"),
            pl.col("days_past_due").alias("b_dpd"),
            pl.col("bucket").alias("b_bucket"),
            pl.col("loan_class").alias("b_class"),
            pl.col("stage").alias("b_stage"),
            "b_next_due",
            "b_sequence",
        )
    )
    if state_rows.height and _is_postgres(connection):
        _update_from(
            connection,
            "close_states (b_loan_id BIGINT, b_penalty BIGINT, b_arrears BIGINT, b_dpd INTEGER, "
            "b_bucket TEXT, b_class INTEGER, b_stage INTEGER, b_next_due DATE, b_sequence BIGINT)",
            state_rows,
            "UPDATE loan_state AS s SET outstanding_penalties_minor = "
            "s.outstanding_penalties_minor + t.b_penalty, arrears_minor = t.b_arrears, "
            "days_past_due = t.b_dpd, bucket = t.b_bucket, loan_class = t.b_class, "
            "stage = t.b_stage, next_due_date = t.b_next_due, business_date = :opening, "
            "last_sequence = COALESCE(t.b_sequence, s.last_sequence) FROM close_states AS t "
            "WHERE s.loan_id = t.b_loan_id",
            {"opening": opening},
        )
    elif state_rows.height:
        connection.execute(
            update(_STATES)
            .where(_STATES.c.loan_id == bindparam("b_loan_id"))
            .values(
                outstanding_penalties_minor=_STATES.c.outstanding_penalties_minor
                + bindparam("b_penalty"),
                arrears_minor=bindparam("b_arrears"),
                days_past_due=bindparam("b_dpd"),
                bucket=bindparam("b_bucket"),
                loan_class=bindparam("b_class"),
                stage=bindparam("b_stage"),
                next_due_date=bindparam("b_next_due"),
                business_date=opening,
                last_sequence=func.coalesce(bindparam("b_sequence"), _STATES.c.last_sequence),
            ),
            state_rows.to_dicts(),
        )
    for loan_id in refold:
        book = load_loan(session, loan_id)
        state = loan_state(session, book, load_events(session, loan_id))
        write_projection(session, book, state, opening, last_sequence[loan_id])
        connection.execute(
            update(_LOANS).where(_LOANS.c.id == loan_id).values(status=loan_status(book, state))
        )

    if stepped:
        connection.execute(
            delete(_CLOSE_STATE).where(among_ids(connection, _CLOSE_STATE.c.loan_id)),
            {"ids": stepped},
        )
        connection.execute(
            delete(_ARREARS).where(among_ids(connection, _ARREARS.c.loan_id)), {"ids": stepped}
        )
    insert_frame(
        connection,
        _CLOSE_STATE,
        outputs.state.select(list(step.STATE_SCHEMA)).with_columns(closed_on=pl.lit(day)),
    )
    insert_frame(connection, _ARREARS, outputs.arrears_after)
    insert_frame(connection, _ACTIONS, outputs.actions.with_columns(business_date=pl.lit(day)))
    actions = outputs.actions.to_dicts()
    # Reminders go to the outbox with the actions that cause them, in this transaction; the
    # outbox's unique key keeps a rerun of the close from sending any of them twice.
    promised, disputed = reminder_stops(
        session, {row["loan_id"] for row in actions if row["kind"] == "reminder"}
    )
    schedule_reminders(
        session,
        [
            ReminderDue(
                loan_id=row["loan_id"],
                installment=row["installment"],
                due_date=row["due_date"],
                offset_days=row["offset_days"],
                amount_minor=row["amount_minor"],
                kind=row["kind"],
                promise_to_pay=row["loan_id"] in promised,
                dispute=row["loan_id"] in disputed,
            )
            for row in actions
        ],
        day,
    )
    insert_frame(connection, _ERRORS, outputs.errors.with_columns(business_date=pl.lit(day)))
    counts = PartitionCounts(
        partition=part.number,
        loans=len(loaded.touched),
        events=len(journal_rows),
        penalties=outputs.penalties.height,
        penalty_minor=int(outputs.penalties["amount_minor"].sum() or 0),
        actions=outputs.actions.height,
        errors=outputs.errors.height,
    )
    connection.execute(
        insert(_PROGRESS),
        {
            "business_date": day,
            "partition": part.number,
            "loans": counts.loans,
            "events": counts.events,
            "penalties": counts.penalties,
            "penalty_minor": counts.penalty_minor,
            "actions": counts.actions,
            "errors": counts.errors,
        },
    )
    return counts
