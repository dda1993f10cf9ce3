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


def upgrade_messaging_tables_v2(schema: str) -> None:
    """Parked events kept in the database, the relay's low-water mark, and the index that
    finds published events by their place in the broker."""
    op.create_index(
        "ix_outbox_topic_partition_offset",
        "outbox",
        ["topic", "partition", "offset"],
        schema=schema,
    )
    op.add_column("outbox_relay_state", sa.Column("replay_from_id", sa.BigInteger()), schema=schema)
    op.add_column(
        "outbox_relay_state",
        sa.Column("replay_mark_at", sa.DateTime(timezone=True)),
        schema=schema,
    )
    op.create_table(
        "parked_events",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("consumer", sa.Text(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.Text()),
        sa.Column("event_id", sa.Uuid()),
        sa.Column("event_type", sa.Text()),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column(
            "parked_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
        sa.Column("resolved_by", sa.Text()),
        sa.Column("note", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_parked_events"),
        schema=schema,
    )
    op.create_index(
        "ix_parked_events_status", "parked_events", ["status", "parked_at"], schema=schema
    )
    op.create_index(
        "uq_parked_events_waiting",
        "parked_events",
        ["consumer", "event_id"],
        unique=True,
        schema=schema,
        postgresql_where=sa.text("status = 'parked'"),
    )


def downgrade_messaging_tables_v2(schema: str) -> None:
    op.drop_table("parked_events", schema=schema)
    op.drop_column("outbox_relay_state", "replay_mark_at", schema=schema)
    op.drop_column("outbox_relay_state", "replay_from_id", schema=schema)
    op.drop_index("ix_outbox_topic_partition_offset", table_name="outbox", schema=schema)


def upgrade_messaging_tables_v3(schema: str) -> None:
    """The W3C trace context each outbox event was announced in (`traceparent`)."""
    op.add_column("outbox", sa.Column("traceparent", sa.Text()), schema=schema)


def downgrade_messaging_tables_v3(schema: str) -> None:
    op.drop_column("outbox", "traceparent", schema=schema)


def upgrade_webhook_deliveries_v2(schema: str) -> None:
    """The SHA-256 of each webhook's body, so a reused webhook-id with another body is refused,
    and an index to forget deliveries older than the replay window."""
    op.add_column("webhook_deliveries", sa.Column("body_sha256", sa.Text()), schema=schema)
    op.create_index(
        "ix_webhook_deliveries_received_at",
        "webhook_deliveries",
        ["received_at"],
        schema=schema,
    )


def downgrade_webhook_deliveries_v2(schema: str) -> None:
    op.drop_index(
        "ix_webhook_deliveries_received_at", table_name="webhook_deliveries", schema=schema
    )
    op.drop_column("webhook_deliveries", "body_sha256", schema=schema)
