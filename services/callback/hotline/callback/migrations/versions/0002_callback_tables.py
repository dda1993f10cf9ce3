"""Callback's tables: the ticket view, surveys, survey-request attempts, spot checks, webhooks.

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
    op.create_table(
        "spot_checks",
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("ticket_no", sa.Text(), nullable=False),
        sa.Column("unit_id", sa.Text(), nullable=True),
        sa.Column("satisfaction", sa.Text(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_spot_checks")),
        schema="callback",
    )
    op.create_index(
        op.f("ix_spot_checks_ticket_no"),
        "spot_checks",
        ["ticket_no"],
        unique=False,
        schema="callback",
    )
    op.create_index(
        op.f("ix_spot_checks_unit_id"), "spot_checks", ["unit_id"], unique=False, schema="callback"
    )
    op.create_table(
        "tickets",
        sa.Column("ticket_no", sa.Text(), nullable=False),
        sa.Column("request_type", sa.Text(), nullable=True),
        sa.Column("caller_salutation", sa.Text(), nullable=True),
        sa.Column("caller_number", sa.Text(), nullable=True),
        sa.Column("unit_id", sa.Text(), nullable=True),
        sa.Column("unit_name", sa.Text(), nullable=True),
        sa.Column("claimed_contact", sa.Boolean(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("unit_version", sa.Integer(), nullable=False),
        sa.Column("claim_version", sa.Integer(), nullable=False),
        sa.Column("closed_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("ticket_no", name=op.f("pk_tickets")),
        schema="callback",
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
        schema="callback",
    )
    op.create_table(
        "surveys",
        sa.Column("survey_id", sa.Text(), nullable=False),
        sa.Column("ticket_no", sa.Text(), nullable=False),
        sa.Column("closed_version", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Text(), nullable=True),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("state_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("satisfaction", sa.Text(), nullable=True),
        sa.Column("unit_contacted", sa.Boolean(), nullable=True),
        sa.Column("resolved", sa.Boolean(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("outbound_call_id", sa.Text(), nullable=True),
        sa.Column("contradicted", sa.Boolean(), nullable=False),
        sa.Column("reopened", sa.Boolean(), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["ticket_no"], ["callback.tickets.ticket_no"], name=op.f("fk_surveys_ticket_no_tickets")
        ),
        sa.PrimaryKeyConstraint("survey_id", name=op.f("pk_surveys")),
        sa.UniqueConstraint(
            "ticket_no", "closed_version", name=op.f("uq_surveys_ticket_no_closed_version")
        ),
        schema="callback",
    )
    op.create_index(
        "ix_surveys_due", "surveys", ["state", "method", "due_at"], unique=False, schema="callback"
    )
    op.create_index(
        op.f("ix_surveys_unit_id"), "surveys", ["unit_id"], unique=False, schema="callback"
    )
    op.create_table(
        "survey_request_attempts",
        sa.Column("attempt_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("survey_id", sa.Text(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["callback.surveys.survey_id"],
            name=op.f("fk_survey_request_attempts_survey_id_surveys"),
        ),
        sa.PrimaryKeyConstraint("attempt_id", name=op.f("pk_survey_request_attempts")),
        schema="callback",
    )
    op.create_index(
        op.f("ix_survey_request_attempts_survey_id"),
        "survey_request_attempts",
        ["survey_id"],
        unique=False,
        schema="callback",
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_survey_request_attempts_survey_id"),
        table_name="survey_request_attempts",
        schema="callback",
    )
    op.drop_table("survey_request_attempts", schema="callback")
    op.drop_index(op.f("ix_surveys_unit_id"), table_name="surveys", schema="callback")
    op.drop_index("ix_surveys_due", table_name="surveys", schema="callback")
    op.drop_table("surveys", schema="callback")
    op.drop_table("webhook_deliveries", schema="callback")
    op.drop_table("tickets", schema="callback")
    op.drop_index(op.f("ix_spot_checks_unit_id"), table_name="spot_checks", schema="callback")
    op.drop_index(op.f("ix_spot_checks_ticket_no"), table_name="spot_checks", schema="callback")
    op.drop_table("spot_checks", schema="callback")
