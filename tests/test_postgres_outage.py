"""PostgreSQL stopped (`pg_ctl stop -m fast`) for ten seconds under traffic, then started again:
intake answers 503 with Retry-After at once while it is away; a sender that retries (same
webhook-id) gets every ticket in; afterwards every ticket intake accepted is held exactly once
by dispatch and by callback, has reached the province (or waits on the gate's worklist), and
nothing is parked."""

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.shared.db import create_engine
from hotline.shared.stack.embedded import EmbeddedBroker, EmbeddedPostgres, free_port
from hotline.shared.stack.up import migrate_all
from hotline.shared.web.webhooks import signature_headers
from tests.conftest import Servers
from tests.intake.conftest import NEW_SECRET, SENDERS, citizen_number
from tests.provincial_sync.conftest import Province
from tests.support import held_counts, running, until_held, uploads_settled

OUTAGE_SECONDS = 10
TICKETS_PER_SECOND = 10


def forwarded_ticket() -> dict[str, Any]:
    return {
        "source_ticket_id": f"desk-{uuid4().hex}",
        "call_id": f"call-{uuid4().hex[:12]}",
        "channel": "phone",
        "caller": {"salutation": "刘女士", "number": citizen_number()},
        "request_type": "help",
        "category": "生活服务类",
        "location_code": "430503001" + f"{uuid4().int % 1000:03d}",
        "content": f"小区燃气表漏气，闻到很重的气味，请尽快派人处理（{uuid4().hex[:6]}）",
        "handling_mode": "forward",
        "suggested_unit": "市燃气总公司",
        "agent_id": "A009",
        "accepted_at": (datetime.now(UTC) - timedelta(seconds=5)).isoformat(),
        "new_facts": True,  # a neighbour's ticket on the same spot would join the first one
    }


class Sender:
    """The call centre: each ticket signed once and posted until intake says 201 (a 503 or a
    dropped connection is retried with the same webhook-id, as Standard Webhooks senders do)."""

    def __init__(self, intake: httpx.AsyncClient) -> None:
        self.intake = intake
        self.accepted: list[str] = []
        self.refusals: list[tuple[int, float, str | None]] = []  # status, seconds, Retry-After

    async def deliver(self, body: dict[str, Any]) -> None:
        raw = json.dumps(body, ensure_ascii=False)
        webhook_id = f"msg_{uuid4().hex}"
        while True:
            headers = signature_headers(NEW_SECRET, raw, webhook_id=webhook_id)
            started = time.monotonic()
            try:
                response = await self.intake.post("/v1/tickets", content=raw, headers=headers)
            except httpx.HTTPError:
                await asyncio.sleep(0.5)
                continue
            if response.status_code == 201:
                self.accepted.append(response.json()["ticket_no"])
                return
            elapsed = time.monotonic() - started
            self.refusals.append(
                (response.status_code, elapsed, response.headers.get("retry-after"))
            )
            assert response.status_code == 503, response.text
            await asyncio.sleep(float(response.headers.get("retry-after", "1")))


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[tuple[EmbeddedPostgres, Servers, AsyncEngine]]:
    postgres = EmbeddedPostgres(tmp_path / "postgres")
    broker = EmbeddedBroker(free_port(), log_file=tmp_path / "broker.log")
    servers = Servers(postgres.start(), broker.start())
    await migrate_all(servers.database_url)
    engine = create_engine(servers.database_url)
    try:
        yield postgres, servers, engine
    finally:
        await engine.dispose()
        broker.stop()
        postgres.stop()


@pytest.mark.slow
async def test_a_postgresql_restart_under_traffic_loses_no_ticket_and_parks_nothing(
    stack: tuple[EmbeddedPostgres, Servers, AsyncEngine],
) -> None:
    postgres, servers, engine = stack
    from hotline.callback.main import app as callback_app
    from hotline.dispatch.main import app as dispatch_app
    from hotline.intake.main import app as intake_app
    from hotline.provincial_sync.main import app as sync_app

    settings = {
        "intake_webhook_senders": json.dumps(SENDERS),
        "consumer_max_attempts": "3",
        "consumer_max_backoff_seconds": "1",
        "database_connect_timeout_seconds": "1",
    }
    async with AsyncExitStack() as apps:
        intake = await apps.enter_async_context(running(intake_app, servers, **settings))
        await apps.enter_async_context(running(dispatch_app, servers, **settings))
        await apps.enter_async_context(running(callback_app, servers, **settings))
        province = Province(free_port(), callback_url="http://127.0.0.1:9")
        province.start()
        apps.callback(province.kill)
        await province.until_up()
        await apps.enter_async_context(
            running(
                sync_app,
                servers,
                **settings,
                sync_province_url=province.url,
                sync_request_timeout_seconds="1",  # leases of a failed step free in 13 s
            )
        )
        sender = Sender(intake)

        async def traffic(seconds: float) -> None:
            deliveries = []
            for _ in range(int(seconds * TICKETS_PER_SECOND)):
                deliveries.append(asyncio.create_task(sender.deliver(forwarded_ticket())))
                await asyncio.sleep(1 / TICKETS_PER_SECOND)
            await asyncio.gather(*deliveries)

        before = asyncio.create_task(traffic(3))
        await asyncio.sleep(2)
        postgres.stop()
        during = asyncio.create_task(traffic(OUTAGE_SECONDS))
        await asyncio.sleep(OUTAGE_SECONDS)
        postgres.start()
        await asyncio.wait_for(asyncio.gather(before, during), timeout=120)
        await until_held(engine, sender.accepted)

        counts = await held_counts(engine, sender.accepted)
        uploads = await uploads_settled(engine, sender.accepted)
        at_province = {arrival["record_id"] for arrival in await province.arrivals()}

    assert len(sender.accepted) == 13 * TICKETS_PER_SECOND
    assert len(set(sender.accepted)) == len(sender.accepted)
    assert sender.refusals, "the outage was not seen"
    assert all(status == 503 and retry for status, _, retry in sender.refusals)
    assert max(seconds for _, seconds, _ in sender.refusals) < 1.0
    assert counts == {
        "dispatch holds": len(sender.accepted),
        "dispatched once": len(sender.accepted),
        "callback holds": len(sender.accepted),
        "parked": 0,
    }
    assert set(uploads) <= {"synced", "blocked"}, uploads
    assert sum(uploads.values()) == len(sender.accepted), uploads
    assert uploads.get("synced", 0) > 0, uploads
    synced = await _synced(engine, sender.accepted)
    assert synced <= at_province


async def _synced(engine: AsyncEngine, tickets: list[str]) -> set[str]:
    async with engine.connect() as connection:
        rows = await connection.scalars(
            text(
                "SELECT record_id FROM provincial_sync.documents "
                "WHERE kind = 'ticket' AND status = 'synced' AND record_id = ANY(:tickets)"
            ),
            {"tickets": tickets},
        )
        return set(rows)
