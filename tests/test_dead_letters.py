"""Parked events live in the consumer's database: operators list, replay and discard them over
HTTP (`/v1/dead-letters`, operator tokens) or with `hotline dead-letters`."""

import asyncio
import os
import subprocess
import sys
from uuid import uuid4

from sqlalchemy import insert, select

from hotline.dispatch.models import messaging
from hotline.shared.messaging.events import serialize_event
from hotline.shared.settings import DEVELOPMENT_OPERATOR_TOKEN
from tests.conftest import Servers
from tests.dispatch.conftest import Dispatch, dispatch  # noqa: F401 (fixture)
from tests.factories import ticket_created

OPERATOR = {"Authorization": f"Bearer {DEVELOPMENT_OPERATOR_TOKEN}"}


async def park(dispatch: Dispatch) -> tuple[int, str]:  # noqa: F811
    """A ticket.created that dispatch's consumer could not apply (as if its table was broken)."""
    ticket_no = f"SY{uuid4().hex[:12].upper()}"
    event = ticket_created(ticket_no, source="/hotline/intake")
    async with dispatch.engine.begin() as connection:
        parked_id = await connection.scalar(
            insert(messaging.parked_events)
            .values(
                consumer="dispatch",
                topic="hotline.tickets",
                partition=0,
                offset=7,
                key=ticket_no,
                event_id=event.id,
                event_type=event.type,
                value=serialize_event(event),
                error="KeyError('complaint')",
                attempts=5,
                status="parked",
            )
            .returning(messaging.parked_events.c.id)
        )
    assert parked_id is not None
    return parked_id, ticket_no


async def test_an_operator_lists_and_replays_a_parked_event(dispatch: Dispatch) -> None:  # noqa: F811
    parked_id, ticket_no = await park(dispatch)

    anonymous = await dispatch.http.get("/v1/dead-letters")
    listed = (await dispatch.http.get("/v1/dead-letters", headers=OPERATOR)).json()
    replayed = await dispatch.http.post(f"/v1/dead-letters/{parked_id}/replay", headers=OPERATOR)
    again = await dispatch.http.post(f"/v1/dead-letters/{parked_id}/replay", headers=OPERATOR)

    assert anonymous.status_code == 401
    assert parked_id in [item["id"] for item in listed["items"]]
    assert replayed.json() == {"id": parked_id, "outcome": "replayed"}
    assert again.status_code == 404
    assert (await dispatch.ticket(ticket_no)).state == "dispatched"
    metrics = (await dispatch.http.get("/metrics")).text
    assert 'hotline_parked_events{consumer="dispatch",service="dispatch"' in metrics


async def test_the_command_lists_and_discards_parked_events(
    dispatch: Dispatch,  # noqa: F811
    servers: Servers,
) -> None:
    parked_id, _ticket_no = await park(dispatch)
    env = os.environ | {"HOTLINE_ENVIRONMENT": "test", "HOTLINE_DATABASE_URL": servers.database_url}

    async def hotline(*args: str) -> subprocess.CompletedProcess[str]:
        """The command in a thread, so the service's consumer keeps its heartbeat meanwhile."""
        return await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "hotline.shared.stack.cli", "dead-letters", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    listed = await hotline("list", "dispatch")
    discarded = await hotline("discard", "dispatch", str(parked_id), "--note", "测试数据，无需处理")

    assert f"dispatch\t{parked_id}\tdispatch\thotline.tickets\tticket.created" in listed.stdout
    assert discarded.returncode == 0, discarded.stderr
    async with dispatch.engine.connect() as connection:
        status = await connection.scalar(
            select(messaging.parked_events.c.status).where(
                messaging.parked_events.c.id == parked_id
            )
        )
    assert status == "discarded"


async def test_a_discard_whose_note_holds_a_nul_is_a_422_and_the_event_stays_parked(
    dispatch: Dispatch,  # noqa: F811
) -> None:
    parked_id, _ = await park(dispatch)

    refused = await dispatch.http.post(
        f"/v1/dead-letters/{parked_id}/discard", json={"note": "测试\x00数据"}, headers=OPERATOR
    )
    listed = (await dispatch.http.get("/v1/dead-letters", headers=OPERATOR)).json()

    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "note"
    assert parked_id in [item["id"] for item in listed["items"]]


async def test_a_parked_id_beyond_postgresqls_bigint_is_a_422_naming_it(
    dispatch: Dispatch,  # noqa: F811
) -> None:
    too_large = 2**63

    replayed = await dispatch.http.post(f"/v1/dead-letters/{too_large}/replay", headers=OPERATOR)
    discarded = await dispatch.http.post(
        f"/v1/dead-letters/{too_large}/discard", json={"note": "测试数据"}, headers=OPERATOR
    )

    for answer in (replayed, discarded):
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["field"] == "path.parked_id"
