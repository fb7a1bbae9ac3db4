"""Schemathesis: generated requests, valid and invalid, against every operation.

No answer may be a 5xx, and every answer must be one the OpenAPI document declares, in the
declared content type and shape. Requests carry an admin key, so that every operation is
reachable. Generated ids and dates rarely name anything, so a share of the valid requests is
steered into the seeded book: its ids in the path and, in bodies, a value date inside the
loan's life and its currency; those reach the ledger's fold with arbitrary amounts. Bounded:
``TENOR_SCHEMATHESIS_EXAMPLES`` (default 10; raise it for a thorough run) per operation and
generation mode.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tenor.api.app import create_app
from tenor.store.database import Database
from tests.api.conftest import BUSINESS_DATE, Api, Book
from tests.builders import START

MAX_EXAMPLES = int(os.environ.get("TENOR_SCHEMATHESIS_EXAMPLES", "10"))

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

# The document does not depend on the database: read the operations once, at collection.
_DOCUMENT = create_app(Database("sqlite://")).openapi()
OPERATIONS = [
    (method.upper(), path) for path, item in _DOCUMENT["paths"].items() for method in item
]

#: Value dates the seeded loans can take: from disbursement to the business date.
IN_LIFE = st.dates(START, BUSINESS_DATE).map(dt.date.isoformat)


def _book_ids(book: Book, path: str) -> dict[str, Any]:
    names = {
        "{loan_id}": ("loan_id", book.loan_a),
        "{borrower_id}": ("borrower_id", book.borrower_a),
        "{product_id}": ("product_id", book.product_id),
        "{event_id}": ("event_id", book.repayment_a),
    }
    return dict(value for part, value in names.items() if part in path)


def _in_the_book(case: Any, data: st.DataObject) -> None:
    """Point a valid case's ids, value date and currency at the seeded book."""
    body = case.body
    if not isinstance(body, dict):
        return
    if "value_date" in body:
        body["value_date"] = data.draw(IN_LIFE, label="value_date")
    if "currency" in body:
        body["currency"] = "CNY"
    config = body.get("config")
    if isinstance(config, dict):
        # A product's strings name things the schema cannot list (frequencies, waterfalls).
        config.update(
            currency="CNY", frequency="monthly", waterfall="penalty-fee-interest-principal"
        )
        config.pop("buckets", None)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation_keeps_to_its_schema(
    api: Api, book: Book, method: str, path: str, mode: GenerationMode
) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.app)
    operation = schema[path][method]
    headers = api.auth()
    seeded = _book_ids(book, path)
    anywhere = operation.as_strategy(generation_mode=mode)
    in_book = operation.as_strategy(generation_mode=mode, path_parameters=seeded or None)

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        use_book = data.draw(st.booleans(), label="use_book")
        case = data.draw(in_book if use_book else anywhere, label="case")
        if use_book and mode is GenerationMode.POSITIVE:
            _in_the_book(case, data)
        case.call_and_validate(headers=headers, checks=CHECKS)

    check()
