"""Provincial-sync's upload on this machine: a backlog of documents (what an outage leaves)
drained to `hotline province`, with the real uploader, the real PostgreSQL and the real broker
(every accepted version is announced through the outbox, as in production).

The backlog is written straight into provincial-sync's documents table (realistic tickets with
their call records, as the projection writes them), the province's process is started, then
provincial-sync's: the clock runs from its start until the province holds every document. The
province validates every record against the exchange schema; its own audit (the rules again) is
off, as it runs on the province's machines, not ours. CPU seconds of each process are read from
/proc, with the machine's idle share over the drain.

    .venv/bin/python -m bench.provincial_sync [--documents 100000] [--batch 500]
"""

import argparse
import asyncio
import hashlib
import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import text

from bench.harness import (
    RESULTS,
    cpu_seconds,
    embedded_stack,
    machine_busy_idle,
    pid_listening,
    served,
)
from bench.scoring import documents
from hotline.shared import secrets
from hotline.shared.db import create_engine
from hotline.shared.stack.embedded import free_port
from hotline.shared.stack.services import SERVICES_BY_NAME
from hotline.shared.stack.up import migrate_all

INSERT_BATCH = 5_000


async def write_backlog(database_url: str, count: int) -> None:
    """`count` pending ticket documents, changed over the last hour, oldest first."""
    engine = create_engine(database_url, pool_size=1)
    now = datetime.now(UTC)
    bundles = documents(count)
    statement = text(
        "INSERT INTO provincial_sync.documents (kind, record_id, version, content, "
        "content_hash, changed_at, status, findings, unit_name, call_id) VALUES "
        "('ticket', :record_id, 1, CAST(:content AS jsonb), :hash, :changed_at, 'pending', "
        "'[]', '市燃气总公司', :call_id)"
    )
    try:
        for start in range(0, count, INSERT_BATCH):
            rows = []
            for n, bundle in enumerate(bundles[start : start + INSERT_BATCH], start):
                content = bundle.model_dump_json()
                rows.append(
                    {
                        "record_id": bundle.ticket.ticket_no,
                        "content": content,
                        "hash": hashlib.sha256(content.encode()).hexdigest(),
                        "changed_at": now - timedelta(seconds=3600 * (count - n) / count),
                        "call_id": bundle.ticket.call_id,
                    }
                )
            async with engine.begin() as connection:
                await connection.execute(statement, rows)
    finally:
        await engine.dispose()


async def synced(database_url: str) -> tuple[int, int]:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            row = (
                await connection.execute(
                    text(
                        "SELECT count(*) FILTER (WHERE status = 'synced'), count(*) "
                        "FROM provincial_sync.documents"
                    )
                )
            ).one()
            return int(row[0]), int(row[1])
    finally:
        await engine.dispose()


def start_province(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "hotline.shared.stack.cli", "province", "--port", str(port)]
    process = subprocess.Popen(
        command,
        env=env | {"HOTLINE_PROVINCE_AUDIT": "false", "HOTLINE_LOG_LEVEL": "warning"},
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the province did not start")


def province_held(port: int) -> int:
    response = httpx.get(
        f"http://127.0.0.1:{port}/admin/summary",
        headers={"Authorization": f"Bearer {secrets.DEVELOPMENT_PROVINCE_ADMIN_TOKEN}"},
        timeout=10,
    )
    summary: dict[str, Any] = response.json()["data"]
    return int(sum(summary["records"].values()))


def drain(count: int, batch: int, concurrency: int) -> dict[str, Any]:
    with embedded_stack() as servers:
        asyncio.run(migrate_all(servers.database_url, [SERVICES_BY_NAME["provincial-sync"]]))
        started = time.perf_counter()
        asyncio.run(write_backlog(servers.database_url, count))
        written = time.perf_counter() - started
        print(f"backlog of {count} documents written in {written:.1f}s", flush=True)
        province_port = free_port()
        province = start_province(province_port, servers.env)
        env = servers.env | {
            "HOTLINE_SYNC_PROVINCE_URL": f"http://127.0.0.1:{province_port}",
            "HOTLINE_SYNC_BATCH_SIZE": str(batch),
            "HOTLINE_SYNC_CONCURRENCY": str(concurrency),
            "HOTLINE_SYNC_IDLE_POLL_SECONDS": "0.05",
        }
        try:
            busy0, idle0 = machine_busy_idle()
            province_cpu0 = cpu_seconds(province.pid)
            clock = time.perf_counter()
            with served(SERVICES_BY_NAME["provincial-sync"].asgi_app, env) as _url:
                sync_pid = pid_listening(_url)
                sync_cpu0 = cpu_seconds(sync_pid)
                done, total = 0, count
                samples = []
                while done < total:
                    time.sleep(0.5)
                    done, total = asyncio.run(synced(servers.database_url))
                    samples.append((round(time.perf_counter() - clock, 1), done))
                elapsed = time.perf_counter() - clock
                sync_cpu = cpu_seconds(sync_pid) - sync_cpu0
            busy1, idle1 = machine_busy_idle()
            province_cpu = cpu_seconds(province.pid) - province_cpu0
            held = province_held(province_port)
        finally:
            province.terminate()
            province.wait(timeout=15)
    ticks = (busy1 - busy0) + (idle1 - idle0)
    return {
        "documents": count,
        "batch_size": batch,
        "concurrency": concurrency,
        "province_holds": held,
        "drain_seconds": round(elapsed, 1),
        "documents_per_second": round(count / elapsed),
        "cpu_seconds": {
            "provincial-sync": round(sync_cpu, 1),
            "province": round(province_cpu, 1),
        },
        "machine_idle_share": round((idle1 - idle0) / ticks, 3) if ticks else None,
        "progress": samples[:: max(1, len(samples) // 20)],
        "note": "clock from provincial-sync's start (its start-up included) to the last synced",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=2)
    arguments = parser.parse_args()
    result = drain(arguments.documents, arguments.batch, arguments.concurrency)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "provincial_sync.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
