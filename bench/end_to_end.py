"""The whole suite end to end: forwarded tickets from intake's webhook to `ticket.dispatched`, to
scoring's read model and to the province, beside the ceilings of the same stack.

    .venv/bin/python -m bench.end_to_end [--seconds 300] [--rate 200] [--rate-seconds 60]
        [--connections 32] [--profile all | --profile dispatch --profile scoring …]

On one embedded PostgreSQL and broker of its own, in this order:
1. the ceilings, on the quiet stack: a one-insert FastAPI endpoint (`bench/ceiling_app.py`)
   driven by `wrk`, and bare aiokafka produce → consume on the same broker;
2. the whole suite as `hotline up` starts it (the province and the five services, each a process;
   `Stack.start_suite`), then (a) intake's ticket webhook at full speed for `--seconds` with `wrk`
   replaying distinct pre-signed forwarded tickets (seed units and their categories,
   `bench.payloads.forwarded_ticket`): tickets/s *end to end*, those whose `ticket.dispatched`
   was published in the window (dispatch's outbox), and whether the backlog grew; (b) after the
   suite has caught up, `--rate` tickets/s for `--rate-seconds` from a paced client of its own
   (pre-signed requests, keep-alive connections, each send at its due time): the latency from
   each webhook's send to its `ticket.dispatched` being published, to scoring's read model
   holding the ticket as dispatched, and to the province's first acceptance of it; p50/p99.
Every figure comes with the generator's CPU share (wrk's, or this process's for the paced
client), each process's (cores, from /proc) and the machine's idle share; a figure is refused
when the generator was saturated (or the paced client fell behind its rate).

`--profile` records each named service (`all`: the five) with py-spy during (a), from 10 s in
for `--profile-seconds`, and prints where time goes (the functions most often on top of the
stack, ours and all). py-spy is not a dependency: `.venv/bin/pip install py-spy`. Sampling costs
CPU on two cores: a profiled run's figures are marked so, and are not the ones to quote.

Webhook timestamps must be within five minutes of their arrival: the full-speed requests are
signed with the middle of the run as their time, so `--seconds` may be up to about 500.
"""

import argparse
import asyncio
import json
import random
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from standardwebhooks.webhooks import Webhook

from bench import wrk
from bench.harness import RESULTS, cpu_seconds, machine_busy_idle, percentile, pid_listening
from bench.harness import served as served_app
from bench.payloads import forwarded_ticket, signed
from hotline.intake.config import DEVELOPMENT_CALL_CENTRE_SECRET
from hotline.shared import secrets
from hotline.shared.db import create_engine
from hotline.shared.messaging.events import TICKETS_TOPIC
from hotline.shared.messaging.kafka import Broker, event_topics
from hotline.shared.settings import KafkaSettings
from hotline.shared.stack.embedded import free_port
from hotline.shared.stack.services import SERVICES, SERVICES_BY_NAME
from hotline.shared.stack.up import PROVINCE, PrefixedOutput, Stack, StackSettings

SERVICE_NAMES = [service.name for service in SERVICES]
CEILING_SECONDS = 15.0
# Requests prepared per second of a ceiling run: more than it can take.
PREPARED_PER_SECOND = 3000
KAFKA_CEILING_MESSAGES = 50_000
# The size of a forwarded ticket's `ticket.created` envelope, about.
KAFKA_MESSAGE_BYTES = 1500
# Above this share of its one core, the paced client may be what holds the rate back.
CLIENT_SATURATED = 0.9
# The paced client kept its rate if it sent this share of what was due, on time.
RATE_KEPT = 0.97
LATE_SECONDS = 0.05
DRAIN_TIMEOUT_SECONDS = 900.0
PROFILE_DELAY_SECONDS = 10.0
# (outbox schema, event type) of the two steps a forwarded ticket's way is read from.
CREATED = ("intake", "ticket.created")
DISPATCHED = ("dispatch", "ticket.dispatched")


# --- the arithmetic (tested) ------------------------------------------------------------------


@dataclass
class Latencies:
    reached: int
    missing: int
    p50_ms: float
    p99_ms: float


