"""Bulk reads and writes (tenor.store.bulk) on SQLite and PostgreSQL: what goes in by COPY or
executemany reads back exactly, and "one of these values" finds every row in as many
statements as the database needs."""

from __future__ import annotations

import datetime as dt
import math
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from psycopg.types.json import Json
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    MetaData,
    Table,
    Text,
    select,
    text,
    tuple_,
)
from sqlalchemy.exc import IntegrityError

from tenor.store import bulk
from tenor.store.database import Database
from tests.conftest import make_database

_METADATA = MetaData()
#: A table of every kind of value the close writes in bulk.
_ROWS = Table(
    "bulk_rows",
    _METADATA,
    Column("id", BigInteger, primary_key=True),
    Column("label", Text),
    Column("day", Date),
    Column("at", DateTime(timezone=True)),
    Column("document", JSON),
)

#: Text that a careless CSV or COPY text writer gets wrong.
AWKWARD = (
    "plain",
    "comma, inside",
    'double " quote',
    "single ' quote",
    "new\nline",
    "carriage\r\nreturn",
    "tab\there",
    "back\\slash",
    "\\N",
    "\\.",
    "NULL",
    ",",
    '"',
    "",
    " padded ",
    "汉字 ünïcödé ✓ 😀",
    None,
)

_AT = dt.datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=dt.UTC)


@pytest.fixture
def db(db: Database) -> Database:
    """The migrated database of the parametrised fixture, with the test's own table."""
    _METADATA.create_all(db.engine)
    return db


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored in UTC.
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)


def _stored(db: Database) -> list[tuple[Any, ...]]:
    with db.reading() as session:
        rows = session.execute(select(_ROWS).order_by(_ROWS.c.id)).all()
    return [(i, label, day, _aware(at), document) for i, label, day, at, document in rows]


def test_rows_with_awkward_values_read_back_exactly(db: Database) -> None:
    rows = [
        {
            "id": number,
            "label": label,
            "day": None if label is None else dt.date(2026, 1, 1) + dt.timedelta(days=number),
            "at": None if label is None else _AT + dt.timedelta(hours=number),
            "document": None
            if label is None
            else {"label": label, "amount": "12.34", "nested": [1, None, {"k": label}]},
        }
        for number, label in enumerate(AWKWARD, start=1)
    ]
    with db.transaction() as session:
        bulk.insert_rows(session.connection(), _ROWS, rows)
    assert _stored(db) == [tuple(row.values()) for row in rows]


def test_a_frame_with_awkward_values_reads_back_exactly(db: Database) -> None:
    frame = pl.DataFrame(
        {
            "id": list(range(1, len(AWKWARD) + 1)),
            "label": list(AWKWARD),
            "day": [dt.date(2026, 12, 31) - dt.timedelta(days=n) for n in range(len(AWKWARD))],
        },
        schema={"id": pl.Int64, "label": pl.Utf8, "day": pl.Date},
    )
    with db.transaction() as session:
        bulk.insert_frame(session.connection(), _ROWS, frame)
    # A null stays a null and an empty text an empty text.
    assert [(i, label, day) for i, label, day, _, _ in _stored(db)] == list(frame.iter_rows())
    with db.reading() as session:
        read = bulk.read_frame(
            session.connection(),
            select(_ROWS.c.id, _ROWS.c.label, _ROWS.c.day).order_by(_ROWS.c.id),
            {"id": pl.Int64, "label": pl.Utf8, "day": pl.Date},
        )
    assert read.equals(frame)


def test_nothing_to_insert_writes_nothing(db: Database) -> None:
    with db.transaction() as session:
        bulk.insert_rows(session.connection(), _ROWS, [])
        bulk.insert_frame(session.connection(), _ROWS, pl.DataFrame(schema={"id": pl.Int64}))
    assert _stored(db) == []


def test_a_duplicate_key_is_sqlalchemys_integrity_error(db: Database) -> None:
    with db.transaction() as session:
        bulk.insert_rows(session.connection(), _ROWS, [{"id": 1, "label": "first"}])
    with pytest.raises(IntegrityError), db.transaction() as session:
        bulk.insert_rows(session.connection(), _ROWS, [{"id": 1, "label": "again"}])
    frame = pl.DataFrame({"id": [1]}, schema={"id": pl.Int64})
    with pytest.raises(IntegrityError), db.transaction() as session:
        bulk.insert_frame(session.connection(), _ROWS, frame)
    assert [label for _, label, _, _, _ in _stored(db)] == ["first"]


