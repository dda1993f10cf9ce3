"""What one service process wires together at start: engine, sessions, broker, relay, consumers."""

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.shared.db import SessionFactory, create_engine, create_session_factory
from hotline.shared.messaging.consumer import ConsumerSpec, IdempotentConsumer, processed_retention
from hotline.shared.messaging.kafka import Broker
from hotline.shared.messaging.outbox import OutboxRelay
from hotline.shared.messaging.tables import MessagingTables
from hotline.shared.settings import ServiceSettings

log = logging.getLogger(__name__)

# A background loop of a service's own (a timer, say): runs until the event is set.
Runner = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


@dataclass
class ServiceRuntime:
    name: str
    settings: ServiceSettings
    tables: MessagingTables
    engine: AsyncEngine
    sessions: SessionFactory
    broker: Broker
    relay: OutboxRelay
    consumers: list[IdempotentConsumer]
    timers: Sequence[Runner] = ()
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start_background_work(self) -> None:
        self.tasks.append(asyncio.create_task(self.relay.run(self.stop), name=f"{self.name}-relay"))
        for consumer in self.consumers:
            self.tasks.append(
                asyncio.create_task(consumer.run(self.stop), name=f"consumer-{consumer.spec.name}")
            )
        for number, timer in enumerate(self.timers):
            self.tasks.append(
                asyncio.create_task(timer(self.stop), name=f"{self.name}-timer-{number}")
            )

    async def shutdown(self) -> None:
        """Let the relay finish its batch and consumers their record, then disconnect."""
        self.stop.set()
        results = await asyncio.gather(*self.tasks, return_exceptions=True)
        for task, result in zip(self.tasks, results, strict=True):
            if isinstance(result, BaseException):
                log.error("%s ended with %r", task.get_name(), result)
        await self.broker.close()
        await self.engine.dispose()


@asynccontextmanager
async def service_runtime(
    *,
    name: str,
    settings: ServiceSettings,
    tables: MessagingTables,
    consumers: Sequence[ConsumerSpec] = (),
    timers: Callable[[SessionFactory], Sequence[Runner]] = lambda sessions: (),
) -> AsyncIterator[ServiceRuntime]:
    """Build a service's runtime, run its relay and consumers, and shut it all down after."""
    engine = create_engine(
        settings.database_url.get_secret_value(), pool_size=settings.database_pool_size
    )
    sessions = create_session_factory(engine)
    broker = Broker(settings.kafka, client_id=f"hotline-{name}")
    relay = OutboxRelay(
        service=name,
        engine=engine,
        tables=tables,
        broker=broker,
        settings=settings.outbox,
        processed_retention=processed_retention(settings.outbox.retention_hours),
    )
    runtime = ServiceRuntime(
        name=name,
        settings=settings,
        tables=tables,
        engine=engine,
        sessions=sessions,
        broker=broker,
        relay=relay,
        consumers=[
            IdempotentConsumer(
                spec, sessions=sessions, tables=tables, broker=broker, settings=settings.consumer
            )
            for spec in consumers
        ],
        timers=timers(sessions),
    )
    runtime.start_background_work()
    try:
        yield runtime
    finally:
        await runtime.shutdown()
