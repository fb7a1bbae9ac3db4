"""The demo book shows all of collections: a small simulated book lived through nine months
has cases opened and cured, promises kept and broken, agency placements whose statement
reconciles, legal cases with their documents and costs, and write-offs."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tenor.collect.reports import agency_statement, collections_report, strategies_report
from tenor.collect.tables import Agency, CollectionCase, LegalCase, LegalDocument, Placement
from tenor.simulation import live_through, plan_book
from tenor.store.database import Database
from tenor.store.journal import business_date
from tenor.store.migrate import upgrade


@pytest.fixture(scope="module")
def floor_book(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    folder = tmp_path_factory.mktemp("floor")
    db = Database(f"sqlite:///{folder / 'tenor.db'}")
    upgrade(db)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TENOR_DOCUMENTS", str(folder / "documents"))
        live_through(db, plan_book(borrowers=300, months=12, seed=3, start=dt.date(2025, 6, 1)))
    yield db
    db.dispose()


def test_the_demo_floor_works_every_part_of_collections(floor_book: Database) -> None:
    db = floor_book
    with db.reading() as session:
        day = business_date(session)
        report = collections_report(session, day)
        arms = strategies_report(session, day)
        placements = session.scalar(select(func.count()).select_from(Placement)) or 0
        legal = dict(
            session.execute(select(LegalCase.stage, func.count()).group_by(LegalCase.stage)).all()
        )
        documents = session.scalar(select(func.count()).select_from(LegalDocument)) or 0
        closed = dict(
            session.execute(
                select(CollectionCase.close_reason, func.count())
                .where(CollectionCase.status == "closed")
                .group_by(CollectionCase.close_reason)
            ).all()
        )
        statements = [
            agency_statement(session, agency_id, None, day)
            for agency_id in session.scalars(select(Agency.id))
        ]
    assert closed["cured"] > 0
    assert closed.get("written_off", 0) > 0
    promises = report["promises"]
    assert promises["kept"] > 0
    assert promises["broken"] > 0
    assert 0 < promises["keep_rate"] < 1
    assert placements > 0
    assert legal
    assert documents > 0
    # Cases enter at one day past due; the ones that roll go on through the later stages.
    assert {row["segment"] for row in arms["segments"]} >= {"early", "first-payment-default"}
    assert report["by_stage"]["M4-M6"]["entered"] > 0
    assert any(row["contacts"] > 0 for row in report["collectors"])
    for statement in statements:
        assert statement.collected == statement.commission + statement.net
    assert sum(statement.collected.minor for statement in statements) > 0


def test_every_document_the_floor_stored_has_the_hash_it_is_filed_under(
    floor_book: Database,
) -> None:
    with floor_book.reading() as session:
        stored = session.execute(select(LegalDocument.path, LegalDocument.sha256)).all()
    assert stored
    for path, sha in stored:
        assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == sha
