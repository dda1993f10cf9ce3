"""Intake's webhook throughput and latency beside the ceiling of a one-insert endpoint.

    .venv/bin/python -m bench.intake_webhooks [--seconds 15] [--concurrency 32]

Starts its own embedded PostgreSQL and broker, runs intake (its relay and consumer included) and
the ceiling app (`bench/ceiling_app.py`) as uvicorn processes, drives each with signed, realistic
ticket webhooks at full speed (closed loop), then drives intake at half its sustained rate (open
loop, latency measured from each request's scheduled time, so a stall counts against every
request it delays). Prints the figures and writes them to bench/results/.
"""

import argparse
import asyncio
import random
import time

import httpx
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook

from bench.harness import Figures, embedded_stack, figures, report, served
from bench.payloads import signed, ticket
from hotline.intake.config import DEVELOPMENT_CALL_CENTRE_SECRET
from hotline.intake.models import messaging
from hotline.shared.db import create_engine
from hotline.shared.stack.up import migrate_all


async def closed_loop(url: str, seconds: float, concurrency: int, target: str) -> Figures:
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
    return figures(target, f"closed loop, {concurrency} clients", elapsed, latencies, errors)


async def open_loop(url: str, seconds: float, rate: float, target: str) -> Figures:
    """Requests sent on a fixed schedule at `rate`/s, whether or not earlier ones returned."""
    secret, rng = Webhook(DEVELOPMENT_CALL_CENTRE_SECRET), random.Random(2)
    latencies: list[float] = []
    errors = 0
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:

        async def one(scheduled: float) -> None:
            nonlocal errors
            await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
            body, headers = signed(secret, ticket(rng))
            response = await client.post("/v1/tickets", content=body, headers=headers)
            latencies.append(time.perf_counter() - scheduled)
            errors += response.status_code != 201

        start = time.perf_counter() + 0.5
        await asyncio.gather(*(one(start + n / rate) for n in range(int(seconds * rate))))
    return figures(target, f"open loop at {rate:.0f}/s", seconds, latencies, errors)


async def drained(database_url: str, settle_seconds: float = 5.0) -> None:
    """Wait until intake's outbox is published, then a moment for its consumer."""
    engine = create_engine(database_url, pool_size=1)
    outbox = messaging.outbox
    try:
        while True:
            async with engine.connect() as connection:
                pending = await connection.scalar(
                    select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
                )
            if not pending:
                break
            await asyncio.sleep(0.5)
    finally:
        await engine.dispose()
    await asyncio.sleep(settle_seconds)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()

    with embedded_stack() as stack:
        await migrate_all(stack.database_url)
        with (
            served("bench.ceiling_app:app", stack.env) as ceiling_url,
            served("hotline.intake.main:app", stack.env) as intake_url,
        ):
            await closed_loop(ceiling_url, 3, args.concurrency, "warm-up")
            await closed_loop(intake_url, 3, args.concurrency, "warm-up")
            ceiling = await closed_loop(ceiling_url, args.seconds, args.concurrency, "ceiling")
            intake = await closed_loop(intake_url, args.seconds, args.concurrency, "intake")
            # The full-speed run leaves thousands of events to publish and consume: let intake
            # catch up, so the half-rate run measures half the rate, not the backlog.
            await drained(stack.database_url)
            half = await open_loop(intake_url, args.seconds, intake.rate / 2, "intake")

    share = intake.rate / ceiling.rate if ceiling.rate else 0.0
    report(
        "intake",
        [ceiling, intake, half],
        {
            "share_of_ceiling": f"{share:.0%}",
            "p99_at_half_rate_ms": half.p99_ms,
        },
    )


if __name__ == "__main__":
    asyncio.run(main())
