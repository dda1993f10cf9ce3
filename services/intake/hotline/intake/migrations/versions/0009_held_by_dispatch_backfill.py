"""Forwarded tickets accepted while intake's one-statement insert left `held_by_dispatch` out
were stored as not held (the column's default): mark those dispatch holds, the forwarded ones
still open or that dispatch has sent to a unit.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "UPDATE intake.tickets SET held_by_dispatch = true "
        "WHERE handling_mode = 'forward' AND NOT held_by_dispatch "
        "AND (status = 'open' OR dispatched_unit IS NOT NULL)"
    )


def downgrade() -> None:
    pass  # which rows were wrong is not kept: they stay right
