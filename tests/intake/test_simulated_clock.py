"""Intake on the simulated clock: the clock moved over HTTP by operators and told to every other
process, and tickets judged "in the future" by business time while webhook signatures keep
the wall clock."""

import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.shared.clock.follower import ClockFollower
from hotline.shared.migrations import upgrade
from hotline.shared.settings import DEVELOPMENT_OPERATOR_TOKEN
from hotline.shared.stack.up import CLOCK_PACKAGE
from tests.conftest import Servers
from tests.intake.conftest import SENDERS, IntakeClient, ticket_body
from tests.support import running, wait_until

OPERATOR = {"Authorization": f"Bearer {DEVELOPMENT_OPERATOR_TOKEN}"}
SHANGHAI = "+08:00"
# A Wednesday of the seed's January, 09:30 in Shaoyang.
# A month no other test reports on: scoring's tests read January 2022 from the same topics.
MARCH_3 = datetime.fromisoformat(f"2021-03-03T09:30:00{SHANGHAI}")


@pytest.fixture(scope="module")
async def intake(engine: AsyncEngine, servers: Servers) -> AsyncIterator[IntakeClient]:
    await upgrade(engine, CLOCK_PACKAGE)
    await upgrade(engine, "hotline.intake")
    from hotline.intake.main import app

    async with running(
        app, servers, clock="simulated", intake_webhook_senders=json.dumps(SENDERS)
    ) as http:
        yield IntakeClient(http, engine)


@pytest.fixture
async def january(intake: IntakeClient) -> IntakeClient:
    """The clock put back at 2021-03-03 09:30 (Shaoyang) for the test."""
    moved = await intake.http.put(
        "/v1/clock", json={"now": MARCH_3.isoformat(), "force": True}, headers=OPERATOR
    )
    assert moved.status_code == 200, moved.text
    return intake


async def test_an_operator_sets_the_clock_and_advances_it(january: IntakeClient) -> None:
    advanced = await january.http.post(
        "/v1/clock/advance", json={"seconds": 2 * 86_400}, headers=OPERATOR
    )
    read = await january.http.get("/v1/clock")

    assert advanced.status_code == 200, advanced.text
    assert advanced.json()["mode"] == "simulated"
    assert _parsed(advanced.json()) - (MARCH_3 + timedelta(days=2)) < timedelta(seconds=5)
    assert read.json()["mode"] == "simulated"
    assert abs(_parsed(read.json()) - _parsed(advanced.json())) < timedelta(seconds=5)


async def test_another_process_hears_a_move_made_over_http_at_once(
    january: IntakeClient, servers: Servers
) -> None:
    other = ClockFollower(servers.database_url)
    await other.start()
    try:
        target = MARCH_3 + timedelta(days=20)
        moved_at = time.monotonic()
        moved = await january.http.put(
            "/v1/clock", json={"now": target.isoformat()}, headers=OPERATOR
        )

        async def heard() -> bool:
            return abs(other.now() - target) < timedelta(seconds=2)

        await wait_until(heard, within=2, what="the other process to hear the move")
        delay = time.monotonic() - moved_at
    finally:
        await other.close()
    assert moved.status_code == 200, moved.text
    assert delay < 1.0


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/v1/clock/advance", {"seconds": -3600}, "seconds"),
        ("POST", "/v1/clock/advance", {"seconds": 0}, "seconds"),
        ("POST", "/v1/clock/advance", {"hours": 1}, "seconds"),
        ("PUT", "/v1/clock", {"now": "2021-03-03T09:00:00"}, "now"),  # no offset
        ("PUT", "/v1/clock", {"now": "tomorrow"}, "now"),
        ("PUT", "/v1/clock", {"now": "9999-12-31T23:59:59+00:00", "force": True}, "now"),
    ],
    ids=["negative", "zero", "unknown-field", "naive-time", "not-a-time", "past-2100"],
)
async def test_a_bad_move_is_refused_naming_the_field(
    january: IntakeClient, method: str, path: str, body: dict[str, Any], field: str
) -> None:
    response = await january.http.request(method, path, json=body, headers=OPERATOR)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [error["field"] for error in response.json()["errors"]]


async def test_moving_back_needs_force(january: IntakeClient) -> None:
    earlier = (MARCH_3 - timedelta(days=1)).isoformat()

    refused = await january.http.put("/v1/clock", json={"now": earlier}, headers=OPERATOR)
    forced = await january.http.put(
        "/v1/clock", json={"now": earlier, "force": True}, headers=OPERATOR
    )

    assert refused.status_code == 409
    assert refused.json()["errors"][0]["field"] == "now"
    assert forced.status_code == 200, forced.text


async def test_only_operators_move_the_clock(january: IntakeClient) -> None:
    anonymous = await january.http.post("/v1/clock/advance", json={"seconds": 60})
    wrong = await january.http.put(
        "/v1/clock",
        json={"now": "2030-01-01T00:00:00+08:00"},
        headers={"Authorization": "Bearer not-an-operator"},
    )

    assert (anonymous.status_code, wrong.status_code) == (401, 401)
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert abs(_parsed((await january.http.get("/v1/clock")).json()) - MARCH_3) < timedelta(
        minutes=1
    )


async def test_a_ticket_of_the_simulated_day_is_accepted_and_one_of_the_real_day_is_future(
    january: IntakeClient,
) -> None:
    # Signed now, on the wall clock: the five-minute window is transport, not business, time.
    accepted = await january.post(
        "/v1/tickets", ticket_body(accepted_at=f"2021-03-03T09:00:00{SHANGHAI}")
    )
    future = await january.post(
        "/v1/tickets", ticket_body(accepted_at=datetime.now(UTC).isoformat())
    )

    assert accepted.status_code == 201, accepted.text
    assert future.status_code == 422, future.text
    assert "accepted_at" in [error["field"] for error in future.json()["errors"]]


def _parsed(answer: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(answer["now"])
