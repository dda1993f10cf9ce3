"""The transactional outbox: events are rows written with the change, published after commit.

`add_events` writes events in the caller's transaction, so a rolled-back change publishes nothing.
`OutboxRelay` publishes committed rows in id order (so in order per ticket) with `acks="all"`:
it reads a batch, sends it, and marks the acknowledged prefix published, each database step its
own short statement, so no transaction is open while the broker is asked anything. One relay per
schema publishes at a time: the one holding a session-level advisory lock on its own connection.

Published rows are kept for the retention window. While the broker is alive the relay records a
low-water mark: the oldest published event some consumer group has not committed past yet. If
the broker comes back without its log (the embedded broker keeps it in memory), the relay
notices the broker's new epoch and publishes again only what lies at or above the mark, plus
what it published after the mark was taken; consumers drop what they had already processed.
"""

import asyncio
import json
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from sqlalchemy import (
    BigInteger,
    Integer,
    Text,
    and_,
    column,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
    values,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from hotline.shared import tracing
from hotline.shared.backoff import Backoff, sleep_unless_stopped
from hotline.shared.db import database_unavailable
from hotline.shared.messaging.events import CONSUMER_GROUPS, CONTENT_TYPE, Event
from hotline.shared.messaging.kafka import Broker, event_topics
from hotline.shared.messaging.tables import MessagingTables
from hotline.shared.settings import OutboxSettings
from hotline.shared.web.metrics import (
    OUTBOX_OLDEST_UNPUBLISHED,
    OUTBOX_PENDING,
    OUTBOX_PUBLISHED,
    OUTBOX_RELAY_FAILURES,
    OUTBOX_REPLAYED_EVENTS,
    OUTBOX_REPLAYS,
)

log = logging.getLogger(__name__)

BROKER_EPOCH_TOPIC = "hotline.broker-epoch"
HOUSEKEEPING_INTERVAL_SECONDS = 60.0
EPOCH_READ_TIMEOUT_SECONDS = 10.0
FOLLOWER_POLL_SECONDS = 2.0


async def add_events(session: AsyncSession, tables: MessagingTables, *events: Event) -> None:
    """Write events to the outbox inside the session's transaction, each with the trace it is
    announced in (the request's or the handled event's; outside both, a new one)."""
    if not events:
        return
    await session.execute(insert(tables.outbox), outbox_rows(events))


def outbox_rows(events: Sequence[Event]) -> list[dict[str, Any]]:
    """The outbox rows of events, each with the trace it is announced in (for `add_events`, or
    a statement of one's own)."""
    started = None
    rows = []
    for event in events:
        trace = tracing.for_key(event.key) or (started := started or tracing.TraceContext.start())
        rows.append(
            {
                "event_id": event.id,
                "event_type": event.type,
                "topic": event.topic,
                "key": event.key,
                "payload": event.model_dump(mode="json"),
                "traceparent": trace.header,
            }
        )
    return rows


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


class LeaderLost(Exception):
    """The relay's own database connection failed: the lead is given up and taken again."""


class LeaderConnection:
    """The relay's connection, whose failures say the database is away, not the broker."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        try:
            return await self.connection.execute(statement, parameters)
        except Exception as error:
            if database_unavailable(error):
                raise LeaderLost(repr(error)) from error
            raise

    async def scalar(self, statement: Any, parameters: Any = None) -> Any:
        return (await self.execute(statement, parameters)).scalar()


class OutboxRelay:
    """Publishes one service's outbox while it leads (advisory lock); checks the broker's epoch
    and the consumers' progress between batches."""

    def __init__(
        self,
        *,
        service: str,
        engine: AsyncEngine,
        tables: MessagingTables,
        broker: Broker,
        settings: OutboxSettings,
        processed_retention: timedelta,
        consumer_groups: Mapping[str, Sequence[str]] = CONSUMER_GROUPS,
        housekeeping: Sequence[Any] = (),
    ) -> None:
        self.service = service
        self.engine = engine
        self.tables = tables
        self.broker = broker
        self.settings = settings
        self.processed_retention = processed_retention
        self.consumer_groups = consumer_groups
        # Extra `DELETE` statements run with the relay's housekeeping (expired webhook ids, say).
        self.housekeeping = housekeeping
        self._epoch = BrokerEpoch(broker)
        self._lock_key = f"hotline.outbox.{tables.outbox.schema}"
        self._last_housekeeping = -float("inf")
        self._next_broker_check = 0.0
        self._next_low_water_mark = 0.0

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until `stop` is set; the batch in hand is finished first."""
        backoff = Backoff(self.settings.idle_poll_seconds, self.settings.max_backoff_seconds)
        try:
            while not stop.is_set():
                try:
                    await self._lead_while_possible(stop, backoff)
                except Exception as error:
                    OUTBOX_RELAY_FAILURES.labels(self.service).inc()
                    delay = backoff.next_delay()
                    if isinstance(error, LeaderLost) or database_unavailable(error):
                        log.warning("outbox relay waits for the database (%s)", error)
                    else:
                        log.exception("outbox relay failed; starting over in %.1fs", delay)
                    await sleep_unless_stopped(stop, delay)
        finally:
            await self._epoch.close()

    async def _lead_while_possible(self, stop: asyncio.Event, backoff: Backoff) -> None:
        """On one connection of its own: take the lead, then publish and check until stopped
        (a lost connection ends the lead; the caller takes it again)."""
        async with self.engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            leader = LeaderConnection(connection)
            while not stop.is_set() and not await self._take_lead(leader):
                await sleep_unless_stopped(stop, FOLLOWER_POLL_SECONDS)
            try:
                while not stop.is_set():
                    await self._step(leader, stop, backoff)
            finally:
                await self._give_up_lead(connection)

    async def _give_up_lead(self, connection: AsyncConnection) -> None:
        """Unlock, or drop the connection: a pooled connection would keep a session lock."""
        try:
            await connection.execute(text("SELECT pg_advisory_unlock_all()"))
        except Exception:
            await connection.invalidate()

    async def _take_lead(self, leader: LeaderConnection) -> bool:
        locked = await leader.scalar(
            text("SELECT pg_try_advisory_lock(hashtext(:key))"), {"key": self._lock_key}
        )
        return bool(locked)

    async def _step(self, leader: LeaderConnection, stop: asyncio.Event, backoff: Backoff) -> None:
        """Check the broker when due, tidy up when due, publish a batch. The database going
        away ends the lead (`LeaderLost`); anything else is the broker's, waited out here."""
        loop = asyncio.get_running_loop()
        if loop.time() >= self._next_broker_check:
            self._next_broker_check = loop.time() + self.settings.broker_check_seconds
            try:
                await self._check_broker(leader)
            except LeaderLost:
                raise
            except Exception as error:
                # Publishing goes on: what reaches a broker that lost its log before we notice
                # is replayed with the rest once the check succeeds.
                log.warning("cannot check the broker's epoch yet (%r)", error)
                await self._epoch.close()
        if loop.time() - self._last_housekeeping >= HOUSEKEEPING_INTERVAL_SECONDS:
            await self.delete_expired(leader)
            self._last_housekeeping = loop.time()
        try:
            published = await self.publish_batch(leader)
        except LeaderLost:
            raise
        except Exception as error:
            OUTBOX_RELAY_FAILURES.labels(self.service).inc()
            delay = backoff.next_delay()
            log.warning("outbox relay cannot publish yet (%r); retrying in %.1fs", error, delay)
            await self.broker.reset()
            await sleep_unless_stopped(stop, delay)
            return
        backoff.reset()
        if published < self.settings.batch_size:
            await sleep_unless_stopped(stop, self.settings.idle_poll_seconds)

    async def publish_batch(self, leader: LeaderConnection) -> int:
        """Publish the oldest unpublished events; returns how many were published."""
        outbox = self.tables.outbox
        rows = (
            await leader.execute(
                select(
                    outbox.c.id,
                    outbox.c.topic,
                    outbox.c.key,
                    outbox.c.payload,
                    outbox.c.traceparent,
                )
                .where(outbox.c.published_at.is_(None))
                .order_by(outbox.c.id)
                .limit(self.settings.batch_size)
            )
        ).all()
        if not rows:
            OUTBOX_PENDING.labels(self.service).set(0)
            OUTBOX_OLDEST_UNPUBLISHED.labels(self.service).set(0)
            return 0
        acknowledged, error = await self._send_in_order(rows)
        if acknowledged:
            ids, partitions, offsets = zip(*acknowledged, strict=True)
            sent = (
                select(
                    func.unnest(literal(list(ids), type_=ARRAY(BigInteger))).label("id"),
                    func.unnest(literal(list(partitions), type_=ARRAY(Integer))).label("p"),
                    func.unnest(literal(list(offsets), type_=ARRAY(BigInteger))).label("o"),
                )
            ).subquery()
            await leader.execute(
                update(outbox)
                .where(outbox.c.id == sent.c.id)
                .values(published_at=func.now(), partition=sent.c.p, offset=sent.c.o)
            )
        for row in rows[: len(acknowledged)]:
            OUTBOX_PUBLISHED.labels(self.service, row.payload["type"]).inc()
        if error is not None:
            raise error
        return len(acknowledged)

    async def _send_in_order(
        self, rows: Sequence[Any]
    ) -> tuple[list[tuple[int, int, int]], BaseException | None]:
        """Send a batch; returns the acknowledged prefix (id, partition, offset) and the first
        error.

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
                        headers=_headers(row.traceparent),
                    )
                )
            except KafkaError as error:
                send_error = error
                break
        results = await asyncio.gather(*deliveries, return_exceptions=True)
        acknowledged: list[tuple[int, int, int]] = []
        for row, result in zip(rows, results, strict=False):
            if isinstance(result, BaseException):
                return acknowledged, result
            acknowledged.append((row.id, result.partition, result.offset))
        return acknowledged, send_error

    async def _check_broker(self, leader: LeaderConnection) -> None:
        """Replay to a broker that lost its log; otherwise move the low-water mark."""
        epoch = await self._epoch.read()
        state = self.tables.relay_state
        known = await leader.scalar(select(state.c.broker_epoch).where(state.c.id == 1))
        if known != epoch:
            await self._adopt_epoch(leader, known, epoch)
            return
        loop = asyncio.get_running_loop()
        if loop.time() >= self._next_low_water_mark:
            self._next_low_water_mark = loop.time() + self.settings.low_water_mark_seconds
            await self._record_low_water_mark(leader, epoch)

    async def _adopt_epoch(self, leader: LeaderConnection, known: str | None, epoch: str) -> None:
        state, outbox = self.tables.relay_state, self.tables.outbox
        await self.broker.ensure_topics(event_topics())
        if known is not None:
            mark = (
                await leader.execute(
                    select(state.c.replay_from_id, state.c.replay_mark_at).where(state.c.id == 1)
                )
            ).one()
            window_start = func.now() - timedelta(hours=self.settings.retention_hours)
            needed = [outbox.c.published_at.is_not(None), outbox.c.created_at >= window_start]
            if mark.replay_mark_at is not None:
                # Everything some consumer may not have had, and all published since the mark.
                needed.append(
                    or_(
                        outbox.c.id >= (mark.replay_from_id or 0),
                        outbox.c.published_at >= mark.replay_mark_at,
                    )
                )
            replayed = await leader.execute(
                update(outbox).where(*needed).values(published_at=None, partition=None, offset=None)
            )
            OUTBOX_REPLAYS.labels(self.service).inc()
            OUTBOX_REPLAYED_EVENTS.labels(self.service).inc(replayed.rowcount)
            log.warning(
                "broker epoch changed (%s -> %s): replaying %d published events",
                known,
                epoch,
                replayed.rowcount,
            )
        # Recorded after the replay is marked: a crash between the two replays again, harmlessly.
        await leader.execute(
            pg_insert(state)
            .values(id=1, broker_epoch=epoch, replay_from_id=None, replay_mark_at=None)
            .on_conflict_do_update(
                index_elements=[state.c.id],
                set_={
                    "broker_epoch": epoch,
                    "updated_at": func.now(),
                    "replay_from_id": None,
                    "replay_mark_at": None,
                },
            )
        )

    async def _record_low_water_mark(self, leader: LeaderConnection, epoch: str) -> None:
        """The oldest published event some consumer group has not committed past, as of now."""
        taken_at: datetime | None = await leader.scalar(select(func.now()))
        committed = await self.broker.committed_offsets(self.consumer_groups)
        if await self._epoch.read() != epoch:
            return  # the broker restarted while we asked: these offsets are not the old log's
        outbox, state = self.tables.outbox, self.tables.relay_state
        oldest = await leader.scalar(
            select(func.min(outbox.c.id)).where(self._not_yet_consumed(committed))
        )
        if oldest is None:
            oldest = (await leader.scalar(select(func.max(outbox.c.id)))) or 0
            oldest += 1
        await leader.execute(
            update(state)
            .where(state.c.id == 1, state.c.broker_epoch == epoch)
            .values(replay_from_id=oldest, replay_mark_at=taken_at)
        )

    def _not_yet_consumed(self, committed: Mapping[tuple[str, int], int]) -> Any:
        """Unpublished, or published on a consumed topic at or past the offset some group
        expected on it has committed (an expected group the broker does not know counts as
        having committed nothing)."""
        outbox = self.tables.outbox
        consumed_topics = list(self.consumer_groups)
        if not committed:
            return or_(outbox.c.published_at.is_(None), outbox.c.topic.in_(consumed_topics))
        low_water = values(
            column("topic", Text),
            column("partition", Integer),
            column("low", BigInteger),
            name="low_water",
        ).data([(topic, partition, low) for (topic, partition), low in committed.items()])
        consumed_by_all = (
            select(literal(1))
            .where(
                low_water.c.topic == outbox.c.topic,
                low_water.c.partition == outbox.c.partition,
                low_water.c.low > outbox.c.offset,
            )
            .exists()
        )
        return or_(
            outbox.c.published_at.is_(None),
            and_(outbox.c.topic.in_(consumed_topics), ~consumed_by_all),
        )

    async def delete_expired(self, leader: LeaderConnection) -> None:
        """Forget published events and processed ids older than their retention."""
        outbox, processed = self.tables.outbox, self.tables.processed_events
        await leader.execute(
            delete(outbox).where(
                outbox.c.published_at.is_not(None),
                outbox.c.created_at < func.now() - timedelta(hours=self.settings.retention_hours),
            )
        )
        await leader.execute(
            delete(processed).where(
                processed.c.processed_at < func.now() - self.processed_retention
            )
        )
        for statement in self.housekeeping:
            await leader.execute(statement)
        pending = (
            await leader.execute(
                select(func.count(), func.min(outbox.c.created_at), func.now())
                .select_from(outbox)
                .where(outbox.c.published_at.is_(None))
            )
        ).one()
        OUTBOX_PENDING.labels(self.service).set(pending[0] or 0)
        oldest_age = (pending[2] - pending[1]).total_seconds() if pending[1] else 0.0
        OUTBOX_OLDEST_UNPUBLISHED.labels(self.service).set(oldest_age)


def _headers(traceparent: str | None) -> list[tuple[str, bytes]]:
    headers = [("content-type", CONTENT_TYPE.encode())]
    if traceparent:
        headers.append((tracing.TRACEPARENT, traceparent.encode()))
    return headers


def _json_bytes(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
