"""Connecting to the database: the embedded SQLite file by default, PostgreSQL in production."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import psycopg
from psycopg import errors, generators
from psycopg.pq.abc import Escaping, PGresult
from sqlalchemy import ClauseElement, Dialect, Engine, create_engine, event
from sqlalchemy.dialects.postgresql import psycopg as postgresql_psycopg
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_DATABASE_URL = "sqlite:///tenor.db"

_IDLE = psycopg.pq.TransactionStatus.IDLE

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


_POSTGRES = cast(Callable[[], Dialect], postgresql_psycopg.dialect)()  # an untyped constructor


def postgres_sql(statement: ClauseElement) -> tuple[str, dict[str, Any]]:
    """A statement as PostgreSQL text for a psycopg cursor, and the constants it binds.

    Built once at import, it lets the payment path run SQLAlchemy's statements on its own
    connections (:meth:`Database.postgres_connection`) without compiling them per request.
    """
    compiled = statement.compile(dialect=_POSTGRES)
    constants = {name: value for name, value in compiled.params.items() if value is not None}
    return compiled.string, constants


@dataclass(frozen=True, slots=True)
class PreparedStatement:
    """A statement a session prepares once (``PREPARE``) and then runs by name in scripts.

    Scripts in the simple query protocol bind no parameters, so without this the server
    would parse and plan every statement of every payment afresh.
    """

    name: str
    #: The ``PREPARE`` statement, for :meth:`Database.postgres_connection`'s ``setup``.
    prepare: str
    #: The statement's parameters, in the order ``EXECUTE`` takes them.
    parameters: tuple[str, ...]
    #: The values the statement binds itself (a ``LIMIT 1``).
    constants: dict[str, Any]

    @classmethod
    def of(cls, name: str, statement: ClauseElement) -> PreparedStatement:
        """``statement`` (as :func:`postgres_sql` writes it) prepared under ``name``."""
        sql, constants = postgres_sql(statement)
        names: list[str] = []

        def number(found: re.Match[str]) -> str:
            if found[1] not in names:
                names.append(found[1])
            return f"${names.index(found[1]) + 1}"

        text = re.sub(r"%\((\w+)\)s", number, sql).replace("%%", "%")
        return cls(name, f"PREPARE {name} AS {text}", tuple(names), constants)

    def execute(self, values: Mapping[str, Any], escaping: Escaping) -> str:
        """The ``EXECUTE`` of the statement with ``values`` written in (:func:`sql_literal`)."""
        given = {**self.constants, **values}
        arguments = ",".join(sql_literal(given[name], escaping) for name in self.parameters)
        return f"EXECUTE {self.name}({arguments})"


def sql_literal(value: Any, escaping: Escaping) -> str:
    """``value`` as a PostgreSQL literal, for a script in the simple query protocol.

    Strings (and JSON documents, given as dicts) are quoted by libpq's
    ``PQescapeLiteral`` for the connection ``escaping`` wraps, which knows its encoding and
    ``standard_conforming_strings``; every other type is written from characters that need no
    quoting. A type not listed here is refused rather than guessed at.
    """
    kind = type(value)
    if value is None:
        return "NULL"
    if kind is int:
        # In parentheses when negative: a cast binds tighter than the minus sign.
        return str(value) if value >= 0 else f"({value})"
    if kind is str:
        return escaping.escape_literal(value.encode()).decode()
    if kind is dt.date or kind is dt.datetime:
        return f"'{value.isoformat()}'"
    if kind is bytes:
        return f"decode('{value.hex()}','hex')"
    if kind is dict:
        return escaping.escape_literal(json.dumps(value).encode()).decode()
    if kind is list and all(type(item) is int for item in value):
        return f"ARRAY[{','.join(map(str, value))}]"
    raise TypeError(f"no SQL literal for a {kind.__name__}")


_FAILED = psycopg.pq.ExecStatus.FATAL_ERROR


def run_script(connection: psycopg.Connection[Any], script: str) -> list[PGresult]:
    """Run ``script``, statements in the simple query protocol, and return their results.

    psycopg's own send-and-wait (the generator its cursors run, and the connection's wait),
    without a cursor's bookkeeping: about 5% of a payment's instructions in the client
    (callgrind). Values come as text (``PGresult.get_value``, None for NULL). The first
    statement that fails raises psycopg's error for it (a ``UniqueViolation`` is an
    ``IntegrityError``); the server runs nothing after it.
    """
    encoding = connection.info.encoding
    pgconn = connection.pgconn
    pgconn.send_query(script.encode(encoding))
    results: list[PGresult] = connection.wait(generators.execute(pgconn))
    for result in results:
        if result.status == _FAILED:
            raise errors.error_from_result(result, encoding=encoding)
    return results


def connection_lost(error: psycopg.Error) -> bool:
    """Whether ``error`` means the connection is gone (the server restarted or dropped it)."""
    if not isinstance(error, psycopg.OperationalError):
        return False
    connection = error.pgconn
    return connection is None or connection.status == psycopg.pq.ConnStatus.BAD


def is_postgres(engine: Engine) -> bool:
    """Whether ``engine`` talks to PostgreSQL (row locks, SKIP LOCKED, COPY)."""
    return engine.dialect.name == "postgresql"


#: Idle psycopg connections :meth:`Database.postgres_connection` keeps, like the engine's pool.
_IDLE_CONNECTIONS = 10


class Database:
    """An engine and its session factory: the one handle the shell passes around."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or database_url()
        self.engine = make_engine(self.url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.read_sessions = sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )
        self._idle: dict[str, list[psycopg.Connection[Any]]] = {}
        self._idle_lock = threading.Lock()
        self._idle_pid = os.getpid()

    @contextmanager
    def postgres_connection(self, setup: str = "") -> Iterator[psycopg.Connection[Any]]:
        """A psycopg connection to the PostgreSQL database, for the payment path.

        It comes from a small pool of its own, not the engine's: SQLAlchemy's pool pings
        every connection it hands out, a round trip per payment. This one does not, so the
        caller's first statement can find a connection the server dropped while it idled
        (:func:`connection_lost`) and must then start again. A new connection first runs
        ``setup`` (a script, such as the ``PREPARE`` of the caller's statements); connections
        are pooled by it. The connection is in autocommit mode: the caller sends ``BEGIN``
        and ``COMMIT``; one left in a transaction is rolled back, a broken one closed.
        """
        connection = self._take(setup)
        try:
            yield connection
        finally:
            self._give_back(connection, setup)

    def _take(self, setup: str) -> psycopg.Connection[Any]:
        with self._idle_lock:
            if self._idle_pid != os.getpid():
                # A forked child must not share its parent's sockets.
                self._idle, self._idle_pid = {}, os.getpid()
            idle = self._idle.get(setup)
            if idle:
                return idle.pop()
        arguments, options = self.engine.dialect.create_connect_args(self.engine.url)
        # The caller sends BEGIN and COMMIT itself, with its statements.
        connection = psycopg.connect(*arguments, **options, autocommit=True)
        if setup:
            try:
                psycopg.ClientCursor(connection).execute(setup)
            except BaseException:
                connection.close()
                raise
        return connection

    def _give_back(self, connection: psycopg.Connection[Any], setup: str) -> None:
        if not connection.closed and connection.info.transaction_status != _IDLE:
            try:
                connection.rollback()
            except psycopg.Error:
                connection.close()
        with self._idle_lock:
            idle = self._idle.setdefault(setup, [])
            if (
                not connection.closed
                and self._idle_pid == os.getpid()
                and len(idle) < _IDLE_CONNECTIONS
            ):
                idle.append(connection)
                return
        connection.close()

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
        with self._idle_lock:
            idle, self._idle = self._idle, {}
        if self._idle_pid == os.getpid():
            for connections in idle.values():
                for connection in connections:
                    connection.close()
        self.engine.dispose()
