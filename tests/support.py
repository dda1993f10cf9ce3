"""What the service tests share: a service app running on the test servers, and the outbox read
back as the events a service announced."""

import asyncio
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import IO

import httpx
import pytest
import uvicorn
from aiokafka import AIOKafkaProducer
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.callback.models import TicketView
from hotline.dispatch.models import DispatchTicket
from hotline.dispatch.models import messaging as dispatch_messaging
from hotline.shared.messaging.events import Event, serialize_event
from hotline.shared.messaging.tables import MessagingTables
from tests.conftest import TEST_KAFKA_TUNING, Servers, process_log
from tests.documented_statuses import recording


@contextmanager
def service_environment(servers: Servers, **settings: str) -> Iterator[None]:
    """The test servers and `settings` as `HOTLINE_*` environment variables, for as long as the
    block runs (a service reads them when its lifespan starts)."""
    patch = pytest.MonkeyPatch()
    patch.setenv("HOTLINE_ENVIRONMENT", "test")
    patch.setenv("HOTLINE_DATABASE_URL", servers.database_url)
    patch.setenv("HOTLINE_KAFKA_BOOTSTRAP", servers.kafka_bootstrap)
    for name, tuning in TEST_KAFKA_TUNING.items():
        patch.setenv(f"HOTLINE_KAFKA_{name.upper()}", str(tuning))
    patch.setenv("HOTLINE_OUTBOX_IDLE_POLL_SECONDS", "0.02")
    for name, value in settings.items():
        patch.setenv(f"HOTLINE_{name.upper()}", value)
    try:
        yield
    finally:
        patch.undo()


@asynccontextmanager
async def running(
    app: FastAPI, servers: Servers, **settings: str
) -> AsyncIterator[httpx.AsyncClient]:
    """Start `app` (its relay, consumers and timers too) on the test servers with `settings` as
    `HOTLINE_*` environment variables, and a client that calls it in-process."""
    with service_environment(servers, **settings):
        async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30) as manager:
            transport = httpx.ASGITransport(app=recording(app, manager.app))
            async with httpx.AsyncClient(transport=transport, base_url="http://service") as http:
                yield http


@asynccontextmanager
async def serving(
    app: FastAPI, servers: Servers, port: int, **settings: str
) -> AsyncIterator[httpx.AsyncClient]:
    """Like `running`, but on a real port (for what must call it over HTTP), with a client."""
    with service_environment(servers, **settings):
        config = uvicorn.Config(recording(app), host="127.0.0.1", port=port, log_level="warning")
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        try:
            await wait_until(
                lambda: _started(server, task), within=30, what="the service to listen"
            )
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                yield http
        finally:
            server.should_exit = True
            await task


async def _started(server: uvicorn.Server, task: "asyncio.Task[None]") -> bool:
    if task.done():
        task.result()  # raises what stopped it
        raise AssertionError("the server stopped before it listened")
    return bool(server.started)


async def announced(engine: AsyncEngine, tables: MessagingTables, key: str) -> list[str]:
    """The types of the events a service wrote to its outbox under `key`, in order."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(tables.outbox.c.event_type)
            .where(tables.outbox.c.key == key)
            .order_by(tables.outbox.c.id)
        )
        return list(rows.scalars())


async def until_held(engine: AsyncEngine, tickets: list[str], within: float = 90) -> None:
    """Wait until dispatch and callback hold every one of `tickets` (or `within` passes)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        counts = await held_counts(engine, tickets)
        if counts["dispatched once"] == counts["callback holds"] == len(tickets):
            return
        await asyncio.sleep(0.5)


