"""What a broker restart costs with 100,000 events in the outbox's retention window: how many
events the relay sends again and how long the consumers take to catch up, with the low-water
mark (only what some group had not committed past) and without it (the whole window, as before).

    .venv/bin/python -m bench.broker_restart [--events 100000]

Everything runs on one embedded PostgreSQL and one embedded broker of the benchmark's own: an
outbox of `--events` events published and consumed by one consumer group before the broker is
killed and started empty.
"""

import argparse
import asyncio
import json
import os
import signal
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bench.harness import RESULTS
from hotline.shared.clock import business_now
from hotline.shared.db import create_engine, create_session_factory, service_metadata
from hotline.shared.messaging.consumer import ConsumerSpec, IdempotentConsumer
from hotline.shared.messaging.events import (
    TICKETS_TOPIC,
    TicketReopened,
    TicketReopenedData,
)
from hotline.shared.messaging.kafka import Broker
from hotline.shared.messaging.outbox import OutboxRelay
from hotline.shared.messaging.tables import MessagingTables, define_messaging_tables
from hotline.shared.settings import ConsumerSettings, KafkaSettings, OutboxSettings
from hotline.shared.stack.embedded import EmbeddedBroker, EmbeddedPostgres, free_port
from hotline.shared.web.metrics import EVENTS_CONSUMED, OUTBOX_REPLAYED_EVENTS, OUTBOX_REPLAYS

GROUP = "bench-consumer"
OUTBOX = OutboxSettings(
    batch_size=500, idle_poll_seconds=0.02, broker_check_seconds=1.0, low_water_mark_seconds=1.0
)


async def fill(engine: AsyncEngine, tables: MessagingTables, events: int) -> None:
    now = business_now()
    rows = []
    for n in range(events):
        event = TicketReopened(
            source="/bench",
            subject=f"BENCH{n}",
            ticket_id=f"BENCH{n}",
            version=2,
            data=TicketReopenedData(ticket_no=f"BENCH{n}", reason="回访不满意", reopened_at=now),
        )
        rows.append(
            {
                "event_id": event.id,
                "event_type": event.type,
                "topic": event.topic,
                "key": event.key,
                "payload": event.model_dump(mode="json"),
            }
        )
    async with engine.begin() as connection:
        for start in range(0, len(rows), 5000):
            await connection.execute(insert(tables.outbox), rows[start : start + 5000])


async def count(engine: AsyncEngine, statement: Any) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(statement) or 0)


async def until(condition: Any, within: float) -> float:
    started = time.monotonic()
    while not await condition():
        if time.monotonic() - started > within:
            raise TimeoutError("not caught up in time")
        await asyncio.sleep(0.2)
    return time.monotonic() - started


async def scenario(events: int, low_water_mark: bool) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="hotline-bench-restart-"))
    postgres = EmbeddedPostgres(folder / "postgres")
    broker_server = EmbeddedBroker(free_port(), log_file=folder / "broker.log")
    engine = create_engine(postgres.start())
    broker_server.start()
    kafka = KafkaSettings(
        bootstrap=broker_server.bootstrap,
        session_timeout_ms=2000,
        heartbeat_interval_ms=300,
        fetch_max_wait_ms=10,
        request_timeout_ms=5000,
    )
    schema = f"bench_{uuid4().hex[:6]}"
    metadata = service_metadata(schema)
    tables = define_messaging_tables(metadata)
    async with engine.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        await connection.run_sync(metadata.create_all)
    broker = Broker(kafka, client_id="bench")
    # Without the mark: it is taken once, at the start (nothing consumed yet), never again.
    marks = OUTBOX if low_water_mark else OUTBOX.model_copy(update={"low_water_mark_seconds": 1e9})
    relay = OutboxRelay(
        service=schema,
        engine=engine,
        tables=tables,
        broker=broker,
        settings=marks,
        processed_retention=timedelta(days=1),
        consumer_groups={TICKETS_TOPIC: (GROUP,)},
    )

    async def applied(session: AsyncSession, event: Any) -> None:
        return None

    consumer = IdempotentConsumer(
        ConsumerSpec(GROUP, (TICKETS_TOPIC,), {"ticket.reopened": applied}),
        sessions=create_session_factory(engine),
        tables=tables,
        broker=broker,
        settings=ConsumerSettings(batch_max_records=1000),
    )
    processed = select(func.count()).select_from(tables.processed_events)
    unpublished = (
        select(func.count())
        .select_from(tables.outbox)
        .where(tables.outbox.c.published_at.is_(None))
    )
    stop = asyncio.Event()
    try:
        await fill(engine, tables, events)
        tasks = [asyncio.create_task(relay.run(stop)), asyncio.create_task(consumer.run(stop))]

        async def all_processed() -> bool:
            return await count(engine, processed) >= events

        first_pass = await until(all_processed, within=3600)
        await asyncio.sleep(3 * OUTBOX.low_water_mark_seconds)  # committed, and marked
        replays = OUTBOX_REPLAYS.labels(schema)
        duplicates = EVENTS_CONSUMED.labels(GROUP, "ticket.reopened", "duplicate")
        replays_before, duplicates_before = replays._value.get(), duplicates._value.get()
        replayed_before = OUTBOX_REPLAYED_EVENTS.labels(schema)._value.get()

        assert broker_server.pid is not None
        os.kill(broker_server.pid, signal.SIGKILL)
        restarted = time.monotonic()
        broker_server.start()

        async def caught_up() -> bool:
            """The relay adopted the new broker and sent all it had to, and the consumer has
            read every event sent again (each recognised by its id and skipped)."""
            if replays._value.get() <= replays_before or await count(engine, unpublished):
                return False
            sent = OUTBOX_REPLAYED_EVENTS.labels(schema)._value.get() - replayed_before
            return bool(duplicates._value.get() - duplicates_before >= sent)

        await until(caught_up, within=3600)
        replayed = int(OUTBOX_REPLAYED_EVENTS.labels(schema)._value.get() - replayed_before)
        catch_up = time.monotonic() - restarted
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        return {
            "events_in_window": events,
            "low_water_mark": low_water_mark,
            "first_pass_seconds": round(first_pass, 1),
            "replayed_after_restart": replayed,
            "catch_up_seconds": round(catch_up, 1),
            "applied_twice": await count(engine, processed) - events,
        }
    finally:
        stop.set()
        await broker.close()
        await engine.dispose()
        broker_server.stop()
        postgres.stop()


async def main(events: int) -> None:
    results = [await scenario(events, low_water_mark=mark) for mark in (True, False)]
    print(json.dumps(results, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "broker_restart.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    asyncio.run(main(parser.parse_args().events))
