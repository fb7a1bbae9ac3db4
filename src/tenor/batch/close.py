"""The daily close: business dates, partitions, progress and restart, and the engines.

``close_book(db, ...)`` closes the open business date (or catches up day by day through a
date). For each business date D:

1. It starts D's close once: a ``close_days`` row fixes the journal mark (the loans whose
   journal grew up to it are touched) and how the book is split into partitions of loan ids.
   A rerun after a kill finds the row and splits the book the same way.
2. It runs every partition not yet listed in ``close_progress``: read the partition's inputs
   (:mod:`tenor.batch.sqlbook`), step them (:func:`tenor.batch.step.close_partition`, pure),
   and write the outputs with the partition's progress row in one transaction.
3. It finishes D in one transaction: the end-of-day summary and rolls
   (:mod:`tenor.batch.portfolio`), the totals, and the open business date moved to D+1.

Engines: ``local`` runs partitions in this process (``workers`` 1) or in a pool of worker
processes, each with its own connection; ``dask`` reads and writes here and sends the pure step
with its input frames to a Dask distributed cluster.
"""

from __future__ import annotations

import datetime as dt
import math
import multiprocessing
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tenor.audit.keys import key_path, load_signer
from tenor.audit.log import sign_tree_head
from tenor.batch import portfolio, sqlbook, step
from tenor.batch.policies import policy_frame
from tenor.batch.sqlbook import CloseRun
from tenor.batch.tables import CloseDay, CloseProgress
from tenor.collect.daily import run_collections
from tenor.core.delinquency import DelinquencyPolicy
from tenor.core.errors import DomainError
from tenor.risk import close as risk_close
from tenor.store.database import Database, is_postgres
from tenor.store.journal import business_date, product_config, set_business_date
from tenor.store.models import JournalEntry, LoanStateRow, Product, utc_now

#: Loan ids per partition, at least: enough to vectorise and to be worth a transaction.
DEFAULT_PARTITION_SIZE: Final = 5000
#: Loan ids per partition, at most: one partition's transaction stays short.
MAX_PARTITION_SIZE: Final = 50_000
#: At most on SQLite, whose default build takes at most 32,766 bound values a statement: a
#: partition's touched loans are bound one by one there (:func:`tenor.store.bulk.among_ids`).
SQLITE_MAX_PARTITION_SIZE: Final = 20_000
#: Partitions per worker when the size is chosen from the book: the pool stays busy to the end.
_PARTITIONS_PER_WORKER: Final = 8
ENGINES: Final = ("local", "dask")


class CloseRequestError(DomainError):
    """A close asked for a date it cannot close (a later date than the open one)."""

    code = "invalid_close_date"


@dataclass(slots=True)
class DayResult:
    """What closing one business date did."""

    business_date: dt.date
    partitions: int
    loans: int = 0
    events: int = 0
    penalties: int = 0
    penalty_minor: int = 0
    actions: int = 0
    errors: int = 0
    seconds: float = 0.0
    resumed_partitions: int = 0
    #: What the collections pass did (:class:`tenor.collect.daily.CollectionDay`).
    collections: dict[str, Any] = field(default_factory=dict)

    def add(self, counts: sqlbook.PartitionCounts) -> None:
        """Count one partition's work in."""
        self.loans += counts.loans
        self.events += counts.events
        self.penalties += counts.penalties
        self.penalty_minor += counts.penalty_minor
        self.actions += counts.actions
        self.errors += counts.errors

    def totals(self) -> dict[str, Any]:
        """The counts as a JSON document."""
        return {
            "business_date": self.business_date.isoformat(),
            "partitions": self.partitions,
            "loans_touched": self.loans,
            "events": self.events,
            "penalties": self.penalties,
            "penalty_minor": self.penalty_minor,
            "actions": self.actions,
            "errors": self.errors,
            "collections": self.collections,
        }


@dataclass(slots=True)
class CloseResult:
    """What a call of :func:`close_book` closed, and the open business date after it."""

    closed: list[DayResult]
    business_date: dt.date
    seconds: float
    #: Set when nothing was closed because the date asked for was closed before.
    already_closed: dt.date | None = None
    book_loans: int = 0
    error_loans: list[dict[str, Any]] = field(default_factory=list)


