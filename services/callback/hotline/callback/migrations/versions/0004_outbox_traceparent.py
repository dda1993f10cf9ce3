"""The W3C trace context each outbox event was announced in, sent with it as a header.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from hotline.shared.messaging.table_migrations import (
    downgrade_messaging_tables_v3,
    upgrade_messaging_tables_v3,
)

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "callback"


def upgrade() -> None:
    upgrade_messaging_tables_v3(SCHEMA)


def downgrade() -> None:
    downgrade_messaging_tables_v3(SCHEMA)
