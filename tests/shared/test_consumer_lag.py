"""`hotline_consumer_lag_messages`: what a consumer group has yet to process, on the real broker."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from hotline.shared.messaging.consumer import IdempotentConsumer
from hotline.shared.messaging.events import TICKETS_TOPIC, TicketReopened
from hotline.shared.messaging.outbox import add_events
from tests.conftest import Servers
from tests.shared.harness import FAST_CONSUMER, SpineService, spine_service
from tests.support import wait_until


@pytest.fixture
async def service(engine: AsyncEngine, servers: Servers) -> AsyncIterator[SpineService]:
    async with spine_service(engine, servers.kafka_settings()) as service:
        yield service


def lag(group: str) -> float | None:
    """The group's lag on the tickets topic, summed over its partitions (None: never set)."""
    values = [
        sample.value
        for family in REGISTRY.collect()
        if family.name == "hotline_consumer_lag_messages"
        for sample in family.samples
        if sample.labels["group"] == group and sample.labels["topic"] == TICKETS_TOPIC
    ]
    return sum(values) if values else None


async def test_lag_counts_the_records_waiting_behind_a_slow_handler_then_falls_to_zero(
    service: SpineService,
) -> None:
    # Given three events of one ticket (one partition), and a handler held at the second,
    events = [service.event("lagging", version) for version in (1, 2, 3)]
    held = asyncio.Event()

    async def slow_on_the_second(session: AsyncSession, event: TicketReopened) -> None:
        if event.version == 2:
            await held.wait()
        await service.record_effect(session, event)

    async with service.sessions() as session, session.begin():
        await add_events(session, service.tables, *events)
    one_at_a_time = service.consumer(slow_on_the_second)
    consumer = IdempotentConsumer(
        one_at_a_time.spec,
        sessions=service.sessions,
        tables=service.tables,
        broker=service.broker,
        settings=FAST_CONSUMER.model_copy(update={"batch_max_records": 1}),
    )
    service.start(service.relay().run, consumer.run)
    try:
        # When the first is processed and the second waits, then the lag shows both behind it;
        await wait_until(lambda: _lag_at_least(service.consumer_name, 2))
    finally:
        held.set()
    # when the handler goes on, the lag falls to zero.
    await wait_until(lambda: _lag_is(service.consumer_name, 0))
    assert await service.effect_counts() == {events[0].subject: 3}


async def _lag_at_least(group: str, count: int) -> bool:
    value = lag(group)
    return value is not None and value >= count


async def _lag_is(group: str, count: int) -> bool:
    return lag(group) == count
