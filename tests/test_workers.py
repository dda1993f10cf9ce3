"""`hotline serve` with `HOTLINE_WORKERS=2`: two processes answer on one port, and /metrics,
whichever of them answers it, counts the requests both took. A process with
`HOTLINE_BACKGROUND_WORK=false` answers HTTP and leaves publishing to another."""

import asyncio
import json
import os
import re
import subprocess
import sys
import time

import httpx
import pytest
from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.intake.config import DEVELOPMENT_CALL_CENTRE_SECRET
from hotline.shared.migrations import upgrade
from hotline.shared.stack.embedded import free_port
from hotline.shared.web.webhooks import signature_headers
from tests.conftest import TEST_KAFKA_TUNING, Servers, process_log
from tests.support import running, wait_until
from tests.test_faults import _ticket

TICKETS = 20


def accepted_count(metrics: str) -> float:
    pattern = re.compile(
        r'^hotline_http_requests_total\{[^}]*route="/v1/tickets"[^}]*status="201"[^}]*\} (\S+)$',
        re.MULTILINE,
    )
    return sum(float(value) for value in pattern.findall(metrics))


@pytest.fixture
async def intake_schema(engine: AsyncEngine) -> None:
    await upgrade(engine, "hotline.intake")


@pytest.mark.slow
@pytest.mark.usefixtures("intake_schema")
def test_two_workers_answer_and_count_their_requests_together(servers: Servers) -> None:
    port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("HOTLINE_")}
    env |= {
        "HOTLINE_ENVIRONMENT": "test",
        "HOTLINE_DATABASE_URL": servers.database_url,
        "HOTLINE_KAFKA_BOOTSTRAP": servers.kafka_bootstrap,
        "HOTLINE_WORKERS": "2",
        "HOTLINE_PORT": str(port),
        "HOTLINE_LOG_LEVEL": "info",  # its output goes to a file the session checks
    }
    env |= {f"HOTLINE_KAFKA_{name.upper()}": str(v) for name, v in TEST_KAFKA_TUNING.items()}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with process_log("intake-workers").open("ab") as output:  # checked for numbers at the end
        process = subprocess.Popen(
            [sys.executable, "-m", "hotline.shared.stack.cli", "serve", "intake"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        pids: set[int] = set()
        deadline = time.monotonic() + 60
        while len(pids) < 2 and time.monotonic() < deadline:
            try:
                with httpx.Client(base_url=url, timeout=5) as fresh:  # a new connection each
                    if fresh.get("/readyz").status_code == 200:
                        pids.add(fresh.get("/healthz").json()["pid"])
            except httpx.HTTPError:
                time.sleep(0.2)
        assert len(pids) == 2, f"one process answered: {pids}"

        for _ in range(TICKETS):
            raw = json.dumps(_ticket(), ensure_ascii=False)
            headers = signature_headers(DEVELOPMENT_CALL_CENTRE_SECRET, raw)
            with httpx.Client(base_url=url, timeout=30) as fresh:
                answered = fresh.post("/v1/tickets", content=raw, headers=headers)
            assert answered.status_code == 201, answered.text
        metrics = httpx.get(f"{url}/metrics", timeout=30).text
        assert accepted_count(metrics) == TICKETS
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.usefixtures("intake_schema")
async def test_a_process_without_background_work_answers_and_another_publishes(
    servers: Servers, engine: AsyncEngine
) -> None:
    from hotline.intake.main import app
    from hotline.intake.models import messaging

    outbox = messaging.outbox
    body = json.dumps(_ticket(), ensure_ascii=False)
    async with running(app, servers, background_work="false") as http:
        assert app.state.runtime.tasks == []  # no relay, no consumers, no timers
        answered = await http.post(
            "/v1/tickets",
            content=body,
            headers=signature_headers(DEVELOPMENT_CALL_CENTRE_SECRET, body),
        )
        assert answered.status_code == 201, answered.text
        ticket_no = answered.json()["ticket_no"]
        await asyncio.sleep(0.5)
        assert await published(engine, outbox, ticket_no) is False

    async with running(app, servers):
        await wait_until(
            lambda: published(engine, outbox, ticket_no), within=20, what="the relay to publish"
        )


async def published(engine: AsyncEngine, outbox: Table, ticket_no: str) -> bool:
    async with engine.connect() as connection:
        rows = (
            await connection.execute(select(outbox.c.published_at).where(outbox.c.key == ticket_no))
        ).all()
    assert rows, f"no events of {ticket_no} in the outbox"
    return all(row.published_at is not None for row in rows)
