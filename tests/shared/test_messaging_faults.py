"""The messaging spine when its servers fail for real: PostgreSQL stopped and started again,
the broker restarted without its log, consumers behind, events of types nobody knows."""

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg.exceptions
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from hotline.shared.db import create_engine, database_unavailable
from hotline.shared.messaging.consumer import Record
from hotline.shared.messaging.events import TICKETS_TOPIC, TicketReopened, serialize_event
from hotline.shared.messaging.outbox import add_events
from hotline.shared.stack.embedded import EmbeddedBroker, EmbeddedPostgres, free_port
from hotline.shared.web.metrics import OUTBOX_REPLAYED_EVENTS
from tests.conftest import Servers
from tests.shared.harness import SpineService, spine_service
from tests.support import wait_until


@pytest.mark.parametrize(
    "error",
    [
        FileNotFoundError(2, "No such file or directory"),  # the Unix socket is gone
        ConnectionRefusedError(111, "Connection refused"),
        ConnectionResetError(104, "Connection reset by peer"),
        asyncpg.exceptions.CannotConnectNowError("the database system is shutting down"),
        asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator"),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"),
        DBAPIError("SELECT 1", {}, asyncpg.exceptions.CannotConnectNowError("starting up")),
        OperationalError("INSERT …", {}, ConnectionRefusedError("server restarting")),
    ],
    ids=lambda error: type(error).__name__,
)
def test_every_way_the_database_goes_away_counts_as_unavailable(error: Exception) -> None:
    assert database_unavailable(error)


def test_an_error_wrapped_by_sqlalchemy_is_recognised_through_its_cause() -> None:
    outer = DBAPIError("SELECT 1", {}, Exception("wrapped"))
    outer.__cause__ = asyncpg.exceptions.CannotConnectNowError("the database system is starting")

    assert database_unavailable(outer)