def latencies(sent: dict[str, float], reached: dict[str, float]) -> Latencies:
    """From each sent item's time to the time it reached a stage; items never seen there are
    counted as missing, not as fast."""
    delays = [reached[key] - at for key, at in sent.items() if key in reached]
    return Latencies(
        len(delays),
        len(sent) - len(delays),
        round(percentile(delays, 0.5), 1),
        round(percentile(delays, 0.99), 1),
    )


def backlog_series(
    accepted: Iterable[float], dispatched: Iterable[float], start: float, end: float, step: float
) -> list[tuple[float, int]]:
    """(seconds into the window, accepted minus dispatched by then), every `step` seconds."""
    accepted, dispatched = sorted(accepted), sorted(dispatched)
    series, a, d = [], 0, 0
    at = start + step
    while at <= end + 1e-9:
        while a < len(accepted) and accepted[a] <= at:
            a += 1
        while d < len(dispatched) and dispatched[d] <= at:
            d += 1
        series.append((round(at - start, 1), a - d))
        at += step
    return series


def backlog_grew(series: Sequence[tuple[float, int]], rate: float) -> bool:
    """The backlog grew if it ended more than two seconds of work above where it stood after the
    first quarter of the window (the start, when the consumers get going, is left out)."""
    if len(series) < 4:
        return bool(series) and series[-1][1] > 2 * rate
    quarter = series[len(series) // 4 - 1][1]
    return series[-1][1] - quarter > 2 * max(rate, 1.0)


def due_times(count: int, rate: float, start: float) -> list[float]:
    """When each of `count` requests is due at `rate` per second from `start`."""
    return [start + index / rate for index in range(count)]


# --- 1. the ceilings ------------------------------------------------------------------------


def signed_requests(
    url: str, count: int, seed: int, at: datetime | None = None
) -> tuple[Path, list[str]]:
    """A wrk request file of `count` forwarded tickets and their source ticket ids."""
    secret, rng = Webhook(DEVELOPMENT_CALL_CENTRE_SECRET), random.Random(seed)
    bodies = [forwarded_ticket(rng) for _ in range(count)]
    webhooks = [signed(secret, body, at) for body in bodies]
    path = wrk.write_requests(url, (("/v1/tickets", headers, raw) for raw, headers in webhooks))
    return path, [str(body["source_ticket_id"]) for body in bodies]


def drive(
    url: str, seconds: float, connections: int, target: str, count: int, seed: int, **kw: Any
) -> wrk.WrkRun:
    requests, _ = signed_requests(url, count, seed, kw.pop("at", None))
    return wrk.replay(
        url,
        requests,
        seconds=seconds,
        connections=connections,
        target=target,
        server_pid=pid_listening(url),
        **kw,
    )


@dataclass
class KafkaCeiling:
    messages: int
    seconds: float
    rate: float
    message_bytes: int
    client_cpu: float  # share of one core: produce and consume in this one process
    broker_cpu: float  # cores
    machine_idle: float
    client_bound: bool


async def kafka_ceiling(bootstrap: str, broker_pid: int, count: int) -> KafkaCeiling:
    """Bare aiokafka: `count` messages produced (acks all, as the relays do) and consumed by one
    consumer on the same broker, from the first send to the last received."""
    topic = "bench.ceiling"
    partitions = event_topics()[TICKETS_TOPIC]
    broker = Broker(KafkaSettings(bootstrap=bootstrap), client_id="bench")
    await broker.ensure_topics({topic: partitions})
    await broker.close()
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", fetch_max_wait_ms=50
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await consumer.start()
    await producer.start()
    value = b"x" * KAFKA_MESSAGE_BYTES
    received = 0
    broker_before, machine_before = cpu_seconds(broker_pid), machine_busy_idle()
    started, cpu = time.perf_counter(), time.process_time()

    async def consume() -> None:
        nonlocal received
        while received < count:
            for records in (await consumer.getmany(timeout_ms=1000, max_records=5000)).values():
                received += len(records)

    reading = asyncio.create_task(consume())
    for _ in range(count):
        await producer.send(topic, value, key=uuid4().bytes)
    await producer.flush()
    await asyncio.wait_for(reading, 300)
    elapsed = time.perf_counter() - started
    client = (time.process_time() - cpu) / elapsed
    broker_cpu = (cpu_seconds(broker_pid) - broker_before) / elapsed
    idle = _idle_since(machine_before)
    await producer.stop()
    await consumer.stop()
    return KafkaCeiling(
        count,
        round(elapsed, 1),
        round(count / elapsed, 1),
        KAFKA_MESSAGE_BYTES,
        round(client, 2),
        round(broker_cpu, 2),
        idle,
        client >= wrk.GENERATOR_SATURATED,
    )


def _idle_since(before: tuple[int, int]) -> float:
    (busy_after, idle_after), (busy_before, idle_before) = machine_busy_idle(), before
    busy, idle = busy_after - busy_before, idle_after - idle_before
    return round(idle / (busy + idle), 3) if busy + idle else 0.0


# --- the suite's processes and what they cost -------------------------------------------------


class Processes:
    """The pids of the suite's parts, and their CPU between two readings."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack

    def pids(self) -> dict[str, int]:
        pids = {name: process.pid for name, process in self.stack.processes.items()}
        pids["postgres"] = _postmaster_pid(self.stack)
        broker_pid = self.stack.broker.pid
        if broker_pid is not None:
            pids["broker"] = broker_pid
        return pids

    def reading(self) -> dict[str, float]:
        return {name: cpu_seconds(pid) for name, pid in self.pids().items()}

    def all_alive(self) -> list[str]:
        return [name for name, p in self.stack.processes.items() if p.poll() is not None]


def _postmaster_pid(stack: Stack) -> int:
    """PostgreSQL's postmaster: its first line of postmaster.pid (its backends are its
    children, counted with it)."""
    return int((stack.postgres.data_dir / "postmaster.pid").read_text().split()[0])


def cpu_shares(
    before: dict[str, float], after: dict[str, float], seconds: float
) -> dict[str, float]:
    return {name: round((after[name] - before.get(name, 0.0)) / seconds, 2) for name in after}


# --- what the services' tables say --------------------------------------------------------------


class Tables:
    """Post-hoc reads of the services' own tables: nothing polls the suite while it runs. Each
    read has its own connection (the benchmark runs one event loop per step)."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection]:
        engine = create_engine(self.database_url, pool_size=1)
        try:
            async with engine.connect() as connection:
                yield connection
        finally:
            await engine.dispose()

    async def rows(self, sql: str, **params: Any) -> list[Any]:
        async with self.connection() as connection:
            return list((await connection.execute(text(sql), params)).all())

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.connection() as connection:
            return await connection.scalar(text(sql), params)

    async def progress(self) -> tuple[int, ...]:
        """What moves while the suite works: unpublished outbox rows, dispatched tickets,
        scoring's tickets, documents pending upload, documents the province accepted."""
        queries = [
            "SELECT "
            + " + ".join(
                f"(SELECT count(*) FROM {schema}.outbox WHERE published_at IS NULL)"
                for schema in ("intake", "dispatch", "callback", "scoring", "provincial_sync")
            ),
            "SELECT count(*) FROM dispatch.tickets WHERE dispatched_at IS NOT NULL",
            "SELECT count(*) FROM scoring.tickets WHERE forwarded",
            "SELECT count(*) FROM provincial_sync.documents WHERE status = 'pending'",
            "SELECT count(*) FROM provincial_sync.documents WHERE accepted_at IS NOT NULL",
        ]
        async with self.connection() as connection:
            return tuple([await connection.scalar(text(query)) for query in queries])

    async def drained(self, limit_seconds: float = DRAIN_TIMEOUT_SECONDS) -> float:
        """Wait until every outbox is published and nothing has moved for three seconds; how
        long it took."""
        started = time.monotonic()
        last, still = None, 0
        while time.monotonic() - started < limit_seconds:
            now = await self.progress()
            still = still + 1 if now == last and now[0] == 0 and now[3] == 0 else 0
            if still >= 3:
                return round(time.monotonic() - started - 3, 1)
            last = now
            await asyncio.sleep(1)
        raise TimeoutError(f"the suite did not catch up in {limit_seconds:.0f}s: {last}")

    async def created_at(self, start: datetime, end: datetime) -> list[float]:
        """When intake committed each forwarded ticket of the window (its `ticket.created`)."""
        rows = await self.rows(
            "SELECT created_at FROM intake.outbox WHERE event_type = 'ticket.created'"
            " AND created_at >= :start AND created_at < :end",
            start=start,
            end=end,
        )
        return [row[0].timestamp() for row in rows]

    async def published(self, schema: str, event_type: str, since: datetime) -> dict[str, float]:
        """Ticket number → when its first `event_type` left `schema`'s outbox (the relay's time,
        once the broker had it)."""
        rows = await self.rows(
            f"SELECT key, min(published_at) FROM {schema}.outbox"
            " WHERE event_type = :type AND published_at >= :since GROUP BY key",
            type=event_type,
            since=since,
        )
        return {key: at.timestamp() for key, at in rows}

    async def ticket_numbers(self, source_ids: Sequence[str]) -> dict[str, str]:
        rows = await self.rows(
            "SELECT source_ticket_id, ticket_no FROM intake.tickets"
            " WHERE source_ticket_id = ANY(:ids)",
            ids=list(source_ids),
        )
        return dict(rows)

    async def scored_dispatched(self, ticket_nos: Sequence[str]) -> dict[str, float]:
        """Ticket number → when scoring's read model took it as dispatched (the transaction's
        time: nothing later touches these tickets in the run)."""
        rows = await self.rows(
            "SELECT ticket_no, updated_at FROM scoring.tickets"
            " WHERE ticket_no = ANY(:nos) AND forwarded",
            nos=list(ticket_nos),
        )
        return {no: at.timestamp() for no, at in rows}

    async def intake_statuses(self, ticket_nos: Sequence[str]) -> dict[str, int]:
        """How intake left the tickets (a repeat it matched is not forwarded: not dispatched)."""
        rows = await self.rows(
            "SELECT status, count(*) FROM intake.tickets WHERE ticket_no = ANY(:nos)"
            " GROUP BY status",
            nos=list(ticket_nos),
        )
        return dict(rows)

    async def gate_blocked(self, ticket_nos: Sequence[str]) -> dict[str, int]:
        rows = await self.rows(
            "SELECT status, count(*) FROM provincial_sync.documents"
            " WHERE kind = 'ticket' AND record_id = ANY(:nos) GROUP BY status",
            nos=list(ticket_nos),
        )
        return dict(rows)


