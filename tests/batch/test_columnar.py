"""The columnar book: a reproducible synthetic book, a close equal to the step, restarts."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tenor.batch import columnar
from tenor.batch.columnar import (
    BOOK_LOAN_SCHEMA,
    Book,
    BookError,
    apply_payments,
    close_day,
    generate_book,
    open_book,
    partition_book,
    read_outputs,
    synthetic_payments,
    write_payments,
)
from tenor.batch.step import (
    DEFAULT_REMINDER_OFFSETS,
    INSTALLMENT_SCHEMA,
    LOAN_SCHEMA,
    UPCOMING_SCHEMA,
    CloseInputs,
    close_partition,
)

CLOSED = dt.date(2027, 1, 28)
#: Two quiet days, a month end, a salary day with many installments due, and one more.
DAYS = [CLOSED + dt.timedelta(days=n) for n in range(1, 6)]


def _book(path: Path, *, loans: int = 3_000, seed: int = 7, compact_after_days: int = 2) -> Book:
    return generate_book(
        path,
        loans=loans,
        closed_through=CLOSED,
        seed=seed,
        partition_size=1_000,
        compact_after_days=compact_after_days,
    )


def _files(path: Path) -> dict[str, pl.DataFrame]:
    return {
        str(file.relative_to(path)): pl.read_parquet(file)
        for file in sorted(path.rglob("*.parquet"))
    }


def _put_payments(book: Book, day: dt.date) -> None:
    """The day's synthetic payments, plus a prepayment and a payment larger than the loan."""
    for partition in range(book.partitions):
        payments = synthetic_payments(book, partition, day)
        if partition == 0:
            # A loan with nothing due for a while pays early; loan 6 pays far too much.
            loans = partition_book(book, 0, day - dt.timedelta(days=1))["loans"]
            early = loans.filter(
                (pl.col("next_touch") > day + dt.timedelta(days=5)) & (pl.col("loan_id") > 6)
            )["loan_id"][0]
            extra = pl.DataFrame(
                {"loan_id": [early, 6], "amount_minor": [1_000, 10**12]},
                schema=columnar.PAYMENT_SCHEMA,
            )
            payments = pl.concat([payments.filter(~pl.col("loan_id").is_in([early, 6])), extra])
        write_payments(book, partition, day, payments)


def _snapshot(path: Path) -> dict[str, pl.DataFrame]:
    """Everything a columnar book decided, independent of how its files are laid out."""
    book = open_book(path)
    result = {
        name: read_outputs(path, name)
        for name in ("state", "penalties", "changes", "actions", "errors", "paid")
    }
    for partition in range(book.partitions):
        for name, frame in partition_book(book, partition).items():
            result[f"{partition}/{name}"] = frame
    return result


def _same(left: pl.DataFrame, right: pl.DataFrame, what: str = "") -> None:
    try:
        assert_frame_equal(left, right)
    except AssertionError as error:
        raise AssertionError(f"{what}: {error}") from None


def _assert_same(left: dict[str, pl.DataFrame], right: dict[str, pl.DataFrame]) -> None:
    assert left.keys() == right.keys()
    for name, frame in left.items():
        _same(frame, right[name], name)


def test_the_synthetic_book_is_reproducible_and_realistic(tmp_path: Path) -> None:
    first = _book(tmp_path / "a")
    _book(tmp_path / "b")
    _book(tmp_path / "c", seed=8)
    files = _files(tmp_path / "a")
    assert files.keys() == _files(tmp_path / "b").keys()
    for name, frame in files.items():
        _same(frame, _files(tmp_path / "b")[name])
    assert not files["p00000/g-2027-01-28/loans.parquet"].equals(
        _files(tmp_path / "c")["p00000/g-2027-01-28/loans.parquet"]
    )

    loans = pl.concat([partition_book(first, p)["loans"] for p in range(first.partitions)])
    installments = pl.concat(
        [partition_book(first, p)["installments"] for p in range(first.partitions)]
    )
    assert loans["loan_id"].to_list() == list(range(1, 3_001))
    assert sorted(loans["product_id"].unique()) == [1, 2, 3, 4]
    by_dpd = loans.select(
        (pl.col("days_past_due") == 0).mean().alias("current"),
        pl.col("days_past_due").is_between(1, 30).mean().alias("early"),
        (pl.col("days_past_due") > 90).mean().alias("late"),
        pl.col("written_off").mean().alias("written_off"),
    ).row(0, named=True)
    assert by_dpd["current"] > 0.9
    assert 0.005 < by_dpd["early"] < 0.06
    assert 0 < by_dpd["late"] < by_dpd["early"]
    assert 0 < by_dpd["written_off"] < 0.02
    # Twelve installments each, none due on the 29th to the 31st, most on salary days.
    assert installments["number"].max() == 12
    due_days = installments["due_date"].dt.day()
    assert due_days.is_between(1, 28).all()
    assert due_days.is_in([1, 5, 10, 15, 20, 25]).sum() > 0.6 * due_days.len()


