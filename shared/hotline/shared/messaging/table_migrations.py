"""Schema operations for the messaging tables, frozen per version for use in migrations.

A migration must keep doing what it did when written, so these functions are never edited:
a change to the messaging tables gets a new function and a new migration in every service.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql


def create_messaging_tables_v1(schema: str) -> None:
    """Outbox, processed events and relay state, as `messaging_tables` first declared them."""
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("partition", sa.Integer()),
        sa.Column("offset", sa.BigInteger()),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("event_id", name="uq_outbox_event_id"),
        schema=schema,
    )
    op.create_index(
        "ix_outbox_unpublished",
        "outbox",
        ["id"],
        schema=schema,
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.create_index("ix_outbox_created_at", "outbox", ["created_at"], schema=schema)
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column(
            "processed_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.now(),
        ),
        sa.PrimaryKeyConstraint("consumer", "event_id", name="pk_processed_events"),
        schema=schema,
    )
    op.create_index(
        "ix_processed_events_processed_at", "processed_events", ["processed_at"], schema=schema
    )
    op.create_table(
        "outbox_relay_state",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("broker_epoch", sa.Text(), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("id", name="pk_outbox_relay_state"),
        schema=schema,
    )


def drop_messaging_tables_v1(schema: str) -> None:
    op.drop_table("outbox_relay_state", schema=schema)
    op.drop_table("processed_events", schema=schema)
    op.drop_table("outbox", schema=schema)
