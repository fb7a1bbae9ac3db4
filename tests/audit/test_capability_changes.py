"""Changes to policies land in the transparency log as change leaves, in the same transaction."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tenor.actions import relief
from tenor.audit.tables import AuditLeaf
from tenor.notify.policy import DEFAULT_POLICY, save_policy
from tenor.store.database import Database
from tenor.store.models import Loan
from tests.builders import seed_loan


def _subjects(db: Database) -> list[str]:
    with db.reading() as session:
        return list(
            session.scalars(
                select(AuditLeaf.subject).where(AuditLeaf.kind == "change").order_by(AuditLeaf.id)
            )
        )


def test_relief_and_reminder_policies_are_logged(db: Database) -> None:
    loan_id = seed_loan(db, business_date=dt.date(2026, 2, 1))
    with db.transaction() as session:
        loan = session.get(Loan, loan_id)
        assert loan is not None
        relief.set_relief_policy(
            session,
            product_id=loan.product_id,
            document={"currency": "CNY", "min_credit_score": 650},
            actor="key:risk",
        )
        save_policy(session, DEFAULT_POLICY.model_copy(update={"code": "gentle", "version": 2}))
        product_id = loan.product_id
    subjects = _subjects(db)
    assert f"relief-policies/product-{product_id}/v1" in subjects
    assert "reminder-policies/gentle/v2" in subjects