def province_accepted(province_url: str) -> dict[str, float]:
    """Ticket number → when the province first accepted a version of it (its own clock)."""
    answer = httpx.get(
        f"{province_url}/admin/arrivals",
        params={"record_type": "ticket", "limit": 100_000},
        headers={"Authorization": f"Bearer {secrets.DEVELOPMENT_PROVINCE_ADMIN_TOKEN}"},
        timeout=60,
    )
    answer.raise_for_status()
    first: dict[str, float] = {}
    for arrival in answer.json()["data"]["arrivals"]:
        if arrival["code"] in ("0", "1001"):
            at = datetime.fromisoformat(arrival["received_at"]).timestamp()
            first[arrival["record_id"]] = min(at, first.get(arrival["record_id"], at))
    return first


# --- 2a. full speed -------------------------------------------------------------------------------


@dataclass
class Sustained:
    seconds: float
    webhooks_accepted: int
    webhook_rate: float
    dispatched: int
    end_to_end_rate: float
    # The second half of the window alone: the rate once the consumers were going.
    end_to_end_rate_second_half: float
    # `ticket.created` published by intake's relay, per second in the window.
    relayed_rate: float
    # Accepted by intake but not dispatched yet, every twentieth of the window; and of those,
    # the tickets intake's relay had not published yet.
    backlog: list[tuple[float, int]]
    backlog_at_intake_relay: list[tuple[float, int]]
    backlog_grew: bool
    drained_after_seconds: float
    wrk: dict[str, object]
    cpu: dict[str, float]
    profiled: bool
    generator_bound: bool


