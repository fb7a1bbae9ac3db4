"""Every role against every endpoint: allowed, refused (403) or out of scope (404).

The table is the permission table of ``tenor.api.roles`` written out per endpoint. Each row is
one request made with each role's key against a fresh book: A is the borrower whose key the
borrower role holds, B another borrower.
"""

from __future__ import annotations

from typing import Any, Final, NamedTuple

import pytest

from tenor.actions import relief
from tenor.actions.borrowers import update_contact_preferences
from tenor.api import roles
from tenor.api.roles import PERMISSIONS, Permission, Role
from tenor.collect.strategy import DEFAULT_STRATEGY
from tenor.store.reads import mask
from tests.api.conftest import Api, Book, seed_book
from tests.builders import seed_relief
from tests.collect.book import TODAY, CollectionsBook, seed_collections, shanghai

ROLES: Final = [role.value for role in Role]
PAY = {"amount": "10", "currency": "CNY", "value_date": "2026-02-15"}


class Row(NamedTuple):
    """One request and the status each role gets, in the order of ROLES."""

    method: str
    path: str  # {a}, {b}: borrowers; {la}, {lb}: their loans; {pending}, {approved}, {event}
    body: dict[str, Any] | None
    # admin, risk, collector, agency, auditor, borrower
    expect: tuple[int, int, int, int, int, int]


LOAN = {
    "borrower_id": 0,  # filled in: borrower A
    "product_id": 0,  # filled in
    "principal": "3000",
    "currency": "CNY",
    "term": 3,
    "start_date": "2026-02-01",
}

ALL_READ = (200, 200, 200, 404, 200, 200)  # every role but an agency (nothing placed)
OTHERS_READ = (200, 200, 200, 404, 200, 404)  # ... and not borrower B's key: A's only
ADMIN_WRITE = (201, 403, 403, 403, 403, 403)
PRODUCT = {"code": "p2", "name": "P2", "config": {"currency": "CNY", "annual_rate_percent": "9"}}
OPT_OUT = {"opt_outs": ["voice"]}
WAIVER = {**PAY, "component": "penalty", "value_date": "2026-02-25"}
SCORE = {"score": 700, "source": "bureau", "as_of": "2026-02-01"}
POLICY = {"currency": "CNY", "min_credit_score": 650}
RISK_SCORE = {"model": "pd-none", "applicants": [{"age": 30}]}
RISK_READ = (200, 200, 200, 403, 200, 403)
RISK_WRITE = (200, 200, 403, 403, 403, 403)
COVENANTS = {"covenants": [{"indicator": "dscr", "minimum": "1.2"}]}
PROFILE = {"dataset": "credit-data", "characteristics": {"Age": 30}}

