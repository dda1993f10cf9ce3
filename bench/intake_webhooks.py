"""Intake's webhook throughput and latency beside the ceiling of a one-insert endpoint.

    .venv/bin/python -m bench.intake_webhooks [--seconds 15] [--concurrency 32]

Starts its own embedded PostgreSQL and broker, runs intake (`hotline serve intake`, its relay and
consumer included) and the ceiling app (`bench/ceiling_app.py`) as uvicorn processes, drives each
with signed, realistic ticket webhooks at full speed (closed loop), then drives intake at half its
sustained rate (open loop, latency measured from each request's scheduled time, so a stall counts
against every request it delays). Prints the figures and writes them to bench/results/.
"""

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
from standardwebhooks.webhooks import Webhook

from bench.payloads import signed, ticket
from hotline.intake.config import DEVELOPMENT_CALL_CENTRE_SECRET
from hotline.shared.embedded import EmbeddedBroker, EmbeddedPostgres, free_port
from hotline.shared.stack import EMBEDDED_KAFKA_TUNING, migrate_all

RESULTS = Path(__file__).parent / "results"


@dataclass
class Run:
    target: str
    mode: str
    seconds: float
    requests: int
    errors: int
    rate: float
    p50_ms: float
    p99_ms: float


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000 if ordered else 0.0


async def closed_loop(url: str, seconds: float, concurrency: int, target: str) -> Run:
    """As many requests as `concurrency` clients can send back to back."""
    secret, rng = Webhook(DEVELOPMENT_CALL_CENTRE_SECRET), random.Random(1)
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                body, headers = signed(secret, ticket(rng))
                started = time.perf_counter()
                response = await client.post("/v1/tickets", content=body, headers=headers)
                latencies.append(time.perf_counter() - started)
                errors += response.status_code != 201

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return Run(
        target,
        f"closed loop, {concurrency} clients",
        round(elapsed, 1),
        len(latencies),
        errors,
        round(len(latencies) / elapsed, 1),
        round(percentile(latencies, 0.5), 1),
        round(percentile(latencies, 0.99), 1),
    )


async def open_loop(url: str, seconds: float, rate: float, target: str) -> Run:
    """Requests sent on a fixed schedule at `rate`/s, whether or not earlier ones returned."""
    secret, rng = Webhook(DEVELOPMENT_CALL_CENTRE_SECRET), random.Random(2)
    latencies: list[float] = []
    errors = 0
    total = int(seconds * rate)
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:

        async def one(scheduled: float) -> None:
            nonlocal errors
            await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
            body, headers = signed(secret, ticket(rng))
            response = await client.post("/v1/tickets", content=body, headers=headers)
            latencies.append(time.perf_counter() - scheduled)
            errors += response.status_code != 201

        start = time.perf_counter() + 0.5
        began = time.perf_counter()
        await asyncio.gather(*(one(start + n / rate) for n in range(total)))
        elapsed = time.perf_counter() - began
    return Run(
        target,
        f"open loop at {rate:.0f}/s",
        round(elapsed, 1),
        len(latencies),
        errors,
        round(len(latencies) / seconds, 1),
        round(percentile(latencies, 0.5), 1),
        round(percentile(latencies, 0.99), 1),
    )


def serve(command: list[str], port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/docs", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    output = process.stderr.read().decode() if process.stderr else ""
    raise RuntimeError(f"{command} did not start: {output}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="hotline-bench-"))
    postgres = EmbeddedPostgres(workdir / "postgres")
    broker = EmbeddedBroker(free_port(), log_file=workdir / "broker.log")
    database_url = postgres.start()
    broker.start()
    await migrate_all(database_url)
    env = {
        **os.environ,
        **EMBEDDED_KAFKA_TUNING,
        "HOTLINE_DATABASE_URL": database_url,
        "HOTLINE_KAFKA_BOOTSTRAP": broker.bootstrap,
        "HOTLINE_LOG_LEVEL": "warning",
    }
    intake_port, ceiling_port = free_port(), free_port()
    uvicorn = [sys.executable, "-m", "uvicorn", "--log-level", "warning", "--no-access-log"]
    processes = [
        serve([*uvicorn, "--port", str(ceiling_port), "bench.ceiling_app:app"], ceiling_port, env),
        serve([*uvicorn, "--port", str(intake_port), "hotline.intake.main:app"], intake_port, env),
    ]
    ceiling_url, intake_url = f"http://127.0.0.1:{ceiling_port}", f"http://127.0.0.1:{intake_port}"
    try:
        await closed_loop(ceiling_url, 3, args.concurrency, "warm-up")
        await closed_loop(intake_url, 3, args.concurrency, "warm-up")
        ceiling = await closed_loop(ceiling_url, args.seconds, args.concurrency, "ceiling")
        intake = await closed_loop(intake_url, args.seconds, args.concurrency, "intake")
        half = await open_loop(intake_url, args.seconds, intake.rate / 2, "intake")
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=15)
        broker.stop()
        postgres.stop()

    runs = [ceiling, intake, half]
    header = ("target", "mode", "req", "err", "rate/s", "p50 ms", "p99 ms")
    print("{:<9} {:<26} {:>6} {:>4} {:>8} {:>8} {:>8}".format(*header))
    for run in runs:
        print(
            f"{run.target:<9} {run.mode:<26} {run.requests:>6} {run.errors:>4} "
            f"{run.rate:>8} {run.p50_ms:>8} {run.p99_ms:>8}"
        )
    share = intake.rate / ceiling.rate if ceiling.rate else 0.0
    print(f"intake sustains {share:.0%} of the ceiling; p99 at half rate {half.p99_ms} ms")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"intake-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps({"runs": [asdict(r) for r in runs], "share": share}, indent=2))
    print(f"written to {out}")


if __name__ == "__main__":
    asyncio.run(main())
