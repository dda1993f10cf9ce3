"""Dispatch's tables (units, credentials, tickets, replies, unit requests).

(The bulletin's units were once seeded here; they are now a data step after the migrations,
`hotline.dispatch.seed`, so this history never reads application code or data files.)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "units",
        sa.Column("unit_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("categories", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("location_prefixes", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("contact", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
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
        sa.PrimaryKeyConstraint("unit_id", name=op.f("pk_units")),
        sa.UniqueConstraint("name", name=op.f("uq_units_name")),
        schema="dispatch",
    )
    op.create_table(
        "tickets",
        sa.Column("ticket_no", sa.Text(), nullable=False),
        sa.Column("request_type", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("location_code", sa.Text(), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("caller_salutation", sa.Text(), nullable=False),
        sa.Column("caller_number", sa.Text(), nullable=True),
        sa.Column("suggested_unit", sa.Text(), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("unit_id", sa.Text(), nullable=True),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
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
            ["unit_id"], ["dispatch.units.unit_id"], name=op.f("fk_tickets_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("ticket_no", name=op.f("pk_tickets")),
        schema="dispatch",
    )
    op.create_index(
        "ix_tickets_open_deadline",
        "tickets",
        ["deadline"],
        unique=False,
        schema="dispatch",
        postgresql_where="state <> 'closed'",
    )
    op.create_index(
        "ix_tickets_unit_state_deadline",
        "tickets",
        ["unit_id", "state", "deadline"],
        unique=False,
        schema="dispatch",
    )
    op.create_table(
        "unit_credentials",
        sa.Column("key_id", sa.Text(), nullable=False),
        sa.Column("unit_id", sa.Text(), nullable=False),
        sa.Column("secret_hash", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["dispatch.units.unit_id"], name=op.f("fk_unit_credentials_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_unit_credentials")),
        schema="dispatch",
    )
    op.create_index(
        op.f("ix_unit_credentials_unit_id"),
        "unit_credentials",
        ["unit_id"],
        unique=False,
        schema="dispatch",
    )
    op.create_table(
        "replies",
        sa.Column("reply_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_no", sa.Text(), nullable=False),
        sa.Column("unit_id", sa.Text(), nullable=False),
        sa.Column("actions", sa.Text(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("citizen_contacted", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("reviewer", sa.Text(), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_no"], ["dispatch.tickets.ticket_no"], name=op.f("fk_replies_ticket_no_tickets")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["dispatch.units.unit_id"], name=op.f("fk_replies_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("reply_id", name=op.f("pk_replies")),
        schema="dispatch",
    )
    op.create_index(
        op.f("ix_replies_ticket_no"), "replies", ["ticket_no"], unique=False, schema="dispatch"
    )
    op.create_table(
        "unit_requests",
        sa.Column("request_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_no", sa.Text(), nullable=False),
        sa.Column("unit_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("current_deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("requested_deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("reviewer", sa.Text(), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_no"],
            ["dispatch.tickets.ticket_no"],
            name=op.f("fk_unit_requests_ticket_no_tickets"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["dispatch.units.unit_id"], name=op.f("fk_unit_requests_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_unit_requests")),
        schema="dispatch",
    )
    op.create_index(
        "ix_unit_requests_pending",
        "unit_requests",
        ["ticket_no", "kind", "status"],
        unique=False,
        schema="dispatch",
    )
    op.create_index(
        op.f("ix_unit_requests_unit_id"),
        "unit_requests",
        ["unit_id"],
        unique=False,
        schema="dispatch",
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_unit_requests_unit_id"), table_name="unit_requests", schema="dispatch")
    op.drop_index("ix_unit_requests_pending", table_name="unit_requests", schema="dispatch")
    op.drop_table("unit_requests", schema="dispatch")
    op.drop_index(op.f("ix_replies_ticket_no"), table_name="replies", schema="dispatch")
    op.drop_table("replies", schema="dispatch")
    op.drop_index(
        op.f("ix_unit_credentials_unit_id"), table_name="unit_credentials", schema="dispatch"
    )
    op.drop_table("unit_credentials", schema="dispatch")
    op.drop_index("ix_tickets_unit_state_deadline", table_name="tickets", schema="dispatch")
    op.drop_index(
        "ix_tickets_open_deadline",
        table_name="tickets",
        schema="dispatch",
        postgresql_where="state <> 'closed'",
    )
    op.drop_table("tickets", schema="dispatch")
    op.drop_table("units", schema="dispatch")
