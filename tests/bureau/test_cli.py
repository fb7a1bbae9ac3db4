"""``tenor bureau`` as a person runs it, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tenor.cli import app
from tenor.core.bureau import decode_file
from tenor.store.database import Database
from tests.bureau.helpers import set_day, usd_loan

Tenor = Callable[..., Result]


@pytest.fixture
def tenor(db: Database, monkeypatch: pytest.MonkeyPatch) -> Tenor:
    monkeypatch.setenv("TENOR_DATABASE_URL", db.url)
    runner = CliRunner()

    def run(*arguments: str) -> Result:
        return runner.invoke(app, ["bureau", *arguments])

    return run


def test_export_writes_the_file_and_reports_counts_and_held_back(
    db: Database,
    tenor: Tenor,
    tmp_path: Path,
) -> None:
    loan_id, _ = usd_loan(db)
    other, other_borrower = usd_loan(db, identity=False)
    set_day(db, dt.date(2026, 4, 1))
    opened = tenor("dispute", "open", "--loan", str(loan_id), "--on", "2026-03-02")
    assert opened.exit_code == 0, opened.output
    out = tmp_path / "m2.txt"
    result = tenor("export", "--format", "metro2", "--month", "2026-03", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "wrote 1 metro2 records for 2026-03" in result.output
    assert f"loan {other}: borrower {other_borrower} has no Metro 2 identification" in result.output
    (record,) = decode_file(out.read_text()).records
    assert record.base.compliance_condition_code == "XB"
    assert "123456789" not in result.output

    added = tenor(
        "consumer", "--borrower", str(other_borrower), "--surname", "Roe", "--first-name",
        "John", "--address", "3 Oak St", "--city", "Peoria", "--state", "IL", "--zip", "61602",
        "--dob", "1985-01-02",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    again = tenor("export", "--format", "metro2", "--month", "2026-03", "--out", str(out), "--json")
    assert again.exit_code == 0, again.output
    summary = json.loads(again.output)
    assert (summary["records"], summary["held_back"]) == (2, [])
    assert summary["status_counts"] == {"71": 2}

    pboc = tmp_path / "pboc.json"
    result = tenor("export", "--format", "pboc", "--month", "2026-03", "--out", str(pboc))
    assert result.exit_code == 0, result.output
    assert len(json.loads(pboc.read_text(encoding="utf-8"))["records"]) == 2
    assert "110101199003071234" not in result.output

    corrected = tmp_path / "fix.txt"
    result = tenor(
        "correct", "--loan", str(loan_id), "--format", "metro2", "--month", "2026-02",
        "--out", str(corrected), "--delete", "DA",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert decode_file(corrected.read_text()).records[0].base.account_status == "DA"


BAD_EXPORTS = (
    (("--format", "xml", "--month", "2026-03"), "--format must be metro2 or pboc"),
    (("--format", "metro2", "--month", "2026-13"), "--month must be a month as YYYY-MM"),
    (("--format", "metro2", "--month", "2026-04"), "has not ended"),
    (("--format", "metro2", "--month", "2026-03", "--csv"), "--csv applies to"),
)


def test_bad_export_arguments_fail_in_one_line_and_write_nothing(
    db: Database, tenor: Tenor, tmp_path: Path
) -> None:
    usd_loan(db)
    set_day(db, dt.date(2026, 4, 15))
    out = tmp_path / "file.txt"
    for arguments, message in BAD_EXPORTS:
        result = tenor("export", *arguments, "--out", str(out))
        assert result.exit_code == 2, arguments
        assert result.output.startswith("error: ")
        assert message in result.output
        assert not out.exists()


def test_bad_dispute_and_consumer_input(db: Database, tenor: Tenor) -> None:
    loan_id, borrower_id = usd_loan(db)
    result = tenor("dispute", "resolve", "--loan", str(loan_id), "--on", "2026-03-02")
    assert (result.exit_code, result.output.strip()) == (
        2,
        f"error: loan {loan_id} has no open dispute",
    )
    result = tenor(
        "consumer", "--borrower", str(borrower_id), "--surname", "Doe", "--first-name", "J",
        "--address", "1 A St", "--city", "X", "--state", "IL", "--zip", "123", "--ssn", "123456789",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "ZIP code must be 5 or 9 digits" in result.output
