"""The whole lifecycle of a forwarded ticket through dispatch's HTTP API on the real servers."""

import dataclasses
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import update

from hotline.dispatch import service
from hotline.dispatch.models import DispatchTicket
from hotline.dispatch.scheduled import run_deadlines_once
from hotline.shared.db import create_session_factory, unit_of_work
from hotline.shared.messaging.events import (
    TicketHandedOver,
    TicketHandedOverData,
    TicketMerged,
    TicketMergedData,
    TicketReopened,
    TicketReopenedData,
)
from tests.dispatch.conftest import Dispatch
from tests.factories import ticket_created_data

GAS, WATER, MARKET, DAXIANG = "U011", "U019", "U006", "U001"
GOOD_REPLY = {
    "actions": "1月31日派抢修班组到翠园小区检查中压管道，发现阀门故障并更换",
    "result": "当日18时恢复供气，已电话回复李女士并致歉，今后停气将提前张贴通知。",
    "citizen_contacted": True,
}


async def test_the_seeded_registry_holds_the_bulletins_56_units(dispatch: Dispatch) -> None:
    units = (await dispatch.http.get("/v1/units", headers=dispatch.as_supervisor())).json()

    assert len([u for u in units if u["unit_id"].startswith("U0")]) == 56
    assert {u["name"] for u in units} >= {"大祥区政府", "市燃气总公司", "机关事务局"}


async def test_a_ticket_goes_to_the_suggested_unit_and_closes_on_a_good_reply(
    dispatch: Dispatch,
) -> None:
    gas = await dispatch.key_for(GAS)
    ticket_no = await dispatch.forwarded()

    listed = (
        await dispatch.http.get("/v1/unit/tickets", headers=gas, params={"state": "dispatched"})
    ).json()
    signed = await dispatch.http.post(f"/v1/unit/tickets/{ticket_no}/sign", headers=gas)
    closed = await dispatch.http.post(
        f"/v1/unit/tickets/{ticket_no}/reply", headers=gas, json=GOOD_REPLY
    )

    assert ticket_no in [t["ticket_no"] for t in listed["items"]]
    assert signed.json()["state"] == "signed"
    assert closed.status_code == 200, closed.text
    assert closed.json()["state"] == "closed"
    assert await dispatch.events(ticket_no) == [
        "ticket.dispatched",
        "ticket.signed",
        "ticket.replied",
        "ticket.closed",
    ]
    assert await dispatch.versions(ticket_no) == [2, 3, 4, 5]
    assert (await dispatch.ticket(ticket_no)).version == 5


async def test_a_unit_sees_and_touches_only_its_own_tickets(dispatch: Dispatch) -> None:
    gas, water = await dispatch.key_for(GAS), await dispatch.key_for(WATER)
    ticket_no = await dispatch.forwarded()

    seen = await dispatch.http.get(f"/v1/unit/tickets/{ticket_no}", headers=water)
    signed = await dispatch.http.post(f"/v1/unit/tickets/{ticket_no}/sign", headers=water)
    listed = (
        await dispatch.http.get("/v1/unit/tickets", headers=water, params={"page_size": 200})
    ).json()
    reviewed = await dispatch.http.post(
        f"/v1/tickets/{ticket_no}/reply-review", headers=water, json={"accept": True}
    )
    nobody = await dispatch.http.get("/v1/unit/tickets")

    assert seen.status_code == signed.status_code == 404
    assert ticket_no not in [t["ticket_no"] for t in listed["items"]]
    assert reviewed.status_code == 403
    assert nobody.status_code == 401
    assert nobody.headers["www-authenticate"] == "Bearer"
    assert (
        await dispatch.http.get(f"/v1/unit/tickets/{ticket_no}", headers=gas)
    ).status_code == 200


async def test_a_rotated_key_works_until_revoked(dispatch: Dispatch) -> None:
    first = await dispatch.http.post(
        f"/v1/units/{GAS}/credentials", headers=dispatch.as_supervisor()
    )
    second = await dispatch.key_for(GAS)
    old = {"Authorization": f"Bearer {first.json()['api_key']}"}

    before = await dispatch.http.get("/v1/unit/tickets", headers=old)
    revoked = await dispatch.http.delete(
        f"/v1/units/{GAS}/credentials/{first.json()['key_id']}", headers=dispatch.as_supervisor()
    )
    after = await dispatch.http.get("/v1/unit/tickets", headers=old)

    assert before.status_code == 200
    assert revoked.status_code == 204
    assert after.status_code == 401
    assert (await dispatch.http.get("/v1/unit/tickets", headers=second)).status_code == 200


