"""`hotline up` on the simulated clock while `hotline simulate` plays two days of the seed's
traffic and the stack's parts are killed (kill -9): the broker, each of the five services, the
simulated province, PostgreSQL. The stack brings each back by itself and keeps the rest running;
the simulator, retrying as a real sender does, gets everything through, and the bulletin still
equals its own counts. Afterwards every ticket intake accepted is held once by dispatch (if
forwarded) and by callback, and has reached the province (or waits on the gate's worklist),
nothing is parked, and every outbox is drained."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.shared.db import create_engine
from hotline.shared.stack.embedded import free_port
from hotline.shared.stack.services import PROVINCE_PORT, SERVICES, SERVICES_BY_NAME
from tests.support import ProcessOutput, hotline_up, uploads_settled

PORT_OFFSET = 23_000
# Two January days at a tenth of the seed's traffic (about 110 tickets), long enough to span
# every kill below.
SIMULATE = (
    *(sys.executable, "-m", "hotline.shared.stack.cli", "simulate"),
    *("--from", "2022-01-10", "--to", "2022-01-11", "--scale", "0.1", "--seed", "5"),
    *("--settle-seconds", "20", "--wait-seconds", "120"),
)


def url(name: str) -> str:
    return f"http://127.0.0.1:{SERVICES_BY_NAME[name].port + PORT_OFFSET}"


def faulty_stack(var_dir: Path, broker_port: int) -> AbstractContextManager[ProcessOutput]:
    return hotline_up(
        os.environ
        | {
            "HOTLINE_VAR_DIR": str(var_dir),
            "HOTLINE_PORT_OFFSET": str(PORT_OFFSET),
            "HOTLINE_EMBEDDED_KAFKA_PORT": str(broker_port),
            "HOTLINE_LOG_LEVEL": "warning",
            "HOTLINE_CLOCK": "simulated",
            "HOTLINE_RESTART_MAX_BACKOFF_SECONDS": "2",
            # Documents leased by a killed uploader are free again after 3 × this + 10 s.
            "HOTLINE_SYNC_REQUEST_TIMEOUT_SECONDS": "2",
        },
        "hotline-up-faults",
    )


@contextmanager
def simulating(var_dir: Path, report: Path) -> Iterator[subprocess.Popen[str]]:
    """`hotline simulate` on the stack's ports, in the background; its output in a file."""
    env = os.environ | {"HOTLINE_PORT_OFFSET": str(PORT_OFFSET)}
    log = (var_dir / "simulate.log").open("w")
    simulate = subprocess.Popen(
        [*SIMULATE, "--report", str(report)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield simulate
    finally:
        if simulate.poll() is None:
            simulate.kill()
        simulate.wait(timeout=30)
        log.close()


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
def test_killing_every_part_while_the_simulator_plays_loses_nothing_and_doubles_nothing(
    tmp_path: Path,
) -> None:
    var_dir, broker_port, report = tmp_path / "var", free_port(), tmp_path / "report.json"
    with faulty_stack(var_dir, broker_port) as output, simulating(tmp_path, report) as simulate:
        time.sleep(8)  # the simulator has set the clock and is sending
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
        still_playing = simulate.poll() is None
        simulate.wait(timeout=400)

        tickets, forwarded = asyncio.run(_accepted(var_dir))
        counts, unpublished, uploads = asyncio.run(_settled(var_dir, tickets, forwarded))
        log = output.text()
    played = (tmp_path / "simulate.log").read_text()

    assert still_playing, "the simulator ended before the last kill: lengthen its period"
    assert simulate.returncode == 0, played[-4000:]
    figures = json.loads(report.read_text())
    assert [figure for figure in figures["figures"] if not figure["matches"]] == []
    assert figures["retries"] > 0, "the simulator never had to retry: no fault was seen"
    expected = {(f["where"], f["figure"]): f["expected"] for f in figures["figures"]}
    assert len(tickets) == expected[("total", "tickets")]
    assert len(forwarded) == expected[("total", "forwarded")] > 10
    # A tenth of two days of the seed: 110 tickets, most answered on the call.
    assert expected[("total", "tickets")] == 110
    assert expected[("total", "inbound calls")] > expected[("total", "tickets")] * 0.8
    assert figures["by_kind"]["survey"] >= expected[("total", "callbacks")]
    assert figures["by_kind"]["clock"] > 10
    assert counts == {
        "dispatch holds": len(forwarded),
        "callback holds": len(tickets),
        "parked": 0,
    }, log[-6000:]
    assert unpublished == 0
    # Every ticket reached the province, unless the gate holds it back for a person.
    assert set(uploads) <= {"synced", "blocked"}, uploads
    assert sum(uploads.values()) == len(tickets), uploads
    assert uploads.get("synced", 0) > 0, uploads
    for part in ("broker", "postgres", "province", *(service.name for service in SERVICES)):
        assert f"hotline up: {part} exited" in log, log[-3000:]
        assert f"hotline up: {part} started again" in log


def _engine(var_dir: Path) -> AsyncEngine:
    socket_dir = (var_dir / "postgres" / "postmaster.pid").read_text().splitlines()[4]
    return create_engine(f"postgresql+asyncpg://postgres@/hotline?host={socket_dir}")


async def _accepted(var_dir: Path) -> tuple[list[str], list[str]]:
    """Every ticket intake accepted, and those of them it forwarded."""
    engine = _engine(var_dir)
    try:
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    text("SELECT ticket_no, handling_mode FROM intake.tickets")
                )
            ).all()
    finally:
        await engine.dispose()
    return [row[0] for row in rows], [row[0] for row in rows if row[1] == "forward"]


async def _settled(
    var_dir: Path, tickets: list[str], forwarded: list[str]
) -> tuple[dict[str, int], int, dict[str, int]]:
    """Once dispatch and callback hold everything: the counts, the events still unpublished,
    and the tickets' upload documents by status once none is left pending."""
    engine = _engine(var_dir)
    try:
        deadline = time.monotonic() + 120
        while True:
            counts = await models_hold(engine, tickets, forwarded)
            done = (counts["dispatch holds"], counts["callback holds"]) == (
                len(forwarded),
                len(tickets),
            )
            if done or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
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


async def models_hold(
    engine: AsyncEngine, tickets: list[str], forwarded: list[str]
) -> dict[str, int]:
    """How many of the forwarded tickets dispatch holds, how many of all callback holds (each
    at most once: their tables are keyed by the ticket), and the events parked anywhere."""
    async with engine.connect() as connection:
        held = await connection.scalar(
            text("SELECT count(*) FROM dispatch.tickets WHERE ticket_no = ANY(:t)"),
            {"t": forwarded},
        )
        viewed = await connection.scalar(
            text("SELECT count(*) FROM callback.tickets WHERE ticket_no = ANY(:t)"), {"t": tickets}
        )
        parked = 0
        for service in SERVICES:
            schema = service.package.rsplit(".", 1)[1]
            parked += int(
                await connection.scalar(text(f"SELECT count(*) FROM {schema}.parked_events")) or 0
            )
    return {"dispatch holds": int(held or 0), "callback holds": int(viewed or 0), "parked": parked}
