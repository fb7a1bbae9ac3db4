"""The engines give the same book: a Dask cluster of two worker processes, a local process
pool, and the close in one process."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tenor.batch.close import close_book
from tenor.store.database import Database
from tests.batch.closebook import START, build_book, dump
from tests.conftest import make_database

SIZE = 5


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """A Dask cluster on this machine: a scheduler and two worker processes."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    ) as local:
        yield local


def test_dask_and_a_process_pool_close_the_book_as_one_process_does(
    db: Database, tmp_path: Path, request: pytest.FixtureRequest, cluster: Any
) -> None:
    kind = "postgres" if db.engine.dialect.name == "postgresql" else "sqlite"
    folder = tmp_path / "reference"
    folder.mkdir()
    reference = make_database(kind, folder, request)
    for book in (db, reference):
        build_book(book, loans=18, seed=4)
    on_dask = START + dt.timedelta(days=6)
    in_pool = on_dask + dt.timedelta(days=3)
    close_book(reference, through=in_pool, partition_size=SIZE)
    dasked = close_book(
        db, through=on_dask, partition_size=SIZE, engine="dask", scheduler=cluster.scheduler_address
    )
    assert dasked.closed[0].partitions == 4
    pooled = close_book(db, through=in_pool, partition_size=SIZE, workers=2)
    assert pooled.business_date == in_pool + dt.timedelta(days=1)
    assert dump(db) == dump(reference)
