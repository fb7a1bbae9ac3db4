"""Covenants per loan as data and the post-loan tasks a warning opens, on SQLite and
PostgreSQL: through the actions, the API (with its roles) and the shell."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tenor.actions.apikeys import create_api_key
from tenor.api.app import create_app
from tenor.audit.tables import AuditLeaf
from tenor.core.errors import InvalidArgumentError
from tenor.risk.actions import (
    TaskNotOpenError,
    add_business_days,
    complete_task,
    covenants_document,
    ingest_statements,
    remove_covenant,
    set_covenant,
    set_covenants,
    stage_overrides,
    task_summary,
    tasks,
)
from tenor.risk.ews import Covenant, covenant_from_text
from tenor.risk.reports import ecl_report
from tenor.store.database import Database
from tenor.store.journal import NotFoundError, set_business_date
from tenor.store.migrate import upgrade
from tests.risk.test_close import profile_of
from tests.risk.test_store import _enterprise_loan, _quarter
from tests.test_cli_book import Shell, one_line_error

NOW = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
#: A Monday with no holiday in the week after it.
MONDAY = dt.date(2026, 3, 2)


def _book(db: Database, day: dt.date = MONDAY) -> tuple[int, int]:
    borrower_id, loan_id = _enterprise_loan(db)
    with db.transaction() as session:
        set_business_date(session, day)
    return borrower_id, loan_id


def test_business_days_follow_chinas_calendar() -> None:
    assert add_business_days(MONDAY, 5) == dt.date(2026, 3, 9)
    # Over National Day 2026: 1 to 7 October off, Saturday 10 October a make-up working day.
    assert add_business_days(dt.date(2026, 9, 28), 5) == dt.date(2026, 10, 10)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"indicator": "dscr"}, "exactly one of minimum and maximum"),
        ({"indicator": "dscr", "minimum": "1.2", "maximum": "3"}, "exactly one of"),
        ({"indicator": "ebitda", "minimum": "1"}, "indicator must be one of"),
        ({"indicator": "dscr", "minimum": "1e3"}, "plain decimal"),
        ({"indicator": "dscr", "minimum": "x"}, "minimum must be a decimal"),
        ({"indicator": "dscr", "minimum": "1.2", "headroom": "1"}, "headroom is a fraction"),
        ({"indicator": "dscr", "minimum": "1." + "0" * 40}, "at most 32 characters"),
    ],
)
def test_a_covenant_from_text_is_validated(arguments: dict[str, str], message: str) -> None:
    indicator = arguments.pop("indicator")
    with pytest.raises(InvalidArgumentError, match=message):
        covenant_from_text(indicator, **arguments)


def test_stored_covenants_replace_the_defaults_when_a_statement_comes_in(db: Database) -> None:
    borrower_id, loan_id = _book(db)
    with db.reading() as session:
        defaults = covenants_document(session, loan_id)
    assert defaults["source"] == "default"
    assert [item["indicator"] for item in defaults["covenants"]] == ["dscr", "current_ratio"]
    with db.transaction() as session:
        # A DSCR of 1.00 breaches the default 1.20 but not this loan's 0.90 (nor its headroom).
        set_covenant(session, loan_id, covenant_from_text("dscr", minimum="0.90"), actor="rm")
        set_covenant(
            session,
            loan_id,
            covenant_from_text("debt_to_ebitda", maximum="2.60", headroom="0.10"),
            actor="rm",
        )
        result = ingest_statements(
            session, borrower_id, [_quarter("2026-03-31", 100, "200")], source="q.json"
        )
        stored = covenants_document(session, loan_id)
    assert stored == {
        "loan_id": loan_id,
        "source": "loan",
        "covenants": [
            {"indicator": "dscr", "minimum": "0.90", "maximum": None, "headroom": "0.05"},
            {"indicator": "debt_to_ebitda", "minimum": None, "maximum": "2.60", "headroom": "0.10"},
        ],
    }
    # Debt to EBITDA 2.50 is within 10% of 2.60: a warning, not a breach; DSCR holds.
    assert [(s["code"], s["severity"]) for s in result.signals] == [
        ("covenant:debt_to_ebitda", "warning")
    ]
    with db.transaction() as session:
        set_covenant(session, loan_id, covenant_from_text("dscr", minimum="1.10"), actor="cro")
        remove_covenant(session, loan_id, "debt_to_ebitda", actor="cro")
        with pytest.raises(NotFoundError, match="no covenant on quick_ratio"):
            remove_covenant(session, loan_id, "quick_ratio", actor="cro")
        with pytest.raises(InvalidArgumentError, match="one covenant per indicator"):
            set_covenants(session, loan_id, [Covenant("dscr", minimum=Decimal(1))] * 2)
        subjects = session.scalars(
            select(AuditLeaf.subject).where(AuditLeaf.subject == f"loans/{loan_id}/covenants")
        ).all()
        assert [item["minimum"] for item in covenants_document(session, loan_id)["covenants"]] == [
            "1.10"
        ]
    assert len(subjects) == 4  # every change is a leaf of the transparency log
    with db.transaction() as session:
        remove_covenant(session, loan_id, "dscr", actor="cro")
        assert covenants_document(session, loan_id)["source"] == "default"
        with pytest.raises(NotFoundError):
            covenants_document(session, 999)


def test_a_breach_opens_a_task_and_resolving_it_lifts_the_stage(db: Database) -> None:
    borrower_id, loan_id = _book(db)
    quarters = [
        _quarter("2025-06-30", 130),
        _quarter("2025-09-30", 120),
        _quarter("2025-12-31", 110),
        _quarter("2026-03-31", 100, debt_service="200"),
    ]
    with db.transaction() as session:
        ingest_statements(session, borrower_id, quarters, source="q.json")
        opened = tasks(session)
    assert [(t["loan_id"], t["due_date"], t["state"], t["overdue"]) for t in opened] == [
        (loan_id, "2026-03-09", "open", False),  # the breach: 5 business days
        (loan_id, "2026-03-16", "open", False),  # the cash-flow warning: 10
    ]
    assert "5 business days" in opened[0]["title"]["en"]
    assert "5 个工作日" in opened[0]["title"]["zh-CN"]
    with db.transaction() as session:
        set_business_date(session, dt.date(2026, 3, 12))
    with db.reading() as session:
        late = tasks(session)
        assert [t["overdue"] for t in late] == [True, False]
        assert task_summary(session, dt.date(2026, 3, 12)) == {"open": 2, "overdue": 1}
        assert stage_overrides(session) == {loan_id: 2}
    breach, warning = late
    with db.transaction() as session:
        done = complete_task(session, warning["id"], actor="rm", now=NOW, note="called the CFO")
        assert (done["state"], done["completed_by"], done["note"]) == (
            "done",
            "rm",
            "called the CFO",
        )
        with pytest.raises(TaskNotOpenError, match="completed by rm"):
            complete_task(session, warning["id"], actor="rm", now=NOW)
        with pytest.raises(NotFoundError):
            complete_task(session, 999, actor="rm", now=NOW)
        assert stage_overrides(session) == {loan_id: 2}  # the breach is still open
        complete_task(session, breach["id"], actor="rm", now=NOW, resolve=True)
    with db.reading() as session:
        assert stage_overrides(session) == {}
        assert tasks(session) == []
        assert len(tasks(session, state="done")) == 2
        assert [line["stage"] for line in ecl_report(session)["lines"]] == [1]
        with pytest.raises(InvalidArgumentError):
            tasks(session, state="late")


def test_the_api_sets_covenants_and_completes_tasks_by_role(db: Database) -> None:
    borrower_id, loan_id = _book(db)
    with db.transaction() as session:
        _, risk_key = create_api_key(session, "risk")
        _, collector_key = create_api_key(session, "collector")
    risk = {"Authorization": f"Bearer {risk_key}"}
    collector = {"Authorization": f"Bearer {collector_key}"}
    covenants = {"covenants": [{"indicator": "dscr", "minimum": "1.35"}]}
    with TestClient(create_app(db)) as client:
        put = client.put(f"/v1/risk/loans/{loan_id}/covenants", json=covenants, headers=risk)
        assert put.status_code == 200, put.text
        assert put.json()["covenants"] == [
            {"indicator": "dscr", "minimum": "1.35", "maximum": None, "headroom": "0.05"}
        ]
        refused = client.put(
            f"/v1/risk/loans/{loan_id}/covenants", json=covenants, headers=collector
        )
        assert refused.status_code == 403
        read = client.get(f"/v1/risk/loans/{loan_id}/covenants", headers=collector)
        assert read.json() == put.json()
        both = {"covenants": [{"indicator": "dscr", "minimum": "1", "maximum": "2"}]}
        bad = client.put(f"/v1/risk/loans/{loan_id}/covenants", json=both, headers=risk)
        assert (bad.status_code, bad.json()["code"]) == (422, "invalid_argument")
        unknown = client.get("/v1/risk/loans/999/covenants", headers=risk)
        assert unknown.status_code == 404
        with db.transaction() as session:
            # DSCR 1.25 against 1.35: a breach of the loan's own covenant.
            ingest_statements(
                session, borrower_id, [_quarter("2026-03-31", 100, "160")], source="x"
            )
        listed = client.get("/v1/risk/tasks", headers=collector)
        assert listed.status_code == 200
        (task,) = listed.json()["tasks"]
        assert "dscr at least 1.35: 1.2500" in task["title"]["en"]
        path = f"/v1/risk/tasks/{task['id']}/complete"
        assert client.post(path, json={}, headers=collector).status_code == 403
        done = client.post(path, json={"note": "waiver", "resolve": True}, headers=risk)
        assert done.status_code == 200, done.text
        assert (done.json()["state"], done.json()["note"]) == ("done", "waiver")
        again = client.post(path, json={}, headers=risk)
        assert (again.status_code, again.json()["code"]) == (409, "task_not_open")
        finished = client.get("/v1/risk/tasks?state=done", headers=risk).json()["tasks"]
        assert [item["id"] for item in finished] == [task["id"]]
        assert client.get("/v1/risk/watchlist", headers=risk).json() == {"entries": []}


def test_profiles_through_the_api(db: Database) -> None:
    borrower_id, _ = _book(db)
    with db.transaction() as session:
        _, risk_key = create_api_key(session, "risk")
    risk = {"Authorization": f"Bearer {risk_key}"}
    with TestClient(create_app(db)) as client:
        path = f"/v1/risk/borrowers/{borrower_id}/profile"
        put = client.put(
            path,
            json={"dataset": "credit-data", "characteristics": {"Age": 41, "Home": "owner"}},
            headers=risk,
        )
        assert put.status_code == 200, put.text
        assert put.json()["characteristics"] == {"Home": "owner", "Age": 41}
        wrong = client.put(
            path, json={"dataset": "credit-data", "characteristics": {"Salary": 1}}, headers=risk
        )
        assert (wrong.status_code, wrong.json()["code"]) == (422, "invalid_argument")
        assert "Salary: not characteristics of credit-data" in wrong.json()["detail"]
        # A profile but no champion: nothing to score it with.
        unscored = client.get(f"/v1/risk/borrowers/{borrower_id}/score", headers=risk)
        assert unscored.status_code == 404
        assert "no champion" in unscored.json()["detail"]


def test_covenants_tasks_and_profiles_from_the_shell(
    tmp_path: Path, credit: tuple[pd.DataFrame, np.ndarray]
) -> None:
    shell = Shell(tmp_path / "tenor.db")
    db = Database(f"sqlite:///{shell.database}")
    upgrade(db)
    borrower_id, loan_id = _book(db)
    with db.transaction() as session:
        ingest_statements(session, borrower_id, [_quarter("2026-03-31", 100, "200")], source="x")
    db.dispose()
    loan = str(loan_id)
    set_ = shell.json(
        "ews", "covenants", "set", "--loan", loan, "--indicator", "DSCR", "--min", "1.3"
    )
    assert set_ == {
        "loan_id": loan_id,
        "source": "loan",
        "covenants": [{"indicator": "dscr", "minimum": "1.3", "maximum": None, "headroom": "0.05"}],
    }
    assert shell.json("ews", "covenants", "list", "--loan", loan) == set_
    listed = shell("ews", "covenants", "list", "--loan", loan)
    assert "dscr               at least 1.3  (warns within 0.05)" in listed.stdout
    removed = shell.json("ews", "covenants", "remove", "--loan", loan, "--indicator", "dscr")
    assert isinstance(removed, dict)
    assert removed["source"] == "default"
    opened = shell.json("ews", "tasks")
    assert isinstance(opened, dict)
    (task,) = opened["tasks"]
    done = shell.json("ews", "task-done", str(task["id"]), "--by", "王经理", "--resolve")
    assert isinstance(done, dict)
    assert (done["state"], done["completed_by"]) == ("done", "王经理")
    one_line_error(shell("ews", "task-done", str(task["id"]), "--by", "x"), "task 1 was completed")
    one_line_error(
        shell("ews", "covenants", "set", "--loan", loan, "--indicator", "dscr", "--min", "x"),
        "minimum must be a decimal",
    )
    one_line_error(
        shell("ews", "covenants", "set", "--loan", "999", "--indicator", "dscr", "--min", "1"),
        "loan 999 does not exist",
    )
    one_line_error(shell("ews", "covenants", "list", "--loan", "0"), "--loan must be")
    one_line_error(shell("ews", "tasks", "--state", "late"), "--state must be")
    frame, _ = credit
    (tmp_path / "profile.json").write_text(json.dumps(profile_of(frame, 0)))
    recorded = shell.json(
        "risk", "profile", "set", str(tmp_path / "profile.json"), "--borrower", str(borrower_id)
    )
    assert isinstance(recorded, dict)
    assert recorded["dataset"] == "credit-data"
    shown = shell.json("risk", "profile", "show", "--borrower", str(borrower_id))
    assert isinstance(shown, dict)
    assert shown["score"] is None  # no champion yet
    (tmp_path / "list.json").write_text("[1, 2]")
    one_line_error(
        shell("risk", "profile", "set", str(tmp_path / "list.json"), "--borrower", "1"),
        "list.json must hold one JSON object",
    )
    one_line_error(shell("risk", "profile", "show", "--borrower", "999"), "borrower 999 has no")
