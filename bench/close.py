"""Benchmark: the daily close of a synthetic book in columnar mode (and on PostgreSQL).

Run with ``./run bench close --loans 1000000`` (or ``--loans 10000000``). It generates a
reproducible book directly in columnar form (timed apart), closed through 2027-01-28, and then
closes four business dates one after another, each after putting that day's synthetic payment
file in place (not timed):

- 2027-01-29 and 01-30: quiet days (no due day is after the 28th; bands crossed, reminders),
- 2027-01-31: a month end (penalty posted on every loan in arrears),
- 2027-02-01: a salary day, when a fifth of the book falls due (the due-heavy day).

It prints each day's figures, loans of the book per second, the ratio of the due-heavy close
to a bare scan of the same partition files in the same run (the floor: every column of every
base file read, one column summed), the quiet/due-heavy ratio, a compaction of the four days
into new bases, and peak memory (maxrss of this process and of its largest worker).

``--postgres`` instead loads the same synthetic book into PostgreSQL with COPY (schema
``bench_close``, or ``TENOR_BENCH_SCHEMA``, of ``TENOR_BENCH_POSTGRES_URL``, default the test
server's ``test`` database) and runs the SQL close (``tenor.batch.close.close_book``) end to
end over the same four dates: the first is the book's first close, which steps every open
loan. No payments are posted in this mode (they would go through the journal one by one), so
on the salary day every installment falling due becomes overdue.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, cast

import polars as pl
import psycopg
import sqlalchemy

from tenor.batch import columnar
from tenor.batch.close import close_book
from tenor.core.money import Money
from tenor.store.codec import terms_to_json
from tenor.store.database import Database
from tenor.store.journal import set_business_date
from tenor.store.migrate import upgrade

CLOSED = dt.date(2027, 1, 28)
DAYS = (
    (dt.date(2027, 1, 29), "quiet"),
    (dt.date(2027, 1, 30), "quiet"),
    (dt.date(2027, 1, 31), "month end"),
    (dt.date(2027, 2, 1), "due-heavy"),
)

TARGET_10M_SECONDS = 60.0
TARGET_QUIET_RATIO = 0.10
TARGET_PEAK_BYTES = 8 * 1024**3


def _mib(kib: int) -> str:
    return f"{kib / 1024:,.0f} MiB"


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


def columnar_close(loans: int, workers: int, partition_size: int, directory: Path) -> None:
    """Generate, scan, close four dates and compact; print every figure."""
    print(f"columnar close: {loans:,} loans, {workers} workers, partitions of {partition_size:,}")
    print(f"  at start: {_load()}")
    pool = columnar.process_pool(workers) if workers > 1 else None
    try:
        started = time.perf_counter()
        book = columnar.generate_book(
            directory,
            loans=loans,
            closed_through=CLOSED,
            seed=20270128,
            partition_size=partition_size,
            workers=workers,
            executor=pool,
        )
        generated = time.perf_counter() - started
        size = sum(f.stat().st_size for f in directory.rglob("*.parquet"))
        print(
            f"  generated in {generated:.1f} s: {book.partitions} partitions, "
            f"{size / 1024**2:,.0f} MiB of Parquet"
        )

        started = time.perf_counter()
        floor_cpu = columnar.scan_book(directory, workers=workers, executor=pool)
        floor = time.perf_counter() - started
        print(
            f"  bare scan of the partition files (the floor): {floor:.2f} s, {floor_cpu:.1f} CPU s"
        )

        timings = {}
        cpu = {}
        for day, kind in DAYS:
            started = time.perf_counter()
            payments = columnar.write_synthetic_payments(
                directory, day, workers=workers, executor=pool
            )
            prepared = time.perf_counter() - started
            started = time.perf_counter()
            result = columnar.close_day(directory, day, workers=workers, executor=pool)
            seconds = time.perf_counter() - started
            timings[day] = seconds
            cpu[day] = result.cpu_seconds
            print(
                f"  {day} {kind:>9}: {seconds:6.2f} s ({result.cpu_seconds:6.1f} CPU s), "
                f"{loans / seconds:>11,.0f} loans/s; "
                f"touched {result.total('touched'):,}, installments read "
                f"{result.total('installments_read'):,}, payments {payments:,} "
                f"(file put in place in {prepared:.1f} s), "
                f"penalties {result.total('penalties'):,}, "
                f"changes {result.total('changes'):,}, actions {result.total('actions'):,}, "
                f"errors {result.total('errors'):,}"
            )

        started = time.perf_counter()
        columnar.compact_book(directory, workers=workers, executor=pool)
        compacted = time.perf_counter() - started
    finally:
        if pool is not None:
            pool.shutdown()

    heavy = timings[DAYS[3][0]]
    quiet = timings[DAYS[0][0]]
    print(f"  compaction of the four days into new bases: {compacted:.1f} s")
    heavy_cpu = cpu[DAYS[3][0]]
    print(
        f"  due-heavy close / bare scan: {heavy / floor:.2f}x wall, "
        f"{heavy_cpu / floor_cpu:.2f}x CPU"
    )
    print(
        f"  quiet / due-heavy: {quiet / heavy:.1%} wall, {cpu[DAYS[0][0]] / heavy_cpu:.1%} CPU "
        f"(target at most {TARGET_QUIET_RATIO:.0%}); the other quiet day "
        f"{timings[DAYS[1][0]] / heavy:.1%} wall, {cpu[DAYS[1][0]] / heavy_cpu:.1%} CPU"
    )
    scaled = heavy * 10_000_000 / loans
    idle = heavy_cpu / max(workers, 1)
    print(
        f"  due-heavy close at this rate for 10M loans: {scaled:.1f} s wall; its CPU time over "
        f"{max(workers, 1)} cores (what an idle machine would take at best): "
        f"{idle * 10_000_000 / loans:.1f} s (target at most {TARGET_10M_SECONDS:.0f} s"
        f"{', measured' if loans == 10**7 else ''})"
    )
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    bound = own + max(workers, 1) * child if workers > 1 else own
    print(
        f"  peak memory: this process {_mib(own)}, largest worker {_mib(child)}; at most "
        f"{_mib(bound)} together (target at most {TARGET_PEAK_BYTES / 1024**3:.0f} GiB)"
    )
    print(f"  at end: {_load()}")


POSTGRES_URL = os.environ.get(
    "TENOR_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
#: Two runs side by side need schemas of their own.
SCHEMA = os.environ.get("TENOR_BENCH_SCHEMA", "bench_close")
TARGET_POSTGRES_SECONDS = 30.0
_CREATED = "2026-01-01T00:00:00+00:00"


def _amount(column: str) -> pl.Expr:
    """Minor units as the journal's decimal text, e.g. 530000 -> "5300.00"."""
    return pl.format(
        "{}.{}",
        pl.col(column) // 100,
        (pl.col(column) % 100).cast(pl.Utf8).str.zfill(2),
    )


