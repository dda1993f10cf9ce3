"""Indexes for every list, queue and count (a unit's open work, the supervisors' queue, pending
requests and replies, open tickets by unit), the reason a ticket was reopened, and no more rows
for tickets the hotline answered itself (intake hands those over if they are reopened).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "dispatch"


def upgrade() -> None:
    op.add_column("tickets", sa.Column("reopen_reason", sa.Text()), schema=SCHEMA)
    op.execute("DELETE FROM dispatch.tickets WHERE state = 'at_intake'")
    op.create_index(
        "ix_tickets_unit_open_work",
        "tickets",
        ["unit_id", "deadline", "ticket_no"],
        schema=SCHEMA,
        postgresql_where="state IN ('dispatched', 'signed', 'return_requested')",
    )
    op.create_index(
        "ix_tickets_open_by_unit",
        "tickets",
        ["unit_id", "state"],
        schema=SCHEMA,
        postgresql_where="state <> 'closed'",
    )
    op.create_index(
        "ix_tickets_manual_queue",
        "tickets",
        ["accepted_at"],
        schema=SCHEMA,
        postgresql_where="state = 'manual'",
    )
    op.create_index(
        "ix_replies_waiting",
        "replies",
        ["created_at"],
        schema=SCHEMA,
        postgresql_where="status = 'pending'",
    )
    op.create_index(
        "ix_unit_requests_waiting",
        "unit_requests",
        ["created_at"],
        schema=SCHEMA,
        postgresql_where="status = 'pending'",
    )


def downgrade() -> None:
    for table, index in (
        ("unit_requests", "ix_unit_requests_waiting"),
        ("replies", "ix_replies_waiting"),
        ("tickets", "ix_tickets_manual_queue"),
        ("tickets", "ix_tickets_open_by_unit"),
        ("tickets", "ix_tickets_unit_open_work"),
    ):
        op.drop_index(index, table_name=table, schema=SCHEMA)
    op.drop_column("tickets", "reopen_reason", schema=SCHEMA)
