"""What a ticket says in substance, the earlier tickets shown to the agent as possible repeats,
who merged it, and whether dispatch holds it (for handing over reopened tickets).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "intake"


def upgrade() -> None:
    op.add_column("tickets", sa.Column("substance", sa.Text()), schema=SCHEMA)
    op.add_column("tickets", sa.Column("repeat_candidates", postgresql.JSONB()), schema=SCHEMA)
    op.add_column(
        "tickets",
        sa.Column("held_by_dispatch", sa.Boolean(), server_default="false", nullable=False),
        schema=SCHEMA,
    )
    op.add_column("tickets", sa.Column("merged_by", sa.Text()), schema=SCHEMA)
    # Dispatch took every ticket forwarded open at acceptance.
    op.execute(
        "UPDATE intake.tickets SET held_by_dispatch = true WHERE handling_mode = 'forward' "
        "AND repeat_rule IS DISTINCT FROM 'in_progress_other_caller'"
    )


def downgrade() -> None:
    for column in ("merged_by", "held_by_dispatch", "repeat_candidates", "substance"):
        op.drop_column("tickets", column, schema=SCHEMA)
