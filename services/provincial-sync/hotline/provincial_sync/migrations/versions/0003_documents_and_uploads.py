"""Upload documents, the events they are folded from, call records, upload attempts and what
the province reported back.

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

SCHEMA = "provincial_sync"
JSONB = postgresql.JSONB(astext_type=sa.Text())
NOW = sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "ticket_events",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("ticket_no", sa.Text(), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", JSONB, nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_ticket_events")),
        schema=SCHEMA,
    )
    op.create_index(
        op.f("ix_ticket_events_ticket_no"), "ticket_events", ["ticket_no"], schema=SCHEMA
    )
    op.create_table(
        "calls",
        sa.Column("call_id", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document", JSONB, nullable=False),
        sa.PrimaryKeyConstraint("call_id", name=op.f("pk_calls")),
        schema=SCHEMA,
    )
    op.create_table(
        "documents",
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("record_id", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content", JSONB, nullable=False),
        sa.Column("content_hash", sa.Text(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("findings", JSONB, server_default="[]", nullable=False),
        sa.Column("unit_id", sa.Text(), nullable=True),
        sa.Column("unit_name", sa.Text(), nullable=True),
        sa.Column("call_id", sa.Text(), nullable=True),
        sa.Column("released_version", sa.Integer(), nullable=True),
        sa.Column("released_by", sa.Text(), nullable=True),
        sa.Column("release_reason", sa.Text(), nullable=True),
        sa.Column("uploaded_version", sa.Integer(), server_default="0", nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refusals", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "next_attempt_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False
        ),
        sa.Column("leased_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_id", sa.Uuid(), nullable=True),
        sa.Column("pending_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_code", sa.Text(), nullable=True),
        sa.Column("last_message", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("kind", "record_id", name=op.f("pk_documents")),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_documents_pending",
        "documents",
        ["changed_at"],
        postgresql_where=sa.text("status = 'pending'"),
        schema=SCHEMA,
    )
    op.create_index("ix_documents_status_unit", "documents", ["status", "unit_name"], schema=SCHEMA)
    op.create_index("ix_documents_accepted_at", "documents", ["accepted_at"], schema=SCHEMA)
    op.create_index(
        "ix_documents_call_id",
        "documents",
        ["call_id"],
        postgresql_where=sa.text("kind = 'ticket'"),
        schema=SCHEMA,
    )
    op.create_table(
        "upload_attempts",
        sa.Column("attempt_id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("record_id", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.Text(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("code", sa.Text(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("attempt_id", name=op.f("pk_upload_attempts")),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_upload_attempts_record", "upload_attempts", ["kind", "record_id"], schema=SCHEMA
    )
    op.create_index("ix_upload_attempts_at", "upload_attempts", ["attempted_at"], schema=SCHEMA)
    op.create_table(
        "province_reports",
        sa.Column("report_key", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("record_id", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("report_key", name=op.f("pk_province_reports")),
        schema=SCHEMA,
    )


def downgrade() -> None:
    for table in ("province_reports", "upload_attempts", "documents", "calls", "ticket_events"):
        op.drop_table(table, schema=SCHEMA)
