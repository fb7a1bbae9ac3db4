"""``tenor restructure`` on SQLite and PostgreSQL: the options document, a one-step
restructuring with a second person's approval, the workflow step by step, and bad input."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Final

import pytest
from typer.testing import CliRunner

from tenor.actions import loans
from tenor.actions.apikeys import create_api_key
from tenor.cli import app
from tenor.core.money import Money
from tenor.store.database import Database
from tenor.store.journal import set_business_date
from tenor.store.models import JournalEntry, Loan
from tests.builders import seed_loan

DAY = dt.date(2026, 4, 1)


@pytest.fixture
def run(db: Database, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("TENOR_DATABASE_URL", db.url)
    monkeypatch.delenv("TENOR_API_KEY", raising=False)
    runner = CliRunner()

    def invoke(*arguments: str) -> Any:
        return runner.invoke(app, ["restructure", *arguments])

    return invoke


def loan(db: Database) -> tuple[int, int, int]:
    """The builders' loan with its first installment paid, on business date 1 April."""
    loan_id = seed_loan(db, business_date=DAY)
    loans.post_repayment(
        db, loan_id, amount=Money.of("1053.15", "CNY"), value_date=dt.date(2026, 2, 15)
    )
    with db.transaction() as session:
        set_business_date(session, DAY)
        row = session.get(Loan, loan_id)
        assert row is not None
        return loan_id, row.borrower_id, row.product_id


def key(db: Database, role: str) -> str:
    with db.transaction() as session:
        return create_api_key(session, role)[1]


def test_options_json_has_the_issues_shape(db: Database, run: Any) -> None:
    loan_id, borrower_id, _ = loan(db)
    unscored = run("options", "--loan", str(loan_id), "--json")
    assert unscored.exit_code == 0, unscored.output
    document = json.loads(unscored.output)
    assert list(document) == ["options"]
    for item in document["options"]:
        assert list(item) == ["type", "eligible", "reasons", "schedule", "comparison"]
        assert item["eligible"] is False
        assert item["schedule"] is None
        assert item["reasons"][0] == {
            "code": "no_credit_score",
            "zh": "没有信用评分记录",
            "en": "No credit score on record",
        }
    scored = run(
        "score",
        "--borrower",
        str(borrower_id),
        "--score",
        "680",
        "--source",
        "bureau",
        "--as-of",
        "2026-03-01",
    )
    assert scored.exit_code == 0, scored.output
    document = json.loads(run("options", "--loan", str(loan_id), "--json").output)
    by_type = {item["type"]: item for item in document["options"]}
    deferral = by_type["deferral"]
    assert deferral["eligible"] is True
    assert deferral["reasons"] == []
    rows = deferral["schedule"]["installments"]
    # 15 March is overdue: the holiday takes 15 April and 15 May, then four installments.
    assert [row["due_date"] for row in rows] == [
        "2026-04-15",
        "2026-05-15",
        "2026-06-15",
        "2026-07-15",
        "2026-08-15",
        "2026-09-15",
    ]
    assert rows[0]["total"] == rows[1]["total"] == "0.00"
    assert rows[-1]["balance"] == "0.00"
    assert deferral["comparison"]["current"]["term"] == 5
    assert deferral["comparison"]["proposed"]["last_due_date"] == "2026-09-15"
    assert by_type["arrears-plan"]["eligible"] is True
    people = run("options", "--loan", str(loan_id))
    assert "deferral: eligible" in people.output


