"""Across services, through the real broker: intake, dispatch and callback together."""

import asyncio
from collections.abc import Awaitable, Callable

from sqlalchemy import select

from hotline.callback.models import Survey
from hotline.dispatch.models import DispatchTicket
from tests.callback.conftest import Callback, callback  # noqa: F401 (fixture)
from tests.dispatch.conftest import Dispatch, dispatch  # noqa: F401 (fixture)
from tests.intake.conftest import IntakeClient, intake, ticket_body  # noqa: F401 (fixture)


async def test_a_forwarded_ticket_posted_to_intake_is_dispatched_to_the_suggested_unit(
    intake: IntakeClient,  # noqa: F811
    dispatch: Dispatch,  # noqa: F811
) -> None:
    body = ticket_body(suggested_unit="市燃气总公司")
    ticket_no = (await intake.post("/v1/tickets", body)).json()["ticket_no"]

    unit_id = None
    for _ in range(300):
        async with dispatch.engine.connect() as connection:
            unit_id = await connection.scalar(
                select(DispatchTicket.unit_id).where(DispatchTicket.ticket_no == ticket_no)
            )
        if unit_id is not None:
            break
        await asyncio.sleep(0.1)

    assert unit_id == "U011"
    gas = await dispatch.key_for("U011")
    seen = (await dispatch.http.get(f"/v1/unit/tickets/{ticket_no}", headers=gas)).json()
    assert seen["state"] == "dispatched"
    # The unit must call the citizen back, so it alone sees the whole number.
    assert seen["caller_number"] == body["caller"]["number"]
    assert seen["deadline"] is not None


async def test_an_unsatisfied_callback_reopens_the_ticket_and_dispatch_sends_it_back(
    intake: IntakeClient,  # noqa: F811
    dispatch: Dispatch,  # noqa: F811
    callback: Callback,  # noqa: F811
) -> None:
    body = ticket_body(suggested_unit="市燃气总公司")
    ticket_no = (await intake.post("/v1/tickets", body)).json()["ticket_no"]
    gas = await dispatch.key_for("U011")
    await _until(lambda: _dispatch_state(dispatch, ticket_no), "dispatched")
    await dispatch.http.post(f"/v1/unit/tickets/{ticket_no}/sign", headers=gas)
    reply = {
        "actions": "1月31日已与诉求人电话联系，并派抢修班组到小区检查管道",
        "result": "阀门故障已排除，当日18时恢复供气，诉求人表示认可。",
        "citizen_contacted": True,
    }
    assert (
        await dispatch.http.post(f"/v1/unit/tickets/{ticket_no}/reply", headers=gas, json=reply)
    ).status_code == 200

    await _until(lambda: _survey_state(callback, ticket_no), "scheduled")
    verdict = {
        "outcome": "answered",
        "satisfaction": "unsatisfied",
        "unit_contacted": False,
        "method": "manual",
        "comment": "没人与我沟通联系",
    }
    result = await callback.post_result(ticket_no, verdict)

    assert (result.json()["contradicted"], result.json()["reopened"]) == (True, True)
    await _until(lambda: _dispatch_state(dispatch, ticket_no), "dispatched")
    ticket = await dispatch.ticket(ticket_no)
    assert (ticket.unit_id, ticket.reopen_count) == ("U011", 1)


async def _dispatch_state(dispatch: Dispatch, ticket_no: str) -> str | None:  # noqa: F811
    async with dispatch.engine.connect() as connection:
        state: str | None = await connection.scalar(
            select(DispatchTicket.state).where(DispatchTicket.ticket_no == ticket_no)
        )
        return state


async def _survey_state(callback: Callback, ticket_no: str) -> str | None:  # noqa: F811
    async with callback.engine.connect() as connection:
        state: str | None = await connection.scalar(
            select(Survey.state).where(Survey.ticket_no == ticket_no)
        )
        return state


async def _until(probe: Callable[[], Awaitable[str | None]], wanted: str) -> None:
    for _ in range(300):
        if await probe() == wanted:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"never became {wanted}")