async def test_a_perfunctory_reply_is_refused_with_its_rule_code_and_changes_nothing(
    dispatch: Dispatch,
) -> None:
    gas = await dispatch.key_for(GAS)
    ticket_no = await dispatch.forwarded()
    await dispatch.http.post(f"/v1/unit/tickets/{ticket_no}/sign", headers=gas)

    refused = await dispatch.http.post(
        f"/v1/unit/tickets/{ticket_no}/reply",
        headers=gas,
        json={"actions": "已和社区联系并处理", "result": "已告知", "citizen_contacted": False},
    )

    assert refused.status_code == 422
    assert refused.json()["rule_codes"] == ["T10"]
    assert (await dispatch.ticket(ticket_no)).state == "signed"
    assert await dispatch.events(ticket_no) == ["ticket.dispatched", "ticket.signed"]


async def test_an_accepted_return_is_routed_anew_and_never_to_the_same_unit(
    dispatch: Dispatch,
) -> None:
    market = await dispatch.key_for(MARKET)
    ticket_no = await dispatch.forwarded(suggested_unit="市市场监督管理局")

    asked = await dispatch.http.post(
        f"/v1/unit/tickets/{ticket_no}/return",
        headers=market,
        json={"reason": "停气属燃气公司职责，非本局职能"},
    )
    queue = (await dispatch.http.get("/v1/queue", headers=dispatch.as_supervisor())).json()
    accepted = await dispatch.http.post(
        f"/v1/tickets/{ticket_no}/return-review",
        headers=dispatch.as_supervisor(),
        json={"accept": True},
    )
    manual = await dispatch.http.post(
        f"/v1/tickets/{ticket_no}/dispatch", headers=dispatch.as_supervisor(), json={"unit_id": GAS}
    )

    assert asked.json()["state"] == "return_requested"
    assert ticket_no in [r["ticket_no"] for r in queue["requests"]]
    # Three utilities fit a 生活服务类 ticket equally: a supervisor chooses.
    assert (accepted.json()["state"], accepted.json()["unit_id"]) == ("manual", None)
    assert (manual.json()["state"], manual.json()["unit_id"]) == ("dispatched", GAS)


async def test_a_rejected_return_goes_back_to_the_same_unit_with_the_note(
    dispatch: Dispatch,
) -> None:
    market = await dispatch.key_for(MARKET)
    ticket_no = await dispatch.forwarded(
        suggested_unit="市市场监督管理局", category="金融商贸财经类"
    )
    await dispatch.http.post(f"/v1/unit/tickets/{ticket_no}/sign", headers=market)
    await dispatch.http.post(
        f"/v1/unit/tickets/{ticket_no}/return",
        headers=market,
        json={"reason": "建议转区规划部门办理"},
    )

    rejected = await dispatch.http.post(
        f"/v1/tickets/{ticket_no}/return-review",
        headers=dispatch.as_supervisor(),
        json={"accept": False, "note": "贵局2021年已就此事答复人大建议，属本单位职责"},
    )

    assert (rejected.json()["state"], rejected.json()["unit_id"]) == ("signed", MARKET)
    assert "ticket.return_reviewed" in await dispatch.events(ticket_no)
    metrics = (await dispatch.http.get("/metrics")).text
    assert f'hotline_dispatch_returns_rejected_total{{unit_id="{MARKET}"}}' in metrics


async def test_an_extension_asked_in_time_can_be_approved(dispatch: Dispatch) -> None:
    gas = await dispatch.key_for(GAS)
    ticket_no = await dispatch.forwarded()
    deadline = (await dispatch.ticket(ticket_no)).deadline
    assert deadline is not None
    later = (deadline + timedelta(days=5)).isoformat()

    asked = await dispatch.http.post(
        f"/v1/unit/tickets/{ticket_no}/extension",
        headers=gas,
        json={"reason": "需协调管网改造施工，工期较长", "requested_deadline": later},
    )
    approved = await dispatch.http.post(
        f"/v1/tickets/{ticket_no}/extension-review",
        headers=dispatch.as_supervisor(),
        json={"accept": True},
    )

    assert asked.status_code == 200, asked.text
    assert datetime.fromisoformat(approved.json()["deadline"]) == datetime.fromisoformat(later)


