"""Across services, through the real broker: a ticket the call centre forwards reaches a unit."""

import asyncio

from sqlalchemy import select

from hotline.dispatch.models import DispatchTicket
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
