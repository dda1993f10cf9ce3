"""Surveys of closed tickets on the real servers: scheduling, results, reopening, retries."""

import asyncio
import time
from collections import Counter
from datetime import datetime, timedelta
from datetime import time as clock

import httpx
from sqlalchemy import func, select, update

from hotline.callback import service
from hotline.callback.config import CallbackOptions
from hotline.callback.models import SpotCheck, Survey, SurveyRequestAttempt, messaging
from hotline.callback.scheduled import run_surveys_once
from hotline.shared.db import create_session_factory, unit_of_work
from hotline.shared.domain.working_days import LOCAL_TIME
from hotline.shared.messaging.events import CallbackSpotChecked, SpotCheckedData
from tests.callback.conftest import AGENT_TOKEN, NOW, Callback, FakeCallCentre

SATISFIED = {
    "outcome": "answered",
    "satisfaction": "satisfied",
    "unit_contacted": True,
    "resolved": True,
    "method": "automatic",
}
UNREACHABLE = {"outcome": "unreachable", "method": "automatic"}


async def test_a_closed_ticket_gets_one_survey_scheduled(callback: Callback) -> None:
    ticket_no = await callback.closed_ticket()

    survey = await callback.survey(ticket_no)

    assert (survey.state, survey.method, survey.closed_version) == ("scheduled", "automatic", 5)
    assert await callback.events(ticket_no) == ["callback.scheduled"]


async def test_a_satisfied_citizen_completes_the_survey_and_nothing_reopens(
    callback: Callback,
) -> None:
    ticket_no = await callback.closed_ticket()

    response = await callback.post_result(ticket_no, SATISFIED)

    assert response.status_code == 200, response.text
    assert (response.json()["state"], response.json()["reopened"]) == ("completed", False)
    assert await callback.events(ticket_no) == ["callback.scheduled", "callback.completed"]


async def test_an_unsatisfied_citizen_reopens_the_ticket(callback: Callback) -> None:
    ticket_no = await callback.closed_ticket(version=7)

    response = await callback.post_result(
        ticket_no, SATISFIED | {"satisfaction": "unsatisfied", "comment": "路灯还是不亮"}
    )

    assert response.json()["reopened"] is True
    assert (await callback.events(ticket_no))[-1] == "ticket.reopened"
    async with callback.engine.connect() as connection:
        reopened = await connection.scalar(
            select(messaging.outbox.c.payload).where(
                messaging.outbox.c.key == ticket_no,
                messaging.outbox.c.event_type == "ticket.reopened",
            )
        )
    assert reopened is not None
    assert reopened["version"] == 8
    assert "路灯还是不亮" in reopened["data"]["reason"]


async def test_a_reply_the_citizen_contradicts_reopens_the_ticket_and_counts_against_the_unit(
    callback: Callback,
) -> None:
    ticket_no = await callback.closed_ticket(claimed_contact=True)

    response = await callback.post_result(
        ticket_no, SATISFIED | {"satisfaction": "basically_satisfied", "unit_contacted": False}
    )

    assert (response.json()["contradicted"], response.json()["reopened"]) == (True, True)
    metrics = (await callback.http.get("/metrics")).text
    assert 'hotline_callback_contradicted_replies_total{unit_id="U001"}' in metrics


async def test_a_reply_that_never_claimed_contact_is_not_contradicted(callback: Callback) -> None:
    ticket_no = await callback.closed_ticket(claimed_contact=False)

    response = await callback.post_result(ticket_no, SATISFIED | {"unit_contacted": False})

    assert (response.json()["contradicted"], response.json()["reopened"]) == (False, False)


async def test_an_unreachable_citizen_is_tried_again_then_recorded_unreachable(
    callback: Callback,
) -> None:
    ticket_no = await callback.closed_ticket()

    states = [
        (await callback.post_result(ticket_no, UNREACHABLE)).json()["state"] for _ in range(3)
    ]

    assert states == ["scheduled", "scheduled", "unreachable"]
    assert await callback.events(ticket_no) == [
        "callback.scheduled",
        "callback.scheduled",
        "callback.scheduled",
        "callback.completed",
    ]
    assert (await callback.post_result(ticket_no, UNREACHABLE)).status_code == 404


