"""One answer per question through dispatch's API: the seed's "two answers" (问题二) held for a
supervisor instead of closing, and the 田江大桥 return (问题一) shown beside the unit's own
earlier answer."""

from typing import Any

from prometheus_client import REGISTRY
from sqlalchemy import select

from hotline.dispatch.models import Reply, messaging
from hotline.shared.db import create_session_factory
from tests.dispatch.conftest import Dispatch

ENGINE_QUESTION = (
    "市民反映购买了一台新车，已在车管所进行登记，现新车的发动机重新更换，市民想咨询车辆需不需要"
    "再次进行备案，如果需要，市民需要携带哪些资料来车管所办理。"
)
ENGINE_AGAIN = "市民咨询车辆更换发动机后办理变更登记需要带哪些材料。"
FIRST_ANSWER = {
    "actions": "经查询机动车登记规定，已电话联系市民说明更换发动机的变更登记要求。",
    "result": "已经注册登记的车辆更换发动机应当在变更后十日内向车辆管理所申请变更登记。需提供："
    "更换同品牌、同型号的发动机；提供有资质的专业维修企业出示的营业执照和证明；新发动机合格证；"
    "机动车安全技术检验和格单，请市民及时携带相关资料前往车管所申请变更登记。",
    "citizen_contacted": True,
}
SECOND_ANSWER = {
    "actions": "经核实车管所办事指南，已电话联系市民告知更换发动机变更登记所需资料。",
    "result": "机动车变更发动机所需资料：机动车所有人的身份证明、行驶证、登记证书、机动车查验记录"
    "表，机动车安全技术检验合格证明和更换发动机维修店开具的证明（需盖公章）。",
    "citizen_contacted": True,
}
SAME_AS_SECOND = {
    "actions": "已电话联系市民，按车管所办事指南说明更换发动机后变更登记的资料。",
    "result": "请携带居民身份证、机动车行驶证、机动车登记证书、查验记录表、安全技术检验合格证明，"
    "以及维修店开具并盖公章的证明，到车管所申请变更登记。",
    "citizen_contacted": True,
}


async def _consultation(dispatch: Dispatch, unit_id: str, content: str, category: str) -> str:
    return await dispatch.forwarded(
        request_type="consultation",
        category=category,
        content=content,
        suggested_unit=f"测试单位{unit_id}",
    )


async def _answered(
    dispatch: Dispatch, key: dict[str, str], ticket_no: str, reply: dict[str, Any]
) -> dict[str, Any]:
    signed = await dispatch.http.post(f"/v1/unit/tickets/{ticket_no}/sign", headers=key)
    assert signed.status_code == 200, signed.text
    replied = await dispatch.http.post(
        f"/v1/unit/tickets/{ticket_no}/reply", headers=key, json=reply
    )
    assert replied.status_code == 200, replied.text
    body: dict[str, Any] = replied.json()
    return body


async def _queue(dispatch: Dispatch) -> dict[str, Any]:
    queue = await dispatch.http.get("/v1/queue", headers=dispatch.as_supervisor())
    assert queue.status_code == 200, queue.text
    body: dict[str, Any] = queue.json()
    return body


async def _announced(
    dispatch: Dispatch, ticket_no: str, event_type: str = "ticket.replied"
) -> dict[str, Any]:
    """The data of the ticket's `ticket.replied` (or another), as other services read it."""
    outbox = messaging.outbox
    async with dispatch.engine.connect() as connection:
        payload = await connection.scalar(
            select(outbox.c.payload).where(
                outbox.c.key == ticket_no, outbox.c.event_type == event_type
            )
        )
    assert payload is not None
    data: dict[str, Any] = payload["data"]
    return data


def _two_answers_counted(unit_id: str) -> float:
    return (
        REGISTRY.get_sample_value("hotline_dispatch_two_answers_total", {"unit_id": unit_id}) or 0
    )


async def test_a_second_different_answer_to_the_engine_question_is_held_not_closed(
    dispatch: Dispatch,
) -> None:
    unit_id = await dispatch.new_unit()
    police = await dispatch.key_for(unit_id)
    first = await _consultation(dispatch, unit_id, ENGINE_QUESTION, "交通运输类")
    closed = await _answered(dispatch, police, first, FIRST_ANSWER)

    second = await _consultation(dispatch, unit_id, ENGINE_AGAIN, "交通运输类")
    held = await _answered(dispatch, police, second, SECOND_ANSWER)
    [waiting] = [r for r in (await _queue(dispatch))["replies"] if r["ticket_no"] == second]

    assert closed["state"] == "closed"
    assert held["state"] == "replied"
    assert held["held_for_review"] == "two_answers"
    assert await dispatch.events(second) == ["ticket.dispatched", "ticket.signed", "ticket.replied"]
    [earlier] = waiting["earlier_answers"]
    assert earlier["ticket_no"] == first
    assert "营业执照" in earlier["answer"]
    [difference] = earlier["differences"]
    assert difference["facet"] == "documents"
    assert "营业执照" in difference["only_earlier"]
    assert {"身份证", "行驶证", "登记证书"} <= set(difference["only_new"])
    assert waiting["two_answers"] == 1
    assert _two_answers_counted(unit_id) == 1
    assert (await _announced(dispatch, second))["contradicts"] == [
        {"ticket_no": first, "entry_id": None, "facets": ["documents"]}
    ]
    assert (await _announced(dispatch, first))["contradicts"] == []

    accepted = await dispatch.http.post(
        f"/v1/tickets/{second}/reply-review",
        headers=dispatch.as_supervisor(),
        json={"accept": True, "supersede_earlier": True},
    )
    third = await _consultation(dispatch, unit_id, ENGINE_AGAIN, "交通运输类")
    consistent = await _answered(dispatch, police, third, SAME_AS_SECOND)

    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["state"] == "closed"
    async with create_session_factory(dispatch.engine)() as session:
        old = await session.scalar(select(Reply).where(Reply.ticket_no == first))
        new = await session.scalar(select(Reply).where(Reply.ticket_no == second))
    assert old is not None
    assert new is not None
    assert (old.status, old.superseded_by) == ("superseded", new.reply_id)
    # The superseded list no longer counts: an answer like the accepted one closes at once.
    assert consistent["state"] == "closed"
    assert consistent["held_for_review"] is None


