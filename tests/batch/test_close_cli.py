"""``tenor close`` and ``tenor report portfolio`` as an operator runs them, and bad input."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import text
from typer.testing import CliRunner, Result

from tenor.batch.close import SQLITE_MAX_PARTITION_SIZE, partition_size_for
from tenor.cli import app
from tenor.store.database import Database
from tests.batch.closebook import START, build_book, dump


def tenor(db: Database, *args: str) -> Result:
    """``tenor ARGS`` on ``db``, in this process (the commands run as the installed ones do)."""
    env = {"COLUMNS": "120", "TENOR_DATABASE_URL": db.url}
    return CliRunner().invoke(app, list(args), env=env)


def tenor_json(db: Database, *args: str) -> Any:
    """``tenor ARGS --json``, which must succeed."""
    result = tenor(db, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_one_broken_loan_is_reported_and_the_close_goes_on(db: Database) -> None:
    ids = build_book(db, loans=10, seed=8)
    broken = ids[3]
    with db.transaction() as session:
        # An installment whose unpaid total is less than its unpaid principal breaks a rule.
        session.execute(
            text("UPDATE installments SET unpaid_minor = 1 WHERE loan_id = :l AND number = 1"),
            {"l": broken},
        )
    through = START + dt_days(40)
    document = tenor_json(db, "close", "--through", through.isoformat(), "--partition-size", "4")
    assert document["closed"][0] == START.isoformat()
    assert document["closed"][-1] == through.isoformat()
    assert document["business_date"] == (through + dt_days(1)).isoformat()
    assert {row["loan_id"] for row in document["error_loans"]} == {broken}
    # Reported on every day it stays broken, and left out of everything else.
    assert len(document["error_loans"]) == len(document["closed"])
    assert "installment 1" in document["error_loans"][0]["message"]
    assert document["loans_touched"] > len(ids)
    assert document["penalties"] > 0
    assert document["actions"] > 0
    with db.reading() as session:
        states = session.execute(text("SELECT loan_id FROM close_state")).scalars().all()
        broken_events = session.execute(
            text("SELECT COUNT(*) FROM journal WHERE loan_id = :l AND actor = 'close'"),
            {"l": broken},
        ).scalar_one()
    assert sorted(states) == sorted(set(ids) - {broken})
    assert broken_events == 0
    people = tenor(db, "report", "portfolio")
    assert people.exit_code == 0, people.output
    assert "关注 Special mention" in people.stdout
    assert "Rolls since yesterday" in people.stdout


def dt_days(days: int) -> dt.timedelta:
    return dt.timedelta(days=days)


def test_close_prints_counts_balances_and_rolls_and_the_report_reads_month_ends(
    db: Database,
) -> None:
    build_book(db, loans=12, seed=9)
    people = tenor(db, "close", "--through", "2026-04-30")
    assert people.exit_code == 0, people.output
    for text_shown in (
        "Closed 2026-03-01 to 2026-04-30 (61 days)",
        "Touched",
        "Penalties",
        "loans per second",
        "Open loans by bucket",
        "五级分类",
        "Rolls since yesterday",
    ):
        assert text_shown in people.stdout, text_shown
    report = tenor_json(db, "report", "portfolio")
    assert report["business_date"] == "2026-04-30"
    assert report["open_business_date"] == "2026-05-01"
    assert sum(row["loans"] for row in report["buckets"]) == report["balances"][0]["loans"]
    assert sum(row["loans"] for row in report["classes"]) == report["balances"][0]["loans"]
    rates = report["roll_rates"]
    assert (rates["from_month_end"], rates["to_month_end"]) == ("2026-03-31", "2026-04-30")
    for bucket in {row["from"] for row in rates["matrix"]}:
        shares = [row["rate"] for row in rates["matrix"] if row["from"] == bucket]
        assert abs(sum(shares) - 1) < 0.001
    assert report["cure_rates"]["delinquent_loans"] > 0
    earlier = tenor_json(db, "report", "portfolio", "--date", "2026-03-15")
    assert earlier["business_date"] == "2026-03-15"
    assert earlier["roll_rates"]["matrix"] == []


def test_bad_input_is_one_line_with_status_2_and_changes_nothing(db: Database) -> None:
    build_book(db, loans=3, seed=10)
    before = dump(db)
    cases = [
        (("close", "--date", "2026-03-05"), "is not the open business date 2026-03-01"),
        (("close", "--date", "2026-03-01", "--through", "2026-03-02"), "either --date or"),
        (("close", "--date", "2026-02-30"), "--date"),
        (("close", "--workers", "0"), "--workers must be between 1"),
        (("close", "--engine", "spark"), "--engine must be one of local, dask"),
        (("close", "--engine", "dask"), "needs --scheduler"),
        (("close", "--scheduler", "tcp://127.0.0.1:1"), "--scheduler is for --engine dask"),
        (("close", "--engine", "dask", "--scheduler", "tcp://127.0.0.1:1"), "Dask scheduler"),
        (("report", "portfolio"), "no business date has been closed yet"),
    ]
    for args, message in cases:
        result = tenor(db, *args)
        assert result.exit_code == 2, (args, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, (args, result.stderr)
        assert lines[0].startswith("error: "), (args, result.stderr)
        assert message in lines[0], (args, lines[0])
    assert dump(db) == before
    closed = tenor_json(db, "close")
    assert closed["closed"] == ["2026-03-01"]
    again = tenor_json(db, "close", "--date", "2026-03-01")
    assert again["closed"] == []
    assert again["already_closed"] == "2026-03-01"
    missing = tenor(db, "report", "portfolio", "--date", "2026-03-09")
    assert missing.exit_code == 2
    assert "has not been closed" in missing.stderr


def test_the_days_rolls_are_the_bucket_moves_of_its_journal_and_the_loans_that_stayed(
    db: Database,
) -> None:
    """Each date's rolls, counted in SQL by the close, equal a recount from the journal's
    bucket-changed events and the projections as that date's close left them."""
    build_book(db, loans=16, seed=5)
    checked = 0
    for day in (dt.date(2026, 3, 1) + dt.timedelta(days=offset) for offset in range(0, 75, 7)):
        assert tenor(db, "close", "--through", day.isoformat()).exit_code == 0
        with db.engine.connect() as connection:
            states = connection.execute(
                text(
                    "SELECT loan_id, currency, outstanding_principal_minor, status, bucket "
                    "FROM loan_state"
                )
            ).all()
            moves = connection.execute(
                text(
                    "SELECT loan_id, payload FROM journal WHERE kind = 'bucket-changed' "
                    "AND actor = 'close' AND value_date = :day"
                ),
                {"day": day},
            ).all()
            stored = {
                (currency, source, target): (loans, principal)
                for currency, source, target, loans, principal in connection.execute(
                    text(
                        "SELECT currency, from_bucket, to_bucket, loans, principal_minor "
                        "FROM close_rolls WHERE business_date = :day"
                    ),
                    {"day": day},
                )
            }
        by_loan = {row[0]: row for row in states}
        expected: dict[tuple[str, str, str], tuple[int, int]] = {}
        arrived: dict[tuple[str, str], tuple[int, int]] = {}
        for loan_id, payload in moves:
            document = payload if isinstance(payload, dict) else json.loads(payload)
            _, currency, principal, status, _ = by_loan[loan_id]
            key = (currency, document.get("from_bucket") or "new", document["to_bucket"])
            loans, total = expected.get(key, (0, 0))
            expected[key] = (loans + 1, total + principal)
            if status in ("active", "overpaid"):
                loans, total = arrived.get((currency, document["to_bucket"]), (0, 0))
                arrived[(currency, document["to_bucket"])] = (loans + 1, total + principal)
        in_bucket: dict[tuple[str, str], tuple[int, int]] = {}
        for _, currency, principal, status, bucket in states:
            if status in ("active", "overpaid"):
                loans, total = in_bucket.get((currency, bucket), (0, 0))
                in_bucket[(currency, bucket)] = (loans + 1, total + principal)
        for (currency, bucket), (loans, total) in in_bucket.items():
            came, came_principal = arrived.get((currency, bucket), (0, 0))
            if loans - came > 0:
                expected[(currency, bucket, bucket)] = (loans - came, total - came_principal)
        assert stored == expected, day
        checked += len(moves)
    assert checked > 0


def test_a_larger_book_is_cut_in_larger_partitions_about_eight_per_worker() -> None:
    """Each partition costs a transaction and a few statements whatever it holds."""
    assert partition_size_for(2_266, 1) == 5_000
    assert partition_size_for(200_000, 2) == 12_500
    assert partition_size_for(1_000_000, 2) == 50_000
    assert partition_size_for(10_000_000, 8) == 50_000
    # SQLite binds a partition's loans one by one: its default build takes 32,766 a statement.
    assert partition_size_for(1_000_000, 2, SQLITE_MAX_PARTITION_SIZE) == 20_000


def test_a_close_started_with_a_size_chosen_from_the_book_keeps_it(db: Database) -> None:
    build_book(db, loans=6, seed=3)
    tenor_json(db, "close", "--through", "2026-03-02")
    with db.engine.connect() as connection:
        sizes = connection.execute(text("SELECT partition_size FROM close_days")).scalars().all()
    assert sizes == [5_000, 5_000]