TABLE: Final = [
    # borrowers
    Row("POST", "/v1/borrowers", {"kind": "individual", "name": "N"}, ADMIN_WRITE),
    Row("GET", "/v1/borrowers/{a}", None, ALL_READ),
    Row("GET", "/v1/borrowers/{b}", None, OTHERS_READ),
    Row("GET", "/v1/borrowers", None, (200, 200, 200, 200, 200, 200)),
    Row("PATCH", "/v1/borrowers/{a}/contact-preferences", OPT_OUT, (200, 403, 200, 404, 403, 200)),
    Row("PATCH", "/v1/borrowers/{b}/contact-preferences", OPT_OUT, (200, 403, 200, 404, 403, 404)),
    # products
    Row("POST", "/v1/products", PRODUCT, (201, 201, 403, 403, 403, 403)),
    Row("GET", "/v1/products/{product}", None, (200, 200, 200, 403, 200, 403)),
    Row("GET", "/v1/products", None, (200, 200, 200, 403, 200, 403)),
    # origination
    Row("POST", "/v1/loans", LOAN, ADMIN_WRITE),
    Row("POST", "/v1/loans/{pending}/approve", None, (200, 403, 403, 403, 403, 403)),
    Row("POST", "/v1/loans/{approved}/disbursements", {"value_date": "2026-01-15"}, ADMIN_WRITE),
    # reads
    Row("GET", "/v1/loans/{la}", None, ALL_READ),
    Row("GET", "/v1/loans/{lb}", None, OTHERS_READ),
    Row("GET", "/v1/loans/{la}/schedule", None, ALL_READ),
    Row("GET", "/v1/loans/{lb}/schedule", None, OTHERS_READ),
    Row("GET", "/v1/loans/{la}/journal", None, ALL_READ),
    Row("GET", "/v1/loans/{lb}/journal", None, OTHERS_READ),
    Row("GET", "/v1/loans", None, (200, 200, 200, 200, 200, 200)),
    # relief, before servicing changes the loans it was offered on: {request} and {offer} are
    # loan A's (a term extension, open); {approval} is loan B's settlement, accepted and
    # waiting for a second person
    Row("GET", "/v1/loans/{la}/relief/options", None, ALL_READ),
    Row("GET", "/v1/loans/{lb}/relief/options", None, OTHERS_READ),
    Row("GET", "/v1/loans/{la}/relief", None, ALL_READ),
    Row("GET", "/v1/relief/requests/{request}", None, ALL_READ),
    Row("POST", "/v1/relief/requests/{request}/offers", {}, (201, 201, 201, 403, 403, 403)),
    Row("POST", "/v1/relief/offers/{offer}/accept", None, (200, 403, 200, 403, 403, 200)),
    Row("POST", "/v1/relief/offers/{approval}/approve", None, (200, 200, 403, 403, 403, 403)),
    Row("POST", "/v1/loans/{la}/relief/requests", {}, (201, 403, 201, 403, 403, 201)),
    Row("POST", "/v1/loans/{lb}/relief/requests", {}, (201, 403, 201, 403, 403, 404)),
    Row("POST", "/v1/borrowers/{a}/credit-scores", SCORE, (201, 201, 403, 403, 403, 403)),
    Row("GET", "/v1/products/{product}/relief-policy", None, (200, 200, 200, 403, 200, 403)),
    Row("PUT", "/v1/products/{product}/relief-policy", POLICY, (200, 200, 403, 403, 403, 403)),
    # servicing: a borrower's key is refused (403) before its scope is looked at
    Row("POST", "/v1/loans/{la}/repayments", PAY, (201, 403, 201, 404, 403, 403)),
    Row("POST", "/v1/loans/{lb}/repayments", PAY, (201, 403, 201, 404, 403, 403)),
    Row("POST", "/v1/loans/{la}/events/{event}/reversal", None, ADMIN_WRITE),
    Row("POST", "/v1/loans/{la}/charges", {**PAY, "kind": "fee"}, ADMIN_WRITE),
    Row("POST", "/v1/loans/{la}/waivers", WAIVER, ADMIN_WRITE),
    # the transparency log: no tree head is signed yet, so receipts and proofs are not ready
    Row("GET", "/v1/audit/tree-heads", None, (200, 200, 200, 200, 200, 200)),
    Row("GET", "/v1/audit/proofs/consistency?first=0&second=0", None, (200,) * 6),
    Row("GET", "/v1/audit/proofs/inclusion?event={event}", None, (409, 409, 409, 404, 409, 409)),
    Row("GET", "/v1/loans/{la}/repayments/{event}/receipt", None, (409, 409, 409, 404, 409, 409)),
    Row("GET", "/v1/loans/{lb}/repayments/{event}/receipt", None, (404,) * 6),
    # risk: no champion is registered in this book, so a permitted scoring call is a 404
    Row("POST", "/v1/risk/score", RISK_SCORE, (404, 404, 403, 403, 403, 403)),
    Row("GET", "/v1/risk/watchlist", None, (200, 200, 200, 403, 200, 403)),
    Row("GET", "/v1/risk/loans/{la}/covenants", None, RISK_READ),
    Row("PUT", "/v1/risk/loans/{la}/covenants", COVENANTS, RISK_WRITE),
    Row("GET", "/v1/risk/tasks", None, RISK_READ),
    # no statement was ingested, so there is no task to complete
    Row("POST", "/v1/risk/tasks/{task}/complete", {}, (404, 404, 403, 403, 403, 403)),
    Row("PUT", "/v1/risk/borrowers/{a}/profile", PROFILE, RISK_WRITE),
    Row("GET", "/v1/risk/borrowers/{a}/score", None, (404, 404, 403, 403, 403, 403)),
    Row("GET", "/v1/risk/loans/{la}/propensity", None, (404, 404, 404, 403, 404, 403)),
    # notifications: the outbox for staff; the provider's callback answers 403 without its signature
    Row("GET", "/v1/notifications", None, (200, 200, 200, 403, 200, 403)),
    Row("POST", "/v1/notify/sms/status", None, (403,) * 6),
]

CODES: Final = {
    403: "forbidden",
    404: "not_found",
    409: "receipt_not_ready",
    422: "invalid_argument",
}

