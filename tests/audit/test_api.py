"""``/v1/audit`` and repayment receipts over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from tenor.audit.keys import Signer
from tenor.audit.merkle import verify_consistency, verify_inclusion
from tenor.audit.receipts import check_receipt
from tests.api.conftest import Api, Book
from tests.audit.conftest import post, sign

H = bytes.fromhex


def get(api: Api, path: str, role: str = "admin", **scope: int) -> Any:
    return api.client.get(path, headers=api.auth(role, **scope))


def test_tree_heads_and_proofs_verify(api: Api, book: Book, signer: Signer) -> None:
    first = sign(api.db, signer)
    later = post(api.db, book.loan_a, "10", 25)
    second = sign(api.db, signer)
    answer = get(api, "/v1/audit/tree-heads", "borrower", borrower_id=book.borrower_b)
    assert answer.status_code == 200, answer.text
    heads = answer.json()["tree_heads"]
    assert [head["tree_size"] for head in heads] == [second, first]
    proof = get(api, f"/v1/audit/proofs/consistency?first={first}&second={second}").json()
    assert (proof["first_root_hash"], proof["second_root_hash"]) == (
        heads[1]["root_hash"],
        heads[0]["root_hash"],
    )
    assert verify_consistency(
        first,
        second,
        H(proof["first_root_hash"]),
        H(proof["second_root_hash"]),
        [H(item) for item in proof["consistency_proof"]],
    )
    for tree_size in (None, first):
        query = f"event={book.repayment_a}" + (f"&tree_size={tree_size}" if tree_size else "")
        answer = get(api, f"/v1/audit/proofs/inclusion?{query}", "auditor")
        assert answer.status_code == 200, answer.text
        inclusion = answer.json()
        assert verify_inclusion(
            inclusion["leaf_index"],
            inclusion["tree_size"],
            H(inclusion["leaf_hash"]),
            [H(item) for item in inclusion["inclusion_proof"]],
            H(inclusion["root_hash"]),
        )
    too_early = get(api, f"/v1/audit/proofs/inclusion?event={later}&tree_size={first}")
    assert (too_early.status_code, too_early.json()["code"]) == (422, "invalid_argument")


def test_a_borrower_gets_receipts_of_their_own_repayments_only(
    api: Api, book: Book, signer: Signer
) -> None:
    path = f"/v1/loans/{book.loan_a}/repayments/{book.repayment_a}/receipt"
    mine = {"borrower_id": book.borrower_a}
    early = get(api, path, "borrower", **mine)
    assert (early.status_code, early.json()["code"]) == (409, "receipt_not_ready")
    sign(api.db, signer)
    answer = get(api, path, "borrower", **mine)
    assert answer.status_code == 200, answer.text
    checked = check_receipt(answer.json(), signer.public_key)
    assert checked.event["event_id"] == book.repayment_a
    theirs = {"borrower_id": book.borrower_b}
    assert get(api, path, "borrower", **theirs).status_code == 404
    inclusion = f"/v1/audit/proofs/inclusion?event={book.repayment_a}"
    assert get(api, inclusion, "borrower", **theirs).status_code == 404
    assert get(api, inclusion, "borrower", **mine).status_code == 200
    # Only a repayment of this very loan has a receipt here.
    journal = api.journal(book.loan_a)
    disbursement = journal[0]["event_id"]
    assert get(api, f"/v1/loans/{book.loan_a}/repayments/{disbursement}/receipt").status_code == (
        404
    )
    assert get(
        api, f"/v1/loans/{book.loan_b}/repayments/{book.repayment_a}/receipt"
    ).status_code == (404)


def test_bad_queries_are_problems(api: Api, book: Book, signer: Signer) -> None:
    size = sign(api.db, signer)
    for query, code in (
        (f"first={size}&second={size + 1}", "invalid_argument"),
        (f"first={size}&second=1", "invalid_argument"),
        ("first=-1&second=1", "validation_error"),
    ):
        answer = get(api, f"/v1/audit/proofs/consistency?{query}")
        assert (answer.status_code, answer.json()["code"]) == (422, code), query
    answer = get(api, "/v1/audit/proofs/inclusion?event=not-a-uuid")
    assert answer.status_code == 422
    answer = get(api, "/v1/audit/proofs/inclusion?event=00000000-0000-4000-8000-000000000000")
    assert (answer.status_code, answer.json()["code"]) == (404, "not_found")
