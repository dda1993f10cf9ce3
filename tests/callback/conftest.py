"""Callback on the real servers, with a fake call-centre survey endpoint it can call."""

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from standardwebhooks.webhooks import Webhook

from hotline.callback import service
from hotline.callback.models import Survey, messaging
from hotline.shared.db import create_session_factory, unit_of_work
from hotline.shared.messaging.events import (
    PhoneNumber,
    TicketClosed,
    TicketClosedData,
    TicketDispatched,
    TicketDispatchedData,
    TicketReplied,
    TicketRepliedData,
)
from hotline.shared.migrations import upgrade
from hotline.shared.web.webhooks import signature_headers
from tests.conftest import Servers
from tests.factories import ticket_created
from tests.support import announced, running

RESULT_SECRET = "whsec_" + "Y2FsbGNlbnRyZS1yZXN1bHRzLXNlY3JldC1mb3ItdGVzdHM="
SURVEY_SECRET = "whsec_" + "c3VydmV5LXJlcXVlc3RzLXNpZ25pbmctc2VjcmV0LWZvcg=="
AGENT_TOKEN = "test-agent-token"
NOW = datetime.now(UTC)


@dataclass
class FakeCallCentre:
    """The call-centre software's survey endpoint: checks our signature, records requests."""

    status: int = 202
    delay: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)  # a first request came in

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/surveys")
        async def survey(request: Request) -> Response:
            body = await request.body()
            Webhook(SURVEY_SECRET).verify(body, dict(request.headers), json_parse=False)
            self.arrived.set()
            await asyncio.sleep(self.delay)
            self.requests.append(json.loads(body) | {"webhook-id": request.headers["webhook-id"]})
            return Response(status_code=self.status)

        return app


@dataclass
class Callback:
    app: FastAPI
    http: httpx.AsyncClient
    engine: AsyncEngine

    async def closed_ticket(
        self,
        *,
        claimed_contact: bool = True,
        request_type: str = "help",
        version: int = 5,
        reply_last: bool = False,
    ) -> str:
        """A ticket's life as intake and dispatch announce it, up to its closure."""
        no = f"SY{uuid4().hex[:12].upper()}"
        ids = {"source": "/tests", "subject": no, "ticket_id": no}
        created = ticket_created(
            no,
            source_ticket_id=no,
            call_id=no,
            caller_salutation="张先生",
            caller=PhoneNumber(number="13812341234", masked="138****1234"),
            request_type=request_type,
            category="社会服务类",
            location_code="430503001",
            address=None,
            content="百春园小区门口路灯不亮，请维修",
            suggested_unit=None,
            agent_id="A1",
            accepted_at=NOW,
        )
        dispatched = TicketDispatched(
            **ids,
            version=2,
            data=TicketDispatchedData(
                ticket_no=no,
                unit_id="U001",
                unit_name="大祥区政府",
                dispatched_at=NOW,
                deadline=NOW,
                how="routed",
            ),
        )
        replied = TicketReplied(
            **ids,
            version=version - 1,
            data=TicketRepliedData(
                ticket_no=no,
                unit_id="U001",
                at=NOW,
                actions="已和社区联系并处理路灯问题",
                result="路灯已修复，已告知诉求人处理结果",
                citizen_contacted=claimed_contact,
            ),
        )
        closed = TicketClosed(
            **ids,
            version=version,
            data=TicketClosedData(
                ticket_no=no, closed_at=NOW, handling_unit="大祥区政府", resolution="路灯已修复"
            ),
        )
        ctx = self.app.state.context.context
        async with unit_of_work(create_session_factory(self.engine)) as session:
            # Out of order on purpose: callback must not depend on arrival order.
            if not reply_last:
                await service.on_ticket_replied(session, replied)
            await service.on_ticket_closed(session, closed, ctx)
            await service.on_ticket_dispatched(session, dispatched)
            await service.on_ticket_created(session, created, ctx)
            if reply_last:
                await service.on_ticket_replied(session, replied)
        return no

    async def post_result(
        self, ticket_no: str, body: dict[str, Any], *, webhook_id: str | None = None
    ) -> httpx.Response:
        raw = json.dumps(body, ensure_ascii=False)
        headers = signature_headers(RESULT_SECRET, raw, webhook_id=webhook_id)
        return await self.http.post(
            f"/v1/callbacks/{ticket_no}/result", content=raw, headers=headers
        )

    async def survey(self, ticket_no: str) -> Survey:
        async with create_session_factory(self.engine)() as session:
            row = await session.scalar(select(Survey).where(Survey.ticket_no == ticket_no))
            assert row is not None
            return row

    async def events(self, ticket_no: str) -> list[str]:
        return await announced(self.engine, messaging, ticket_no)


# Whatever the hour the tests run at, calling hours are open and a survey is due at once.
CALLBACK_SETTINGS = {
    "callback_webhook_senders": json.dumps(
        {"callcentre": {"secrets": [RESULT_SECRET], "scopes": ["callbacks"]}}
    ),
    "callback_agent_tokens": json.dumps({"desk": AGENT_TOKEN}),
    "callback_survey_webhook_url": "http://callcentre/surveys",
    "callback_survey_webhook_secret": SURVEY_SECRET,
    "callback_calling_hours_start": "00:00:00",
    "callback_calling_hours_end": "23:59:59.999999",
    "callback_call_on_public_holidays": "true",
    "callback_delay_minutes": "0",
    "callback_retry_after_minutes": "0.001",
    "callback_scheduler_interval_seconds": "3600",
}


@pytest.fixture(scope="module")
async def callback(engine: AsyncEngine, servers: Servers) -> AsyncIterator[Callback]:
    await upgrade(engine, "hotline.callback")
    from hotline.callback.main import app

    async with running(app, servers, **CALLBACK_SETTINGS) as http:
        yield Callback(app, http, engine)
