"""relief: credit scores, relief policies, requests and offers

Revision ID: relief1
Revises: 0001
Create Date: 2026-11-29 00:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "relief1"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("relief",)
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "credit_scores",
        sa.Column("id", _ID, nullable=False),
        sa.Column("borrower_id", _ID, nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["borrower_id"], ["borrowers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_credit_scores_borrower_as_of", "credit_scores", ["borrower_id", "as_of"], unique=False
    )
    op.create_table(
        "relief_policies",
        sa.Column("id", _ID, nullable=False),
        sa.Column("product_id", _ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("product_id", "version", name="uq_relief_policies_product_version"),
    )
    op.create_table(
        "relief_requests",
        sa.Column("id", _ID, nullable=False),
        sa.Column("loan_id", _ID, nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("hardship_evidence", sa.String(length=500), nullable=True),
        sa.Column("monthly_income_minor", sa.BigInteger(), nullable=True),
        sa.Column("monthly_debt_minor", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_relief_requests_loan_id", "relief_requests", ["loan_id"], unique=False)
    op.create_table(
        "relief_offers",
        sa.Column("id", _ID, nullable=False),
        sa.Column("request_id", _ID, nullable=False),
        sa.Column("loan_id", _ID, nullable=False),
        sa.Column("option", sa.String(length=32), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("proposal", sa.JSON(), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("needs_approval", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("offered_by", sa.String(length=64), nullable=False),
        sa.Column("accepted_by", sa.String(length=64), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("event_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"]),
        sa.ForeignKeyConstraint(["request_id"], ["relief_requests.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_relief_offers_loan_id", "relief_offers", ["loan_id"], unique=False)
    op.create_index("ix_relief_offers_request_id", "relief_offers", ["request_id"], unique=False)
    op.create_index("ix_relief_offers_status", "relief_offers", ["status"], unique=False)


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table("relief_offers")
    op.drop_table("relief_requests")
    op.drop_table("relief_policies")
    op.drop_index("ix_credit_scores_borrower_as_of", table_name="credit_scores")
    op.drop_table("credit_scores")
