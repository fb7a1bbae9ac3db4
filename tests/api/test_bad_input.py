"""Bad input gets a problem document with its code, and changes nothing."""

from __future__ import annotations

from typing import Any, NamedTuple

import pytest

from tests.api.conftest import Api, Book

GOOD = {"amount": "120.50", "currency": "CNY", "value_date": "2026-02-15"}
CHARGE = {"kind": "late-fee", "amount": "10", "currency": "CNY", "value_date": "2026-02-20"}


class Bad(NamedTuple):
    """A request that must be refused: where, what, and the answer it gets."""

    path: str  # {loan}, {pending}, {event} are filled in from the book
    body: Any
    status: int
    code: str
    key: str | None = "bad-1"
    raw: bytes | None = None


def repay(status: int, code: str, **change: Any) -> Bad:
    return Bad("/v1/loans/{loan}/repayments", {**GOOD, **change}, status, code)


CASES = {
    "negative": repay(422, "amount_not_positive", amount="-5"),
    "zero": repay(422, "amount_not_positive", amount="0"),
    "zero with decimals": repay(422, "amount_not_positive", amount="0.00"),
    "NaN": repay(422, "invalid_amount", amount="NaN"),
    "infinity": repay(422, "invalid_amount", amount="Infinity"),
    "exponent": repay(422, "invalid_amount", amount="1e30"),
    "huge": repay(422, "amount_too_large", amount="99999999999999999999"),
    "over-precise": repay(422, "amount_too_precise", amount="1.001"),
    "JSON number": repay(422, "invalid_amount", amount=120.5),
    "JSON integer": repay(422, "invalid_amount", amount=120),
    "JSON null amount": repay(422, "invalid_amount", amount=None),
    "spaces": repay(422, "invalid_amount", amount=" 120.50"),
    "comma": repay(422, "invalid_amount", amount="1,000.00"),
    "wrong currency": repay(422, "currency_mismatch", currency="USD"),
    "unknown currency": repay(422, "unknown_currency", currency="XXX"),
    "lower-case currency": repay(422, "validation_error", currency="cny"),
    "unknown loan": Bad("/v1/loans/999999/repayments", GOOD, 404, "not_found"),
    "loan id not a number": Bad("/v1/loans/abc/repayments", GOOD, 422, "validation_error"),
    "loan id beyond BIGINT": Bad(f"/v1/loans/{2**63}/repayments", GOOD, 422, "validation_error"),
    "before disbursement": repay(422, "invalid_value_date", value_date="2026-01-14"),
    "after the business date": repay(422, "invalid_value_date", value_date="2026-03-02"),
    "impossible date": repay(422, "invalid_date", value_date="2026-02-30"),
    "date as a timestamp": repay(422, "invalid_date", value_date=1767225600),
    "date with a time": repay(422, "invalid_date", value_date="2026-02-15T10:00:00"),
    "date out of range": repay(422, "invalid_date", value_date="0001-01-01"),
    "unknown field": repay(422, "validation_error", amount_minor=12050),
    "missing amount": Bad(
        "/v1/loans/{loan}/repayments",
        {"currency": "CNY", "value_date": "2026-02-15"},
        422,
        "validation_error",
    ),
    "body is a list": Bad("/v1/loans/{loan}/repayments", [GOOD], 422, "validation_error"),
    "NUL in a reference": repay(422, "invalid_text", external_reference="ref\x00"),
    "malformed JSON": Bad(
        "/v1/loans/{loan}/repayments", None, 400, "validation_error", raw=b'{"amount": "1",'
    ),
    "missing Idempotency-Key": Bad(
        "/v1/loans/{loan}/repayments", GOOD, 400, "idempotency_key_required", key=None
    ),
    "Idempotency-Key too long": Bad(
        "/v1/loans/{loan}/repayments", GOOD, 422, "validation_error", key="k" * 201
    ),
    "repayment on a pending loan": Bad(
        "/v1/loans/{pending}/repayments", GOOD, 409, "loan_not_active"
    ),
    "approving twice": Bad("/v1/loans/{loan}/approve", None, 409, "loan_not_active"),
    "disbursing a pending loan": Bad(
        "/v1/loans/{pending}/disbursements", {"value_date": "2026-01-15"}, 409, "loan_not_active"
    ),
    "amount without currency": Bad(
        "/v1/loans/{loan}/disbursements",
        {"amount": "5", "value_date": "2026-01-15"},
        422,
        "invalid_argument",
    ),
    "reversing an unknown event": Bad(
        "/v1/loans/{loan}/events/no-such-event/reversal", None, 422, "invalid_event"
    ),
    "reversing another loan's event": Bad(
        "/v1/loans/{other}/events/{event}/reversal", None, 422, "invalid_event"
    ),
    "waiving more than is owed": Bad(
        "/v1/loans/{loan}/waivers",
        {"component": "penalty", "amount": "31", "currency": "CNY", "value_date": "2026-02-25"},
        422,
        "invalid_event",
    ),
    "waiving principal": Bad(
        "/v1/loans/{loan}/waivers",
        {"component": "principal", "amount": "1", "currency": "CNY", "value_date": "2026-02-25"},
        422,
        "validation_error",
    ),
    "charge of an unknown kind": Bad(
        "/v1/loans/{loan}/charges", {**CHARGE, "kind": "bonus"}, 422, "validation_error"
    ),
    "charge on an installment that does not exist": Bad(
        "/v1/loans/{loan}/charges", {**CHARGE, "installment": 99}, 422, "invalid_event"
    ),
    "charge in the future": Bad(
        "/v1/loans/{loan}/charges",
        {**CHARGE, "value_date": "2027-01-01"},
        422,
        "invalid_value_date",
    ),
}


