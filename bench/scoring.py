"""Scoring's three numbers on this machine:

1. the rule engine's documents per second (every rule of Attachment 4 on a ticket with its call
   record and survey, the classifier included), on one core and on all of them;
2. the read model's events per second while its consumer works through a backlog on the broker
   (the real batch consumer, the real broker, the real PostgreSQL);
3. the units report (Attachment 1) over a month of 1,000,000 tickets.

    .venv/bin/python -m bench.scoring [--documents 20000] [--events 30000] [--tickets 1000000]
"""

import argparse
import asyncio
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer
from asgi_lifespan import LifespanManager
from sqlalchemy import func, select, text

from bench.harness import RESULTS, embedded_stack
from hotline.shared.db import create_engine
from hotline.shared.domain import quality
from hotline.shared.domain.classifier import default_classifier
from hotline.shared.messaging.events import serialize_event
from hotline.shared.stack.up import migrate_all
from tests.scoring.month import make_month

CONTENTS = [
    "翠园小区从昨天起停气，燃气公司没有提前通知，家里老人没法做饭，请求帮助尽快恢复",
    "市民来电咨询：在外省缴纳的养老保险如何转回邵阳续缴，需要哪些材料",
    "来电人反映其公司申请营业执照审批拖了两个月，企业无法开办，希望政务部门督促",
    "来电人反映小区物业乱收费，电梯长期故障无人维修，业主意见很大",
    "市民来电表扬18路公交车潘师傅热情耐心，认真回答乘客提问",
]


def documents(count: int) -> list[quality.TicketBundle]:
    now = datetime(2022, 1, 25, 12, tzinfo=UTC)
    out = []
    for n in range(count):
        accepted = now - timedelta(days=3, minutes=n % 600)
        out.append(
            quality.TicketBundle.model_validate(
                {
                    "ticket": {
                        "ticket_no": f"B{n}",
                        "channel": "phone",
                        "call_id": f"C{n}",
                        "caller_salutation": "刘女士",
                        "caller_number": "13907391234",
                        "request_type": "help",
                        "category": "生活服务类",
                        "location_code": "430503001",
                        "address": "大祥区翠园小区",
                        "content": CONTENTS[n % len(CONTENTS)] + f"（{n}）",
                        "handling_mode": "forward",
                        "status": "closed",
                        "resolution": "派抢修班组更换故障阀门，当日18时恢复供气并电话回复来电人。",
                        "accepted_at": accepted,
                        "updated_at": accepted + timedelta(days=1),
                        "dispatched_at": accepted + timedelta(minutes=20),
                        "dispatched_to": ["市燃气总公司"],
                        "replied_by": "市燃气总公司",
                        "replied_at": accepted + timedelta(hours=20),
                        "closed_at": accepted + timedelta(hours=20),
                    },
                    "call": {
                        "call_id": f"C{n}",
                        "started_at": accepted - timedelta(minutes=6),
                        "queued_at": accepted - timedelta(minutes=6) + timedelta(seconds=3),
                        "ringing_at": accepted - timedelta(minutes=5),
                        "connected_at": accepted - timedelta(minutes=5) + timedelta(seconds=4),
                        "ended_at": accepted - timedelta(minutes=1),
                        "talk_seconds": 236,
                        "recording_url": f"https://recordings.example/C{n}.wav",
                        "agent_id": "A1",
                    },
                    "survey": {
                        "outcome": "answered",
                        "satisfaction": "satisfied",
                        "completed_at": accepted + timedelta(days=1),
                    },
                }
            )
        )
    return out


def check_many(count: int) -> tuple[float, int]:
    """Check `count` fresh documents (built beforehand, each text new to the classifier's
    cache) in this process: (seconds, findings)."""
    context = quality.RuleContext(
        now=datetime(2022, 1, 25, 12, tzinfo=UTC), known_units=frozenset({"市燃气总公司"})
    )
    default_classifier().tokens("预热")
    batch = documents(count)
    started = time.perf_counter()
    found = sum(len(quality.check_ticket(document, context)) for document in batch)
    return time.perf_counter() - started, found


