"""Running Alembic migrations from code: ``tenor db upgrade`` and the test fixtures."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from tenor.store.database import Database

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    """An Alembic configuration for the database at ``url``, without an alembic.ini file."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(db: Database, revision: str = "heads") -> None:
    """Bring the database's schema up to ``revision`` (default: every capability's newest).

    Capabilities may keep their own branch of migrations from the initial schema, so the
    default target is all heads, not one.
    """
    config = alembic_config(db.url)
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(db: Database) -> str | None:
    """The schema revision(s) the database is at, joined by "+", or None before the first."""
    with db.engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    return "+".join(sorted(heads)) or None


def head_revision(url: str) -> str:
    """The newest schema revision(s) Tenor's migrations know, joined by "+"."""
    return "+".join(sorted(ScriptDirectory.from_config(alembic_config(url)).get_heads()))
