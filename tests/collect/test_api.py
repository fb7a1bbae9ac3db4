"""Collections through the REST API, on a book the daily close has put into collections.

The book (tests.collect.book): loans A, B, C and D of 6000, 3000, 9000 and 1200 CNY, nothing
paid, first installment due 15 February 2026; closed through 20 February, so that each has an
open case (first-payment default: a call, a text, a call) and the business date is 21 February.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path
from typing import Any

from httpx2 import Response

from tenor.batch.close import close_book
from tenor.collect.strategy import DEFAULT_STRATEGY
from tests.api.conftest import Api
from tests.collect.book import TODAY, CollectionsBook, seed_collections, seed_loans, shanghai


def _post(api: Api, path: str, body: Any = None, role: str = "admin", **scope: int) -> Response:
    return api.client.post(path, json=body, headers=api.auth(role, **scope))


def _get(api: Api, path: str, role: str = "admin", **params: Any) -> Any:
    response = api.client.get(path, headers=api.auth(role), params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _case(api: Api, case_id: int) -> dict[str, Any]:
    document: dict[str, Any] = _get(api, f"/v1/collections/cases/{case_id}")
    return document


def _outcome(api: Api, case_id: int, **body: Any) -> Response:
    return _post(api, f"/v1/collections/cases/{case_id}/outcomes", body, role="collector")


def _queue(api: Api, book: CollectionsBook, at: dt.datetime) -> list[dict[str, Any]]:
    queue = _get(api, "/v1/collections/queue", role="collector", collector_id=book.collector, at=at)
    entries: list[dict[str, Any]] = queue["entries"]
    return entries


def _cents(text: str) -> Decimal:
    return Decimal(text).quantize(Decimal("0.01"))


# --- the queue and the contact rules ---------------------------------------------------------


def test_the_queue_orders_by_expected_value_with_the_uncallable_last(api: Api) -> None:
    book = seed_loans(api.db)
    a, b, c, d = book.loans
    # Borrower C, the largest balance, asked not to be called.
    response = api.client.patch(
        f"/v1/borrowers/{book.borrowers[2]}/contact-preferences",
        json={"opt_outs": ["voice"]},
        headers=api.auth("collector"),
    )
    assert response.status_code == 200, response.text

    queue = _get(
        api,
        "/v1/collections/queue",
        role="collector",
        collector_id=book.collector,
        at=shanghai(TODAY, 10),
    )
    assert queue["on_shift"] is True  # 9:00 to 18:00 in Shanghai
    entries = queue["entries"]
    # One entry a case: the call of 20 February replaced the one of 16 February not made.
    assert [e["loan_id"] for e in entries] == [a, b, d, c]
    assert [e["rank"] for e in entries] == [1, 2, 3, 4]
    assert [e["contactable_now"] for e in entries] == [True, True, True, False]
    assert entries[3]["refused_rule"] == "opt_out"
    for entry in entries:
        # Balance x propensity - the call's cost, before any model: the heuristic's 45% at
        # six days past due.
        assert entry["propensity"] == "0.45"
        assert entry["propensity_source"] == "heuristic"
        expected = Decimal(entry["balance"]) * Decimal("0.45") - Decimal("2.00")
        assert abs(Decimal(entry["expected_value"]) - expected) <= Decimal("0.005")

    # At 23:00 in Shanghai nobody may be called; the rules say when the calls may start.
    # Then the order is expected value alone; the opt-out is named before the hour.
    late = _get(
        api,
        "/v1/collections/queue",
        role="collector",
        collector_id=book.collector,
        at=shanghai(TODAY, 23),
    )
    assert late["on_shift"] is False
    night = late["entries"]
    assert [(e["loan_id"], e["refused_rule"]) for e in night] == [
        (c, "opt_out"),
        (a, "quiet_hours"),
        (b, "quiet_hours"),
        (d, "quiet_hours"),
    ]
    assert not any(e["contactable_now"] for e in night)
    morning = shanghai(TODAY + dt.timedelta(days=1), 8)
    assert dt.datetime.fromisoformat(night[1]["next_allowed_at"]) == morning
    assert night[0]["next_allowed_at"] is None


def test_a_call_the_rules_forbid_is_refused_and_nothing_is_recorded(api: Api) -> None:
    book = seed_loans(api.db)
    case_id = book.case_of(book.loans[0])
    before = _case(api, case_id)

    refused = _outcome(
        api, case_id, code="right_party_contact", channel="call", at=shanghai(TODAY, 23).isoformat()
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "contact_refused"
    assert "quiet_hours" in refused.json()["detail"]
    assert _case(api, case_id) == before

    allowed = _outcome(
        api,
        case_id,
        code="right_party_contact",
        channel="call",
        at=shanghai(TODAY, 11).isoformat(),
        collector_id=book.collector,
    )
    assert allowed.status_code == 201, allowed.text
    after = _case(api, case_id)
    assert [(o["code"], o["collector_id"]) for o in after["outcomes"]] == [
        ("right_party_contact", book.collector)
    ]
    # The open call task is the one the outcome answered.
    assert [a["state"] for a in after["actions"] if a["kind"] == "call"][-1] == "done"


# --- promises ---------------------------------------------------------------------------------


def test_promises_made_through_the_api_are_kept_or_broken_by_the_next_closes(api: Api) -> None:
    book = seed_loans(api.db)
    a, b, _, _ = book.loans
    at = shanghai(TODAY, 10).isoformat()
    kept = _outcome(
        api,
        book.case_of(a),
        code="promise_to_pay",
        at=at,
        amount="1000.00",
        promise_date="2026-02-24",
    )
    broken = _outcome(
        api, book.case_of(b), code="promise_to_pay", at=at, amount="500", promise_date="2026-02-23"
    )
    assert (kept.status_code, broken.status_code) == (201, 201), (kept.text, broken.text)
    assert kept.json()["case"]["paused"] == "promise_to_pay"
    # A case waiting on a promise is not called.
    assert a not in [e["loan_id"] for e in _queue(api, book, shanghai(TODAY, 10))]

    close_book(api.db, through=dt.date(2026, 2, 22))
    paid = api.client.post(
        f"/v1/loans/{a}/repayments",
        json={"amount": "1000.00", "currency": "CNY", "value_date": "2026-02-23"},
        headers={**api.auth("collector"), "Idempotency-Key": "promise-a"},
    )
    assert paid.status_code == 201, paid.text
    close_book(api.db, through=dt.date(2026, 2, 24))

    (promise_a,) = _case(api, book.case_of(a))["promises"]
    assert (promise_a["status"], promise_a["paid"], promise_a["decided_on"]) == (
        "kept",
        "1000.00",
        "2026-02-23",
    )
    case_b = _case(api, book.case_of(b))
    (promise_b,) = case_b["promises"]
    # Due on the 23rd with a day's grace: broken at the close of the 24th.
    assert (promise_b["status"], promise_b["paid"], promise_b["decided_on"]) == (
        "broken",
        "0.00",
        "2026-02-24",
    )
    assert "broken_promise" in case_b["flags"]
    assert case_b["paused"] is None
    # The broken promise moves B to the top of the queue, above larger balances.
    entries = _queue(api, book, shanghai(dt.date(2026, 2, 25), 10))
    assert entries[0]["loan_id"] == b
    assert entries[0]["broken_promise"] is True


def test_a_promise_is_refused_beyond_the_balance_or_without_its_date(api: Api) -> None:
    book = seed_loans(api.db)
    case_id = book.case_of(book.loans[3])
    at = shanghai(TODAY, 10).isoformat()
    too_much = _outcome(
        api, case_id, code="promise_to_pay", at=at, amount="99999", promise_date="2026-02-25"
    )
    undated = _outcome(api, case_id, code="promise_to_pay", at=at, amount="100")
    assert (too_much.status_code, too_much.json()["code"]) == (422, "invalid_argument")
    assert (undated.status_code, undated.json()["code"]) == (422, "invalid_argument")
    assert _case(api, case_id)["promises"] == []


# --- disputes ---------------------------------------------------------------------------------


def test_a_dispute_pauses_the_case_until_it_is_resolved(api: Api) -> None:
    book = seed_loans(api.db)
    case_id = book.case_of(book.loans[0])
    disputed = _outcome(
        api,
        case_id,
        code="dispute",
        at=shanghai(TODAY, 10).isoformat(),
        note="the borrower says the loan was repaid in cash",
    )
    assert disputed.status_code == 201, disputed.text
    assert disputed.json()["dispute_id"] is not None
    assert disputed.json()["case"]["paused"] == "dispute"
    steps = _case(api, case_id)["steps_taken"]

    # The path's next call falls on 27 February; paused, the case takes no step.
    close_book(api.db, through=dt.date(2026, 2, 28))
    paused = _case(api, case_id)
    assert (paused["paused"], paused["steps_taken"]) == ("dispute", steps)
    assert book.loans[0] not in [e["loan_id"] for e in _queue(api, book, shanghai(TODAY, 10))]

    resolved = _post(
        api,
        f"/v1/collections/cases/{case_id}/dispute-resolution",
        {"resolution": "the cash receipt is forged", "upheld": False},
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["resolution"] == "rejected: the cash receipt is forged"
    again = _post(
        api, f"/v1/collections/cases/{case_id}/dispute-resolution", {"resolution": "x", "upheld": 0}
    )
    assert again.status_code == 422

    # Rejected: the case resumes at the next close and takes its next step a week later.
    close_book(api.db, through=dt.date(2026, 3, 1))
    assert _case(api, case_id)["paused"] is None
    close_book(api.db, through=dt.date(2026, 3, 8))
    resumed = _case(api, case_id)
    assert resumed["steps_taken"] == steps + 1
    assert resumed["actions"][-1]["business_date"] == "2026-03-09"


def test_an_upheld_dispute_keeps_the_case_stopped(api: Api) -> None:
    book = seed_collections(api.db)
    case_id = book.case_of(book.loans[1])
    steps = _case(api, case_id)["steps_taken"]
    resolved = _post(
        api,
        f"/v1/collections/cases/{case_id}/dispute-resolution",
        {"resolution": "the repayment was misapplied", "upheld": True},
    )
    assert resolved.status_code == 200, resolved.text
    close_book(api.db, through=dt.date(2026, 3, 2))
    stopped = _case(api, case_id)
    assert (stopped["paused"], stopped["steps_taken"]) == ("dispute_upheld", steps)
    assert "dispute_upheld" in stopped["flags"]


def test_a_disputed_case_cannot_be_placed_with_an_agency(api: Api) -> None:
    book = seed_collections(api.db)
    placed = _post(
        api,
        f"/v1/collections/cases/{book.case_of(book.loans[1])}/placement",
        {"agency_id": book.agency},
    )
    assert (placed.status_code, placed.json()["code"]) == (422, "invalid_argument")
    assert "dispute" in placed.json()["detail"]


# --- agencies ---------------------------------------------------------------------------------


def test_an_agency_key_sees_and_works_only_its_placed_case(api: Api) -> None:
    book = seed_collections(api.db)
    a, _, c, _ = book.loans
    mine, other = book.case_of(c), book.case_of(a)
    agency = api.auth("agency", agency_id=book.agency)

    def get(path: str) -> Response:
        return api.client.get(path, headers=agency)

    cases = get("/v1/collections/cases").json()
    assert ([item["id"] for item in cases["items"]], cases["total"]) == ([mine], 1)
    assert get(f"/v1/collections/cases?agency_id={book.other_agency}").json()["items"] == []
    assert get(f"/v1/collections/cases/{mine}").status_code == 200
    assert get(f"/v1/collections/cases/{other}").status_code == 404
    assert [item["id"] for item in get("/v1/loans").json()["items"]] == [c]
    assert [item["id"] for item in get("/v1/borrowers").json()["items"]] == [book.borrowers[2]]
    assert get(f"/v1/loans/{a}").status_code == 404
    assert get(f"/v1/borrowers/{book.borrowers[0]}").status_code == 404
    assert [item["id"] for item in get("/v1/collections/agencies").json()["items"]] == [book.agency]
    assert get(f"/v1/collections/agencies/{book.other_agency}/statement").status_code == 404
    assert get(f"/v1/legal-cases/{book.legal}").status_code == 403
    assert get("/v1/collections/strategies").status_code == 403

    at = shanghai(TODAY, 10).isoformat()
    worked = api.client.post(
        f"/v1/collections/cases/{mine}/outcomes",
        json={"code": "no_answer", "at": at},
        headers=agency,
    )
    assert worked.status_code == 201, worked.text
    (recorded,) = _case(api, mine)["outcomes"]
    assert (recorded["agency_id"], recorded["collector_id"]) == (book.agency, None)
    as_collector = api.client.post(
        f"/v1/collections/cases/{mine}/outcomes",
        json={"code": "no_answer", "at": at, "collector_id": book.collector},
        headers=agency,
    )
    assert as_collector.status_code == 422
    elsewhere = api.client.post(
        f"/v1/collections/cases/{other}/outcomes",
        json={"code": "no_answer", "at": at},
        headers=agency,
    )
    assert elsewhere.status_code == 404
    assert _case(api, other)["outcomes"] == []

    # Recalled, the case leaves the agency's scope: its id is as unknown as any other.
    assert _post(api, f"/v1/collections/cases/{mine}/recall").status_code == 200
    assert get(f"/v1/collections/cases/{mine}").status_code == 404
    assert get(f"/v1/loans/{c}").status_code == 404
    assert get("/v1/collections/cases").json()["total"] == 0


def test_an_agency_statement_reconciles_to_the_cent(api: Api) -> None:
    book = seed_collections(api.db)
    a, _, c, _ = book.loans

    def pay(loan_id: int, amount: str, key: str) -> None:
        response = api.client.post(
            f"/v1/loans/{loan_id}/repayments",
            json={"amount": amount, "currency": "CNY", "value_date": TODAY.isoformat()},
            headers={**api.auth("agency", agency_id=book.agency), "Idempotency-Key": key}
            if loan_id == c
            else {**api.auth("collector"), "Idempotency-Key": key},
        )
        assert response.status_code == 201, response.text

    pay(c, "1234.57", "c-1")
    pay(c, "0.35", "c-2")
    pay(a, "500.00", "a-1")  # not placed: not the agency's
    statement = api.client.get(
        f"/v1/collections/agencies/{book.agency}/statement",
        headers=api.auth("agency", agency_id=book.agency),
    ).json()
    # 15% of 1234.57 is 185.1855 and of 0.35 is 0.0525: half-even to 185.19 and 0.05.
    assert [
        (line["loan_id"], line["collected"], line["commission"], line["net"])
        for line in sorted(statement["lines"], key=lambda line: Decimal(line["collected"]))
    ] == [(c, "0.35", "0.05", "0.30"), (c, "1234.57", "185.19", "1049.38")]
    assert (statement["collected"], statement["commission"], statement["net"]) == (
        "1234.92",
        "185.24",
        "1049.68",
    )
    for field in ("collected", "commission", "net"):
        assert sum(_cents(line[field]) for line in statement["lines"]) == _cents(statement[field])
    assert statement["through"] == TODAY.isoformat()
    assert _get(api, f"/v1/collections/agencies/{book.other_agency}/statement")["lines"] == []


def test_agencies_are_refused_commission_bands_the_close_could_not_use(api: Api) -> None:
    twice = {"name": "Twice", "commission": [{"min_dpd": 1, "rate": "0.1"}] * 2}
    fine = {"name": "Fine", "commission": [{"min_dpd": 1, "rate": "0.1234567"}]}
    for body in (twice, fine):
        response = _post(api, "/v1/collections/agencies", body)
        assert (response.status_code, response.json()["code"]) == (422, "invalid_argument")
    # PostgreSQL refuses NUL in text: a name holding one is bad input, not a server error.
    nul = {"name": "A\x00B", "commission": [{"min_dpd": 1, "rate": "0.1"}]}
    response = _post(api, "/v1/collections/agencies", nul)
    assert (response.status_code, response.json()["code"]) == (422, "invalid_text")
    assert _get(api, "/v1/collections/agencies")["items"] == []


# --- legal recovery ---------------------------------------------------------------------------


def _move(api: Api, legal: int, body: dict[str, Any]) -> Response:
    return _post(api, f"/v1/legal-cases/{legal}/transitions", body)


def test_legal_transitions_follow_the_state_machine(api: Api) -> None:
    book = seed_collections(api.db)
    path = f"/v1/legal-cases/{book.legal}"
    award = {"amount": "1200", "costs": "0", "interest": "0"}
    skipped = _move(api, book.legal, {"to": "judgment", "judgment": award})
    assert (skipped.status_code, skipped.json()["code"]) == (409, "invalid_transition")
    assert _get(api, path)["stage"] == "referred"

    assert _move(api, book.legal, {"to": "demand_letter", "on": "2026-02-21"}).status_code == 200
    preserve = _post(api, f"{path}/preservation", {"to": "requested"})
    assert preserve.status_code == 200, preserve.text
    assert _post(api, f"{path}/preservation", {"to": "granted"}).status_code == 200
    filed = _move(api, book.legal, {"to": "filed", "reference": "(2026)沪0115民初123号"})
    assert filed.status_code == 200
    assert _move(api, book.legal, {"to": "hearing"}).status_code == 200
    unawarded = _move(api, book.legal, {"to": "judgment"})
    assert (unawarded.status_code, unawarded.json()["code"]) == (422, "invalid_argument")
    closing = _move(api, book.legal, {"to": "closed"})
    assert (closing.status_code, closing.json()["code"]) == (409, "invalid_transition")
    assert "release" in closing.json()["detail"]
    assert _post(api, f"{path}/preservation", {"to": "released"}).status_code == 200
    assert _move(api, book.legal, {"to": "settlement", "note": "paid in full"}).status_code == 200
    closed = _move(api, book.legal, {"to": "closed"}).json()
    assert (closed["stage"], closed["closed_on"], closed["reference"]) == (
        "closed",
        TODAY.isoformat(),
        "(2026)沪0115民初123号",
    )
    assert [(e["kind"], e["from"], e["to"]) for e in closed["events"]] == [
        ("stage", None, "referred"),
        ("stage", "referred", "demand_letter"),
        ("preservation", "none", "requested"),
        ("preservation", "requested", "granted"),
        ("stage", "demand_letter", "filed"),
        ("stage", "filed", "hearing"),
        ("preservation", "granted", "released"),
        ("stage", "hearing", "settlement"),
        ("stage", "settlement", "closed"),
    ]
    after = _move(api, book.legal, {"to": "settlement"})
    assert (after.status_code, after.json()["code"]) == (409, "invalid_transition")


def test_a_document_is_stored_under_its_sha256(api: Api, documents: Path) -> None:
    book = seed_collections(api.db)
    content = "民事起诉状\n原告: 某银行\n".encode() * 1000
    uploaded = api.client.post(
        f"/v1/legal-cases/{book.legal}/documents",
        files={"file": ("../../起诉状.pdf", content, "application/pdf")},
        data={"kind": "filing"},
        headers=api.auth(),
    )
    assert uploaded.status_code == 201, uploaded.text
    digest = hashlib.sha256(content).hexdigest()
    assert uploaded.json() | {"id": 0} == {
        "id": 0,
        "name": "起诉状.pdf",
        "kind": "filing",
        "sha256": digest,
        "size": len(content),
    }
    stored = documents / digest[:2] / digest
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == digest
    legal = _get(api, f"/v1/legal-cases/{book.legal}")
    assert [d["sha256"] for d in legal["documents"]] == [digest]
    assert legal["events"][-1]["note"] == f"filing: 起诉状.pdf sha256 {digest}"
    unknown = api.client.post(
        "/v1/legal-cases/999/documents",
        files={"file": ("x.pdf", b"x", "application/pdf")},
        headers=api.auth(),
    )
    assert unknown.status_code == 404


def test_costs_are_charged_to_the_borrower_once_a_judgment_allows_it(api: Api) -> None:
    book = seed_collections(api.db)
    loan_d = book.loans[3]
    path = f"/v1/legal-cases/{book.legal}"
    fees_before = Decimal(api.loan(loan_d)["outstanding_fees"])
    court = _post(api, f"{path}/costs", {"kind": "court", "amount": "800", "note": "filing fee"})
    assert court.status_code == 201, court.text
    assert [c["charged"] for c in court.json()["costs"]] == [False]
    assert not [e for e in api.journal(loan_d) if e["kind"] == "charge-applied"]

    for stage in ("demand_letter", "filed", "hearing"):
        assert _move(api, book.legal, {"to": stage}).status_code == 200
    judgment = _move(
        api,
        book.legal,
        {
            "to": "judgment",
            "judgment": {
                "amount": "1263.78",
                "costs": "800",
                "interest": "35.50",
                "costs_to_borrower": True,
            },
        },
    )
    assert judgment.status_code == 200, judgment.text
    assert judgment.json()["judgment"] == {
        "amount": "1263.78",
        "costs": "800.00",
        "interest": "35.50",
        "costs_to_borrower": True,
    }
    lawyer = _post(api, f"{path}/costs", {"kind": "lawyer", "amount": "150.50"}).json()
    costs = lawyer["costs"]
    assert [(c["kind"], c["amount"], c["charged"]) for c in costs] == [
        ("court", "800.00", True),
        ("lawyer", "150.50", True),
    ]
    charges = {e["event_id"]: e for e in api.journal(loan_d) if e["kind"] == "charge-applied"}
    assert set(charges) == {c["charge_event_id"] for c in costs}
    assert sorted((e["charge_kind"], e["amount"]["amount"]) for e in charges.values()) == [
        ("fee", "150.50"),
        ("fee", "800.00"),
    ]
    assert Decimal(api.loan(loan_d)["outstanding_fees"]) - fees_before == Decimal("950.50")


# --- strategies -------------------------------------------------------------------------------


def test_a_bad_strategy_is_refused_with_its_errors_and_nothing_is_saved(api: Api) -> None:
    seed_loans(api.db)
    finer_than_a_cent = {**DEFAULT_STRATEGY, "costs": {"call": "0.001"}}
    unknown_action = {
        **DEFAULT_STRATEGY,
        "segments": [{"name": "all", "min_dpd": 1, "champion": [{"action": "pigeon"}]}],
    }
    for document in (finer_than_a_cent, unknown_action, {"name": "Bad Name!", "segments": []}):
        refused = _post(api, "/v1/collections/strategies", document, role="risk")
        assert refused.status_code == 422, refused.text
        assert refused.json()["code"] == "validation_error"
        assert refused.json()["errors"]
    listed = _get(api, "/v1/collections/strategies")
    assert listed["items"] == []
    assert (listed["in_force"]["name"], listed["in_force"]["version"]) == ("standard", 0)

    saved = _post(api, "/v1/collections/strategies", DEFAULT_STRATEGY, role="risk")
    assert saved.status_code == 201, saved.text
    assert (saved.json()["version"], saved.json()["in_force"]) == (1, True)
    again = _post(api, "/v1/collections/strategies", DEFAULT_STRATEGY, role="risk").json()
    listed = _get(api, "/v1/collections/strategies")
    assert [(i["version"], i["in_force"]) for i in listed["items"]] == [(2, True), (1, False)]
    assert listed["in_force"]["version"] == again["version"] == 2


def test_the_close_places_a_case_only_with_an_agency_that_has_a_rate_for_it(api: Api) -> None:
    book = seed_loans(api.db)
    # Straight to an agency from the first day; the roomier agency takes cases from 91 days.
    strategy = {
        "name": "agency-first",
        "segments": [{"name": "all", "min_dpd": 1, "champion": [{"action": "agency"}]}],
    }
    assert _post(api, "/v1/collections/strategies", strategy, role="risk").status_code == 201
    late = _post(
        api,
        "/v1/collections/agencies",
        {"name": "Late Only", "commission": [{"min_dpd": 91, "rate": "0.3"}], "capacity": 10**6},
    )
    assert late.status_code == 201, late.text
    close_book(api.db, date=TODAY)
    placed = {
        case["agency_id"] for case in _get(api, "/v1/collections/cases", status="open")["items"]
    }
    assert placed == {book.agency, book.other_agency}


# --- write-off and recovery -------------------------------------------------------------------


def test_a_write_off_and_a_recovery_go_through_the_journal(api: Api) -> None:
    book = seed_loans(api.db)
    a, b, _, _ = book.loans
    case_id = book.case_of(a)
    written = _post(api, f"/v1/collections/cases/{case_id}/write-off")
    assert written.status_code == 201, written.text
    assert written.json()["loan"]["status"] == "written-off"
    assert (_case(api, case_id)["status"], _case(api, case_id)["close_reason"]) == (
        "closed",
        "written_off",
    )
    twice = _post(api, f"/v1/collections/cases/{case_id}/write-off")
    assert (twice.status_code, twice.json()["code"]) == (409, "case_closed")

    def recover(loan_id: int, amount: str, key: str, currency: str = "CNY") -> Response:
        return api.client.post(
            f"/v1/loans/{loan_id}/recoveries",
            json={"amount": amount, "currency": currency},
            headers={**api.auth("collector"), "Idempotency-Key": key},
        )

    first = recover(a, "500.00", "recovery-1")
    assert first.status_code == 201, first.text
    replay = recover(a, "500", "recovery-1")
    assert replay.status_code == 200
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["event_id"] == first.json()["event_id"]
    conflict = recover(a, "600", "recovery-1")
    assert (conflict.status_code, conflict.json()["code"]) == (409, "idempotency_conflict")
    dollars = recover(a, "5", "recovery-2", currency="USD")
    assert (dollars.status_code, dollars.json()["code"]) == (422, "currency_mismatch")
    not_written_off = recover(b, "5", "recovery-3")
    assert (not_written_off.status_code, not_written_off.json()["code"]) == (
        422,
        "invalid_argument",
    )

    journal = api.journal(a)
    assert [e["kind"] for e in journal][-2:] == ["written-off", "recovered"]
    assert journal[-1]["event_id"] == first.json()["event_id"]
    assert journal[-1]["amount"] == {"amount": "500.00", "currency": "CNY"}
    assert api.loan(a)["recovered"] == "500.00"


# --- reports ----------------------------------------------------------------------------------


def test_the_reports_read_what_the_collectors_recorded(api: Api) -> None:
    book = seed_collections(api.db)
    taken = _outcome(
        api,
        book.case_of(book.loans[0]),
        code="promise_to_pay",
        at=shanghai(TODAY, 10).isoformat(),
        amount="100",
        promise_date="2026-02-25",
        collector_id=book.collector,
    )
    assert taken.status_code == 201, taken.text
    report = _get(api, "/v1/reports/collections", role="auditor")
    assert report["cases"]["opened"] == 4
    assert report["promises"]["made"] == 1
    (collector,) = report["collectors"]
    assert (collector["collector_id"], collector["promises"], collector["contacts"]) == (
        book.collector,
        1,
        2,  # the dispute recorded by the book, and this promise
    )
    assert [agency["open"] for agency in report["agencies"]] == [1, 0]
    strategies = _get(api, "/v1/reports/strategies", role="risk")
    assert [s["segment"] for s in strategies["segments"]] == ["first-payment-default"]
    assert strategies["segments"][0]["arms"]["champion"]["cases"] == 4
