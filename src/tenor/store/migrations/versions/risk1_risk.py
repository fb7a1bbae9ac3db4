"""risk: model registry, scores, financial statements, covenants, watchlist

Revision ID: risk1
Revises: 0001
Create Date: 2026-11-29 01:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "risk1"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("risk",)
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "risk_models",
        sa.Column("id", _ID, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("dataset", sa.String(length=64), nullable=False),
        sa.Column("data_sha256", sa.String(length=64), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("baseline", sa.JSON(), nullable=False),
        sa.Column("artifact", sa.LargeBinary(), nullable=False),
        sa.Column("artifact_sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("trained_by", sa.String(length=64), nullable=False),
        sa.Column("trained_at", _WHEN, nullable=False),
        sa.Column("promoted_by", sa.String(length=64), nullable=True),
        sa.Column("promoted_at", _WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", "version", name="uq_risk_models_version"),
    )
    op.create_table(
        "risk_scores",
        sa.Column("id", _ID, nullable=False),
        sa.Column("model_id", _ID, nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("bins", sa.JSON(), nullable=False),
        sa.Column("scored_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(["model_id"], ["risk_models.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("model_id", "month", "subject", name="uq_risk_scores_subject"),
    )
    op.create_index("ix_risk_scores_model_id", "risk_scores", ["model_id"])
    op.create_index("ix_risk_scores_month", "risk_scores", ["month"])
    op.create_table(
        "risk_statements",
        sa.Column("id", _ID, nullable=False),
        sa.Column("borrower_id", _ID, nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("period_months", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(["borrower_id"], ["borrowers.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("borrower_id", "period_end", name="uq_risk_statements_period"),
    )
    op.create_index("ix_risk_statements_borrower_id", "risk_statements", ["borrower_id"])
    op.create_table(
        "risk_covenants",
        sa.Column("id", _ID, nullable=False),
        sa.Column("loan_id", _ID, nullable=False),
        sa.Column("indicator", sa.String(length=32), nullable=False),
        sa.Column("minimum", sa.String(length=32), nullable=True),
        sa.Column("maximum", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_risk_covenants_loan_id", "risk_covenants", ["loan_id"])
    op.create_table(
        "risk_watchlist",
        sa.Column("id", _ID, nullable=False),
        sa.Column("borrower_id", _ID, nullable=False),
        sa.Column("loan_id", _ID, nullable=True),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("task", sa.JSON(), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(["borrower_id"], ["borrowers.id"]),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("borrower_id", "code", "period_end", name="uq_risk_watchlist_signal"),
    )
    op.create_index("ix_risk_watchlist_borrower_id", "risk_watchlist", ["borrower_id"])
    op.create_index("ix_risk_watchlist_loan_id", "risk_watchlist", ["loan_id"])


def downgrade() -> None:
    """Revert this migration."""
    for table in ("risk_watchlist", "risk_covenants", "risk_statements", "risk_scores"):
        op.drop_table(table)
    op.drop_table("risk_models")
