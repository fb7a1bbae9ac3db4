"""web console: a staff user of the collector role may be linked to a collector

Revision ID: web3
Revises: web2
Create Date: 2026-12-14 09:00:00

The collector workbench (``/web/collect``) shows a signed-in collector their own queue: the
link says whose. A plain id, as ``agency_id`` is: collections keep their tables on their own
Alembic branch, and the console checks the collector exists when the user is created.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "web3"
down_revision: str | None = "web2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.add_column("web_staff_users", sa.Column("collector_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("web_staff_users") as batch:
        batch.drop_column("collector_id")
