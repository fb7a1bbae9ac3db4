"""Schemathesis on the collections operations, steered into a book with open cases.

tests/api/test_schema.py generates requests against every operation over a book without
collection cases, where a generated case or legal case id is nearly always unknown. Here a
share of the valid requests names the cases, loans, agencies and legal case of
tests.collect.book, so that outcomes, placements, legal transitions, costs and uploads reach
the collections code with arbitrary bodies. The same checks hold: no 5xx, and every answer is
one the OpenAPI document declares, in its declared shape.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from tenor.api.app import create_app
from tenor.store.database import Database
from tests.api.conftest import Api
from tests.api.test_schema import CHECKS, MAX_EXAMPLES
from tests.collect.book import seed_collections

_DOCUMENT = create_app(Database("sqlite://")).openapi()
OPERATIONS = [
    (method.upper(), path)
    for path, item in _DOCUMENT["paths"].items()
    for method in item
    if path.startswith(("/v1/collections", "/v1/legal-cases", "/v1/reports/collections"))
    or path.startswith("/v1/reports/strategies")
    or path.endswith("/recoveries")
]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_collections_operation_keeps_to_its_schema(
    api: Api, method: str, path: str, mode: GenerationMode
) -> None:
    book = seed_collections(api.db)
    names: dict[str, Any] = {
        "{case_id}": ("case_id", st.sampled_from(book.cases)),
        "{loan_id}": ("loan_id", st.sampled_from(book.loans)),
        "{agency_id}": ("agency_id", st.sampled_from((book.agency, book.other_agency))),
        "{legal_id}": ("legal_id", st.just(book.legal)),
    }
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.app)
    operation = schema[path][method]
    headers = api.auth()
    anywhere = operation.as_strategy(generation_mode=mode)

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        seeded = {
            name: data.draw(ids, label=name) for part, (name, ids) in names.items() if part in path
        }
        use_book = bool(seeded) and data.draw(st.booleans(), label="use_book")
        strategy = (
            operation.as_strategy(generation_mode=mode, path_parameters=seeded)
            if use_book
            else anywhere
        )
        case = data.draw(strategy, label="case")
        case.call_and_validate(headers=headers, checks=CHECKS)

    check()
