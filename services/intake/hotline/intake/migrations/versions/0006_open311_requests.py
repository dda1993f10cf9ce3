"""Open311 (GeoReport v2) requests beside the tickets they became: where (lat/long), media, the
account and device that sent them, and the notice they were given.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "intake"


def upgrade() -> None:
    op.create_table(
        "open311_requests",
        sa.Column("ticket_no", sa.Text(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("lat", sa.Float()),
        sa.Column("long", sa.Float()),
        sa.Column("email", sa.Text()),
        sa.Column("device_id", sa.Text()),
        sa.Column("account_id", sa.Text()),
        sa.Column("media_url", sa.Text()),
        sa.Column("service_notice", sa.Text()),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_no"],
            ["intake.tickets.ticket_no"],
            name=op.f("fk_open311_requests_ticket_no_tickets"),
        ),
        sa.PrimaryKeyConstraint("ticket_no", name=op.f("pk_open311_requests")),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_open311_requests_accepted", "open311_requests", ["accepted_at"], schema=SCHEMA
    )


def downgrade() -> None:
    op.drop_index("ix_open311_requests_accepted", table_name="open311_requests", schema=SCHEMA)
    op.drop_table("open311_requests", schema=SCHEMA)
