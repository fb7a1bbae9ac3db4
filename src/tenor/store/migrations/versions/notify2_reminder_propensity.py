"""notify: each reminder keeps the propensity to pay its policy step weighed; provider ids of
up to 255 characters

Revision ID: notify2
Revises: notify1
Create Date: 2026-11-29 07:40:00

An overdue step may add channels for a loan unlikely to pay or spare one likely to pay; the
propensity it weighed stays on the reminder, so that a borrower's question "why was I called?"
has its answer. Reminders written before this have none. An email's provider id is its
Message-ID, which carries the reminder's key and the sending host's name: 100 characters were
too few for a long host name.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "notify2"
down_revision: str | None = "notify1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("notifications") as table:
        table.add_column(sa.Column("propensity", sa.Float(), nullable=True))
        table.alter_column(
            "provider_id", type_=sa.String(length=255), existing_type=sa.String(length=100)
        )


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("notifications") as table:
        table.alter_column(
            "provider_id", type_=sa.String(length=100), existing_type=sa.String(length=255)
        )
        table.drop_column("propensity")