async def held_counts(engine: AsyncEngine, tickets: list[str]) -> dict[str, int]:
    """Of these forwarded tickets: how many dispatch holds, how many it dispatched exactly
    once, how many callback knows (with their request type), and how many events are parked
    in any service."""
    outbox = dispatch_messaging.outbox
    async with engine.connect() as connection:
        held = await connection.scalar(
            select(func.count()).where(DispatchTicket.ticket_no.in_(tickets))
        )
        dispatched = await connection.execute(
            select(outbox.c.key, func.count())
            .where(outbox.c.key.in_(tickets), outbox.c.event_type == "ticket.dispatched")
            .group_by(outbox.c.key)
        )
        once = sum(1 for _key, count in dispatched.all() if count == 1)
        viewed = await connection.scalar(
            select(func.count()).where(
                TicketView.ticket_no.in_(tickets), TicketView.request_type.is_not(None)
            )
        )
        parked = 0
        for schema in ("intake", "dispatch", "callback", "scoring", "provincial_sync"):
            parked += int(
                await connection.scalar(text(f"SELECT count(*) FROM {schema}.parked_events")) or 0
            )
    return {
        "dispatch holds": int(held or 0),
        "dispatched once": once,
        "callback holds": int(viewed or 0),
        "parked": parked,
    }


async def wait_until(
    condition: Callable[[], Awaitable[bool]], within: float = 30.0, what: str = "condition"
) -> None:
    """Poll `condition` until it holds; fail, naming `what`, if it does not within `within` s."""
    deadline = time.monotonic() + within
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {within}s")
        await asyncio.sleep(0.05)


async def publish(servers: Servers, events: Iterable[Event]) -> None:
    """Put events on their topics, keyed as the relays key them (not through any outbox)."""
    producer = AIOKafkaProducer(bootstrap_servers=servers.kafka_bootstrap, linger_ms=5)
    await producer.start()
    try:
        sent = [
            await producer.send(event.topic, serialize_event(event), key=event.key.encode())
            for event in events
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def uploads_settled(
    engine: AsyncEngine, tickets: list[str], within: float = 90
) -> dict[str, int]:
    """Provincial-sync's documents of these tickets by status, once each has one and none is
    left pending (uploaded, `synced`, or held back by the gate, `blocked`), or `within` passes."""
    deadline, by_status = time.monotonic() + within, {}
    while time.monotonic() < deadline:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text(
                    "SELECT status, count(*) FROM provincial_sync.documents "
                    "WHERE kind = 'ticket' AND record_id = ANY(:tickets) GROUP BY status"
                ),
                {"tickets": tickets},
            )
            by_status = {status: int(n) for status, n in rows}
        if sum(by_status.values()) == len(tickets) and set(by_status) <= {"synced", "blocked"}:
            break
        await asyncio.sleep(0.5)
    return by_status


class ProcessOutput:
    """What a started process (`hotline up`, say) prints, read by a thread (so none is lost) and
    kept in a file the test session checks for unmasked numbers."""

    def __init__(self, process: subprocess.Popen[str], name: str) -> None:
        assert process.stdout is not None
        self.process = process
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.file = process_log(name)
        self.reader = threading.Thread(target=self._pump, args=(process.stdout,), daemon=True)
        self.reader.start()

    def _pump(self, stdout: IO[str]) -> None:
        with self.file.open("a") as copy:
            for line in stdout:
                copy.write(line)
                self.lines.put(line)

    def until(self, marker: str, timeout: float) -> None:
        """Collect the output until `marker` appears."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            self.seen.append(line)
            if marker in line:
                return
        raise AssertionError(f"never saw {marker!r}:\n{''.join(self.seen)[-3000:]}")

    def text(self) -> str:
        """Everything printed so far (all of it, once the process has exited)."""
        if self.process.poll() is not None:
            self.reader.join(timeout=10)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return "".join(self.seen)


@contextmanager
def hotline_up(env: dict[str, str], name: str, ready_within: float = 90) -> Iterator[ProcessOutput]:
    """`hotline up` with `env` until it says it is ready (yields its output, kept as `name`);
    then Ctrl-C, and it must stop cleanly."""
    up = subprocess.Popen(
        [sys.executable, "-m", "hotline.shared.stack.cli", "up"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = ProcessOutput(up, name)
    try:
        output.until("Press Ctrl-C to stop.", ready_within)
        yield output
    finally:
        up.send_signal(signal.SIGINT)
        assert up.wait(timeout=90) == 0
