"""The tables behind the outbox and the idempotent consumer, present in every service's schema."""

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    Table,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB


@dataclass(frozen=True)
class MessagingTables:
    outbox: Table
    processed_events: Table
    relay_state: Table


def define_messaging_tables(metadata: MetaData) -> MessagingTables:
    """Declare the outbox, processed-event and relay-state tables on a service's metadata."""
    outbox = Table(
        "outbox",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("event_id", Uuid, nullable=False, unique=True),
        Column("event_type", Text, nullable=False),
        Column("topic", Text, nullable=False),
        Column("key", Text, nullable=False),
        Column("payload", JSONB, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True)),
        Column("partition", Integer),
        Column("offset", BigInteger),
        Index(
            "ix_outbox_unpublished",
            "id",
            postgresql_where=text("published_at IS NULL"),
        ),
        Index("ix_outbox_created_at", "created_at"),
    )
    processed_events = Table(
        "processed_events",
        metadata,
        Column("consumer", Text, primary_key=True),
        Column("event_id", Uuid, primary_key=True),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Index("ix_processed_events_processed_at", "processed_at"),
    )
    relay_state = Table(
        "outbox_relay_state",
        metadata,
        Column("id", SmallInteger, primary_key=True),
        Column("broker_epoch", Text, nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    return MessagingTables(outbox, processed_events, relay_state)
