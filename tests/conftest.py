"""One real PostgreSQL and one real Kafka-protocol broker for the whole test session.

Started here from the embedded wheels, or taken from `HOTLINE_TEST_DATABASE_URL` and
`HOTLINE_TEST_KAFKA_BOOTSTRAP` when those are set (CI against servers of its own, say).
"""

import json
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.shared import logs
from hotline.shared.db import create_engine
from hotline.shared.domain import phones
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


class RenderedLines(logging.Handler):
    """Every record as the services' formatter renders it (JSON), while a test runs."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logs.formatter(service="tests"))
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def log_lines() -> Iterator[list[dict[str, Any]]]:
    """The JSON lines logged while the test runs, from any logger, at INFO and above."""
    root = logging.getLogger()
    capture, level = RenderedLines(), root.level
    root.addHandler(capture)
    root.setLevel(min(level, logging.INFO) or logging.INFO)
    try:
        yield capture.lines
    finally:
        root.removeHandler(capture)
        root.setLevel(level)


# --- no unmasked mobile number in any log line of the test run ------------------------------


class PhoneWatch(logging.Handler):
    """Keeps each log record that names a mobile number unmasked: in its message or its fields as
    logged (the source must mask), or in the line the services' formatter renders (the net)."""

    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        self.rendered = logs.formatter(service="tests")
        self.leaks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            extras = (str(v) for k, v in vars(record).items() if k not in _RECORD_ATTRIBUTES)
            raw = [record.getMessage(), *extras]
            rendered = self.rendered.format(record)
        except Exception:
            return
        for text in (*raw, rendered):
            if phones.MOBILE_IN_TEXT.search(text):
                self.leaks.append(f"{record.name}: {text[:300]}")
                return


_RECORD_ATTRIBUTES = {*vars(logging.makeLogRecord({})), "message", "asctime"}
PHONE_WATCH = PhoneWatch()
# Where tests put the output of the processes they start; read at the end of the session.
# (A folder given in HOTLINE_TEST_PROCESS_LOGS is the giver's: never removed.)
GIVEN_PROCESS_LOG_DIR = os.environ.get("HOTLINE_TEST_PROCESS_LOGS")
PROCESS_LOG_DIR = Path(GIVEN_PROCESS_LOG_DIR or tempfile.mkdtemp(prefix="hotline-test-logs-"))


def process_log(name: str) -> Path:
    """A fresh file for one started process's output (stdout and stderr), checked for numbers."""
    return Path(tempfile.mkstemp(prefix=f"{name}-", suffix=".log", dir=PROCESS_LOG_DIR)[1])


def unmasked_numbers_in_files(folder: Path) -> list[str]:
    found = []
    for path in sorted(folder.glob("*.log")):
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if phones.MOBILE_IN_TEXT.search(line):
                found.append(f"{path.name}:{number}: {line[:300]}")
    return found


def pytest_configure(config: pytest.Config) -> None:
    logging.getLogger().addHandler(PHONE_WATCH)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the session if a log line named a mobile number unmasked, or a route answered a
    status its OpenAPI document does not list."""
    _check_logged_numbers(session)
    _check_documented_statuses(session)


def _check_logged_numbers(session: pytest.Session) -> None:
    logging.getLogger().removeHandler(PHONE_WATCH)
    leaks = PHONE_WATCH.leaks + unmasked_numbers_in_files(PROCESS_LOG_DIR)
    if not leaks:
        if not GIVEN_PROCESS_LOG_DIR:
            shutil.rmtree(PROCESS_LOG_DIR, ignore_errors=True)  # kept, to be read, on a leak
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    message = "unmasked mobile numbers in the logs:\n" + "\n".join(leaks[:20])
    if reporter is not None:
        reporter.write_line(message, red=True)
    else:
        print(message, file=sys.stderr)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _check_documented_statuses(session: pytest.Session) -> None:
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
