"""The migrations build exactly the schema the models describe, every capability's included."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from tenor.store.catalog import Base
from tenor.store.database import Database


def test_the_migrated_schema_is_the_models(db: Database) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
