"""The simulated business clock: one row, shared by every service (`HOTLINE_CLOCK=simulated`).

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "clock"


def upgrade() -> None:
    op.create_table(
        "business_clock",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("business_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("wall_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("moves", sa.BigInteger(), nullable=False),
        sa.Column("moved_by", sa.Text()),
        sa.CheckConstraint("id = 1", name="ck_business_clock_one_row"),
        sa.PrimaryKeyConstraint("id", name="pk_business_clock"),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("business_clock", schema=SCHEMA)