def test_apply_needs_a_second_person_above_the_policys_limit(
    db: Database, run: Any, tmp_path: Path
) -> None:
    loan_id, borrower_id, product_id = loan(db)
    run(
        "score",
        "--borrower",
        str(borrower_id),
        "--score",
        "680",
        "--source",
        "bureau",
        "--as-of",
        "2026-03-01",
    )
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"currency": "CNY", "approval_above": "1000"}))
    assert run("policy", "--product", str(product_id), "--set", str(policy)).exit_code == 0
    maker, checker = key(db, "collector"), key(db, "risk")
    apply = ["apply", "--loan", str(loan_id), "--option", "deferral", "--installments", "2"]
    missing = run(*apply, "--as", maker)
    assert missing.exit_code == 2
    assert "needs a second person's approval" in missing.output
    same = run(*apply, "--as", checker, "--approver", checker)
    assert same.exit_code == 2
    assert "second person" in same.output
    collector = run(*apply, "--as", maker, "--approver", maker)
    assert collector.exit_code == 2
    assert "risk officer's or an admin's key" in collector.output
    with db.reading() as session:
        assert session.query(JournalEntry).filter_by(kind="restructured").count() == 0
    done = run(*apply, "--as", maker, "--approver", checker, "--json")
    assert done.exit_code == 0, done.output
    offer = json.loads(done.output)
    assert offer["status"] == "applied"
    assert offer["approved_by"] == f"key:{checker.split('_')[1]}"
    with db.reading() as session:
        entry = session.query(JournalEntry).filter_by(kind="restructured").one()
        assert entry.event_id == offer["event_id"]
    listed = json.loads(run("list", "--loan", str(loan_id), "--json").output)
    assert listed["under_watch"] is True
    assert listed["open"]["kind"] == "plan"


def test_the_workflow_step_by_step(db: Database, run: Any) -> None:
    loan_id, borrower_id, _ = loan(db)
    run(
        "score",
        "--borrower",
        str(borrower_id),
        "--score",
        "680",
        "--source",
        "bureau",
        "--as-of",
        "2026-03-01",
    )
    requested = run("request", "--loan", str(loan_id), "--income", "3000", "--json")
    assert requested.exit_code == 0, requested.output
    request = json.loads(requested.output)
    assert request["status"] == "offered"
    settlement = next(o for o in request["offers"] if o["type"] == "settlement")
    assert settlement["needs_approval"] is True
    shown = json.loads(run("offers", "--request", str(request["id"]), "--json").output)
    assert shown == request
    accepted = json.loads(run("accept", "--offer", str(settlement["id"]), "--json").output)
    assert accepted["status"] == "accepted"
    checker = key(db, "admin")
    approved = run("approve", "--offer", str(settlement["id"]), "--approver", checker)
    assert approved.exit_code == 0, approved.output
    assert "applied" in approved.output


BAD_INPUT: Final = [
    (["options", "--loan", "x"], "--loan must be a whole number"),
    (["options", "--loan", "999"], "loan 999 does not exist"),
    (["options", "--loan", "{loan}", "--date", "2026-02-30"], "--date must be a real date"),
    (["options", "--loan", "{loan}", "--date", "2020-01-01"], "relief is computed on a date"),
    (["apply", "--loan", "{loan}", "--option", "holiday"], "--option must be one of"),
    (
        ["apply", "--loan", "{loan}", "--option", "deferral", "--installments", "two"],
        "--installments must be a whole number",
    ),
    (["approve", "--offer", "1", "--approver", "nonsense"], "API key is unknown"),
    (
        [
            "score",
            "--borrower",
            "{borrower}",
            "--score",
            "5000",
            "--source",
            "x",
            "--as-of",
            "2026-03-01",
        ],
        "between 0 and 1000",
    ),
]


def test_bad_input_is_one_line_and_changes_nothing(db: Database, run: Any) -> None:
    loan_id, borrower_id, _ = loan(db)
    with db.reading() as session:
        before = session.query(JournalEntry).count()
    names = {"loan": loan_id, "borrower": borrower_id}
    for arguments, message in BAD_INPUT:
        result = run(*[argument.format(**names) for argument in arguments])
        assert result.exit_code == 2, arguments
        lines = result.output.strip().splitlines()
        assert len(lines) == 1, result.output
        assert lines[0].startswith("error: ")
        assert message in lines[0]
    with db.reading() as session:
        assert session.query(JournalEntry).count() == before
