"""Scoring on the real servers: its app with its batch consumer and timers running, events put
on the broker's topics as the other services would, and a reader's client."""

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.shared.messaging.events import Event
from hotline.shared.migrations import upgrade
from tests.conftest import Servers
from tests.support import publish, running, wait_until

READER_TOKEN = "test-scoring-reader-token-for-clerks"
READER = {"Authorization": f"Bearer {READER_TOKEN}"}


@dataclass
class Scoring:
    http: httpx.AsyncClient
    engine: AsyncEngine
    servers: Servers

    async def publish(self, events: Iterable[Event]) -> None:
        await publish(self.servers, events)

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.http.get(path, params=params, headers=READER)

    async def until(
        self, probe: Callable[[], Awaitable[bool]], within: float = 60, what: str = "condition"
    ) -> None:
        await wait_until(probe, within, what)


@pytest.fixture(scope="module")
async def scoring(engine: AsyncEngine, servers: Servers) -> AsyncIterator[Scoring]:
    await upgrade(engine, "hotline.scoring")
    from hotline.scoring.main import app

    async with running(
        app,
        servers,
        scoring_reader_tokens=json.dumps({"李科长": READER_TOKEN}),
        scoring_grace_check_interval_seconds="3600",
        scoring_metrics_interval_seconds="3600",
    ) as http:
        yield Scoring(http, engine, servers)
