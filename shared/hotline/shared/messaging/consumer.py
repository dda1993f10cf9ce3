"""The idempotent consumer: each event's effects and its id commit in one transaction.

Offsets are committed only after the database commit, so a crash redelivers and the recorded id
turns the redelivery into a no-op. Types the consumer has no handler for are skipped and
counted, whether or not this version of the code knows them (a rolling upgrade adds types). A
handler that keeps failing is retried with backoff, then the event is parked: stored in the
consumer's own `parked_events` table (to be replayed or discarded by an operator) and copied to
`<topic>.dlt`; the consumer moves on. A database that cannot be reached is waited for, however
long, and never parks anything.
"""

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from prometheus_client import Gauge
from pydantic import ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.shared import tracing
from hotline.shared.backoff import Backoff, sleep_unless_stopped
from hotline.shared.db import SessionFactory, database_unavailable, unit_of_work
from hotline.shared.messaging.events import (
    DEAD_LETTER_SUFFIX,
    KNOWN_EVENT_TYPES,
    AnyEvent,
    parse_event,
)
from hotline.shared.messaging.kafka import Broker
from hotline.shared.messaging.tables import MessagingTables
from hotline.shared.settings import ConsumerSettings
from hotline.shared.web.metrics import (
    CONSUMER_HANDLER_FAILURES,
    CONSUMER_LAG,
    EVENTS_CONSUMED,
    PARKED_EVENTS,
)

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, Any], Awaitable[None]]
BatchHandler = Callable[[AsyncSession, list[Any]], Awaitable[None]]
POLL_TIMEOUT_MS = 500
DEAD_LETTER_COPY_ATTEMPTS = 5


@dataclass(frozen=True)
class ConsumerSpec:
    """A consumer group: the topics it reads and one handler per event type it cares about.

    With `batch`, the events of a fetched batch that this group handles are applied together,
    in one transaction, by `batch` (their ids recorded with them, in order); if that fails for
    a reason of the events' own, each is applied alone, so only the one at fault is parked.
    `handlers` then only names the types to apply."""

    name: str
    topics: tuple[str, ...]
    handlers: Mapping[str, Handler]
    batch: BatchHandler | None = None


def applied_in_order(handlers: Mapping[str, Handler]) -> BatchHandler:
    """A `ConsumerSpec.batch` that applies each event with its own handler, one after the other,
    in the batch's one transaction: one commit and one insert of processed ids for the batch
    instead of one per event, while one ticket's events keep their order and each sees what the
    ones before it did."""

    async def apply(session: AsyncSession, events: list[Any]) -> None:
        for event in events:
            await handlers[event.type](session, event)

    return apply


@dataclass(frozen=True)
class Record:
    """What the consumer needs of a Kafka record (or of a parked one read back)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    # Left out of its repr: the event holds the caller's number, and a repr may reach a log.
    value: bytes = field(repr=False)
    headers: tuple[tuple[str, bytes], ...] = ()

    @classmethod
    def of(cls, record: ConsumerRecord[bytes, bytes]) -> "Record":
        return cls(
            record.topic,
            record.partition,
            record.offset,
            record.key,
            record.value or b"",
            tuple(record.headers or ()),
        )


class Stopped(Exception):
    """The service is shutting down: leave the record's offset uncommitted."""


