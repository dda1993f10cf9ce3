"""`hotline up` under traffic while its parts are killed (kill -9): the broker, each of the five
services, the simulated province, PostgreSQL. The stack brings each back by itself and keeps the
rest running; the call centre, retrying as Standard Webhooks senders do, gets every ticket
accepted; afterwards every accepted ticket is held exactly once by dispatch and by callback and
has reached the province (or waits on the gate's worklist), nothing is parked, and every outbox
is drained."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import text

from hotline.intake.config import DEVELOPMENT_CALL_CENTRE_SECRET
from hotline.shared.db import create_engine
from hotline.shared.stack.embedded import free_port
from hotline.shared.stack.services import PROVINCE_PORT, SERVICES, SERVICES_BY_NAME
from hotline.shared.web.webhooks import signature_headers
from tests.support import ProcessOutput, held_counts, until_held, uploads_settled

PORT_OFFSET = 23_000
TICKETS_PER_SECOND = 5


def url(name: str) -> str:
    return f"http://127.0.0.1:{SERVICES_BY_NAME[name].port + PORT_OFFSET}"


@contextmanager
def hotline_up(var_dir: Path, broker_port: int) -> Iterator[ProcessOutput]:
    env = os.environ | {
        "HOTLINE_VAR_DIR": str(var_dir),
        "HOTLINE_PORT_OFFSET": str(PORT_OFFSET),
        "HOTLINE_EMBEDDED_KAFKA_PORT": str(broker_port),
        "HOTLINE_LOG_LEVEL": "warning",
        "HOTLINE_RESTART_MAX_BACKOFF_SECONDS": "2",
        # Documents leased by a killed uploader are free again after 3 × this + 10 s.
        "HOTLINE_SYNC_REQUEST_TIMEOUT_SECONDS": "2",
    }
    up = subprocess.Popen(
        [sys.executable, "-m", "hotline.shared.stack.cli", "up"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = ProcessOutput(up, "hotline-up-faults")
    try:
        output.until("Press Ctrl-C to stop.", 90)
        yield output
    finally:
        up.send_signal(signal.SIGINT)
        assert up.wait(timeout=90) == 0


class CallCentre:
    """Posts forwarded tickets at a steady rate from a thread; each until it gets 201."""

    def __init__(self) -> None:
        self.accepted: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "CallCentre":
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join(timeout=120)

    def _run(self) -> None:
        with httpx.Client(base_url=url("intake"), timeout=5) as client:
            while not self.stop.is_set():
                self._deliver(client, _ticket())
                time.sleep(1 / TICKETS_PER_SECOND)

    def _deliver(self, client: httpx.Client, body: dict[str, Any]) -> None:
        raw, webhook_id = json.dumps(body, ensure_ascii=False), f"msg_{uuid4().hex}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            headers = signature_headers(DEVELOPMENT_CALL_CENTRE_SECRET, raw, webhook_id=webhook_id)
            try:
                response = client.post("/v1/tickets", content=raw, headers=headers)
            except httpx.HTTPError:
                time.sleep(0.5)
                continue
            if response.status_code == 201:
                self.accepted.append(response.json()["ticket_no"])
                return
            assert response.status_code == 503, response.text
            time.sleep(float(response.headers.get("retry-after", "1")))


def _ticket() -> dict[str, Any]:
    return {
        "source_ticket_id": f"desk-{uuid4().hex}",
        "call_id": f"call-{uuid4().hex[:12]}",
        "channel": "phone",
        "caller": {"salutation": "刘女士", "number": f"139{uuid4().int % 10**8:08d}"},
        "request_type": "help",
        "category": "生活服务类",
        "location_code": f"430503{uuid4().int % 10**6:06d}",
        "content": f"小区燃气表漏气，闻到很重的气味，请尽快派人处理（{uuid4().hex[:6]}）",
        "handling_mode": "forward",
        "suggested_unit": "市燃气总公司",
        "agent_id": "A009",
        "accepted_at": (datetime.now(UTC) - timedelta(seconds=5)).isoformat(),
        "new_facts": True,
    }


PROVINCE_URL = f"http://127.0.0.1:{PROVINCE_PORT + PORT_OFFSET}"


def province_pid() -> int:
    pid: int = httpx.get(f"{PROVINCE_URL}/healthz", timeout=5).json()["data"]["pid"]
    return pid


def service_pid(name: str) -> int:
    pid: int = httpx.get(f"{url(name)}/healthz", timeout=5).json()["pid"]
    return pid


def broker_pid(port: int) -> int:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "broker" in command and f"127.0.0.1:{port}" in command:
            return int(entry.name)
    raise AssertionError(f"no broker on port {port}")


def postgres_pid(var_dir: Path) -> int:
    return int((var_dir / "postgres" / "postmaster.pid").read_text().split()[0])


def until_back(name: str, old_pid: int, within: float = 60) -> int:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            pid = service_pid(name)
            if pid != old_pid and httpx.get(f"{url(name)}/readyz", timeout=5).status_code == 200:
                return pid
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{name} did not come back")


def until_province_back(old_pid: int, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if province_pid() != old_pid:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError("the province did not come back")


@pytest.mark.slow
def test_killing_every_part_under_traffic_loses_no_ticket_and_doubles_none(
    tmp_path: Path,
) -> None:
    var_dir, broker_port = tmp_path / "var", free_port()
    with hotline_up(var_dir, broker_port) as output, CallCentre() as centre:
        time.sleep(3)
        others = {name: service_pid(name) for name in ("intake", "dispatch", "callback")}

        os.kill(broker_pid(broker_port), signal.SIGKILL)
        time.sleep(4)
        # The others kept running through the broker's death.
        assert {name: service_pid(name) for name in others} == others
        for service in SERVICES:
            old = service_pid(service.name)
            os.kill(old, signal.SIGKILL)
            until_back(service.name, old)
            time.sleep(1)
        old = province_pid()
        os.kill(old, signal.SIGKILL)
        until_province_back(old)
        os.kill(postgres_pid(var_dir), signal.SIGKILL)
        time.sleep(6)
        until_back("intake", -1)
        time.sleep(3)
        centre.stop.set()
        centre.thread.join(timeout=120)

        counts, unpublished, uploads = asyncio.run(_settled(var_dir, centre.accepted))
        log = output.text()

    assert len(centre.accepted) >= 50
    assert len(set(centre.accepted)) == len(centre.accepted)
    assert counts == {
        "dispatch holds": len(centre.accepted),
        "dispatched once": len(centre.accepted),
        "callback holds": len(centre.accepted),
        "parked": 0,
    }, log[-6000:]
    assert unpublished == 0
    # Every ticket reached the province, unless the gate holds it back for a person.
    assert set(uploads) <= {"synced", "blocked"}, uploads
    assert sum(uploads.values()) == len(centre.accepted), uploads
    assert uploads.get("synced", 0) > 0, uploads
    for part in ("broker", "postgres", "province", *(service.name for service in SERVICES)):
        assert f"hotline up: {part} exited" in log, log[-3000:]
        assert f"hotline up: {part} started again" in log


async def _settled(var_dir: Path, tickets: list[str]) -> tuple[dict[str, int], int, dict[str, int]]:
    """Once dispatch and callback hold everything: the counts, the events still unpublished,
    and the tickets' upload documents by status once none is left pending."""
    socket_dir = (var_dir / "postgres" / "postmaster.pid").read_text().splitlines()[4]
    engine = create_engine(f"postgresql+asyncpg://postgres@/hotline?host={socket_dir}")
    try:
        await until_held(engine, tickets, within=120)
        counts = await held_counts(engine, tickets)
        deadline, unpublished = time.monotonic() + 60, -1
        while time.monotonic() < deadline and unpublished != 0:
            async with engine.connect() as connection:
                unpublished = 0
                for service in SERVICES:
                    schema = service.package.rsplit(".", 1)[1]
                    unpublished += int(
                        await connection.scalar(
                            text(f"SELECT count(*) FROM {schema}.outbox WHERE published_at IS NULL")
                        )
                        or 0
                    )
            await asyncio.sleep(0.5)
        uploads = await uploads_settled(engine, tickets)
        return counts, unpublished, uploads
    finally:
        await engine.dispose()
