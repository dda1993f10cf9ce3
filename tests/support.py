"""What the service tests share: a service app running on the test servers, and the outbox read
back as the events a service announced."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.shared.messaging.tables import MessagingTables
from tests.conftest import TEST_KAFKA_TUNING, Servers


@asynccontextmanager
async def running(
    app: FastAPI, servers: Servers, **settings: str
) -> AsyncIterator[httpx.AsyncClient]:
    """Start `app` (its relay, consumers and timers too) on the test servers with `settings` as
    `HOTLINE_*` environment variables, and a client that calls it in-process."""
    patch = pytest.MonkeyPatch()
    patch.setenv("HOTLINE_ENVIRONMENT", "test")
    patch.setenv("HOTLINE_DATABASE_URL", servers.database_url)
    patch.setenv("HOTLINE_KAFKA_BOOTSTRAP", servers.kafka_bootstrap)
    for name, tuning in TEST_KAFKA_TUNING.items():
        patch.setenv(f"HOTLINE_KAFKA_{name.upper()}", str(tuning))
    patch.setenv("HOTLINE_OUTBOX_IDLE_POLL_SECONDS", "0.02")
    for name, value in settings.items():
        patch.setenv(f"HOTLINE_{name.upper()}", value)
    try:
        async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://service") as http:
                yield http
    finally:
        patch.undo()


async def announced(engine: AsyncEngine, tables: MessagingTables, key: str) -> list[str]:
    """The types of the events a service wrote to its outbox under `key`, in order."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(tables.outbox.c.event_type)
            .where(tables.outbox.c.key == key)
            .order_by(tables.outbox.c.id)
        )
        return list(rows.scalars())
