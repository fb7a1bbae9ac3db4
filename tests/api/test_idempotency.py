"""Idempotent writes: a request sent again, or many times at once, is recorded once."""

from __future__ import annotations

import threading
from typing import Any

from fastapi.testclient import TestClient

from tests.api.conftest import Api, Book

PAYMENT = {"amount": "120.50", "currency": "CNY", "value_date": "2026-02-15", "channel": "app"}


def _repayments(api: Api, loan_id: int) -> list[dict[str, Any]]:
    return [event for event in api.journal(loan_id) if event["kind"] == "repayment-received"]


def test_a_repayment_sent_twice_is_recorded_once(api: Api, book: Book) -> None:
    headers = {**api.auth(), "Idempotency-Key": "pay-7f3a"}
    path = f"/v1/loans/{book.loan_a}/repayments"
    before = len(_repayments(api, book.loan_a))
    first = api.client.post(path, headers=headers, json=PAYMENT)
    again = api.client.post(path, headers=headers, json=PAYMENT)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert again.json() == first.json()
    assert len(_repayments(api, book.loan_a)) == before + 1
    # The same amount written another way is the same request.
    same = api.client.post(path, headers=headers, json={**PAYMENT, "amount": "120.5"})
    assert (same.status_code, same.json()["event_id"]) == (200, first.json()["event_id"])


def test_another_request_under_a_used_key_is_a_conflict(api: Api, book: Book) -> None:
    headers = {**api.auth(), "Idempotency-Key": "pay-1"}
    path = f"/v1/loans/{book.loan_a}/repayments"
    assert api.client.post(path, headers=headers, json=PAYMENT).status_code == 201
    journal = api.journal(book.loan_a)
    for changed in (
        {**PAYMENT, "amount": "120.51"},
        {**PAYMENT, "value_date": "2026-02-16"},
        {**PAYMENT, "channel": "counter"},
    ):
        conflict = api.client.post(path, headers=headers, json=changed)
        assert conflict.status_code == 409, conflict.text
        assert conflict.headers["content-type"] == "application/problem+json"
        assert conflict.json()["code"] == "idempotency_conflict"
    # A charge under the repayment's key is another request too.
    charge = api.client.post(
        f"/v1/loans/{book.loan_a}/charges",
        headers=headers,
        json={"kind": "fee", "amount": "5", "currency": "CNY", "value_date": "2026-02-15"},
    )
    assert (charge.status_code, charge.json()["code"]) == (409, "idempotency_conflict")
    assert api.journal(book.loan_a) == journal


def test_a_key_belongs_to_one_loan(api: Api, book: Book) -> None:
    headers = {**api.auth(), "Idempotency-Key": "shared"}
    for loan_id in (book.loan_a, book.loan_b):
        response = api.client.post(f"/v1/loans/{loan_id}/repayments", headers=headers, json=PAYMENT)
        assert response.status_code == 201, response.text


def test_other_writes_replay_under_their_key(api: Api, book: Book) -> None:
    headers = {**api.auth(), "Idempotency-Key": "tranche-1"}
    path = f"/v1/loans/{book.approved}/disbursements"
    body = {"amount": "1000", "currency": "CNY", "value_date": "2026-01-15"}
    first = api.client.post(path, headers=headers, json=body)
    again = api.client.post(path, headers=headers, json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["loan"]["disbursed"] == "1000.00"
    reversal = f"/v1/loans/{book.loan_a}/events/{book.repayment_a}/reversal"
    reverse_headers = {**api.auth(), "Idempotency-Key": "undo-1"}
    assert api.client.post(reversal, headers=reverse_headers).status_code == 201
    assert api.client.post(reversal, headers=reverse_headers).status_code == 200
    # Without a key, a second reversal of the same event is refused by the journal itself.
    twice = api.client.post(reversal, headers=api.auth())
    assert (twice.status_code, twice.json()["code"]) == (422, "invalid_event")


def test_the_same_repayment_at_the_same_moment_is_recorded_once(api: Api, book: Book) -> None:
    clients = 6
    barrier = threading.Barrier(clients)
    answers: list[Any] = [None] * clients
    headers = {**api.auth(), "Idempotency-Key": "at-once"}

    def post(index: int) -> None:
        # A client of its own per thread, as separate callers would have.
        with TestClient(api.app) as client:
            barrier.wait()
            answers[index] = client.post(
                f"/v1/loans/{book.loan_a}/repayments", headers=headers, json=PAYMENT
            )

    threads = [threading.Thread(target=post, args=(index,)) for index in range(clients)]
    before = len(_repayments(api, book.loan_a))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answer.status_code for answer in answers) == [200] * (clients - 1) + [201]
    assert len({answer.json()["event_id"] for answer in answers}) == 1
    assert len(_repayments(api, book.loan_a)) == before + 1
    assert api.loan(book.loan_a)["repaid"] == "220.50"
