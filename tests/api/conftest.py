"""API test fixtures: an app over the `db` fixture (SQLite and PostgreSQL), keys and a book."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tenor.actions import apikeys, loans
from tenor.actions.apikeys import create_api_key
from tenor.actions.borrowers import create_borrower
from tenor.api.app import create_app
from tenor.core.account import ChargeKind
from tenor.core.money import Money
from tenor.store.database import Database
from tenor.store.models import Loan, Product
from tests.builders import START, seed_loan

#: The book's business date in API tests: the second installment (15 March) is not yet due.
BUSINESS_DATE = dt.date(2026, 3, 1)


@pytest.fixture(autouse=True)
def cheap_key_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash API keys with argon2's smallest cost: the same code path, a hundredth of the time.

    Every API test makes keys; at the production cost (test_auth checks it is in force
    outside tests) hashing and first verifications would take a good part of the run.
    """
    monkeypatch.setattr(
        apikeys, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


@dataclass
class Api:
    """An app over a test database, a client, and keys made on demand."""

    db: Database
    app: FastAPI
    client: TestClient
    keys: dict[tuple[str, int | None, int | None], str] = field(default_factory=dict)

    def key(
        self, role: str, *, borrower_id: int | None = None, agency_id: int | None = None
    ) -> str:
        """A key with ``role`` (one per role and scope, made once)."""
        wanted = (role, borrower_id, agency_id)
        if wanted not in self.keys:
            with self.db.transaction() as session:
                _, self.keys[wanted] = create_api_key(
                    session, role, borrower_id=borrower_id, agency_id=agency_id
                )
        return self.keys[wanted]

    def auth(self, role: str = "admin", **scope: int) -> dict[str, str]:
        """The Authorization header of a key with ``role``."""
        return {"Authorization": f"Bearer {self.key(role, **scope)}"}

    def journal(self, loan_id: int) -> list[dict[str, Any]]:
        """The loan's journal events, as an admin reads them."""
        response = self.client.get(f"/v1/loans/{loan_id}/journal", headers=self.auth())
        assert response.status_code == 200, response.text
        events: list[dict[str, Any]] = response.json()["events"]
        return events

    def loan(self, loan_id: int) -> dict[str, Any]:
        """The loan document, as an admin reads it."""
        response = self.client.get(f"/v1/loans/{loan_id}", headers=self.auth())
        assert response.status_code == 200, response.text
        document: dict[str, Any] = response.json()
        return document


@pytest.fixture
def api(db: Database) -> Iterator[Api]:
    """The API over the `db` fixture's database (once SQLite, once PostgreSQL)."""
    app = create_app(db)
    with TestClient(app) as client:
        yield Api(db, app, client)


@dataclass(frozen=True)
class Book:
    """Two borrowers with a disbursed loan each, a pending and an approved loan of A's."""

    product_id: int
    borrower_a: int
    borrower_b: int
    loan_a: int
    loan_b: int
    pending: int
    approved: int
    repayment_a: str


def seed_book(db: Database) -> Book:
    """The book role and schema tests work on, with business date 2026-03-01.

    Loan A has a repayment (to reverse) and a 30.00 late fee (to waive part of).
    """
    loan_a = seed_loan(db, business_date=BUSINESS_DATE)
    with db.transaction() as session:
        loan = session.get(Loan, loan_a)
        assert loan is not None
        product = session.get(Product, loan.product_id)
        assert product is not None
        borrower_a, product_id = loan.borrower_id, product.id
        other = create_borrower(
            session,
            kind="individual",
            name="李娜",
            national_id="310101198805051234",
            phones=["13900139000"],
        )

        def application() -> int:
            return loans.create_loan(
                session,
                borrower_id=borrower_a,
                product_id=product_id,
                principal=Money.of("3000", "CNY"),
                term=3,
                start=START,
            ).id

        loan_b = loans.create_loan(
            session,
            borrower_id=other.id,
            product_id=product_id,
            principal=Money.of("6000", "CNY"),
            term=6,
            start=START,
        ).id
        loans.approve_loan(session, loan_b)
        pending, approved = application(), application()
        loans.approve_loan(session, approved)
        borrower_b = other.id
    loans.disburse(db, loan_b, value_date=START)
    paid = loans.post_repayment(
        db, loan_a, amount=Money.of("100", "CNY"), value_date=dt.date(2026, 2, 10)
    )
    loans.apply_charge(
        db,
        loan_a,
        kind=ChargeKind.LATE_FEE,
        amount=Money.of("30", "CNY"),
        value_date=dt.date(2026, 2, 20),
    )
    return Book(
        product_id=product_id,
        borrower_a=borrower_a,
        borrower_b=borrower_b,
        loan_a=loan_a,
        loan_b=loan_b,
        pending=pending,
        approved=approved,
        repayment_a=paid.event_id,
    )


@pytest.fixture
def book(api: Api) -> Book:
    """:func:`seed_book` in the API's database."""
    return seed_book(api.db)