async def test_an_extension_is_refused_after_the_deadline_or_if_not_later(
    dispatch: Dispatch,
) -> None:
    gas = await dispatch.key_for(GAS)
    ticket_no = await dispatch.forwarded()
    deadline = (await dispatch.ticket(ticket_no)).deadline
    assert deadline is not None

    earlier = await dispatch.http.post(
        f"/v1/unit/tickets/{ticket_no}/extension",
        headers=gas,
        json={
            "reason": "需协调管网改造施工",
            "requested_deadline": (deadline - timedelta(days=1)).isoformat(),
        },
    )
    await _set_deadline(dispatch, ticket_no, datetime.now(UTC) - timedelta(hours=1))
    too_late = await dispatch.http.post(
        f"/v1/unit/tickets/{ticket_no}/extension",
        headers=gas,
        json={
            "reason": "需协调管网改造施工",
            "requested_deadline": (deadline + timedelta(days=5)).isoformat(),
        },
    )

    assert earlier.status_code == too_late.status_code == 422
    assert earlier.json()["type"].endswith("/extension-not-later")
    assert too_late.json()["type"].endswith("/extension-too-late")
    assert too_late.json()["errors"][0]["field"] == "requested_deadline"


async def test_an_extension_can_be_rejected(dispatch: Dispatch) -> None:
    gas = await dispatch.key_for(GAS)
    ticket_no = await dispatch.forwarded()
    deadline = (await dispatch.ticket(ticket_no)).deadline
    assert deadline is not None
    await dispatch.http.post(
        f"/v1/unit/tickets/{ticket_no}/extension",
        headers=gas,
        json={
            "reason": "需协调管网改造施工",
            "requested_deadline": (deadline + timedelta(days=3)).isoformat(),
        },
    )

    rejected = await dispatch.http.post(
        f"/v1/tickets/{ticket_no}/extension-review",
        headers=dispatch.as_supervisor(),
        json={"accept": False, "note": "停气属紧急事项，不予延期"},
    )

    assert datetime.fromisoformat(rejected.json()["deadline"]) == deadline


async def test_a_reply_under_review_can_be_sent_back_or_accepted(dispatch: Dispatch) -> None:
    gas = await dispatch.key_for(GAS)
    ticket_no = await dispatch.forwarded()
    original = dispatch.app.state.context
    dispatch.app.state.context = dataclasses.replace(
        original, options=original.options.model_copy(update={"auto_accept_replies": False})
    )
    try:
        await dispatch.http.post(f"/v1/unit/tickets/{ticket_no}/sign", headers=gas)
        replied = await dispatch.http.post(
            f"/v1/unit/tickets/{ticket_no}/reply", headers=gas, json=GOOD_REPLY
        )
        sent_back = await dispatch.http.post(
            f"/v1/tickets/{ticket_no}/reply-review",
            headers=dispatch.as_supervisor(),
            json={"accept": False, "note": "请写明与诉求人沟通的时间"},
        )
        await dispatch.http.post(
            f"/v1/unit/tickets/{ticket_no}/reply", headers=gas, json=GOOD_REPLY
        )
        accepted = await dispatch.http.post(
            f"/v1/tickets/{ticket_no}/reply-review",
            headers=dispatch.as_supervisor(),
            json={"accept": True},
        )
    finally:
        dispatch.app.state.context = original

    assert replied.json()["state"] == "replied"
    assert sent_back.json()["state"] == "signed"
    assert accepted.json()["state"] == "closed"


