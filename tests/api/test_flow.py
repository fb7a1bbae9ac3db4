"""A loan's whole life through the API, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from tenor.store.journal import set_business_date
from tests.api.conftest import BUSINESS_DATE, Api

PRODUCT = {"currency": "CNY", "annual_rate_percent": "18", "terms": [3, 6, 12]}


def _created(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    document: dict[str, Any] = response.json()
    return document


def test_a_loan_from_application_to_waiver(api: Api) -> None:
    with api.db.transaction() as session:
        set_business_date(session, BUSINESS_DATE)
    client, admin = api.client, api.auth()
    borrower = _created(
        client.post(
            "/v1/borrowers",
            headers=admin,
            json={
                "kind": "individual",
                "name": "王芳",
                "national_id": "110101199003071234",
                "phones": ["13800138000"],
                "email": "wang.fang@example.cn",
                "consents": {"sms_reminders": True},
            },
        )
    )
    product = _created(
        client.post(
            "/v1/products",
            headers=admin,
            json={"code": "consumer", "name": "Consumer credit line", "config": PRODUCT},
        )
    )
    loan = _created(
        client.post(
            "/v1/loans",
            headers=admin,
            json={
                "borrower_id": borrower["id"],
                "product_id": product["id"],
                "principal": "6000",
                "currency": "CNY",
                "term": 6,
                "start_date": "2026-01-15",
            },
        )
    )
    loan_id = loan["id"]
    assert (loan["status"], loan["principal"], loan["disbursed"]) == ("pending", "6000.00", "0.00")

    approved = client.post(f"/v1/loans/{loan_id}/approve", headers=admin)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"

    disbursed = _created(
        client.post(
            f"/v1/loans/{loan_id}/disbursements",
            headers={**admin, "Idempotency-Key": "disburse-1"},
            json={"value_date": "2026-01-15"},
        )
    )
    assert (disbursed["loan"]["status"], disbursed["loan"]["disbursed"]) == ("active", "6000.00")

    def post(path: str, key: str, body: dict[str, Any]) -> dict[str, Any]:
        return _created(
            client.post(
                f"/v1/loans/{loan_id}/{path}", headers={**admin, "Idempotency-Key": key}, json=body
            )
        )

    paid = post(
        "repayments",
        "pay-1",
        {
            "amount": "1053.15",
            "currency": "CNY",
            "value_date": "2026-02-15",
            "channel": "bank-transfer",
            "external_reference": "BANK-0001",
        },
    )
    assert paid["loan"]["outstanding_principal"] == "5036.85"
    bounced = post(
        "repayments", "pay-2", {"amount": "500", "currency": "CNY", "value_date": "2026-02-20"}
    )
    assert bounced["loan"]["repaid"] == "1553.15"
    reversed_ = post(f"events/{bounced['event_id']}/reversal", "reverse-1", {})
    assert reversed_["loan"]["repaid"] == "1053.15"
    post(
        "charges",
        "charge-1",
        {"kind": "late-fee", "amount": "30", "currency": "CNY", "value_date": "2026-02-25"},
    )
    waived = post(
        "waivers",
        "waive-1",
        {"component": "penalty", "amount": "10.00", "currency": "CNY", "value_date": "2026-02-26"},
    )

    document = api.loan(loan_id)
    assert document == waived["loan"]
    assert {
        key: document[key]
        for key in (
            "status",
            "currency",
            "disbursed",
            "repaid",
            "outstanding_principal",
            "outstanding_penalties",
            "days_past_due",
            "bucket",
            "classification",
            "ifrs9_stage",
            "business_date",
            "next_due_date",
        )
    } == {
        "status": "active",
        "currency": "CNY",
        "disbursed": "6000.00",
        "repaid": "1053.15",
        "outstanding_principal": "5036.85",
        "outstanding_penalties": "20.00",
        "days_past_due": 0,
        "bucket": "M0",
        "classification": "normal",
        "ifrs9_stage": 1,
        "business_date": "2026-03-01",
        "next_due_date": "2026-03-15",
    }

    schedule = client.get(f"/v1/loans/{loan_id}/schedule", headers=admin).json()
    first, second = schedule["installments"][:2]
    assert (first["settled_on"], first["paid"], first["unpaid"]) == (
        "2026-02-15",
        "1053.15",
        "0.00",
    )
    assert (second["due_date"], second["penalty"], second["waived"]) == (
        "2026-03-15",
        "30.00",
        "10.00",
    )
    assert len(schedule["installments"]) == 6

    events = api.journal(loan_id)
    assert [(event["kind"], event.get("amount", {}).get("amount")) for event in events] == [
        ("disbursed", "6000.00"),
        ("repayment-received", "1053.15"),
        ("repayment-received", "500.00"),
        ("reversed", None),
        ("charge-applied", "30.00"),
        ("waived", "10.00"),
    ]
    assert (events[1]["channel"], events[1]["external_reference"]) == ("bank-transfer", "BANK-0001")
    assert events[3]["target"] == bounced["event_id"]
    assert (events[4]["charge_kind"], events[5]["component"]) == ("late-fee", "penalty")
    assert {event["actor"] for event in events} == {f"key:{api.key('admin')[4:20]}"}


def test_lists_filter_and_page(api: Api) -> None:
    with api.db.transaction() as session:
        set_business_date(session, BUSINESS_DATE)
    client, admin = api.client, api.auth()
    product = _created(
        client.post(
            "/v1/products", headers=admin, json={"code": "c", "name": "C", "config": PRODUCT}
        )
    )
    names = ["张伟", "张敏", "Li Na", "Zhang Industrial Co."]
    borrowers = [
        _created(
            client.post(
                "/v1/borrowers",
                headers=admin,
                json={"kind": "enterprise" if "Co." in name else "individual", "name": name},
            )
        )["id"]
        for name in names
    ]
    loan_ids = [
        _created(
            client.post(
                "/v1/loans",
                headers=admin,
                json={
                    "borrower_id": borrower,
                    "product_id": product["id"],
                    "principal": "3000",
                    "currency": "CNY",
                    "term": 3,
                    "start_date": "2025-12-01",
                },
            )
        )["id"]
        for borrower in borrowers
    ]
    for loan_id in loan_ids[:3]:
        assert client.post(f"/v1/loans/{loan_id}/approve", headers=admin).status_code == 200
    for loan_id in loan_ids[:2]:
        _created(
            client.post(
                f"/v1/loans/{loan_id}/disbursements",
                headers=admin,
                json={"value_date": "2025-12-01"},
            )
        )

    def loans(**query: Any) -> tuple[list[int], int]:
        response = client.get("/v1/loans", headers=admin, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        return [item["id"] for item in page["items"]], page["total"]

    # Nothing paid since December: both disbursed loans are 60 days past due on 1 March.
    assert loans(status="active") == (loan_ids[:2], 2)
    assert loans(status="approved") == ([loan_ids[2]], 1)
    assert loans(status="pending") == ([loan_ids[3]], 1)
    assert loans(bucket="M2", min_dpd=31, max_dpd=60) == (loan_ids[:2], 2)
    assert loans(min_dpd=61) == ([], 0)
    assert loans(product_id=product["id"], offset=1, limit=2) == (loan_ids[1:3], 4)
    assert loans(product_id=product["id"] + 1) == ([], 0)

    def borrower_page(**query: Any) -> tuple[list[str], int]:
        page = client.get("/v1/borrowers", headers=admin, params=query).json()
        return [item["name"] for item in page["items"]], page["total"]

    assert borrower_page(name="张") == (["张伟", "张敏"], 2)
    assert borrower_page(name="zhang") == (["Zhang Industrial Co."], 1)
    assert borrower_page(kind="individual", offset=1, limit=1) == (["张敏"], 3)
    assert borrower_page(name="%") == ([], 0)  # a LIKE wildcard is a plain character here
    products = client.get("/v1/products", headers=admin, params={"code": "c"}).json()
    assert (products["total"], products["items"][0]["config"]["terms"]) == (1, [3, 6, 12])


def test_contact_preferences_change_and_merge(api: Api) -> None:
    client, admin = api.client, api.auth()
    borrower = _created(
        client.post(
            "/v1/borrowers",
            headers=admin,
            json={"kind": "individual", "name": "赵磊", "consents": {"marketing": True}},
        )
    )
    response = client.patch(
        f"/v1/borrowers/{borrower['id']}/contact-preferences",
        headers=admin,
        json={
            "phones": ["13700137000"],
            "time_zone": "Asia/Hong_Kong",
            "locale": "en",
            "preferred_channels": ["email", "push"],
            "consents": {"bureau_reporting": True, "marketing": False},
            "opt_outs": ["voice"],
        },
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert {key: updated[key] for key in ("phones", "time_zone", "locale", "opt_outs")} == {
        "phones": ["13700137000"],
        "time_zone": "Asia/Hong_Kong",
        "locale": "en",
        "opt_outs": ["voice"],
    }
    assert updated["consents"] == {"marketing": False, "bureau_reporting": True}
    assert client.get(f"/v1/borrowers/{borrower['id']}", headers=admin).json() == updated
    bad = client.patch(
        f"/v1/borrowers/{borrower['id']}/contact-preferences",
        headers=admin,
        json={"time_zone": "Mars/Olympus_Mons"},
    )
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_argument")
    assert client.get(f"/v1/borrowers/{borrower['id']}", headers=admin).json() == updated


def test_a_loan_disbursed_in_tranches(api: Api) -> None:
    with api.db.transaction() as session:
        set_business_date(session, BUSINESS_DATE)
    client, admin = api.client, api.auth()
    borrower = _created(
        client.post("/v1/borrowers", headers=admin, json={"kind": "enterprise", "name": "Acme"})
    )
    product = _created(
        client.post(
            "/v1/products", headers=admin, json={"code": "p", "name": "P", "config": PRODUCT}
        )
    )
    loan_id = _created(
        client.post(
            "/v1/loans",
            headers=admin,
            json={
                "borrower_id": borrower["id"],
                "product_id": product["id"],
                "principal": "6000",
                "currency": "CNY",
                "term": 6,
                "start_date": "2026-01-15",
            },
        )
    )["id"]
    client.post(f"/v1/loans/{loan_id}/approve", headers=admin)
    first = _created(
        client.post(
            f"/v1/loans/{loan_id}/disbursements",
            headers=admin,
            json={"amount": "4000", "currency": "CNY", "value_date": "2026-01-15"},
        )
    )
    assert first["loan"]["disbursed"] == "4000.00"
    rest = _created(
        client.post(
            f"/v1/loans/{loan_id}/disbursements", headers=admin, json={"value_date": "2026-02-01"}
        )
    )
    assert rest["loan"]["disbursed"] == "6000.00"
    more = client.post(
        f"/v1/loans/{loan_id}/disbursements",
        headers=admin,
        json={"amount": "1", "currency": "CNY", "value_date": "2026-02-01"},
    )
    assert (more.status_code, more.json()["code"]) == (422, "invalid_argument")
    assert [event["kind"] for event in api.journal(loan_id)] == ["disbursed", "disbursed"]


def test_service_pages_and_headers(api: Api) -> None:
    client = api.client
    schema = client.get("/openapi.json")
    assert schema.status_code == 200
    assert "/v1/loans/{loan_id}/repayments" in schema.json()["paths"]
    assert client.get("/docs").status_code == 200
    answered = client.get("/v1/loans", headers={**api.auth(), "X-Request-ID": "req-42"})
    assert answered.headers["X-Request-ID"] == "req-42"
    assert answered.headers["X-Content-Type-Options"] == "nosniff"
    generated = client.get(
        "/v1/loans", headers={**api.auth(), "X-Request-ID": "bad id; with {braces}"}
    )
    assert len(generated.headers["X-Request-ID"]) == 32
    missing = client.get("/v1/nothing-here")
    assert (missing.status_code, missing.headers["content-type"]) == (
        404,
        "application/problem+json",
    )
    assert missing.json()["code"] == "not_found"
    metrics = client.get("/metrics").text
    assert 'tenor_http_requests_total{method="GET",route="/v1/loans",status="200"} 2.0' in metrics
    assert 'route="unmatched",status="404"' in metrics
    assert "tenor_http_request_duration_seconds_bucket" in metrics
