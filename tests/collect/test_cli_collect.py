"""``tenor collect`` and ``tenor report collections|strategies`` as staff run them: the
contract's commands and JSON keys, people's tables, and one clear line for bad input."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from tenor.cli import app
from tenor.collect.tables import CollectionCase, CollectionStrategyRow, ContactOutcome, Promise
from tenor.store.database import Database
from tests.collect.book import past_due


def tenor(db: Database, *args: str, **env: str) -> Result:
    """``tenor ARGS`` on ``db``, in this process."""
    return CliRunner().invoke(
        app, list(args), env={"COLUMNS": "160", "TENOR_DATABASE_URL": db.url, **env}
    )


def tenor_json(db: Database, *args: str) -> Any:
    """``tenor ARGS --json``, which must succeed."""
    result = tenor(db, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_queue_outcome_and_reports_keep_their_contract(db: Database) -> None:
    loan_id, collector = past_due(db)
    queue = tenor_json(
        db, "collect", "queue", "--collector", str(collector), "--at", "2026-02-16T10:00:00+08:00"
    )
    assert (queue["collector_id"], queue["total"], queue["on_shift"]) == (collector, 1, True)
    task = queue["tasks"][0]
    assert {
        "rank",
        "case_id",
        "loan_id",
        "action",
        "balance",
        "propensity",
        "propensity_source",
        "expected_value",
        "contactable_now",
        "next_allowed_at",
    } <= set(task)
    assert (task["loan_id"], task["action"], task["contactable_now"]) == (loan_id, "call", True)
    case = task["case_id"]
    recorded = tenor_json(
        db,
        "collect",
        "outcome",
        str(case),
        "--code",
        "promise_to_pay",
        "--amount",
        "500",
        "--date",
        "2026-02-20",
        "--at",
        "2026-02-16T10:05:00+08:00",
        "--collector",
        str(collector),
    )
    assert recorded["code"] == "promise_to_pay"
    assert recorded["promise_id"] is not None
    with db.reading() as session:
        promise = session.get(Promise, recorded["promise_id"])
        assert promise is not None
        assert (promise.amount_minor, promise.due_date) == (50000, dt.date(2026, 2, 20))
    shown = tenor_json(db, "collect", "case", str(case))
    assert shown["promises"][0]["amount"] == "500.00"
    report = tenor_json(db, "report", "collections")
    assert report["promises"]["pending"] == 1
    assert {"by_stage", "by_arm", "agencies", "collectors", "cases", "total"} <= set(report)
    strategies = tenor_json(db, "report", "strategies")
    assert strategies["segments"][0]["segment"] == "first-payment-default"
    people = tenor(db, "report", "collections")
    assert people.exit_code == 0, people.output
    assert "By stage reached" in people.stdout


def test_a_call_at_night_is_one_line_and_changes_nothing(db: Database) -> None:
    past_due(db)
    with db.reading() as session:
        case = session.scalars(select(CollectionCase.id)).one()
    result = tenor(
        db,
        "collect",
        "outcome",
        str(case),
        "--code",
        "no_answer",
        "--at",
        "2026-02-16T23:30:00+08:00",
    )
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "quiet_hours" in result.stderr
    assert "next allowed at 2026-02-17T08:00:00+08:00" in result.stderr
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(ContactOutcome)) == 0
    check = tenor_json(
        db, "collect", "check", str(case), "--channel", "call", "--at", "2026-02-16T23:30:00+08:00"
    )
    assert check == {
        "allowed": False,
        "rule": "quiet_hours",
        "reason": check["reason"],
        "next_allowed_at": "2026-02-17T08:00:00+08:00",
    }


def test_bad_input_is_one_line_with_exit_two(db: Database, tmp_path: Path) -> None:
    past_due(db)
    with db.reading() as session:
        case = str(session.scalars(select(CollectionCase.id)).one())
    bad = tmp_path / "strategy.yaml"
    bad.write_text("name: Bad Name\nsegments: []\n", encoding="utf-8")
    for args, message in (
        (("collect", "outcome", case, "--code", "maybe"), "--code must be one of"),
        (("collect", "outcome", case, "--code", "promise_to_pay"), "needs --amount and --date"),
        (
            (
                "collect",
                "outcome",
                case,
                "--code",
                "promise_to_pay",
                "--amount",
                "abc",
                "--date",
                "2026-02-20",
            ),
            "--amount must be a decimal",
        ),
        (
            ("collect", "outcome", "999", "--code", "no_answer"),
            "collection case 999 does not exist",
        ),
        (
            ("collect", "outcome", case, "--code", "no_answer", "--at", "2026-02-16T10:00:00"),
            "needs a UTC offset",
        ),
        (("collect", "queue", "--collector", "77"), "collector 77 does not exist"),
        (("collect", "strategy", "set", str(bad)), "strategy.yaml: name"),
        (("collect", "legal", "advance", "5", "--to", "judgment"), "needs --judgment-amount"),
        (
            ("collect", "agency", "add", "--name", "X", "--commission", "91-0.2"),
            "bands look like 91:0.18",
        ),
    ):
        result = tenor(db, *args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.output
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(CollectionStrategyRow)) == 0
        assert session.scalar(select(func.count()).select_from(Promise)) == 0


def test_a_strategy_file_becomes_the_next_version_in_force(db: Database, tmp_path: Path) -> None:
    past_due(db)
    document = tmp_path / "calls-only.yaml"
    document.write_text(
        "name: calls-only\n"
        "segments:\n"
        "  - name: everyone\n"
        "    min_dpd: 1\n"
        "    champion:\n"
        "      - {action: call, wait_days: 0}\n"
        "      - {action: call, wait_days: 2}\n",
        encoding="utf-8",
    )
    for expected in (1, 2):
        result = tenor(db, "collect", "strategy", "set", str(document))
        assert result.exit_code == 0, result.output
        assert f"calls-only v{expected} saved" in result.stdout
    shown = tenor_json(db, "collect", "strategy", "show")
    assert (shown["name"], shown["version"]) == ("calls-only", 2)
    assert [row["version"] for row in tenor_json(db, "collect", "strategy", "versions")] == [2, 1]