async def test_a_reopened_ticket_goes_back_to_the_same_unit_flagged(dispatch: Dispatch) -> None:
    gas = await dispatch.key_for(GAS)
    ticket_no = await dispatch.forwarded()
    await dispatch.http.post(f"/v1/unit/tickets/{ticket_no}/sign", headers=gas)
    closed = (
        await dispatch.http.post(
            f"/v1/unit/tickets/{ticket_no}/reply", headers=gas, json=GOOD_REPLY
        )
    ).json()

    reopened = TicketReopened(
        source="/hotline/callback",
        subject=ticket_no,
        ticket_id=ticket_no,
        version=closed["version"] + 1,
        data=TicketReopenedData(
            ticket_no=ticket_no,
            reason="回访不满意：没人与我沟通联系",
            reopened_at=datetime.now(UTC),
        ),
    )
    async with unit_of_work(create_session_factory(dispatch.engine)) as session:
        await service.on_ticket_reopened(session, reopened, dispatch.app.state.context)
    async with unit_of_work(create_session_factory(dispatch.engine)) as session:
        await service.on_ticket_reopened(session, reopened, dispatch.app.state.context)  # again

    ticket = await dispatch.ticket(ticket_no)
    assert (ticket.state, ticket.unit_id, ticket.reopen_count) == ("dispatched", GAS, 1)
    assert ticket.version == closed["version"] + 2
    assert (await dispatch.events(ticket_no))[-1] == "ticket.dispatched"
    # The unit sees why the ticket came back: the survey's verdict and the citizen's comment.
    seen = (await dispatch.http.get(f"/v1/unit/tickets/{ticket_no}", headers=gas)).json()
    assert (seen["reopen_count"], seen["reopen_reason"]) == (1, "回访不满意：没人与我沟通联系")


async def test_an_unanswered_ticket_past_its_deadline_is_marked_overdue_once(
    dispatch: Dispatch,
) -> None:
    ticket_no = await dispatch.forwarded()
    await _set_deadline(dispatch, ticket_no, datetime.now(UTC) - timedelta(minutes=1))
    sessions = create_session_factory(dispatch.engine)

    await run_deadlines_once(sessions, reminder_hours=24)
    await run_deadlines_once(sessions, reminder_hours=24)

    assert (await dispatch.ticket(ticket_no)).overdue
    assert (await dispatch.events(ticket_no)).count("ticket.overdue") == 1
    metrics = (await dispatch.http.get("/metrics")).text
    assert f'hotline_dispatch_overdue_total{{unit_id="{GAS}"}}' in metrics


async def test_a_deadline_within_the_reminder_window_sends_one_reminder(dispatch: Dispatch) -> None:
    ticket_no = await dispatch.forwarded()
    await _set_deadline(dispatch, ticket_no, datetime.now(UTC) + timedelta(hours=3))
    sessions = create_session_factory(dispatch.engine)

    await run_deadlines_once(sessions, reminder_hours=24)
    await run_deadlines_once(sessions, reminder_hours=24)

    assert (await dispatch.events(ticket_no)).count("ticket.deadline_near") == 1


async def test_an_unroutable_ticket_waits_for_a_supervisor(dispatch: Dispatch) -> None:
    ticket_no = await dispatch.forwarded(suggested_unit=None)

    queue = (await dispatch.http.get("/v1/queue", headers=dispatch.as_supervisor())).json()

    assert ticket_no in [t["ticket_no"] for t in queue["manual"]]
    assert await dispatch.events(ticket_no) == []


async def test_supervisors_keep_the_registry_and_an_inactive_unit_is_refused(
    dispatch: Dispatch,
) -> None:
    headers = dispatch.as_supervisor()
    created = await dispatch.http.post(
        "/v1/units",
        headers=headers,
        json={
            "unit_id": "U900",
            "name": "市测试局",
            "kind": "city_bureau",
            "categories": ["其他类"],
            "location_prefixes": ["4305"],
        },
    )
    key = await dispatch.key_for("U900")
    patched = await dispatch.http.patch("/v1/units/U900", headers=headers, json={"active": False})
    bad = await dispatch.http.post(
        "/v1/units", headers=headers, json={"unit_id": "x", "name": "", "kind": "shop"}
    )

    assert created.status_code == 201
    assert patched.json()["active"] is False
    assert (await dispatch.http.get("/v1/unit/tickets", headers=key)).status_code == 403
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} >= {"unit_id", "name", "kind"}


async def _set_deadline(dispatch: Dispatch, ticket_no: str, deadline: datetime) -> None:
    async with dispatch.engine.begin() as connection:
        await connection.execute(
            update(DispatchTicket)
            .where(DispatchTicket.ticket_no == ticket_no)
            .values(deadline=deadline)
        )