# Collections, on the book of tests.collect.book: {ca} is loan A's case (in house), {cb} loan
# B's (disputed), {cc} loan C's (placed with {agency}, the agency the agency key belongs to),
# {legal} loan D's legal case; {other} is another agency. The borrower key is borrower A's.
CALL = {"code": "no_answer", "channel": "call", "at": shanghai(TODAY, 10).isoformat()}
COLLECTOR = {"name": "李强", "team": "early", "languages": ["zh-CN"]}
AGENCY = {"name": "Gamma", "commission": [{"min_dpd": 1, "rate": "0.1"}]}
DOCUMENT: Final[dict[str, Any]] = {}  # a multipart upload, not JSON
READERS = (200, 200, 200, 200, 200, 403)  # collections:read; an agency within its scope
STAFF_READERS = (200, 200, 200, 404, 200, 403)  # ... a row outside the agency's scope
WHOLE_BOOK = (200, 200, 200, 403, 200, 403)  # ... a read of the whole book
MANAGE = (200, 403, 403, 403, 403, 403)
MANAGE_NEW = (201, 403, 403, 403, 403, 403)
REPORTS = (200, 200, 403, 403, 200, 403)

COLLECTIONS: Final = [
    Row("GET", "/v1/collections/queue?collector_id={collector}", None, WHOLE_BOOK),
    Row("GET", "/v1/collections/cases", None, READERS),
    Row("GET", "/v1/collections/cases/{cc}", None, READERS),
    Row("GET", "/v1/collections/cases/{ca}", None, STAFF_READERS),
    # an agency reads the loans and borrowers of its placed cases
    Row("GET", "/v1/loans/{llc}", None, (200, 200, 200, 200, 200, 404)),
    Row("GET", "/v1/borrowers/{bc}", None, (200, 200, 200, 200, 200, 404)),
    Row("GET", "/v1/loans/{lla}", None, (200, 200, 200, 404, 200, 200)),
    Row("POST", "/v1/collections/cases/{cc}/outcomes", CALL, (201, 403, 201, 201, 403, 403)),
    Row("POST", "/v1/collections/cases/{ca}/outcomes", CALL, (201, 403, 201, 404, 403, 403)),
    Row(
        "POST",
        "/v1/collections/cases/{cb}/dispute-resolution",
        {"resolution": "the debt is owed", "upheld": False},
        MANAGE,
    ),
    Row("GET", "/v1/collections/strategies", None, WHOLE_BOOK),
    Row("POST", "/v1/collections/strategies", DEFAULT_STRATEGY, (201, 201, 403, 403, 403, 403)),
    Row("GET", "/v1/collections/collectors", None, WHOLE_BOOK),
    Row("POST", "/v1/collections/collectors", COLLECTOR, MANAGE_NEW),
    Row("GET", "/v1/collections/agencies", None, READERS),
    Row("POST", "/v1/collections/agencies", AGENCY, MANAGE_NEW),
    Row("GET", "/v1/collections/agencies/{agency}/cases", None, READERS),
    Row("GET", "/v1/collections/agencies/{other}/cases", None, STAFF_READERS),
    Row("GET", "/v1/collections/agencies/{agency}/statement", None, READERS),
    Row("GET", "/v1/collections/agencies/{other}/statement", None, STAFF_READERS),
    Row("GET", "/v1/legal-cases/{legal}", None, (200, 200, 200, 403, 200, 403)),
    Row("POST", "/v1/legal-cases", {"loan_id": "{llb}"}, MANAGE_NEW),
    Row("POST", "/v1/legal-cases/{legal}/transitions", {"to": "demand_letter"}, MANAGE),
    Row("POST", "/v1/legal-cases/{legal}/preservation", {"to": "requested"}, MANAGE),
    Row("POST", "/v1/legal-cases/{legal}/costs", {"kind": "court", "amount": "300"}, MANAGE_NEW),
    Row("POST", "/v1/legal-cases/{legal}/documents", DOCUMENT, MANAGE_NEW),
    Row("GET", "/v1/reports/collections", None, REPORTS),
    Row("GET", "/v1/reports/strategies", None, REPORTS),
    # last, as they take loan A's case out of collections: placed, recalled, written off
    Row("POST", "/v1/collections/cases/{ca}/placement", {"agency_id": "{agency}"}, MANAGE_NEW),
    Row("POST", "/v1/collections/cases/{ca}/recall", None, MANAGE),
    Row("POST", "/v1/collections/cases/{ca}/write-off", None, MANAGE_NEW),
    # loan A is written off by the admin only: the collector's recovery is refused by meaning
    Row(
        "POST",
        "/v1/loans/{lla}/recoveries",
        {"amount": "10", "currency": "CNY"},
        (201, 403, 422, 404, 403, 403),
    ),
]


