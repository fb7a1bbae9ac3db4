"""The book's commands end to end: the installed ``tenor``, run as an operator or a script runs
it, against a SQLite file of its own: ``demo``, ``loans``, ``borrowers``, ``rebuild``, ``db``."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

TENOR = Path(sys.executable).parent / "tenor"

LOAN_KEYS = {
    "id",
    "borrower_id",
    "status",
    "currency",
    "outstanding_principal",
    "days_past_due",
    "bucket",
}


@dataclass(frozen=True)
class Shell:
    """``tenor`` with TENOR_DATABASE_URL pointing at ``database``."""

    database: Path

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        # A fixed width, so that Rich lays out help and tables the same on every terminal.
        env = {
            **os.environ,
            "COLUMNS": "100",
            "TENOR_DATABASE_URL": f"sqlite:///{self.database}",
        }
        return subprocess.run(
            [str(TENOR), *args], capture_output=True, text=True, check=False, timeout=60, env=env
        )

    def json(self, *args: str) -> object:
        result = self(*args, "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Shell:
    """A demo book of 30 borrowers over two months, built once for the module."""
    shell = Shell(tmp_path_factory.mktemp("book") / "tenor.db")
    built = shell("demo", "--borrowers", "30", "--months", "2", "--seed", "3")
    assert built.returncode == 0, built.stderr
    assert "五级分类" in built.stdout
    assert "tenor serve" in built.stdout
    return shell


def loans(book: Shell, *args: str) -> list[dict[str, Any]]:
    listed = book.json("loans", "list", *args)
    assert isinstance(listed, list)
    return listed


def one_line_error(result: subprocess.CompletedProcess[str], starts: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"error: {starts}"), result.stderr
    assert "Traceback" not in result.stderr


def test_loans_list_gives_a_json_list_of_loans(book: Shell) -> None:
    listed = loans(book, "--limit", "1000")
    assert len(listed) > 30  # some consumers draw twice
    assert all(set(loan) >= LOAN_KEYS for loan in listed)
    assert [loan["id"] for loan in listed] == sorted(loan["id"] for loan in listed)
    assert {loan["currency"] for loan in listed} == {"CNY"}
    assert len(loans(book, "--limit", "5")) == 5
    assert loans(book, "--limit", "5", "--offset", "5")[0]["id"] == listed[5]["id"]


def test_loans_list_filters(book: Shell) -> None:
    late = loans(book, "--min-dpd", "1", "--limit", "1000")
    assert late
    assert all(loan["days_past_due"] >= 1 for loan in late)
    assert all(loan["status"] == "active" for loan in loans(book, "--status", "active"))
    assert all(loan["bucket"] == "M1" for loan in loans(book, "--bucket", "m1"))
    assert all(loan["product_id"] == 3 for loan in loans(book, "--product", "3"))
    current = loans(book, "--max-dpd", "0", "--limit", "1000")
    assert all(loan["days_past_due"] == 0 for loan in current)


def test_loans_show_gives_the_loan_and_its_schedule(book: Shell) -> None:
    loan = book.json("loans", "show", "1")
    assert isinstance(loan, dict)
    assert loan["id"] == 1
    assert set(loan) >= LOAN_KEYS
    assert loan["schedule"]
    assert {"number", "due_date", "principal", "paid", "unpaid"} <= set(loan["schedule"][0])
    table = book("loans", "show", "1")
    assert table.returncode == 0, table.stderr
    assert "Schedule" in table.stdout


def test_borrowers_show_masks_identity_unless_revealed(book: Shell) -> None:
    masked = book.json("borrowers", "show", "1")
    revealed = book.json("borrowers", "show", "1", "--reveal")
    assert isinstance(masked, dict)
    assert isinstance(revealed, dict)
    assert masked["id"] == revealed["id"] == 1
    assert "*" in masked["national_id"]
    assert revealed["national_id"].isalnum()
    assert len(revealed["national_id"]) == 18
    assert all("*" in phone for phone in masked["phones"])
    assert all(phone.isdigit() for phone in revealed["phones"])
    people = book("borrowers", "show", "1")
    assert people.returncode == 0, people.stderr
    assert revealed["national_id"] not in people.stdout


def test_rebuild_finds_nothing_to_repair_after_the_demo(book: Shell) -> None:
    report = book.json("rebuild", "--all")
    assert isinstance(report, dict)
    assert report["loans_with_differences"] == 0
    assert report["differences"] == []
    assert report["loans_rebuilt"] == len(loans(book, "--limit", "1000"))


def test_rebuild_reports_and_repairs_a_tampered_projection(tmp_path: Path) -> None:
    shell = Shell(tmp_path / "tampered.db")
    built = shell("demo", "--borrowers", "5", "--months", "1", "--seed", "1")
    assert built.returncode == 0, built.stderr
    with sqlite3.connect(shell.database) as connection:
        connection.execute("UPDATE loan_state SET days_past_due = 99 WHERE loan_id = 1")
    found = shell("rebuild", "--loan", "1", "--json")
    assert found.returncode == 1, found.stderr
    report = json.loads(found.stdout)
    assert report["loans_with_differences"] == 1
    assert report["differences"][0]["loan_id"] == 1
    assert any("days_past_due" in line for line in report["differences"][0]["differences"])
    assert shell("rebuild", "--all").returncode == 0


def test_db_upgrade_prints_the_revision(book: Shell, tmp_path: Path) -> None:
    again = book("db", "upgrade")
    assert again.returncode == 0, again.stderr
    assert "already at revision" in again.stdout
    fresh = Shell(tmp_path / "new.db")("db", "upgrade")
    assert fresh.returncode == 0, fresh.stderr
    assert "upgraded from empty to revision" in fresh.stdout


def test_the_demo_refuses_to_overwrite_a_book(book: Shell) -> None:
    one_line_error(book("demo", "--borrowers", "5", "--months", "1"), "the database sqlite:///")


def test_the_walkthrough_needs_no_database(tmp_path: Path) -> None:
    shell = Shell(tmp_path / "never.db")
    result = shell("demo", "--walkthrough")
    assert result.returncode == 0, result.stderr
    assert "A consumer loan's life" in result.stdout
    assert not shell.database.exists()


@pytest.mark.parametrize(
    ("args", "starts"),
    [
        (["loans", "show", "999999"], "loan 999999 does not exist"),
        (["loans", "show", "abc"], "ID must be a whole number"),
        (["borrowers", "show", "999999"], "borrower 999999 does not exist"),
        (["rebuild", "--loan", "999999"], "loan 999999 does not exist"),
        (["rebuild"], "give either --loan ID or --all"),
        (["rebuild", "--loan", "1", "--all"], "give either --loan ID or --all"),
        (["loans", "list", "--status", "late"], "--status must be one of"),
        (["loans", "list", "--limit", "0"], "--limit must be between 1 and 1000"),
        (["loans", "list", "--min-dpd", "9", "--max-dpd", "1"], "--min-dpd 9 is above"),
        (["loans", "list", "--min-dpd", "-1"], "--min-dpd must be between 0"),
        (["demo", "--borrowers", "0"], "--borrowers must be between 1 and 100000"),
        (["demo", "--months", "many"], "--months must be a whole number"),
        (["demo", "--start", "2026-02-30"], "--start must be a real date"),
    ],
)
def test_bad_input_exits_2_with_one_line(book: Shell, args: list[str], starts: str) -> None:
    one_line_error(book(*args), starts)


def test_a_missing_or_unmigrated_database_is_one_line(tmp_path: Path) -> None:
    missing = Shell(tmp_path / "missing.db")
    one_line_error(missing("loans", "list"), "no database at")
    assert not missing.database.exists()
    sqlite3.connect(tmp_path / "empty.db").close()
    one_line_error(Shell(tmp_path / "empty.db")("rebuild", "--all"), "the database sqlite:///")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--help"], ["demo", "db", "rebuild", "loans", "borrowers"]),
        (
            ["demo", "--help"],
            ["--borrowers", "--months", "--seed", "--start", "--fresh", "--walkthrough", "--json"],
        ),
        (["db", "upgrade", "--help"], ["revision"]),
        (["rebuild", "--help"], ["--loan", "--all", "--json", "Exit status"]),
        (
            ["loans", "list", "--help"],
            ["--status", "--bucket", "--min-dpd", "--max-dpd", "--product", "--limit", "--json"],
        ),
        (["loans", "show", "--help"], ["ID", "--json"]),
        (["borrowers", "show", "--help"], ["ID", "--reveal", "--json"]),
    ],
)
def test_help_is_complete(args: list[str], words: list[str]) -> None:
    result = subprocess.run(
        [str(TENOR), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={**os.environ, "COLUMNS": "100"},
    )
    assert result.returncode == 0, result.stderr
    for word in words:
        assert word in result.stdout, word
