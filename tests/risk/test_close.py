"""The daily close scores the day's borrowers by the champion, on SQLite and PostgreSQL: the
same score as the API gives, once per champion and month, where relief reads it; and the
early-warning summary the portfolio report shows."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tenor.actions import loans
from tenor.actions.apikeys import create_api_key
from tenor.api.app import create_app
from tenor.batch.close import close_book
from tenor.batch.portfolio import portfolio_report
from tenor.core.money import Money
from tenor.relief.tables import CreditScore
from tenor.relief.workflow import latest_score
from tenor.risk.actions import ingest_statements, record_profile, stage_summary
from tenor.risk.close import close_day, day_summary, loans_of_day, summary_lines
from tenor.risk.registry import promote, register
from tenor.risk.scorecard import Scorecard
from tenor.risk.tables import RiskScore
from tenor.store.database import Database
from tenor.store.journal import set_business_date
from tenor.store.models import Borrower, Loan, LoanStateRow
from tests.builders import seed_loan
from tests.risk.imports import model_modules_loaded
from tests.risk.test_store import _quarter

NOW = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
MARCH = dt.date(2026, 3, 1)


def profile_of(frame: pd.DataFrame, row: int) -> dict[str, Any]:
    """One credit_data applicant as a profile: plain numbers and texts, None for missing."""
    out: dict[str, Any] = {}
    for name, value in frame.iloc[row].items():
        if isinstance(value, str):
            out[str(name)] = value
        elif value is None or math.isnan(float(value)):
            out[str(name)] = None
        else:
            number = float(value)
            out[str(name)] = int(number) if number.is_integer() else number
    return out


def _champion(
    db: Database, card: Scorecard, credit: tuple[pd.DataFrame, np.ndarray], version_of: str = ""
) -> int:
    frame, outcome = credit
    with db.transaction() as session:
        row = register(
            session,
            card,
            frame,
            outcome,
            name="pd-credit-data",
            dataset="credit-data",
            actor=f"tester{version_of}",
        )
        promote(session, row.id, actor="chief risk officer", now=NOW)
        return row.id


def _borrower(db: Database, loan_id: int) -> int:
    with db.reading() as session:
        loan = session.get(Loan, loan_id)
        assert loan is not None
        return loan.borrower_id


def _profile(db: Database, borrower_id: int, characteristics: dict[str, Any]) -> None:
    with db.transaction() as session:
        record_profile(
            session,
            borrower_id,
            dataset="credit-data",
            characteristics=characteristics,
            actor="tester",
        )


def _scores(db: Database, borrower_id: int) -> list[tuple[int, str, dt.date, str]]:
    with db.reading() as session:
        rows = session.scalars(
            select(CreditScore)
            .where(CreditScore.borrower_id == borrower_id)
            .order_by(CreditScore.id)
        )
        return [(row.score, row.source, row.as_of, row.recorded_by) for row in rows]


def test_the_close_scores_the_days_borrowers_as_the_api_does(
    db: Database, credit: tuple[pd.DataFrame, np.ndarray], credit_card: Scorecard
) -> None:
    frame, _ = credit
    loan_id = seed_loan(db)
    borrower_id = _borrower(db, loan_id)
    applicant = profile_of(frame, 3)
    applicant["Income"] = None  # missing: its own bin, alone (the API) as in a frame (the close)
    _profile(db, borrower_id, applicant)
    _champion(db, credit_card, credit)
    with db.transaction() as session:
        _, risk_key = create_api_key(session, "risk")
    closed = close_book(db)
    assert [day.business_date for day in closed.closed] == [MARCH]
    (recorded,) = _scores(db, borrower_id)
    assert recorded[1:] == ("pd-credit-data v1", MARCH, "close")
    with db.reading() as session:
        relief_reads = latest_score(session, borrower_id, MARCH)
        assert relief_reads is not None
        assert relief_reads.score == recorded[0]
        kept = session.scalars(select(RiskScore)).one()
        assert (kept.subject, kept.month, kept.score) == (
            f"borrower-{borrower_id}",
            "2026-03",
            recorded[0],
        )
        summary = day_summary(session, MARCH)
        report = portfolio_report(session, MARCH)
    assert summary is not None
    assert summary["scores"]["scored"] == 1
    assert report["early_warning"] == summary
    headers = {"Authorization": f"Bearer {risk_key}"}
    with TestClient(create_app(db)) as client:
        by_id = client.get(f"/v1/risk/borrowers/{borrower_id}/score", headers=headers)
        assert by_id.status_code == 200, by_id.text
        by_body = client.post(
            "/v1/risk/score",
            json={"model": "pd-credit-data", "applicants": [applicant]},
            headers=headers,
        )
        assert by_body.status_code == 200, by_body.text
    assert by_id.json()["score"] == recorded[0]
    assert by_id.json()["probability"] == pytest.approx(kept.probability, rel=1e-12)
    assert by_id.json()["version"] == 1
    assert by_body.json()["scores"][0]["score"] == recorded[0]
    assert by_body.json()["scores"][0]["reasons"] == by_id.json()["reasons"]


def test_a_borrower_is_scored_once_per_champion_and_month(
    db: Database, credit: tuple[pd.DataFrame, np.ndarray], credit_card: Scorecard
) -> None:
    frame, _ = credit
    loan_id = seed_loan(db)
    borrower_id = _borrower(db, loan_id)
    _profile(db, borrower_id, profile_of(frame, 0))
    _champion(db, credit_card, credit)
    with db.transaction() as session:
        first = close_day(session, MARCH, [loan_id])
    with db.transaction() as session:
        again = close_day(session, MARCH, [loan_id])
    assert (first["scores"]["scored"], first["scores"]["already"]) == (1, 0)
    assert (again["scores"]["scored"], again["scores"]["already"]) == (0, 1)
    assert len(_scores(db, borrower_id)) == 1
    april = dt.date(2026, 4, 1)
    with db.transaction() as session:
        set_business_date(session, april)
    with db.transaction() as session:
        close_day(session, april, [loan_id])
    # A new champion scores the borrower again in the same month.
    _champion(db, credit_card, credit, version_of="-2")
    with db.transaction() as session:
        close_day(session, april, [loan_id])
    assert [(source, as_of) for _, source, as_of, _ in _scores(db, borrower_id)] == [
        ("pd-credit-data v1", MARCH),
        ("pd-credit-data v1", april),
        ("pd-credit-data v2", april),
    ]
    with db.transaction() as session:
        nothing = close_day(session, april, [])
    assert nothing["scores"]["borrowers"] == 0


def test_no_champion_or_no_profile_scores_nothing(
    db: Database, credit: tuple[pd.DataFrame, np.ndarray], credit_card: Scorecard
) -> None:
    loan_id = seed_loan(db)
    borrower_id = _borrower(db, loan_id)
    with db.transaction() as session:
        without_champion = close_day(session, MARCH, [loan_id])
    _champion(db, credit_card, credit)
    with db.transaction() as session:
        without_profile = close_day(session, MARCH, [loan_id])
    assert without_champion["scores"]["no_champion"] == 1
    assert without_profile["scores"]["unprofiled"] == 1
    assert _scores(db, borrower_id) == []


def test_the_day_touches_the_loans_it_wrote_to(db: Database) -> None:
    loan_id = seed_loan(db)
    close_book(db)  # 1 March: the first close touches the book
    march_2 = dt.date(2026, 3, 2)
    close_book(db)  # 2 March: nothing happened to the loan
    with db.reading() as session:
        assert loans_of_day(session, march_2) == []
    loans.post_repayment(db, loan_id, amount=Money.of("50", "CNY"), value_date=dt.date(2026, 3, 3))
    close_book(db)
    with db.reading() as session:
        assert loans_of_day(session, dt.date(2026, 3, 3)) == [loan_id]
        assert loans_of_day(session, dt.date(2026, 3, 9)) == []  # never closed


def test_the_summary_counts_the_watchlist_and_its_tasks(db: Database) -> None:
    loan_id = seed_loan(db)
    with db.transaction() as session:
        loan = session.get(Loan, loan_id)
        assert loan is not None
        borrower = session.get(Borrower, loan.borrower_id)
        assert borrower is not None
        borrower.kind = "enterprise"
        borrower_id = borrower.id
    with db.transaction() as session:
        ingest_statements(
            session, borrower_id, [_quarter("2025-12-31", 100, "200")], source="q.json"
        )
    closed = close_book(db)
    with db.reading() as session:
        summary = day_summary(session, closed.closed[0].business_date)
        total = session.scalar(select(func.count()).select_from(CreditScore))
    assert summary is not None
    assert summary["watchlist"] == {"breach": 1, "warning": 0}
    assert summary["tasks"] == {"open": 1, "overdue": 0}
    assert summary["stage_moves"] == {"2": 1}
    assert total == 0
    with db.transaction() as session:
        state = session.get(LoanStateRow, loan_id)
        assert state is not None
        state.stage = 2  # in stage 2 by its own days past due: the watchlist moves it no higher
        assert stage_summary(session) == {}
    assert summary_lines(summary) == [
        "Early warning 预警: 1 watchlist entries open (1 breaches 违约, 0 warnings 预警); "
        "1 post-loan tasks open 贷后任务, 0 overdue 逾期; 1 loans moved up an IFRS 9 stage by "
        "the watchlist"
    ]


def test_without_a_champion_the_close_does_not_import_the_model_libraries(
    tmp_path: Path,
) -> None:
    """Risk's part of a close with no champion scores nothing, so it leaves scikit-learn and
    pandas (seconds to import, paid by every ``tenor close``) unimported."""
    script = (
        "import datetime as dt\n"
        "from tenor.store.database import Database\n"
        "from tenor.store.migrate import upgrade\n"
        "from tenor.risk.close import close_day\n"
        "from tests.builders import seed_loan\n"
        f"db = Database('sqlite:///{tmp_path / 'book.db'}')\n"
        "upgrade(db)\n"
        "loan_id = seed_loan(db)\n"
        "with db.transaction() as session:\n"
        "    done = close_day(session, dt.date(2026, 3, 1), [loan_id])\n"
        "assert done['scores']['no_champion'] == 1, done\n"
    )
    assert model_modules_loaded(script) == []