def _key(api: Api, role: str, book: Book) -> dict[str, str]:
    scope = {"borrower": {"borrower_id": book.borrower_a}, "agency": {"agency_id": 7}}
    return api.auth(role, **scope.get(role, {}))


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(api: Api, role: str) -> None:
    book = seed_book(api.db)
    request, (offer,) = seed_relief(api.db, book.loan_a, {"term-extension": {"installments": 2}})
    _, (approval,) = seed_relief(
        api.db, book.loan_b, {"settlement": {"discount_percent": "0", "deadline": "2026-04-30"}}
    )
    relief.accept_offer(api.db, approval, actor="key:seed")
    names = {
        "a": book.borrower_a,
        "b": book.borrower_b,
        "la": book.loan_a,
        "lb": book.loan_b,
        "pending": book.pending,
        "approved": book.approved,
        "event": book.repayment_a,
        "product": book.product_id,
        "request": request,
        "offer": offer,
        "approval": approval,
        "task": 999999,
    }
    headers = _key(api, role, book)
    wrong: list[str] = []
    for number, row in enumerate(TABLE):
        expected = row.expect[ROLES.index(role)]
        body = row.body
        if body is LOAN:
            body = {**LOAN, "borrower_id": book.borrower_a, "product_id": book.product_id}
        response = api.client.request(
            row.method,
            row.path.format(**names),
            headers={**headers, "Idempotency-Key": f"matrix-{number}"},
            json=body,
        )
        got = response.status_code
        code = response.json().get("code") if got >= 400 else None
        if got != expected or code != CODES.get(expected):
            wrong.append(f"{row.method} {row.path}: expected {expected}, got {got} {code}")
    assert wrong == []


def _collections_names(book: CollectionsBook) -> dict[str, int]:
    la, lb, lc, _ = book.loans
    return {
        "ca": book.case_of(la),
        "cb": book.case_of(lb),
        "cc": book.case_of(lc),
        "lla": la,
        "llb": lb,
        "llc": lc,
        "bc": book.borrowers[2],
        "collector": book.collector,
        "agency": book.agency,
        "other": book.other_agency,
        "legal": book.legal,
    }


def _filled(value: Any, names: dict[str, int]) -> Any:
    """A body with its "{name}" strings replaced by the ids they name."""
    if isinstance(value, dict):
        return {key: _filled(item, names) for key, item in value.items()}
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return names[value[1:-1]]
    return value


