"""T01 across services: a phone ticket whose call record has not come is not a finding while the
grace runs, becomes one when it has passed (scoring's timer), and stops being one when the call
record arrives after all."""

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.scoring.models import ScoredTicket
from hotline.shared.domain.working_days import LOCAL_TIME
from hotline.shared.messaging.events import TicketCreated
from hotline.shared.migrations import upgrade
from tests.conftest import Servers
from tests.factories import ticket_created
from tests.scoring.conftest import READER_TOKEN, Scoring
from tests.scoring.month import call_record
from tests.support import running

GRACE_SECONDS = 8  # long enough for both tickets to be folded inside it


@pytest.fixture(scope="module")
async def scoring(engine: AsyncEngine, servers: Servers) -> AsyncIterator[Scoring]:
    await upgrade(engine, "hotline.scoring")
    from hotline.scoring.main import app

    async with running(
        app,
        servers,
        scoring_reader_tokens=json.dumps({"clerk": READER_TOKEN}),
        scoring_call_grace_minutes=str(GRACE_SECONDS / 60),
        scoring_grace_check_interval_seconds="0.5",
        scoring_metrics_interval_seconds="3600",
    ) as http:
        yield Scoring(http, engine, servers)


def phone_ticket(call_id: str, accepted: datetime) -> TicketCreated:
    return ticket_created(
        f"T01-{uuid4().hex[:10]}", call_id=call_id, accepted_at=accepted, suggested_unit=None
    )


async def held(scoring: Scoring, *tickets: TicketCreated) -> bool:
    """Whether the read model holds these tickets (not whatever else today holds)."""
    numbers = [ticket.subject for ticket in tickets]
    async with scoring.engine.connect() as connection:
        count = await connection.scalar(
            select(func.count()).where(ScoredTicket.ticket_no.in_(numbers))
        )
    return count == len(numbers)


async def t01_subjects(scoring: Scoring, day: str) -> set[str]:
    page = (
        await scoring.get("/v1/quality/findings", code="T01", **{"from": day, "to": day})
    ).json()
    return {finding["subject"] for finding in page["items"]}


async def test_a_phone_ticket_without_its_call_record_is_found_after_the_grace(
    scoring: Scoring,
) -> None:
    # The consumer has joined its group and reads (the grace must not pass while it joins).
    first = phone_ticket("CALL-first", datetime.now(UTC))
    await scoring.publish([first])
    await scoring.until(lambda: held(scoring, first), what="the consumer reading")

    now = datetime.now(UTC)
    day = f"{now.astimezone(LOCAL_TIME):%Y-%m-%d}"
    waiting = phone_ticket(f"CALL-{uuid4().hex[:8]}", now)
    answered_call = f"CALL-{uuid4().hex[:8]}"
    answered = phone_ticket(answered_call, now)
    await scoring.publish([waiting, answered, call_record(answered_call, now, "12345", "in")])

    await scoring.until(lambda: held(scoring, waiting, answered), what="both in the read model")
    assert waiting.subject not in await t01_subjects(scoring, day)  # within the grace

    async def found() -> bool:
        return waiting.subject in await t01_subjects(scoring, day)

    await scoring.until(found, within=GRACE_SECONDS + 20, what="T01 once the grace has passed")
    assert answered.subject not in await t01_subjects(scoring, day)

    await scoring.publish([call_record(waiting.data.call_id or "", now, "12345", "in")])

    async def gone() -> bool:
        return waiting.subject not in await t01_subjects(scoring, day)

    await scoring.until(gone, what="T01 withdrawn when the call record came late")
