"""A throwaway service for testing the messaging spine: its own schema, relay and consumers."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import Column, Integer, Table, Text, Uuid, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from hotline.shared.db import create_session_factory, service_metadata
from hotline.shared.messaging.consumer import ConsumerSpec, Handler, IdempotentConsumer
from hotline.shared.messaging.events import TICKETS_TOPIC, TicketReopened, TicketReopenedData
from hotline.shared.messaging.kafka import Broker
from hotline.shared.messaging.outbox import OutboxRelay
from hotline.shared.messaging.tables import MessagingTables, define_messaging_tables
from hotline.shared.messaging.versioning import save_if_newer
from hotline.shared.settings import ConsumerSettings, KafkaSettings, OutboxSettings

FAST_OUTBOX = OutboxSettings(
    idle_poll_seconds=0.02,
    broker_check_seconds=0.5,
    low_water_mark_seconds=0.5,
    max_backoff_seconds=0.5,
)
FAST_CONSUMER = ConsumerSettings(
    max_attempts=3, initial_backoff_seconds=0.01, max_backoff_seconds=0.05
)


@dataclass
class SpineService:
    """A schema with the messaging tables plus `ticket_state` (newest version) and `effects`."""

    engine: AsyncEngine
    schema: str
    kafka: KafkaSettings
    tables: MessagingTables
    ticket_state: Table
    effects: Table
    broker: Broker = field(init=False)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.broker = Broker(self.kafka, client_id=self.schema)
        self.sessions = create_session_factory(self.engine)

    def event(self, ticket: str, version: int, reason: str = "unsatisfied") -> TicketReopened:
        """An event about one of this test's tickets (prefixed, so other tests' are told apart)."""
        ticket_id = f"{self.schema}-{ticket}"
        return TicketReopened(
            source=f"/tests/{self.schema}",
            subject=ticket_id,
            ticket_id=ticket_id,
            version=version,
            data=TicketReopenedData(
                ticket_no=ticket_id, reason=reason, reopened_at=datetime.now(UTC)
            ),
        )

    @property
    def consumer_name(self) -> str:
        return f"{self.schema}-consumer"

    def relay(
        self, broker: Broker | None = None, *, consumer_groups: tuple[str, ...] | None = None
    ) -> OutboxRelay:
        """A relay whose low-water mark follows this service's consumer groups."""
        return OutboxRelay(
            service=self.schema,
            engine=self.engine,
            tables=self.tables,
            broker=broker or self.broker,
            settings=FAST_OUTBOX,
            processed_retention=timedelta(days=1),
            consumer_groups={TICKETS_TOPIC: consumer_groups or (self.consumer_name,)},
        )

    def consumer(self, handler: Handler, name: str | None = None) -> IdempotentConsumer:
        spec = ConsumerSpec(
            name=name or self.consumer_name,
            topics=(TICKETS_TOPIC,),
            handlers={"ticket.reopened": self._only_mine(handler)},
        )
        return IdempotentConsumer(
            spec,
            sessions=self.sessions,
            tables=self.tables,
            broker=self.broker,
            settings=FAST_CONSUMER,
        )

    def _only_mine(self, handler: Handler) -> Handler:
        async def handle(session: AsyncSession, event: Any) -> None:
            if event.subject.startswith(f"{self.schema}-"):
                await handler(session, event)

        return handle

    async def record_effect(self, session: AsyncSession, event: TicketReopened) -> None:
        """A handler whose every application leaves a row: doubles show up as repeated ids."""
        await session.execute(
            self.effects.insert().values(event_id=event.id, subject=event.subject)
        )

    async def keep_newest(self, session: AsyncSession, event: TicketReopened) -> None:
        await save_if_newer(
            session,
            self.ticket_state,
            {"ticket_id": event.subject, "version": event.version, "reason": event.data.reason},
        )

    def start(self, *runners: Callable[[asyncio.Event], Awaitable[None]]) -> None:
        for run in runners:
            self.tasks.append(asyncio.create_task(run(self.stop)))  # type: ignore[arg-type]

    async def halt(self) -> None:
        self.stop.set()
        await asyncio.gather(*self.tasks)
        self.tasks.clear()
        self.stop = asyncio.Event()

    async def count(self, statement: Any) -> int:
        async with self.engine.connect() as connection:
            return int(await connection.scalar(statement) or 0)

    async def effect_counts(self) -> dict[str, int]:
        """How many times each event's effect was applied."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(self.effects.c.subject, func.count()).group_by(self.effects.c.subject)
            )
            return {subject: count for subject, count in rows.all()}

    async def low_water_mark(self) -> int | None:
        """The relay's recorded mark: the oldest outbox id some consumer group may not have had."""
        state = self.tables.relay_state
        async with self.engine.connect() as connection:
            mark = await connection.scalar(select(state.c.replay_from_id).where(state.c.id == 1))
        return None if mark is None else int(mark)

    async def mark_past_everything(self) -> bool:
        """Whether the mark says every group has had every event written so far."""
        mark = await self.low_water_mark()
        newest = await self.count(select(func.max(self.tables.outbox.c.id)))
        return mark is not None and mark > newest

    async def unpublished(self) -> int:
        outbox = self.tables.outbox
        return await self.count(
            select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
        )


@asynccontextmanager
async def spine_service(engine: AsyncEngine, kafka: KafkaSettings) -> AsyncIterator[SpineService]:
    schema = f"spine_{uuid4().hex[:8]}"
    metadata = service_metadata(schema)
    tables = define_messaging_tables(metadata)
    ticket_state = Table(
        "ticket_state",
        metadata,
        Column("ticket_id", Text, primary_key=True),
        Column("version", Integer, nullable=False),
        Column("reason", Text, nullable=False),
    )
    effects = Table(
        "effects",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("event_id", Uuid, nullable=False),
        Column("subject", Text, nullable=False),
    )
    async with engine.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        await connection.run_sync(metadata.create_all)
    service = SpineService(engine, schema, kafka, tables, ticket_state, effects)
    try:
        yield service
    finally:
        await service.halt()
        await service.broker.close()
        async with engine.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