@pytest.mark.parametrize("role", ROLES)
def test_collections_role_matrix(
    api: Api, role: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TENOR_DOCUMENTS", str(tmp_path / "documents"))
    book = seed_collections(api.db)
    names = _collections_names(book)
    scope = {"borrower": {"borrower_id": book.borrowers[0]}, "agency": {"agency_id": book.agency}}
    headers = api.auth(role, **scope.get(role, {}))
    wrong: list[str] = []
    for number, row in enumerate(COLLECTIONS):
        expected = row.expect[ROLES.index(role)]
        upload: dict[str, Any] = {}
        if row.body is DOCUMENT:
            upload = {
                "files": {"file": ("demand.pdf", b"%PDF-1.4 demand", "application/pdf")},
                "data": {"kind": "demand_letter"},
            }
        elif row.body is not None:
            upload = {"json": _filled(row.body, names)}
        response = api.client.request(
            row.method,
            row.path.format(**names),
            headers={**headers, "Idempotency-Key": f"collections-{number}"},
            **upload,
        )
        got = response.status_code
        code = response.json().get("code") if got >= 400 else None
        if got != expected or code != CODES.get(expected):
            wrong.append(f"{row.method} {row.path}: expected {expected}, got {got} {code}")
    assert wrong == []


def test_the_table_covers_every_operation(api: Api) -> None:
    operations = {
        (method.upper(), path)
        for path, item in api.client.get("/openapi.json").json()["paths"].items()
        for method in item
    }
    collections = {
        "{ca}": "{case_id}",
        "{cb}": "{case_id}",
        "{cc}": "{case_id}",
        "{lla}": "{loan_id}",
        "{llc}": "{loan_id}",
        "{bc}": "{borrower_id}",
        "{agency}": "{agency_id}",
        "{other}": "{agency_id}",
        "{legal}": "{legal_id}",
    }
    covered = {(row.method, row.path.split("?")[0]) for row in TABLE}
    for row in COLLECTIONS:
        path = row.path.split("?")[0]
        for old, new in collections.items():
            path = path.replace(old, new)
        covered.add((row.method, path))
    normalised = {
        (method, path.replace("{a}", "{borrower_id}").replace("{b}", "{borrower_id}"))
        for method, path in covered
    }
    renames = {
        "{la}": "{loan_id}",
        "{lb}": "{loan_id}",
        "{pending}": "{loan_id}",
        "{approved}": "{loan_id}",
        "{event}": "{event_id}",
        "{product}": "{product_id}",
        "{request}": "{request_id}",
        "{offer}": "{offer_id}",
        "{approval}": "{offer_id}",
        "{task}": "{task_id}",
    }
    for old, new in renames.items():
        normalised = {(method, path.replace(old, new)) for method, path in normalised}
    assert normalised == operations


@pytest.mark.parametrize(
    ("role", "loans", "borrowers"),
    [
        ("admin", 4, 2),
        ("risk", 4, 2),
        ("collector", 4, 2),
        ("agency", 0, 0),
        ("auditor", 4, 2),
        ("borrower", 3, 1),
    ],
)
def test_lists_hold_what_the_role_sees(api: Api, role: str, loans: int, borrowers: int) -> None:
    book = seed_book(api.db)
    headers = _key(api, role, book)
    loan_page = api.client.get("/v1/loans", headers=headers).json()
    borrower_page = api.client.get("/v1/borrowers", headers=headers).json()
    assert (loan_page["total"], len(loan_page["items"])) == (loans, loans)
    assert (borrower_page["total"], len(borrower_page["items"])) == (borrowers, borrowers)
    if role == "borrower":
        assert {loan["borrower_id"] for loan in loan_page["items"]} == {book.borrower_a}
        # Filters narrow the borrower's own loans; they never widen the scope.
        other = api.client.get("/v1/loans", headers=headers, params={"status": "active"}).json()
        assert [loan["id"] for loan in other["items"]] == [book.loan_a]


NATIONAL_ID = "110101199003071234"
PHONE = "13800138000"


@pytest.mark.parametrize(
    ("role", "national_id", "phone"),
    [
        ("admin", NATIONAL_ID, PHONE),
        ("risk", mask(NATIONAL_ID), mask(PHONE)),
        ("collector", mask(NATIONAL_ID), PHONE),
        ("auditor", mask(NATIONAL_ID), mask(PHONE)),
        ("borrower", NATIONAL_ID, PHONE),
    ],
)
def test_personal_data_is_masked_for_roles_that_do_not_need_it(
    api: Api, role: str, national_id: str, phone: str
) -> None:
    book = seed_book(api.db)
    with api.db.transaction() as session:
        update_contact_preferences(session, book.borrower_a, phones=[PHONE])
    headers = _key(api, role, book)
    one = api.client.get(f"/v1/borrowers/{book.borrower_a}", headers=headers).json()
    listed = api.client.get("/v1/borrowers", headers=headers).json()["items"][0]
    assert (one["national_id"], one["phones"]) == (national_id, [phone])
    assert listed == one
    assert mask(NATIONAL_ID) == "110***********1234"


def test_an_enterprise_contact_phone_is_masked_with_the_borrower_phones(api: Api) -> None:
    created = api.client.post(
        "/v1/borrowers",
        headers=api.auth(),
        json={
            "kind": "enterprise",
            "name": "Acme",
            "national_id": "91310000MA1FL0000X",
            "contacts": [{"name": "CFO", "phone": "13912345678"}],
        },
    ).json()
    assert created["contacts"] == [{"name": "CFO", "phone": "13912345678"}]
    seen = api.client.get(f"/v1/borrowers/{created['id']}", headers=api.auth("auditor")).json()
    assert seen["contacts"] == [{"name": "CFO", "phone": "139****5678"}]
    assert seen["national_id"] == mask("91310000MA1FL0000X")


def test_the_documented_table_is_the_permission_table() -> None:
    doc = roles.__doc__ or ""
    for permission in Permission:
        line = next(line for line in doc.splitlines() if line.startswith(permission.value + " "))
        cells = line.split()[1:]
        for role, cell in zip(Role, cells, strict=True):
            assert (cell != "-") == (permission in PERMISSIONS[role]), (permission, role)