async def test_a_redelivered_result_changes_nothing(callback: Callback) -> None:
    ticket_no = await callback.closed_ticket()
    unsatisfied = SATISFIED | {"satisfaction": "unsatisfied"}

    first = await callback.post_result(ticket_no, unsatisfied, webhook_id="msg_result_once")
    again = await callback.post_result(ticket_no, unsatisfied, webhook_id="msg_result_once")

    assert again.json() == first.json()
    assert again.headers["webhook-replayed"] == "true"
    assert (await callback.events(ticket_no)).count("ticket.reopened") == 1


async def test_an_answered_survey_without_a_verdict_is_refused_naming_the_field(
    callback: Callback,
) -> None:
    ticket_no = await callback.closed_ticket()

    response = await callback.post_result(ticket_no, {"outcome": "answered", "method": "manual"})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "satisfaction"
    assert (await callback.survey(ticket_no)).state == "scheduled"


async def test_a_result_signed_with_an_unknown_secret_is_refused(callback: Callback) -> None:
    ticket_no = await callback.closed_ticket()

    response = await callback.http.post(
        f"/v1/callbacks/{ticket_no}/result",
        json=SATISFIED,
        headers={"webhook-id": "msg_x", "webhook-timestamp": "1", "webhook-signature": "v1,AAAA"},
    )

    assert response.status_code == 401


async def test_automatic_surveys_are_requested_from_the_call_centre_signed(
    callback: Callback,
) -> None:
    ticket_no = await callback.closed_ticket()
    centre = FakeCallCentre()
    sessions = create_session_factory(callback.engine)

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=centre.app()), base_url="http://callcentre"
    ) as client:
        await run_surveys_once(sessions, client, callback.app.state.context.context)

    asked = [r for r in centre.requests if r["ticket_no"] == ticket_no]
    assert len(asked) == 1
    assert asked[0]["caller_number"] == "13812341234"
    assert asked[0]["webhook-id"] == f"{asked[0]['survey_id']}-1"
    assert (await callback.survey(ticket_no)).state == "requested"


async def test_a_refused_survey_request_is_stored_and_tried_again_later(callback: Callback) -> None:
    ticket_no = await callback.closed_ticket()
    centre = FakeCallCentre(status=503)
    sessions = create_session_factory(callback.engine)

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=centre.app()), base_url="http://callcentre"
    ) as client:
        await run_surveys_once(sessions, client, callback.app.state.context.context)

    survey = await callback.survey(ticket_no)
    async with callback.engine.connect() as connection:
        failures = await connection.scalar(
            select(func.count()).where(
                SurveyRequestAttempt.survey_id == survey.survey_id,
                SurveyRequestAttempt.succeeded.is_(False),
            )
        )
    assert (survey.state, failures) == ("scheduled", 1)
    assert survey.due_at > NOW


async def test_complaints_go_to_the_agents_worklist_with_the_number_to_call(
    callback: Callback,
) -> None:
    ticket_no = await callback.closed_ticket(request_type="complaint")

    listed = await callback.http.get(
        "/v1/worklist", headers={"Authorization": f"Bearer {AGENT_TOKEN}"}, params={"limit": 200}
    )
    refused = await callback.http.get("/v1/worklist")

    item = next(i for i in listed.json() if i["ticket_no"] == ticket_no)
    assert (item["caller_number"], item["unit_name"]) == ("13812341234", "大祥区政府")
    assert refused.status_code == 401


async def test_a_provincial_spot_check_is_recorded_against_the_unit(callback: Callback) -> None:
    ticket_no = await callback.closed_ticket()
    checked = CallbackSpotChecked(
        source="/hotline/provincial-sync",
        subject=ticket_no,
        ticket_id=ticket_no,
        version=1,
        data=SpotCheckedData(
            ticket_no=ticket_no,
            unit_id=None,
            satisfaction="unsatisfied",
            comment="没人与我沟通联系",
            checked_at=NOW,
        ),
    )
    async with unit_of_work(create_session_factory(callback.engine)) as session:
        await service.on_spot_checked(session, checked)

    async with callback.engine.connect() as connection:
        unit_id = await connection.scalar(
            select(SpotCheck.unit_id).where(SpotCheck.ticket_no == ticket_no)
        )
    assert unit_id == "U001"


async def test_a_reply_announced_after_the_closure_is_still_checked_with_the_citizen(
    callback: Callback,
) -> None:
    ticket_no = await callback.closed_ticket(claimed_contact=True, reply_last=True)

    response = await callback.post_result(ticket_no, SATISFIED | {"unit_contacted": False})

    assert response.json()["contradicted"] is True


