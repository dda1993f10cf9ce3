"""Dispatch's timer on the simulated clock: a deadline passes when the clock is advanced past
it, with no waiting."""

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.dispatch.models import DispatchTicket, messaging
from hotline.shared.migrations import upgrade
from hotline.shared.settings import DEVELOPMENT_OPERATOR_TOKEN
from hotline.shared.stack.up import CLOCK_PACKAGE
from tests.conftest import Servers
from tests.dispatch.conftest import SUPERVISOR_TOKEN, Dispatch
from tests.support import running, wait_until

OPERATOR = {"Authorization": f"Bearer {DEVELOPMENT_OPERATOR_TOKEN}"}
# A month no other test reports on: scoring's tests read January 2022 from the same topics.
MARCH_3 = datetime.fromisoformat("2021-03-03T09:30:00+08:00")


@pytest.fixture(scope="module")
async def dispatch(engine: AsyncEngine, servers: Servers) -> AsyncIterator[Dispatch]:
    await upgrade(engine, CLOCK_PACKAGE)
    await upgrade(engine, "hotline.dispatch")
    from hotline.dispatch.main import app

    async with running(
        app,
        servers,
        clock="simulated",
        dispatch_supervisor_tokens=f'{{"王主任": "{SUPERVISOR_TOKEN}"}}',
        dispatch_scheduler_interval_seconds="0.2",
    ) as http:
        moved = await http.put(
            "/v1/clock", json={"now": MARCH_3.isoformat(), "force": True}, headers=OPERATOR
        )
        assert moved.status_code == 200, moved.text
        yield Dispatch(app, http, engine)


async def test_advancing_the_clock_past_a_deadline_marks_the_ticket_overdue(
    dispatch: Dispatch,
) -> None:
    ticket_no = await dispatch.forwarded(accepted_at=MARCH_3)
    deadline = MARCH_3 + timedelta(days=3)
    async with dispatch.engine.begin() as connection:
        await connection.execute(
            update(DispatchTicket)
            .where(DispatchTicket.ticket_no == ticket_no)
            .values(deadline=deadline)
        )

    advanced = await dispatch.http.post(
        "/v1/clock/advance", json={"seconds": 4 * 86_400}, headers=OPERATOR
    )

    async def overdue() -> bool:
        return (await dispatch.ticket(ticket_no)).overdue

    assert advanced.status_code == 200, advanced.text
    await wait_until(overdue, within=5, what="the timer to mark the ticket overdue")
    assert (await dispatch.events(ticket_no)).count("ticket.overdue") == 1
    # The event is stamped in business time: four days after 3 March 2021.
    async with dispatch.engine.connect() as connection:
        stamped = await connection.scalar(
            select(messaging.outbox.c.payload["time"].astext).where(
                messaging.outbox.c.key == ticket_no,
                messaging.outbox.c.event_type == "ticket.overdue",
            )
        )
    assert stamped is not None
    assert abs(datetime.fromisoformat(stamped) - (deadline + timedelta(days=1))) < timedelta(
        minutes=1
    )
