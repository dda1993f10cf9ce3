"""Provincial-sync on the real servers, uploading to `hotline province` run as its own process
(so an outage is the process killed), with the province calling back on a real port; events put
on the broker's topics as the other services would."""

import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.shared import secrets
from hotline.shared.messaging.events import Event
from hotline.shared.migrations import upgrade
from hotline.shared.stack.embedded import free_port
from tests.conftest import Servers, process_log
from tests.support import publish, serving, wait_until

READER_TOKEN = "test-sync-reader-token-for-the-supervisors"
SUPERVISOR_TOKEN = "test-sync-supervisor-token-for-decisions"
READER = {"Authorization": f"Bearer {READER_TOKEN}"}
SUPERVISOR = {"Authorization": f"Bearer {SUPERVISOR_TOKEN}"}
ADMIN = {"Authorization": f"Bearer {secrets.DEVELOPMENT_PROVINCE_ADMIN_TOKEN}"}


@dataclass
class Province:
    """`hotline province` in a process of its own."""

    port: int
    callback_url: str
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {
            **os.environ,
            "HOTLINE_ENVIRONMENT": "test",
            "HOTLINE_PROVINCE_CALLBACK_URL": self.callback_url,
            "HOTLINE_PROVINCE_PUSH_INTERVAL_SECONDS": "0.2",
            "HOTLINE_LOG_LEVEL": "info",  # its output goes to a file the session checks
        }
        with process_log("province").open("ab") as output:  # checked for numbers at the end
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "hotline.shared.stack.cli",
                    "province",
                    "--port",
                    str(self.port),
                ],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        """An outage: the province's process killed outright."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    async def until_up(self) -> None:
        async def healthy() -> bool:
            try:
                async with httpx.AsyncClient(timeout=1) as client:
                    return (await client.get(f"{self.url}/healthz")).status_code == 200
            except httpx.HTTPError:
                return False

        await wait_until(healthy, within=30, what="the province to answer")

    async def admin(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        async with httpx.AsyncClient(base_url=self.url, headers=ADMIN, timeout=30) as client:
            given = {name: value for name, value in params.items() if value is not None}
            response = await client.request(method, f"/admin{path}", json=body, params=given)
        assert response.status_code == 200, response.text
        return response.json()["data"]

    async def arrivals(self, record_id: str | None = None) -> list[dict[str, Any]]:
        data = await self.admin("GET", "/arrivals", record_id=record_id, limit=100_000)
        return list(data["arrivals"])

    async def behave(self, **behaviour: Any) -> None:
        await self.admin("PUT", "/behaviour", {"mode": "normal", **behaviour})


@dataclass
class Sync:
    http: httpx.AsyncClient
    engine: AsyncEngine
    servers: Servers
    province: Province

    async def publish(self, events: Iterable[Event]) -> None:
        await publish(self.servers, events)

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.http.get(path, params=params, headers=READER)

    async def document(self, kind: str, record_id: str) -> dict[str, Any] | None:
        response = await self.get(f"/v1/sync/documents/{kind}/{record_id}")
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def until_status(
        self, kind: str, record_id: str, status: str, within: float = 30, version: int | None = None
    ) -> dict[str, Any]:
        held: dict[str, Any] | None = None

        async def reached() -> bool:
            nonlocal held
            held = await self.document(kind, record_id)
            return (
                held is not None
                and held["status"] == status
                and (version is None or held["version"] == version)
            )

        await wait_until(reached, within, f"{kind} {record_id} to be {status}")
        assert held is not None
        return held

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.engine.connect() as connection:
            return await connection.scalar(text(sql), params)


@pytest.fixture(scope="module")
def province_ports() -> tuple[int, int]:
    return free_port(), free_port()


@pytest.fixture(scope="module")
async def sync(
    engine: AsyncEngine, servers: Servers, province_ports: tuple[int, int]
) -> AsyncIterator[Sync]:
    await upgrade(engine, "hotline.provincial_sync")
    province_port, sync_port = province_ports
    province = Province(province_port, callback_url=f"http://127.0.0.1:{sync_port}")
    province.start()
    await province.until_up()
    from hotline.provincial_sync.main import app

    try:
        async with serving(
            app,
            servers,
            sync_port,
            sync_province_url=province.url,
            sync_reader_tokens=json.dumps({"省平台对接员": READER_TOKEN}),
            sync_supervisor_tokens=json.dumps({"刘主任": SUPERVISOR_TOKEN}),
            # T09 only warns here, so both modes are seen in one stack.
            sync_rule_modes=json.dumps({"T17": "warn", "T09": "warn"}),
            sync_batch_size="100",
            sync_concurrency="1",
            sync_request_timeout_seconds="1",
            sync_idle_poll_seconds="0.05",
            sync_retry_initial_seconds="0.2",
            sync_retry_max_seconds="1",
            sync_breaker_open_seconds="0.3",
            sync_breaker_max_open_seconds="1",
            sync_status_interval_seconds="3600",
        ) as http:
            yield Sync(http, engine, servers, province)
    finally:
        province.kill()