async def test_a_result_before_the_survey_is_due_is_refused(callback: Callback) -> None:
    ticket_no = await callback.closed_ticket()
    async with callback.engine.begin() as connection:
        await connection.execute(
            update(Survey)
            .where(Survey.ticket_no == ticket_no)
            .values(due_at=NOW + timedelta(days=1))
        )

    response = await callback.post_result(ticket_no, SATISFIED)

    assert response.status_code == 409
    assert response.json()["type"].endswith("/survey-not-due")


async def test_a_result_naming_another_survey_is_refused(callback: Callback) -> None:
    ticket_no = await callback.closed_ticket()

    response = await callback.post_result(ticket_no, SATISFIED | {"survey_id": "CB-elsewhere-1"})

    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "survey_id"


async def test_the_same_unanswered_call_reported_twice_counts_as_one_attempt(
    callback: Callback,
) -> None:
    ticket_no = await callback.closed_ticket()
    call = UNREACHABLE | {"outbound_call_id": "out-1"}

    first = await callback.post_result(ticket_no, call)
    again = await callback.post_result(ticket_no, call)

    assert first.json()["attempts"] == again.json()["attempts"] == 1


async def test_a_request_taken_at_closing_time_is_still_live_the_next_morning(
    callback: Callback,
) -> None:
    ticket_no = await callback.closed_ticket()
    survey_id = (await callback.survey(ticket_no)).survey_id
    taken = datetime(2022, 3, 10, 19, 55, tzinfo=LOCAL_TIME)
    async with callback.engine.begin() as connection:
        await connection.execute(
            update(Survey)
            .where(Survey.survey_id == survey_id)
            .values(state="requested", state_changed_at=taken)
        )
    office_hours = service.build_context(
        CallbackOptions(
            survey_webhook_url="http://callcentre/surveys",
            calling_hours_start=clock(8),
            calling_hours_end=clock(20),
        )
    )
    sessions = create_session_factory(callback.engine)

    states = []
    for moment in (datetime(2022, 3, 11, 8, 10), datetime(2022, 3, 11, 11, 0)):
        async with unit_of_work(sessions) as session:
            claimed = await service.claim_due_surveys(
                session, office_hours, moment.replace(tzinfo=LOCAL_TIME)
            )
        states.append(((await callback.survey(ticket_no)).state, len(claimed) > 0))

    # 15 calling minutes: still live, not asked again; after 180: back in the queue.
    assert states[0] == ("requested", False)
    assert states[1][0] == "scheduled"


async def test_survey_requests_go_out_concurrently(callback: Callback) -> None:
    tickets = [await callback.closed_ticket() for _ in range(8)]
    centre = FakeCallCentre(delay=1.0)  # long beside the database's part of each request
    sessions = create_session_factory(callback.engine)

    started = time.monotonic()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=centre.app()), base_url="http://callcentre"
    ) as client:
        await run_surveys_once(sessions, client, callback.app.state.context.context)
    elapsed = time.monotonic() - started

    asked = {r["ticket_no"] for r in centre.requests}
    assert asked >= set(tickets)
    assert elapsed < centre.delay * len(centre.requests) / 2  # one at a time would take them all


async def test_a_survey_pass_stopping_sends_no_more_and_queues_the_rest_again(
    callback: Callback,
) -> None:
    ctx = callback.app.state.context.context
    concurrency = ctx.options.survey_request_concurrency
    tickets = [await callback.closed_ticket() for _ in range(concurrency * 3)]
    centre = FakeCallCentre(delay=1.0)  # a slow call centre: shutdown must not wait for them all
    sessions = create_session_factory(callback.engine)
    stop = asyncio.Event()

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=centre.app()), base_url="http://callcentre"
    ) as client:
        surveys = asyncio.create_task(run_surveys_once(sessions, client, ctx, stop))
        await asyncio.wait_for(centre.arrived.wait(), timeout=30)  # requests are in flight
        stop.set()
        started = time.monotonic()
        await surveys
        elapsed = time.monotonic() - started

    states = Counter([(await callback.survey(no)).state for no in tickets])
    asked = {r["ticket_no"] for r in centre.requests} & set(tickets)
    assert elapsed < 2.5  # the requests in flight, not the whole batch (3 s and more)
    assert centre.requests  # some were in flight when it stopped
    assert len(asked) <= concurrency
    assert states["requested"] == len(asked)  # what was sent is recorded
    assert states["scheduled"] == len(tickets) - len(asked)  # and the rest is queued again
