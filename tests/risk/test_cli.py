"""``tenor price``, ``tenor ews`` and ``tenor risk`` from the shell: answers and one-line errors."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tenor.store.database import Database
from tenor.store.migrate import upgrade
from tenor.store.models import Borrower, Loan
from tests.builders import seed_loan
from tests.risk.test_rules import WORKED
from tests.test_cli_book import Shell, one_line_error


@pytest.fixture
def shell(tmp_path: Path) -> Shell:
    return Shell(tmp_path / "tenor.db")


def test_price_shows_every_component(shell: Shell) -> None:
    priced = shell.json("price", "--score", "640", "--term", "12", "--amount", "50000")
    assert isinstance(priced, dict)
    assert set(priced["components"]) == {
        "funding_cost",
        "expected_loss",
        "operating_cost",
        "capital_charge",
        "margin",
    }
    assert priced["rate"] == "0.0782"


@pytest.mark.parametrize(
    ("args", "starts"),
    [
        (["price", "--score", "x", "--term", "12", "--amount", "1"], "--score must be"),
        (["price", "--score", "640", "--term", "0", "--amount", "1"], "--term must be"),
        (["price", "--score", "640", "--term", "12", "--amount", "-5"], "--amount must be"),
        (["risk", "evaluate", "--dataset", "iris"], "--dataset must be one of"),
        (["risk", "evaluate", "--dataset", "german-credit", "--repeats", "0"], "--repeats"),
        (["risk", "monitor", "--month", "2026-13"], "--month must be"),
    ],
)
def test_bad_arguments_are_one_line(shell: Shell, args: list[str], starts: str) -> None:
    one_line_error(shell(*args), starts)


def test_ews_ingest_refuses_an_unbalanced_file_and_records_nothing(
    shell: Shell, tmp_path: Path
) -> None:
    db = Database(f"sqlite:///{shell.database}")
    upgrade(db)
    loan_id = seed_loan(db)
    with db.transaction() as session:
        loan = session.get(Loan, loan_id)
        assert loan is not None
        borrower = session.get(Borrower, loan.borrower_id)
        assert borrower is not None
        borrower.kind = "enterprise"
        borrower_id = borrower.id
    db.dispose()
    bad = json.loads(json.dumps(WORKED))
    bad["balance_sheet"]["total_assets"] = 3950
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    result = shell("ews", "ingest", str(tmp_path / "bad.json"), "--borrower", str(borrower_id))
    one_line_error(result, "bad.json statement 1: the balance sheet of 2026-03-31 does not")
    assert "difference of -50" in result.stderr
    good = json.loads(json.dumps(WORKED))
    good["cash_flow"]["debt_service"] = 200
    (tmp_path / "good.json").write_text(json.dumps(good))
    ingested = shell.json(
        "ews", "ingest", str(tmp_path / "good.json"), "--borrower", str(borrower_id)
    )
    assert isinstance(ingested, dict)
    assert ingested["watchlist_opened"] == 1
    listed = shell.json("ews", "watchlist")
    assert isinstance(listed, dict)
    assert [entry["code"] for entry in listed["entries"]] == ["covenant:dscr"]
    report = shell.json("report", "ecl")
    assert isinstance(report, dict)
    assert [(line["stage"], line["segment"]) for line in report["lines"]] == [(2, "enterprise")]


def test_no_file_is_one_line(shell: Shell, tmp_path: Path) -> None:
    result: subprocess.CompletedProcess[str] = shell(
        "ews", "ingest", str(tmp_path / "missing.csv"), "--borrower", "1"
    )
    one_line_error(result, "no file at")
