"""Parked events kept in the database, the relay's low-water mark, the outbox's broker index.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from hotline.shared.messaging.table_migrations import (
    downgrade_messaging_tables_v2,
    upgrade_messaging_tables_v2,
)

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "scoring"


def upgrade() -> None:
    upgrade_messaging_tables_v2(SCHEMA)


def downgrade() -> None:
    downgrade_messaging_tables_v2(SCHEMA)
