"""Benchmark: how long the console's pages take on a demo book, against the API's JSON.

Run with ``./run bench web [--borrowers N] [--months N] [--requests N]``. It builds a demo book
in a SQLite file in a temporary folder (as ``tenor demo`` does), signs a staff user in, and
times each page in process (no network), ``--requests`` times in turn. The baseline, measured
in the same run on the same book, is ``GET /v1/loans/{id}``: the API's JSON document of one
loan, which is the least any page showing a loan has to do. It prints the median and the 90th
percentile of each, and each median as a multiple of the baseline's.

There is no target yet; the figures say what a person waits for on this machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import re
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from tenor.actions.apikeys import create_api_key
from tenor.api.app import create_app
from tenor.api.logs import configure_logging
from tenor.collect.queue import collector_queue
from tenor.simulation import live_through, plan_book
from tenor.store.database import Database
from tenor.store.journal import business_date
from tenor.store.migrate import upgrade
from tenor.store.models import utc_now
from tenor.web.accounts import create_staff_user
from tenor.web.workbench import collectors

PASSWORD = "a bench password"


def timed(client: TestClient, path: str, requests: int, **kwargs: object) -> list[float]:
    """Milliseconds of ``requests`` GETs of ``path``; every answer must be 200."""
    took = []
    for _ in range(requests):
        began = time.perf_counter()
        response = client.get(path, **kwargs)  # type: ignore[arg-type]
        took.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return took


def main() -> None:
    """Build the book, time the pages, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--borrowers", type=int, default=1000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--requests", type=int, default=30)
    options = parser.parse_args()
    # One log line per request would drown the figures: warnings and errors only.
    configure_logging(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite:///{Path(folder) / 'tenor.db'}")
        upgrade(db)
        # The collections floor attaches legal documents: keep them with the throwaway book.
        os.environ["TENOR_DOCUMENTS"] = str(Path(folder) / "documents")
        began = time.perf_counter()
        start = dt.date(2025, 12, 1)
        life = live_through(
            db, plan_book(borrowers=options.borrowers, months=options.months, seed=7, start=start)
        )
        print(
            f"book: {options.borrowers} borrowers, {len(life.plan.loans)} loans, "
            f"{sum(life.events.values())} journal events, built in "
            f"{time.perf_counter() - began:.0f} s"
        )
        with db.transaction() as session:
            create_staff_user(session, username="bench", password=PASSWORD, role="admin")
            _, key = create_api_key(session, "admin")
        with TestClient(create_app(db), follow_redirects=False) as client:
            page = client.get("/web/sign-in").text
            found = re.search(r'name="csrf_token" value="([^"]+)"', page)
            assert found is not None
            signed = client.post(
                "/web/sign-in",
                data={"csrf_token": found.group(1), "username": "bench", "password": PASSWORD},
            )
            assert signed.status_code == 303
            loan_id = 1 + len(life.plan.loans) // 2
            headers = {"Authorization": f"Bearer {key}"}
            # The collector with the longest queue now, and the top case of that queue.
            with db.reading() as session:
                moment, day = utc_now(), business_date(session)
                queues = {
                    collector.id: collector_queue(session, collector.id, moment, day)
                    for collector in collectors(session)
                }
            collector_id = max(queues, key=lambda key: (len(queues[key]), -key))
            top = queues[collector_id][0].case_id
            print(f"collector {collector_id}: {len(queues[collector_id])} tasks in the queue")
            cases = {
                "GET /v1/loans/{id} (API JSON, baseline)": (f"/v1/loans/{loan_id}", headers),
                "/web/portfolio (charts, roll rates, vintages)": ("/web/portfolio", {}),
                "/web/portfolio/collections (htmx section)": (
                    "/web/portfolio/collections",
                    {"HX-Request": "true"},
                ),
                "/web/loans (first 50, filtered M1)": ("/web/loans?bucket=M1", {}),
                "/web/loans/{id} (schedule and journal)": (f"/web/loans/{loan_id}", {}),
                "/web/borrowers (first 50)": ("/web/borrowers", {}),
                "/web/collect (a collector's queue)": (
                    f"/web/collect?collector={collector_id}",
                    {},
                ),
                "/web/collect/cases/{id} (its top case)": (
                    f"/web/collect/cases/{top}?collector={collector_id}",
                    {},
                ),
                "/web/approvals (offers, policies, strategy)": ("/web/approvals", {}),
            }
            for path, extra in cases.values():
                timed(client, path, 2, headers=extra)  # warm: templates compiled, caches full
            figures = {
                name: timed(client, path, options.requests, headers=extra)
                for name, (path, extra) in cases.items()
            }
        db.dispose()
    baseline = statistics.median(next(iter(figures.values())))
    print(f"{options.requests} requests each, in process; milliseconds:")
    for name, took in figures.items():
        median = statistics.median(took)
        p90 = statistics.quantiles(took, n=10)[-1]
        print(f"  {name:45} median {median:7.1f}  p90 {p90:7.1f}  {median / baseline:5.1f}x")


if __name__ == "__main__":
    main()