class IdempotentConsumer:
    def __init__(
        self,
        spec: ConsumerSpec,
        *,
        sessions: SessionFactory,
        tables: MessagingTables,
        broker: Broker,
        settings: ConsumerSettings,
        service: str = "",
    ) -> None:
        self.spec = spec
        self.sessions = sessions
        self.tables = tables
        self.broker = broker
        self.settings = settings
        self.service = service or spec.name
        self._stop = asyncio.Event()
        self._lag_partitions: set[TopicPartition] = set()

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set, reconnecting with backoff while the broker is away."""
        self._stop = stop
        backoff = self._backoff()
        while not stop.is_set():
            consumer = self.broker.new_consumer(*self.spec.topics, group_id=self.spec.name)
            try:
                await consumer.start()
                backoff.reset()
                processed_up_to: dict[TopicPartition, int] = {}
                while not stop.is_set():
                    batches = await consumer.getmany(
                        timeout_ms=POLL_TIMEOUT_MS, max_records=self.settings.batch_max_records
                    )
                    for partition, records in batches.items():
                        next_offset = await self._process_partition_batch(
                            consumer, partition, records
                        )
                        if next_offset is not None:
                            processed_up_to[partition] = next_offset
                    await self._record_lag(consumer, processed_up_to)
            except (KafkaError, OSError) as error:
                log.warning("consumer %s lost the broker (%r); retrying", self.spec.name, error)
                await sleep_unless_stopped(stop, backoff.next_delay())
            finally:
                await consumer.stop()

    async def _process_partition_batch(
        self,
        consumer: AIOKafkaConsumer,
        partition: TopicPartition,
        records: list[ConsumerRecord[bytes, bytes]],
    ) -> int | None:
        """Process in order, then commit the offset after the last record done (returned)."""
        if self.spec.batch is not None:
            try:
                await self.process_batch([Record.of(record) for record in records])
            except Stopped:
                return None
            after_last: int = records[-1].offset + 1
            await consumer.commit({partition: after_last})
            return after_last
        next_offset = None
        for record in records:
            if self._stop.is_set():
                break
            try:
                await self.process(Record.of(record))
            except Stopped:
                break
            next_offset = record.offset + 1
        if next_offset is not None:
            await consumer.commit({partition: next_offset})
        return next_offset

    async def _record_lag(
        self, consumer: AIOKafkaConsumer, processed_up_to: dict[TopicPartition, int]
    ) -> None:
        """`hotline_consumer_lag_messages` for each partition this consumer holds: the broker's
        highwater (from the last fetch response) minus the next offset to process, that is the
        one after the last processed here, or the fetch position for a partition none of whose
        records came back yet (a partition handed over by a rebalance starts afresh). A partition
        handed to another consumer reads 0 here, so summing over instances counts it once."""
        assigned = consumer.assignment()
        for partition in processed_up_to.keys() - assigned:
            del processed_up_to[partition]
        for partition in self._lag_partitions - assigned:
            self._lag_gauge(partition).set(0)
        self._lag_partitions = set()
        for partition in assigned:
            highwater = consumer.highwater(partition)
            if highwater is None:
                continue
            next_offset = processed_up_to.get(partition)
            if next_offset is None:
                next_offset = await consumer.position(partition)
            self._lag_gauge(partition).set(max(highwater - next_offset, 0))
            self._lag_partitions.add(partition)

    def _lag_gauge(self, partition: TopicPartition) -> Gauge:
        return CONSUMER_LAG.labels(self.spec.name, partition.topic, str(partition.partition))

    async def process(self, record: Record) -> str:
        """Apply one record exactly once in effect; returns the outcome it was counted under."""
        with tracing.use(tracing.from_headers(record.headers)):
            event, outcome = await self._wanted(record)
            if event is None:
                return outcome
            handler = self.spec.handlers[event.type]
            outcome = await self._apply_with_retries(handler, event, record)
            self._handled(event, outcome)
        return outcome

    def _handled(self, event: AnyEvent, outcome: str) -> None:
        """Counted, and logged under the event's trace (in effect around this call)."""
        EVENTS_CONSUMED.labels(self.spec.name, event.type, outcome).inc()
        log.info(
            "consumer %s: %s %s",
            self.spec.name,
            event.type,
            outcome,
            extra={"consumer": self.spec.name, "event_id": str(event.id), "key": event.key},
        )

    async def _wanted(self, record: Record) -> tuple[AnyEvent | None, str]:
        """The record's event if this consumer handles it; else None and the outcome counted: a
        type not ours (a type this code does not know yet is no error either), or an unreadable
        record, parked."""
        event_type = _event_type(record.value)
        if event_type is not None and event_type not in self.spec.handlers:
            outcome = "ignored" if event_type in KNOWN_EVENT_TYPES else "skipped_unknown"
            EVENTS_CONSUMED.labels(self.spec.name, _label(event_type), outcome).inc()
            return None, outcome
        try:
            return parse_event(record.value), "wanted"
        except ValidationError as error:
            await self._park(record, None, f"unreadable event: {error}", attempts=0)
            EVENTS_CONSUMED.labels(self.spec.name, "unreadable", "dead_lettered").inc()
            return None, "dead_lettered"

    async def process_batch(self, records: list[Record]) -> None:
        """Apply a fetched batch in one transaction (see `ConsumerSpec.batch`)."""
        assert self.spec.batch is not None
        batch = self.spec.batch
        wanted: list[tuple[Record, AnyEvent]] = []
        traces: dict[Any, tracing.TraceContext] = {}
        for record in records:
            trace = tracing.from_headers(record.headers)
            with tracing.use(trace):
                event, _ = await self._wanted(record)
            if event is not None:
                wanted.append((record, event))
                traces[event.id] = trace
        if not wanted:
            return
        # Applied together: what is announced about a ticket continues its event's trace.
        by_key = {event.key: traces[event.id] for _, event in wanted}
        only = next(iter(traces.values())) if len(set(traces.values())) == 1 else None
        with tracing.use(only, by_key):
            await self._apply_batch_traced(batch, wanted, traces)

    async def _apply_batch_traced(
        self,
        batch: BatchHandler,
        wanted: list[tuple[Record, AnyEvent]],
        traces: Mapping[Any, tracing.TraceContext],
    ) -> None:
        backoff = self._backoff()
        while True:
            if self._stop.is_set():
                raise Stopped
            try:
                applied = await self._apply_batch_once(batch, [event for _, event in wanted])
                break
            except Exception as error:
                if database_unavailable(error):
                    log.warning("consumer %s waits for the database (%r)", self.spec.name, error)
                    await sleep_unless_stopped(self._stop, backoff.next_delay())
                    continue
                log.warning(
                    "consumer %s applies a batch of %d one by one (%r)",
                    self.spec.name,
                    len(wanted),
                    error,
                )
                for record, event in wanted:
                    with tracing.use(traces[event.id]):
                        outcome = await self._apply_with_retries(
                            lambda session, one: batch(session, [one]), event, record
                        )
                        self._handled(event, outcome)
                return
        for _, event in wanted:
            with tracing.use(traces[event.id]):
                self._handled(event, "applied" if event.id in applied else "duplicate")

    async def _apply_batch_once(self, batch: BatchHandler, events: list[AnyEvent]) -> set[Any]:
        processed = self.tables.processed_events
        async with unit_of_work(self.sessions) as session:
            first_time = set(
                await session.scalars(
                    pg_insert(processed)
                    .values([{"consumer": self.spec.name, "event_id": e.id} for e in events])
                    .on_conflict_do_nothing()
                    .returning(processed.c.event_id)
                )
            )
            fresh = list({e.id: e for e in events if e.id in first_time}.values())
            if fresh:
                await batch(session, fresh)
        return first_time

    async def _apply_with_retries(self, handler: Handler, event: AnyEvent, record: Record) -> str:
        backoff = self._backoff()
        attempt = 0
        while True:
            if self._stop.is_set():
                raise Stopped
            try:
                return "applied" if await self._apply_once(handler, event) else "duplicate"
            except Exception as error:
                if database_unavailable(error):
                    # Not the event's fault: wait for the database, however long, and never
                    # park an event because PostgreSQL restarted.
                    log.warning("consumer %s waits for the database (%r)", self.spec.name, error)
                    await sleep_unless_stopped(self._stop, backoff.next_delay())
                    continue
                attempt += 1
                CONSUMER_HANDLER_FAILURES.labels(self.spec.name, event.type).inc()
                if attempt >= self.settings.max_attempts:
                    log.error(
                        "consumer %s parks event %s (%s) after %d attempts",
                        self.spec.name,
                        event.id,
                        event.type,
                        attempt,
                        exc_info=True,
                    )
                    await self._park(record, event, repr(error), attempts=attempt)
                    return "dead_lettered"
                await sleep_unless_stopped(self._stop, backoff.next_delay())

    async def _apply_once(
        self, handler: Handler, event: AnyEvent, *, also: Handler | None = None
    ) -> bool:
        processed = self.tables.processed_events
        async with unit_of_work(self.sessions) as session:
            first_time = await session.scalar(
                pg_insert(processed)
                .values(consumer=self.spec.name, event_id=event.id)
                .on_conflict_do_nothing()
                .returning(processed.c.event_id)
            )
            if first_time is None:
                return False
            await handler(session, event)
            if also is not None:
                await also(session, event)
        return True

    # --- parked events -----------------------------------------------------------------------

    async def _park(
        self, record: Record, event: AnyEvent | None, error: str, *, attempts: int
    ) -> None:
        """Store the record in `parked_events` (waiting for the database if it must: its offset
        waits too), then copy it to its dead-letter topic."""
        parked = self.tables.parked_events
        backoff = self._backoff()
        while True:
            if self._stop.is_set():
                raise Stopped
            try:
                async with unit_of_work(self.sessions) as session:
                    await session.execute(
                        pg_insert(parked)
                        .values(
                            consumer=self.spec.name,
                            topic=record.topic,
                            partition=record.partition,
                            offset=record.offset,
                            key=record.key.decode(errors="replace") if record.key else None,
                            event_id=event.id if event else None,
                            event_type=event.type if event else None,
                            value=record.value,
                            error=error[:4000],
                            attempts=attempts,
                            status="parked",
                        )
                        .on_conflict_do_nothing(
                            index_elements=[parked.c.consumer, parked.c.event_id],
                            index_where=parked.c.status == "parked",
                        )
                    )
                break
            except Exception as failure:
                if not database_unavailable(failure):
                    raise
                log.warning("cannot store a parked event yet (%r); retrying", failure)
                await sleep_unless_stopped(self._stop, backoff.next_delay())
        await self.refresh_parked_gauge()
        await self._copy_to_dead_letter_topic(record, error)

    async def _copy_to_dead_letter_topic(self, record: Record, error: str) -> None:
        """A copy on `<topic>.dlt` for tools that read the broker; the database row is what
        counts, so a broker that stays away is not waited for beyond a few attempts."""
        headers = [
            *record.headers,
            ("hotline-error", error[:4000].encode()),
            ("hotline-consumer", self.spec.name.encode()),
            ("hotline-source", f"{record.topic}/{record.partition}/{record.offset}".encode()),
        ]
        backoff = self._backoff()
        for _ in range(DEAD_LETTER_COPY_ATTEMPTS):
            try:
                producer = await self.broker.producer()
                await producer.send_and_wait(
                    record.topic + DEAD_LETTER_SUFFIX,
                    value=record.value,
                    key=record.key,
                    headers=headers,
                )
                return
            except KafkaError:
                log.warning("cannot reach the dead-letter topic yet; retrying", exc_info=True)
                await self.broker.reset()
                await sleep_unless_stopped(self._stop, backoff.next_delay())
        # The record's place, not the record: its value holds the caller's number.
        log.error(
            "the dead-letter copy of %s/%d/%d was not sent; parked_events holds it",
            record.topic,
            record.partition,
            record.offset,
        )

    async def replay_parked(self, parked_id: int, *, by: str) -> str:
        """Apply a parked event again: `replayed` (its effects and the new status commit
        together), `duplicate` (it had been applied meanwhile), or `failed` (still parked,
        with the new error)."""
        row = await self._parked_row(parked_id)
        record = Record(row.topic, row.partition, row.offset, None, row.value)
        try:
            event = parse_event(record.value)
            handler = self.spec.handlers.get(event.type)
            if handler is None:
                raise LookupError(f"{self.spec.name} has no handler for {event.type}")

            async def mark_replayed(session: AsyncSession, _event: Any) -> None:
                await self._resolve(session, parked_id, "replayed", by, None)

            applied = await self._apply_once(handler, event, also=mark_replayed)
        except Exception as error:
            if database_unavailable(error):
                raise
            async with unit_of_work(self.sessions) as session:
                parked = self.tables.parked_events
                await session.execute(
                    update(parked)
                    .where(parked.c.id == parked_id)
                    .values(error=repr(error)[:4000], attempts=parked.c.attempts + 1)
                )
            return "failed"
        if not applied:
            async with unit_of_work(self.sessions) as session:
                await self._resolve(session, parked_id, "replayed", by, "already applied")
        await self.refresh_parked_gauge()
        return "replayed" if applied else "duplicate"

    async def discard_parked(self, parked_id: int, *, by: str, note: str | None) -> None:
        """Give up on a parked event, saying who did and why."""
        await self._parked_row(parked_id)
        async with unit_of_work(self.sessions) as session:
            await self._resolve(session, parked_id, "discarded", by, note)
        await self.refresh_parked_gauge()

    async def _parked_row(self, parked_id: int) -> Any:
        parked = self.tables.parked_events
        async with self.sessions() as session:
            row = (
                await session.execute(
                    select(parked).where(
                        parked.c.id == parked_id,
                        parked.c.consumer == self.spec.name,
                        parked.c.status == "parked",
                    )
                )
            ).first()
        if row is None:
            raise LookupError(f"no parked event {parked_id} waits in {self.spec.name}")
        return row

    async def _resolve(
        self, session: AsyncSession, parked_id: int, status: str, by: str, note: str | None
    ) -> None:
        parked = self.tables.parked_events
        await session.execute(
            update(parked)
            .where(parked.c.id == parked_id)
            .values(status=status, resolved_at=func.now(), resolved_by=by, note=note)
        )

    async def refresh_parked_gauge(self) -> None:
        """`hotline_parked_events{service, consumer, topic}`: events waiting for an operator."""
        parked = self.tables.parked_events
        try:
            async with self.sessions() as session:
                rows = (
                    await session.execute(
                        select(parked.c.topic, func.count())
                        .where(parked.c.consumer == self.spec.name, parked.c.status == "parked")
                        .group_by(parked.c.topic)
                    )
                ).all()
        except Exception as error:
            if not database_unavailable(error):
                raise
            return
        counts: dict[str, int] = {topic: count for topic, count in rows}
        for topic in {*self.spec.topics, *counts}:
            PARKED_EVENTS.labels(self.service, self.spec.name, topic).set(counts.get(topic, 0))

    def _backoff(self) -> Backoff:
        return Backoff(
            max(self.settings.initial_backoff_seconds, 0.01), self.settings.max_backoff_seconds
        )


def _event_type(value: bytes) -> str | None:
    """The envelope's `type`, or None when the record is not a JSON object with one."""
    try:
        envelope = json.loads(value)
    except ValueError:
        return None
    kind = envelope.get("type") if isinstance(envelope, dict) else None
    return kind if isinstance(kind, str) else None


def _label(event_type: str) -> str:
    """Known types as themselves; types this code does not know share one label (bounded)."""
    return event_type if event_type in KNOWN_EVENT_TYPES else "unknown"


def processed_retention(outbox_retention_hours: float) -> timedelta:
    """Processed ids outlive the outbox's replay window, so every replay is recognised."""
    return timedelta(hours=outbox_retention_hours * 2)
