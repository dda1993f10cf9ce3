"""The outbox and the idempotent consumer on the real PostgreSQL and the real broker."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from hotline.shared.messaging.consumer import Record
from hotline.shared.messaging.events import TICKETS_TOPIC, TicketReopened, serialize_event
from hotline.shared.messaging.outbox import add_events
from hotline.shared.stack.embedded import EmbeddedBroker, free_port
from tests.conftest import TEST_KAFKA_TUNING, Servers
from tests.shared.harness import FAST_CONSUMER, SpineService, spine_service
from tests.support import wait_until


@pytest.fixture
async def service(engine: AsyncEngine, servers: Servers) -> AsyncIterator[SpineService]:
    async with spine_service(engine, servers.kafka_settings()) as service:
        yield service


async def write(service: SpineService, *events: TicketReopened) -> None:
    async with service.sessions() as session, session.begin():
        await add_events(session, service.tables, *events)


async def test_an_event_committed_with_a_change_is_published_and_applied_once(
    service: SpineService,
) -> None:
    event = service.event("T1", version=1)
    await write(service, event)

    service.start(service.relay().run, service.consumer(service.record_effect).run)
    await wait_until(lambda: _has_effect(service, event.subject))
    # Published again, as after a broker that lost its log: the consumer must not apply it twice.
    await _mark_unpublished(service)
    await wait_until(lambda: _all_published(service))
    await asyncio.sleep(0.5)

    assert await service.effect_counts() == {event.subject: 1}


async def test_a_rolled_back_transaction_publishes_nothing(service: SpineService) -> None:
    kept, discarded = service.event("kept", 1), service.event("discarded", 1)

    async def change_that_fails() -> None:
        async with service.sessions() as session, session.begin():
            await add_events(session, service.tables, discarded)
            raise RuntimeError("the change failed after the event was written")

    with pytest.raises(RuntimeError):
        await change_that_fails()
    await write(service, kept)

    service.start(service.relay().run, service.consumer(service.record_effect).run)
    await wait_until(lambda: _has_effect(service, kept.subject))

    assert await service.effect_counts() == {kept.subject: 1}
    outbox = service.tables.outbox
    assert await service.count(select(func.count()).select_from(outbox)) == 1


async def test_duplicates_and_reordered_versions_end_in_the_newest_state(
    service: SpineService,
) -> None:
    v1, v2, v3 = (service.event("T7", version, reason=f"v{version}") for version in (1, 2, 3))
    consumer = service.consumer(service.keep_newest)

    outcomes = [await consumer.process(_record(event)) for event in (v3, v1, v3, v2, v1)]

    assert outcomes == ["applied", "applied", "duplicate", "applied", "duplicate"]
    async with service.engine.connect() as connection:
        row = (await connection.execute(select(service.ticket_state))).one()
    assert (row.version, row.reason) == (3, "v3")


async def test_a_handler_that_keeps_failing_parks_the_event_and_the_consumer_moves_on(
    service: SpineService, servers: Servers
) -> None:
    poison, healthy = service.event("poison", 1), service.event("healthy", 1)

    async def fail_on_poison(session: AsyncSession, event: TicketReopened) -> None:
        if event.subject == poison.subject:
            raise ValueError("cannot apply this event")
        await service.record_effect(session, event)

    await write(service, poison, healthy)
    service.start(service.relay().run, service.consumer(fail_on_poison).run)
    await wait_until(lambda: _has_effect(service, healthy.subject))

    parked = await _read_dead_letters(servers, str(poison.id))
    assert parked is not None
    headers = dict(parked.headers)
    assert b"cannot apply this event" in headers["hotline-error"]
    assert headers["hotline-consumer"] == f"{service.schema}-consumer".encode()
    assert await service.effect_counts() == {healthy.subject: 1}


async def test_an_unreachable_database_is_waited_for_and_never_parks_the_event(
    service: SpineService,
) -> None:
    event = service.event("T9", 1)
    outages = iter(range(FAST_CONSUMER.max_attempts * 2))

    async def database_down_for_a_while(session: AsyncSession, event: TicketReopened) -> None:
        if next(outages, None) is not None:
            raise OperationalError("INSERT …", {}, ConnectionRefusedError("server restarting"))
        await service.record_effect(session, event)

    outcome = await service.consumer(database_down_for_a_while).process(_record(event))

    assert outcome == "applied"
    assert await service.effect_counts() == {event.subject: 1}


async def test_an_unreadable_record_is_parked_without_retries(service: SpineService) -> None:
    consumer = service.consumer(service.record_effect)
    record = _record(
        service.event("T1", 1), b'{"type": "ticket.reopened", "version": "not a number"}'
    )

    assert await consumer.process(record) == "dead_lettered"


async def test_a_broker_killed_and_restarted_while_events_flow_loses_none(
    engine: AsyncEngine, tmp_path: Any
) -> None:
    broker = EmbeddedBroker(free_port(), log_file=tmp_path / "broker.log")
    broker.start()
    kafka = Servers("", broker.bootstrap).kafka_settings(request_timeout_ms=3000)
    async with spine_service(engine, kafka) as service:
        service.start(service.relay().run, service.consumer(service.record_effect).run)
        events = [service.event(f"T{n}", 1) for n in range(60)]
        try:
            for n, event in enumerate(events):
                await write(service, event)
                if n == 20:
                    await wait_until(lambda: _has_effect(service, events[5].subject))
                    broker.stop()
                if n == 35:
                    broker.start()
                await asyncio.sleep(0.02)

            expected = {event.subject: 1 for event in events}
            await wait_until(lambda: _effects_are(service, expected), within=60)
            await asyncio.sleep(1.0)  # a late duplicate would land now

            assert await service.effect_counts() == expected
        finally:
            await service.halt()
            broker.stop()


async def test_a_stopped_relay_leaves_the_rest_unpublished_and_a_new_one_finishes(
    service: SpineService,
) -> None:
    events = [service.event(f"T{n}", 1) for n in range(300)]
    await write(service, *events)

    service.start(service.relay().run)
    await wait_until(lambda: _fewer_unpublished_than(service, len(events)))
    await service.halt()
    left = await service.unpublished()

    service.start(service.relay().run, service.consumer(service.record_effect).run)
    await wait_until(lambda: _effects_are(service, {e.subject: 1 for e in events}), within=60)
    assert left < len(events)
    assert await service.unpublished() == 0


def _record(event: TicketReopened, value: bytes | None = None) -> Record:
    return Record(
        topic=TICKETS_TOPIC,
        partition=0,
        offset=0,
        key=event.key.encode(),
        value=value if value is not None else serialize_event(event),
    )


async def _has_effect(service: SpineService, subject: str) -> bool:
    return subject in await service.effect_counts()


async def _effects_are(service: SpineService, expected: dict[str, int]) -> bool:
    return await service.effect_counts() == expected


async def _all_published(service: SpineService) -> bool:
    return await service.unpublished() == 0


async def _fewer_unpublished_than(service: SpineService, total: int) -> bool:
    return await service.unpublished() < total


async def _mark_unpublished(service: SpineService) -> None:
    outbox = service.tables.outbox
    async with service.engine.begin() as connection:
        await connection.execute(outbox.update().values(published_at=None))


async def _read_dead_letters(servers: Servers, event_id: str) -> Any:
    reader = AIOKafkaConsumer(
        TICKETS_TOPIC + ".dlt",
        bootstrap_servers=servers.kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_wait_ms=TEST_KAFKA_TUNING["fetch_max_wait_ms"],
    )
    await reader.start()
    try:
        for _ in range(40):
            batches = await reader.getmany(timeout_ms=250)
            for records in batches.values():
                for record in records:
                    if event_id.encode() in record.value:
                        return record
    finally:
        await reader.stop()
    return None