def rules_throughput(count: int) -> dict[str, Any]:
    seconds, found = check_many(count)
    workers = os.cpu_count() or 1
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(check_many, [200] * workers))
        timings = list(pool.map(check_many, [count // workers] * workers))
    slowest = max(elapsed for elapsed, _ in timings)
    return {
        "documents": count,
        "findings": found,
        "documents_per_second_one_core": round(count / seconds),
        "documents_per_second_all_cores": round(count // workers * workers / slowest),
        "cores": workers,
    }


async def read_model_throughput(servers: Any, events_wanted: int) -> dict[str, Any]:
    """Publish a backlog, then start scoring's consumer on it and time it through."""
    engine = create_engine(servers.database_url)
    events: list[Any] = []
    seed = 0
    while len(events) < events_wanted:
        events += make_month(seed=seed, tickets=500, first_day=date(2021, 1, 1)).events
        seed += 1
    events = events[:events_wanted]
    producer = AIOKafkaProducer(bootstrap_servers=servers.bootstrap, linger_ms=20)
    await producer.start()
    for start in range(0, len(events), 2000):
        sent = [
            await producer.send(e.topic, serialize_event(e), key=e.key.encode())
            for e in events[start : start + 2000]
        ]
        await asyncio.gather(*sent)
    await producer.stop()
    os.environ.update(servers.env)
    from hotline.scoring.main import app

    async with engine.connect() as connection:
        before = await connection.scalar(text("SELECT count(*) FROM scoring.processed_events"))
    started = time.perf_counter()
    first: float | None = None
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=60):
        while True:
            async with engine.connect() as connection:
                done = (
                    await connection.scalar(text("SELECT count(*) FROM scoring.processed_events"))
                    or 0
                ) - (before or 0)
            if first is None and done > 0:
                first = time.perf_counter()
            if done >= len(events):
                break
            await asyncio.sleep(0.1)
        finished = time.perf_counter()
    elapsed = finished - started
    working = finished - (first or started)
    async with engine.connect() as connection:
        tickets = await connection.scalar(text("SELECT count(*) FROM scoring.tickets"))
    await engine.dispose()
    return {
        "events": len(events),
        "seconds_from_start": round(elapsed, 1),
        "events_per_second_from_start": round(len(events) / elapsed),
        "seconds_consuming": round(working, 1),
        "events_per_second_consuming": round(len(events) / working),
        "tickets_folded": tickets,
    }


FILL = """
INSERT INTO scoring.tickets (ticket_no, period, accepted_at, channel, request_type, category,
    handling_mode, status, forwarded, unit_name, deadline, replied_at, closed_at,
    marked_overdue, reopen_count, satisfaction, version, updated_at)
SELECT 'M' || n, date '2021-03-01' + (n % 31), timestamptz '2021-03-01' + n * interval '2 seconds',
    'phone', 'help', '生活服务类',
    CASE WHEN n % 7 = 0 THEN 'forward' ELSE 'answered' END, 'closed', n % 7 = 0,
    CASE WHEN n % 7 = 0 THEN (ARRAY[{units}])[1 + n % {count}] ELSE '12345政务服务便民热线' END,
    timestamptz '2021-03-06' + n * interval '2 seconds',
    timestamptz '2021-03-05' + n * interval '2 seconds',
    timestamptz '2021-03-05' + n * interval '2 seconds',
    n % 997 = 0, 0,
    CASE WHEN n % 50 = 0 THEN 'unsatisfied' WHEN n % 13 = 0 THEN NULL ELSE 'satisfied' END,
    3, now()
FROM generate_series(1, {tickets}) AS n
"""


async def report_time(servers: Any, tickets: int) -> dict[str, Any]:
    from hotline.scoring import reports
    from hotline.shared.db import create_session_factory
    from hotline.shared.domain.units import seed_units

    engine = create_engine(servers.database_url)
    names = [unit.name for unit in seed_units() if unit.kind != "hotline"]
    units = ", ".join(f"'{name}'" for name in names)
    async with engine.begin() as connection:
        await connection.execute(text(FILL.format(units=units, count=len(names), tickets=tickets)))
        await connection.execute(text("ANALYZE scoring.tickets"))
    sessions = create_session_factory(engine)
    timings = []
    for _ in range(5):
        async with sessions() as session:
            started = time.perf_counter()
            report = await reports.units_report(
                session, date(2021, 3, 1), date(2021, 3, 31), datetime.now(UTC)
            )
            timings.append(time.perf_counter() - started)
    async with sessions() as session:
        counted = await session.scalar(select(func.count()).select_from(text("scoring.tickets")))
    await engine.dispose()
    return {
        "tickets_in_month": report.total.assigned,
        "tickets_in_table": counted,
        "seconds_best": round(min(timings), 3),
        "seconds_worst": round(max(timings), 3),
    }


async def main(arguments: argparse.Namespace) -> None:
    results: dict[str, Any] = {"rules": rules_throughput(arguments.documents)}
    print(json.dumps(results, indent=2))
    with embedded_stack() as servers:
        await migrate_all(servers.database_url)
        results["read_model"] = await read_model_throughput(servers, arguments.events)
        print(json.dumps(results["read_model"], indent=2))
        results["units_report"] = await report_time(servers, arguments.tickets)
    print(json.dumps(results, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "scoring.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=20_000)
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    asyncio.run(main(parser.parse_args()))
