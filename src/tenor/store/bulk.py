"""Bulk reads and writes of the daily close and its passes, on PostgreSQL and SQLite.

**Writes.** On PostgreSQL rows go in by ``COPY ... FROM STDIN`` on the SQLAlchemy connection's
own psycopg connection, so in its transaction: :func:`copy_rows` for rows of Python values,
:func:`copy_frame` for a Polars frame (as CSV), :func:`copy_bound` for rows bound as
SQLAlchemy binds them for a table's columns. :func:`insert_rows` and :func:`insert_frame`
insert into a table by COPY on PostgreSQL and by one executemany elsewhere. A caller with more
to do (a staging table, an ``UPDATE ... FROM`` or ``INSERT ... ON CONFLICT`` from it) COPYs
into a temporary table with the same functions.

**Reads.** :func:`read_frame` reads a query's rows as a Polars frame, by ``COPY (SELECT ...)
TO STDOUT`` on PostgreSQL. "The column is one of these values" is one array parameter on
PostgreSQL (``= ANY(:array)``): thousands of bound values cost more to build, send and plan
than the rows they fetch. SQLite has no arrays and binds a bounded number of values a
statement, so there it is ``IN`` lists of at most :data:`CHUNK` values, one statement each:
:func:`among` gives the conditions, one per statement to run. :func:`among_ids` is the one
condition of a statement built once and run with its ids bound as ``ids``, for lists the
caller keeps within SQLite's limit (a close partition's loans).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Final, TypeVar

import psycopg
from sqlalchemy import BigInteger, Connection, Select, Table, any_, bindparam, insert
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

if TYPE_CHECKING:
    import polars as pl

#: Values of one ``IN`` list on SQLite. Its default build (3.32 on) binds at most 32,766
#: values a statement; a statement binds other values beside its list, and a list of pairs
#: (``(loan_id, number) IN ...``) binds two values an item, so a list keeps well under that.
CHUNK: Final = 5_000

_T = TypeVar("_T")


def _is_postgres(bind: Session | Connection) -> bool:
    dialect = bind.get_bind().dialect if isinstance(bind, Session) else bind.dialect
    return dialect.name == "postgresql"


# --- one of these values ----------------------------------------------------------------------


def chunks(values: Sequence[_T]) -> Iterator[Sequence[_T]]:
    """``values`` in consecutive slices of at most :data:`CHUNK`: one ``IN`` list each."""
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def among(
    bind: Session | Connection,
    column: ColumnElement[Any] | QueryableAttribute[Any],
    values: Iterable[Any],
) -> Iterator[ColumnElement[bool]]:
    """Conditions "``column`` is one of ``values``", each for one statement, whose rows
    together are those of the whole list: on PostgreSQL one ``= ANY`` of an array, on SQLite
    one ``IN`` list per :data:`CHUNK` values (each value once, in order); none for no values.
    """
    wanted = sorted(set(values))
    if not wanted:
        return
    expression = column.expression
    if _is_postgres(bind):
        yield expression == any_(bindparam(None, wanted, type_=ARRAY(expression.type)))
        return
    for chunk in chunks(wanted):
        yield expression.in_(chunk)


def among_ids(connection: Connection, column: ColumnElement[Any]) -> ColumnElement[bool]:
    """``column`` is one of the loan ids bound as ``ids`` when the statement runs.

    On PostgreSQL one array parameter (``= ANY``), which a ``COPY (SELECT ...)`` read
    (:func:`read_frame`) binds as it is; elsewhere an expanding ``IN`` list, one value per id,
    not cut in chunks: the caller keeps the list within the 32,766 values SQLite binds (a
    close partition holds at most ``tenor.batch.close.SQLITE_MAX_PARTITION_SIZE`` loans).
    """
    if _is_postgres(connection):
        return column == any_(bindparam("ids", type_=ARRAY(BigInteger)))
    return column.in_(bindparam("ids", expanding=True))


# --- reads ------------------------------------------------------------------------------------


def read_frame(
    connection: Connection,
    statement: Select[Any],
    schema: dict[str, Any],
    parameters: dict[str, Any] | None = None,
) -> pl.DataFrame:
    """The rows of ``statement`` as a frame of ``schema`` (its columns in order).

    On PostgreSQL the rows come as CSV through ``COPY (SELECT ...) TO STDOUT`` on the
    connection's own transaction and are parsed by Polars: no Python object per value, which
    is most of the cost of a fetch of a million rows. Elsewhere they are fetched.
    """
    # Loaded by frame reads alone: once loaded, Polars keeps Ctrl-C from interrupting a
    # process that waits (the bounce listener), and every importer would pay its load time.
    import polars as pl  # noqa: PLC0415

    if not _is_postgres(connection):
        rows = connection.execute(statement, parameters or {})
        return pl.DataFrame([tuple(row) for row in rows], schema=schema, orient="row")
    compiled = statement.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    values = {**compiled.params, **(parameters or {})}
    buffer = io.BytesIO()
    with (
        _driver(connection).cursor() as cursor,
        cursor.copy(f"COPY ({compiled.string}) TO STDOUT (FORMAT csv)", values) as copy,
    ):
        while chunk := copy.read():
            buffer.write(chunk)
    if not buffer.tell():
        return pl.DataFrame([], schema=schema, orient="row")
    # Dates come as ISO text, which Polars parses; booleans would come as t/f: none is read.
    return pl.read_csv(buffer.getvalue(), has_header=False, new_columns=list(schema), schema=schema)


# --- writes -----------------------------------------------------------------------------------


def _driver(connection: Connection) -> psycopg.Connection[Any]:
    raw = connection.connection.driver_connection
    assert isinstance(raw, psycopg.Connection)
    return raw


@contextmanager
def _copying(connection: Connection, statement: str) -> Iterator[psycopg.Copy]:
    """Run ``COPY ... FROM STDIN`` ``statement`` on the connection's own psycopg connection; a
    database error comes out as SQLAlchemy's (an ``IntegrityError`` for a unique key), as from
    an INSERT."""
    try:
        with _driver(connection).cursor() as cursor, cursor.copy(statement) as copy:
            yield copy
    except psycopg.Error as error:
        raise DBAPIError.instance(
            statement, None, error, psycopg.Error, hide_parameters=True
        ) from error


def copy_rows(
    connection: Connection, target: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """PostgreSQL: COPY ``rows`` (values of ``columns`` in order, as psycopg adapts them:
    ``None`` a NULL, ``psycopg.types.json.Json`` for JSON) into table ``target``."""
    with _copying(connection, f"COPY {target} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def copy_bound(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Iterable[Mapping[str, Any]],
    target: str | None = None,
) -> None:
    """PostgreSQL: COPY ``columns`` of ``rows`` into ``target`` (``table`` or a table like
    it), each value bound as SQLAlchemy binds it for ``table``'s column (JSON as psycopg's
    ``Json``)."""
    dialect = connection.dialect
    binds = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns]
    # Most columns bind as they are: only the others are processed, value by value.
    processed = [(position, bind) for position, bind in enumerate(binds) if bind is not None]

    pick = itemgetter(*columns)
    single = len(columns) == 1

    def values(row: Mapping[str, Any]) -> list[Any]:
        picked = [pick(row)] if single else list(pick(row))
        for position, bind in processed:
            picked[position] = bind(picked[position])
        return picked

    copy_rows(connection, target or table.name, columns, map(values, rows))


def copy_frame(connection: Connection, target: str, frame: pl.DataFrame) -> None:
    """PostgreSQL: COPY ``frame`` into table ``target`` (its columns by name) as CSV written by
    Polars: Polars' CSV (an unquoted empty field for a null, a quoted one for an empty string,
    ISO dates) is what PostgreSQL's CSV format reads."""
    statement = f"COPY {target} ({', '.join(frame.columns)}) FROM STDIN (FORMAT csv)"
    with _copying(connection, statement) as copy:
        copy.write(frame.write_csv(include_header=False))


def insert_rows(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (each with the same columns) in their order, so that ids follow it:
    COPY on PostgreSQL (:func:`copy_bound`), one executemany elsewhere."""
    if not rows:
        return
    if _is_postgres(connection):
        copy_bound(connection, table, list(rows[0]), rows)
    else:
        connection.execute(insert(table), list(rows))


def insert_frame(connection: Connection, table: Table, frame: pl.DataFrame) -> None:
    """Insert the rows of ``frame``: COPY on PostgreSQL (:func:`copy_frame`), one executemany
    elsewhere."""
    if not frame.height:
        return
    if _is_postgres(connection):
        copy_frame(connection, table.name, frame)
    else:
        connection.execute(insert(table), frame.to_dicts())