# --- 2b. the paced client ---------------------------------------------------------------------


@dataclass
class Paced:
    rate_asked: float
    seconds: float
    sent: int
    rate_sent: float
    errors: int
    late_share: float  # sent more than LATE_SECONDS after its due time
    client_cpu: float
    machine_idle: float
    kept_rate: bool
    sent_at: dict[str, float] = field(repr=False, default_factory=dict)


async def paced(
    url: str, requests: list[tuple[str, bytes]], rate: float, connections: int
) -> tuple[Paced, dict[str, float]]:
    """Send each pre-signed request at its due time (`rate` per second), spread over
    `connections` keep-alive connections (request i on connection i mod n, which has answered
    the one before it by then at this rate, or the send is late); each source ticket id → its
    send time (the wall clock, as the services' tables keep)."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.5
    due = due_times(len(requests), rate, start)
    # A suite that cannot take the rate would hold the client for ever: it stops at this, and
    # what it had not sent counts against the rate.
    deadline = start + len(requests) / rate * 1.25 + 5
    sent_at: dict[str, float] = {}
    statuses: Counter[int] = Counter()
    late = 0
    machine_before, cpu = machine_busy_idle(), time.process_time()

    async def connection(first: int) -> None:
        nonlocal late
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for index in range(first, len(requests), connections):
                if loop.time() > deadline:
                    break
                wait = due[index] - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                elif -wait > LATE_SECONDS:
                    late += 1
                source_id, raw = requests[index]
                sent_at[source_id] = time.time()
                writer.write(raw)
                statuses[await _status(reader)] += 1
        finally:
            writer.close()

    await asyncio.gather(*(connection(k) for k in range(connections)))
    elapsed = loop.time() - start
    client = (time.process_time() - cpu) / elapsed
    errors = sum(count for status, count in statuses.items() if status != 201)
    run = Paced(
        rate,
        round(elapsed, 1),
        len(sent_at),
        round(len(sent_at) / elapsed, 1),
        errors,
        round(late / max(len(requests), 1), 3),
        round(client, 2),
        _idle_since(machine_before),
        False,
    )
    run.kept_rate = (
        client < CLIENT_SATURATED
        and run.rate_sent >= RATE_KEPT * rate
        and run.late_share <= 1 - RATE_KEPT
    )
    return run, sent_at


async def _status(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 response (its body by Content-Length); its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(
        (
            int(line.split(":", 1)[1])
            for line in lines
            if line.lower().startswith("content-length:")
        ),
        0,
    )
    await reader.readexactly(length)
    return int(lines[0].split()[1])


def raw_requests(url: str, count: int, seed: int) -> list[tuple[str, bytes]]:
    path, source_ids = signed_requests(url, count, seed)
    try:
        data, out, at = path.read_bytes(), [], 0
        for source_id in source_ids:
            newline = data.index(b"\n", at)
            size = int(data[at:newline])
            out.append((source_id, data[newline + 1 : newline + 1 + size]))
            at = newline + 1 + size
        return out
    finally:
        path.unlink()


# --- 4. profiles ----------------------------------------------------------------------------------


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(wrk.__file__).parents[1] / ".venv/bin/py-spy")
    if not Path(found).exists():
        raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
    return found


class Profiles:
    """py-spy on each named service, started after a delay, in raw (collapsed) form."""

    def __init__(self, pids: dict[str, int], seconds: float, folder: Path) -> None:
        self.pids, self.seconds, self.folder = pids, seconds, folder
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.timer = threading.Timer(PROFILE_DELAY_SECONDS, self._start)

    def _start(self) -> None:
        for name, pid in self.pids.items():
            command = [
                py_spy(),
                *("record", "--pid", str(pid), "--duration", f"{self.seconds:.0f}"),
                *("--rate", "50", "--nonblocking", "--format", "raw"),
                *("--output", str(self.folder / f"{name}.txt")),
            ]
            self.processes[name] = subprocess.Popen(
                command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )

    def __enter__(self) -> "Profiles":
        self.timer.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.timer.join()
        for process in self.processes.values():
            process.wait(timeout=self.seconds + 60)

    def summaries(self, top: int = 12) -> dict[str, dict[str, Any]]:
        return {
            name: summarise((self.folder / f"{name}.txt").read_text(), top)
            for name in self.pids
            if (self.folder / f"{name}.txt").exists()
        }


# Where our code lives, as py-spy shortens its file names (`dispatch/service.py`).
OUR_ROOTS = frozenset({"shared", *(service.package.split(".")[1] for service in SERVICES)})
# Frames every sample starts with: the interpreter, the CLI, uvicorn, the event loop.
OUTER = ("<frozen runpy>", "asyncio/", "uvicorn/main.py", "uvicorn/server.py", "uvicorn/_compat")


def summarise(collapsed: str, top: int = 12) -> dict[str, Any]:
    """py-spy's collapsed stacks (`frame;frame;… count` per line): the share of samples in each
    task (the first frame inside the event loop: a consumer, the relay, an HTTP request), each
    function is on top of (self), and each of our own functions is anywhere in (inclusive)."""
    tasks: Counter[str] = Counter()
    own: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_function(frame) for frame in stack.split(";")]
        total += count
        own[frames[-1]] += count
        inner = [f for f in frames if not _file(f).startswith(OUTER) and "stack/cli.py" not in f]
        tasks[inner[0] if inner else "the event loop itself"] += count
        for name in {frame for frame in frames if _file(frame).split("/")[0] in OUR_ROOTS}:
            ours[name] += count
    total = max(total, 1)

    def shares(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(name, round(n / total, 3)) for name, n in counter.most_common(top)]

    return {
        "samples": total,
        "tasks": shares(tasks),
        "self": shares(own),
        "ours_inclusive": shares(ours),
    }


def _function(frame: str) -> str:
    """`function (path/to/module.py:line)` → `function (to/module.py)`, without the line."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    return f"{name} ({'/'.join(Path(path).parts[-2:])})" if path else name


