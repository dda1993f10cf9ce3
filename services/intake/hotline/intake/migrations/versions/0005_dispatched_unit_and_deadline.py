"""The unit dispatch sent a ticket to, and its deadline (from `ticket.dispatched` and an approved
extension): what a citizen asking after the ticket is told.

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

SCHEMA = "intake"


def upgrade() -> None:
    op.add_column("tickets", sa.Column("dispatched_unit", sa.Text()), schema=SCHEMA)
    op.add_column("tickets", sa.Column("deadline", sa.DateTime(timezone=True)), schema=SCHEMA)


def downgrade() -> None:
    op.drop_column("tickets", "deadline", schema=SCHEMA)
    op.drop_column("tickets", "dispatched_unit", schema=SCHEMA)
