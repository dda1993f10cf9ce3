"""Intake's webhooks through HTTP on the real PostgreSQL and broker."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import func, select, update

from hotline.intake.lifecycle import note_version, on_ticket_closed, on_ticket_reopened
from hotline.intake.main import app
from hotline.intake.models import BurstAlert, CallRecord, Ticket, webhook_deliveries
from hotline.shared.db import create_session_factory
from hotline.shared.domain.text import decode_terms
from hotline.shared.messaging.events import (
    TicketClosed,
    TicketClosedData,
    TicketReopened,
    TicketReopenedData,
    TicketSigned,
    UnitActionData,
)
from hotline.shared.migrations import upgrade
from hotline.shared.web.webhooks import signature_headers
from tests.intake.conftest import (
    GAS_SECRET,
    OLD_SECRET,
    SUPERVISOR,
    IntakeClient,
    call_body,
    citizen_number,
    place,
    ticket_body,
)


async def ticket_count(intake: IntakeClient, source_ticket_id: str) -> int:
    return int(
        await intake.scalar(select(func.count()).where(Ticket.source_ticket_id == source_ticket_id))
    )


async def test_a_forwarded_ticket_is_held_by_dispatch_and_one_answered_here_is_not(
    intake: IntakeClient,
) -> None:
    forwarded, answered = (
        ticket_body(),
        ticket_body(
            handling_mode="answered", resolution="已向市民解释燃气表的报修流程，市民表示理解。"
        ),
    )
    for body in (forwarded, answered):
        response = await intake.post("/v1/tickets", body)
        assert response.status_code == 201, response.text

    held = {
        body["source_ticket_id"]: await intake.scalar(
            select(Ticket.held_by_dispatch).where(
                Ticket.source_ticket_id == body["source_ticket_id"]
            )
        )
        for body in (forwarded, answered)
    }

    assert held == {forwarded["source_ticket_id"]: True, answered["source_ticket_id"]: False}


# --- signatures -------------------------------------------------------------------------------


async def test_a_signed_ticket_is_numbered_stored_and_announced(intake: IntakeClient) -> None:
    body = ticket_body()

    response = await intake.post("/v1/tickets", body)

    assert response.status_code == 201, response.text
    accepted = response.json()
    local_day = datetime.fromisoformat(body["accepted_at"]).astimezone().strftime("%Y%m")
    assert accepted["ticket_no"].startswith("SY" + local_day[:4])
    assert (accepted["handling_mode"], accepted["status"]) == ("forward", "open")
    assert await intake.announced(accepted["ticket_no"]) == ["ticket.created"]
    shown = (await intake.read(accepted["ticket_no"])).json()
    number = body["caller"]["number"]
    assert shown["caller_number"] == f"{number[:3]}****{number[-4:]}"


async def test_reading_a_ticket_back_needs_a_reader_token(intake: IntakeClient) -> None:
    ticket_no = (await intake.post("/v1/tickets", ticket_body())).json()["ticket_no"]

    anonymous = await intake.read(ticket_no, token=None)
    wrong = await intake.read(ticket_no, token="guessed")

    assert anonymous.status_code == wrong.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"


async def test_the_previous_secret_still_signs_during_a_rotation(intake: IntakeClient) -> None:
    response = await intake.post("/v1/tickets", ticket_body(), secret=OLD_SECRET)

    assert response.status_code == 201


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        (
            {"secret": "whsec_" + "cmV0aXJlZC1zZWNyZXQtbm8tbG9uZ2VyLWhlbGQ="},
            "bad-signature",
            "webhook-signature",
        ),
        (
            {"sent_at": datetime.now(UTC) - timedelta(minutes=6)},
            "stale-webhook",
            "webhook-timestamp",
        ),
        (
            {"sent_at": datetime.now(UTC) + timedelta(minutes=6)},
            "stale-webhook",
            "webhook-timestamp",
        ),
        ({"headers": {"webhook-signature": ""}}, "missing-signature", "webhook-signature"),
    ],
    ids=["unknown-secret", "stale", "from-the-future", "unsigned"],
)
async def test_a_webhook_that_fails_authentication_is_refused_and_stores_nothing(
    intake: IntakeClient, change: dict[str, Any], code: str, field: str
) -> None:
    body = ticket_body()

    response = await intake.post("/v1/tickets", body, **change)

    assert response.status_code == 401
    assert response.json()["type"].endswith(f"/{code}")
    assert response.json()["errors"][0]["field"] == field
    assert await ticket_count(intake, body["source_ticket_id"]) == 0


@pytest.mark.parametrize(
    ("headers", "code", "field"),
    [
        ({"webhook-signature": "garbage"}, "bad-signature", "webhook-signature"),
        ({"webhook-signature": "v1,not*base64"}, "bad-signature", "webhook-signature"),
        ({"webhook-timestamp": "yesterday"}, "malformed-timestamp", "webhook-timestamp"),
    ],
)
async def test_malformed_signature_headers_are_refused_not_crashed_on(
    intake: IntakeClient, headers: dict[str, str], code: str, field: str
) -> None:
    response = await intake.post("/v1/tickets", ticket_body(), headers=headers)

    assert response.status_code == 401
    assert response.json()["type"].endswith(f"/{code}")
    assert response.json()["errors"][0]["field"] == field


async def test_a_sender_may_post_only_what_its_scopes_allow(intake: IntakeClient) -> None:
    response = await intake.post("/v1/tickets", ticket_body(), secret=GAS_SECRET)

    assert response.status_code == 403


async def test_a_redelivered_webhook_gets_the_first_answer_and_changes_nothing(
    intake: IntakeClient,
) -> None:
    body = ticket_body()
    first = await intake.post("/v1/tickets", body, webhook_id="msg_redelivered_once")
    outbox_before = await intake.outbox_count()

    again = await intake.post("/v1/tickets", body, webhook_id="msg_redelivered_once")

    assert again.status_code == first.status_code == 201
    assert again.json() == first.json()
    assert again.headers["webhook-replayed"] == "true"
    assert await ticket_count(intake, body["source_ticket_id"]) == 1
    assert await intake.outbox_count() == outbox_before


async def test_two_deliveries_of_one_webhook_racing_each_other_get_one_answer(
    intake: IntakeClient,
) -> None:
    body = ticket_body()

    first, second = await asyncio.gather(
        intake.post("/v1/tickets", body, webhook_id="msg_racing_twins"),
        intake.post("/v1/tickets", body, webhook_id="msg_racing_twins"),
    )

    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert await ticket_count(intake, body["source_ticket_id"]) == 1


async def test_the_same_desk_ticket_under_a_new_webhook_id_is_a_conflict(
    intake: IntakeClient,
) -> None:
    body = ticket_body()
    first = (await intake.post("/v1/tickets", body)).json()

    response = await intake.post("/v1/tickets", body)

    assert response.status_code == 409
    assert response.json()["ticket_no"] == first["ticket_no"]
    assert response.json()["errors"][0]["field"] == "source_ticket_id"


# --- validation -------------------------------------------------------------------------------

FUTURE = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
INVALID_TICKETS = {
    "missing-content": ({"content": None}, "content"),
    "unknown-channel": ({"channel": "fax"}, "channel"),
    "malformed-location": ({"location_code": "43050"}, "location_code"),
    "time-without-offset": ({"accepted_at": "2022-01-31T09:30:00"}, "accepted_at"),
    "T07-salutation-digits": (
        {"caller": {"salutation": "123", "number": "13812345678"}},
        "caller.salutation",
    ),
    "T06-service-number": ({"caller": {"salutation": "*女士", "number": "12345"}}, "caller.number"),
    "T01-phone-without-call": ({"call_id": None}, "call_id"),
    "unknown-category": ({"category": "星际事务类"}, "category"),
    "T05-outside-city": ({"location_code": "430102"}, "location_code"),
    "T05-forward-without-place": ({"location_code": None}, "location_code"),
    "answered-without-resolution": ({"handling_mode": "answered"}, "resolution"),
    "T10-stock-phrase": ({"handling_mode": "answered", "resolution": "已告知"}, "resolution"),
    "T09-garbled-content": ({"content": "燃气锟斤拷锟斤拷停了好几天"}, "content"),
    "T14-not-accepted-without-reason": ({"handling_mode": "not_accepted"}, "resolution"),
    "accepted-in-the-future": ({"accepted_at": FUTURE}, "accepted_at"),
}


@pytest.mark.parametrize(("change", "field"), INVALID_TICKETS.values(), ids=INVALID_TICKETS.keys())
async def test_an_invalid_ticket_is_refused_naming_the_field_and_leaves_nothing(
    intake: IntakeClient, change: dict[str, Any], field: str
) -> None:
    body = {k: v for k, v in (ticket_body() | change).items() if v is not None}
    outbox_before = await intake.outbox_count()

    response = await intake.post("/v1/tickets", body)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [error["field"] for error in response.json()["errors"]]
    assert await ticket_count(intake, body["source_ticket_id"]) == 0
    assert await intake.outbox_count() == outbox_before


async def test_an_answer_that_repeats_the_request_is_refused_as_t08(intake: IntakeClient) -> None:
    body = ticket_body(handling_mode="answered")
    body["resolution"] = body["content"]

    response = await intake.post("/v1/tickets", body)

    assert response.status_code == 422
    assert any(e["message"].startswith("T08") for e in response.json()["errors"])


# --- call records -----------------------------------------------------------------------------


async def test_a_call_record_is_stored_and_announced(intake: IntakeClient) -> None:
    body = call_body()

    response = await intake.post("/v1/calls", body)

    assert response.status_code == 201, response.text
    stored = await intake.scalar(
        select(CallRecord.caller_number).where(CallRecord.call_id == body["call_id"])
    )
    assert stored == body["caller_number"]
    assert await intake.announced(body["call_id"]) == ["call.recorded"]


INVALID_CALLS = {
    "hang-up-before-connect": (
        {"ended_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat()},
        "ended_at",
    ),
    "answered-without-agent": ({"agent_id": None}, "agent_id"),
    "abandoned-with-talk-time": ({"outcome": "abandoned", "connected_at": None}, "talk_seconds"),
    "talk-longer-than-call": ({"talk_seconds": 4000}, "talk_seconds"),
    "caller-is-a-service-number": ({"caller_number": "110"}, "caller_number"),
    "unknown-line": ({"line": "12306"}, "line"),
}


@pytest.mark.parametrize(("change", "field"), INVALID_CALLS.values(), ids=INVALID_CALLS.keys())
async def test_an_impossible_call_record_is_refused_naming_the_field(
    intake: IntakeClient, change: dict[str, Any], field: str
) -> None:
    body = {k: v for k, v in (call_body() | change).items() if v is not None}

    response = await intake.post("/v1/calls", body)

    assert response.status_code == 422, response.text
    assert field in [error["field"] for error in response.json()["errors"]]
    assert (
        await intake.scalar(select(CallRecord).where(CallRecord.call_id == body["call_id"])) is None
    )


async def test_a_call_recorded_twice_under_new_webhook_ids_is_a_conflict(
    intake: IntakeClient,
) -> None:
    body = call_body()
    await intake.post("/v1/calls", body)

    response = await intake.post("/v1/calls", body)

    assert response.status_code == 409


# --- repeat calls (Attachment 5) --------------------------------------------------------------


async def test_the_same_caller_again_while_in_progress_is_not_accepted(
    intake: IntakeClient,
) -> None:
    first = ticket_body()
    original = (await intake.post("/v1/tickets", first)).json()

    again = ticket_body(caller=first["caller"], location_code=first["location_code"])
    decision = (await intake.post("/v1/tickets", again)).json()

    assert decision["handling_mode"] == "not_accepted"
    assert decision["repeat_of"] == original["ticket_no"]
    assert decision["repeat_rule"] == "in_progress_same_caller"
    assert "正在办理" in decision["resolution"]
    assert await intake.announced(decision["ticket_no"]) == ["ticket.created", "ticket.closed"]


async def test_another_caller_while_in_progress_waits_and_closes_with_the_first(
    intake: IntakeClient,
) -> None:
    first = ticket_body()
    original = (await intake.post("/v1/tickets", first)).json()
    other = ticket_body(location_code=first["location_code"])
    follower = (await intake.post("/v1/tickets", other)).json()
    assert (follower["status"], follower["repeat_rule"]) == (
        "awaiting_closure",
        "in_progress_other_caller",
    )

    closed = TicketClosed(
        source="/hotline/dispatch",
        subject=original["ticket_no"],
        ticket_id=original["ticket_no"],
        version=5,
        data=TicketClosedData(
            ticket_no=original["ticket_no"],
            closed_at=datetime.now(UTC),
            handling_unit="市燃气总公司",
            resolution="经查，翠园小区停气系管道抢修所致，已于当日18时恢复供气。",
        ),
    )
    async with create_session_factory(intake.engine)() as session, session.begin():
        await on_ticket_closed(session, closed)

    shown = (await intake.read(follower["ticket_no"])).json()
    assert shown["status"] == "closed"
    assert shown["resolution"].startswith("经查，翠园小区停气")
    assert await intake.announced(follower["ticket_no"]) == ["ticket.created", "ticket.closed"]


async def test_another_caller_on_a_closed_issue_gets_its_resolution(intake: IntakeClient) -> None:
    resolution = "已联系市燃气总公司，翠园小区管道检修已完成，当日18时恢复供气。"
    first = ticket_body(handling_mode="answered", resolution=resolution)
    original = (await intake.post("/v1/tickets", first)).json()

    other = ticket_body(location_code=first["location_code"])
    decision = (await intake.post("/v1/tickets", other)).json()

    assert decision["repeat_of"] == original["ticket_no"]
    assert decision["handling_mode"] == "not_accepted"
    assert decision["resolution"].startswith(resolution)


async def test_the_same_caller_again_on_a_closed_issue_is_told_it_was_answered(
    intake: IntakeClient,
) -> None:
    resolution = "已联系市燃气总公司，翠园小区管道检修已完成，当日18时恢复供气。"
    first = ticket_body(handling_mode="answered", resolution=resolution)
    original = (await intake.post("/v1/tickets", first)).json()

    again = ticket_body(caller=first["caller"], location_code=first["location_code"])
    decision = (await intake.post("/v1/tickets", again)).json()

    assert (decision["repeat_rule"], decision["handling_mode"]) == (
        "closed_same_caller",
        "not_accepted",
    )
    assert decision["repeat_of"] == original["ticket_no"]
    assert "已办结并答复" in decision["resolution"]
    assert resolution in decision["tell_caller"]


async def test_a_different_issue_from_the_same_caller_is_not_a_repeat(intake: IntakeClient) -> None:
    first = ticket_body(content="宝庆路口的路灯坏了一个星期了，晚上很黑，行人容易摔倒")
    await intake.post("/v1/tickets", first)

    other = ticket_body(
        caller=first["caller"],
        location_code=first["location_code"],
        content="小区下水道堵塞，污水横流，臭味很大，请尽快疏通",
    )
    decision = (await intake.post("/v1/tickets", other)).json()

    assert decision["repeat_of"] is None


async def test_a_neighbour_in_the_same_district_is_not_a_repeat_without_the_same_place(
    intake: IntakeClient,
) -> None:
    district = "430503"
    first = ticket_body(location_code=district, address="翠园小区")
    await intake.post("/v1/tickets", first)

    other = ticket_body(location_code=district, address="城南公园东门")
    decision = (await intake.post("/v1/tickets", other)).json()

    assert decision["repeat_of"] is None


async def test_a_ticket_the_agent_refused_is_still_linked_to_the_original(
    intake: IntakeClient,
) -> None:
    first = ticket_body()
    original = (await intake.post("/v1/tickets", first)).json()

    refused = ticket_body(
        caller=first["caller"],
        location_code=first["location_code"],
        handling_mode="not_accepted",
        resolution="来电人反映的问题已在办理中，本次来电不予受理，已告知其办理进度。",
    )
    decision = (await intake.post("/v1/tickets", refused)).json()

    assert decision["handling_mode"] == "not_accepted"
    assert decision["repeat_of"] == original["ticket_no"]
    assert decision["resolution"].startswith("来电人反映的问题已在办理中")


async def test_a_caller_with_new_facts_gets_a_new_forwarded_ticket(intake: IntakeClient) -> None:
    first = ticket_body()
    original = (await intake.post("/v1/tickets", first)).json()

    other = ticket_body(location_code=first["location_code"], new_facts=True)
    decision = (await intake.post("/v1/tickets", other)).json()

    assert (decision["handling_mode"], decision["status"]) == ("forward", "open")
    assert decision["repeat_of"] == original["ticket_no"]


async def test_a_consultation_is_never_a_repeat(intake: IntakeClient) -> None:
    first = ticket_body(request_type="consultation")
    await intake.post("/v1/tickets", first)

    again = ticket_body(
        request_type="consultation", caller=first["caller"], location_code=first["location_code"]
    )
    decision = (await intake.post("/v1/tickets", again)).json()

    assert decision["repeat_of"] is None


# --- outage notices ---------------------------------------------------------------------------


def gas_notice(area: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "source_notice_id": f"gas-{area}",
        "issuer": "市燃气总公司",
        "category": "生活服务类",
        "area_codes": [area],
        "keywords": ["停气", "燃气"],
        "starts_at": (now - timedelta(hours=2)).isoformat(),
        "ends_at": (now + timedelta(days=2)).isoformat(),
        "text": "因主管道检修，2月1日8时至2月2日18时暂停供气，请提前做好准备。",
    }


async def test_a_call_about_an_announced_outage_is_answered_with_the_notice(
    intake: IntakeClient,
) -> None:
    area = place()[:9]
    notice = await intake.post("/v1/notices", gas_notice(area), secret=GAS_SECRET)
    assert notice.status_code == 201, notice.text
    assert notice.json()["status"] == "active"

    gas = (await intake.post("/v1/tickets", ticket_body(location_code=area + "001"))).json()
    water = ticket_body(
        location_code=area + "002", content="小区从早上开始停水，没有任何通知，请尽快处理"
    )
    unrelated = (await intake.post("/v1/tickets", water)).json()

    assert (gas["handling_mode"], gas["notice_id"]) == ("answered", notice.json()["notice_id"])
    assert gas["resolution"].startswith("因主管道检修")
    assert unrelated["notice_id"] is None


async def test_a_notice_that_ends_before_it_starts_is_refused(intake: IntakeClient) -> None:
    notice = gas_notice(place()[:9]) | {"ends_at": "2022-01-01T00:00:00+08:00"}

    response = await intake.post("/v1/notices", notice, secret=GAS_SECRET)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "ends_at"


async def test_a_burst_of_similar_tickets_with_no_notice_raises_one_alert(
    intake: IntakeClient,
) -> None:
    area = "430511"
    for n in range(4):
        body = ticket_body(
            category="交通运输类",
            location_code=f"{area}{n:06d}",
            caller={"salutation": "*先生", "number": citizen_number()},
            content=f"北塔区资江大桥路口红绿灯全部熄灭，车辆拥堵严重，第{n}位来电",
            new_facts=True,
        )
        assert (await intake.post("/v1/tickets", body)).status_code == 201

    for _ in range(200):
        alerted = await intake.scalar(
            select(BurstAlert.ticket_count).where(
                BurstAlert.area_code == area, BurstAlert.category == "交通运输类"
            )
        )
        if alerted is not None:
            break
        await asyncio.sleep(0.1)

    assert alerted is not None
    assert alerted >= 4
    assert "alert.burst_detected" in await intake.announced(f"{area}/交通运输类")


# --- repeat calls: only strong evidence decides; the rest is shown to the agent -------------


STOCK = "市民反映双清区东风路128号宏达小区{}，请相关部门尽快处理。"


async def test_two_problems_told_in_the_same_phrasing_are_two_tickets(
    intake: IntakeClient,
) -> None:
    estate = {"location_code": "430502" + place()[6:], "address": "东风路128号宏达小区"}
    sewer = ticket_body(**estate, content=STOCK.format("下水道堵塞，污水外溢"))
    await intake.post("/v1/tickets", sewer)

    light = ticket_body(
        **estate, caller=sewer["caller"], content=STOCK.format("路灯不亮，夜里出行不便")
    )
    decision = (await intake.post("/v1/tickets", light)).json()

    assert (decision["handling_mode"], decision["status"]) == ("forward", "open")
    assert (decision["repeat_of"], decision["repeat_rule"]) == (None, None)


async def retold_by_the_same_caller(intake: IntakeClient) -> tuple[dict[str, Any], dict[str, Any]]:
    """An outage ticket, then the same caller telling the same problem in other words: the
    answers to both."""
    first = ticket_body(content="翠园小区从昨天起停气，燃气公司没有提前通知，家里老人没法做饭")
    original = (await intake.post("/v1/tickets", first)).json()
    retold = ticket_body(
        caller=first["caller"],
        location_code=first["location_code"],
        content="翠园小区停气两天了还没恢复，燃气公司电话打不通，老人孩子都吃不上热饭",
    )
    return original, (await intake.post("/v1/tickets", retold)).json()


async def test_the_same_problem_retold_is_shown_to_the_agent_not_decided(
    intake: IntakeClient,
) -> None:
    original, decision = await retold_by_the_same_caller(intake)

    assert (decision["handling_mode"], decision["repeat_of"]) == ("forward", None)
    shown = decision["repeat_candidates"]
    assert [c["ticket_no"] for c in shown] == [original["ticket_no"]]
    assert shown[0]["same_caller"] is True
    assert "停气" in shown[0]["why"]
    read_back = (await intake.read(decision["ticket_no"])).json()
    assert read_back["repeat_candidates"] == shown


async def test_an_earlier_ticket_the_agent_names_is_decided_by_the_table(
    intake: IntakeClient,
) -> None:
    first = ticket_body()
    original = (await intake.post("/v1/tickets", first)).json()

    neighbour = ticket_body(content="楼下邻居家也没有气了，问什么时候能恢复", location_code=place())
    decision = (
        await intake.post("/v1/tickets", neighbour | {"repeat_of": original["ticket_no"]})
    ).json()

    assert (decision["repeat_of"], decision["repeat_rule"]) == (
        original["ticket_no"],
        "in_progress_other_caller",
    )
    assert decision["status"] == "awaiting_closure"


async def test_naming_an_earlier_ticket_that_does_not_exist_is_refused_naming_the_field(
    intake: IntakeClient,
) -> None:
    response = await intake.post("/v1/tickets", ticket_body(repeat_of="SY202201019999999"))

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "repeat_of"


async def test_a_supervisor_merges_a_repeat_the_matcher_only_suggested(
    intake: IntakeClient,
) -> None:
    original, later = await retold_by_the_same_caller(intake)
    body = {"repeat_of": original["ticket_no"], "note": "同一诉求人同一事项"}

    unauthenticated = await intake.http.post(f"/v1/tickets/{later['ticket_no']}/merge", json=body)
    merged = await intake.http.post(
        f"/v1/tickets/{later['ticket_no']}/merge", json=body, headers=SUPERVISOR
    )
    again = await intake.http.post(
        f"/v1/tickets/{later['ticket_no']}/merge", json=body, headers=SUPERVISOR
    )

    assert unauthenticated.status_code == 401
    assert merged.status_code == 200, merged.text
    assert (merged.json()["handling_mode"], merged.json()["status"]) == ("not_accepted", "closed")
    assert merged.json()["repeat_rule"] == "in_progress_same_caller"
    assert again.status_code == 409
    # The ticket's state beside the problem's own status, never in its place (RFC 9457).
    assert (again.json()["status"], again.json()["ticket_status"]) == (409, "closed")
    assert await intake.announced(later["ticket_no"]) == [
        "ticket.created",
        "ticket.merged",
        "ticket.closed",
    ]


async def test_intake_numbers_a_merge_above_what_dispatch_announced(
    intake: IntakeClient,
) -> None:
    first = ticket_body()
    original = (await intake.post("/v1/tickets", first)).json()
    later = (
        await intake.post("/v1/tickets", ticket_body(content="另一件事：小区门口积水很深"))
    ).json()
    signed = TicketSigned(
        source="/hotline/dispatch",
        subject=later["ticket_no"],
        ticket_id=later["ticket_no"],
        version=3,
        data=UnitActionData(ticket_no=later["ticket_no"], unit_id="U011", at=datetime.now(UTC)),
    )
    async with create_session_factory(intake.engine)() as session, session.begin():
        await note_version(session, signed)

    merged = await intake.http.post(
        f"/v1/tickets/{later['ticket_no']}/merge",
        json={"repeat_of": original["ticket_no"], "new_facts": True},
        headers=SUPERVISOR,
    )

    assert merged.json()["version"] == 4
    assert merged.json()["status"] == "open"  # new facts: linked, still worked


async def test_a_reopened_ticket_the_hotline_answered_is_handed_to_dispatch(
    intake: IntakeClient,
) -> None:
    answered = ticket_body(
        handling_mode="answered",
        resolution="已告知来电人社保卡补办需携带身份证到社保大厅办理，当场可取。",
    )
    ticket_no = (await intake.post("/v1/tickets", answered)).json()["ticket_no"]
    reopened = TicketReopened(
        source="/hotline/callback",
        subject=ticket_no,
        ticket_id=ticket_no,
        version=3,
        data=TicketReopenedData(
            ticket_no=ticket_no,
            reason="回访不满意：窗口说还要户口本",
            reopened_at=datetime.now(UTC),
        ),
    )

    for _ in range(2):  # delivered twice: handed over once
        async with create_session_factory(intake.engine)() as session, session.begin():
            await on_ticket_reopened(session, reopened)

    assert await intake.announced(ticket_no) == [
        "ticket.created",
        "ticket.closed",
        "ticket.handed_over",
    ]
    shown = (await intake.read(ticket_no)).json()
    assert (shown["status"], shown["version"]) == ("open", 4)


# --- input that breaks or bloats, and webhook bookkeeping -----------------------------------


async def test_an_unsigned_body_is_refused_before_it_is_read(intake: IntakeClient) -> None:
    response = await intake.http.post(
        "/v1/tickets", content=b"{not json", headers={"content-type": "application/json"}
    )

    assert response.status_code == 401
    assert response.json()["errors"][0]["field"] == "webhook-id"


async def test_malformed_json_is_one_problem_of_the_body(intake: IntakeClient) -> None:
    raw = b'{"source_ticket_id": "x", "call_id": '
    headers = signature_headers(intake.secret, raw.decode())

    response = await intake.http.post("/v1/tickets", content=raw, headers=headers)

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["body"]
    metrics = (await intake.http.get("/metrics")).text
    assert 'code="validation-error",field="body"' in metrics


async def test_a_webhook_id_reused_for_another_body_is_a_conflict_and_writes_nothing(
    intake: IntakeClient,
) -> None:
    webhook_id = f"msg_{uuid4().hex}"
    first = await intake.post("/v1/tickets", ticket_body(), webhook_id=webhook_id)
    outbox_before = await intake.outbox_count()
    other_body = ticket_body()
    # Naming an original takes the path that locks it, inside a transaction.
    naming = ticket_body(repeat_of=first.json()["ticket_no"])

    other = await intake.post("/v1/tickets", other_body, webhook_id=webhook_id)
    named = await intake.post("/v1/tickets", naming, webhook_id=webhook_id)

    assert first.status_code == 201
    assert other.status_code == named.status_code == 409
    assert other.json()["errors"][0]["field"] == named.json()["errors"][0]["field"] == "webhook-id"
    assert await ticket_count(intake, other_body["source_ticket_id"]) == 0
    assert await ticket_count(intake, naming["source_ticket_id"]) == 0
    assert await intake.outbox_count() == outbox_before


async def test_a_webhook_id_of_a_call_record_reused_for_a_ticket_is_a_conflict(
    intake: IntakeClient,
) -> None:
    webhook_id = f"msg_{uuid4().hex}"
    call = await intake.post("/v1/calls", call_body(), webhook_id=webhook_id)
    body = ticket_body()

    ticket = await intake.post("/v1/tickets", body, webhook_id=webhook_id)

    assert call.status_code == 201, call.text
    assert ticket.status_code == 409
    assert ticket.json()["errors"][0]["field"] == "webhook-id"
    assert await ticket_count(intake, body["source_ticket_id"]) == 0


async def test_webhook_ids_are_forgotten_after_the_retention_window(intake: IntakeClient) -> None:
    old_id, recent_id = f"msg_{uuid4().hex}", f"msg_{uuid4().hex}"
    await intake.post("/v1/tickets", ticket_body(), webhook_id=old_id)
    await intake.post("/v1/tickets", ticket_body(), webhook_id=recent_id)
    async with intake.engine.begin() as connection:
        await connection.execute(
            update(webhook_deliveries)
            .where(webhook_deliveries.c.webhook_id == old_id)
            .values(received_at=datetime.now(UTC) - timedelta(days=2))
        )
    settings = app.state.runtime.settings
    statements = app.state.definition.housekeeping(settings)

    async with intake.engine.begin() as connection:
        for statement in statements:
            await connection.execute(statement)

    kept = await intake.scalar(
        select(func.count()).where(webhook_deliveries.c.webhook_id.in_([old_id, recent_id]))
    )
    assert kept == 1


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/tickets", {"address": "翠园小区\x00"}),
        ("/v1/tickets", {"agent_id": "A\x00017"}),
        ("/v1/tickets", {"source_ticket_id": "desk\x00"}),
        ("/v1/tickets", {"caller": {"salutation": "张\x00先生", "number": "13907391234"}}),
    ],
)
async def test_a_nul_character_anywhere_is_refused_naming_the_field(
    intake: IntakeClient, path: str, body: dict[str, Any]
) -> None:
    response = await intake.post(path, ticket_body(**body))

    assert response.status_code == 422
    field = next(iter(body))
    assert response.json()["errors"][0]["field"].split(".")[0] == field


async def test_a_nul_in_a_path_is_refused_naming_it(intake: IntakeClient) -> None:
    response = await intake.read("SY%00")

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "path.ticket_no"


async def test_an_oversized_notice_is_refused_before_it_is_stored(intake: IntakeClient) -> None:
    notice = gas_notice(place()[:9]) | {"issuer": "燃" * 1_000_000}

    response = await intake.post("/v1/notices", notice, secret=GAS_SECRET)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "issuer"


async def test_bursts_are_counted_in_the_tickets_own_time(intake: IntakeClient) -> None:
    """Two bursts a day apart, arriving late (a replay, a backlog): two alerts, not one."""
    area = "430524"
    for days_ago in (2, 1):
        for n in range(4):
            accepted = datetime.now(UTC) - timedelta(days=days_ago, minutes=10 - n)
            body = ticket_body(
                category="生态环境类",
                location_code=f"{area}{days_ago}{n:05d}",
                caller={"salutation": "*女士", "number": citizen_number()},
                content=f"隆回县城河边化工厂排放刺鼻黑烟，气味很重（第{n}位来电）",
                accepted_at=accepted.isoformat(),
                new_facts=True,
            )
            assert (await intake.post("/v1/tickets", body)).status_code == 201
        for _ in range(200):
            raised = await intake.scalar(
                select(BurstAlert.raised_at).where(
                    BurstAlert.area_code == area, BurstAlert.category == "生态环境类"
                )
            )
            if raised is not None and raised > datetime.now(UTC) - timedelta(
                days=days_ago, hours=1
            ):
                break
            await asyncio.sleep(0.1)

    alerts = await intake.announced(f"{area}/生态环境类")
    assert alerts.count("alert.burst_detected") == 2


async def test_the_data_step_gives_older_tickets_the_substance_intake_keeps_now(
    intake: IntakeClient,
) -> None:
    """Tickets stored before intake kept their substance get it after migrating: the same
    terms the live path keeps, so repeat calls match them."""
    numbers = [
        (await intake.post("/v1/tickets", ticket_body())).json()["ticket_no"] for _ in range(3)
    ]
    kept = {
        no: await intake.scalar(select(Ticket.substance).where(Ticket.ticket_no == no))
        for no in numbers
    }
    async with intake.engine.begin() as connection:
        await connection.execute(
            update(Ticket).where(Ticket.ticket_no.in_(numbers)).values(substance=None)
        )

    await upgrade(intake.engine, "hotline.intake")

    for no in numbers:
        backfilled = await intake.scalar(select(Ticket.substance).where(Ticket.ticket_no == no))
        assert backfilled is not None
        assert decode_terms(backfilled) == decode_terms(kept[no])


# --- the business clock ---------------------------------------------------------------------


async def test_on_the_real_clock_moves_are_refused_as_a_conflict(intake: IntakeClient) -> None:
    operator = {"Authorization": "Bearer development-only-operator-token"}

    read = await intake.http.get("/v1/clock")
    moved = await intake.http.post("/v1/clock/advance", json={"seconds": 60}, headers=operator)
    put = await intake.http.put(
        "/v1/clock", json={"now": "2022-01-05T09:00:00+08:00"}, headers=operator
    )

    assert read.json()["mode"] == "real"
    assert abs(datetime.fromisoformat(read.json()["now"]) - datetime.now(UTC)) < timedelta(
        seconds=5
    )
    assert (moved.status_code, put.status_code) == (409, 409)
    assert moved.headers["content-type"] == "application/problem+json"
    assert "HOTLINE_CLOCK" in moved.json()["detail"]
