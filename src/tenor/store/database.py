"""Connecting to the database: the embedded SQLite file by default, PostgreSQL in production."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_DATABASE_URL = "sqlite:///tenor.db"

#: Execution option marking a connection that only reads (SQLite then takes no write lock).
READ_ONLY = "tenor_read_only"


def database_url() -> str:
    """``TENOR_DATABASE_URL``, or a SQLite file ``tenor.db`` in the working directory."""
    return os.environ.get("TENOR_DATABASE_URL") or DEFAULT_DATABASE_URL


def _sqlite_pragmas(connection: Any, _record: object) -> None:
    # WAL lets readers go on while one writer writes; foreign keys are off in SQLite unless asked;
    # the busy timeout makes a second writer wait instead of failing at once.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINTs; take it over.
    # A writer takes the write lock up front: a deferred transaction that reads and then
    # writes fails at once ("database is locked") when another writer got there first,
    # whatever the busy timeout.
    reading = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")


def make_engine(url: str | None = None) -> Engine:
    """An engine for ``url`` (default: :func:`database_url`), set up for Tenor's workload."""
    url = url or database_url()
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)

        @event.listens_for(engine, "connect")
        def _no_pysqlite_transactions(connection: Any, _record: object) -> None:
            connection.isolation_level = None

        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def is_postgres(engine: Engine) -> bool:
    """Whether ``engine`` talks to PostgreSQL (row locks, SKIP LOCKED, COPY)."""
    return engine.dialect.name == "postgresql"


class Database:
    """An engine and its session factory: the one handle the shell passes around."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or database_url()
        self.engine = make_engine(self.url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.read_sessions = sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session that only reads: on SQLite it waits for no writer."""
        with self.read_sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
