"""The transactional outbox: events are rows written with the change, published after commit.

`add_events` writes events in the caller's transaction, so a rolled-back change publishes nothing.
`OutboxRelay` publishes committed rows in id order (so in order per ticket) with `acks="all"`,
marks them published, and keeps them for the retention window: if the broker comes back without
its log (the embedded broker keeps it in memory), the relay notices the broker's new epoch and
publishes the window again; consumers drop what they had already processed.
"""

import asyncio
import json
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any
from uuid import uuid4

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from sqlalchemy import bindparam, delete, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from hotline.shared.backoff import Backoff, sleep_unless_stopped
from hotline.shared.messaging.events import CONTENT_TYPE, Event
from hotline.shared.messaging.kafka import Broker, event_topics
from hotline.shared.messaging.tables import MessagingTables
from hotline.shared.settings import OutboxSettings
from hotline.shared.web.metrics import (
    OUTBOX_PENDING,
    OUTBOX_PUBLISHED,
    OUTBOX_RELAY_FAILURES,
    OUTBOX_REPLAYS,
)

log = logging.getLogger(__name__)

BROKER_EPOCH_TOPIC = "hotline.broker-epoch"
HOUSEKEEPING_INTERVAL_SECONDS = 60.0
EPOCH_READ_TIMEOUT_SECONDS = 10.0


async def add_events(session: AsyncSession, tables: MessagingTables, *events: Event) -> None:
    """Write events to the outbox inside the session's transaction."""
    if not events:
        return
    await session.execute(
        insert(tables.outbox),
        [
            {
                "event_id": event.id,
                "event_type": event.type,
                "topic": event.topic,
                "key": event.key,
                "payload": event.model_dump(mode="json"),
            }
            for event in events
        ],
    )


