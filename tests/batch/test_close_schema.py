"""The close's migration creates exactly the tables ``tenor.batch.tables`` declares."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData

from tenor.batch import tables
from tenor.store.database import Database
from tenor.store.models import Base


def test_the_migration_matches_the_close_tables(db: Database) -> None:
    mine = {
        name: table for name, table in Base.metadata.tables.items() if name.startswith("close_")
    }
    assert set(mine) == {
        model.__tablename__
        for model in vars(tables).values()
        if isinstance(model, type) and issubclass(model, Base) and model is not Base
    }
    metadata = MetaData()
    for table in mine.values():
        table.to_metadata(metadata)
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "include_name": lambda name, kind, _parent: kind != "table" or name in mine,
            },
        )
        assert compare_metadata(context, metadata) == []
