"""`hotline up`: the embedded stack, the simulated province (`hotline province`) and the five
services as separate processes, supervised.

The province starts first, so provincial-sync has somewhere to upload from its first moment;
provincial-sync is told its URL (`HOTLINE_SYNC_PROVINCE_URL`) and the province provincial-sync's
(`HOTLINE_PROVINCE_CALLBACK_URL`), unless the environment says otherwise. A service, the
province, the broker or PostgreSQL that dies is started again, with a backoff that grows
while it keeps dying and starts over once it has stayed up; the others keep running (intake
takes tickets while the broker is away; the relays send them once it is back). Each restart
is logged. Only Ctrl-C (or SIGTERM) stops everything: services first, so their last batches
are published, then the province, then the broker, then PostgreSQL.

Each line a service or the province writes is printed with its name in front
(`intake          | …`), the last ones too: a stopped process's output is read to its end.
"""

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TextIO

import httpx
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from hotline.shared.backoff import Backoff
from hotline.shared.db import create_engine
from hotline.shared.migrations import upgrade
from hotline.shared.stack.embedded import EmbeddedBroker, EmbeddedPostgres
from hotline.shared.stack.services import PROVINCE_PORT, SERVICES, SERVICES_BY_NAME, ServiceEntry

# Tansu joins a consumer group after half the session timeout, and answers a fetch when the
# fetch wait expires or, with records, after about a third of it: these keep the embedded stack
# responsive. At 50 ms a record reaches a waiting consumer in about 10 ms, as at 10 ms, but an
# idle consumer sends 18 fetches a second instead of 73 (each costs CPU in every service).
EMBEDDED_KAFKA_TUNING = {
    "HOTLINE_KAFKA_SESSION_TIMEOUT_MS": "2000",
    "HOTLINE_KAFKA_HEARTBEAT_INTERVAL_MS": "300",
    "HOTLINE_KAFKA_FETCH_MAX_WAIT_MS": "50",
}
SUPERVISION_INTERVAL_SECONDS = 0.5
PROVINCE = "province"
PROVINCE_APP = "hotline.provincial_sync.province.app:app"
SYNC_SERVICE = "provincial-sync"
CLOCK_PACKAGE = "hotline.shared.clock"
# How long a stopped process's last lines are waited for (a child of its own may hold the pipe).
OUTPUT_DRAIN_SECONDS = 5.0


class PrefixedOutput:
    """The processes' lines on one stream, each whole and behind its process's name."""

    def __init__(self, names: Sequence[str], stream: TextIO | None = None) -> None:
        self.width = max(len(name) for name in names)
        self.stream = stream
        self._lock = threading.Lock()
        self._readers: list[threading.Thread] = []

    def write(self, line: str) -> None:
        stream = self.stream or sys.stdout
        with self._lock:
            stream.write(line if line.endswith("\n") else line + "\n")
            stream.flush()

    def follow(self, name: str, output: IO[bytes]) -> None:
        """Print what `output` carries, line by line behind `name`, until it ends."""
        prefix = f"{name:<{self.width}} | "

        def read() -> None:
            with output:
                for line in iter(output.readline, b""):
                    self.write(prefix + line.decode(errors="replace"))

        reader = threading.Thread(target=read, name=f"{name}-output", daemon=True)
        reader.start()
        self._readers = [thread for thread in self._readers if thread.is_alive()] + [reader]

    def drain(self, timeout: float = OUTPUT_DRAIN_SECONDS) -> None:
        """Wait until the output of every stopped process has been printed."""
        deadline = time.monotonic() + timeout
        for reader in self._readers:
            reader.join(max(0.0, deadline - time.monotonic()))


class StackSettings(BaseSettings):
    """Where `hotline up` keeps its data and which ports it uses."""

    model_config = SettingsConfigDict(env_prefix="HOTLINE_", extra="ignore")

    var_dir: Path = Path("var")
    embedded_kafka_port: int = Field(default=9092, ge=1, le=65535)
    # Added to every service's port, to run a second suite beside the first (the tests do).
    port_offset: int = Field(default=0, ge=0, le=50_000)
    host: str = "127.0.0.1"
    ready_timeout_seconds: float = 60.0
    # A dead part is started again after 1 s, then 2, 4 … up to this, while it keeps dying;
    # the delay starts over once it has stayed up for `restart_settle_seconds`.
    restart_max_backoff_seconds: float = Field(default=30.0, gt=0)
    restart_settle_seconds: float = Field(default=60.0, gt=0)


@dataclass(frozen=True)
class Servers:
    database_url: str
    bootstrap: str
    env: dict[str, str]  # the environment a service process needs to reach them