async def test_a_reassignment_cancels_pending_requests_and_never_targets_the_same_unit(
    dispatch: Dispatch,
) -> None:
    market = await dispatch.key_for(MARKET)
    ticket_no = await dispatch.forwarded(suggested_unit="市市场监督管理局")
    deadline = (await dispatch.ticket(ticket_no)).deadline
    assert deadline is not None
    await dispatch.http.post(
        f"/v1/unit/tickets/{ticket_no}/extension",
        headers=market,
        json={
            "reason": "需要调取监控，时间较长",
            "requested_deadline": (deadline + timedelta(days=9)).isoformat(),
        },
    )
    headers = dispatch.as_supervisor()

    same = await dispatch.http.post(
        f"/v1/tickets/{ticket_no}/dispatch", headers=headers, json={"unit_id": MARKET}
    )
    moved = await dispatch.http.post(
        f"/v1/tickets/{ticket_no}/dispatch", headers=headers, json={"unit_id": GAS}
    )
    stale = await dispatch.http.post(
        f"/v1/tickets/{ticket_no}/extension-review", headers=headers, json={"accept": True}
    )

    assert same.status_code == 422
    assert (moved.json()["state"], moved.json()["unit_id"]) == ("dispatched", GAS)
    assert stale.status_code == 409
    queue = (await dispatch.http.get("/v1/queue", headers=headers)).json()
    assert ticket_no not in [r["ticket_no"] for r in queue["requests"]]


async def test_an_accepted_return_may_name_another_unit_but_not_the_returning_one(
    dispatch: Dispatch,
) -> None:
    market = await dispatch.key_for(MARKET)
    ticket_no = await dispatch.forwarded(suggested_unit="市市场监督管理局")
    await dispatch.http.post(
        f"/v1/unit/tickets/{ticket_no}/return",
        headers=market,
        json={"reason": "停气属燃气公司职责，非本局职能"},
    )
    headers = dispatch.as_supervisor()

    back = await dispatch.http.post(
        f"/v1/tickets/{ticket_no}/return-review",
        headers=headers,
        json={"accept": True, "unit_id": MARKET},
    )
    onward = await dispatch.http.post(
        f"/v1/tickets/{ticket_no}/return-review",
        headers=headers,
        json={"accept": True, "unit_id": GAS},
    )

    assert back.status_code == 422
    assert back.json()["errors"][0]["field"] == "unit_id"
    assert (onward.json()["state"], onward.json()["unit_id"]) == ("dispatched", GAS)


async def test_the_unit_reads_why_its_return_was_rejected(dispatch: Dispatch) -> None:
    market = await dispatch.key_for(MARKET)
    ticket_no = await dispatch.forwarded(
        suggested_unit="市市场监督管理局", category="金融商贸财经类"
    )
    await dispatch.http.post(
        f"/v1/unit/tickets/{ticket_no}/return",
        headers=market,
        json={"reason": "建议转区规划部门办理"},
    )
    note = "贵局2021年已就此事答复人大建议，属本单位职责"
    await dispatch.http.post(
        f"/v1/tickets/{ticket_no}/return-review",
        headers=dispatch.as_supervisor(),
        json={"accept": False, "note": note},
    )

    seen = (await dispatch.http.get(f"/v1/unit/tickets/{ticket_no}", headers=market)).json()

    assert seen["review_note"] == note


async def test_a_refused_reply_is_counted_by_unit_and_rule(dispatch: Dispatch) -> None:
    gas = await dispatch.key_for(GAS)
    ticket_no = await dispatch.forwarded()
    await dispatch.http.post(f"/v1/unit/tickets/{ticket_no}/sign", headers=gas)
    label = f'hotline_dispatch_replies_refused_total{{rule="T10",unit_id="{GAS}"}}'
    before = _metric(await dispatch.http.get("/metrics"), label)

    refused = await dispatch.http.post(
        f"/v1/unit/tickets/{ticket_no}/reply",
        headers=gas,
        json={
            "actions": "已和社区联系并处理",
            "result": GOOD_REPLY["result"],
            "citizen_contacted": True,
        },
    )

    assert refused.json()["errors"] == [
        {"field": "actions", "message": refused.json()["errors"][0]["message"]}
    ]
    assert _metric(await dispatch.http.get("/metrics"), label) == before + 1


