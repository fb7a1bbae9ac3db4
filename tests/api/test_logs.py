"""Logs: one JSON line per request with its id; no national ID or phone number, ever."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from tenor.api import logs
from tenor.api.logs import configure_logging, get_logger, scrub
from tenor.api.routes import loans as loan_routes
from tests.api.conftest import Api, Book

NATIONAL_ID = "110101199003071234"
PHONES = ("13800138000", "+86 138-0013-8000", "(010) 6552-9988", "+1 415 555 0142")


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Tenor's log lines, written to a buffer for the test."""
    buffer = io.StringIO()
    configure_logging(file=buffer)
    yield buffer
    structlog.reset_defaults()


def _lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def _assert_clean(text: str) -> None:
    for secret in (NATIONAL_ID, "13800138000", "138-0013-8000", "6552-9988", "415 555 0142"):
        assert secret not in text


def test_a_request_logs_one_line_without_personal_data(
    api: Api, book: Book, captured: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = api.auth()
    created = api.client.post(
        "/v1/borrowers",
        headers={**admin, "X-Request-ID": "create-1"},
        json={
            "kind": "individual",
            "name": "陈静",
            "national_id": NATIONAL_ID,
            "phones": [PHONES[0]],
        },
    )
    assert created.status_code == 201
    # Numbers in a path, in a query string and in an error message thrown deep inside.
    api.client.get(f"/v1/borrowers/{PHONES[0]}", headers=admin)
    api.client.get("/v1/borrowers", headers=admin, params={"name": NATIONAL_ID})

    def explode(*_args: object) -> None:
        raise RuntimeError(f"lookup failed for {NATIONAL_ID}, phones {', '.join(PHONES)}")

    monkeypatch.setattr(loan_routes, "get_loan", explode)
    failed = api.client.get(f"/v1/loans/{book.loan_a}", headers={**admin, "X-Request-ID": "boom"})
    assert failed.status_code == 500
    assert failed.headers["content-type"] == "application/problem+json"
    assert failed.json()["code"] == "internal_error"
    assert NATIONAL_ID not in failed.text

    text = captured.getvalue()
    _assert_clean(text)
    lines = _lines(captured)
    requests = [line for line in lines if line["event"] == "request"]
    assert [line["status"] for line in requests] == [201, 404, 200, 500]
    assert all(line["request_id"] for line in lines)
    first = requests[0]
    assert {key: first[key] for key in ("request_id", "method", "route", "level")} == {
        "request_id": "create-1",
        "method": "POST",
        "route": "/v1/borrowers",
        "level": "info",
    }
    assert first["actor"].startswith("admin:")
    assert requests[1]["path"] == "/v1/borrowers/[REDACTED]"
    error = next(line for line in lines if line["event"] == "unhandled error")
    assert error["request_id"] == "boom"
    assert "RuntimeError: lookup failed for [REDACTED], phones [REDACTED]" in error["exception"]


def test_personal_data_is_redacted_by_key_and_by_shape(captured: io.StringIO) -> None:
    get_logger().info(
        f"borrower {NATIONAL_ID} called from {PHONES[1]}",
        national_id=NATIONAL_ID,
        phones=list(PHONES),
        Authorization="Bearer tnr_0123456789abcdef_secretsecret",
        borrower={"name": "陈静", "phone": PHONES[0], "notes": [f"alt {PHONES[2]}"]},
        key_used="tnr_0123456789abcdef_abcdefghijklmnopqrstuvwxyz",
        loan_id=42,
    )
    (line,) = _lines(captured)
    _assert_clean(captured.getvalue())
    assert "secretsecret" not in captured.getvalue()
    assert line["national_id"] == line["phones"] == line["Authorization"] == "[REDACTED]"
    assert line["borrower"] == {"name": "陈静", "phone": "[REDACTED]", "notes": ["alt [REDACTED]"]}
    assert line["key_used"] == "tnr_0123456789abcdef_[REDACTED]"
    assert line["event"] == "borrower [REDACTED] called from [REDACTED]"
    assert line["loan_id"] == 42


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-01",
        "2026-03-01T10:20:30Z",
        "/v1/loans/42/events/550e8400-e29b-41d4-a716-446655440000/reversal",
        "amount 120.50 CNY",
        "took 12.5 ms",
        "M6+",
    ],
)
def test_scrubbing_leaves_ordinary_text_alone(text: str) -> None:
    assert scrub(text) == text


@pytest.mark.parametrize(
    "text", [NATIONAL_ID, "11010119900307123X", "110101900307123", *PHONES, "tel:13800138000."]
)
def test_scrubbing_finds_numbers_in_any_format(text: str) -> None:
    assert logs.REDACTED in scrub(text)
    assert not any(character.isdigit() for character in scrub(text).replace("tel:", ""))