def _reference_inputs(
    state: pl.DataFrame,
    installments: pl.DataFrame,
    arrears: pl.DataFrame,
    payments: pl.DataFrame,
    day: dt.date,
) -> tuple[CloseInputs, pl.DataFrame, pl.DataFrame]:
    """The step's inputs from the whole book in memory, with nothing left out."""
    paying = payments["loan_id"].unique().implode()
    touched = state.filter(
        (pl.col("next_touch") <= day).fill_null(value=False) | pl.col("loan_id").is_in(paying)
    )
    mine = installments.join(touched.select("loan_id"), on="loan_id", how="semi")
    after, paid, refused = apply_payments(mine.select(list(INSTALLMENT_SCHEMA)), payments)
    others = installments.join(touched.select("loan_id"), on="loan_id", how="anti")
    everything = pl.concat([others.select(list(INSTALLMENT_SCHEMA)), after])
    flags = state.select("loan_id", "written_off")
    due_dates = columnar.reminder_due_dates(day, DEFAULT_REMINDER_OFFSETS)
    upcoming = (
        everything.join(flags, on="loan_id")
        .filter(pl.col("due_date").is_in(due_dates) & ~pl.col("written_off"))
        .select(list(UPCOMING_SCHEMA))
        .sort("loan_id", "number")
    )
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
        ).cast(pl.Schema(LOAN_SCHEMA)),
        installments=after,
        arrears_before=arrears.join(touched.select("loan_id"), on="loan_id", how="semi"),
        upcoming=upcoming,
    )
    return inputs, paid, refused


def test_the_columnar_close_equals_the_step_on_the_whole_book(tmp_path: Path) -> None:
    """Day by day, what the partitions read equals the whole book: the same outputs."""
    book = _book(tmp_path / "book")
    whole = [partition_book(book, partition) for partition in range(book.partitions)]
    state = pl.concat([part["loans"] for part in whole])
    installments = pl.concat([part["installments"] for part in whole])
    arrears = pl.concat([part["arrears"] for part in whole])
    touched_per_day = []
    for day in DAYS:
        _put_payments(book, day)
        result = close_day(book.path, day)
        payments = pl.concat(
            [pl.read_parquet(columnar.payments_path(book, p, day)) for p in range(book.partitions)]
        )
        inputs, paid, refused = _reference_inputs(state, installments, arrears, payments, day)
        expected = close_partition(inputs, day, book.policies())
        decided = {
            name: pl.concat(
                [
                    pl.read_parquet(
                        book.partition_dir(p) / "days" / day.isoformat() / f"{name}.parquet"
                    )
                    for p in range(book.partitions)
                ]
            )
            for name in ("state", "arrears", "penalties", "changes", "actions", "errors", "paid")
        }
        _same(
            decided["state"].drop("product_id", "written_off", "watch_until"),
            expected.state,
            f"state {day}",
        )
        _same(decided["arrears"], expected.arrears_after, f"arrears {day}")
        for name in ("penalties", "changes", "actions"):
            _same(decided[name], getattr(expected, name), f"{name} {day}")
        _same(decided["errors"], pl.concat([expected.errors, refused]).sort("loan_id"))
        _same(decided["paid"], paid, f"paid {day}")
        touched_per_day.append(result.total("touched"))

        # The whole book after the day, the obvious way.
        new_state = expected.state.join(
            state.select("loan_id", "product_id", "written_off", "watch_until"), on="loan_id"
        ).select(list(BOOK_LOAN_SCHEMA))
        state = pl.concat(
            [state.join(new_state.select("loan_id"), on="loan_id", how="anti"), new_state]
        ).sort("loan_id")
        arrears = pl.concat(
            [
                arrears.join(new_state.select("loan_id"), on="loan_id", how="anti"),
                expected.arrears_after,
            ]
        ).sort("loan_id", "due_date", "number")
        # Payments come off, penalty goes on the installment it was posted to (even one
        # the day's payment settled: the penalty is still owed).
        posted = expected.penalties.group_by("loan_id", pl.col("installment").alias("number")).agg(
            pl.col("amount_minor").sum()
        )
        installments = (
            installments.join(paid, on=["loan_id", "number"], how="left")
            .join(posted, on=["loan_id", "number"], how="left")
            .with_columns(pl.col("^paid_.*$", "amount_minor").fill_null(0))
            .with_columns(
                pl.col("unpaid_minor") - pl.col("paid_minor") + pl.col("amount_minor"),
                pl.col("unpaid_principal_minor") - pl.col("paid_principal_minor"),
                pl.col("unpaid_interest_minor") - pl.col("paid_interest_minor"),
            )
            .filter(pl.col("unpaid_minor") > 0)
            .select(list(columnar.BOOK_INSTALLMENT_SCHEMA))
            .sort("loan_id", "number")
        )

    # A quiet day touches a few loans; the salary day many more, and some paid early.
    quiet, _, month_end, salary_day, _ = touched_per_day
    assert 0 < quiet < month_end < salary_day
    assert read_outputs(book.path, "errors").filter(pl.col("loan_id") == 6).height == len(DAYS)
    # Compaction folded the days into new bases, and the merged book is the same.
    assert (book.partition_dir(0) / "CURRENT").read_text().strip() == "g-2027-02-01"
    merged = [partition_book(open_book(book.path), p) for p in range(book.partitions)]
    _same(pl.concat([m["loans"] for m in merged]), state)
    _same(pl.concat([m["arrears"] for m in merged]), arrears)
    _same(
        pl.concat([m["installments"] for m in merged]),
        installments.cast(columnar.BOOK_INSTALLMENT_SCHEMA),
    )


