"""notify: a borrower's email address found dead by its bounces

Revision ID: bounce1
Revises: 0001
Create Date: 2026-12-20 09:00:00

Email bounces (``tenor notify bounces``) fail the reminders they return; when the address on
record bounced for good repeatedly, ``email_invalid_since`` says since when, and reminders stop
using it until the address changes.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "bounce1"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("bounce",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.add_column(
        "borrowers", sa.Column("email_invalid_since", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("borrowers") as batch:
        batch.drop_column("email_invalid_since")
