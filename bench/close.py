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

``--postgres`` instead loads the book into PostgreSQL and runs the SQL close end to end (see
``postgres_close``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

from tenor.batch import columnar

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
        columnar.scan_book(directory, workers=workers, executor=pool)
        floor = time.perf_counter() - started
        print(f"  bare scan of the partition files (the floor): {floor:.2f} s")

        timings = {}
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
            print(
                f"  {day} {kind:>9}: {seconds:6.2f} s, {loans / seconds:>12,.0f} loans/s; "
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
    print(f"  due-heavy close / bare scan: {heavy / floor:.2f}x")
    print(
        f"  quiet / due-heavy: {quiet / heavy:.1%} (target at most {TARGET_QUIET_RATIO:.0%}); "
        f"the other quiet day {timings[DAYS[1][0]] / heavy:.1%}"
    )
    scaled = heavy * 10_000_000 / loans
    print(
        f"  due-heavy close at this rate for 10M loans: {scaled:.1f} s "
        f"(target at most {TARGET_10M_SECONDS:.0f} s{', measured' if loans == 10**7 else ''})"
    )
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    bound = own + max(workers, 1) * child if workers > 1 else own
    print(
        f"  peak memory: this process {_mib(own)}, largest worker {_mib(child)}; at most "
        f"{_mib(bound)} together (target at most {TARGET_PEAK_BYTES / 1024**3:.0f} GiB)"
    )
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
    args = parser.parse_args()
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
