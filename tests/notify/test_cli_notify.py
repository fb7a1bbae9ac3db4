"""``tenor notify``: preview, schedule and dead letters from the shell, on a seeded book."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tenor.cli import app
from tenor.store.database import Database
from tests.builders import seed_loan
from tests.conftest import make_database


@pytest.fixture
def book(tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """A SQLite book with one loan, named by TENOR_DATABASE_URL; the loan's id."""
    db: Database = make_database("sqlite", tmp_path, request)
    monkeypatch.setenv("TENOR_DATABASE_URL", db.url)
    return seed_loan(db)


def tenor(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), prog_name="tenor")
    return result.exit_code, result.stdout, result.stderr


def test_preview_renders_the_next_unpaid_installment(book: int) -> None:
    code, out, _ = tenor("notify", "preview", "--loan", str(book), "--offset", "D-1",
                         "--channel", "sms", "--json")  # fmt: skip
    assert code == 0
    document = json.loads(out)
    assert (document["installment"], document["offset"], document["template"]) == (
        1,
        -1,
        "upcoming",
    )
    assert "2026年2月15日（1天后）到期" in document["body"]  # noqa: RUF001
    code, out, _ = tenor("notify", "preview", "--loan", str(book), "--offset", "D+1",
                         "--channel", "email")  # fmt: skip
    assert code == 0
    assert out.startswith("Subject: 逾期提醒")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--offset", "tomorrow"], "--offset must be written D-3, D0 or D+7"),
        (["--offset", "D+2"], "has no reminder at D+2 (D-3, D-1, D0, D+1, D+3, D+7)"),
        (["--channel", "fax"], "--channel must be one of sms, push, email, voice"),
        (["--loan", "999"], "loan 999 does not exist"),
    ],
)
def test_preview_refuses_bad_input_in_one_line(book: int, args: list[str], message: str) -> None:
    base = {"--loan": str(book), "--offset": "D-1", "--channel": "sms"}
    base[args[0]] = args[1]
    code, out, err = tenor("notify", "preview", *[p for kv in base.items() for p in kv])
    assert (code, out) == (2, "")
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_schedule_writes_once_and_dead_letters_are_listed(book: int) -> None:
    first = json.loads(tenor("notify", "schedule", "--date", "2026-03-12", "--json")[1])
    assert (first["actions"], first["written"]) == (1, 1)
    again = json.loads(tenor("notify", "schedule", "--date", "2026-03-12", "--json")[1])
    assert (again["written"], again["already_written"]) == (0, 1)
    code, out, _ = tenor("notify", "dead-letters", "list", "--json")
    assert (code, json.loads(out)) == (0, [])
    code, _, err = tenor("notify", "dead-letters", "requeue")
    assert code == 2
    assert "give the ids to requeue, or --all" in err
    assert (
        tenor("notify", "dead-letters", "requeue", "--all")[1].strip() == "requeued 0 notifications"
    )
