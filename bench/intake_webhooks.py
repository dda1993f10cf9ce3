"""Intake's webhook throughput and latency beside the ceiling of a one-insert endpoint, driven
by `wrk` (one thread) with requests signed before each run.

    .venv/bin/python -m bench.intake_webhooks [--seconds 15] [--connections 32] [--workers 1]
        [--split]

Starts its own embedded PostgreSQL and broker, runs the ceiling app (`bench/ceiling_app.py`) and
intake (its relay and consumer included; with `--split` they run in a second intake process,
`HOTLINE_BACKGROUND_WORK=false` on the one wrk drives, whose CPU is the `relay` column) as
uvicorn processes. The ceiling is measured first, on
a quiet stack; then intake at full speed (closed loop); then, once intake has published and
consumed what that left, intake at about half its rate (each connection pausing between
requests). Every request is a distinct signed ticket webhook from `bench/payloads.py`. Each row
shows wrk's CPU (share of its one core), the server's (cores) and the machine's idle share; a
ratio is reported only when wrk was not the limit.
"""

import argparse
import asyncio
import json
import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook

from bench import wrk
from bench.harness import RESULTS, embedded_stack, pid_listening, served
from bench.payloads import signed, ticket
from hotline.intake.config import DEVELOPMENT_CALL_CENTRE_SECRET
from hotline.intake.models import messaging
from hotline.shared.db import create_engine
from hotline.shared.stack.up import migrate_all

# Requests prepared per second of a run: more than either target can take.
PREPARED_PER_SECOND = 3000


def prepared(url: str, count: int, seed: int) -> Path:
    secret, rng = Webhook(DEVELOPMENT_CALL_CENTRE_SECRET), random.Random(seed)
    webhooks = (signed(secret, ticket(rng)) for _ in range(count))
    return wrk.write_requests(url, (("/v1/tickets", headers, body) for body, headers in webhooks))


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


def drive(
    url: str,
    seconds: float,
    connections: int,
    target: str,
    seed: int,
    pause_ms: int = 0,
    background_url: str | None = None,
) -> wrk.WrkRun:
    paced = int(connections * seconds * 1000 / pause_ms) + 100 if pause_ms else None
    count = paced or int(PREPARED_PER_SECOND * seconds)
    return wrk.replay(
        url,
        prepared(url, count, seed),
        seconds=seconds,
        connections=connections,
        target=target,
        server_pid=pid_listening(url),
        pause_ms=pause_ms,
        background_pid=pid_listening(background_url) if background_url else None,
    )


@contextmanager
def background_process(env: dict[str, str], wanted: bool) -> Iterator[str | None]:
    """With `--split`: intake once more, not driven, running the relay and consumers."""
    if not wanted:
        yield None
        return
    with served("hotline.intake.main:app", env) as url:
        yield url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1, help="intake's worker processes")
    parser.add_argument(
        "--split",
        action="store_true",
        help="intake's relay and consumers in a process of their own, not the one wrk drives",
    )
    args = parser.parse_args()
    wrk.wrk_binary()

    with embedded_stack() as stack:
        asyncio.run(migrate_all(stack.database_url))
        web_env = stack.env | {"HOTLINE_BACKGROUND_WORK": "false"} if args.split else stack.env
        with (
            served("bench.ceiling_app:app", stack.env) as ceiling_url,
            served("hotline.intake.main:app", web_env, args.workers) as intake_url,
            background_process(stack.env, args.split) as background_url,
        ):
            drive(ceiling_url, 3, args.connections, "warm-up", 1)
            ceiling = drive(ceiling_url, args.seconds, args.connections, "ceiling", 2)
            drive(intake_url, 3, args.connections, "warm-up", 3)
            asyncio.run(drained(stack.database_url))
            intake = drive(
                intake_url, args.seconds, args.connections, "intake", 4, 0, background_url
            )
            # The full-speed run leaves thousands of events to publish and consume: let intake
            # catch up, so the half-rate run measures half the rate, not the backlog.
            asyncio.run(drained(stack.database_url))
            connections = 8
            # Each connection waits this long between requests: at most half the rate (less by
            # each request's own time at that load, which is short).
            pause = max(1, int(connections * 1000 / (intake.rate / 2)))
            half = drive(intake_url, args.seconds, connections, "intake", 5, pause, background_url)

    runs = [ceiling, intake, half]
    header = (
        "target",
        "mode",
        "req",
        "err",
        "rate/s",
        "p50 ms",
        "p99 ms",
        "wrk cpu",
        "server",
        "relay",
        "idle",
    )
    print("{:<9} {:<34} {:>7} {:>4} {:>8} {:>7} {:>7} {:>8} {:>7} {:>6} {:>5}".format(*header))
    for run in runs:
        print(
            f"{run.target:<9} {run.mode:<34} {run.requests:>7} {run.errors:>4} {run.rate:>8} "
            f"{run.p50_ms:>7} {run.p99_ms:>7} {run.generator_cpu:>8} {run.server_cpu:>7} "
            f"{run.background_cpu:>6} {run.machine_idle:>5}"
        )
    bound = [run.target for run in (ceiling, intake) if run.generator_bound]
    share = None if bound else round(intake.rate / ceiling.rate, 3) if ceiling.rate else None
    print(
        f"intake / ceiling: {share:.0%}"
        if share is not None
        else f"no ratio: wrk was the limit on {', '.join(bound)}"
    )
    print(f"p99 at {half.rate:.0f}/s (about half intake's rate): {half.p99_ms} ms")
    RESULTS.mkdir(exist_ok=True)
    name = f"intake_webhooks-{args.workers}-workers" + ("-split" if args.split else "")
    (RESULTS / f"{name}.json").write_text(
        json.dumps({"runs": [run.as_dict() for run in runs], "share_of_ceiling": share}, indent=2)
    )


if __name__ == "__main__":
    main()