async def test_a_unit_holding_open_tickets_cannot_be_deactivated(dispatch: Dispatch) -> None:
    await dispatch.forwarded(suggested_unit="市自来水公司")

    response = await dispatch.http.patch(
        f"/v1/units/{WATER}", headers=dispatch.as_supervisor(), json={"active": False}
    )

    assert response.status_code == 409
    assert response.json()["open_tickets"] >= 1


async def test_a_return_under_review_does_not_run_the_units_clock(dispatch: Dispatch) -> None:
    market = await dispatch.key_for(MARKET)
    ticket_no = await dispatch.forwarded(suggested_unit="市市场监督管理局")
    await dispatch.http.post(
        f"/v1/unit/tickets/{ticket_no}/return",
        headers=market,
        json={"reason": "停气属燃气公司职责，非本局职能"},
    )
    await _set_deadline(dispatch, ticket_no, datetime.now(UTC) - timedelta(minutes=1))

    await run_deadlines_once(create_session_factory(dispatch.engine), reminder_hours=24)

    assert not (await dispatch.ticket(ticket_no)).overdue


def _metric(response: httpx.Response, label: str) -> float:
    for line in response.text.splitlines():
        if line.startswith(label + " "):
            return float(line.split()[-1])
    return 0.0


async def test_a_ticket_the_hotline_answered_is_not_kept_until_intake_hands_it_over(
    dispatch: Dispatch,
) -> None:
    ticket_no = await dispatch.forwarded(
        handling_mode="answered",
        status="closed",
        resolution="已告知诉求人社保卡补办流程及所需材料。",
    )
    assert await dispatch.maybe_ticket(ticket_no) is None
    created = ticket_created_data(ticket_no, handling_mode="answered", status="closed")
    handed_over = TicketHandedOver(
        source="/hotline/intake",
        subject=ticket_no,
        ticket_id=ticket_no,
        version=4,
        data=TicketHandedOverData(
            **created.model_dump(),
            reopen_reason="回访不满意：补办材料和窗口说的不一样",
            reopened_at=datetime.now(UTC),
        ),
    )

    for _ in range(2):  # delivered twice
        async with unit_of_work(create_session_factory(dispatch.engine)) as session:
            await service.on_ticket_handed_over(session, handed_over)

    queue = (await dispatch.http.get("/v1/queue", headers=dispatch.as_supervisor())).json()
    waiting = [t for t in queue["manual"] if t["ticket_no"] == ticket_no]
    assert len(waiting) == 1
    assert waiting[0]["reopen_reason"] == "回访不满意：补办材料和窗口说的不一样"
    assert (await dispatch.ticket(ticket_no)).version == 4


async def test_a_units_default_list_is_its_open_work_nearest_deadline_first(
    dispatch: Dispatch,
) -> None:
    unit = await dispatch.new_unit()
    key = await dispatch.key_for(unit)
    done = await dispatch.forwarded(suggested_unit=unit)
    await dispatch.http.post(f"/v1/unit/tickets/{done}/sign", headers=key)
    await dispatch.http.post(f"/v1/unit/tickets/{done}/reply", headers=key, json=GOOD_REPLY)
    later, sooner = (
        await dispatch.forwarded(suggested_unit=unit),
        await dispatch.forwarded(suggested_unit=unit, request_type="consultation"),
    )
    await dispatch.http.post(f"/v1/unit/tickets/{later}/sign", headers=key)

    default = (await dispatch.http.get("/v1/unit/tickets", headers=key)).json()
    history = (await dispatch.http.get("/v1/unit/tickets?state=closed", headers=key)).json()
    everything = (await dispatch.http.get("/v1/unit/tickets?state=all", headers=key)).json()

    assert [t["ticket_no"] for t in default["items"]] == [sooner, later]
    assert default["total"] == 2
    assert [t["ticket_no"] for t in history["items"]] == [done]
    assert everything["total"] == 3


