"""One answer per question: a reply held as a second, different answer keeps the earlier
answers it contradicts (`earlier_answers`) and, once a supervisor prefers it, the replies it
supersedes point to it (`superseded_by`); a return keeps the unit's own earlier answers on such
questions (`evidence`). Indexes: a unit's accepted answers newest first (the look-back), and the
per-unit counts of second answers and of overturned returns.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "dispatch"


def upgrade() -> None:
    op.add_column("replies", sa.Column("earlier_answers", postgresql.JSONB()), schema=SCHEMA)
    op.add_column("replies", sa.Column("superseded_by", sa.Integer()), schema=SCHEMA)
    op.add_column("unit_requests", sa.Column("evidence", postgresql.JSONB()), schema=SCHEMA)
    op.create_index(
        "ix_replies_unit_answered",
        "replies",
        ["unit_id", "created_at"],
        schema=SCHEMA,
        postgresql_where="status = 'accepted'",
    )
    op.create_index(
        "ix_replies_two_answers",
        "replies",
        ["unit_id"],
        schema=SCHEMA,
        postgresql_where="earlier_answers IS NOT NULL",
    )
    op.create_index(
        "ix_unit_requests_overturned",
        "unit_requests",
        ["unit_id"],
        schema=SCHEMA,
        postgresql_where="kind = 'return' AND status = 'rejected'",
    )


def downgrade() -> None:
    op.drop_index("ix_unit_requests_overturned", "unit_requests", schema=SCHEMA)
    op.drop_index("ix_replies_two_answers", "replies", schema=SCHEMA)
    op.drop_index("ix_replies_unit_answered", "replies", schema=SCHEMA)
    op.drop_column("unit_requests", "evidence", schema=SCHEMA)
    op.drop_column("replies", "superseded_by", schema=SCHEMA)
    op.drop_column("replies", "earlier_answers", schema=SCHEMA)
