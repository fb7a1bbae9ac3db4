"""Audit test fixtures: a signing key, and a book with a few events logged."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tenor.actions import loans
from tenor.audit.keys import Signer, generate_key
from tenor.audit.log import sign_tree_head
from tenor.core.money import Money
from tenor.store.database import Database
from tenor.store.models import Loan

# The API tests' fixtures: an app over `db`, a seeded book, cheap key hashes.
from tests.api.conftest import api, book, cheap_key_hashes  # noqa: F401
from tests.builders import START, seed_loan

#: When the tests' tree heads are signed.
SIGNED = dt.datetime(2026, 3, 1, 18, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def signer() -> Signer:
    """A fresh Ed25519 key for the log."""
    return Signer(Ed25519PrivateKey.generate())


def post(db: Database, loan_id: int, amount: str, day: int) -> str:
    """Post a repayment of ``amount`` CNY on 2026-02-``day``; its event id."""
    return loans.post_repayment(
        db, loan_id, amount=Money.of(amount, "CNY"), value_date=dt.date(2026, 2, day)
    ).event_id


def sign(db: Database, signer: Signer) -> int:
    """Sign a tree head now; its size."""
    with db.transaction() as session:
        return sign_tree_head(session, signer, SIGNED).tree_size


def another_loan(db: Database, like: int) -> int:
    """A second loan of the same borrower and product as loan ``like``, disbursed."""
    with db.transaction() as session:
        model = session.get(Loan, like)
        assert model is not None
        loan = loans.create_loan(
            session,
            borrower_id=model.borrower_id,
            product_id=model.product_id,
            principal=Money.of("3000", "CNY"),
            term=3,
            start=START,
        )
        loans.approve_loan(session, loan.id)
    loans.disburse(db, loan.id, value_date=START)
    return loan.id


def small_book(db: Database) -> tuple[int, int, list[str]]:
    """Two disbursed loans and three repayments on the first; the repayments' event ids."""
    first = seed_loan(db)
    second = another_loan(db, first)
    paid = [post(db, first, amount, day) for amount, day in (("100", 10), ("200", 12), ("50", 14))]
    return first, second, paid


@pytest.fixture
def key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A new signing key's file, named by TENOR_AUDIT_KEY."""
    path = tmp_path / "audit-key.pem"
    generate_key(path)
    monkeypatch.setenv("TENOR_AUDIT_KEY", str(path))
    return path
