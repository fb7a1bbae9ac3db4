"""Benchmark: the transparency log's cost on posting, and proofs in a log of 10 million leaves.

Run with ``./run bench audit`` (PostgreSQL must be up; ``.ci/run`` starts it). In one run:

- store-level posting (``post_repayment`` from worker processes, as ``bench/api.py``) with the
  log on and with it off (the journal row alone, as before the log), alternating off, on, off,
  on on fresh databases, and the ratio of the two;
- a log of ``--leaves`` leaves (default 10 million) built in the server (``sha256`` over
  ``generate_series``, level by level: the same RFC 6962 hashes, computed by PostgreSQL), then
  the time to produce inclusion proofs, consistency proofs and a root at that size, against a
  baseline in the same run: one primary-key read of one leaf. Every proof produced is checked
  with the RFC 9162 verifier, so a wrong stored hash cannot pass for a fast one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import Connection, text

sys.path.insert(0, str(Path(__file__).parent))

from api import fresh_database, run_workers, seed_book, timed_loop
from tenor.actions import loans
from tenor.audit.log import consistency_proof, inclusion_proof, root_at
from tenor.audit.merkle import leaf_hash, verify_consistency, verify_inclusion
from tenor.core.money import Money
from tenor.store import journal
from tenor.store.database import Database
from tenor.store.migrate import upgrade
from tenor.store.models import JournalEntry

PAY_DATE = dt.date(2026, 1, 20)


def journal_row_only(connection: Connection, values: Mapping[str, Any]) -> int:
    """The journal insert as it was before the log: the row, no leaf."""
    statement = sqlalchemy.insert(JournalEntry).returning(JournalEntry.id)
    journal_id: int = connection.execute(statement, dict(values)).scalar_one()
    return journal_id


def posting_worker(
    url: str,
    log_on: bool,
    loan_ids: list[int],
    seconds: float,
    start: Barrier,
    counts: Queue[int],
) -> None:
    """Post repayments round-robin for ``seconds``, with or without the log; report how many."""
    if not log_on:
        # The journal writer's one call into the log, swapped in this process only.
        vars(journal)["insert_event"] = journal_row_only
    db = Database(url)

    def post(number: int) -> None:
        loans.post_repayment(
            db,
            loan_ids[number % len(loan_ids)],
            amount=Money.of("10.00", "CNY"),
            value_date=PAY_DATE,
            idempotency_key=f"{os.getpid()}-{number}",
            request={"n": number},
        )

    counts.put(timed_loop(post, seconds, start))
    db.dispose()


def posting(clients: int, seconds: float, loan_count: int) -> tuple[float, float]:
    """Repayments per second with the log off and on (each the mean of two runs)."""
    rates: dict[bool, list[float]] = {False: [], True: []}
    for log_on in (False, True, False, True):
        url = fresh_database("tenor_bench_audit_posting")
        loan_ids = seed_book(url, loan_count)
        rate = run_workers(posting_worker, clients, loan_ids, seconds, url, log_on)
        rates[log_on].append(rate)
        print(f"    log {'on ' if log_on else 'off'}: {rate:6.0f} repayments/s")
    return statistics.mean(rates[False]), statistics.mean(rates[True])


def build_log(url: str, leaves: int) -> None:
    """A log of ``leaves`` leaves and every complete subtree, hashed by the server."""
    db = Database(url)
    upgrade(db)
    with db.engine.begin() as connection:
        connection.execute(text("SET LOCAL synchronous_commit = off"))
        connection.execute(
            text(
                "INSERT INTO audit_leaves (leaf_index, kind, leaf_hash) "
                "SELECT i, 'event', sha256('\\x00'::bytea || int8send(i)) "
                "FROM generate_series(0, :n - 1) AS i"
            ),
            {"n": leaves},
        )
        connection.execute(
            text(
                "INSERT INTO audit_nodes (level, position, hash) "
                "SELECT 1, a.leaf_index / 2, sha256('\\x01'::bytea || a.leaf_hash || b.leaf_hash) "
                "FROM audit_leaves a JOIN audit_leaves b ON b.leaf_index = a.leaf_index + 1 "
                "WHERE a.leaf_index % 2 = 0"
            )
        )
        level = 2
        while leaves >> level:
            connection.execute(
                text(
                    "INSERT INTO audit_nodes (level, position, hash) "
                    "SELECT :level, a.position / 2, sha256('\\x01'::bytea || a.hash || b.hash) "
                    "FROM audit_nodes a JOIN audit_nodes b "
                    "ON b.level = a.level AND b.position = a.position + 1 "
                    "WHERE a.level = :below AND a.position % 2 = 0"
                ),
                {"level": level, "below": level - 1},
            )
            level += 1
        connection.execute(text("UPDATE audit_log_head SET tree_size = :n"), {"n": leaves})
        connection.execute(text("ANALYZE audit_leaves"))
        connection.execute(text("ANALYZE audit_nodes"))
    db.dispose()


def timed(samples: int, action: Callable[[int], None]) -> list[float]:
    """Milliseconds of each of ``samples`` calls of ``action(number)``."""
    times = []
    for number in range(samples):
        began = time.perf_counter()
        action(number)
        times.append((time.perf_counter() - began) * 1000)
    return times


def describe(name: str, times: list[float], baseline: float) -> None:
    """Print median and 99th percentile, and the median against the baseline."""
    median = statistics.median(times)
    p99 = statistics.quantiles(times, n=100)[98]
    print(
        f"  {name:<34} median {median:6.2f} ms, p99 {p99:6.2f} ms"
        f"  ({median / baseline:.1f}x one primary-key read)"
    )


def proofs(url: str, leaves: int, samples: int) -> None:
    """Time proofs at ``leaves`` leaves; check each one."""
    db = Database(url)
    chance = random.Random(6962)
    with db.engine.connect() as connection:
        root = root_at(connection, leaves)

        def read_one(_: int) -> None:
            connection.execute(
                text("SELECT leaf_hash FROM audit_leaves WHERE leaf_index = :i"),
                {"i": chance.randrange(leaves)},
            ).scalar_one()

        def prove_inclusion(_: int) -> None:
            index = chance.randrange(leaves)
            path = inclusion_proof(connection, index, leaves)
            digest = leaf_hash(index.to_bytes(8, "big"))
            if not verify_inclusion(index, leaves, digest, path, root):
                sys.exit(f"the inclusion proof of leaf {index} does not verify")

        def prove_consistency(_: int) -> None:
            first = chance.randrange(1, leaves)
            path = consistency_proof(connection, first, leaves)
            if not verify_consistency(first, leaves, root_at(connection, first), root, path):
                sys.exit(f"the consistency proof from {first} does not verify")

        def root_of_prefix(_: int) -> None:
            root_at(connection, chance.randrange(1, leaves + 1))

        timed(50, read_one)
        baseline = statistics.median(timed(samples, read_one))
        print(f"  {'baseline: one primary-key read':<34} median {baseline:6.2f} ms")
        describe("inclusion proof (checked)", timed(samples, prove_inclusion), baseline)
        describe("consistency proof to the head", timed(samples, prove_consistency), baseline)
        describe("root of any earlier tree", timed(samples, root_of_prefix), baseline)
    db.dispose()


def main() -> None:
    """Measure and print every figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--loans", type=int, default=400)
    parser.add_argument("--leaves", type=int, default=10_000_000)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--skip-posting", action="store_true")
    parser.add_argument("--skip-proofs", action="store_true")
    arguments = parser.parse_args()
    print(f"Transparency log on this machine ({os.cpu_count()} cores)")
    if not arguments.skip_posting:
        print(f"  store-level posting, {arguments.clients} clients:")
        off, on = posting(arguments.clients, arguments.seconds, arguments.loans)
        print(
            f"  posting with the log: {on:6.0f} repayments/s, without: {off:6.0f}"
            f"  (log on / off = {on / off:.0%})"
        )
    if arguments.skip_proofs:
        return
    url = fresh_database("tenor_bench_audit_proofs")
    began = time.perf_counter()
    build_log(url, arguments.leaves)
    print(
        f"  built a log of {arguments.leaves:,} leaves and their subtrees in the server in "
        f"{time.perf_counter() - began:.0f} s"
    )
    proofs(url, arguments.leaves, arguments.samples)


if __name__ == "__main__":
    main()
