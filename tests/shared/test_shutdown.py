"""A service's shutdown is bounded: the relay, consumers and timers get the grace to finish what
they hold; one that does not stop is named, with where it waits, and cancelled."""

import asyncio
import logging
import time

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.shared.runtime import ServiceDefinition, build_runtime
from hotline.shared.settings import ServiceSettings
from tests.conftest import Servers
from tests.shared.harness import FAST_OUTBOX, spine_service


async def test_a_task_that_ignores_stop_is_cancelled_after_the_grace(
    engine: AsyncEngine, servers: Servers, caplog: pytest.LogCaptureFixture
) -> None:
    stopped_politely = asyncio.Event()

    async def polite(stop: asyncio.Event) -> None:
        await stop.wait()
        stopped_politely.set()

    async def deaf_to_stop(stop: asyncio.Event) -> None:
        await asyncio.sleep(3600)  # a call that never returns, say

    async with spine_service(engine, servers.kafka_settings()) as spine:
        definition = ServiceDefinition(
            name=spine.schema,
            tables=spine.tables,
            settings_factory=ServiceSettings,
            timers=lambda context, sessions: (polite, deaf_to_stop),
        )
        settings = ServiceSettings(
            environment="test",
            database_url=servers.database_url,
            kafka=servers.kafka_settings(),
            outbox=FAST_OUTBOX,
            shutdown_grace_seconds=0.5,
        )
        runtime = build_runtime(definition, settings)
        runtime.start_background_work()
        await asyncio.sleep(0.3)

        started = time.monotonic()
        with caplog.at_level(logging.ERROR):
            await asyncio.wait_for(runtime.shutdown(), timeout=10)
        elapsed = time.monotonic() - started

    assert elapsed < 3
    assert stopped_politely.is_set()
    stuck = [r.getMessage() for r in caplog.records if "did not stop in time" in r.getMessage()]
    assert len(stuck) == 1
    assert "timer-1" in stuck[0]
    assert "test_shutdown.py" in stuck[0]  # where it waits: in deaf_to_stop, in asyncio.sleep
    assert "in deaf_to_stop → tasks.py" in stuck[0]
