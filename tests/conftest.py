"""One real PostgreSQL and one real Kafka-protocol broker for the whole test session.

Started here from the embedded wheels, or taken from `HOTLINE_TEST_DATABASE_URL` and
`HOTLINE_TEST_KAFKA_BOOTSTRAP` when those are set (CI against servers of its own, say).
"""

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.shared.db import create_engine
from hotline.shared.settings import KafkaSettings
from hotline.shared.stack.embedded import EmbeddedBroker, EmbeddedPostgres, free_port

# What `hotline up` uses too: Tansu joins groups after half the session timeout and holds each
# fetch for the whole fetch wait.
TEST_KAFKA_TUNING = {
    "session_timeout_ms": 2000,
    "heartbeat_interval_ms": 300,
    "fetch_max_wait_ms": 10,
}


@dataclass(frozen=True)
class Servers:
    database_url: str
    kafka_bootstrap: str

    def kafka_settings(self, **overrides: object) -> KafkaSettings:
        return KafkaSettings.model_validate(
            {"bootstrap": self.kafka_bootstrap, **TEST_KAFKA_TUNING, **overrides}
        )


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    database_url = os.environ.get("HOTLINE_TEST_DATABASE_URL")
    bootstrap = os.environ.get("HOTLINE_TEST_KAFKA_BOOTSTRAP")
    postgres = broker = None
    if not database_url:
        postgres = EmbeddedPostgres(tmp_path_factory.mktemp("pg") / "data")
        database_url = postgres.start()
    if not bootstrap:
        broker = EmbeddedBroker(free_port(), log_file=tmp_path_factory.mktemp("kafka") / "log")
        bootstrap = broker.start()
    try:
        yield Servers(database_url, bootstrap)
    finally:
        if broker is not None:
            broker.stop()
        if postgres is not None:
            postgres.stop()


@pytest.fixture(scope="session")
async def engine(servers: Servers) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(servers.database_url)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the session if a route answered a status its OpenAPI document does not list."""
    from tests.documented_statuses import report

    missing = report()
    if missing:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        lines = ["undocumented statuses (add them to the route's `responses=`):", *missing]
        if reporter is not None:
            reporter.write_sep("=", "OpenAPI", red=True)
            reporter.write_line("\n".join(lines))
        if session.exitstatus == pytest.ExitCode.OK:  # an interrupted session keeps its code
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