PartitionHook = Callable[[sqlbook.PartitionCounts, int, int], None]


def dates_to_close(
    open_date: dt.date, *, date: dt.date | None, through: dt.date | None
) -> tuple[list[dt.date], dt.date | None]:
    """The business dates to close, and the date asked for if it was closed already.

    ``date``: that date only, which must be the open one (an earlier date was closed before:
    nothing to do). ``through``: every date from the open one through it. Neither: the open
    business date.
    """
    if date is not None and through is not None:
        raise CloseRequestError("give either a date or a through date, not both")
    if date is not None:
        if date < open_date:
            return [], date
        if date > open_date:
            raise CloseRequestError(
                f"{date} is not the open business date {open_date}; close it first, or catch "
                f"up with --through {date}"
            )
        return [date], None
    if through is not None:
        if through < open_date:
            return [], through
        days = (through - open_date).days + 1
        return [open_date + dt.timedelta(days=offset) for offset in range(days)], None
    return [open_date], None


def load_policies(db: Database) -> pl.DataFrame:
    """Every product's delinquency policy as the step's policy frame.

    A product whose document no longer validates is left out: its loans are then reported as
    errors by the step, and the close goes on.
    """
    policies: dict[int, DelinquencyPolicy] = {}
    with db.reading() as session:
        for product_id, document in session.execute(select(Product.id, Product.config)):
            try:
                policies[product_id] = product_config(document).delinquency_policy()
            except (ValueError, DomainError):
                continue
    return policy_frame(policies)


def partition_size_for(highest_loan_id: int, workers: int, most: int = MAX_PARTITION_SIZE) -> int:
    """Loan ids per partition for a book whose loan ids reach ``highest_loan_id``.

    Each partition costs a few fixed statements and a transaction whatever it holds, so a
    large book is cut in larger partitions: about eight per worker, between
    :data:`DEFAULT_PARTITION_SIZE` and ``most`` loan ids.
    """
    wanted = math.ceil(highest_loan_id / (_PARTITIONS_PER_WORKER * max(1, workers)))
    return min(most, max(DEFAULT_PARTITION_SIZE, wanted))


def start_day(db: Database, day: dt.date, partition_size: int | None, workers: int = 1) -> CloseRun:
    """The close of ``day`` as started before, or started now (committed at once).

    ``partition_size`` None: chosen from the book (:func:`partition_size_for`). A close
    started before keeps the split it started with.
    """
    with db.transaction() as session:
        row = session.get(CloseDay, day)
        if row is None:
            previous = session.scalars(
                select(CloseDay)
                .where(CloseDay.business_date < day, CloseDay.finished_at.is_not(None))
                .order_by(CloseDay.business_date.desc())
                .limit(1)
            ).one_or_none()
            mark = session.scalar(select(func.max(JournalEntry.id))) or 0
            highest = session.scalar(select(func.max(LoanStateRow.loan_id))) or 0
            if partition_size is None:
                most = MAX_PARTITION_SIZE if is_postgres(db.engine) else SQLITE_MAX_PARTITION_SIZE
                partition_size = partition_size_for(highest, workers, most)
            row = CloseDay(
                business_date=day,
                journal_from=previous.journal_to if previous else 0,
                journal_to=mark,
                first_close=previous is None,
                partitions=max(1, math.ceil(highest / partition_size)),
                partition_size=partition_size,
                started_at=utc_now(),
                finished_at=None,
                totals=None,
            )
            session.add(row)
        return CloseRun(
            business_date=row.business_date,
            journal_from=row.journal_from,
            journal_to=row.journal_to,
            first_close=row.first_close,
            partitions=row.partitions,
            partition_size=row.partition_size,
        )


def done_partitions(db: Database, day: dt.date) -> dict[int, sqlbook.PartitionCounts]:
    """The partitions of ``day``'s close already done, with what they did."""
    with db.reading() as session:
        rows = session.scalars(select(CloseProgress).where(CloseProgress.business_date == day))
        return {
            row.partition: sqlbook.PartitionCounts(
                partition=row.partition,
                loans=row.loans,
                events=row.events,
                penalties=row.penalties,
                penalty_minor=row.penalty_minor,
                actions=row.actions,
                errors=row.errors,
            )
            for row in rows
        }


