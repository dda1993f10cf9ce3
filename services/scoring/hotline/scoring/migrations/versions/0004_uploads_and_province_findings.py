"""The uploads the province accepted (timeliness) and the findings it reported itself.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "scoring"


def upgrade() -> None:
    op.create_table(
        "uploads",
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("record_id", sa.Text(), nullable=False),
        sa.Column("record_version", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delay_seconds", sa.Float(), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "record_id", "record_version", name=op.f("pk_uploads")),
        schema=SCHEMA,
    )
    op.create_index("ix_uploads_period", "uploads", ["period"], schema=SCHEMA)
    op.create_table(
        "province_findings",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("record_id", sa.Text(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("field", sa.Text(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("unit_name", sa.Text(), nullable=True),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_province_findings")),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_province_findings_period_code",
        "province_findings",
        ["period", "code"],
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("province_findings", schema=SCHEMA)
    op.drop_table("uploads", schema=SCHEMA)
