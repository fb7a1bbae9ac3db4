"""transparency log: leaves, stored subtrees, log head, signed tree heads; backfill

Creates the tables of :mod:`tenor.audit.tables`, then gives every event already in the
journal (and every product and API key) its leaf, in journal order, so that ``tenor audit
verify`` works on a book older than the log.

Revision ID: audit1
Revises: 0001
Create Date: 2026-11-29 00:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tenor.audit.changes import backfill

revision: str = "audit1"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("audit",)
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "audit_leaves",
        sa.Column("id", _ID, nullable=False),
        sa.Column("leaf_index", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("journal_id", sa.BigInteger(), nullable=True),
        sa.Column("event_id", sa.String(length=36), nullable=True),
        sa.Column("loan_id", sa.BigInteger(), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column("entry", sa.Text(), nullable=True),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("leaf_index"),
    )
    op.create_index("ix_audit_leaves_event_id", "audit_leaves", ["event_id"], unique=True)
    op.create_index(
        "ix_audit_leaves_queued",
        "audit_leaves",
        ["id"],
        unique=False,
        postgresql_where=sa.text("leaf_index IS NULL"),
        sqlite_where=sa.text("leaf_index IS NULL"),
    )
    op.create_table(
        "audit_nodes",
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "position"),
    )
    op.create_table(
        "audit_log_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "audit_tree_heads",
        sa.Column("id", _ID, nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("timestamp_ms", sa.BigInteger(), nullable=False),
        sa.Column("key_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.LargeBinary(length=64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute(sa.text("INSERT INTO audit_log_head (id, tree_size) VALUES (1, 0)"))
    # The application's own code computes the leaves, so that they are exactly those the
    # journal writer would have written.
    backfill(op.get_bind())


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table("audit_tree_heads")
    op.drop_table("audit_log_head")
    op.drop_table("audit_nodes")
    op.drop_index("ix_audit_leaves_queued", table_name="audit_leaves")
    op.drop_index("ix_audit_leaves_event_id", table_name="audit_leaves")
    op.drop_table("audit_leaves")