#: What the step decides for a partition with no loan to touch and no reminder due.
_QUIET: Final = step.CloseOutputs(
    state=step.empty(step.STATE_SCHEMA),
    arrears_after=step.empty(step.ARREARS_SCHEMA),
    penalties=step.empty(step.PENALTY_SCHEMA),
    changes=step.empty(step.CHANGE_SCHEMA),
    actions=step.empty(step.ACTION_SCHEMA),
    errors=step.empty(step.ERROR_SCHEMA),
)


def _has_work(loaded: sqlbook.LoadedPartition) -> bool:
    return bool(loaded.touched) or loaded.inputs.upcoming.height > 0


def close_one_partition(
    db: Database, run: CloseRun, number: int, policies: pl.DataFrame
) -> sqlbook.PartitionCounts:
    """Read, step and write one partition: the whole of a partition's close."""
    part = sqlbook.partition(number, run.partition_size)
    with db.reading() as session:
        loaded = sqlbook.load_partition(session, run.business_date, run, part)
    outputs = (
        step.close_partition(loaded.inputs, run.business_date, policies)
        if _has_work(loaded)
        else _QUIET
    )
    outputs, installments = sqlbook.book_penalties(loaded, outputs, run.business_date, policies)
    with db.transaction() as session:
        return sqlbook.write_partition(session, run.business_date, loaded, outputs, installments)


# --- the process pool: each worker process keeps its own database connection ------------------

_WORKER_DB: dict[str, Database] = {}


def _worker_partition(
    url: str, run: CloseRun, number: int, policies: pl.DataFrame
) -> sqlbook.PartitionCounts:
    db = _WORKER_DB.get(url)
    if db is None:
        db = _WORKER_DB[url] = Database(url)
    return close_one_partition(db, run, number, policies)


def _run_local(
    db: Database,
    run: CloseRun,
    pending: list[int],
    policies: pl.DataFrame,
    pool: ProcessPoolExecutor | None,
    report: Callable[[sqlbook.PartitionCounts], None],
) -> None:
    if pool is None or len(pending) <= 1:
        for number in pending:
            report(close_one_partition(db, run, number, policies))
        return
    futures = [pool.submit(_worker_partition, db.url, run, number, policies) for number in pending]
    for future in _completed(futures):
        report(future.result())


@contextmanager
def _process_pool(workers: int) -> Iterator[ProcessPoolExecutor | None]:
    """Worker processes kept for the whole close (each starts once), or None for one process."""
    if workers <= 1:
        yield None
        return
    # spawn, not fork: a forked child would share the parent's pooled connections.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield pool


def _completed(futures: list[Future[Any]]) -> Iterator[Future[Any]]:
    waiting = set(futures)
    while waiting:
        done, waiting = wait(waiting, return_when=FIRST_COMPLETED)
        yield from done


@contextmanager
def _dask_client(scheduler: str) -> Iterator[Any]:
    try:
        from distributed import Client  # noqa: PLC0415 (an optional extra)
    except ModuleNotFoundError:
        raise CloseRequestError(
            "the dask engine needs Tenor's 'cluster' extra: pip install 'tenor[cluster]'"
        ) from None
    try:
        client = Client(scheduler, timeout=5)  # type: ignore[no-untyped-call]
    except OSError as error:
        raise CloseRequestError(f"cannot reach the Dask scheduler {scheduler}: {error}") from None
    try:
        yield client
    finally:
        client.close()  # type: ignore[no-untyped-call]


def _run_dask(
    db: Database,
    run: CloseRun,
    pending: list[int],
    policies: pl.DataFrame,
    client: Any,
    report: Callable[[sqlbook.PartitionCounts], None],
) -> None:
    from distributed import as_completed  # noqa: PLC0415 (an optional extra)

    window = max(2, 2 * len(client.scheduler_info().get("workers", {})))
    queue = list(pending)
    loaded: dict[Any, sqlbook.LoadedPartition] = {}
    running = as_completed()  # type: ignore[no-untyped-call]

    def send() -> None:
        number = queue.pop(0)
        part = sqlbook.partition(number, run.partition_size)
        with db.reading() as session:
            inputs = sqlbook.load_partition(session, run.business_date, run, part)
        future = client.submit(
            step.close_partition, inputs.inputs, run.business_date, policies, pure=False
        )
        loaded[future] = inputs
        running.add(future)  # type: ignore[no-untyped-call]

    while queue and len(loaded) < window:
        send()
    for future in running:
        inputs = loaded.pop(future)
        outputs, installments = sqlbook.book_penalties(
            inputs, future.result(), run.business_date, policies
        )
        with db.transaction() as session:
            report(
                sqlbook.write_partition(session, run.business_date, inputs, outputs, installments)
            )
        if queue:
            send()