async def test_signing_a_signed_ticket_again_answers_the_same_and_announces_nothing(
    dispatch: Dispatch,
) -> None:
    gas = await dispatch.key_for(GAS)
    ticket_no = await dispatch.forwarded()

    first = await dispatch.http.post(f"/v1/unit/tickets/{ticket_no}/sign", headers=gas)
    again = await dispatch.http.post(f"/v1/unit/tickets/{ticket_no}/sign", headers=gas)

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert (await dispatch.events(ticket_no)).count("ticket.signed") == 1


async def test_a_unit_sees_the_extension_it_asked_for_and_why_a_ticket_came_back(
    dispatch: Dispatch,
) -> None:
    # A unit of its own: the gas company's list holds every other test's tickets too, and this
    # one could fall past the first page.
    unit = await dispatch.new_unit()
    gas = await dispatch.key_for(unit)
    ticket_no = await dispatch.forwarded(suggested_unit=unit)
    deadline = (await dispatch.ticket(ticket_no)).deadline
    assert deadline is not None
    asked = {
        "reason": "需协调管网改造施工，工期较长",
        "requested_deadline": (deadline + timedelta(days=5)).isoformat(),
    }
    await dispatch.http.post(f"/v1/unit/tickets/{ticket_no}/extension", headers=gas, json=asked)

    seen = (await dispatch.http.get(f"/v1/unit/tickets/{ticket_no}", headers=gas)).json()
    listed = (await dispatch.http.get("/v1/unit/tickets", headers=gas)).json()

    assert [(r["kind"], r["reason"]) for r in seen["pending_requests"]] == [
        ("extension", asked["reason"])
    ]
    in_list = next(t for t in listed["items"] if t["ticket_no"] == ticket_no)
    assert in_list["pending_requests"] == seen["pending_requests"]


async def test_every_time_in_an_answer_is_written_in_local_time(dispatch: Dispatch) -> None:
    gas = await dispatch.key_for(GAS)
    ticket_no = await dispatch.forwarded()

    signed = (await dispatch.http.post(f"/v1/unit/tickets/{ticket_no}/sign", headers=gas)).json()
    seen = (await dispatch.http.get(f"/v1/unit/tickets/{ticket_no}", headers=gas)).json()

    for moment in (signed["deadline"], seen["deadline"], seen["accepted_at"], seen["signed_at"]):
        assert moment.endswith("+08:00"), moment
    assert seen["deadline"] == signed["deadline"]


async def test_a_ticket_merged_into_another_leaves_the_units_open_work(
    dispatch: Dispatch,
) -> None:
    unit = await dispatch.new_unit()
    key = await dispatch.key_for(unit)
    ticket_no = await dispatch.forwarded(suggested_unit=unit)
    deadline = (await dispatch.ticket(ticket_no)).deadline
    assert deadline is not None
    await dispatch.http.post(
        f"/v1/unit/tickets/{ticket_no}/extension",
        headers=key,
        json={
            "reason": "需协调多个部门联合处理",
            "requested_deadline": (deadline + timedelta(days=3)).isoformat(),
        },
    )
    merged = TicketMerged(
        source="/hotline/intake",
        subject=ticket_no,
        ticket_id=ticket_no,
        version=2,  # raised while dispatch had moved on: applied all the same
        data=TicketMergedData(
            ticket_no=ticket_no,
            repeat_of="SY202201200000001",
            repeat_rule="in_progress_same_caller",
            handling_mode="not_accepted",
            status="closed",
            resolution="群众重复来电，无新情况新理由，原诉求（工单SY202201200000001）正在办理。",
            merged_by="李组长",
            note=None,
            merged_at=datetime.now(UTC),
        ),
    )

    before = (await dispatch.ticket(ticket_no)).version
    async with unit_of_work(create_session_factory(dispatch.engine)) as session:
        await service.on_ticket_merged(session, merged)

    ticket = await dispatch.ticket(ticket_no)
    listed = (await dispatch.http.get("/v1/unit/tickets", headers=key)).json()
    queue = (await dispatch.http.get("/v1/queue", headers=dispatch.as_supervisor())).json()
    assert ticket.state == "merged"
    assert ticket.version == max(before, merged.version)  # an older version does not lower it
    assert listed["total"] == 0
    assert ticket_no not in [r["ticket_no"] for r in queue["requests"]]
