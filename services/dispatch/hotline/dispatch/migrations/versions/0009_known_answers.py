"""The knowledge base's published entries as dispatch keeps them (`knowledge.entry_changed`):
evidence of what a unit has answered, beside its replies and returns.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "dispatch"


def upgrade() -> None:
    op.create_table(
        "known_answers",
        sa.Column("entry_id", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("entry_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("unit_id", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_known_answers")),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_known_answers_unit_published",
        "known_answers",
        ["unit_id", "changed_at"],
        schema=SCHEMA,
        postgresql_where="status = 'published'",
    )


def downgrade() -> None:
    op.drop_index("ix_known_answers_unit_published", "known_answers", schema=SCHEMA)
    op.drop_table("known_answers", schema=SCHEMA)
