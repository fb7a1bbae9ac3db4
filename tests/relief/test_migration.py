"""The relief migration creates exactly the tables of ``tenor.relief.tables``."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from tenor.relief import tables
from tenor.store.database import Database
from tenor.store.models import Base

RELIEF_TABLES = {
    model.__tablename__
    for model in (
        tables.CreditScore,
        tables.ReliefPolicyRow,
        tables.ReliefRequest,
        tables.ReliefOffer,
    )
}


def _touches_relief(difference: object) -> bool:
    text = repr(difference)
    return any(name in text for name in RELIEF_TABLES)


def test_the_migration_matches_the_tables(db: Database) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
        names = set(inspect(connection).get_table_names())
    assert names >= RELIEF_TABLES
    assert [d for d in differences if _touches_relief(d)] == []