@pytest.mark.postgres
def test_copy_writes_decimals_dates_json_and_text_exactly(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """PostgreSQL: COPY of Python values (text format) and of a Polars frame (CSV) into a
    staging table, as the close's writers do."""
    db = make_database("postgres", tmp_path, request)
    rows = [
        (
            number,
            label,
            Decimal("-12345678901234.000001") if label is None else Decimal(f"{number}.10"),
            dt.date(2026, 2, number),
            _AT,
            None if label is None else Json({"label": label, "number": number}),
        )
        for number, label in enumerate(AWKWARD, start=1)
    ]
    columns = ("id", "label", "amount", "day", "at", "document")
    with db.transaction() as session:
        connection = session.connection()
        connection.execute(
            text(
                "CREATE TEMPORARY TABLE staged (id BIGINT, label TEXT, amount NUMERIC(30, 6), "
                "day DATE, at TIMESTAMPTZ, document JSONB) ON COMMIT DROP"
            )
        )
        bulk.copy_rows(connection, "staged", columns, rows)
        copied = connection.execute(text("SELECT * FROM staged ORDER BY id")).all()
        assert [tuple(row) for row in copied] == [
            (*row[:5], None if row[5] is None else row[5].obj) for row in rows
        ]
        connection.execute(text("TRUNCATE staged"))
        frame = pl.DataFrame(
            [row[:5] for row in rows],
            schema={
                "id": pl.Int64,
                "label": pl.Utf8,
                "amount": pl.Decimal(30, 6),
                "day": pl.Date,
                "at": pl.Datetime("us", "UTC"),
            },
            orient="row",
        )
        bulk.copy_frame(connection, "staged", frame)
        copied = connection.execute(
            text("SELECT id, label, amount, day, at FROM staged ORDER BY id")
        ).all()
        assert [tuple(row) for row in copied] == [row[:5] for row in rows]


def test_a_statement_with_a_chunk_of_pairs_and_a_chunk_of_values_runs_on_sqlite(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Three chunks' worth of bound values in one statement stay within the default build's
    32,766: the most any reader binds (pairs are two values each) plus a list beside them."""
    db = make_database("sqlite", tmp_path, request)
    _METADATA.create_all(db.engine)
    _many(db, 11)
    pairs = [(n, f"row {n}") for n in range(1, bulk.CHUNK + 1)]
    ids = list(range(1, bulk.CHUNK + 1))
    with db.reading() as session:
        # This machine's SQLite may be built with a higher limit: hold it to the default.
        raw = session.connection().connection.driver_connection
        assert isinstance(raw, sqlite3.Connection)
        raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 32_766)
        found = session.scalars(
            select(_ROWS.c.id).where(
                tuple_(_ROWS.c.id, _ROWS.c.label).in_(pairs), _ROWS.c.id.in_(ids)
            )
        ).all()
    assert sorted(found) == list(range(1, 11))


def test_chunks_slice_in_order() -> None:
    values = list(range(2 * bulk.CHUNK + 1))
    assert [len(chunk) for chunk in bulk.chunks(values)] == [bulk.CHUNK, bulk.CHUNK, 1]
    assert [value for chunk in bulk.chunks(values) for value in chunk] == values
    assert list(bulk.chunks([])) == []


def _many(db: Database, count: int) -> None:
    with db.transaction() as session:
        bulk.insert_rows(
            session.connection(), _ROWS, [{"id": n, "label": f"row {n}"} for n in range(1, count)]
        )


def test_among_a_list_larger_than_a_chunk_finds_every_row(db: Database) -> None:
    count = 2 * bulk.CHUNK + 100
    _many(db, count + 1)
    # Unsorted, repeated and absent values: each present one is found once.
    wanted = [*range(count, 0, -1), 1, 2, count + 50]
    with db.reading() as session:
        conditions = list(bulk.among(session, _ROWS.c.id, wanted))
        found = [
            row_id
            for condition in conditions
            for row_id in session.scalars(select(_ROWS.c.id).where(condition))
        ]
    postgres = db.engine.dialect.name == "postgresql"
    assert len(conditions) == (1 if postgres else math.ceil((count + 1) / bulk.CHUNK))
    assert sorted(found) == list(range(1, count + 1))


def test_among_no_values_is_no_statement(db: Database) -> None:
    with db.reading() as session:
        assert list(bulk.among(session, _ROWS.c.id, [])) == []
        assert list(bulk.among(session.connection(), _ROWS.c.id, set())) == []


def test_among_ids_binds_the_list_as_ids_in_a_read(db: Database) -> None:
    count = 2 * bulk.CHUNK + 100
    _many(db, count + 1)
    schema = {"id": pl.Int64, "label": pl.Utf8}
    with db.reading() as session:
        connection = session.connection()
        statement = (
            select(_ROWS.c.id, _ROWS.c.label)
            .where(bulk.among_ids(connection, _ROWS.c.id))
            .order_by(_ROWS.c.id)
        )
        every = bulk.read_frame(connection, statement, schema, {"ids": list(range(1, count + 1))})
        some = bulk.read_frame(connection, statement, schema, {"ids": [3, 1, count + 50]})
        none = bulk.read_frame(connection, statement, schema, {"ids": []})
    assert every["id"].to_list() == list(range(1, count + 1))
    assert some.rows() == [(1, "row 1"), (3, "row 3")]
    assert none.is_empty()
    assert none.schema == pl.Schema(schema)


def test_among_finds_extreme_integers_and_awkward_text(db: Database) -> None:
    """Negative ids, zero and the largest BIGINT match exactly, and so does text that needs
    quoting in a PostgreSQL array."""
    largest = 2**63 - 1
    labels = [label for label in AWKWARD if label is not None]
    ids = [-5, 0, largest, *range(1, len(labels) - 2)]
    with db.transaction() as session:
        bulk.insert_rows(
            session.connection(),
            _ROWS,
            [{"id": row_id, "label": label} for row_id, label in zip(ids, labels, strict=True)],
        )
    with db.reading() as session:
        by_id = [
            row_id
            for condition in bulk.among(session, _ROWS.c.id, [largest, -5, 7_000, largest])
            for row_id in session.scalars(select(_ROWS.c.id).where(condition))
        ]
        by_label = [
            label
            for condition in bulk.among(session, _ROWS.c.label, labels)
            for label in session.scalars(select(_ROWS.c.label).where(condition))
        ]
        connection = session.connection()
        listed = connection.execute(
            select(_ROWS.c.id).where(bulk.among_ids(connection, _ROWS.c.id)),
            {"ids": [0, largest]},
        ).scalars()
        assert sorted(listed) == [0, largest]
    assert sorted(by_id) == [-5, largest]
    assert sorted(by_label) == sorted(labels)