async def test_a_held_second_answer_can_be_sent_back_and_supersede_needs_an_accepted_one(
    dispatch: Dispatch,
) -> None:
    unit_id = await dispatch.new_unit()
    police = await dispatch.key_for(unit_id)
    await _answered(
        dispatch,
        police,
        await _consultation(dispatch, unit_id, ENGINE_QUESTION, "交通运输类"),
        FIRST_ANSWER,
    )
    second = await _consultation(dispatch, unit_id, ENGINE_AGAIN, "交通运输类")
    await _answered(dispatch, police, second, SECOND_ANSWER)

    refused = await dispatch.http.post(
        f"/v1/tickets/{second}/reply-review",
        headers=dispatch.as_supervisor(),
        json={"accept": False, "supersede_earlier": True},
    )
    sent_back = await dispatch.http.post(
        f"/v1/tickets/{second}/reply-review",
        headers=dispatch.as_supervisor(),
        json={"accept": False, "note": "两次答复的材料清单不一致，请核实后重新答复"},
    )

    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["errors"][0]["field"] == "supersede_earlier"
    assert sent_back.status_code == 200, sent_back.text
    assert sent_back.json()["state"] == "signed"


async def test_a_complaint_or_another_question_is_not_held(dispatch: Dispatch) -> None:
    unit_id = await dispatch.new_unit()
    police = await dispatch.key_for(unit_id)
    await _answered(
        dispatch,
        police,
        await _consultation(dispatch, unit_id, ENGINE_QUESTION, "交通运输类"),
        FIRST_ANSWER,
    )
    other_question = await _consultation(
        dispatch, unit_id, "市民咨询新车上牌需要哪些材料。", "交通运输类"
    )
    other_category = await _consultation(dispatch, unit_id, ENGINE_AGAIN, "公共安全类")

    assert (await _answered(dispatch, police, other_question, SECOND_ANSWER))["state"] == "closed"
    assert (await _answered(dispatch, police, other_category, SECOND_ANSWER))["state"] == "closed"


TIANJIANG = "市民咨询双清区田江大桥是否在规划中，什么时候动工修建。"
TIANJIANG_AGAIN = "来电人询问田江大桥什么时候开始修建，有没有列入规划。"
TIANJIANG_ANSWER = {
    "actions": "经查阅城市建设计划，已电话联系市民说明田江大桥的建设安排。",
    "result": "田江大桥已列入我市城市桥梁建设规划，目前正在开展前期工作，具体开工时间待立项批复后"
    "确定，已向市民解释清楚。",
    "citizen_contacted": True,
}


async def test_the_tianjiang_bridge_return_carries_the_units_own_answer_and_the_flag(
    dispatch: Dispatch,
) -> None:
    unit_id = await dispatch.new_unit()
    housing = await dispatch.key_for(unit_id)
    answered = await _consultation(dispatch, unit_id, TIANJIANG, "城乡建设类")
    await _answered(dispatch, housing, answered, TIANJIANG_ANSWER)

    returned = await _consultation(dispatch, unit_id, TIANJIANG_AGAIN, "城乡建设类")
    unrelated = await _consultation(
        dispatch, unit_id, "市民反映双清区宝庆路路灯不亮，晚上出行不便。", "城乡建设类"
    )
    for ticket_no in (returned, unrelated):
        asked = await dispatch.http.post(
            f"/v1/unit/tickets/{ticket_no}/return",
            headers=housing,
            json={"reason": "规划问题建议转区规划部门"},
        )
        assert asked.status_code == 200, asked.text
    requests = {r["ticket_no"]: r for r in (await _queue(dispatch))["requests"]}

    flagged, plain = requests[returned], requests[unrelated]
    assert flagged["contradicted_by_evidence"] is True
    [evidence] = flagged["evidence"]
    assert evidence["ticket_no"] == answered
    assert "田江大桥已列入" in evidence["answer"]
    assert {"田江", "大桥"} <= set(evidence["shared"])
    assert flagged["overturned_returns"] == 0
    assert plain["contradicted_by_evidence"] is False
    assert plain["evidence"] == []
    announced = await _announced(dispatch, returned, "ticket.return_requested")
    assert announced["answered_before"] == [answered]
    assert (await _announced(dispatch, unrelated, "ticket.return_requested"))[
        "answered_before"
    ] == []

    rejected = await dispatch.http.post(
        f"/v1/tickets/{returned}/return-review",
        headers=dispatch.as_supervisor(),
        json={"accept": False, "note": "贵单位曾答复过同一问题，请办理"},
    )
    after = {r["ticket_no"]: r for r in (await _queue(dispatch))["requests"]}

    assert rejected.status_code == 200, rejected.text
    assert after[unrelated]["overturned_returns"] == 1
