"""Intake on the real servers: its app with relay and consumers running, and a signing client."""

import json
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.intake.models import messaging
from hotline.shared.migrations import upgrade
from hotline.shared.web.webhooks import signature_headers
from tests.conftest import Servers
from tests.support import announced, running

OLD_SECRET = "whsec_" + "b2xkLXNlY3JldC1vZi10aGUtY2FsbC1jZW50cmU="
NEW_SECRET = "whsec_" + "bmV3LXNlY3JldC1vZi10aGUtY2FsbC1jZW50cmU="
GAS_SECRET = "whsec_" + "Z2FzLWNvbXBhbnktc2VjcmV0LWZvci1ub3RpY2Vz"
READER_TOKEN = "test-reader-token"
SUPERVISOR_TOKEN = "test-intake-supervisor-token"
SUPERVISOR = {"Authorization": f"Bearer {SUPERVISOR_TOKEN}"}
SENDERS = {
    "callcentre": {"secrets": [OLD_SECRET, NEW_SECRET], "scopes": ["calls", "tickets"]},
    "gasco": {"secrets": [GAS_SECRET], "scopes": ["notices"]},
}


@dataclass
class IntakeClient:
    """Posts webhooks signed as a sender would, and reads what intake stored."""

    http: httpx.AsyncClient
    engine: AsyncEngine
    secret: str = NEW_SECRET
    sent: list[str] = field(default_factory=list)

    async def post(
        self,
        path: str,
        body: dict[str, Any],
        *,
        secret: str | None = None,
        webhook_id: str | None = None,
        sent_at: datetime | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        raw = json.dumps(body, ensure_ascii=False, default=str)
        signed = signature_headers(
            secret or self.secret, raw, webhook_id=webhook_id, sent_at=sent_at
        )
        return await self.http.post(path, content=raw.encode(), headers=signed | (headers or {}))

    async def read(self, ticket_no: str, token: str | None = READER_TOKEN) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await self.http.get(f"/v1/tickets/{ticket_no}", headers=headers)

    async def scalar(self, statement: Any) -> Any:
        async with self.engine.connect() as connection:
            return await connection.scalar(statement)

    async def announced(self, key: str) -> list[str]:
        return await announced(self.engine, messaging, key)

    async def outbox_count(self) -> int:
        """Events a webhook announced: not the burst alerts intake's own consumer may write
        meanwhile, from other tests' tickets."""
        outbox = messaging.outbox
        return int(
            await self.scalar(
                select(func.count())
                .select_from(outbox)
                .where(outbox.c.event_type != "alert.burst_detected")
            )
        )


@pytest.fixture(scope="module")
async def intake(engine: AsyncEngine, servers: Servers) -> AsyncIterator[IntakeClient]:
    await upgrade(engine, "hotline.intake")
    from hotline.intake.main import app

    async with running(
        app,
        servers,
        intake_webhook_senders=json.dumps(SENDERS),
        intake_burst_threshold="4",
        intake_reader_tokens=json.dumps({"desk": READER_TOKEN}),
        intake_supervisor_tokens=json.dumps({"李组长": SUPERVISOR_TOKEN}),
    ) as http:
        yield IntakeClient(http, engine)


def citizen_number() -> str:
    return "13" + "".join(random.choices("0123456789", k=9))


def place() -> str:
    """A fresh village-level code in 大祥区, so no other test's tickets are on the same spot."""
    return "430503" + "".join(random.choices("0123456789", k=6))


def ticket_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "source_ticket_id": f"desk-{uuid4().hex[:12]}",
        "call_id": f"call-{uuid4().hex[:12]}",
        "channel": "phone",
        "caller": {"salutation": "张先生", "number": citizen_number()},
        "request_type": "complaint",
        "category": "生活服务类",
        "location_code": place(),
        "address": "大祥区翠园小区",
        "content": "翠园小区从昨天起停气，燃气公司没有提前通知，家里老人没法做饭",
        "handling_mode": "forward",
        "suggested_unit": "市燃气总公司",
        "agent_id": "A017",
        "accepted_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
        "new_facts": False,
    }
    return body | overrides


def call_body(**overrides: Any) -> dict[str, Any]:
    start = datetime.now(UTC) - timedelta(minutes=10)
    body: dict[str, Any] = {
        "call_id": f"call-{uuid4().hex[:12]}",
        "line": "12345",
        "direction": "in",
        "caller_number": citizen_number(),
        "callee_number": "12345",
        "agent_id": "A017",
        "started_at": start.isoformat(),
        "queued_at": (start + timedelta(seconds=5)).isoformat(),
        "ringing_at": (start + timedelta(seconds=40)).isoformat(),
        "connected_at": (start + timedelta(seconds=45)).isoformat(),
        "ended_at": (start + timedelta(seconds=345)).isoformat(),
        "talk_seconds": 300,
        "recording_url": "https://recordings.example/2022/01/31/abc.wav",
        "outcome": "answered",
    }
    return body | overrides
