"""Restart, repeat and catch up: a killed close rerun, a date closed twice, many days at once.

Each compares whole databases (every table, every row; only clocks, random event ids and
surrogate journal ids set aside) with a book closed once without interruption.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from tenor.actions import loans as loan_actions
from tenor.batch.close import close_book
from tenor.store.database import Database
from tenor.store.journal import rebuild
from tests.batch.closebook import START, build_book, dump
from tests.conftest import make_database

ROOT = Path(__file__).resolve().parents[2]
THROUGH = START + dt.timedelta(days=20)
SIZE = 6
LOANS = 22


def _reference(db: Database, tmp_path: Path, request: pytest.FixtureRequest) -> Database:
    """The same book as ``db``'s, in a database of the same kind, closed in one go."""
    kind = "postgres" if db.engine.dialect.name == "postgresql" else "sqlite"
    folder = tmp_path / "reference"
    folder.mkdir()
    reference = make_database(kind, folder, request)
    build_book(reference, loans=LOANS, seed=5)
    close_book(reference, through=THROUGH, partition_size=SIZE)
    return reference


def _environment(db: Database) -> dict[str, str]:
    return {
        **os.environ,
        "TENOR_DATABASE_URL": db.url,
        "PYTHONPATH": str(ROOT),
        "COLUMNS": "100",
    }


def test_a_close_killed_at_any_point_and_rerun_reaches_the_same_state(
    db: Database, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    build_book(db, loans=LOANS, seed=5)
    reference = _reference(db, tmp_path, request)
    environment = _environment(db)
    # Killed right after a partition commits: the first, mid-day, across a day's end.
    for kill_after in (1, 6, 13):
        killed = subprocess.run(
            [
                sys.executable,
                "-m",
                "tests.batch.kill_close",
                db.url,
                THROUGH.isoformat(),
                str(SIZE),
                str(kill_after),
            ],
            env=environment,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert killed.returncode == -signal.SIGKILL, killed.stderr
    # And killed at a moment nobody chose, in the middle of whatever it was doing.
    tenor = Path(sys.executable).parent / "tenor"
    running = subprocess.Popen(
        [str(tenor), "close", "--through", THROUGH.isoformat(), "--partition-size", str(SIZE)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(random.uniform(1.5, 4.0))
    running.send_signal(signal.SIGKILL)
    running.wait(timeout=30)
    with db.reading() as session:
        open_date = session.execute(
            text("SELECT value FROM settings WHERE name = 'business_date'")
        ).scalar_one()
        resumed = session.execute(text("SELECT COUNT(*) FROM close_progress")).scalar_one()
    assert resumed > 13
    assert open_date <= THROUGH.isoformat() or running.returncode == 0
    result = close_book(db, through=THROUGH, partition_size=SIZE)
    assert result.business_date == THROUGH + dt.timedelta(days=1)
    assert dump(db) == dump(reference)


def test_closing_a_date_again_changes_nothing(db: Database) -> None:
    build_book(db, loans=8, seed=6)
    first = close_book(db, date=START)
    assert [day.business_date for day in first.closed] == [START]
    assert first.business_date == START + dt.timedelta(days=1)
    before = dump(db)
    again = close_book(db, date=START)
    assert again.closed == []
    assert again.already_closed == START
    earlier = close_book(db, through=START - dt.timedelta(days=3))
    assert earlier.closed == []
    assert dump(db) == before


def test_catching_up_over_many_days_closes_each_day_and_keeps_the_projections_exact(
    db: Database,
) -> None:
    ids = build_book(db, loans=16, seed=7)
    through = dt.date(2026, 5, 2)
    result = close_book(db, through=through)
    days = [day.business_date for day in result.closed]
    assert days == [START + dt.timedelta(days=n) for n in range((through - START).days + 1)]
    assert result.business_date == through + dt.timedelta(days=1)
    assert sum(day.penalties for day in result.closed) > 0
    with db.reading() as session:
        month_ends = (
            session.execute(
                text("SELECT DISTINCT month_end FROM close_month_end ORDER BY month_end")
            )
            .scalars()
            .all()
        )
        summaries = session.execute(
            text("SELECT COUNT(DISTINCT business_date) FROM close_summary")
        ).scalar_one()
    assert [str(day) for day in month_ends] == ["2026-03-31", "2026-04-30"]
    assert summaries == len(days)
    with db.transaction() as session:
        assert [rebuild(session, loan_id).differences for loan_id in ids] == [()] * len(ids)


def test_a_written_off_loan_ages_in_stage_3_without_penalties(db: Database) -> None:
    ids = build_book(db, loans=6, seed=12)
    close_book(db, through=START + dt.timedelta(days=9))
    written_off = ids[1]
    loan_actions.write_off(db, written_off, value_date=START + dt.timedelta(days=10))
    close_book(db, through=START + dt.timedelta(days=45))
    with db.reading() as session:
        charged = session.execute(
            text(
                "SELECT COUNT(*) FROM journal WHERE loan_id = :l AND kind = 'charge-applied' "
                "AND value_date > :d"
            ),
            {"l": written_off, "d": START + dt.timedelta(days=9)},
        ).scalar_one()
        stage, status = session.execute(
            text("SELECT stage, status FROM loan_state WHERE loan_id = :l"), {"l": written_off}
        ).one()
    assert charged == 0
    assert (stage, status) == (3, "written-off")
    with db.transaction() as session:
        assert [rebuild(session, loan_id).differences for loan_id in ids] == [()] * len(ids)
