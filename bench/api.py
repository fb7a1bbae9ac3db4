"""Benchmark: posting repayments through the store and through the API, against pgbench.

Run with ``./run bench api`` (PostgreSQL must be up; ``.ci/run`` starts it). In one run, on
the same server, it measures:

- pgbench's built-in TPC-B-like transaction (``pgbench -b tpcb-like``): the floor of what a
  small read-modify-write transaction costs on this machine;
- store-level posting: ``tenor.actions.loans.post_repayment`` from worker processes, each
  payment a whole Tenor transaction (lock, fold, journal insert, projections);
- API-level posting: ``POST /v1/loans/{id}/repayments`` against ``tenor serve``.

It prints each rate and the ratios to pgbench. The target is store-level posting at least
50% of pgbench's transactions per second.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

import httpx
import sqlalchemy

from tenor.actions import loans
from tenor.actions.borrowers import create_borrower
from tenor.actions.products import create_product
from tenor.core.money import Money
from tenor.products import ProductConfig
from tenor.store.database import Database
from tenor.store.journal import set_business_date
from tenor.store.migrate import upgrade

SERVER = os.environ.get("TENOR_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
START = dt.date(2026, 1, 1)
PAY_DATE = dt.date(2026, 1, 20)


def fresh_database(name: str) -> str:
    """Drop and create database ``name``; return its SQLAlchemy URL."""
    admin = sqlalchemy.create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(sqlalchemy.text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return f"{SERVER}/{name}"


def libpq_arguments(url: str) -> list[str]:
    """pgbench's connection options for a SQLAlchemy URL."""
    parsed = sqlalchemy.make_url(url)
    return [
        "-h",
        parsed.host or "127.0.0.1",
        "-p",
        str(parsed.port or 5432),
        "-U",
        parsed.username or "postgres",
        parsed.database or "postgres",
    ]


def pgbench(clients: int, seconds: int) -> float:
    """Transactions per second of pgbench's TPC-B-like script with ``clients`` clients."""
    if shutil.which("pgbench") is None:
        sys.exit("bench/api.py needs pgbench (Debian package postgresql-client)")
    connection = libpq_arguments(fresh_database("tenor_bench_pgbench"))
    subprocess.run(
        ["pgbench", "-i", "-q", "-s", "10", *connection], check=True, capture_output=True
    )
    result = subprocess.run(
        [
            "pgbench",
            "-b",
            "tpcb-like",
            "-c",
            str(clients),
            "-j",
            str(clients),
            "-T",
            str(seconds),
            *connection,
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    found = re.search(r"tps = ([0-9.]+)", result.stdout)
    if found is None:
        sys.exit(f"could not read pgbench's tps from:\n{result.stdout}")
    return float(found.group(1))


def seed_book(url: str, count: int) -> list[int]:
    """A migrated database holding ``count`` disbursed 12-month consumer loans."""
    db = Database(url)
    upgrade(db)
    with db.transaction() as session:
        set_business_date(session, dt.date(2026, 3, 1))
        product = create_product(
            session,
            code="bench",
            name="Benchmark consumer loan",
            config=ProductConfig(currency="CNY", annual_rate_percent=Decimal("18")),
        )
        loan_ids = []
        for number in range(count):
            borrower = create_borrower(session, kind="individual", name=f"Borrower {number}")
            loan = loans.create_loan(
                session,
                borrower_id=borrower.id,
                product_id=product.id,
                principal=Money.of("12000", "CNY"),
                term=12,
                start=START,
            )
            loans.approve_loan(session, loan.id)
            loan_ids.append(loan.id)
    for loan_id in loan_ids:
        loans.disburse(db, loan_id, value_date=START)
    db.dispose()
    return loan_ids


def store_worker(
    url: str, loan_ids: list[int], seconds: float, start: Barrier, counts: Queue[int]
) -> None:
    """Post repayments round-robin over ``loan_ids`` for ``seconds``; report how many."""
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


def timed_loop(post: Callable[[int], None], seconds: float, start: Barrier) -> int:
    """Warm up, wait for every worker, then call ``post`` for ``seconds``; how many calls."""
    post(0)
    start.wait()
    posted = 1
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        post(posted)
        posted += 1
    return posted - 1


def run_workers(
    target: Callable[..., None], clients: int, loan_ids: list[int], seconds: float, *extra: object
) -> float:
    """Posts per second of ``clients`` processes, each with its own share of the loans.

    Workers start, import and warm up first; the clock runs only once all are ready.
    """
    context = multiprocessing.get_context("spawn")
    counts: Queue[int] = context.Queue()
    start = context.Barrier(clients)
    shares = [loan_ids[index::clients] for index in range(clients)]
    workers = [
        context.Process(target=target, args=(*extra, share, seconds, start, counts))
        for share in shares
    ]
    for worker in workers:
        worker.start()
    total = sum(counts.get() for _ in workers)
    for worker in workers:
        worker.join()
    return total / seconds


def api_worker(
    base: str, key: str, loan_ids: list[int], seconds: float, start: Barrier, counts: Queue[int]
) -> None:
    """Post repayments through the API for ``seconds``; report how many."""
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}) as client:

        def post(number: int) -> None:
            response = client.post(
                f"/v1/loans/{loan_ids[number % len(loan_ids)]}/repayments",
                json={"amount": "10.00", "currency": "CNY", "value_date": PAY_DATE.isoformat()},
                headers={"Idempotency-Key": f"api-{os.getpid()}-{number}"},
            )
            response.raise_for_status()

        counts.put(timed_loop(post, seconds, start))


def free_port() -> int:
    """A TCP port on loopback nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def api_rate(url: str, loan_ids: list[int], clients: int, seconds: float, workers: int) -> float:
    """Posts per second through ``tenor serve --workers N`` on loopback."""
    tenor = str(Path(sys.executable).with_name("tenor"))
    environment = {**os.environ, "TENOR_DATABASE_URL": url}
    created = subprocess.run(
        [tenor, "apikey", "create", "--role", "admin", "--name", "bench"],
        check=True,
        capture_output=True,
        text=True,
        env=environment,
    )
    key = created.stdout.strip().splitlines()[-1]
    port = free_port()
    server = subprocess.Popen(
        [tenor, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(f"{base}/openapi.json", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        return run_workers(api_worker, clients, loan_ids, seconds, base, key)
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    """Measure and print every figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--loans", type=int, default=400)
    parser.add_argument("--workers", type=int, default=2, help="tenor serve --workers")
    arguments = parser.parse_args()
    clients, seconds = arguments.clients, arguments.seconds
    print(
        f"Repayment posting vs pgbench on this machine ({os.cpu_count()} cores, {clients} clients)"
    )
    baseline = pgbench(clients, seconds)
    print(f"  pgbench -b tpcb-like:        {baseline:8.0f} transactions/s")
    url = fresh_database("tenor_bench_store")
    store_loans = seed_book(url, arguments.loans)
    store = run_workers(store_worker, clients, store_loans, seconds, url)
    print(
        f"  store-level posting:         {store:8.0f} repayments/s"
        f"  ({store / baseline:.0%} of pgbench; target >= 50%)"
    )
    url = fresh_database("tenor_bench_api")
    api_loans = seed_book(url, arguments.loans)
    api = api_rate(url, api_loans, clients, seconds, arguments.workers)
    print(
        f"  API posting (serve, {arguments.workers} workers): {api:6.0f} repayments/s"
        f"  ({api / baseline:.0%} of pgbench, {api / store:.0%} of store-level)"
    )


if __name__ == "__main__":
    main()
