"""Risk storage on SQLite and PostgreSQL: statements and the watchlist, ECL, the registry and
PSI monitoring, scoring through the API equal to the batch, and the migration."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import select

from tenor.actions.apikeys import create_api_key
from tenor.api.app import create_app
from tenor.core.errors import InvalidArgumentError
from tenor.risk import tables
from tenor.risk.actions import ingest_statements, watchlist, watchlist_summary
from tenor.risk.ews import statement_from_document
from tenor.risk.registry import champion, monitor, promote, record_scores, register, score_frame
from tenor.risk.reports import ecl_report
from tenor.risk.scorecard import Scorecard
from tenor.store.database import Database
from tenor.store.journal import NotFoundError
from tenor.store.migrate import alembic_config, upgrade
from tenor.store.models import Base, Borrower, Loan
from tests.builders import seed_loan
from tests.risk.test_rules import WORKED

NOW = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)


def _quarter(end: str, flow: int, debt_service: str = "100") -> Any:
    document = json.loads(json.dumps(WORKED))
    document["period_end"] = end
    document["cash_flow"] = {"operating_cash_flow": flow, "debt_service": debt_service}
    return statement_from_document(document)


def _enterprise_loan(db: Database) -> tuple[int, int]:
    loan_id = seed_loan(db)
    with db.transaction() as session:
        loan = session.get(Loan, loan_id)
        assert loan is not None
        borrower = session.get(Borrower, loan.borrower_id)
        assert borrower is not None
        borrower.kind = "enterprise"
        return borrower.id, loan_id


def test_statements_open_the_watchlist_once_and_move_the_stage(db: Database) -> None:
    borrower_id, loan_id = _enterprise_loan(db)
    quarters = [
        _quarter("2025-06-30", 130),
        _quarter("2025-09-30", 120),
        _quarter("2025-12-31", 110),
        _quarter("2026-03-31", 100, debt_service="200"),  # DSCR 1.00: a breach
    ]
    with db.transaction() as session:
        result = ingest_statements(session, borrower_id, quarters, source="q.json")
    assert result.opened == 2
    with db.reading() as session:
        entries = watchlist(session)
        summary = watchlist_summary(session)
        report = ecl_report(session)
    assert [(e["code"], e["severity"], e["stage"]) for e in entries] == [
        ("covenant:dscr", "breach", 2),
        ("trend:operating_cash_flow", "warning", None),
    ]
    assert entries[0]["loan_id"] == loan_id
    assert entries[0]["period_end"] == "2026-03-31"
    assert "5 business days" in entries[0]["task"]["en"]
    assert "贷后检查" in entries[0]["task"]["zh-CN"]
    assert summary == {"breach": 1, "warning": 1}
    assert [(line["stage"], line["segment"], line["loans"]) for line in report["lines"]] == [
        (2, "enterprise", 1)
    ]
    with db.transaction() as session:
        again = ingest_statements(session, borrower_id, quarters, source="q.json")
    assert again.opened == 0
    with db.reading() as session:
        assert len(watchlist(session)) == 2


def test_ingest_refuses_unknown_and_individual_borrowers(db: Database) -> None:
    loan_id = seed_loan(db)
    with db.reading() as session:
        loan = session.get(Loan, loan_id)
        assert loan is not None
        individual = loan.borrower_id
    statement = [_quarter("2026-03-31", 100)]
    with pytest.raises(NotFoundError), db.transaction() as session:
        ingest_statements(session, 999, statement, source="x")
    with pytest.raises(InvalidArgumentError, match="not an enterprise"), db.transaction() as s:
        ingest_statements(s, individual, statement, source="x")
    with db.reading() as session:
        assert watchlist(session) == []


def _shifted(frame: pd.DataFrame) -> pd.DataFrame:
    # Every applicant with no checking account and a long loan: a population the card rarely saw.
    out = frame.head(300).copy()
    out["status_of_existing_checking_account"] = "... < 0 DM"
    out["duration_in_month"] = 60
    return out


def test_registry_scores_by_the_champion_and_monitors_stability(
    db: Database, german: tuple[pd.DataFrame, np.ndarray], german_card: Scorecard
) -> None:
    frame, outcome = german
    with db.transaction() as session:
        row = register(
            session,
            german_card,
            frame,
            outcome,
            name="pd-test",
            dataset="german-credit",
            actor="tester",
        )
        model_id = row.id
        with pytest.raises(NotFoundError, match="no champion"):
            champion(session, "pd-test")
        promote(session, model_id, actor="chief risk officer", now=NOW)
    with db.transaction() as session:
        model, card = champion(session, "pd-test")
        assert (model.promoted_by, model.status, model.version) == (
            "chief risk officer",
            "champion",
            1,
        )
        assert np.array_equal(card.score(frame), german_card.score(frame))
        same = frame.sample(300, random_state=1)
        record_scores(
            session, model, card, same, month="2026-01", subjects=[str(i) for i in same.index]
        )
        moved = _shifted(frame)
        record_scores(
            session, model, card, moved, month="2026-02", subjects=[str(i) for i in moved.index]
        )
    with db.reading() as session:
        stable = monitor(session, "pd-test", "2026-01")
        shifted = monitor(session, "pd-test", "2026-02")
        with pytest.raises(NotFoundError, match="no scores"):
            monitor(session, "pd-test", "2026-03")
    assert stable["score"]["psi"] < 0.1
    assert not stable["alert"]
    assert shifted["score"]["alert"]
    assert shifted["characteristics"]["status_of_existing_checking_account"]["alert"]
    assert not shifted["characteristics"]["purpose"]["alert"]


def test_api_scores_equal_the_batch(
    db: Database, german: tuple[pd.DataFrame, np.ndarray], german_card: Scorecard
) -> None:
    frame, outcome = german
    with db.transaction() as session:
        model_id = register(
            session,
            german_card,
            frame,
            outcome,
            name="pd-api",
            dataset="german-credit",
            actor="tester",
        ).id
        promote(session, model_id, actor="tester", now=NOW)
        _, risk_key = create_api_key(session, "risk")
        _, collector_key = create_api_key(session, "collector")
    applicants = frame.head(25).copy()
    applicants.loc[applicants.index[0], "age_in_years"] = np.nan
    batch = score_frame(german_card, applicants)
    records = json.loads(applicants.to_json(orient="records"))
    with TestClient(create_app(db)) as client:
        body = {"model": "pd-api", "applicants": records}
        response = client.post(
            "/v1/risk/score", json=body, headers={"Authorization": f"Bearer {risk_key}"}
        )
        assert response.status_code == 200, response.text
        scores = response.json()["scores"]
        assert [item["score"] for item in scores] == batch["score"].tolist()
        assert [item["probability"] for item in scores] == pytest.approx(
            batch["probability"].tolist(), rel=1e-12
        )
        assert [item["reasons"] for item in scores] == batch["reasons"].tolist()
        forbidden = client.post(
            "/v1/risk/score", json=body, headers={"Authorization": f"Bearer {collector_key}"}
        )
        assert forbidden.status_code == 403
        missing = client.post(
            "/v1/risk/score",
            json={"model": "pd-api", "applicants": [{"purpose": "car (new)"}]},
            headers={"Authorization": f"Bearer {risk_key}"},
        )
        assert missing.status_code == 422
        assert missing.json()["code"] == "invalid_argument"
        unknown = client.post(
            "/v1/risk/score",
            json={"model": "pd-none", "applicants": records[:1]},
            headers={"Authorization": f"Bearer {risk_key}"},
        )
        assert unknown.status_code == 404
        listed = client.get(
            "/v1/risk/watchlist", headers={"Authorization": f"Bearer {collector_key}"}
        )
        assert listed.status_code == 200
        assert listed.json() == {"entries": []}


def test_the_migration_matches_the_tables(db: Database) -> None:
    ours = {name for name in Base.metadata.tables if name.startswith("risk_")}
    assert ours == {
        model.__tablename__
        for model in (
            tables.RiskModel,
            tables.RiskScore,
            tables.FinancialStatement,
            tables.LoanCovenant,
            tables.WatchlistEntry,
            tables.PostLoanTask,
            tables.RiskProfile,
            tables.RiskCloseDay,
        )
    }
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = [
            item for item in compare_metadata(context, Base.metadata) if "risk_" in repr(item)
        ]
    assert differences == []


def test_risk2_downgrades_and_gives_open_entries_their_tasks_on_the_way_up(db: Database) -> None:
    borrower_id, loan_id = _enterprise_loan(db)
    with db.transaction() as session:
        ingest_statements(
            session, borrower_id, [_quarter("2026-03-31", 100, "200")], source="q.json"
        )
    config = alembic_config(db.url)
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "risk1")
    db.engine.dispose()
    with db.engine.connect() as connection:
        names = set(sqlalchemy.inspect(connection).get_table_names())
    assert "risk_watchlist" in names
    assert not names & {"risk_tasks", "risk_profiles", "risk_close_days"}
    upgrade(db)
    db.engine.dispose()
    with db.reading() as session:
        (task,) = session.scalars(select(tables.PostLoanTask)).all()
        entry = session.scalars(select(tables.WatchlistEntry)).one()
    assert (task.watchlist_id, task.loan_id, task.state) == (entry.id, loan_id, "open")
    assert task.due_date == entry.opened_at.date() + dt.timedelta(days=7)
    assert task.title == entry.task
