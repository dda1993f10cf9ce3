"""Stopping the embedded stack between any two events, and starting it again, loses none and
applies none twice: PostgreSQL keeps its data directory, the broker comes back empty."""

import asyncio
from pathlib import Path

import pytest

from hotline.shared.db import create_engine
from hotline.shared.messaging.outbox import add_events
from hotline.shared.stack.embedded import EmbeddedBroker, EmbeddedPostgres, free_port
from tests.conftest import Servers
from tests.shared.harness import SpineService, spine_service
from tests.support import wait_until

EVENTS_BEFORE_STOP = 12
EVENTS_AFTER_RESTART = 8


async def applied(service: SpineService) -> int:
    return len(await service.effect_counts())


@pytest.mark.slow
@pytest.mark.parametrize("stop_after_applied", [0, 5, EVENTS_BEFORE_STOP])
async def test_a_restart_of_the_stack_loses_no_event_and_applies_none_twice(
    tmp_path: Path, stop_after_applied: int
) -> None:
    postgres = EmbeddedPostgres(tmp_path / "postgres")
    broker = EmbeddedBroker(free_port(), log_file=tmp_path / "broker.log")
    engine = create_engine(postgres.start())
    broker.start()
    kafka = Servers("", broker.bootstrap).kafka_settings(request_timeout_ms=3000)
    try:
        async with spine_service(engine, kafka) as service:
            events = [service.event(f"T{n}", 1) for n in range(EVENTS_BEFORE_STOP)]
            for event in events:
                async with service.sessions() as session, session.begin():
                    await add_events(session, service.tables, event)
            service.start(service.relay().run, service.consumer(service.record_effect).run)
            await wait_until(lambda: _at_least(service, stop_after_applied))

            await service.halt()
            await service.broker.close()
            broker.stop()
            postgres.stop()
            postgres.start()
            broker.start()

            later = [service.event(f"T{n}", 1) for n in range(EVENTS_BEFORE_STOP, 20)]
            async with service.sessions() as session, session.begin():
                await add_events(session, service.tables, *later)
            service.start(service.relay().run, service.consumer(service.record_effect).run)
            expected = {event.subject: 1 for event in [*events, *later]}
            await wait_until(lambda: _exactly(service, expected), within=60)
            await asyncio.sleep(1.0)  # a late duplicate would land now

            assert await service.effect_counts() == expected
    finally:
        await engine.dispose()
        broker.stop()
        postgres.stop()


async def _at_least(service: SpineService, count: int) -> bool:
    return await applied(service) >= count


async def _exactly(service: SpineService, expected: dict[str, int]) -> bool:
    return await service.effect_counts() == expected