def _close_all(path: Path, *, workers: int = 1) -> None:
    book = open_book(path)
    for day in DAYS:
        if open_book(path).closed_through < day:
            _put_payments(book, day)
            close_day(path, day, workers=workers)


def test_a_close_killed_anywhere_resumes_to_the_same_book(tmp_path: Path) -> None:
    clean = tmp_path / "clean"
    _book(clean)
    _close_all(clean)
    expected = _snapshot(clean)

    killed = tmp_path / "killed"
    book = _book(killed)
    for day in DAYS[:2]:
        _put_payments(book, day)
        close_day(killed, day)
    day = DAYS[2]
    _put_payments(book, day)
    # Killed mid-day: partition 0 finished, partition 1 wrote some files (and a temporary
    # one) but not DONE, partition 2 never started.
    columnar.close_partition_day(book, 0, day, DEFAULT_REMINDER_OFFSETS)
    columnar.close_partition_day(book, 1, day, DEFAULT_REMINDER_OFFSETS)
    day_dir = book.partition_dir(1) / "days" / day.isoformat()
    (day_dir / "DONE").unlink()
    (day_dir / "actions.parquet").unlink()
    (day_dir / ".state.parquet.dead.tmp").write_bytes(b"half a file")
    assert open_book(killed).closed_through == DAYS[1]
    # ... resumed, in a process pool this time.
    close_day(killed, day, workers=2)
    # Killed after every partition was DONE for the next date, before the book moved on; and
    # an earlier run was killed while compacting partition 2 (a new base half written, CURRENT
    # not yet renamed to it).
    day = DAYS[3]
    _put_payments(book, day)
    half = book.partition_dir(2) / f"g-{day.isoformat()}"
    half.mkdir()
    (half / "loans.parquet").write_bytes(b"not parquet")
    for partition in range(book.partitions):
        columnar.close_partition_day(book, partition, day, DEFAULT_REMINDER_OFFSETS)
    assert (book.partition_dir(2) / "CURRENT").read_text().strip() == half.name
    close_day(killed, day)
    _put_payments(book, DAYS[4])
    close_day(killed, DAYS[4])

    _assert_same(_snapshot(killed), expected)
    # Closing a date again is refused and changes nothing.
    with pytest.raises(BookError, match="next date to close is 2027-02-03"):
        close_day(killed, DAYS[-1])
    _assert_same(_snapshot(killed), expected)


def test_bad_requests_are_refused(tmp_path: Path) -> None:
    with pytest.raises(BookError, match="no columnar book"):
        open_book(tmp_path / "nothing")
    with pytest.raises(BookError, match="at least one loan"):
        generate_book(tmp_path / "empty", loans=0, closed_through=CLOSED)
    book = _book(tmp_path / "book", loans=500)
    before = _files(book.path)
    with pytest.raises(BookError, match="next date to close is 2027-01-29, not 2027-01-30"):
        close_day(book.path, DAYS[1])
    document = json.loads((book.path / "book.json").read_text())
    assert document["closed_through"] == "2027-01-28"
    assert _files(book.path).keys() == before.keys()
