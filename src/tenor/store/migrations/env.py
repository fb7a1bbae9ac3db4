"""Alembic environment: migrates the database Tenor is configured for."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from tenor.store.catalog import Base
from tenor.store.database import make_engine

config = context.config


def run(connection: Connection) -> None:
    """Run the pending migrations on ``connection``."""
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as fresh:
        run(fresh)
    engine.dispose()