class BrokerEpoch:
    """Identifies the broker's log: the first record of a one-partition marker topic.

    A broker that lost its log has no marker; the first relay to look writes one, and every
    relay reads the same first record, so all agree on the new epoch.
    """

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self._partition = TopicPartition(BROKER_EPOCH_TOPIC, 0)
        self._reader: AIOKafkaConsumer | None = None

    async def read(self) -> str:
        try:
            return await self._read()
        except BaseException:
            await self.close()
            raise

    async def _read(self) -> str:
        if self._reader is None:
            # Kept for ever: on Apache Kafka the marker must outlive any retention period.
            await self.broker.ensure_topics(
                {BROKER_EPOCH_TOPIC: 1}, {"retention.ms": "-1", "retention.bytes": "-1"}
            )
            # The marker topic is tiny: read it without the long fetch wait the broker may apply.
            reader = self.broker.new_consumer(group_id=None, fetch_max_wait_ms=10)
            await reader.start()
            reader.assign([self._partition])
            self._reader = reader
        reader = self._reader
        end = (await reader.end_offsets([self._partition]))[self._partition]
        start = (await reader.beginning_offsets([self._partition]))[self._partition]
        if end == start:
            producer = await self.broker.producer()
            await producer.send_and_wait(BROKER_EPOCH_TOPIC, uuid4().hex.encode(), partition=0)
        await reader.seek_to_beginning(self._partition)
        record = await asyncio.wait_for(reader.getone(self._partition), EPOCH_READ_TIMEOUT_SECONDS)
        return f"{record.offset}:{record.value.decode()}"

    async def close(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            await reader.stop()


class OutboxRelay:
    """Publishes one service's outbox; one relay per schema runs at a time (advisory lock)."""

    def __init__(
        self,
        *,
        service: str,
        engine: AsyncEngine,
        tables: MessagingTables,
        broker: Broker,
        settings: OutboxSettings,
        processed_retention: timedelta,
    ) -> None:
        self.service = service
        self.engine = engine
        self.tables = tables
        self.broker = broker
        self.settings = settings
        self.processed_retention = processed_retention
        self._epoch = BrokerEpoch(broker)
        self._lock_key = f"hotline.outbox.{tables.outbox.schema}"

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until `stop` is set; the batch in hand is finished first."""
        await asyncio.gather(self._publish_until(stop), self._watch_broker_until(stop))

    async def _publish_until(self, stop: asyncio.Event) -> None:
        backoff = Backoff(self.settings.idle_poll_seconds, self.settings.max_backoff_seconds)
        while not stop.is_set():
            try:
                published = await self.publish_batch()
            except Exception as error:
                OUTBOX_RELAY_FAILURES.labels(self.service).inc()
                delay = backoff.next_delay()
                log.warning("outbox relay cannot publish yet (%r); retrying in %.1fs", error, delay)
                if isinstance(error, KafkaError | OSError | TimeoutError):
                    await self.broker.reset()
                await sleep_unless_stopped(stop, delay)
                continue
            backoff.reset()
            if published < self.settings.batch_size:
                await sleep_unless_stopped(stop, self.settings.idle_poll_seconds)

    async def _watch_broker_until(self, stop: asyncio.Event) -> None:
        """Check the broker's epoch now and then, and delete what the retention window let go."""
        last_housekeeping = -float("inf")
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            try:
                await self.replay_if_broker_lost_its_log()
                if loop.time() - last_housekeeping >= HOUSEKEEPING_INTERVAL_SECONDS:
                    await self.delete_expired()
                    last_housekeeping = loop.time()
            except Exception as error:
                log.warning("cannot check the broker's epoch yet (%r)", error)
            await sleep_unless_stopped(stop, self.settings.broker_check_seconds)
        await self._epoch.close()

    async def publish_batch(self) -> int:
        """Publish the oldest unpublished events; returns how many were published."""
        async with self.engine.begin() as connection:
            if not await self._lead(connection):
                return 0
            outbox = self.tables.outbox
            rows = (
                await connection.execute(
                    select(outbox.c.id, outbox.c.topic, outbox.c.key, outbox.c.payload)
                    .where(outbox.c.published_at.is_(None))
                    .order_by(outbox.c.id)
                    .limit(self.settings.batch_size)
                )
            ).all()
            if not rows:
                OUTBOX_PENDING.labels(self.service).set(0)
                return 0
            acknowledged, error = await self._send_in_order(rows)
            if acknowledged:
                await connection.execute(
                    update(outbox)
                    .where(outbox.c.id == bindparam("row_id"))
                    .values(
                        published_at=func.now(),
                        partition=bindparam("row_partition"),
                        offset=bindparam("row_offset"),
                    ),
                    acknowledged,
                )
            for row in rows[: len(acknowledged)]:
                OUTBOX_PUBLISHED.labels(self.service, row.payload["type"]).inc()
        if error is not None:
            raise error
        return len(acknowledged)

    async def _send_in_order(
        self, rows: Sequence[Any]
    ) -> tuple[list[dict[str, int]], BaseException | None]:
        """Send a batch; returns the acknowledged prefix (in id order) and the first error.

        Only the prefix counts as published, so after a failure everything from the first
        unacknowledged event on is sent again: never out of order, at worst twice.
        """
        producer = await self.broker.producer()
        deliveries: list[asyncio.Future[Any]] = []
        send_error: BaseException | None = None
        for row in rows:
            try:
                deliveries.append(
                    await producer.send(
                        row.topic,
                        value=_json_bytes(row.payload),
                        key=row.key.encode(),
                        headers=[("content-type", CONTENT_TYPE.encode())],
                    )
                )
            except KafkaError as error:
                send_error = error
                break
        results = await asyncio.gather(*deliveries, return_exceptions=True)
        acknowledged: list[dict[str, int]] = []
        for row, result in zip(rows, results, strict=False):
            if isinstance(result, BaseException):
                return acknowledged, result
            acknowledged.append(
                {"row_id": row.id, "row_partition": result.partition, "row_offset": result.offset}
            )
        return acknowledged, send_error

    async def _lead(self, connection: AsyncConnection) -> bool:
        """Only the holder of this transaction-scoped lock publishes the schema's outbox."""
        locked = await connection.scalar(
            text("SELECT pg_try_advisory_xact_lock(hashtext(:key))"), {"key": self._lock_key}
        )
        return bool(locked)

    async def replay_if_broker_lost_its_log(self) -> None:
        """Mark the retention window unpublished when the broker's epoch is not the one we knew."""
        epoch = await self._epoch.read()
        state, outbox = self.tables.relay_state, self.tables.outbox
        async with self.engine.begin() as connection:
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": self._lock_key}
            )
            known = await connection.scalar(
                select(state.c.broker_epoch).where(state.c.id == 1).with_for_update()
            )
            if known == epoch:
                return
            if known is not None:
                window_start = func.now() - timedelta(hours=self.settings.retention_hours)
                replayed = await connection.execute(
                    update(outbox)
                    .where(outbox.c.published_at.is_not(None), outbox.c.created_at >= window_start)
                    .values(published_at=None, partition=None, offset=None)
                )
                OUTBOX_REPLAYS.labels(self.service).inc()
                log.warning(
                    "broker epoch changed (%s -> %s): replaying %d published events",
                    known,
                    epoch,
                    replayed.rowcount,
                )
            await self.broker.ensure_topics(event_topics())
            await connection.execute(
                pg_insert(state)
                .values(id=1, broker_epoch=epoch)
                .on_conflict_do_update(
                    index_elements=[state.c.id],
                    set_={"broker_epoch": epoch, "updated_at": func.now()},
                )
            )

    async def delete_expired(self) -> None:
        """Forget published events and processed ids older than their retention."""
        outbox, processed = self.tables.outbox, self.tables.processed_events
        async with self.engine.begin() as connection:
            await connection.execute(
                delete(outbox).where(
                    outbox.c.published_at.is_not(None),
                    outbox.c.created_at
                    < func.now() - timedelta(hours=self.settings.retention_hours),
                )
            )
            await connection.execute(
                delete(processed).where(
                    processed.c.processed_at < func.now() - self.processed_retention
                )
            )
            pending = await connection.scalar(
                select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
            )
        OUTBOX_PENDING.labels(self.service).set(pending or 0)


def _json_bytes(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
