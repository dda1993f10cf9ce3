"""Dispatch throughput, and the unit API's latency with 10,000 open tickets.

    .venv/bin/python -m bench.dispatch_flow [--tickets 10000] [--seconds 10] [--concurrency 8]

Starts its own embedded PostgreSQL and broker and dispatch as a uvicorn process, then (each
row with this process's own CPU share, `gen cpu`: the load generator's, near 1.0 meaning it,
not dispatch, may be the limit):
1. publishes `--tickets` forwarded `ticket.created` events (as intake would), spread over the
   units in the proportions of the bulletin's Attachment 1, and times them from the first sent
   to the last `ticket.dispatched` seen on the topic (consumed, routed, committed, relayed);
2. with all of them open, has the busiest unit (大祥区政府, ~22%) page through its list, and
   sign and reply to tickets, and reports p50/p99 of each call.
"""

import argparse
import asyncio
import random
import time
from uuid import uuid4

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench.harness import Figures, embedded_stack, figures, report, served
from hotline.dispatch.config import DEVELOPMENT_SUPERVISOR_TOKEN
from hotline.shared.domain.units import seed_units
from hotline.shared.messaging.events import (
    TICKETS_TOPIC,
    TicketCreated,
    parse_event,
    serialize_event,
)
from hotline.shared.messaging.kafka import Broker, event_topics
from hotline.shared.settings import KafkaSettings
from hotline.shared.stack.up import migrate_all
from tests.factories import ticket_created

BUSIEST = "大祥区政府"
Call = tuple[str, str, dict[str, object] | None]
REPLY = {
    "actions": "接单后当日派社区网格员到现场核实情况，并约谈相关责任单位负责人",
    "result": "问题已于次日整改完毕，已电话回复诉求人，诉求人表示认可。",
    "citizen_contacted": True,
}


def units_by_volume() -> tuple[list[str], list[int]]:
    units = [unit for unit in seed_units() if unit.kind != "hotline"]
    return [unit.name for unit in units], [unit.assigned_in_seed for unit in units]


def created(rng: random.Random, unit: str) -> TicketCreated:
    return ticket_created(
        f"SY{uuid4().hex[:14].upper()}",
        source="/hotline/intake",
        caller_salutation="张先生",
        request_type=rng.choice(["complaint", "help", "report", "consultation"]),
        category="社会服务类",
        location_code="430503" + f"{rng.randrange(10**6):06d}",
        address="大祥区",
        content="小区门口道路破损严重，雨天积水，居民出行不便，请尽快修复",
        suggested_unit=unit,
        agent_id="A001",
    )


async def dispatch_throughput(bootstrap: str, count: int) -> tuple[Figures, float]:
    rng = random.Random(7)
    names, weights = units_by_volume()
    events = [created(rng, unit) for unit in rng.choices(names, weights, k=count)]
    wanted = {event.subject for event in events}
    reader = AIOKafkaConsumer(
        TICKETS_TOPIC, bootstrap_servers=bootstrap, auto_offset_reset="latest", fetch_max_wait_ms=10
    )
    await reader.start()
    await reader.getmany(timeout_ms=500)  # take position before anything is sent
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    sent_at: dict[str, float] = {}
    started, cpu = time.perf_counter(), time.process_time()
    for event in events:
        await producer.send(TICKETS_TOPIC, serialize_event(event), key=event.key.encode())
        sent_at[event.subject] = time.perf_counter()
    await producer.flush()
    latencies: list[float] = []
    deadline = time.perf_counter() + 600
    while wanted and time.perf_counter() < deadline:
        for records in (await reader.getmany(timeout_ms=1000)).values():
            for record in records:
                seen = parse_event(record.value)
                if seen.type == "ticket.dispatched" and seen.subject in wanted:
                    wanted.discard(seen.subject)
                    latencies.append(time.perf_counter() - sent_at[seen.subject])
    elapsed = time.perf_counter() - started
    await producer.stop()
    await reader.stop()
    spent = time.process_time() - cpu
    mode = "created -> dispatched (end to end)"
    return figures("dispatch", mode, elapsed, latencies, len(wanted), spent), elapsed


async def unit_api(url: str, seconds: float, concurrency: int) -> list[Figures]:
    supervisor = {"Authorization": f"Bearer {DEVELOPMENT_SUPERVISOR_TOKEN}"}
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        units = (await client.get("/v1/units", headers=supervisor)).json()
        unit_id = next(u["unit_id"] for u in units if u["name"] == BUSIEST)
        key = (await client.post(f"/v1/units/{unit_id}/credentials", headers=supervisor)).json()
        headers = {"Authorization": f"Bearer {key['api_key']}"}
        first = (
            await client.get("/v1/unit/tickets", headers=headers, params={"page_size": 50})
        ).json()
        pages = max(1, first["total"] // 50)
        open_tickets = []
        for page in range(1, min(pages, 20) + 1):
            listed = await client.get(
                "/v1/unit/tickets", headers=headers, params={"page": page, "page_size": 50}
            )
            open_tickets += [t["ticket_no"] for t in listed.json()["items"]]

        async def timed(
            calls: list[tuple[str, str, dict[str, object] | None]], label: str
        ) -> Figures:
            latencies: list[float] = []
            errors = 0
            queue = list(calls)

            async def worker() -> None:
                nonlocal errors
                while queue:
                    method, path, body = queue.pop()
                    began = time.perf_counter()
                    response = await client.request(method, path, headers=headers, json=body)
                    latencies.append(time.perf_counter() - began)
                    errors += response.status_code >= 400

            began, cpu = time.perf_counter(), time.process_time()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            spent = time.process_time() - cpu
            return figures(BUSIEST, label, time.perf_counter() - began, latencies, errors, spent)

        rng = random.Random(3)
        page_path = "/v1/unit/tickets?page={}&page_size=50&state=dispatched"
        lists: list[Call] = [
            ("GET", page_path.format(rng.randrange(1, pages + 1)), None)
            for _ in range(int(seconds * 50))
        ]
        listing = await timed(lists, f"list, page of 50 of {first['total']}")
        batch = open_tickets[: int(seconds * 30)]
        signs: list[Call] = [("POST", f"/v1/unit/tickets/{t}/sign", None) for t in batch]
        signing = await timed(signs, "sign")
        replying = await timed(
            [("POST", f"/v1/unit/tickets/{t}/reply", REPLY) for t in batch], "reply (closes)"
        )
    return [listing, signing, replying]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    with embedded_stack() as stack:
        await migrate_all(stack.database_url)
        await Broker(KafkaSettings(bootstrap=stack.bootstrap), client_id="bench").ensure_topics(
            event_topics()
        )
        with served("hotline.dispatch.main:app", stack.env) as url:
            flow, elapsed = await dispatch_throughput(stack.bootstrap, args.tickets)
            calls = await unit_api(url, args.seconds, args.concurrency)
    report(
        "dispatch",
        [flow, *calls],
        {"dispatched_per_second": round(flow.requests / elapsed, 1) if elapsed else 0.0},
    )


if __name__ == "__main__":
    asyncio.run(main())
