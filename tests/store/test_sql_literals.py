"""Values written into the payment path's SQL scripts read back exactly as they were."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import sqlalchemy
from hypothesis import given
from hypothesis import strategies as st

from tenor.store.database import sql_literal

pytestmark = pytest.mark.postgres

# PostgreSQL text holds any character but NUL.
texts = st.text(st.characters(blacklist_characters="\x00", codec="utf-8"))


@pytest.fixture(scope="module", params=["on", "off"])
def connection(
    request: pytest.FixtureRequest, postgres_admin: sqlalchemy.Engine
) -> Iterator[psycopg.Connection[Any]]:
    """A connection with ``standard_conforming_strings`` on (the default) or off."""
    url = postgres_admin.url
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname=url.database, autocommit=True
    ) as opened:
        opened.execute(f"SET standard_conforming_strings = {request.param}")
        yield opened


def read_back(connection: psycopg.Connection[Any], value: Any, cast: str) -> Any:
    literal = sql_literal(value, psycopg.pq.Escaping(connection.pgconn))
    row = connection.execute(f"SELECT {literal}::{cast}").fetchone()
    assert row is not None
    return row[0]


@given(value=texts)
def test_any_text_reads_back_as_written(connection: psycopg.Connection[Any], value: str) -> None:
    assert read_back(connection, value, "text") == value


@given(document=st.dictionaries(texts, texts | st.integers(-(2**53), 2**53) | st.none()))
def test_a_json_document_reads_back_as_written(
    connection: psycopg.Connection[Any], document: dict[str, Any]
) -> None:
    assert read_back(connection, document, "json") == document


@given(value=st.integers(-(2**63), 2**63 - 1))
def test_integers_read_back(connection: psycopg.Connection[Any], value: int) -> None:
    assert read_back(connection, value, "bigint") == value


@given(value=st.binary(max_size=64))
def test_bytes_read_back(connection: psycopg.Connection[Any], value: bytes) -> None:
    assert read_back(connection, value, "bytea") == value


def test_dates_instants_arrays_and_null_read_back(connection: psycopg.Connection[Any]) -> None:
    instant = dt.datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=dt.UTC)
    assert read_back(connection, dt.date(2026, 3, 1), "date") == dt.date(2026, 3, 1)
    assert read_back(connection, instant, "timestamptz") == instant
    assert read_back(connection, [3, 1, 2], "integer[]") == [3, 1, 2]
    assert read_back(connection, None, "text") is None


@pytest.mark.parametrize("value", [True, 1.5, ("a",), ["a"], object()])
def test_a_type_without_a_safe_literal_is_refused(value: object) -> None:
    with pytest.raises(TypeError, match="no SQL literal"):
        sql_literal(value, psycopg.pq.Escaping())
