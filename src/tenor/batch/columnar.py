"""The book in columns: Parquet partitions on disk, a synthetic book, and the columnar close.

A columnar book is a directory::

    book.json                 loans, partitions, products, the last closed business date
    p00000/CURRENT            the name of the partition's base generation, e.g. "g-2027-01-28"
    p00000/g-2027-01-28/      the base: loans.parquet (close state, sorted by next_touch),
                              installments.parquet (unsettled only, sorted by due_date),
                              arrears.parquet (penalty base), meta.json
    p00000/days/2027-01-29/   what closing that date decided: state.parquet and
                              arrears.parquet (the touched loans' new rows), penalties,
                              changes, actions, errors; DONE (written last)

Partitions hold loans by id range (loan ``i`` is in partition ``(i - 1) // partition_size``).
Closing date D for a partition reads only what D needs: the base loans whose ``next_touch``
has come (a range of the next_touch-sorted file, found by row-group statistics) and the
newer state rows the days since the base left; those loans' unsettled installments up to the
longest period after D (the installments file is sorted by due date, so row groups beyond are
skipped); the reminder dates' installments; and the arrears of the touched loans. It runs
:func:`tenor.batch.step.close_partition` on them, the same pure step every engine runs, and
writes the day's files. A quiet day touches few loans and writes little; the base is rewritten
only every few days (``compact_after_days``), when the days since it are folded in.

Restartable: every file is written to a temporary name and renamed into place, and a
partition's day ends with its DONE file, so a partition killed at any point is simply
recomputed from the same inputs; the book's ``closed_through`` moves only when every partition
is DONE. A base generation becomes current by renaming ``CURRENT`` last.

In this mode nothing but the close writes to the book (no payments arrive): it is the mode for
the benchmark and for books that live in files; the journal-backed close is ``tenor.batch.close``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Final, TypeVar

import numpy as np
import polars as pl

from tenor.batch.policies import policy_frame
from tenor.batch.step import (
    ARREARS_SCHEMA,
    DEFAULT_REMINDER_OFFSETS,
    ERROR_SCHEMA,
    INSTALLMENT_SCHEMA,
    STATE_SCHEMA,
    UPCOMING_SCHEMA,
    CloseInputs,
    CloseOutputs,
    close_partition,
)
from tenor.core.schedule import Method
from tenor.products import BucketBand, PenaltyDocument, ProductConfig

FORMAT: Final = 1
_T = TypeVar("_T")

#: A loan row of the book: what does not change in this mode, then its last close state.
BOOK_LOAN_SCHEMA: Final = pl.Schema(
    {
        "loan_id": pl.Int64,
        "product_id": pl.Int64,
        "written_off": pl.Boolean,
        "watch_until": pl.Date,
        **{name: kind for name, kind in STATE_SCHEMA.items() if name != "loan_id"},
    }
)

#: An unsettled installment of the book; ``written_off`` is the loan's, so that reminders skip
#: written-off loans without reading the loans.
BOOK_INSTALLMENT_SCHEMA: Final = pl.Schema({**INSTALLMENT_SCHEMA, "written_off": pl.Boolean})
_ARREARS: Final = pl.Schema(ARREARS_SCHEMA)
_ERRORS: Final = pl.Schema(ERROR_SCHEMA)

#: The day's output files, beside state.parquet and arrears.parquet.
OUTPUTS: Final = ("penalties", "changes", "actions", "errors")

#: Rows per Parquet row group: small enough that one day's due installments, or one day's
#: touched loans, are a few row groups of a partition.
ROW_GROUP_ROWS: Final = 32_768

DEFAULT_PARTITION_SIZE: Final = 250_000
DEFAULT_COMPACT_AFTER_DAYS: Final = 7


class BookError(Exception):
    """A columnar book that cannot be used as asked: missing, or a date out of order."""


# ---------------------------------------------------------------------------------------------
# Files


def _write_atomic(frame: pl.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` so that a reader sees the whole file or none of it."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    frame.write_parquet(
        temporary, compression="lz4", statistics=True, row_group_size=ROW_GROUP_ROWS
    )
    os.replace(temporary, path)


def _write_text_atomic(text: str, path: Path) -> None:
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def _partition_dir(book: Path, partition: int) -> Path:
    return book / f"p{partition:05d}"


@dataclass(frozen=True)
class Book:
    """A columnar book's ``book.json``."""

    path: Path
    loans: int
    partition_size: int
    seed: int
    closed_through: dt.date
    products: dict[int, ProductConfig]
    compact_after_days: int

    @property
    def partitions(self) -> int:
        """How many partitions hold the loans."""
        return -(-self.loans // self.partition_size)

    def partition_dir(self, partition: int) -> Path:
        """The directory of one partition."""
        return _partition_dir(self.path, partition)

    def policies(self) -> pl.DataFrame:
        """The products' delinquency policies as the step's frame."""
        return _policies(
            tuple(
                sorted(
                    (product_id, config.model_dump_json())
                    for product_id, config in self.products.items()
                )
            )
        )

    def document(self) -> dict[str, Any]:
        """``book.json``'s content."""
        return {
            "format": FORMAT,
            "loans": self.loans,
            "partition_size": self.partition_size,
            "seed": self.seed,
            "closed_through": self.closed_through.isoformat(),
            "compact_after_days": self.compact_after_days,
            "products": {
                str(product_id): config.model_dump(mode="json")
                for product_id, config in sorted(self.products.items())
            },
        }

    def save(self) -> None:
        """Write ``book.json`` atomically."""
        _write_text_atomic(json.dumps(self.document(), indent=2) + "\n", self.path / "book.json")


@cache
def _policies(products: tuple[tuple[int, str], ...]) -> pl.DataFrame:
    return policy_frame(
        {
            product_id: ProductConfig.model_validate_json(text).delinquency_policy()
            for product_id, text in products
        }
    )


def open_book(path: Path | str) -> Book:
    """The columnar book at ``path``; raises :class:`BookError` when there is none."""
    path = Path(path)
    try:
        document = json.loads((path / "book.json").read_text())
    except FileNotFoundError:
        raise BookError(f"no columnar book at {path} (book.json is missing)") from None
    if document.get("format") != FORMAT:
        raise BookError(f"the book at {path} has format {document.get('format')}, not {FORMAT}")
    return Book(
        path=path,
        loans=int(document["loans"]),
        partition_size=int(document["partition_size"]),
        seed=int(document["seed"]),
        closed_through=dt.date.fromisoformat(document["closed_through"]),
        products={
            int(product_id): ProductConfig.model_validate(config)
            for product_id, config in document["products"].items()
        },
        compact_after_days=int(document["compact_after_days"]),
    )


@dataclass(frozen=True)
class Generation:
    """A partition's base: its directory, the date it holds the book through, its lookahead."""

    path: Path
    base_through: dt.date
    #: The longest installment period in the partition, in days: a touched loan's next
    #: unsettled installment falls due within this many days after the close date.
    lookahead_days: int


def _generation(partition_dir: Path) -> Generation:
    path = partition_dir / (partition_dir / "CURRENT").read_text().strip()
    meta = json.loads((path / "meta.json").read_text())
    return Generation(
        path=path,
        base_through=dt.date.fromisoformat(meta["base_through"]),
        lookahead_days=int(meta["lookahead_days"]),
    )


def _write_generation(
    partition_dir: Path,
    base_through: dt.date,
    loans: pl.DataFrame,
    installments: pl.DataFrame,
    arrears: pl.DataFrame,
) -> None:
    """Write a new base for the partition and make it current (by renaming CURRENT last).

    Installments are sorted by due date only, keeping the order they come in within a date.
    """
    name = f"g-{base_through.isoformat()}"
    path = partition_dir / name
    if path.exists():
        # Left by a run killed before it renamed CURRENT: never current, so safe to replace.
        shutil.rmtree(path)
    path.mkdir(parents=True)
    lookahead = installments.select(
        (pl.col("due_date") - pl.col("start_date")).dt.total_days().max()
    ).item()
    loans.cast(BOOK_LOAN_SCHEMA).sort("loan_id").sort(
        "next_touch", nulls_last=True, maintain_order=True
    ).pipe(_write_atomic, path / "loans.parquet")
    installments.cast(BOOK_INSTALLMENT_SCHEMA).sort("due_date", maintain_order=True).pipe(
        _write_atomic, path / "installments.parquet"
    )
    _by_installment(arrears.cast(_ARREARS)).pipe(_write_atomic, path / "arrears.parquet")
    meta = {"base_through": base_through.isoformat(), "lookahead_days": int(lookahead or 0)}
    _write_text_atomic(json.dumps(meta) + "\n", path / "meta.json")
    previous = partition_dir / "CURRENT"
    old = previous.read_text().strip() if previous.exists() else None
    _write_text_atomic(name + "\n", previous)
    if old is not None and old != name:
        shutil.rmtree(partition_dir / old, ignore_errors=True)


def _by_installment(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` in loan and installment order (one sort key: much cheaper than two)."""
    return frame.sort(pl.col("loan_id") * 4096 + pl.col("number"))


def _day_dir(partition_dir: Path, day: dt.date) -> Path:
    return partition_dir / "days" / day.isoformat()


def _days_since(partition_dir: Path, after: dt.date, before: dt.date) -> list[dt.date]:
    """The closed dates after the base and before ``before``, oldest first."""
    days_dir = partition_dir / "days"
    if not days_dir.exists():
        return []
    days = []
    for entry in days_dir.iterdir():
        day = dt.date.fromisoformat(entry.name)
        if after < day < before and (entry / "DONE").exists():
            days.append(day)
    return sorted(days)


# ---------------------------------------------------------------------------------------------
# Loading one partition for one date


@dataclass(frozen=True)
class PartitionView:
    """What a partition's close of one date reads, and where each touched loan's state came from."""

    inputs: CloseInputs
    #: loan_id and the static columns of each touched loan, to write its new state with.
    touched: pl.DataFrame
    generation: Generation
    #: What the day's payments paid, per installment (written as the day's paid.parquet).
    paid: pl.DataFrame
    #: Payments refused, one error row per loan.
    refused: pl.DataFrame


def _changes_since(partition_dir: Path, days: Sequence[dt.date]) -> pl.LazyFrame | None:
    """Per installment, the penalty posted and the payments applied on ``days``."""
    if not days:
        return None
    posted = pl.concat(
        [pl.scan_parquet(_day_dir(partition_dir, day) / "penalties.parquet") for day in days]
    ).select(
        "loan_id",
        pl.col("installment").alias("number"),
        pl.col("amount_minor").alias("posted_minor"),
        *(pl.lit(0, pl.Int64).alias(name) for name in _PAID_COLUMNS),
    )
    paid = pl.concat(
        [pl.scan_parquet(_day_dir(partition_dir, day) / "paid.parquet") for day in days]
    ).select("loan_id", "number", pl.lit(0, pl.Int64).alias("posted_minor"), *_PAID_COLUMNS)
    return (
        pl.concat([posted, paid])
        .group_by("loan_id", "number")
        .agg(pl.col("posted_minor", *_PAID_COLUMNS).sum())
    )


_PAID_COLUMNS: Final = ("paid_minor", "paid_principal_minor", "paid_interest_minor")


def _with_changes(rows: pl.LazyFrame, changes: pl.LazyFrame | None) -> pl.LazyFrame:
    """Installment rows of the base with later penalties added and payments taken off."""
    if changes is None:
        return rows
    return (
        rows.join(changes, on=["loan_id", "number"], how="left")
        .with_columns(pl.col("posted_minor", *_PAID_COLUMNS).fill_null(0))
        .with_columns(
            pl.col("unpaid_minor") + pl.col("posted_minor") - pl.col("paid_minor"),
            pl.col("unpaid_principal_minor") - pl.col("paid_principal_minor"),
            pl.col("unpaid_interest_minor") - pl.col("paid_interest_minor"),
        )
        .drop("posted_minor", *_PAID_COLUMNS)
        .filter(pl.col("unpaid_minor") > 0)
    )


def _current_loans(
    partition_dir: Path,
    generation: Generation,
    days: Sequence[dt.date],
    day: dt.date | None,
    paying: pl.Series | None = None,
) -> pl.DataFrame:
    """Each loan's latest state row (only those touched on ``day``, unless ``day`` is None).

    A loan is touched when its ``next_touch`` has come or it is ``paying`` on ``day``. The
    ``source`` column is the date whose state file the row came from, null for the base.
    """
    scan = pl.scan_parquet(generation.path / "loans.parquet")
    if day is None:
        base = scan.collect()
    else:
        # Two reads: the next_touch range (a few row groups of the sorted file), and the
        # payers among the rest (only the loan_id column is decoded to find them).
        base = scan.filter(pl.col("next_touch") <= day).collect()
        if paying is not None and paying.len():
            base = pl.concat(
                [
                    base,
                    scan.filter(
                        pl.col("loan_id").is_in(paying.implode())
                        & ~(pl.col("next_touch") <= day).fill_null(value=False)
                    ).collect(),
                ]
            )
    base = base.with_columns(pl.lit(None, pl.Date).alias("source"))
    if days:
        newer = (
            pl.concat(
                [
                    pl.scan_parquet(_day_dir(partition_dir, d) / "state.parquet").with_columns(
                        pl.lit(d).alias("source")
                    )
                    for d in days
                ]
            )
            .collect()
            .sort("source")
            .unique("loan_id", keep="last", maintain_order=True)
        )
        base = pl.concat([base.join(newer.select("loan_id"), on="loan_id", how="anti"), newer])
    if day is not None:
        touched = pl.col("next_touch") <= day
        if paying is not None:
            touched = touched | pl.col("loan_id").is_in(paying.implode())
        base = base.filter(touched.fill_null(value=False))
    return base.sort("loan_id")


def _current_arrears(
    partition_dir: Path, generation: Generation, days: Sequence[dt.date], loans: pl.DataFrame
) -> pl.DataFrame:
    """The arrears rows of ``loans``, each from the file its state row came from."""
    sources = loans.select("loan_id", "source")
    from_base = (
        pl.scan_parquet(generation.path / "arrears.parquet")
        .join(
            sources.filter(pl.col("source").is_null()).select("loan_id").lazy(),
            on="loan_id",
            how="semi",
        )
        .collect()
    )
    parts = [from_base]
    if days:
        newer = (
            pl.concat(
                [
                    pl.scan_parquet(_day_dir(partition_dir, d) / "arrears.parquet").with_columns(
                        pl.lit(d).alias("source")
                    )
                    for d in days
                ]
            )
            .join(sources.filter(pl.col("source").is_not_null()).lazy(), on=["loan_id", "source"])
            .drop("source")
            .collect()
        )
        parts.append(newer)
    return _by_installment(pl.concat(parts).cast(_ARREARS))


def reminder_due_dates(day: dt.date, offsets: Sequence[int]) -> list[dt.date]:
    """The due dates whose installments get a reminder on ``day`` (offset = day - due date)."""
    return sorted({day - dt.timedelta(days=offset) for offset in offsets})


#: A partition's payments received on one date (``<partition>/payments/<date>.parquet``).
PAYMENT_SCHEMA: Final = pl.Schema({"loan_id": pl.Int64, "amount_minor": pl.Int64})


def payments_path(book: Book, partition: int, day: dt.date) -> Path:
    """Where the payments a partition received on ``day`` are put before the close."""
    return book.partition_dir(partition) / "payments" / f"{day.isoformat()}.parquet"


def write_payments(book: Book, partition: int, day: dt.date, payments: pl.DataFrame) -> None:
    """Put the payments one partition received on ``day`` (loan_id, amount_minor) in place."""
    path = payments_path(book, partition, day)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(payments.select(list(PAYMENT_SCHEMA)).cast(PAYMENT_SCHEMA), path)


def apply_payments(
    installments: pl.DataFrame, payments: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The installments after the day's payments, what each installment was paid, and errors.

    A payment goes to the loan's unsettled installments oldest first and, within one, to
    penalty, then interest, then principal (the order of the products of the synthetic book).
    A payment larger than what the loan owes within the loaded installments is refused whole
    for that loan, with an error row, and the loan's installments stay as they were.
    """
    totals = payments.group_by("loan_id").agg(pl.col("amount_minor").sum())
    owed = installments.group_by("loan_id").agg(pl.col("unpaid_minor").sum().alias("owed"))
    checked = totals.join(owed, on="loan_id", how="left").with_columns(pl.col("owed").fill_null(0))
    errors = checked.filter(
        (pl.col("amount_minor") > pl.col("owed")) | (pl.col("amount_minor") <= 0)
    ).select(
        "loan_id",
        pl.format(
            "a payment of {} minor units is not positive or is more than the {} due",
            "amount_minor",
            "owed",
        ).alias("message"),
    )
    good = checked.join(errors.select("loan_id"), on="loan_id", how="anti").select(
        "loan_id", pl.col("amount_minor").alias("payment")
    )
    ordered = _by_installment(installments.join(good, on="loan_id"))
    # Owed before each installment within its loan: a running sum over the sorted frame less
    # its value where the loan starts (a window over many small groups is far slower).
    running = pl.col("unpaid_minor").cum_sum() - pl.col("unpaid_minor")
    starts = pl.col("loan_id") != pl.col("loan_id").shift(1)
    before = running - pl.when(starts.fill_null(value=True)).then(running).forward_fill()
    paid = pl.min_horizontal(
        pl.max_horizontal(pl.col("payment") - before, pl.lit(0, pl.Int64)), pl.col("unpaid_minor")
    )
    penalty = (
        pl.col("unpaid_minor") - pl.col("unpaid_principal_minor") - pl.col("unpaid_interest_minor")
    )
    after_penalty = pl.max_horizontal(pl.col("paid_minor") - penalty, pl.lit(0, pl.Int64))
    interest = pl.min_horizontal(after_penalty, pl.col("unpaid_interest_minor"))
    allocation = (
        ordered.with_columns(paid.alias("paid_minor"))
        .filter(pl.col("paid_minor") > 0)
        .with_columns(interest.alias("paid_interest_minor"))
        .with_columns(
            pl.min_horizontal(
                pl.max_horizontal(
                    after_penalty - pl.col("paid_interest_minor"), pl.lit(0, pl.Int64)
                ),
                pl.col("unpaid_principal_minor"),
            ).alias("paid_principal_minor")
        )
        .select("loan_id", "number", *_PAID_COLUMNS)
    )
    allocation = _by_installment(allocation)
    after = _with_changes(
        installments.lazy(),
        allocation.lazy().with_columns(pl.lit(0, pl.Int64).alias("posted_minor")),
    ).collect()
    return _by_installment(after), allocation, errors


def load_partition(
    book: Book, partition: int, day: dt.date, reminder_offsets: Sequence[int]
) -> PartitionView:
    """What closing ``day`` needs from one partition, reading only those rows.

    The day's payments are applied to the installments here (``PartitionView.paid``), so the
    inputs are the book as it stands at the end of ``day``, before the close.
    """
    partition_dir = book.partition_dir(partition)
    generation = _generation(partition_dir)
    days = _days_since(partition_dir, generation.base_through, day)
    changes = _changes_since(partition_dir, days)
    payments_file = payments_path(book, partition, day)
    payments = (
        pl.read_parquet(payments_file).cast(PAYMENT_SCHEMA)
        if payments_file.exists()
        else pl.DataFrame(schema=PAYMENT_SCHEMA)
    )
    touched = _current_loans(partition_dir, generation, days, day, payments["loan_id"].unique())
    ids = touched["loan_id"]
    installments_file = generation.path / "installments.parquet"
    horizon = day + dt.timedelta(days=generation.lookahead_days)

    def read(rows: pl.Expr) -> pl.DataFrame:
        return (
            _with_changes(pl.scan_parquet(installments_file).filter(rows), changes)
            .select(list(INSTALLMENT_SCHEMA))
            .collect()
        )

    loaded = read((pl.col("due_date") <= horizon) & pl.col("loan_id").is_in(ids.implode()))
    # A payment for more than the loan owes within the horizon pays installments beyond it:
    # only for those (rare) loans are the later installments read.
    owed = loaded.group_by("loan_id").agg(pl.col("unpaid_minor").sum().alias("owed"))
    beyond = (
        payments.group_by("loan_id")
        .agg(pl.col("amount_minor").sum())
        .join(owed, on="loan_id", how="left")
        .filter(pl.col("amount_minor") > pl.col("owed").fill_null(0))["loan_id"]
    )
    if beyond.len():
        later = read((pl.col("due_date") > horizon) & pl.col("loan_id").is_in(beyond.implode()))
        loaded = _by_installment(pl.concat([loaded, later]))
    installments, paid, refused = apply_payments(loaded, payments)
    due_dates = reminder_due_dates(day, reminder_offsets)
    upcoming = (
        _with_changes(
            pl.scan_parquet(installments_file).filter(
                pl.col("due_date").is_between(due_dates[0], due_dates[-1])
                & pl.col("due_date").is_in(due_dates)
                & ~pl.col("written_off")
            ),
            changes,
        )
        .select(list(INSTALLMENT_SCHEMA))
        .collect()
    )
    upcoming = _with_changes(
        upcoming.lazy(), paid.lazy().with_columns(pl.lit(0, pl.Int64).alias("posted_minor"))
    ).collect()
    inputs = CloseInputs(
        loans=touched.select(
            "loan_id",
            "product_id",
            "written_off",
            "watch_until",
            pl.col("bucket").alias("prev_bucket"),
            pl.col("loan_class").alias("prev_class"),
            pl.col("stage").alias("prev_stage"),
            "penalty_through",
        ),
        installments=installments,
        arrears_before=_current_arrears(partition_dir, generation, days, touched),
        upcoming=_by_installment(upcoming.select(list(UPCOMING_SCHEMA))),
    )
    return PartitionView(
        inputs=inputs,
        touched=touched.select("loan_id", "product_id", "written_off", "watch_until"),
        generation=generation,
        paid=paid,
        refused=refused,
    )


# ---------------------------------------------------------------------------------------------
# Closing


@dataclass(frozen=True)
class PartitionResult:
    """What one partition's close of one date did (also the content of its DONE file)."""

    partition: int
    touched: int
    installments_read: int
    penalties: int
    penalty_minor: int
    changes: int
    actions: int
    errors: int
    #: CPU seconds the partition's close took in its process (all threads): what the wall
    #: time would be on an otherwise idle machine, one core per worker.
    cpu_seconds: float = 0.0
    compacted: bool = False

    def document(self) -> dict[str, Any]:
        """The DONE file's content."""
        return {
            "partition": self.partition,
            "touched": self.touched,
            "installments_read": self.installments_read,
            "penalties": self.penalties,
            "penalty_minor": self.penalty_minor,
            "changes": self.changes,
            "actions": self.actions,
            "errors": self.errors,
            "cpu_seconds": self.cpu_seconds,
        }


def _write_day(
    day_dir: Path, view: PartitionView, outputs: CloseOutputs, partition: int, started: float
) -> PartitionResult:
    day_dir.mkdir(parents=True, exist_ok=True)
    state = (
        outputs.state.join(view.touched, on="loan_id")
        .select(list(BOOK_LOAN_SCHEMA))
        .sort("loan_id")
    )
    _write_atomic(state, day_dir / "state.parquet")
    _write_atomic(outputs.arrears_after, day_dir / "arrears.parquet")
    _write_atomic(view.paid, day_dir / "paid.parquet")
    for name in OUTPUTS:
        frame = getattr(outputs, name)
        if name == "errors":
            frame = pl.concat([frame, view.refused.cast(_ERRORS)]).sort("loan_id")
        _write_atomic(frame, day_dir / f"{name}.parquet")
    result = PartitionResult(
        partition=partition,
        touched=view.inputs.loans.height,
        installments_read=view.inputs.installments.height + view.inputs.upcoming.height,
        penalties=outputs.penalties.height,
        penalty_minor=int(outputs.penalties["amount_minor"].sum()),
        changes=outputs.changes.height,
        actions=outputs.actions.height,
        errors=outputs.errors.height + view.refused.height,
        cpu_seconds=time.process_time() - started,
    )
    # Written last: the partition's day is done exactly when this file exists.
    _write_text_atomic(json.dumps(result.document()) + "\n", day_dir / "DONE")
    return result


def close_partition_day(
    book: Book,
    partition: int,
    day: dt.date,
    reminder_offsets: Sequence[int],
) -> PartitionResult:
    """Close ``day`` for one partition, or report what an earlier run already did.

    Afterwards the partition's base is compacted when ``book.compact_after_days`` closed
    dates have piled up since it.
    """
    partition_dir = book.partition_dir(partition)
    day_dir = _day_dir(partition_dir, day)
    done = day_dir / "DONE"
    if done.exists():
        result = PartitionResult(**json.loads(done.read_text()))
    else:
        started = time.process_time()
        view = load_partition(book, partition, day, reminder_offsets)
        outputs = close_partition(
            view.inputs, day, book.policies(), reminder_offsets=tuple(reminder_offsets)
        )
        result = _write_day(day_dir, view, outputs, partition, started)
    generation = _generation(partition_dir)
    pending = _days_since(partition_dir, generation.base_through, day + dt.timedelta(days=1))
    if len(pending) >= book.compact_after_days:
        compact_partition(book, partition, through=day)
        return PartitionResult(**{**result.document(), "compacted": True})
    return result


def partition_book(
    book: Book, partition: int, through: dt.date | None = None, *, ordered: bool = True
) -> dict[str, pl.DataFrame]:
    """A partition's whole book as of ``through`` (default: its last closed date), merged.

    ``loans`` (every loan's latest state), ``installments`` (unsettled, with the penalty
    posted since the base) and ``arrears``: what a new base holds, and what tests compare.
    ``ordered`` sorts the installments by loan and number (a compaction does not need it).
    """
    partition_dir = book.partition_dir(partition)
    generation = _generation(partition_dir)
    until = (through or book.closed_through) + dt.timedelta(days=1)
    days = _days_since(partition_dir, generation.base_through, until)
    loans = _current_loans(partition_dir, generation, days, None)
    installments = _with_changes(
        pl.scan_parquet(generation.path / "installments.parquet"),
        _changes_since(partition_dir, days),
    ).collect()
    arrears = _current_arrears(partition_dir, generation, days, loans)
    return {
        "loans": loans.drop("source").cast(BOOK_LOAN_SCHEMA).sort("loan_id"),
        "installments": (_by_installment(installments) if ordered else installments).cast(
            BOOK_INSTALLMENT_SCHEMA
        ),
        "arrears": arrears,
    }


def compact_partition(book: Book, partition: int, *, through: dt.date) -> None:
    """Fold the closed dates up to ``through`` into a new base for the partition."""
    partition_dir = book.partition_dir(partition)
    if _generation(partition_dir).base_through >= through:
        return
    merged = partition_book(book, partition, through, ordered=False)
    _write_generation(
        partition_dir, through, merged["loans"], merged["installments"], merged["arrears"]
    )


def _close_task(path: str, partition: int, day: str, offsets: tuple[int, ...]) -> PartitionResult:
    """The process pool's unit of work (arguments are plain, to pickle cheaply)."""
    return close_partition_day(open_book(path), partition, dt.date.fromisoformat(day), offsets)


@dataclass(frozen=True)
class DayResult:
    """One closed business date of the whole book."""

    day: dt.date
    partitions: tuple[PartitionResult, ...]

    def total(self, field: str) -> int:
        """The sum of one of :class:`PartitionResult`'s counts over the partitions."""
        return sum(int(getattr(result, field)) for result in self.partitions)

    @property
    def cpu_seconds(self) -> float:
        """CPU seconds over every partition."""
        return sum(result.cpu_seconds for result in self.partitions)


def _executor(workers: int) -> ProcessPoolExecutor:
    # Spawned, not forked: Polars runs thread pools, which a fork would copy mid-flight.
    return ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"))


def _ready(_: int) -> int:
    return os.getpid()


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes with Tenor already imported, to pass as ``executor``."""
    pool = _executor(workers)
    list(pool.map(_ready, range(workers)))
    return pool


def _run_tasks(
    function: Callable[..., _T],
    tasks: Sequence[tuple[Any, ...]],
    workers: int,
    executor: Executor | None,
) -> list[_T]:
    if executor is not None:
        return list(executor.map(function, *zip(*tasks, strict=True)))
    if workers <= 1:
        return [function(*task) for task in tasks]
    with _executor(workers) as pool:
        return list(pool.map(function, *zip(*tasks, strict=True)))


def close_day(
    path: Path | str,
    day: dt.date | None = None,
    *,
    workers: int = 1,
    reminder_offsets: Sequence[int] | None = None,
    executor: Executor | None = None,
) -> DayResult:
    """Close the book's next business date (``day`` must be it) over every partition.

    Partitions already DONE for the date (a run killed part-way) are not closed again. With
    ``workers`` above 1 the partitions run in a process pool.
    """
    book = open_book(path)
    expected = book.closed_through + dt.timedelta(days=1)
    if day is None:
        day = expected
    if day != expected:
        raise BookError(
            f"the book is closed through {book.closed_through}; the next date to close is "
            f"{expected}, not {day}"
        )
    offsets = tuple(DEFAULT_REMINDER_OFFSETS if reminder_offsets is None else reminder_offsets)
    tasks = [
        (str(book.path), partition, day.isoformat(), offsets)
        for partition in range(book.partitions)
    ]
    results = _run_tasks(_close_task, tasks, workers, executor)
    # The book moves on only when every partition is done: a run killed before this line
    # closes the same date again and finds the finished partitions DONE.
    book = open_book(path)
    Book(**{**book.__dict__, "closed_through": day}).save()
    return DayResult(day=day, partitions=tuple(results))


def close_through(
    path: Path | str, through: dt.date, *, workers: int = 1, executor: Executor | None = None
) -> list[DayResult]:
    """Close every business date up to ``through``, one after another (catching up)."""
    results = []
    pool = executor or (process_pool(workers) if workers > 1 else None)
    try:
        while open_book(path).closed_through < through:
            results.append(close_day(path, workers=workers, executor=pool))
    finally:
        if pool is not None and executor is None:
            pool.shutdown()
    return results


def read_outputs(path: Path | str, name: str) -> pl.DataFrame:
    """One output (penalties, changes, actions, errors, state) of every closed date and partition.

    A ``day`` column says which date decided each row.
    """
    book = open_book(path)
    frames = []
    for partition in range(book.partitions):
        days_dir = book.partition_dir(partition) / "days"
        if not days_dir.exists():
            continue
        for entry in sorted(days_dir.iterdir()):
            if (entry / "DONE").exists():
                frames.append(
                    pl.read_parquet(entry / f"{name}.parquet").with_columns(
                        pl.lit(dt.date.fromisoformat(entry.name)).alias("day")
                    )
                )
    if not frames:
        return pl.DataFrame()
    return pl.concat(frames).sort("day", "loan_id", maintain_order=True)


# ---------------------------------------------------------------------------------------------
# The bare scan: the floor a close is measured against


def _scan_task(path: str, partition: int) -> float:
    started = time.process_time()
    generation = _generation(_partition_dir(Path(path), partition))
    total = 0
    for name, column in (
        ("loans.parquet", "overdue_minor"),
        ("installments.parquet", "unpaid_minor"),
        ("arrears.parquet", "principal_minor"),
    ):
        frame = pl.read_parquet(generation.path / name)
        total += frame.height + int(frame[column].sum())
    # The sum only makes sure every value was decoded.
    assert total >= 0
    return time.process_time() - started


def scan_book(path: Path | str, *, workers: int = 1, executor: Executor | None = None) -> float:
    """Read every column of every base file of the book and sum a column of each: the floor.

    Returns the CPU seconds it took over all partitions.
    """
    book = open_book(path)
    tasks = [(str(book.path), partition) for partition in range(book.partitions)]
    return sum(_run_tasks(_scan_task, tasks, workers, executor))


def _compact_task(path: str, partition: int) -> None:
    book = open_book(path)
    compact_partition(book, partition, through=book.closed_through)


def compact_book(path: Path | str, *, workers: int = 1, executor: Executor | None = None) -> None:
    """Fold every partition's closed dates into a new base (the close does it every few days)."""
    book = open_book(path)
    tasks = [(str(book.path), partition) for partition in range(book.partitions)]
    _run_tasks(_compact_task, tasks, workers, executor)


# ---------------------------------------------------------------------------------------------
# The synthetic book


#: Four products of a consumer and small-business lender, all lending 12 months in CNY.
SYNTHETIC_PRODUCTS: Final[dict[int, ProductConfig]] = {
    # A consumer cash loan: the common PBOC-style penalty, 0.05% a day after 3 days' grace.
    1: ProductConfig(currency="CNY", annual_rate_percent=Decimal("23.9"), terms=[12]),
    # A credit-line draw: no grace, a lower penalty.
    2: ProductConfig(
        currency="CNY",
        annual_rate_percent=Decimal("18"),
        terms=[12],
        penalty=PenaltyDocument(daily_rate_percent=Decimal("0.04"), grace_days=0),
    ),
    # A small-business working-capital loan in equal principal, with a 10 CNY tolerance and
    # penalty on principal only, from the end of grace.
    3: ProductConfig(
        currency="CNY",
        method=Method.EQUAL_PRINCIPAL,
        annual_rate_percent=Decimal("8.5"),
        terms=[12],
        arrears_tolerance=Decimal("10"),
        penalty=PenaltyDocument(
            daily_rate_percent=Decimal("0.03"),
            grace_days=5,
            include_interest=False,
            charge_from_due_date=False,
        ),
    ),
    # A car loan that reports in US-style 30-day buckets.
    4: ProductConfig(
        currency="CNY",
        annual_rate_percent=Decimal("12"),
        terms=[12],
        buckets=[
            BucketBand(name="Current", min_dpd=0, max_dpd=29),
            BucketBand(name="30-59", min_dpd=30, max_dpd=59),
            BucketBand(name="60-89", min_dpd=60, max_dpd=89),
            BucketBand(name="90+", min_dpd=90),
        ],
    ),
}

#: Share of loans, median principal (CNY) and annual rate (basis points) per product.
_PRODUCT_MIX: Final = (
    (1, 0.55, 8_000, 2390),
    (2, 0.25, 5_000, 1800),
    (3, 0.08, 300_000, 850),
    (4, 0.12, 60_000, 1200),
)

#: Due days: most borrowers pick one just after payday; nobody may pick the 29th to 31st.
_SALARY_DAYS: Final = ((1, 0.25), (5, 0.10), (10, 0.20), (15, 0.20), (20, 0.15), (25, 0.10))
_SALARY_SHARE: Final = 0.7

#: Delinquency mix: share of loans with an installment due, and the DPD range they are in.
_DELINQUENCY_MIX: Final = (
    (0.040, 1, 30),
    (0.012, 31, 60),
    (0.007, 61, 90),
    (0.010, 91, 180),
    (0.008, 181, 330),
)
#: Of loans beyond 180 days, the share already written off.
_WRITTEN_OFF_SHARE: Final = 0.6
#: Share of loans on a watch list (class at least 关注, stage 2 until it ends).
_WATCH_SHARE: Final = 0.005
TERM: Final = 12


def _month_days(months: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Dates (datetime64[D]) from months since 1970 and days of the month (1-based)."""
    first: np.ndarray = months.astype("datetime64[M]").astype("datetime64[D]")
    dates: np.ndarray = first + (days - 1).astype("timedelta64[D]")
    return dates


def synthetic_partition(
    seed: int,
    partition: int,
    first_loan: int,
    count: int,
    closed_through: dt.date,
    products: Mapping[int, ProductConfig] = SYNTHETIC_PRODUCTS,
    *,
    with_schedule: bool = False,
) -> dict[str, pl.DataFrame]:
    """One partition of the synthetic book as of the close of ``closed_through``.

    Vectorised numpy draws from a generator seeded by ``(seed, partition)``, so the same
    arguments give the same frames in any process. ``loans`` (BOOK_LOAN_SCHEMA),
    ``installments`` (the unsettled ones, BOOK_INSTALLMENT_SCHEMA), ``arrears``; and with
    ``with_schedule`` the ``schedule`` (every installment, settled or not, with what was
    paid: the rows a database book keeps) and ``terms`` (principal, rate in basis points,
    origination date per loan).
    """
    rng = np.random.default_rng([seed, partition])
    loan_id = np.arange(first_loan, first_loan + count, dtype=np.int64)

    ids, shares, medians, rates = (np.array(column) for column in zip(*_PRODUCT_MIX, strict=True))
    pick = rng.choice(len(ids), size=count, p=shares / shares.sum())
    product_id = ids[pick].astype(np.int64)
    # Principal: log-normal around the product's median, in whole hundreds of yuan.
    principal_yuan = np.maximum(
        np.round(medians[pick] * rng.lognormal(0.0, 0.6, size=count), -2), 1_000
    )
    principal = (principal_yuan * 100).astype(np.int64)
    rate_bp = rates[pick].astype(np.int64)

    # Origination over the 13 months up to the close, growing 3% a month; days 1..28.
    closed = np.datetime64(closed_through, "D")
    closed_month = closed.astype("datetime64[M]").astype(np.int64)
    back = np.arange(13)
    weights = 1.03 ** -back.astype(float)
    months_back = rng.choice(back, size=count, p=weights / weights.sum())
    origination_month = closed_month - months_back
    origination_day = rng.integers(1, 29, size=count)
    last_day = closed.astype("datetime64[M]").astype("datetime64[D]")
    this_month_max = (closed - last_day).astype(np.int64) + 1
    origination_day = np.where(
        months_back == 0, np.minimum(origination_day, this_month_max), origination_day
    )
    origination = _month_days(origination_month, origination_day)

    salary_days, salary_weights = (np.array(column) for column in zip(*_SALARY_DAYS, strict=True))
    due_day = np.where(
        rng.random(count) < _SALARY_SHARE,
        rng.choice(salary_days, size=count, p=salary_weights / salary_weights.sum()),
        rng.integers(1, 29, size=count),
    )

    # The schedule: 12 monthly installments, the first a month after origination. Amounts are
    # whole minor units: interest on the balance rounded half up; the level annuity payment is
    # found with floats but is itself a whole amount, and the last installment takes the rest.
    numbers = np.arange(1, TERM + 1)
    due = _month_days(origination_month[:, None] + numbers[None, :], due_day[:, None])
    start = np.concatenate([origination[:, None], due[:, :-1]], axis=1)
    monthly = rate_bp / 120_000
    level = np.ceil(principal * monthly / (1 - (1 + monthly) ** -TERM)).astype(np.int64)
    equal_principal = product_id == 3
    interest = np.zeros((count, TERM), dtype=np.int64)
    principal_part = np.zeros((count, TERM), dtype=np.int64)
    balance = principal.copy()
    for index in range(TERM):
        interest[:, index] = (2 * balance * rate_bp + 120_000) // 240_000
        part = np.where(equal_principal, principal // TERM, level - interest[:, index])
        part = np.clip(part, 0, balance) if index < TERM - 1 else balance
        principal_part[:, index] = part
        balance = balance - part

    # Delinquency: a loan in a DPD range leaves unpaid every installment from the first one
    # due on or after (close + 1) - DPD; a few paid part of that one (interest first).
    opening = closed + np.timedelta64(1, "D")
    dpd_target = np.zeros(count, dtype=np.int64)
    draw = rng.random(count)
    floor = 0.0
    for share, low, high in _DELINQUENCY_MIX:
        band = (draw >= floor) & (draw < floor + share)
        dpd_target[band] = rng.integers(low, high + 1, size=int(band.sum()))
        floor += share
    anchor_target = opening - dpd_target.astype("timedelta64[D]")
    fell_due = due <= closed
    delinquent_from = np.where(dpd_target[:, None] > 0, due >= anchor_target[:, None], False)
    unpaid_mask = ~fell_due | (fell_due & delinquent_from)
    delinquent = (unpaid_mask & fell_due).any(axis=1)
    first_unpaid = np.argmax(unpaid_mask & fell_due, axis=1)
    unpaid_principal = np.where(unpaid_mask, principal_part, 0)
    unpaid_interest = np.where(unpaid_mask, interest, 0)
    partial = delinquent & (rng.random(count) < 0.3)
    rows = np.nonzero(partial)[0]
    cols = first_unpaid[rows]
    owed = unpaid_principal[rows, cols] + unpaid_interest[rows, cols]
    paid = (owed * rng.uniform(0.1, 0.9, size=rows.size)).astype(np.int64)
    paid_interest = np.minimum(paid, unpaid_interest[rows, cols])
    unpaid_interest[rows, cols] -= paid_interest
    unpaid_principal[rows, cols] -= paid - paid_interest
    written_off = delinquent & (dpd_target > 180) & (rng.random(count) < _WRITTEN_OFF_SHARE)

    # Penalty already posted on the oldest overdue installment: roughly its base times the
    # product's daily rate over the days since it fell due (history; the close adds to it).
    daily = {pid: products[pid].delinquency_policy().penalty.daily_rate for pid in products}
    per_million = np.vectorize(lambda pid: int(daily[int(pid)] * 1_000_000))(ids)[pick]
    oldest_due = due[np.arange(count), first_unpaid]
    days_overdue = np.maximum((closed - oldest_due).astype(np.int64), 0)
    oldest_base = (
        unpaid_principal[np.arange(count), first_unpaid]
        + unpaid_interest[np.arange(count), first_unpaid]
    )
    penalty = np.where(
        delinquent & ~written_off, oldest_base * per_million * days_overdue // 1_000_000, 0
    )
    penalty_matrix = np.zeros((count, TERM), dtype=np.int64)
    penalty_matrix[np.arange(count), first_unpaid] = penalty
    unpaid = unpaid_principal + unpaid_interest + np.where(unpaid_mask, penalty_matrix, 0)

    watch = ~delinquent & (rng.random(count) < _WATCH_SHARE)
    watch_until = np.where(
        watch,
        closed + rng.integers(1, 91, size=count).astype("timedelta64[D]"),
        np.datetime64("NaT"),
    )

    keep = unpaid > 0
    installments = pl.DataFrame(
        {
            "loan_id": np.repeat(loan_id, TERM)[keep.ravel()],
            "number": np.tile(numbers, count)[keep.ravel()].astype(np.int32),
            "start_date": start[keep],
            "due_date": due[keep],
            "interest_minor": interest[keep],
            "unpaid_principal_minor": unpaid_principal[keep],
            "unpaid_interest_minor": unpaid_interest[keep],
            "unpaid_minor": unpaid[keep],
            "written_off": np.repeat(written_off, TERM)[keep.ravel()],
        }
    ).cast(BOOK_INSTALLMENT_SCHEMA)
    loans = pl.DataFrame(
        {
            "loan_id": loan_id,
            "product_id": product_id,
            "written_off": written_off,
            "watch_until": watch_until,
        }
    ).with_columns(pl.col("watch_until").cast(pl.Date))
    loans, arrears = _initial_state(
        loans, installments, closed_through, products, delinquent | watch
    )
    frames = {"loans": loans, "installments": installments, "arrears": arrears}
    if with_schedule:
        frames["schedule"] = pl.DataFrame(
            {
                "loan_id": np.repeat(loan_id, TERM),
                "number": np.tile(numbers, count).astype(np.int32),
                "start_date": start.ravel(),
                "due_date": due.ravel(),
                "principal_minor": principal_part.ravel(),
                "interest_minor": interest.ravel(),
                "penalty_minor": np.where(unpaid_mask, penalty_matrix, 0).ravel(),
                "paid_principal_minor": (principal_part - unpaid_principal).ravel(),
                "paid_interest_minor": (interest - unpaid_interest).ravel(),
                "unpaid_minor": unpaid.ravel(),
            }
        ).with_columns(pl.col("start_date", "due_date").cast(pl.Date))
        frames["terms"] = pl.DataFrame(
            {
                "loan_id": loan_id,
                "principal_minor": principal,
                "rate_bp": rate_bp,
                "origination": origination,
            }
        ).with_columns(pl.col("origination").cast(pl.Date))
    return frames


def _initial_state(
    loans: pl.DataFrame,
    installments: pl.DataFrame,
    closed_through: dt.date,
    products: Mapping[int, ProductConfig],
    stepped: np.ndarray,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The close state of every loan as the close of ``closed_through`` left it.

    Delinquent and watched loans get theirs from the step itself (a first close, so the same
    rules decide it); a loan that is current and not watched is in its product's first
    bucket, 正常, stage 1, and is next touched when its next installment falls due.
    """
    policies = policy_frame(
        {product_id: config.delinquency_policy() for product_id, config in products.items()}
    )
    special = loans.filter(pl.Series(stepped))
    special_installments = installments.join(special.select("loan_id"), on="loan_id", how="semi")
    outputs = close_partition(
        CloseInputs(
            loans=special.with_columns(
                pl.lit(None, pl.Utf8).alias("prev_bucket"),
                pl.lit(None, pl.Int8).alias("prev_class"),
                pl.lit(None, pl.Int8).alias("prev_stage"),
                pl.lit(closed_through).alias("penalty_through"),
            ),
            installments=special_installments,
            arrears_before=pl.DataFrame(schema=_ARREARS),
            upcoming=pl.DataFrame(schema=UPCOMING_SCHEMA),
        ),
        closed_through,
        policies,
    )
    first_bucket = policies.select("product_id", pl.col("band_names").list.first().alias("bucket"))
    current = loans.filter(~pl.Series(stepped))
    current_installments = installments.join(current.select("loan_id"), on="loan_id", how="semi")
    period = current_installments.filter(
        (pl.col("start_date") <= closed_through) & (pl.col("due_date") > closed_through)
    )
    elapsed = (pl.lit(closed_through) - pl.col("start_date")).dt.total_days() + 1
    length = (pl.col("due_date") - pl.col("start_date")).dt.total_days()
    accrued = period.group_by("loan_id").agg(
        ((pl.col("interest_minor") * elapsed) // length).sum().alias("accrued_interest_minor")
    )
    next_due = (
        current_installments.filter(pl.col("due_date") > closed_through)
        .group_by("loan_id")
        .agg(pl.col("due_date").min().alias("next_touch"))
    )
    current_state = (
        current.join(first_bucket, on="product_id", how="left")
        .join(accrued, on="loan_id", how="left")
        .join(next_due, on="loan_id", how="left")
        .with_columns(
            pl.lit(None, pl.Date).alias("dpd_anchor"),
            pl.lit(0, pl.Int32).alias("days_past_due"),
            pl.lit(1, pl.Int8).alias("loan_class"),
            pl.lit(1, pl.Int8).alias("stage"),
            pl.lit(0, pl.Int64).alias("overdue_minor"),
            pl.col("accrued_interest_minor").fill_null(0),
            pl.lit(closed_through).alias("penalty_through"),
        )
        .select(list(BOOK_LOAN_SCHEMA))
        .cast(BOOK_LOAN_SCHEMA)
    )
    special_state = outputs.state.join(
        special.select("loan_id", "product_id", "written_off", "watch_until"), on="loan_id"
    ).select(list(BOOK_LOAN_SCHEMA))
    state = pl.concat([current_state, special_state]).sort("loan_id")
    return state, outputs.arrears_after


def synthetic_payments(
    book: Book,
    partition: int,
    day: dt.date,
    *,
    on_time: float = 0.96,
    behind_pays: float = 0.25,
) -> pl.DataFrame:
    """The payments one partition of a synthetic book receives on ``day``, drawn with a seed.

    Of the installments falling due on ``day``, a current loan's is paid in full with
    probability ``on_time``; a loan already behind pays the same amount with probability
    ``behind_pays`` (which goes to its oldest arrears first). Written-off loans pay nothing.
    """
    partition_dir = book.partition_dir(partition)
    generation = _generation(partition_dir)
    days = _days_since(partition_dir, generation.base_through, day)
    due = (
        _with_changes(
            pl.scan_parquet(generation.path / "installments.parquet").filter(
                (pl.col("due_date") == day) & ~pl.col("written_off")
            ),
            _changes_since(partition_dir, days),
        )
        .select("loan_id", "unpaid_minor")
        .collect()
        .sort("loan_id")
    )
    standing = _current_loans(partition_dir, generation, days, day).select(
        "loan_id", pl.col("dpd_anchor").is_null().alias("current")
    )
    due = (
        due.join(standing, on="loan_id", how="left")
        .with_columns(pl.col("current").fill_null(value=True))
        .sort("loan_id")
    )
    rng = np.random.default_rng([book.seed, partition, day.toordinal()])
    draw = pl.Series("draw", rng.random(due.height))
    chance = pl.when(pl.col("current")).then(on_time).otherwise(behind_pays)
    return (
        due.with_columns(draw)
        .filter(pl.col("draw") < chance)
        .select("loan_id", pl.col("unpaid_minor").alias("amount_minor"))
        .cast(PAYMENT_SCHEMA)
    )


def _payments_task(path: str, partition: int, day: str) -> int:
    book = open_book(path)
    payments = synthetic_payments(book, partition, dt.date.fromisoformat(day))
    write_payments(book, partition, dt.date.fromisoformat(day), payments)
    return payments.height


def write_synthetic_payments(
    path: Path | str, day: dt.date, *, workers: int = 1, executor: Executor | None = None
) -> int:
    """Put every partition's synthetic payments for ``day`` in place; how many there are."""
    book = open_book(path)
    tasks = [(str(book.path), partition, day.isoformat()) for partition in range(book.partitions)]
    return sum(_run_tasks(_payments_task, tasks, workers, executor))


def _generate_task(path: str, partition: int) -> float:
    started = time.process_time()
    book = open_book(path)
    first = partition * book.partition_size + 1
    count = min(book.partition_size, book.loans - partition * book.partition_size)
    frames = synthetic_partition(
        book.seed, partition, first, count, book.closed_through, book.products
    )
    partition_dir = book.partition_dir(partition)
    if partition_dir.exists():
        shutil.rmtree(partition_dir)
    partition_dir.mkdir(parents=True)
    _write_generation(
        partition_dir,
        book.closed_through,
        frames["loans"],
        frames["installments"],
        frames["arrears"],
    )
    return time.process_time() - started


def generate_book(
    path: Path | str,
    *,
    loans: int,
    closed_through: dt.date,
    seed: int = 0,
    partition_size: int = DEFAULT_PARTITION_SIZE,
    compact_after_days: int = DEFAULT_COMPACT_AFTER_DAYS,
    workers: int = 1,
    executor: Executor | None = None,
    products: Mapping[int, ProductConfig] = SYNTHETIC_PRODUCTS,
) -> Book:
    """Write a synthetic book of ``loans`` loans at ``path``, closed through ``closed_through``.

    Reproducible: the same ``loans``, ``seed``, ``partition_size`` and date give the same
    book, whatever ``workers``. Anything already at ``path`` is replaced.
    """
    if loans < 1 or partition_size < 1:
        raise BookError("a book needs at least one loan and partitions of at least one loan")
    path = Path(path)
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    book = Book(
        path=path,
        loans=loans,
        partition_size=partition_size,
        seed=seed,
        closed_through=closed_through,
        products=dict(products),
        compact_after_days=compact_after_days,
    )
    book.save()
    tasks = [(str(path), partition) for partition in range(book.partitions)]
    _run_tasks(_generate_task, tasks, workers, executor)
    return book
