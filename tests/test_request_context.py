"""Each request's id and trace on its log lines, and the trace carried by its events through the
real broker into the log lines of the service that handles them."""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.dispatch.models import messaging as dispatch_messaging
from hotline.intake.models import messaging as intake_messaging
from hotline.shared import tracing
from hotline.shared.messaging.events import TICKETS_TOPIC, serialize_event
from hotline.shared.messaging.tables import MessagingTables
from hotline.shared.migrations import upgrade
from hotline.shared.stack.embedded import free_port
from tests.conftest import Servers
from tests.dispatch.conftest import Dispatch, dispatch  # noqa: F401 (fixture)
from tests.factories import ticket_created
from tests.intake.conftest import READER_TOKEN, SENDERS, IntakeClient, ticket_body
from tests.support import serving, wait_until

PARENT_SPAN = "ab" * 8


@pytest.fixture(scope="module")
async def intake(engine: AsyncEngine, servers: Servers) -> AsyncIterator[IntakeClient]:
    """Intake behind uvicorn on a port of its own, so its access lines are written too."""
    await upgrade(engine, "hotline.intake")
    from hotline.intake.main import app

    async with serving(
        app,
        servers,
        free_port(),
        intake_webhook_senders=json.dumps(SENDERS),
        intake_reader_tokens=json.dumps({"desk": READER_TOKEN}),
    ) as http:
        yield IntakeClient(http, engine)


def access_lines(lines: list[dict[str, Any]], path: str) -> list[dict[str, Any]]:
    return [line for line in lines if line["logger"] == "uvicorn.access" and line["path"] == path]


async def test_a_sane_request_id_is_kept_returned_and_on_the_requests_log_lines(
    intake: IntakeClient, log_lines: list[dict[str, Any]]
) -> None:
    response = await intake.http.get("/healthz", headers={"X-Request-ID": "desk-42.7:a"})

    assert response.headers["X-Request-ID"] == "desk-42.7:a"
    [access] = access_lines(log_lines, "/healthz")
    assert access["request_id"] == "desk-42.7:a"
    assert access["service"] == "intake"
    assert access["status"] == 200


@pytest.mark.parametrize("sent", [None, "has spaces", "x" * 129, "<script>"])
async def test_a_request_without_a_sane_id_gets_a_new_one(
    intake: IntakeClient, log_lines: list[dict[str, Any]], sent: str | None
) -> None:
    headers = {"X-Request-ID": sent} if sent is not None else {}

    response = await intake.http.get("/healthz", headers=headers)

    given = response.headers["X-Request-ID"]
    assert given != sent
    assert len(given) == 32
    assert int(given, 16) >= 0
    assert [line["request_id"] for line in access_lines(log_lines, "/healthz")] == [given]


async def test_two_requests_get_two_ids_and_their_own_traces(
    intake: IntakeClient, log_lines: list[dict[str, Any]]
) -> None:
    await intake.http.get("/healthz")
    await intake.http.get("/healthz")

    first, second = access_lines(log_lines, "/healthz")
    assert first["request_id"] != second["request_id"]
    assert first["trace_id"] != second["trace_id"]


async def test_a_traceparent_sent_with_a_webhook_reaches_the_log_lines_of_dispatch(
    intake: IntakeClient,
    dispatch: Dispatch,  # noqa: F811
    log_lines: list[dict[str, Any]],
) -> None:
    trace_id = uuid4().hex
    sent = f"00-{trace_id}-{PARENT_SPAN}-01"

    response = await intake.post(
        "/v1/tickets", ticket_body(suggested_unit="市燃气总公司"), headers={"traceparent": sent}
    )
    assert response.status_code == 201, response.text
    ticket_no = response.json()["ticket_no"]

    def handled_by_dispatch() -> list[dict[str, Any]]:
        return [
            line
            for line in log_lines
            if line.get("consumer") == "dispatch"
            and line.get("key") == ticket_no
            and "ticket.created applied" in line["event"]
        ]

    async def handled() -> bool:
        return bool(handled_by_dispatch())

    await wait_until(handled, within=60, what="dispatch to log the ticket it was sent")

    # The webhook's request: its access line, and the event it announced.
    [access] = access_lines(log_lines, "/v1/tickets")
    assert access["trace_id"] == trace_id
    assert access["span_id"] != PARENT_SPAN
    [created] = await traceparents(intake.engine, intake_messaging, ticket_no, "ticket.created")
    assert created.trace_id == trace_id
    assert created.span_id == access["span_id"]
    # Dispatch handled it in a span of the same trace, and announced the dispatch under that span.
    [line] = handled_by_dispatch()
    assert line["service"] == "dispatch"
    assert line["trace_id"] == trace_id
    assert line["span_id"] not in (PARENT_SPAN, created.span_id)

    async def dispatched() -> bool:
        return bool(
            await traceparents(dispatch.engine, dispatch_messaging, ticket_no, "ticket.dispatched")
        )

    await wait_until(dispatched, within=30, what="dispatch to announce the dispatch")
    [announced] = await traceparents(
        dispatch.engine, dispatch_messaging, ticket_no, "ticket.dispatched"
    )
    assert announced == tracing.TraceContext(trace_id, line["span_id"])


async def traceparents(
    engine: AsyncEngine, tables: MessagingTables, key: str, event_type: str
) -> list[tracing.TraceContext]:
    async with engine.connect() as connection:
        rows = await connection.scalars(
            select(tables.outbox.c.traceparent).where(
                tables.outbox.c.key == key, tables.outbox.c.event_type == event_type
            )
        )
        found = [tracing.TraceContext.parse(row) for row in rows]
    return [trace for trace in found if trace is not None]


async def test_tickets_fetched_together_each_keep_their_own_trace_in_dispatch(
    servers: Servers,
    dispatch: Dispatch,  # noqa: F811
    log_lines: list[dict[str, Any]],
) -> None:
    tickets = {f"T-trace-{uuid4().hex[:8]}": tracing.TraceContext.start() for _ in range(3)}
    producer = AIOKafkaProducer(bootstrap_servers=servers.kafka_bootstrap, linger_ms=20)
    await producer.start()
    try:
        # One partition, sent at once: fetched (most likely) as one batch, applied together.
        sent = [
            await producer.send(
                TICKETS_TOPIC,
                serialize_event(ticket_created(ticket_no, suggested_unit="市燃气总公司")),
                key=ticket_no.encode(),
                partition=0,
                headers=[(tracing.TRACEPARENT, trace.header.encode())],
            )
            for ticket_no, trace in tickets.items()
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()

    async def all_dispatched() -> bool:
        for ticket_no in tickets:
            if not await traceparents(
                dispatch.engine, dispatch_messaging, ticket_no, "ticket.dispatched"
            ):
                return False
        return True

    await wait_until(all_dispatched, within=60, what="dispatch to announce all three")
    for ticket_no, trace in tickets.items():
        [announced] = await traceparents(
            dispatch.engine, dispatch_messaging, ticket_no, "ticket.dispatched"
        )
        [line] = [
            line
            for line in log_lines
            if line.get("consumer") == "dispatch"
            and line.get("key") == ticket_no
            and line["event"].endswith("ticket.created applied")
        ]
        assert announced.trace_id == line["trace_id"] == trace.trace_id
        assert announced.span_id == line["span_id"] != trace.span_id
