"""What one service process wires together at start: engine, sessions, broker, relay, consumers.

A `ServiceDefinition` says what a service is made of (its settings, context, consumers, timers,
housekeeping); `service_runtime` builds and runs it. The `hotline` command builds the same parts
to replay a parked event outside the running service.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from sqlalchemy import Executable, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.shared.clock.follower import ClockFollower
from hotline.shared.db import (
    DatabaseGate,
    SessionFactory,
    create_engine,
    create_session_factory,
)
from hotline.shared.messaging.consumer import ConsumerSpec, IdempotentConsumer, processed_retention
from hotline.shared.messaging.kafka import Broker
from hotline.shared.messaging.outbox import OutboxRelay
from hotline.shared.messaging.tables import MessagingTables
from hotline.shared.settings import ServiceSettings

log = logging.getLogger(__name__)

# A background loop of a service's own (a timer, say): runs until the event is set.
Runner = Callable[[asyncio.Event], Coroutine[Any, Any, None]]
S = TypeVar("S", bound=ServiceSettings)


@dataclass(frozen=True)
class ServiceDefinition(Generic[S]):
    """What a service is made of. `context` is built once from the settings: what the
    service's routes (as `app.state.context`), consumers and timers share."""

    name: str
    tables: MessagingTables
    settings_factory: Callable[[], S]
    context: Callable[[S], Any] = lambda settings: None
    consumers: Callable[[Any], Sequence[ConsumerSpec]] = lambda context: ()
    timers: Callable[[Any, SessionFactory], Sequence[Runner]] = lambda context, sessions: ()
    # Statements the relay runs with its own housekeeping (forgetting old webhook ids, say).
    housekeeping: Callable[[S], Sequence[Executable]] = lambda settings: ()


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
    context: Any = None
    timers: Sequence[Runner] = ()
    # The simulated business clock this process follows (None on the real clock).
    clock: ClockFollower | None = None
    database_gate: DatabaseGate = field(default_factory=DatabaseGate)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def consumer(self, name: str) -> IdempotentConsumer | None:
        return next((c for c in self.consumers if c.spec.name == name), None)

    async def parked_owner(self, parked_id: int) -> IdempotentConsumer | None:
        """The consumer a still-parked event belongs to (None: no such event waits here)."""
        parked = self.tables.parked_events
        async with self.sessions() as session:
            name = await session.scalar(
                select(parked.c.consumer).where(
                    parked.c.id == parked_id, parked.c.status == "parked"
                )
            )
        return self.consumer(name) if name else None

    async def start_clock(self) -> None:
        """Read the simulated clock before anything reads business time (no-op when real)."""
        if self.clock is not None:
            await self.clock.start()
            self.tasks.append(asyncio.create_task(self.clock.run(self.stop), name="clock"))

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
        """Let the relay finish its batch and consumers their record, then disconnect; what
        has not finished within the grace is logged with where it waits, and cancelled."""
        self.stop.set()
        if self.tasks:
            _, stuck = await asyncio.wait(self.tasks, timeout=self.settings.shutdown_grace_seconds)
            for task in stuck:
                log.error("%s did not stop in time; cancelled in %s", task.get_name(), _where(task))
                task.cancel()
        results = await asyncio.gather(*self.tasks, return_exceptions=True)
        for task, result in zip(self.tasks, results, strict=True):
            if isinstance(result, BaseException):
                log.error("%s ended with %r", task.get_name(), result)
        await self.close()

    async def close(self) -> None:
        """Disconnect from the broker and the database (what `shutdown` ends with; alone, for a
        runtime whose background work never started)."""
        if self.clock is not None:
            await self.clock.close()
        await self.broker.close()
        await self.engine.dispose()


def _where(task: asyncio.Task[Any]) -> str:
    """The chain of coroutines a task waits in, outermost first: file:line in function."""
    awaited: Any = task.get_coro()
    chain = []
    while awaited is not None:
        frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
        if frame is not None:
            code = frame.f_code
            chain.append(f"{Path(code.co_filename).name}:{frame.f_lineno} in {code.co_name}")
        awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
    return " → ".join(chain) or "?"


def build_runtime(definition: ServiceDefinition[S], settings: S) -> ServiceRuntime:
    """The service's parts, not yet running."""
    engine = create_engine(
        settings.database_url.get_secret_value(),
        pool_size=settings.database_pool_size,
        connect_timeout=settings.database_connect_timeout_seconds,
        pool_timeout=settings.database_pool_timeout_seconds,
    )
    sessions = create_session_factory(engine)
    broker = Broker(settings.kafka, client_id=f"hotline-{definition.name}")
    tables = definition.tables
    relay = OutboxRelay(
        service=definition.name,
        engine=engine,
        tables=tables,
        broker=broker,
        settings=settings.outbox,
        processed_retention=processed_retention(settings.outbox.retention_hours),
        housekeeping=definition.housekeeping(settings),
    )
    context = definition.context(settings)
    return ServiceRuntime(
        name=definition.name,
        settings=settings,
        tables=tables,
        engine=engine,
        sessions=sessions,
        broker=broker,
        relay=relay,
        consumers=[
            IdempotentConsumer(
                spec,
                sessions=sessions,
                tables=tables,
                broker=broker,
                settings=settings.consumer,
                service=definition.name,
            )
            for spec in definition.consumers(context)
        ],
        context=context,
        timers=definition.timers(context, sessions),
        clock=(
            ClockFollower(
                settings.database_url.get_secret_value(),
                refresh_seconds=settings.clock_refresh_seconds,
                connect_timeout=settings.database_connect_timeout_seconds,
            )
            if settings.clock == "simulated"
            else None
        ),
    )


@asynccontextmanager
async def service_runtime(
    definition: ServiceDefinition[S], settings: S
) -> AsyncIterator[ServiceRuntime]:
    """Build a service's runtime, follow the simulated clock if it is asked for, run its relay,
    consumers and timers (unless another process runs them), and shut it all down after."""
    runtime = build_runtime(definition, settings)
    try:
        await runtime.start_clock()
    except BaseException:
        await runtime.close()
        raise
    if settings.background_work:
        runtime.start_background_work()
    try:
        yield runtime
    finally:
        await runtime.shutdown()