@dataclass
class Supervised:
    """One part of the stack: how to tell it is alive and how to start it again."""

    name: str
    alive: Callable[[], bool]
    start: Callable[[], None]
    exit_code: Callable[[], int | None]
    backoff: Backoff
    started_at: float = field(default_factory=time.monotonic)
    restart_at: float | None = None
    restarts: int = 0


@dataclass
class Stack:
    settings: StackSettings
    postgres: EmbeddedPostgres = field(init=False)
    broker: EmbeddedBroker = field(init=False)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    parts: list[Supervised] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    output: PrefixedOutput = field(
        default_factory=lambda: PrefixedOutput([PROVINCE, *(s.name for s in SERVICES)])
    )

    def say(self, line: str) -> None:
        self.output.write(f"hotline up: {line}")

    def __post_init__(self) -> None:
        var = self.settings.var_dir.resolve()
        self.postgres = EmbeddedPostgres(var / "postgres")
        self.broker = EmbeddedBroker(self.settings.embedded_kafka_port, log_file=var / "broker.log")

    def start_servers(self) -> Servers:
        """Start PostgreSQL and the broker; returns how services reach them."""
        database_url = self.postgres.start()
        bootstrap = self.broker.start()
        env = {
            # The embedded stack is for development: its published secrets are accepted here.
            "HOTLINE_ENVIRONMENT": "development",
            **os.environ,
            **EMBEDDED_KAFKA_TUNING,
            "HOTLINE_DATABASE_URL": database_url,
            "HOTLINE_KAFKA_BOOTSTRAP": bootstrap,
        }
        return Servers(database_url, bootstrap, env)

    def start(self) -> None:
        """Start PostgreSQL, the broker, migrations and the services, and supervise them all."""
        self.start_suite(self.start_servers())

    def start_suite(self, servers: Servers) -> None:
        """Migrations, the province and the five services on servers already started (a
        benchmark measures the servers alone first), all of it supervised."""
        asyncio.run(migrate_all(servers.database_url))
        self.env = servers.env
        self.env.setdefault("HOTLINE_SYNC_PROVINCE_URL", self.province_url)
        self.env.setdefault(
            "HOTLINE_PROVINCE_CALLBACK_URL", self.url(SERVICES_BY_NAME[SYNC_SERVICE])
        )
        self._start_province()
        for service in SERVICES:
            self._start_service(service)
        self.parts = [
            self._part(
                "postgres",
                alive=lambda: self.postgres.running,
                start=self._restart_postgres,
                exit_code=lambda: None,
            ),
            self._part(
                "broker",
                alive=lambda: self.broker.running,
                start=self._restart_broker,
                exit_code=lambda: self.broker.exit_code,
            ),
            self._part(
                PROVINCE,
                alive=self._service_alive(PROVINCE),
                start=self._start_province,
                exit_code=self._service_exit_code(PROVINCE),
            ),
            *(
                self._part(
                    service.name,
                    alive=self._service_alive(service.name),
                    start=self._starter(service),
                    exit_code=self._service_exit_code(service.name),
                )
                for service in SERVICES
            ),
        ]

    def _part(
        self,
        name: str,
        *,
        alive: Callable[[], bool],
        start: Callable[[], None],
        exit_code: Callable[[], int | None],
    ) -> Supervised:
        backoff = Backoff(1.0, self.settings.restart_max_backoff_seconds)
        return Supervised(name, alive, start, exit_code, backoff)

    def _start_service(self, service: ServiceEntry) -> None:
        self._start(
            service.name,
            ["serve", service.name, "--port", str(self.port(service))],
        )

    def _start_province(self) -> None:
        self._start(PROVINCE, [PROVINCE, "--port", str(self.province_port)])

    def _start(self, name: str, arguments: list[str]) -> None:
        process = subprocess.Popen(
            [sys.executable, "-m", "hotline.shared.stack.cli", *arguments],
            # Unbuffered, so what it prints reaches us as it does, not when it exits.
            env={**self.env, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # stopped by us, in order, not by the terminal's Ctrl-C
        )
        assert process.stdout is not None
        self.output.follow(name, process.stdout)
        self.processes[name] = process

    def _starter(self, service: ServiceEntry) -> Callable[[], None]:
        return lambda: self._start_service(service)

    def _service_alive(self, name: str) -> Callable[[], bool]:
        return lambda: self.processes[name].poll() is None

    def _service_exit_code(self, name: str) -> Callable[[], int | None]:
        return lambda: self.processes[name].returncode

    def _restart_broker(self) -> None:
        self.broker.start()  # empty, as the embedded broker always is: the relays replay

    def _restart_postgres(self) -> None:
        self.postgres.forget()
        self.postgres.start()

    def supervise_once(self) -> None:
        """Notice what died, and start again what is due."""
        now = time.monotonic()
        for part in self.parts:
            if part.restart_at is None:
                if part.alive():
                    if now - part.started_at >= self.settings.restart_settle_seconds:
                        part.backoff.reset()
                    continue
                delay = part.backoff.next_delay()
                part.restart_at = now + delay
                code = part.exit_code()
                how = f" with code {code}" if code is not None else ""
                self.say(f"{part.name} exited{how}; starting it again in {delay:.0f}s")
            elif now >= part.restart_at:
                part.restarts += 1
                try:
                    part.start()
                except Exception as error:
                    delay = part.backoff.next_delay()
                    part.restart_at = time.monotonic() + delay
                    self.say(f"{part.name} did not start ({error}); trying again in {delay:.0f}s")
                    continue
                part.restart_at, part.started_at = None, time.monotonic()
                self.say(f"{part.name} started again (restart {part.restarts})")

    def wait_until_ready(self, stopping: Callable[[], bool]) -> bool:
        """Wait for every /readyz (the province's /healthz), restarting what dies meanwhile;
        False if asked to stop."""
        deadline = time.monotonic() + self.settings.ready_timeout_seconds
        pending = {service.name: f"{self.url(service)}/readyz" for service in SERVICES}
        pending[PROVINCE] = f"{self.province_url}/healthz"
        while pending:
            if stopping():
                return False
            for name, url in list(pending.items()):
                if self._answers(url):
                    del pending[name]
            self.supervise_once()
            if time.monotonic() > deadline:
                raise TimeoutError(f"not ready in time: {', '.join(pending)}")
            time.sleep(0.2)
        return True

    def _answers(self, url: str) -> bool:
        try:
            response = httpx.get(url, timeout=2.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    def port(self, service: ServiceEntry) -> int:
        return service.port + self.settings.port_offset

    def url(self, service: ServiceEntry) -> str:
        return f"http://{self.settings.host}:{self.port(service)}"

    @property
    def province_port(self) -> int:
        return PROVINCE_PORT + self.settings.port_offset

    @property
    def province_url(self) -> str:
        return f"http://{self.settings.host}:{self.province_port}"

    def stop(self) -> None:
        """Services first (they finish their batches and last uploads), then the province, then
        the broker, then PostgreSQL."""
        services = [process for name, process in self.processes.items() if name != PROVINCE]
        self._stop_processes(services)
        self._stop_processes([self.processes[PROVINCE]] if PROVINCE in self.processes else [])
        self.processes.clear()
        self.output.drain()
        self.broker.stop()
        self.postgres.stop()

    @staticmethod
    def _stop_processes(processes: list[subprocess.Popen[bytes]]) -> None:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def migrate_all(
    database_url: str,
    services: Sequence[ServiceEntry] = SERVICES,
    report: Callable[[str], object] = lambda name: None,
) -> None:
    """Apply the shared clock's migrations, then each service's (and seed steps), in order;
    `report` hears each name."""
    engine = create_engine(database_url, pool_size=1)
    try:
        # The simulated clock's one table is the whole stack's, so it has a history of its own.
        await upgrade(engine, CLOCK_PACKAGE)
        report("clock")
        for service in services:
            await upgrade(engine, service.package)
            report(service.name)
    finally:
        await engine.dispose()


def run_stack() -> int:
    """Start everything, print the URLs, supervise; stop it all on Ctrl-C or SIGTERM."""
    stack = Stack(StackSettings())
    stopping = False

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        stack.start()
        if not stack.wait_until_ready(lambda: stopping):
            return 0
        # One write of whole lines: the services' lines go on meanwhile.
        urls = [
            f"  {service.name:<16} {stack.url(service)}  "
            f"(docs {stack.url(service)}/docs, metrics {stack.url(service)}/metrics)"
            for service in SERVICES
        ]
        url = stack.province_url
        stack.output.write(
            "\n".join(
                [
                    "\n12345 hotline suite is ready:",
                    *urls,
                    f"  {'province':<16} {url}  "
                    f"(simulated; docs {url}/docs, admin {url}/admin/summary)",
                    f"  {'postgres':<16} {stack.postgres.data_dir}",
                    f"  {'kafka':<16} {stack.broker.bootstrap}",
                    "Press Ctrl-C to stop.",
                ]
            )
        )
        while not stopping:
            stack.supervise_once()
            time.sleep(SUPERVISION_INTERVAL_SECONDS)
        return 0
    except (RuntimeError, TimeoutError) as error:
        print(f"hotline up: {error}", file=sys.stderr)
        return 1
    finally:
        stack.output.write("Stopping…")
        stack.stop()
