"""`hotline up`: the embedded stack and the five services as separate processes."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from hotline.shared.db import create_engine
from hotline.shared.migrations import upgrade
from hotline.shared.stack.embedded import EmbeddedBroker, EmbeddedPostgres
from hotline.shared.stack.services import SERVICES, ServiceEntry

# Tansu joins a consumer group after half the session timeout and answers a fetch only when the
# fetch wait expires: these keep the embedded stack responsive.
EMBEDDED_KAFKA_TUNING = {
    "HOTLINE_KAFKA_SESSION_TIMEOUT_MS": "2000",
    "HOTLINE_KAFKA_HEARTBEAT_INTERVAL_MS": "300",
    "HOTLINE_KAFKA_FETCH_MAX_WAIT_MS": "10",
}


class StackSettings(BaseSettings):
    """Where `hotline up` keeps its data and which ports it uses."""

    model_config = SettingsConfigDict(env_prefix="HOTLINE_", extra="ignore")

    var_dir: Path = Path("var")
    embedded_kafka_port: int = Field(default=9092, ge=1, le=65535)
    # Added to every service's port, to run a second suite beside the first (the tests do).
    port_offset: int = Field(default=0, ge=0, le=50_000)
    host: str = "127.0.0.1"
    ready_timeout_seconds: float = 60.0


@dataclass(frozen=True)
class Servers:
    database_url: str
    bootstrap: str
    env: dict[str, str]  # the environment a service process needs to reach them


@dataclass
class Stack:
    settings: StackSettings
    postgres: EmbeddedPostgres = field(init=False)
    broker: EmbeddedBroker = field(init=False)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

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
        """Start PostgreSQL, the broker, migrations and the services."""
        servers = self.start_servers()
        asyncio.run(migrate_all(servers.database_url))
        env = servers.env
        for service in SERVICES:
            self.processes[service.name] = subprocess.Popen(
                [
                    *(sys.executable, "-m", "hotline.shared.stack.cli", "serve", service.name),
                    *("--port", str(self.port(service))),
                ],
                env=env,
                start_new_session=True,  # stopped by us, in order, not by the terminal's Ctrl-C
            )

    def wait_until_ready(self, stopping: Callable[[], bool]) -> bool:
        """Wait for every /readyz; False if asked to stop first."""
        deadline = time.monotonic() + self.settings.ready_timeout_seconds
        pending = {service.name: service for service in SERVICES}
        while pending:
            if stopping():
                return False
            for name, service in list(pending.items()):
                if self._ready(service):
                    del pending[name]
            self.raise_if_a_service_died()
            if time.monotonic() > deadline:
                raise TimeoutError(f"not ready in time: {', '.join(pending)}")
            time.sleep(0.2)
        return True

    def _ready(self, service: ServiceEntry) -> bool:
        try:
            response = httpx.get(f"{self.url(service)}/readyz", timeout=2.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    def port(self, service: ServiceEntry) -> int:
        return service.port + self.settings.port_offset

    def url(self, service: ServiceEntry) -> str:
        return f"http://{self.settings.host}:{self.port(service)}"

    def raise_if_a_service_died(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"service {name} exited with code {process.returncode}")
        if not self.broker.running:
            raise RuntimeError("the embedded broker exited")

    def stop(self) -> None:
        """Services first (they finish their batches), then the broker, then PostgreSQL."""
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()
        self.broker.stop()
        self.postgres.stop()


async def migrate_all(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=1)
    try:
        for service in SERVICES:
            await upgrade(engine, service.package)
    finally:
        await engine.dispose()


def run_stack() -> int:
    """Start everything, print the URLs, and stop it all on Ctrl-C or SIGTERM."""
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
        print("\n12345 hotline suite is ready:", flush=True)
        for service in SERVICES:
            url = stack.url(service)
            print(f"  {service.name:<16} {url}  (docs {url}/docs, metrics {url}/metrics)")
        print(f"  {'postgres':<16} {stack.postgres.data_dir}")
        print(f"  {'kafka':<16} {stack.broker.bootstrap}")
        print("Press Ctrl-C to stop.", flush=True)
        while not stopping:
            stack.raise_if_a_service_died()
            time.sleep(0.5)
        return 0
    except (RuntimeError, TimeoutError) as error:
        print(f"hotline up: {error}", file=sys.stderr)
        return 1
    finally:
        print("Stopping…", flush=True)
        stack.stop()
