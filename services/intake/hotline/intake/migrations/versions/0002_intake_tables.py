"""Intake's tables: call records, tickets, outage notices, webhook deliveries, burst alerts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(sa.schema.CreateSequence(sa.Sequence("ticket_number_seq", schema="intake")))
    op.create_table(
        "burst_alerts",
        sa.Column("area_code", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ticket_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("area_code", "category", name=op.f("pk_burst_alerts")),
        schema="intake",
    )
    op.create_table(
        "calls",
        sa.Column("call_id", sa.Text(), nullable=False),
        sa.Column("sender", sa.Text(), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("direction", sa.Text(), nullable=False),
        sa.Column("caller_number", sa.Text(), nullable=False),
        sa.Column("callee_number", sa.Text(), nullable=False),
        sa.Column("agent_id", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ringing_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("talk_seconds", sa.Integer(), nullable=False),
        sa.Column("recording_url", sa.Text(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("call_id", name=op.f("pk_calls")),
        schema="intake",
    )
    op.create_table(
        "notices",
        sa.Column("notice_id", sa.Text(), nullable=False),
        sa.Column("sender", sa.Text(), nullable=False),
        sa.Column("source_notice_id", sa.Text(), nullable=False),
        sa.Column("issuer", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("area_codes", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("keywords", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("notice_id", name=op.f("pk_notices")),
        sa.UniqueConstraint(
            "sender", "source_notice_id", name=op.f("uq_notices_sender_source_notice_id")
        ),
        schema="intake",
    )
    op.create_index(
        "ix_notices_active", "notices", ["category", "ends_at"], unique=False, schema="intake"
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("sender", sa.Text(), nullable=False),
        sa.Column("webhook_id", sa.Text(), nullable=False),
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("sender", "webhook_id", name=op.f("pk_webhook_deliveries")),
        schema="intake",
    )
    op.create_table(
        "tickets",
        sa.Column("ticket_no", sa.Text(), nullable=False),
        sa.Column("sender", sa.Text(), nullable=False),
        sa.Column("source_ticket_id", sa.Text(), nullable=False),
        sa.Column("call_id", sa.Text(), nullable=True),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("caller_salutation", sa.Text(), nullable=False),
        sa.Column("caller_number", sa.Text(), nullable=True),
        sa.Column("request_type", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("business_environment", sa.Boolean(), nullable=False),
        sa.Column("location_code", sa.Text(), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("handling_mode", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("suggested_unit", sa.Text(), nullable=True),
        sa.Column("agent_id", sa.Text(), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("new_facts", sa.Boolean(), nullable=False),
        sa.Column("repeat_of", sa.Text(), nullable=True),
        sa.Column("repeat_rule", sa.Text(), nullable=True),
        sa.Column("notice_id", sa.Text(), nullable=True),
        sa.Column("handling_unit", sa.Text(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"], ["intake.notices.notice_id"], name=op.f("fk_tickets_notice_id_notices")
        ),
        sa.ForeignKeyConstraint(
            ["repeat_of"], ["intake.tickets.ticket_no"], name=op.f("fk_tickets_repeat_of_tickets")
        ),
        sa.PrimaryKeyConstraint("ticket_no", name=op.f("pk_tickets")),
        sa.UniqueConstraint(
            "sender", "source_ticket_id", name=op.f("uq_tickets_sender_source_ticket_id")
        ),
        schema="intake",
    )
    op.create_index(
        op.f("ix_tickets_call_id"), "tickets", ["call_id"], unique=False, schema="intake"
    )
    op.create_index(
        "ix_tickets_caller_recent",
        "tickets",
        ["caller_number", "accepted_at"],
        unique=False,
        schema="intake",
    )
    op.create_index(
        "ix_tickets_place_recent",
        "tickets",
        ["location_code", "category", "accepted_at"],
        unique=False,
        schema="intake",
    )
    op.create_index(
        op.f("ix_tickets_repeat_of"), "tickets", ["repeat_of"], unique=False, schema="intake"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_tickets_repeat_of"), table_name="tickets", schema="intake")
    op.drop_index("ix_tickets_place_recent", table_name="tickets", schema="intake")
    op.drop_index("ix_tickets_caller_recent", table_name="tickets", schema="intake")
    op.drop_index(op.f("ix_tickets_call_id"), table_name="tickets", schema="intake")
    op.drop_table("tickets", schema="intake")
    op.drop_table("webhook_deliveries", schema="intake")
    op.drop_index("ix_notices_active", table_name="notices", schema="intake")
    op.drop_table("notices", schema="intake")
    op.drop_table("calls", schema="intake")
    op.drop_table("burst_alerts", schema="intake")
    op.execute(sa.schema.DropSequence(sa.Sequence("ticket_number_seq", schema="intake")))
