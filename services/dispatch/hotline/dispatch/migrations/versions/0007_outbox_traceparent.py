"""The W3C trace context each outbox event was announced in, sent with it as a header.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from hotline.shared.messaging.table_migrations import (
    downgrade_messaging_tables_v3,
    upgrade_messaging_tables_v3,
)

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "dispatch"


def upgrade() -> None:
    upgrade_messaging_tables_v3(SCHEMA)


def downgrade() -> None:
    downgrade_messaging_tables_v3(SCHEMA)
