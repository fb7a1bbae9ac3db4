"""web console: sign-in codes go through the notification outbox; drop the stand-in outbox

Revision ID: web2
Revises: web1
Create Date: 2026-12-08 10:00:00

A code's text message is now a ``notifications`` row (kind ``sign-in-code``), sent by the
outbox's dispatcher. Rows left in ``web_code_outbox`` are codes that expire in ten minutes;
they are not carried over.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "web2"
down_revision: str | None = "web1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Apply this migration."""
    op.drop_index("ix_web_code_outbox_borrower_id", table_name="web_code_outbox")
    op.drop_table("web_code_outbox")


def downgrade() -> None:
    """Revert this migration."""
    op.create_table(
        "web_code_outbox",
        sa.Column("id", _ID, nullable=False),
        sa.Column("borrower_id", _ID, nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("destination", sa.String(length=254), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["borrower_id"], ["borrowers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_web_code_outbox_borrower_id", "web_code_outbox", ["borrower_id"])
