"""`hotline up` (what `make run` runs) brings all five services to ready and stops cleanly."""

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from hotline.dispatch.config import DEVELOPMENT_SUPERVISOR_TOKEN
from hotline.intake.config import DEVELOPMENT_CALL_CENTRE_SECRET
from hotline.shared.stack.embedded import free_port
from hotline.shared.stack.services import SERVICES, SERVICES_BY_NAME
from hotline.shared.web.webhooks import signature_headers
from tests.support import hotline_up

READY_WITHIN_SECONDS = 60
PORT_OFFSET = 20_000
RESTART_PORT_OFFSET = 21_000


@pytest.mark.slow
def test_hotline_up_serves_all_five_services_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "HOTLINE_VAR_DIR": str(tmp_path / "var"),
        "HOTLINE_PORT_OFFSET": str(PORT_OFFSET),
        "HOTLINE_EMBEDDED_KAFKA_PORT": str(free_port()),
    }

    # Exits 0 on Ctrl-C, or the context manager fails.
    with hotline_up(env, "hotline-up", READY_WITHIN_SECONDS) as output:
        for service in SERVICES:
            url = f"http://127.0.0.1:{service.port + PORT_OFFSET}"
            ready_line = f"  {service.name:<16} {url}  (docs {url}/docs, metrics {url}/metrics)"
            assert ready_line in output.text().splitlines()
            assert httpx.get(f"{url}/readyz", timeout=5).status_code == 200

    # Each process's lines behind its name, to the last one it wrote as it stopped.
    lines = output.text().splitlines()
    width = max(len(name) for name in [*SERVICES_BY_NAME, "province"])
    for name in [*SERVICES_BY_NAME, "province"]:
        own = [line for line in lines if line.startswith(f"{name:<{width}} | ")]
        assert any("Application startup complete" in line for line in own), name
        assert any("Finished server process" in line for line in own), (name, own[-3:])
    assert not [line for line in lines if "Finished server process" in line and " | " not in line]
    assert not (tmp_path / "var" / "postgres" / "postmaster.pid").exists()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{SERVICES[0].port + PORT_OFFSET}/healthz", timeout=2)


@pytest.mark.slow
def test_stopping_hotline_up_between_events_and_starting_it_again_loses_none_and_doubles_none(
    tmp_path: Path,
) -> None:
    env = {
        **os.environ,
        "HOTLINE_VAR_DIR": str(tmp_path / "var"),
        "HOTLINE_PORT_OFFSET": str(RESTART_PORT_OFFSET),
        "HOTLINE_EMBEDDED_KAFKA_PORT": str(free_port()),
    }
    intake = f"http://127.0.0.1:{SERVICES_BY_NAME['intake'].port + RESTART_PORT_OFFSET}"
    dispatch = f"http://127.0.0.1:{SERVICES_BY_NAME['dispatch'].port + RESTART_PORT_OFFSET}"

    with hotline_up(env, "hotline-up", READY_WITHIN_SECONDS):
        # Stopped right after these are accepted: their events may not be published yet.
        before = [_post_forwarded_ticket(intake) for _ in range(5)]
    with hotline_up(env, "hotline-up", READY_WITHIN_SECONDS):
        # The broker came back empty; PostgreSQL kept everything.
        after = [_post_forwarded_ticket(intake) for _ in range(5)]
        tickets = [_wait_until_dispatched(dispatch, ticket_no) for ticket_no in before + after]

    # Dispatched once each: created is version 1, dispatched version 2, nothing more.
    assert [ticket["version"] for ticket in tickets] == [2] * 10
    assert {ticket["unit_id"] for ticket in tickets} == {"U011"}


def _post_forwarded_ticket(intake: str) -> str:
    body = json.dumps(
        {
            "source_ticket_id": f"desk-{uuid4().hex}",
            "call_id": f"call-{uuid4().hex}",
            "channel": "phone",
            "caller": {"salutation": "刘女士", "number": "13907391234"},
            "request_type": "help",
            "category": "生活服务类",
            "location_code": "430503001",
            "content": f"小区燃气表漏气，闻到很重的气味，请尽快派人处理（{uuid4().hex[:6]}）",
            "handling_mode": "forward",
            "suggested_unit": "市燃气总公司",
            "agent_id": "A009",
            "accepted_at": datetime.now(UTC).isoformat(),
            "new_facts": True,
        },
        ensure_ascii=False,
    )
    headers = signature_headers(DEVELOPMENT_CALL_CENTRE_SECRET, body)
    response = httpx.post(
        f"{intake}/v1/tickets", content=body.encode(), headers=headers, timeout=10
    )
    assert response.status_code == 201, response.text
    ticket_no: str = response.json()["ticket_no"]
    return ticket_no


def _wait_until_dispatched(dispatch: str, ticket_no: str) -> dict[str, object]:
    supervisor = {"Authorization": f"Bearer {DEVELOPMENT_SUPERVISOR_TOKEN}"}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        response = httpx.get(f"{dispatch}/v1/tickets/{ticket_no}", headers=supervisor, timeout=5)
        if response.status_code == 200 and response.json()["state"] == "dispatched":
            ticket: dict[str, object] = response.json()
            return ticket
        time.sleep(0.2)
    raise AssertionError(f"{ticket_no} was never dispatched")
