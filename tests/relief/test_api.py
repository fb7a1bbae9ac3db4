"""The relief API on SQLite and PostgreSQL: a borrower asks, accepts, and a second person
approves; scope, maker-checker and bad input answer problem documents and change nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tenor.actions import loans
from tenor.actions.borrowers import create_borrower
from tenor.core.money import Money
from tenor.store.journal import set_business_date
from tenor.store.models import Loan
from tests.api.conftest import Api
from tests.builders import START, seed_loan

DAY = dt.date(2026, 4, 1)


def setup(api: Api) -> tuple[int, int, int]:
    loan_id = seed_loan(api.db, business_date=DAY)
    loans.post_repayment(
        api.db, loan_id, amount=Money.of("1053.15", "CNY"), value_date=dt.date(2026, 2, 15)
    )
    with api.db.transaction() as session:
        set_business_date(session, DAY)
        loan = session.get(Loan, loan_id)
        assert loan is not None
        return loan_id, loan.borrower_id, loan.product_id


def problem(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


def test_a_borrower_asks_accepts_and_a_second_person_approves(api: Api) -> None:
    loan_id, borrower_id, product_id = setup(api)
    client, me = api.client, api.auth("borrower", borrower_id=borrower_id)
    score = {"score": 640, "source": "champion-v1", "as_of": "2026-03-31"}
    answer = client.post(
        f"/v1/borrowers/{borrower_id}/credit-scores", headers=api.auth("risk"), json=score
    )
    assert answer.status_code == 201, answer.text
    policy = {"currency": "CNY", "approval_above": "1000", "always_approve": []}
    answer = client.put(
        f"/v1/products/{product_id}/relief-policy", headers=api.auth("risk"), json=policy
    )
    assert answer.json()["version"] == 1
    options = client.get(f"/v1/loans/{loan_id}/relief/options", headers=me).json()["options"]
    assert {o["type"] for o in options if o["eligible"]} >= {"deferral", "arrears-plan"}
    body = {"reason": "生病住院", "options": [{"type": "deferral", "installments": 3}]}
    answer = client.post(f"/v1/loans/{loan_id}/relief/requests", headers=me, json=body)
    assert answer.status_code == 201, answer.text
    request = answer.json()
    assert (request["channel"], request["status"]) == ("self-service", "offered")
    (offer,) = request["offers"]
    assert offer["parameters"] == {
        "option": "deferral",
        "installments": 3,
        "interest": "capitalise",
    }
    assert offer["needs_approval"] is True
    accepted = client.post(f"/v1/relief/offers/{offer['id']}/accept", headers=me)
    assert accepted.json()["status"] == "accepted"
    journal = api.journal(loan_id)
    problem(client.post(f"/v1/relief/offers/{offer['id']}/approve", headers=me), 403, "forbidden")
    approved = client.post(f"/v1/relief/offers/{offer['id']}/approve", headers=api.auth("risk"))
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "applied"
    events = api.journal(loan_id)
    assert len(events) == len(journal) + 1
    restructured = events[-1]
    assert restructured["kind"] == "restructured"
    assert restructured["option"] == "deferral"
    assert restructured["event_id"] == approved.json()["event_id"]
    document = api.loan(loan_id)
    assert (document["classification_zh"], document["ifrs9_stage"]) == ("关注", 2)
    relief = client.get(f"/v1/loans/{loan_id}/relief", headers=me).json()
    assert relief["under_watch"] is True
    assert relief["open"]["kind"] == "plan"


def test_maker_checker_scope_and_bad_input_change_nothing(api: Api) -> None:
    loan_id, borrower_id, product_id = setup(api)
    client, risk = api.client, api.auth("risk")
    client.post(
        f"/v1/borrowers/{borrower_id}/credit-scores",
        headers=risk,
        json={"score": 700, "source": "bureau", "as_of": "2026-03-01"},
    )
    collector = api.auth("collector")
    settle = {"type": "settlement", "discount_percent": "10", "deadline": "2026-04-30"}
    request = client.post(
        f"/v1/loans/{loan_id}/relief/requests", headers=collector, json={"options": [settle]}
    ).json()
    (offer,) = request["offers"]
    assert offer["needs_approval"] is True  # the default policy: a settlement always
    before = api.journal(loan_id)
    with api.db.transaction() as session:
        stranger = create_borrower(
            session, kind="individual", name="李娜", national_id="310101198805051234"
        )
        other = loans.create_loan(
            session,
            borrower_id=stranger.id,
            product_id=product_id,
            principal=Money.of("3000", "CNY"),
            term=3,
            start=START,
        ).id
    me = api.auth("borrower", borrower_id=borrower_id)
    problem(client.get(f"/v1/loans/{other}/relief/options", headers=me), 404, "not_found")
    problem(
        client.post(f"/v1/relief/offers/{offer['id']}/accept", headers=api.auth("auditor")),
        403,
        "forbidden",
    )
    requests, offers = (
        f"/v1/loans/{loan_id}/relief/requests",
        f"/v1/relief/requests/{request['id']}/offers",
    )
    deferral = {"type": "deferral", "installments": 9}
    cheap = {"type": "lower-rate", "annual_rate_percent": "50"}
    late = {"score": 700, "source": "x", "as_of": "2030-01-01"}
    bad = [
        (requests, {"options": [{"type": "holiday"}]}, "validation_error"),
        (requests, {"monthly_income": "100"}, "invalid_argument"),
        (offers, {"options": [deferral]}, "not_eligible"),
        (offers, {"options": [cheap]}, "not_eligible"),
        (f"/v1/borrowers/{borrower_id}/credit-scores", late, "invalid_argument"),
    ]
    for path, body, code in bad:
        answer = client.post(path, headers=api.auth(), json=body)
        problem(answer, 422, code)
    problem(
        client.get(f"/v1/loans/{loan_id}/relief/options?date=2025-01-01", headers=risk),
        422,
        "invalid_value_date",
    )
    assert api.journal(loan_id) == before
    # The risk officer offers again on the request and accepts: they may not approve.
    again = client.post(
        f"/v1/relief/requests/{request['id']}/offers", headers=risk, json={"options": [settle]}
    )
    assert again.status_code == 201, again.text
    mine = again.json()["offers"][-1]
    assert (
        client.post(f"/v1/relief/offers/{mine['id']}/accept", headers=collector).status_code == 200
    )
    problem(
        client.post(f"/v1/relief/offers/{mine['id']}/approve", headers=risk),
        422,
        "approver_is_maker",
    )


def test_a_relief_policy_with_a_limit_beyond_its_ceiling_is_refused_and_changes_nothing(
    api: Api,
) -> None:
    """A count or day limit past its ceiling (here one JSON could not carry exactly, found by
    Schemathesis as a 500) is a 422; the policy in force stays."""
    _, _, product_id = setup(api)
    client, risk = api.client, api.auth("risk")
    path = f"/v1/products/{product_id}/relief-policy"
    assert client.put(path, headers=risk, json={"currency": "CNY"}).json()["version"] == 1
    for field, value in (
        ("max_score_age_days", 15015512234313098723328),
        ("max_days_past_due", 3661),
        ("max_restructurings_12m", 101),
        ("max_restructurings_ever", 2**53 + 1),
    ):
        problem(
            client.put(path, headers=risk, json={"currency": "CNY", field: value}),
            422,
            "validation_error",
        )
    assert client.get(path, headers=risk).json()["version"] == 1
