"""Test-wide fixtures: Hypothesis profiles (HYPOTHESIS_PROFILE=thorough) and databases."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy
from hypothesis import HealthCheck, settings

from tenor.store.database import Database
from tenor.store.migrate import upgrade

settings.register_profile("default", deadline=None)
settings.register_profile(
    "thorough",
    max_examples=3000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


# --- databases ------------------------------------------------------------------------------
# Every storage and API test runs on the embedded SQLite file and on PostgreSQL. PostgreSQL
# tests each get a schema of their own in the `test` database, dropped afterwards.

POSTGRES_URL = os.environ.get(
    "TENOR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _postgres_schema_url(schema: str) -> str:
    separator = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[sqlalchemy.Engine]:
    """An engine on the test PostgreSQL server; fails loudly when the server is not there."""
    engine = sqlalchemy.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text("SELECT 1"))
    except sqlalchemy.exc.OperationalError as error:
        pytest.fail(
            f"PostgreSQL is not reachable at {POSTGRES_URL} ({error.orig}); start it "
            "(.ci/run does) or set TENOR_TEST_POSTGRES_URL"
        )
    yield engine
    engine.dispose()


def make_database(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Database:
    """A migrated, empty database of ``kind`` ("sqlite" or "postgres"), cleaned up after."""
    if kind == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'tenor.db'}")
        request.addfinalizer(db.dispose)
    else:
        admin: sqlalchemy.Engine = request.getfixturevalue("postgres_admin")
        schema = f"t_{uuid.uuid4().hex[:16]}"
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f"CREATE SCHEMA {schema}"))
        db = Database(_postgres_schema_url(schema))

        def drop() -> None:
            db.dispose()
            with admin.connect() as connection:
                connection.execute(sqlalchemy.text(f"DROP SCHEMA {schema} CASCADE"))

        request.addfinalizer(drop)
    upgrade(db)
    return db


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    """A migrated, empty database: once on SQLite, once on PostgreSQL."""
    return make_database(request.param, tmp_path, request)