def _state(api: Api, book: Book) -> list[Any]:
    # The loans the cases write to: the disbursed one and the pending one.
    return [(api.journal(loan), api.loan(loan)) for loan in (book.loan_a, book.pending)]


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_input_is_refused_and_changes_nothing(api: Api, book: Book, case: Bad) -> None:
    before = _state(api, book)
    path = case.path.format(
        loan=book.loan_a,
        pending=book.pending,
        other=book.loan_b,
        event=book.repayment_a,
    )
    headers = api.auth()
    if case.key is not None:
        headers["Idempotency-Key"] = case.key
    if case.raw is not None:
        headers["Content-Type"] = "application/json"
        response = api.client.post(path, headers=headers, content=case.raw)
    elif case.body is None:
        response = api.client.post(path, headers=headers)
    else:
        response = api.client.post(path, headers=headers, json=case.body)
    assert response.headers["content-type"] == "application/problem+json", response.text
    problem = response.json()
    assert (response.status_code, problem["code"]) == (case.status, case.code), problem
    assert problem["status"] == case.status
    assert problem["type"] == f"urn:tenor:problem:{case.code}"
    assert problem["request_id"] == response.headers["X-Request-ID"]
    assert _state(api, book) == before


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"kind": "individual", "name": ""}, "validation_error"),
        ({"kind": "person", "name": "A"}, "validation_error"),
        ({"kind": "individual", "name": "A\x00B"}, "invalid_text"),
        ({"kind": "individual", "name": "A" * 201}, "validation_error"),
        ({"kind": "individual", "name": "A", "time_zone": "Nowhere/Land"}, "invalid_argument"),
        ({"kind": "individual", "name": "A", "phones": ["call me"]}, "validation_error"),
        ({"kind": "enterprise", "name": "A", "registered_capital": "5"}, "invalid_argument"),
        (
            {
                "kind": "enterprise",
                "name": "A",
                "registered_capital": "5.001",
                "registered_capital_currency": "CNY",
            },
            "amount_too_precise",
        ),
    ],
)
def test_a_bad_borrower_is_refused(api: Api, body: dict[str, Any], code: str) -> None:
    response = api.client.post("/v1/borrowers", headers=api.auth(), json=body)
    assert (response.status_code, response.json()["code"]) == (422, code)
    assert api.client.get("/v1/borrowers", headers=api.auth()).json()["total"] == 0


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"term": 7}, 422, "invalid_argument"),  # the product offers 3, 6, 9, 12, 18, 24
        ({"term": 0}, 422, "validation_error"),
        ({"currency": "USD"}, 422, "invalid_argument"),
        ({"principal": "-1"}, 422, "amount_not_positive"),
        ({"borrower_id": 999999}, 404, "not_found"),
        ({"product_id": 999999}, 404, "not_found"),
        ({"annual_rate_percent": "1001"}, 422, "invalid_argument"),
        ({"annual_rate_percent": 12}, 422, "invalid_number"),
        ({"start_date": "9999-12-31"}, 422, "invalid_date"),
        (
            {"milestones": [{"name": "m", "expected_date": "2026-06-01", "share": "2"}]},
            422,
            "invalid_loan_terms",
        ),
    ],
)
def test_a_bad_loan_application_is_refused(
    api: Api, book: Book, change: dict[str, Any], status: int, code: str
) -> None:
    body = {
        "borrower_id": book.borrower_a,
        "product_id": book.product_id,
        "principal": "5000",
        "currency": "CNY",
        "term": 6,
        "start_date": "2026-02-01",
        **change,
    }
    before = api.client.get("/v1/loans", headers=api.auth()).json()["total"]
    response = api.client.post("/v1/loans", headers=api.auth(), json=body)
    assert (response.status_code, response.json()["code"]) == (status, code), response.text
    assert api.client.get("/v1/loans", headers=api.auth()).json()["total"] == before


@pytest.mark.parametrize(
    ("config", "status"),
    [
        ({"currency": "CNY"}, 422),  # no rate
        ({"currency": "XYZ", "annual_rate_percent": "1"}, 422),
        ({"currency": "CNY", "annual_rate_percent": "1", "waterfall": "nonsense"}, 422),
        (
            {
                "currency": "CNY",
                "annual_rate_percent": "1",
                "buckets": [{"name": "\x00", "min_dpd": 0}],
            },
            422,
        ),
        ({"currency": "CNY", "annual_rate_percent": "NaN"}, 422),
        ({"currency": "CNY", "annual_rate_percent": "1", "surprise": True}, 422),
    ],
)
def test_a_bad_product_is_refused(api: Api, config: dict[str, Any], status: int) -> None:
    response = api.client.post(
        "/v1/products", headers=api.auth(), json={"code": "x", "name": "X", "config": config}
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert api.client.get("/v1/products", headers=api.auth()).json()["total"] == 0