def _file(function: str) -> str:
    return function.rpartition(" (")[2].rstrip(")")


# --- the run --------------------------------------------------------------------------------------


def free_offset(wanted: int) -> int:
    """`wanted`, or the next thousand above it, where none of the suite's ports is taken."""
    offset = wanted
    ports = [service.port for service in SERVICES] + [8009]
    while offset < 50_000:
        if all(_port_free(port + offset) for port in ports):
            return offset
        offset += 1000
    raise SystemExit("no free port offset")


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=300.0, help="the full-speed window")
    parser.add_argument("--rate", type=float, default=200.0, help="the paced run's tickets/s")
    parser.add_argument("--rate-seconds", type=float, default=60.0)
    parser.add_argument("--connections", type=int, default=32, help="wrk's, at full speed")
    parser.add_argument("--rate-connections", type=int, default=32)
    parser.add_argument("--ceiling-seconds", type=float, default=CEILING_SECONDS)
    parser.add_argument("--kafka-messages", type=int, default=KAFKA_CEILING_MESSAGES)
    parser.add_argument("--port-offset", type=int, default=26_000)
    parser.add_argument(
        "--profile",
        action="append",
        default=[],
        choices=[*SERVICE_NAMES, "all"],
        help="py-spy this service under the full-speed load (repeatable; all: the five)",
    )
    parser.add_argument("--profile-seconds", type=float, default=30.0)
    args = parser.parse_args()
    wrk.wrk_binary()
    profiled = SERVICE_NAMES if "all" in args.profile else args.profile
    if profiled:
        py_spy()
    if args.seconds > 500:
        raise SystemExit("--seconds up to 500: the webhooks' timestamps allow five minutes")

    var_dir = Path(tempfile.mkdtemp(prefix="hotline-bench-e2e-"))
    log = (var_dir / "suite.log").open("w")
    offset = free_offset(args.port_offset)
    stack = Stack(
        StackSettings(var_dir=var_dir, embedded_kafka_port=free_port(), port_offset=offset),
        output=PrefixedOutput([PROVINCE, *SERVICE_NAMES], stream=log),
    )
    results: dict[str, Any] = {"suite_log": str(var_dir / "suite.log")}
    try:
        servers = stack.start_servers()
        servers.env["HOTLINE_LOG_LEVEL"] = "warning"
        broker_pid = stack.broker.pid
        assert broker_pid is not None

        # 1. The ceilings, on the quiet stack.
        with served_app("bench.ceiling_app:app", servers.env) as ceiling_url:
            drive(ceiling_url, 3, args.connections, "warm-up", 3 * PREPARED_PER_SECOND, 1)
            prepared = int(args.ceiling_seconds * PREPARED_PER_SECOND)
            ceiling = drive(
                ceiling_url, args.ceiling_seconds, args.connections, "ceiling", prepared, 2
            )
        kafka = asyncio.run(kafka_ceiling(servers.bootstrap, broker_pid, args.kafka_messages))
        results["ceilings"] = {"http_insert": ceiling.as_dict(), "kafka": asdict(kafka)}
        print(
            f"ceiling, one-insert endpoint: {ceiling.rate}/s (wrk {ceiling.generator_cpu}, "
            f"server {ceiling.server_cpu} cores, idle {ceiling.machine_idle})"
        )
        print(
            f"ceiling, aiokafka produce → consume: {kafka.rate} messages/s of "
            f"{kafka.message_bytes} B (client {kafka.client_cpu}, broker {kafka.broker_cpu} "
            f"cores, idle {kafka.machine_idle})"
        )

        # 2. The whole suite.
        stack.start_suite(servers)
        stack.wait_until_ready(lambda: False)
        intake_url = stack.url(SERVICES_BY_NAME["intake"])
        processes = Processes(stack)
        tables = Tables(servers.database_url)

        # A short full-speed warm-up: how fast intake goes, so enough requests are prepared.
        warm = drive(intake_url, 5, args.connections, "warm-up", 5000, 3)
        asyncio.run(tables.drained())
        prepared = int(max(warm.rate, 50) * 1.6 * args.seconds) + 1000

        # 2a. Full speed for --seconds.
        requests_file, _ = signed_requests(
            intake_url,
            prepared,
            4,
            at=datetime.now(UTC) + timedelta(seconds=args.seconds / 2 + 30),
        )
        window_start = datetime.now(UTC)
        cpu_before = processes.reading()
        profile_folder = var_dir / "profiles"
        profile_folder.mkdir()
        pids = {name: pid for name, pid in processes.pids().items() if name in profiled}
        profiles = Profiles(pids, args.profile_seconds, profile_folder)
        try:
            if profiled:
                profiles.__enter__()
            full = wrk.run(
                intake_url,
                requests_file,
                seconds=args.seconds,
                connections=args.connections,
                target="intake (suite)",
                server_pid=pid_listening(intake_url),
            )
            window_end = datetime.now(UTC)
            window = (window_end - window_start).total_seconds()
            cpu = cpu_shares(cpu_before, processes.reading(), window)
            cpu["generator (wrk)"] = full.generator_cpu
            cpu["machine idle"] = full.machine_idle
        finally:
            requests_file.unlink()
            if profiled:
                profiles.__exit__()
        died = processes.all_alive()
        drain = asyncio.run(tables.drained())
        accepted = asyncio.run(tables.created_at(window_start, window_end))
        start_ts, end_ts = window_start.timestamp(), window_end.timestamp()
        relayed, published = (
            [
                at
                for at in asyncio.run(tables.published(*stage, window_start)).values()
                if at < end_ts
            ]
            for stage in (CREATED, DISPATCHED)
        )
        in_window = published
        middle = start_ts + window / 2
        step = max(window / 20, 1)
        series = backlog_series(accepted, in_window, start_ts, end_ts, step)
        e2e_rate = len(in_window) / window
        sustained = Sustained(
            seconds=round(window, 1),
            webhooks_accepted=len(accepted),
            webhook_rate=round(len(accepted) / window, 1),
            dispatched=len(in_window),
            end_to_end_rate=round(e2e_rate, 1),
            end_to_end_rate_second_half=round(
                sum(1 for at in in_window if at >= middle) / (window / 2), 1
            ),
            relayed_rate=round(len(relayed) / window, 1),
            backlog=series,
            backlog_at_intake_relay=backlog_series(accepted, relayed, start_ts, end_ts, step),
            backlog_grew=backlog_grew(series, e2e_rate),
            drained_after_seconds=drain,
            wrk=full.as_dict(),
            cpu=cpu,
            profiled=bool(profiled),
            generator_bound=full.generator_bound,
        )
        results["sustained"] = asdict(sustained) | {
            "processes_died": died,
            # wrk stops when its requests run out: then the window is shorter than asked.
            "requests_ran_out": full.requests >= prepared,
        }
        if profiled:
            results["profiles"] = profiles.summaries()

        # 2b. The paced run.
        count = int(args.rate * args.rate_seconds)
        requests = raw_requests(intake_url, count, 5)
        cpu_before = processes.reading()
        run, sent_at = asyncio.run(paced(intake_url, requests, args.rate, args.rate_connections))
        run_cpu = cpu_shares(cpu_before, processes.reading(), run.seconds)
        run_cpu["generator (paced client)"] = run.client_cpu
        run_cpu["machine idle"] = run.machine_idle
        asyncio.run(tables.drained())
        numbers = asyncio.run(tables.ticket_numbers(list(sent_at)))
        sent_by_no = {numbers[s]: at for s, at in sent_at.items() if s in numbers}
        since = datetime.fromtimestamp(min(sent_at.values()), UTC) - timedelta(seconds=1)
        stages = {
            "ticket.created published": asyncio.run(tables.published(*CREATED, since)),
            "dispatched": asyncio.run(tables.published(*DISPATCHED, since)),
            "scoring": asyncio.run(tables.scored_dispatched(list(sent_by_no))),
            "province": province_accepted(stack.province_url),
        }
        results["paced"] = {
            **{k: v for k, v in asdict(run).items() if k != "sent_at"},
            "cpu": run_cpu,
            "latency": {
                stage: asdict(latencies(sent_by_no, reached)) for stage, reached in stages.items()
            },
            "intake_status": asyncio.run(tables.intake_statuses(list(sent_by_no))),
            "gate": asyncio.run(tables.gate_blocked(list(sent_by_no))),
        }
    finally:
        stack.stop()
        log.close()
    print_report(results)
    RESULTS.mkdir(exist_ok=True)
    suffix = "-profiled" if profiled else ""
    out = RESULTS / f"end_to_end{suffix}.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"written to {out}")


