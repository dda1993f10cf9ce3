"""Parked events kept in the database, the relay's low-water mark, the outbox's broker index,
and each webhook's body hash, indexed by arrival.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from hotline.shared.messaging.table_migrations import (
    downgrade_messaging_tables_v2,
    downgrade_webhook_deliveries_v2,
    upgrade_messaging_tables_v2,
    upgrade_webhook_deliveries_v2,
)

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "callback"


def upgrade() -> None:
    upgrade_messaging_tables_v2(SCHEMA)
    upgrade_webhook_deliveries_v2(SCHEMA)


def downgrade() -> None:
    downgrade_webhook_deliveries_v2(SCHEMA)
    downgrade_messaging_tables_v2(SCHEMA)