def _terms_template(book: columnar.Book) -> dict[int, str]:
    """Per product, the terms document with placeholders for the loan's own figures."""
    templates = {}
    for product_id, config in book.products.items():
        terms = config.loan_terms(
            principal=Money.of("10000", config.currency), term=12, start=CLOSED
        )
        document = terms_to_json(terms)
        document["principal"]["amount"] = "@PRINCIPAL@"
        document["start"] = "@START@"
        document["first_due"] = "@FIRST@"
        templates[product_id] = json.dumps(document)
    return templates


def _copy(connection: psycopg.Connection[Any], table: str, frame: pl.DataFrame) -> None:
    columns = ", ".join(frame.columns)
    statement = f"COPY {table} ({columns}) FROM STDIN (FORMAT csv)"
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        copy.write(frame.write_csv(include_header=False, null_value=""))


def _load_chunk(
    connection: psycopg.Connection[Any], frames: dict[str, pl.DataFrame], templates: dict[int, str]
) -> None:
    """COPY one chunk of the synthetic book into Tenor's tables, as the journal would leave it."""
    loans, schedule, terms = frames["loans"], frames["schedule"], frames["terms"]
    first_due = schedule.filter(pl.col("number") == 1).select("loan_id", "due_date")
    loan_rows = loans.join(terms, on="loan_id").join(first_due, on="loan_id").sort("loan_id")
    template = pl.col("product_id").replace_strict(templates, return_dtype=pl.Utf8)
    totals = schedule.group_by("loan_id").agg(
        (pl.col("paid_principal_minor") + pl.col("paid_interest_minor")).sum().alias("repaid"),
        (pl.col("principal_minor") - pl.col("paid_principal_minor")).sum().alias("principal_left"),
        pl.when(pl.col("due_date") <= CLOSED)
        .then(pl.col("interest_minor") - pl.col("paid_interest_minor"))
        .otherwise(0)
        .sum()
        .alias("interest_due"),
        pl.col("penalty_minor").sum().alias("penalties"),
        pl.col("due_date")
        .filter((pl.col("due_date") > CLOSED) & (pl.col("unpaid_minor") > 0))
        .min()
        .alias("next_due"),
        (pl.col("unpaid_minor") > 0).any().alias("open"),
    )
    loan_rows = loan_rows.join(totals, on="loan_id").with_columns(
        pl.when(pl.col("written_off"))
        .then(pl.lit("written-off"))
        .when(pl.col("open"))
        .then(pl.lit("active"))
        .otherwise(pl.lit("closed"))
        .alias("status")
    )
    _copy(
        connection,
        "borrowers",
        loan_rows.select(
            pl.col("loan_id").alias("id"),
            pl.lit("person").alias("kind"),
            pl.format("Borrower {}", "loan_id").alias("name"),
            pl.lit("[]").alias("phones"),
            pl.lit("Asia/Shanghai").alias("time_zone"),
            pl.lit("zh-CN").alias("locale"),
            pl.lit("[]").alias("preferred_channels"),
            pl.lit("{}").alias("consents"),
            pl.lit("[]").alias("opt_outs"),
            pl.lit("[]").alias("contacts"),
            pl.lit(_CREATED).alias("created_at"),
        ),
    )
    _copy(
        connection,
        "loans",
        loan_rows.select(
            pl.col("loan_id").alias("id"),
            pl.col("loan_id").alias("borrower_id"),
            "product_id",
            pl.lit("CNY").alias("currency"),
            "principal_minor",
            template.str.replace("@PRINCIPAL@", _amount("principal_minor"), literal=True)
            .str.replace("@START@", pl.col("origination").cast(pl.Utf8), literal=True)
            .str.replace("@FIRST@", pl.col("due_date").cast(pl.Utf8), literal=True)
            .alias("terms"),
            "status",
            pl.lit(1).alias("version"),
            pl.lit(_CREATED).alias("created_at"),
            pl.lit(_CREATED).alias("approved_at"),
        ),
    )
    _copy(
        connection,
        "journal",
        loan_rows.select(
            pl.col("loan_id").alias("id"),
            pl.col("loan_id")
            .map_elements(lambda i: str(uuid.UUID(int=i)), return_dtype=pl.Utf8)
            .alias("event_id"),
            "loan_id",
            pl.lit(1).alias("sequence"),
            pl.lit("disbursed").alias("kind"),
            pl.col("origination").alias("value_date"),
            pl.format(
                '{{"amount": {{"amount": "{}", "currency": "CNY"}}}}', _amount("principal_minor")
            ).alias("payload"),
            pl.lit("system").alias("actor"),
            pl.lit(_CREATED).alias("recorded_at"),
        ),
    )
    _copy(
        connection,
        "loan_state",
        loan_rows.select(
            "loan_id",
            "status",
            pl.lit("CNY").alias("currency"),
            pl.col("principal_minor").alias("disbursed_minor"),
            pl.col("repaid").alias("repaid_minor"),
            pl.col("principal_left").alias("outstanding_principal_minor"),
            pl.col("interest_due").alias("outstanding_interest_minor"),
            pl.lit(0).alias("outstanding_fees_minor"),
            pl.col("penalties").alias("outstanding_penalties_minor"),
            pl.col("overdue_minor").alias("arrears_minor"),
            pl.lit(0).alias("credit_balance_minor"),
            pl.when(pl.col("written_off"))
            .then(pl.col("principal_left"))
            .otherwise(0)
            .alias("written_off_minor"),
            pl.lit(0).alias("recovered_minor"),
            "days_past_due",
            "bucket",
            "loan_class",
            "stage",
            pl.col("next_due").alias("next_due_date"),
            pl.lit(CLOSED + dt.timedelta(days=1)).alias("business_date"),
            pl.lit(1).alias("last_sequence"),
        ),
    )
    _copy(
        connection,
        "installments",
        schedule.select(
            "loan_id",
            "number",
            "start_date",
            "due_date",
            "principal_minor",
            "interest_minor",
            pl.lit(0).alias("fee_minor"),
            "penalty_minor",
            "paid_principal_minor",
            "paid_interest_minor",
            pl.lit(0).alias("paid_fee_minor"),
            pl.lit(0).alias("paid_penalty_minor"),
            pl.lit(0).alias("waived_minor"),
            "unpaid_minor",
            pl.when(pl.col("unpaid_minor") == 0).then(pl.col("due_date")).alias("settled_on"),
        ),
    )


