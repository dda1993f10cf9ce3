"""The read model built from the others' events (ticket events, tickets as counted, calls, spot
checks, units) and the findings of the province's data-quality rules.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("call_id", sa.Text(), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("direction", sa.Text(), nullable=False),
        sa.Column("agent_id", sa.Text(), nullable=True),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("call_id", name=op.f("pk_calls")),
        schema="scoring",
    )
    op.create_index(
        "ix_calls_period_direction",
        "calls",
        ["period", "direction", "line"],
        unique=False,
        schema="scoring",
    )
    op.create_table(
        "findings",
        sa.Column("finding_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subject_kind", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("field", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("period", sa.Date(), nullable=True),
        sa.Column("unit_name", sa.Text(), nullable=True),
        sa.Column(
            "found_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.PrimaryKeyConstraint("finding_id", name=op.f("pk_findings")),
        sa.UniqueConstraint(
            "subject", "code", "field", name=op.f("uq_findings_subject_code_field")
        ),
        schema="scoring",
    )
    op.create_index(
        "ix_findings_period_code", "findings", ["period", "code"], unique=False, schema="scoring"
    )
    op.create_table(
        "spot_checks",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("ticket_no", sa.Text(), nullable=False),
        sa.Column("unit_id", sa.Text(), nullable=True),
        sa.Column("satisfaction", sa.Text(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_spot_checks")),
        schema="scoring",
    )
    op.create_index(
        "ix_spot_checks_period", "spot_checks", ["period"], unique=False, schema="scoring"
    )
    op.create_table(
        "ticket_events",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("ticket_no", sa.Text(), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_ticket_events")),
        schema="scoring",
    )
    op.create_index(
        op.f("ix_ticket_events_ticket_no"),
        "ticket_events",
        ["ticket_no"],
        unique=False,
        schema="scoring",
    )
    op.create_table(
        "tickets",
        sa.Column("ticket_no", sa.Text(), nullable=False),
        sa.Column("period", sa.Date(), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("channel", sa.Text(), nullable=True),
        sa.Column("request_type", sa.Text(), nullable=True),
        sa.Column("category", sa.Text(), nullable=True),
        sa.Column("handling_mode", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=True),
        sa.Column("forwarded", sa.Boolean(), nullable=False),
        sa.Column("unit_name", sa.Text(), nullable=True),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("marked_overdue", sa.Boolean(), nullable=False),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("satisfaction", sa.Text(), nullable=True),
        sa.Column("call_id", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("ticket_no", name=op.f("pk_tickets")),
        schema="scoring",
    )
    op.create_index(
        op.f("ix_tickets_call_id"), "tickets", ["call_id"], unique=False, schema="scoring"
    )
    op.create_index(
        "ix_tickets_period_category",
        "tickets",
        ["period", "category"],
        unique=False,
        schema="scoring",
    )
    op.create_index(
        "ix_tickets_period_unit", "tickets", ["period", "unit_name"], unique=False, schema="scoring"
    )
    op.create_table(
        "units",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("unit_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_units")),
        schema="scoring",
    )
    op.create_index(op.f("ix_units_unit_id"), "units", ["unit_id"], unique=False, schema="scoring")


def downgrade() -> None:
    op.drop_index(op.f("ix_units_unit_id"), table_name="units", schema="scoring")
    op.drop_table("units", schema="scoring")
    op.drop_index("ix_tickets_period_unit", table_name="tickets", schema="scoring")
    op.drop_index("ix_tickets_period_category", table_name="tickets", schema="scoring")
    op.drop_index(op.f("ix_tickets_call_id"), table_name="tickets", schema="scoring")
    op.drop_table("tickets", schema="scoring")
    op.drop_index(op.f("ix_ticket_events_ticket_no"), table_name="ticket_events", schema="scoring")
    op.drop_table("ticket_events", schema="scoring")
    op.drop_index("ix_spot_checks_period", table_name="spot_checks", schema="scoring")
    op.drop_table("spot_checks", schema="scoring")
    op.drop_index("ix_findings_period_code", table_name="findings", schema="scoring")
    op.drop_table("findings", schema="scoring")
    op.drop_index("ix_calls_period_direction", table_name="calls", schema="scoring")
    op.drop_table("calls", schema="scoring")