@pytest.mark.parametrize(
    "error",
    [
        IntegrityError("INSERT …", {}, Exception("duplicate key")),
        ValueError("cannot apply this event"),
        KeyError("complaint"),
        asyncpg.exceptions.UniqueViolationError("duplicate key value"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_the_events_own_faults_are_not_an_outage(error: Exception) -> None:
    assert not database_unavailable(error)


@dataclass
class PrivateStack:
    postgres: EmbeddedPostgres
    broker: EmbeddedBroker
    engine: AsyncEngine
    servers: Servers


@pytest.fixture
async def private(tmp_path: Path) -> AsyncIterator[PrivateStack]:
    """A PostgreSQL and a broker of this test's own, to stop and restart."""
    postgres = EmbeddedPostgres(tmp_path / "postgres")
    broker = EmbeddedBroker(free_port(), log_file=tmp_path / "broker.log")
    database_url = postgres.start()
    broker.start()
    engine = create_engine(database_url, connect_timeout=2)
    try:
        yield PrivateStack(postgres, broker, engine, Servers(database_url, broker.bootstrap))
    finally:
        await engine.dispose()
        broker.stop()
        postgres.stop()


async def write(service: SpineService, *events: TicketReopened) -> None:
    async with service.sessions() as session, session.begin():
        await add_events(session, service.tables, *events)


@pytest.mark.slow
async def test_a_consumer_waits_out_a_stopped_postgresql_and_parks_nothing(
    private: PrivateStack,
) -> None:
    kafka = private.servers.kafka_settings(request_timeout_ms=3000)
    async with spine_service(private.engine, kafka) as service:
        first = [service.event(f"A{n}", 1) for n in range(5)]
        await write(service, *first)
        consumer = service.consumer(service.record_effect)
        service.start(service.relay().run, consumer.run)
        await wait_until(lambda: _applied(service, 5))

        # Records reach the consumer while PostgreSQL is down: it must wait, not park them.
        outage = [service.event(f"B{n}", 1) for n in range(5)]
        private.postgres.stop()
        await _publish_directly(service, outage)
        await asyncio.sleep(3)
        private.postgres.start()
        await wait_until(lambda: _applied(service, 10), within=60)

        assert await service.effect_counts() == {e.subject: 1 for e in first + outage}
        assert await _parked(service) == 0


@pytest.mark.slow
async def test_shutdown_is_not_held_up_by_a_database_that_is_away(private: PrivateStack) -> None:
    kafka = private.servers.kafka_settings(request_timeout_ms=3000)
    async with spine_service(private.engine, kafka) as service:
        consumer = service.consumer(service.record_effect)
        service.start(consumer.run)
        await asyncio.sleep(3)  # joined the group
        private.postgres.stop()
        await _publish_directly(service, [service.event("C1", 1)])
        await asyncio.sleep(2)  # the consumer is waiting for the database now

        started = time.monotonic()
        await asyncio.wait_for(service.halt(), timeout=10)

        assert time.monotonic() - started < 5
        private.postgres.start()


@pytest.mark.slow
async def test_the_relay_holds_no_transaction_open_while_the_broker_does_not_answer(
    private: PrivateStack,
) -> None:
    kafka = private.servers.kafka_settings(request_timeout_ms=4000)
    async with spine_service(private.engine, kafka) as service:
        await write(service, service.event("D0", 1))
        service.start(service.relay().run)
        await wait_until(lambda: _all_published(service))
        private.broker.stop()
        await write(service, *(service.event(f"D{n}", 1) for n in range(1, 20)))

        samples = []
        for _ in range(20):  # four seconds of the relay trying to send
            samples.append(await _open_transactions(private.engine))
            await asyncio.sleep(0.2)

        assert max(samples) == 0
        private.broker.start()
        await wait_until(lambda: _all_published(service), within=60)


@pytest.mark.slow
async def test_a_broker_that_lost_its_log_gets_only_what_a_consumer_had_not_processed(
    private: PrivateStack,
) -> None:
    kafka = private.servers.kafka_settings(request_timeout_ms=3000)
    async with spine_service(private.engine, kafka) as service:
        consumed = [service.event(f"E{n}", 1) for n in range(200)]
        await write(service, *consumed)
        service.start(service.relay().run, service.consumer(service.record_effect).run)
        await wait_until(lambda: _applied(service, 200), within=60)
        await wait_until(service.mark_past_everything)  # committed, and the mark recorded

        replayed_before = _replayed(service)
        private.broker.stop()
        private.broker.start()
        later = [service.event(f"F{n}", 1) for n in range(10)]
        await write(service, *later)
        await wait_until(lambda: _applied(service, 210), within=60)

        assert _replayed(service) - replayed_before < 20  # not the 200 already processed
        assert await service.effect_counts() == {e.subject: 1 for e in consumed + later}


@pytest.mark.slow
async def test_a_consumer_that_was_behind_still_gets_everything_after_a_broker_restart(
    private: PrivateStack,
) -> None:
    kafka = private.servers.kafka_settings(request_timeout_ms=3000)
    async with spine_service(private.engine, kafka) as service:
        slow_group = f"{service.schema}-slow"
        relay = service.relay(consumer_groups=(service.consumer_name, slow_group))
        events = [service.event(f"G{n}", 1) for n in range(100)]
        await write(service, *events)
        service.start(relay.run, service.consumer(service.record_effect).run)
        await wait_until(lambda: _applied(service, 100), within=60)
        await wait_until(lambda: _marked(service))  # the slow group holds it at the start

        private.broker.stop()  # the slow group never read anything on this broker
        private.broker.start()
        seen: list[str] = []

        async def note(session: AsyncSession, event: TicketReopened) -> None:
            seen.append(event.subject)

        service.start(service.consumer(note, name=slow_group).run)
        await wait_until(lambda: _at_least(seen, 100), within=60)

        assert sorted(set(seen)) == sorted(e.subject for e in events)


async def test_an_event_type_this_code_does_not_know_is_skipped_not_parked(
    engine: AsyncEngine, servers: Servers
) -> None:
    async with spine_service(engine, servers.kafka_settings()) as service:
        consumer = service.consumer(service.record_effect)
        newer = json.loads(serialize_event(service.event("H1", 1)))
        newer["type"] = "ticket.escalated"  # added by a newer release
        newer_field = json.loads(serialize_event(service.event("H2", 2)))
        newer_field["data"]["escalation_level"] = 2  # a field added to a known event

        skipped = await consumer.process(_record(json.dumps(newer).encode()))
        applied = await consumer.process(_record(json.dumps(newer_field).encode()))

        assert (skipped, applied) == ("skipped_unknown", "applied")
        assert await _parked(service) == 0


async def test_a_parked_event_is_kept_in_the_database_and_can_be_replayed_or_discarded(
    engine: AsyncEngine, servers: Servers
) -> None:
    async with spine_service(engine, servers.kafka_settings()) as service:
        broken = True

        async def fails_until_fixed(session: AsyncSession, event: TicketReopened) -> None:
            if broken:
                raise ValueError("deadline table has no entry for this request type")
            await service.record_effect(session, event)

        consumer = service.consumer(fails_until_fixed)
        first, second = service.event("P1", 1), service.event("P2", 1)

        outcomes = [await consumer.process(_record(serialize_event(e))) for e in (first, second)]
        rows = await _parked_rows(service)
        broken = False
        replayed = await consumer.replay_parked(rows[0].id, by="王工")
        await consumer.discard_parked(rows[1].id, by="王工", note="a test ticket, not real")

        assert outcomes == ["dead_lettered", "dead_lettered"]
        assert [row.event_id for row in rows] == [first.id, second.id]
        assert "deadline table" in rows[0].error
        assert replayed == "replayed"
        assert await service.effect_counts() == {first.subject: 1}
        statuses = {row.event_id: row.status for row in await _parked_rows(service, "any")}
        assert statuses == {first.id: "replayed", second.id: "discarded"}
        with pytest.raises(LookupError):
            await consumer.replay_parked(rows[0].id, by="王工")


def _record(value: bytes) -> Record:
    return Record(topic=TICKETS_TOPIC, partition=0, offset=0, key=b"k", value=value)


async def _publish_directly(service: SpineService, events: list[TicketReopened]) -> None:
    """Put events on the broker without the outbox (whose database may be down)."""
    producer = await service.broker.producer()
    for event in events:
        await producer.send_and_wait(TICKETS_TOPIC, serialize_event(event), key=event.key.encode())


async def _applied(service: SpineService, count: int) -> bool:
    return len(await service.effect_counts()) >= count


async def _marked(service: SpineService) -> bool:
    return await service.low_water_mark() is not None


async def _all_published(service: SpineService) -> bool:
    return await service.unpublished() == 0


async def _at_least(items: list[str], count: int) -> bool:
    return len(set(items)) >= count


async def _parked(service: SpineService) -> int:
    parked = service.tables.parked_events
    return await service.count(select(func.count()).select_from(parked))


async def _parked_rows(service: SpineService, status: str = "parked") -> list[Any]:
    parked = service.tables.parked_events
    query = select(parked).order_by(parked.c.id)
    if status != "any":
        query = query.where(parked.c.status == status)
    async with service.engine.connect() as connection:
        return list((await connection.execute(query)).all())


async def _open_transactions(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        count = await connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
            )
        )
        return int(count or 0)


def _replayed(service: SpineService) -> float:
    return float(OUTBOX_REPLAYED_EVENTS.labels(service.schema)._value.get())