def postgres_close(loans: int, workers: int) -> None:
    """Load ``loans`` synthetic loans into PostgreSQL with COPY and close four dates in SQL."""
    print(f"PostgreSQL close: {loans:,} loans, {workers} workers")
    print(f"  at start: {_load()}")
    admin = sqlalchemy.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        connection.execute(sqlalchemy.text(f"CREATE SCHEMA {SCHEMA}"))
    separator = "&" if "?" in POSTGRES_URL else "?"
    db = Database(f"{POSTGRES_URL}{separator}options=-csearch_path%3D{SCHEMA}")
    try:
        upgrade(db)
        book = columnar.Book(
            path=Path("."),
            loans=loans,
            partition_size=250_000,
            seed=20270128,
            closed_through=CLOSED,
            products=dict(columnar.SYNTHETIC_PRODUCTS),
            compact_after_days=columnar.DEFAULT_COMPACT_AFTER_DAYS,
        )
        with db.transaction() as session:
            session.execute(
                sqlalchemy.text(
                    "INSERT INTO products (id, code, version, name, currency, config, "
                    "created_at) VALUES (:id, :code, 1, :name, 'CNY', :config, :created)"
                ),
                [
                    {
                        "id": product_id,
                        "code": f"synthetic-{product_id}",
                        "name": f"Synthetic product {product_id}",
                        "config": config.model_dump_json(),
                        "created": _CREATED,
                    }
                    for product_id, config in book.products.items()
                ],
            )
            set_business_date(session, CLOSED + dt.timedelta(days=1))
        templates = _terms_template(book)
        generated = loaded = 0.0
        raw = db.engine.raw_connection()
        try:
            driver = cast("psycopg.Connection[Any]", raw.driver_connection)
            for partition in range(book.partitions):
                started = time.perf_counter()
                first = partition * book.partition_size + 1
                count = min(book.partition_size, loans - partition * book.partition_size)
                frames = columnar.synthetic_partition(
                    book.seed, partition, first, count, CLOSED, book.products, with_schedule=True
                )
                generated += time.perf_counter() - started
                started = time.perf_counter()
                _load_chunk(driver, frames, templates)
                driver.commit()
                loaded += time.perf_counter() - started
        finally:
            raw.close()
        started = time.perf_counter()
        with db.engine.begin() as connection:
            for table in ("borrowers", "products", "loans", "journal"):
                connection.execute(
                    sqlalchemy.text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
            # Only this schema's tables: a bare ANALYZE would visit every schema of the database.
            connection.execute(
                sqlalchemy.text(
                    "ANALYZE borrowers, products, loans, journal, loan_state, installments"
                )
            )
        loaded += time.perf_counter() - started
        print(
            f"  generated in {generated:.1f} s; loaded with COPY (and analysed) in {loaded:.1f} s"
        )
        # One call for the four dates: the close keeps one worker pool for all of them.
        started = time.perf_counter()
        result = close_book(db, through=DAYS[-1][0], workers=workers)
        print(f"  the four dates in {time.perf_counter() - started:.1f} s")
        seconds_by_day = {}
        for (day, kind), closed in zip(DAYS, result.closed, strict=True):
            seconds = closed.seconds
            seconds_by_day[day] = seconds
            print(
                f"  {day} {kind:>9}: {seconds:6.2f} s, {loans / seconds:>10,.0f} loans/s; "
                f"touched {closed.loans:,}, events {closed.events:,}, penalties "
                f"{closed.penalties:,}, actions {closed.actions:,}, errors {closed.errors:,}"
                + (" (the book's first close: every open loan)" if day == DAYS[0][0] else "")
            )
        first_close = seconds_by_day[DAYS[0][0]]
        heavy = seconds_by_day[DAYS[3][0]]
        print(
            f"  the due-heavy close, end to end in SQL: {heavy:.1f} s; the first close "
            f"(every loan): {first_close:.1f} s (target at most {TARGET_POSTGRES_SECONDS:.0f} s "
            "for 1M loans)"
        )
    finally:
        db.dispose()
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        admin.dispose()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"  peak memory: this process {_mib(own)}, largest worker {_mib(child)}")
    print(f"  at end: {_load()}")


def main() -> None:
    """Parse the arguments and run the chosen benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--partition-size",
        type=int,
        help="loans per partition (default: at most a million, and two partitions per worker)",
    )
    parser.add_argument("--dir", type=Path, help="where to write the book (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the book afterwards")
    parser.add_argument("--postgres", action="store_true", help="the SQL close on PostgreSQL")
    args = parser.parse_args()
    if args.postgres:
        postgres_close(args.loans, args.workers)
        return
    partitions = max(2 * args.workers, -(-args.loans // 1_000_000))
    partition_size = args.partition_size or -(-args.loans // partitions)
    directory = args.dir or Path(tempfile.mkdtemp(prefix="tenor-close-", dir="/var/tmp"))
    try:
        columnar_close(args.loans, args.workers, partition_size, directory)
    finally:
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
