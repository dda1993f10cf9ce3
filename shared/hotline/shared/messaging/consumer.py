"""The idempotent consumer: each event's effects and its id commit in one transaction.

Offsets are committed only after the database commit, so a crash redelivers and the recorded id
turns the redelivery into a no-op. A handler that keeps failing is retried with backoff, then
the event is parked on `<topic>.dlt` with the error and the consumer moves on.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.shared.backoff import Backoff, sleep_unless_stopped
from hotline.shared.db import SessionFactory, unit_of_work
from hotline.shared.messaging.events import DEAD_LETTER_SUFFIX, AnyEvent, parse_event
from hotline.shared.messaging.kafka import Broker
from hotline.shared.messaging.tables import MessagingTables
from hotline.shared.settings import ConsumerSettings
from hotline.shared.web.metrics import CONSUMER_HANDLER_FAILURES, EVENTS_CONSUMED

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, Any], Awaitable[None]]
POLL_TIMEOUT_MS = 500


@dataclass(frozen=True)
class ConsumerSpec:
    """A consumer group: the topics it reads and one handler per event type it cares about."""

    name: str
    topics: tuple[str, ...]
    handlers: Mapping[str, Handler]


class IdempotentConsumer:
    def __init__(
        self,
        spec: ConsumerSpec,
        *,
        sessions: SessionFactory,
        tables: MessagingTables,
        broker: Broker,
        settings: ConsumerSettings,
    ) -> None:
        self.spec = spec
        self.sessions = sessions
        self.tables = tables
        self.broker = broker
        self.settings = settings

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set, reconnecting with backoff while the broker is away."""
        backoff = self._backoff()
        while not stop.is_set():
            consumer = self.broker.new_consumer(*self.spec.topics, group_id=self.spec.name)
            try:
                await consumer.start()
                backoff.reset()
                while not stop.is_set():
                    batches = await consumer.getmany(
                        timeout_ms=POLL_TIMEOUT_MS, max_records=self.settings.batch_max_records
                    )
                    for partition, records in batches.items():
                        await self._process_partition_batch(consumer, partition, records, stop)
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
        stop: asyncio.Event,
    ) -> None:
        """Process in order, then commit the offset after the last record done."""
        next_offset = None
        for record in records:
            if stop.is_set():
                break
            await self.process(record)
            next_offset = record.offset + 1
        if next_offset is not None:
            await consumer.commit({partition: next_offset})

    async def process(self, record: ConsumerRecord[bytes, bytes]) -> str:
        """Apply one record exactly once in effect; returns the outcome it was counted under."""
        try:
            event = parse_event(record.value)
        except ValidationError as error:
            await self._park(record, f"unreadable event: {error}")
            EVENTS_CONSUMED.labels(self.spec.name, "unreadable", "dead_lettered").inc()
            return "dead_lettered"
        handler = self.spec.handlers.get(event.type)
        if handler is None:
            outcome = "ignored"
        else:
            outcome = await self._apply_with_retries(handler, event, record)
        EVENTS_CONSUMED.labels(self.spec.name, event.type, outcome).inc()
        return outcome

    async def _apply_with_retries(
        self, handler: Handler, event: AnyEvent, record: ConsumerRecord[bytes, bytes]
    ) -> str:
        backoff = self._backoff()
        attempt = 0
        while True:
            try:
                return "applied" if await self._apply_once(handler, event) else "duplicate"
            except Exception as error:
                if database_unavailable(error):
                    # Not the event's fault: wait for the database, however long, and never
                    # park an event because PostgreSQL restarted.
                    log.warning("consumer %s waits for the database (%r)", self.spec.name, error)
                    await asyncio.sleep(backoff.next_delay())
                    continue
                attempt += 1
                CONSUMER_HANDLER_FAILURES.labels(self.spec.name, event.type).inc()
                if attempt >= self.settings.max_attempts:
                    log.error(
                        "consumer %s parks event %s after %d attempts",
                        self.spec.name,
                        event.id,
                        attempt,
                        exc_info=True,
                    )
                    await self._park(record, repr(error))
                    return "dead_lettered"
                await asyncio.sleep(backoff.next_delay())

    async def _apply_once(self, handler: Handler, event: AnyEvent) -> bool:
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
        return True

    async def _park(self, record: ConsumerRecord[bytes, bytes], error: str) -> None:
        """Put the record on its dead-letter topic; keeps trying, since its offset must wait."""
        headers = [
            *record.headers,
            ("hotline-error", error[:4000].encode()),
            ("hotline-consumer", self.spec.name.encode()),
            ("hotline-source", f"{record.topic}/{record.partition}/{record.offset}".encode()),
        ]
        backoff = self._backoff()
        while True:
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
                await asyncio.sleep(backoff.next_delay())

    def _backoff(self) -> Backoff:
        return Backoff(
            max(self.settings.initial_backoff_seconds, 0.01), self.settings.max_backoff_seconds
        )


def database_unavailable(error: BaseException) -> bool:
    """The database could not be reached or dropped the connection: retry, don't blame the event."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, OperationalError | InterfaceError | ConnectionError | TimeoutError)


def processed_retention(outbox_retention_hours: float) -> timedelta:
    """Processed ids outlive the outbox's replay window, so every replay is recognised."""
    return timedelta(hours=outbox_retention_hours * 2)
