"""risk: post-loan tasks, risk profiles, the close's risk summary, covenant headroom

Revision ID: risk2
Revises: risk1
Create Date: 2026-11-29 04:00:00
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "risk2"
down_revision: str | None = "risk1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Apply this migration."""
    # One covenant per loan and indicator from now on: keep the last one set of any duplicate.
    op.execute(
        "DELETE FROM risk_covenants WHERE id NOT IN "
        "(SELECT keep FROM (SELECT MAX(id) AS keep FROM risk_covenants "
        "GROUP BY loan_id, indicator) AS kept)"
    )
    with op.batch_alter_table("risk_covenants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("headroom", sa.String(length=32), nullable=True))
        batch_op.create_unique_constraint("uq_risk_covenants_indicator", ["loan_id", "indicator"])
    op.create_table(
        "risk_tasks",
        sa.Column("id", _ID, nullable=False),
        sa.Column("watchlist_id", _ID, nullable=False),
        sa.Column("borrower_id", _ID, nullable=False),
        sa.Column("loan_id", _ID, nullable=True),
        sa.Column("assignee", sa.String(length=64), nullable=False),
        sa.Column("title", sa.JSON(), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("completed_by", sa.String(length=64), nullable=True),
        sa.Column("completed_at", _WHEN, nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["watchlist_id"], ["risk_watchlist.id"]),
        sa.ForeignKeyConstraint(["borrower_id"], ["borrowers.id"]),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("watchlist_id"),
    )
    op.create_index("ix_risk_tasks_borrower_id", "risk_tasks", ["borrower_id"])
    op.create_index("ix_risk_tasks_loan_id", "risk_tasks", ["loan_id"])
    op.create_index("ix_risk_tasks_state_due", "risk_tasks", ["state", "due_date"])
    _backfill_tasks()
    op.create_table(
        "risk_profiles",
        sa.Column("id", _ID, nullable=False),
        sa.Column("borrower_id", _ID, nullable=False),
        sa.Column("dataset", sa.String(length=64), nullable=False),
        sa.Column("characteristics", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(["borrower_id"], ["borrowers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_risk_profiles_borrower", "risk_profiles", ["borrower_id", "id"])
    op.create_table(
        "risk_close_days",
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("business_date"),
    )


def _backfill_tasks() -> None:
    """Give each watchlist entry still open a task, as ingesting opens one from now on.

    Due a week after the entry was opened for a breach (five business days), two weeks for a
    warning (ten): calendar days here, since a migration does not read holiday calendars.
    """
    watchlist = sa.table(
        "risk_watchlist",
        sa.column("id", _ID),
        sa.column("borrower_id", _ID),
        sa.column("loan_id", _ID),
        sa.column("severity", sa.String),
        sa.column("task", sa.JSON),
        sa.column("status", sa.String),
        sa.column("opened_at", _WHEN),
    )
    tasks = sa.table(
        "risk_tasks",
        sa.column("watchlist_id", _ID),
        sa.column("borrower_id", _ID),
        sa.column("loan_id", _ID),
        sa.column("assignee", sa.String),
        sa.column("title", sa.JSON),
        sa.column("opened_on", sa.Date),
        sa.column("due_date", sa.Date),
        sa.column("state", sa.String),
    )
    rows = op.get_bind().execute(sa.select(watchlist).where(watchlist.c.status == "open"))
    backfill = [
        {
            "watchlist_id": row.id,
            "borrower_id": row.borrower_id,
            "loan_id": row.loan_id,
            "assignee": "relationship-manager",
            "title": row.task,
            "opened_on": row.opened_at.date(),
            "due_date": row.opened_at.date()
            + dt.timedelta(days=7 if row.severity == "breach" else 14),
            "state": "open",
        }
        for row in rows
    ]
    if backfill:
        op.bulk_insert(tasks, backfill)


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table("risk_close_days")
    op.drop_table("risk_profiles")
    op.drop_table("risk_tasks")
    with op.batch_alter_table("risk_covenants", schema=None) as batch_op:
        batch_op.drop_constraint("uq_risk_covenants_indicator", type_="unique")
        batch_op.drop_column("headroom")
