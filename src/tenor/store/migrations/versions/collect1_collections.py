"""collections: strategies, collectors, cases, promises, agencies, legal

Revision ID: collect1
Revises: 0001
Create Date: 2026-11-29 03:56:25.505737
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "collect1"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("collect",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "collection_agencies",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("commission", sa.JSON(), nullable=False),
        sa.Column("recall_days", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "collection_strategies",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", "version", name="uq_collection_strategies_name_version"),
    )
    op.create_table(
        "collectors",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("team", sa.String(length=64), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("products", sa.JSON(), nullable=False),
        sa.Column("stages", sa.JSON(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("work_start", sa.Integer(), nullable=False),
        sa.Column("work_end", sa.Integer(), nullable=False),
        sa.Column("field", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "collection_cases",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("loan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "borrower_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("close_reason", sa.String(length=32), nullable=True),
        sa.Column("strategy", sa.String(length=64), nullable=False),
        sa.Column("strategy_version", sa.Integer(), nullable=False),
        sa.Column("segment", sa.String(length=64), nullable=False),
        sa.Column("arm", sa.String(length=16), nullable=False),
        sa.Column("opened_segment", sa.String(length=64), nullable=False),
        sa.Column("opened_arm", sa.String(length=16), nullable=False),
        sa.Column("steps_taken", sa.Integer(), nullable=False),
        sa.Column("path_since", sa.Date(), nullable=False),
        sa.Column("days_past_due", sa.Integer(), nullable=False),
        sa.Column("balance_minor", sa.BigInteger(), nullable=False),
        sa.Column("opened_balance_minor", sa.BigInteger(), nullable=False),
        sa.Column("opened_days_past_due", sa.Integer(), nullable=False),
        sa.Column("max_days_past_due", sa.Integer(), nullable=False),
        sa.Column("paused", sa.String(length=32), nullable=True),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column(
            "collector_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("agency_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("contact_cost_minor", sa.BigInteger(), nullable=False),
        sa.Column("updated_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["collection_agencies.id"],
        ),
        sa.ForeignKeyConstraint(
            ["borrower_id"],
            ["borrowers.id"],
        ),
        sa.ForeignKeyConstraint(
            ["collector_id"],
            ["collectors.id"],
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"],
            ["loans.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("loan_id", "opened_on", name="uq_collection_cases_loan_opened"),
    )
    with op.batch_alter_table("collection_cases", schema=None) as batch_op:
        batch_op.create_index("ix_collection_cases_agency", ["agency_id"], unique=False)
        batch_op.create_index("ix_collection_cases_collector", ["collector_id"], unique=False)
        batch_op.create_index("ix_collection_cases_loan", ["loan_id"], unique=False)
        batch_op.create_index("ix_collection_cases_status", ["status"], unique=False)

    op.create_table(
        "legal_cases",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("loan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("borrower_id", sa.BigInteger(), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("preservation", sa.String(length=16), nullable=False),
        sa.Column("court", sa.String(length=200), nullable=True),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("judgment_amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("judgment_costs_minor", sa.BigInteger(), nullable=True),
        sa.Column("judgment_interest_minor", sa.BigInteger(), nullable=True),
        sa.Column("costs_to_borrower", sa.Boolean(), nullable=True),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["loan_id"],
            ["loans.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("legal_cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_legal_cases_loan_id"), ["loan_id"], unique=False)

    op.create_table(
        "collection_actions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("segment", sa.String(length=64), nullable=False),
        sa.Column("arm", sa.String(length=16), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("cost_minor", sa.BigInteger(), nullable=False),
        sa.Column("notification_id", sa.BigInteger(), nullable=True),
        sa.Column("collector_id", sa.BigInteger(), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["collection_cases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "business_date", "step", name="uq_collection_actions_step"),
    )
    with op.batch_alter_table("collection_actions", schema=None) as batch_op:
        batch_op.create_index("ix_collection_actions_case", ["case_id"], unique=False)
        batch_op.create_index("ix_collection_actions_open_tasks", ["state", "kind"], unique=False)

    op.create_table(
        "collection_disputes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("loan_id", sa.BigInteger(), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("resolved_on", sa.Date(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["collection_cases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("collection_disputes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_collection_disputes_loan_id"), ["loan_id"], unique=False
        )

    op.create_table(
        "collection_outcomes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("loan_id", sa.BigInteger(), nullable=False),
        sa.Column("borrower_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("collector_id", sa.BigInteger(), nullable=True),
        sa.Column("agency_id", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("action_id", sa.BigInteger(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["collection_cases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("collection_outcomes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_collection_outcomes_borrower_id"), ["borrower_id"], unique=False
        )
        batch_op.create_index("ix_collection_outcomes_case", ["case_id"], unique=False)

    op.create_table(
        "collection_placements",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("loan_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "agency_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("placed_on", sa.Date(), nullable=False),
        sa.Column("recall_on", sa.Date(), nullable=False),
        sa.Column("recalled_on", sa.Date(), nullable=True),
        sa.Column("recall_reason", sa.String(length=32), nullable=True),
        sa.Column("rate", sa.String(length=16), nullable=False),
        sa.Column("days_past_due", sa.Integer(), nullable=False),
        sa.Column("balance_minor", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["collection_agencies.id"],
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["collection_cases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("collection_placements", schema=None) as batch_op:
        batch_op.create_index("ix_collection_placements_agency", ["agency_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_collection_placements_loan_id"), ["loan_id"], unique=False
        )

    op.create_table(
        "collection_promises",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("loan_id", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("made_on", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("paid_minor", sa.BigInteger(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("outcome_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["collection_cases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("collection_promises", schema=None) as batch_op:
        batch_op.create_index("ix_collection_promises_case", ["case_id"], unique=False)
        batch_op.create_index("ix_collection_promises_status", ["status"], unique=False)

    op.create_table(
        "legal_costs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "legal_case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("incurred_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("charge_event_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["legal_case_id"],
            ["legal_cases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("legal_costs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_legal_costs_legal_case_id"), ["legal_case_id"], unique=False
        )

    op.create_table(
        "legal_documents",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "legal_case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["legal_case_id"],
            ["legal_cases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("legal_documents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_legal_documents_legal_case_id"), ["legal_case_id"], unique=False
        )

    op.create_table(
        "legal_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "legal_case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["legal_case_id"],
            ["legal_cases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("legal_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_legal_events_legal_case_id"), ["legal_case_id"], unique=False
        )


def downgrade() -> None:
    """Undo this migration."""
    with op.batch_alter_table("legal_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_legal_events_legal_case_id"))

    op.drop_table("legal_events")
    with op.batch_alter_table("legal_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_legal_documents_legal_case_id"))

    op.drop_table("legal_documents")
    with op.batch_alter_table("legal_costs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_legal_costs_legal_case_id"))

    op.drop_table("legal_costs")
    with op.batch_alter_table("collection_promises", schema=None) as batch_op:
        batch_op.drop_index("ix_collection_promises_status")
        batch_op.drop_index("ix_collection_promises_case")

    op.drop_table("collection_promises")
    with op.batch_alter_table("collection_placements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_collection_placements_loan_id"))
        batch_op.drop_index("ix_collection_placements_agency")

    op.drop_table("collection_placements")
    with op.batch_alter_table("collection_outcomes", schema=None) as batch_op:
        batch_op.drop_index("ix_collection_outcomes_case")
        batch_op.drop_index(batch_op.f("ix_collection_outcomes_borrower_id"))

    op.drop_table("collection_outcomes")
    with op.batch_alter_table("collection_disputes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_collection_disputes_loan_id"))

    op.drop_table("collection_disputes")
    with op.batch_alter_table("collection_actions", schema=None) as batch_op:
        batch_op.drop_index("ix_collection_actions_open_tasks")
        batch_op.drop_index("ix_collection_actions_case")

    op.drop_table("collection_actions")
    with op.batch_alter_table("legal_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_legal_cases_loan_id"))

    op.drop_table("legal_cases")
    with op.batch_alter_table("collection_cases", schema=None) as batch_op:
        batch_op.drop_index("ix_collection_cases_status")
        batch_op.drop_index("ix_collection_cases_loan")
        batch_op.drop_index("ix_collection_cases_collector")
        batch_op.drop_index("ix_collection_cases_agency")

    op.drop_table("collection_cases")
    op.drop_table("collectors")
    op.drop_table("collection_strategies")
    op.drop_table("collection_agencies")
