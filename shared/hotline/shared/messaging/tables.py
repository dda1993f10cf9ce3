"""The tables behind the outbox and the idempotent consumer, present in every service's schema."""

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
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
    parked_events: Table


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
        # The W3C trace context the event was announced in, sent as its record's header.
        Column("traceparent", Text),
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
        # Where a published event sits in the broker, compared with the consumers' offsets.
        Index("ix_outbox_topic_partition_offset", "topic", "partition", "offset"),
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
        # The low-water mark: the oldest event some consumer group may not have processed yet,
        # as seen at `replay_mark_at` (what a broker that lost its log must be sent again).
        Column("replay_from_id", BigInteger),
        Column("replay_mark_at", DateTime(timezone=True)),
    )
    parked_events = Table(
        "parked_events",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("consumer", Text, nullable=False),
        Column("topic", Text, nullable=False),
        Column("partition", Integer, nullable=False),
        Column("offset", BigInteger, nullable=False),
        Column("key", Text),
        Column("event_id", Uuid),
        Column("event_type", Text),
        Column("value", LargeBinary, nullable=False),
        Column("error", Text, nullable=False),
        Column("attempts", Integer, nullable=False),
        # parked, replayed, discarded
        Column("status", Text, nullable=False),
        Column("parked_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("resolved_at", DateTime(timezone=True)),
        Column("resolved_by", Text),
        Column("note", Text),
        Index("ix_parked_events_status", "status", "parked_at"),
        Index(
            "uq_parked_events_waiting",
            "consumer",
            "event_id",
            unique=True,
            postgresql_where=text("status = 'parked'"),
        ),
    )
    return MessagingTables(outbox, processed_events, relay_state, parked_events)
