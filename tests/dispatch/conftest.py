"""Dispatch on the real servers: its app with consumer and timer running, and helpers that put
forwarded tickets in front of it as intake's `ticket.created` would."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.dispatch import service
from hotline.dispatch.models import DispatchTicket, messaging
from hotline.shared.db import create_session_factory, unit_of_work
from hotline.shared.migrations import upgrade
from tests.conftest import Servers
from tests.factories import ticket_created
from tests.support import announced, running

SUPERVISOR_TOKEN = "test-supervisor-token-not-for-production"


@dataclass
class Dispatch:
    app: FastAPI
    http: httpx.AsyncClient
    engine: AsyncEngine

    def as_supervisor(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {SUPERVISOR_TOKEN}"}

    async def key_for(self, unit_id: str) -> dict[str, str]:
        issued = await self.http.post(
            f"/v1/units/{unit_id}/credentials", headers=self.as_supervisor()
        )
        assert issued.status_code == 201, issued.text
        return {"Authorization": f"Bearer {issued.json()['api_key']}"}

    async def forwarded(self, **overrides: Any) -> str:
        """A forwarded ticket arriving from intake; returns its number."""
        ticket_no = f"SY{uuid4().hex[:12].upper()}"
        event = ticket_created(ticket_no, source="/hotline/intake", **overrides)
        async with unit_of_work(create_session_factory(self.engine)) as session:
            await service.on_tickets_created(session, [event], self.app.state.context)
        return ticket_no

    async def new_unit(self) -> str:
        """A unit of the test's own, so its lists hold only the test's tickets."""
        unit_id = f"T{uuid4().hex[:8].upper()}"
        created = await self.http.post(
            "/v1/units",
            headers=self.as_supervisor(),
            json={"unit_id": unit_id, "name": f"测试单位{unit_id}", "kind": "city_bureau"},
        )
        assert created.status_code == 201, created.text
        return unit_id

    async def ticket(self, ticket_no: str) -> DispatchTicket:
        row = await self.maybe_ticket(ticket_no)
        assert row is not None
        return row

    async def maybe_ticket(self, ticket_no: str) -> DispatchTicket | None:
        async with create_session_factory(self.engine)() as session:
            return await session.get(DispatchTicket, ticket_no)

    async def versions(self, ticket_no: str) -> list[int]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(messaging.outbox.c.payload["version"].as_integer())
                .where(messaging.outbox.c.key == ticket_no)
                .order_by(messaging.outbox.c.id)
            )
            return list(rows.scalars())

    async def events(self, ticket_no: str) -> list[str]:
        return await announced(self.engine, messaging, ticket_no)


@pytest.fixture(scope="module")
async def dispatch(engine: AsyncEngine, servers: Servers) -> AsyncIterator[Dispatch]:
    await upgrade(engine, "hotline.dispatch")
    from hotline.dispatch.main import app

    async with running(
        app,
        servers,
        dispatch_supervisor_tokens=f'{{"王主任": "{SUPERVISOR_TOKEN}"}}',
        dispatch_scheduler_interval_seconds="3600",
    ) as http:
        yield Dispatch(app, http, engine)
