"""Overdue records that outlive extensions (Attachment 2), and the hotline's note to the unit.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "overdue_records",
        sa.Column("record_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_no", sa.Text(), nullable=False),
        sa.Column("unit_id", sa.Text(), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_no"],
            ["dispatch.tickets.ticket_no"],
            name=op.f("fk_overdue_records_ticket_no_tickets"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["dispatch.units.unit_id"], name=op.f("fk_overdue_records_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_overdue_records")),
        schema="dispatch",
    )
    op.create_index(
        op.f("ix_overdue_records_ticket_no"),
        "overdue_records",
        ["ticket_no"],
        unique=False,
        schema="dispatch",
    )
    op.create_index(
        op.f("ix_overdue_records_unit_id"),
        "overdue_records",
        ["unit_id"],
        unique=False,
        schema="dispatch",
    )
    op.add_column("tickets", sa.Column("review_note", sa.Text(), nullable=True), schema="dispatch")


def downgrade() -> None:
    op.drop_column("tickets", "review_note", schema="dispatch")
    op.drop_index(
        op.f("ix_overdue_records_unit_id"), table_name="overdue_records", schema="dispatch"
    )
    op.drop_index(
        op.f("ix_overdue_records_ticket_no"), table_name="overdue_records", schema="dispatch"
    )
    op.drop_table("overdue_records", schema="dispatch")