def close_book(
    db: Database,
    *,
    date: dt.date | None = None,
    through: dt.date | None = None,
    workers: int = 1,
    engine: str = "local",
    scheduler: str | None = None,
    partition_size: int | None = None,
    on_day: Callable[[CloseRun, int], None] | None = None,
    on_partition: PartitionHook | None = None,
) -> CloseResult:
    """Close the open business date, ``date`` (if it is the open one) or every date through
    ``through``; see the module docstring.

    ``on_day(run, done)`` is called as each date's close starts (``done``: partitions done
    before); ``on_partition(counts, done, total)`` after each partition commits.
    """
    if engine not in ENGINES:
        raise CloseRequestError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    if engine == "dask" and not scheduler:
        raise CloseRequestError("the dask engine needs a scheduler address, tcp://HOST:PORT")
    if workers < 1:
        raise CloseRequestError(f"workers must be at least 1, not {workers}")
    began = time.perf_counter()
    with db.reading() as session:
        open_date = business_date(session)
    days, already = dates_to_close(open_date, date=date, through=through)
    result = CloseResult(closed=[], business_date=open_date, seconds=0.0, already_closed=already)
    if not days:
        return result
    policies = load_policies(db)
    with (
        contextmanager_or_none(engine == "dask", scheduler) as client,
        _process_pool(workers if engine == "local" else 1) as pool,
    ):
        for day in days:
            result.closed.append(
                _close_day(
                    db, day, policies, pool, client, partition_size, workers, on_day, on_partition
                )
            )
            result.business_date = day + dt.timedelta(days=1)
    result.seconds = time.perf_counter() - began
    return result


@contextmanager
def contextmanager_or_none(dask: bool, scheduler: str | None) -> Iterator[Any]:
    """A Dask client when the dask engine is asked for, else None."""
    if not dask or scheduler is None:
        yield None
        return
    with _dask_client(scheduler) as client:
        yield client


def _sign_tree_head(session: Session) -> None:
    """Sign the transparency log's tree head at the end of the day, when the book has a key.

    Without a key file (``tenor audit keygen``) the log still records every event; its heads
    are then signed on demand.
    """
    if key_path().exists():
        sign_tree_head(session, load_signer(), utc_now())


def _close_day(
    db: Database,
    day: dt.date,
    policies: pl.DataFrame,
    pool: ProcessPoolExecutor | None,
    client: Any,
    partition_size: int | None,
    workers: int,
    on_day: Callable[[CloseRun, int], None] | None,
    on_partition: PartitionHook | None,
) -> DayResult:
    began = time.perf_counter()
    run = start_day(db, day, partition_size, workers)
    done = done_partitions(db, day)
    result = DayResult(day, run.partitions, resumed_partitions=len(done))
    for counts in done.values():
        result.add(counts)
    if on_day is not None:
        on_day(run, len(done))
    pending = [number for number in range(run.partitions) if number not in done]
    finished = len(done)

    def report(counts: sqlbook.PartitionCounts) -> None:
        nonlocal finished
        finished += 1
        result.add(counts)
        if on_partition is not None:
            on_partition(counts, finished, run.partitions)

    if client is not None:
        _run_dask(db, run, pending, policies, client, report)
    else:
        _run_local(db, run, pending, policies, pool, report)
    with db.transaction() as session:
        portfolio.write_end_of_day(session, day)
        risk_close.close_day(session, day)  # champion scores, the early-warning summary
        row = session.get(CloseDay, day)
        assert row is not None
        if row.finished_at is None:
            result.collections = run_collections(session, day).document()
            row.finished_at = utc_now()
            _sign_tree_head(session)
        row.totals = result.totals()
        set_business_date(session, day + dt.timedelta(days=1))
    result.seconds = time.perf_counter() - began
    return result