def _last(series: list[tuple[float, int]]) -> int:
    return series[-1][1] if series else 0


def print_report(results: dict[str, Any]) -> None:
    sustained = results["sustained"]
    print(
        f"\nfull speed, {sustained['seconds']} s: intake accepted {sustained['webhook_rate']}/s "
        f"(its relay published {sustained['relayed_rate']}/s), "
        f"end to end (ticket.dispatched published) {sustained['end_to_end_rate']}/s "
        f"({sustained['end_to_end_rate_second_half']}/s over the second half); backlog "
        f"{'grew' if sustained['backlog_grew'] else 'held'} "
        f"(at the end {_last(sustained['backlog'])}, of which "
        f"{_last(sustained['backlog_at_intake_relay'])} not yet published by intake); caught up "
        f"{sustained['drained_after_seconds']} s after"
    )
    if sustained["generator_bound"]:
        print("  no figure: wrk was the limit")
    if sustained["requests_ran_out"]:
        print("  wrk ran out of prepared requests: the window is shorter than asked")
    if sustained["processes_died"]:
        print(f"  processes died: {sustained['processes_died']}")
    print("  CPU (cores, or share): " + ", ".join(f"{k} {v}" for k, v in sustained["cpu"].items()))
    paced_run = results["paced"]
    verdict = "kept" if paced_run["kept_rate"] else "NOT kept: no latency figure"
    print(
        f"\npaced, {paced_run['rate_asked']}/s asked, {paced_run['rate_sent']}/s sent over "
        f"{paced_run['seconds']} s ({verdict}; {paced_run['errors']} errors, "
        f"{paced_run['late_share']:.1%} late)"
    )
    for stage, figures in paced_run["latency"].items():
        print(
            f"  webhook → {stage:<24} p50 {figures['p50_ms']:>8} ms  p99 {figures['p99_ms']:>8} ms"
            f"  ({figures['reached']} reached, {figures['missing']} not)"
        )
    print(f"  intake's tickets by status: {paced_run['intake_status']}")
    print(f"  provincial-sync documents by status: {paced_run['gate']}")
    print("  CPU (cores, or share): " + ", ".join(f"{k} {v}" for k, v in paced_run["cpu"].items()))
    for name, summary in results.get("profiles", {}).items():
        print(f"\nprofile of {name} ({summary['samples']} samples), by task:")
        for function, share in summary["tasks"]:
            print(f"  {share:6.1%}  {function}")
        print("  on top of the stack:")
        for function, share in summary["self"]:
            print(f"  {share:6.1%}  {function}")
        print("  our functions, anywhere in the stack:")
        for function, share in summary["ours_inclusive"]:
            print(f"  {share:6.1%}  {function}")


if __name__ == "__main__":
    main()
