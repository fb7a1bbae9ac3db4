"""bureau reporting: Metro 2 identities, account settings, associates, comments, disputes, exports

Revision ID: bureau1
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "bureau1"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("bureau",)
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "bureau_consumers",
        sa.Column("borrower_id", _ID, nullable=False),
        sa.Column("surname", sa.String(length=25), nullable=False),
        sa.Column("first_name", sa.String(length=20), nullable=False),
        sa.Column("middle_name", sa.String(length=20), nullable=False),
        sa.Column("generation_code", sa.String(length=1), nullable=False),
        sa.Column("social_security_number", sa.String(length=9), nullable=True),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("telephone_number", sa.String(length=10), nullable=True),
        sa.Column("ecoa_code", sa.String(length=1), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("first_line_address", sa.String(length=32), nullable=False),
        sa.Column("second_line_address", sa.String(length=32), nullable=False),
        sa.Column("city", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=2), nullable=False),
        sa.Column("postal_code", sa.String(length=9), nullable=False),
        sa.ForeignKeyConstraint(["borrower_id"], ["borrowers.id"]),
        sa.PrimaryKeyConstraint("borrower_id"),
    )
    op.create_table(
        "bureau_accounts",
        sa.Column("loan_id", _ID, nullable=False),
        sa.Column("portfolio_type", sa.String(length=1), nullable=False),
        sa.Column("account_type", sa.String(length=2), nullable=False),
        sa.Column("collections_on", sa.Date(), nullable=True),
        sa.Column("original_creditor_name", sa.String(length=30), nullable=True),
        sa.Column("creditor_classification", sa.Integer(), nullable=True),
        sa.Column("deleted_as", sa.String(length=2), nullable=True),
        sa.Column("deleted_month", sa.String(length=7), nullable=True),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"]),
        sa.PrimaryKeyConstraint("loan_id"),
    )
    op.create_table(
        "bureau_associates",
        sa.Column("id", _ID, nullable=False),
        sa.Column("loan_id", _ID, nullable=False),
        sa.Column("borrower_id", _ID, nullable=False),
        sa.Column("ecoa_code", sa.String(length=1), nullable=False),
        sa.ForeignKeyConstraint(["borrower_id"], ["borrowers.id"]),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_bureau_associates_loan_id", "bureau_associates", ["loan_id"])
    op.create_table(
        "bureau_comments",
        sa.Column("id", _ID, nullable=False),
        sa.Column("loan_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=2), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_bureau_comments_loan_id", "bureau_comments", ["loan_id"])
    op.create_table(
        "bureau_disputes",
        sa.Column("id", _ID, nullable=False),
        sa.Column("loan_id", _ID, nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("resolved_on", sa.Date(), nullable=True),
        sa.Column("consumer_disagrees", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_bureau_disputes_loan_id", "bureau_disputes", ["loan_id"])
    op.create_table(
        "bureau_exports",
        sa.Column("id", _ID, nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("loan_id", _ID, nullable=True),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"]),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    """Undo this migration."""
    op.drop_table("bureau_exports")
    op.drop_index("ix_bureau_disputes_loan_id", table_name="bureau_disputes")
    op.drop_table("bureau_disputes")
    op.drop_index("ix_bureau_comments_loan_id", table_name="bureau_comments")
    op.drop_table("bureau_comments")
    op.drop_index("ix_bureau_associates_loan_id", table_name="bureau_associates")
    op.drop_table("bureau_associates")
    op.drop_table("bureau_accounts")
    op.drop_table("bureau_consumers")
