"""daily close: runs and progress, close state, arrears snapshot, actions, errors, summaries

Revision ID: close1
Revises: 0001
Create Date: 2026-11-29 00:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "close1"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("close",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "close_days",
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("journal_from", sa.BigInteger(), nullable=False),
        sa.Column("journal_to", sa.BigInteger(), nullable=False),
        sa.Column("first_close", sa.Boolean(), nullable=False),
        sa.Column("partitions", sa.Integer(), nullable=False),
        sa.Column("partition_size", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("totals", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("business_date"),
    )
    op.create_table(
        "close_progress",
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("loans", sa.Integer(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("penalties", sa.Integer(), nullable=False),
        sa.Column("penalty_minor", sa.BigInteger(), nullable=False),
        sa.Column("actions", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("business_date", "partition"),
    )
    op.create_table(
        "close_state",
        sa.Column("loan_id", sa.BigInteger(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=False),
        sa.Column("dpd_anchor", sa.Date(), nullable=True),
        sa.Column("days_past_due", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(length=16), nullable=False),
        sa.Column("loan_class", sa.SmallInteger(), nullable=False),
        sa.Column("stage", sa.SmallInteger(), nullable=False),
        sa.Column("overdue_minor", sa.BigInteger(), nullable=False),
        sa.Column("accrued_interest_minor", sa.BigInteger(), nullable=False),
        sa.Column("penalty_through", sa.Date(), nullable=True),
        sa.Column("next_touch", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("loan_id"),
    )
    with op.batch_alter_table("close_state", schema=None) as batch_op:
        batch_op.create_index("ix_close_state_next_touch", ["next_touch"], unique=False)

    op.create_table(
        "close_arrears",
        sa.Column("loan_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("principal_minor", sa.BigInteger(), nullable=False),
        sa.Column("interest_minor", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("loan_id", "number"),
    )
    op.create_table(
        "close_actions",
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("loan_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("installment", sa.Integer(), nullable=False),
        sa.Column("offset_days", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("business_date", "loan_id", "kind", "installment"),
    )
    op.create_table(
        "close_errors",
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("loan_id", sa.BigInteger(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("business_date", "loan_id"),
    )
    op.create_table(
        "close_summary",
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=16), nullable=False),
        sa.Column("loans", sa.Integer(), nullable=False),
        sa.Column("principal_minor", sa.BigInteger(), nullable=False),
        sa.Column("outstanding_minor", sa.BigInteger(), nullable=False),
        sa.Column("arrears_minor", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("business_date", "currency", "dimension", "key"),
    )
    op.create_table(
        "close_rolls",
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("from_bucket", sa.String(length=16), nullable=False),
        sa.Column("to_bucket", sa.String(length=16), nullable=False),
        sa.Column("loans", sa.Integer(), nullable=False),
        sa.Column("principal_minor", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("business_date", "currency", "from_bucket", "to_bucket"),
    )
    op.create_table(
        "close_month_end",
        sa.Column("month_end", sa.Date(), nullable=False),
        sa.Column("loan_id", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("days_past_due", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(length=16), nullable=False),
        sa.Column("principal_minor", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("month_end", "loan_id"),
    )


def downgrade() -> None:
    """Revert this migration."""
    for table in (
        "close_month_end",
        "close_rolls",
        "close_summary",
        "close_errors",
        "close_actions",
        "close_arrears",
    ):
        op.drop_table(table)
    with op.batch_alter_table("close_state", schema=None) as batch_op:
        batch_op.drop_index("ix_close_state_next_touch")
    op.drop_table("close_state")
    op.drop_table("close_progress")
    op.drop_table("close_days")
