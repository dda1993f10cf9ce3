"""Log lines: one JSON object each with time, level, service, logger and fields; uvicorn's and
aiokafka's alike; mobile numbers masked; the `traceparent` format read strictly."""

import json
import logging
import logging.config
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
import uvicorn.config
from fastapi import FastAPI

from hotline.shared import logs, tracing
from hotline.shared.domain import phones
from hotline.shared.settings import ServiceSettings
from hotline.shared.web.correlation import install_request_context
from hotline.shared.web.problems import install_problem_handlers
from tests.conftest import PhoneWatch, unmasked_numbers_in_files

NUMBER = "13907391234"


@pytest.fixture
def configured() -> Iterator[None]:
    """The root logger as a service configures it; put back as it was after."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


def last_lines(capsys: pytest.CaptureFixture[str], count: int = 1) -> list[str]:
    return capsys.readouterr().err.strip().splitlines()[-count:]


def test_a_record_is_one_json_line_with_time_level_service_logger_and_its_fields(
    configured: None, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure_logging(service="dispatch", level="info")

    logging.getLogger("hotline.dispatch.service").info(
        "ticket %s dispatched", "T1", extra={"unit_id": "U011"}
    )

    [line] = last_lines(capsys)
    record = json.loads(line)
    assert record["event"] == "ticket T1 dispatched"
    assert record["level"] == "info"
    assert record["service"] == "dispatch"
    assert record["logger"] == "hotline.dispatch.service"
    assert record["unit_id"] == "U011"
    stamp = datetime.fromisoformat(record["timestamp"])
    assert stamp.utcoffset() is not None
    assert stamp.utcoffset() == UTC.utcoffset(None)
    assert abs((datetime.now(UTC) - stamp).total_seconds()) < 60


def test_uvicorn_access_lines_and_aiokafka_warnings_go_through_the_same_formatter(
    configured: None, capsys: pytest.CaptureFixture[str]
) -> None:
    logging.config.dictConfig(uvicorn.config.LOGGING_CONFIG)  # as uvicorn sets itself up
    logs.configure_logging(service="intake", level="info")

    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "POST", "/v1/tickets", "1.1", 201
    )
    logging.getLogger("aiokafka.conn").info("metadata refreshed")  # too chatty: not shown
    logging.getLogger("aiokafka.conn").warning("connection lost")

    access, kafka = (json.loads(line) for line in last_lines(capsys, 2))
    assert access["logger"] == "uvicorn.access"
    assert access["service"] == "intake"
    assert (access["method"], access["path"], access["status"]) == ("POST", "/v1/tickets", 201)
    assert "timestamp" in access
    assert (kafka["logger"], kafka["level"], kafka["event"]) == (
        "aiokafka.conn",
        "warning",
        "connection lost",
    )


def test_uvicorns_log_config_routes_it_through_ours_from_its_first_line(
    configured: None, capsys: pytest.CaptureFixture[str]
) -> None:
    logging.config.dictConfig(
        logs.uvicorn_log_config(service="scoring", level="info", log_format="json")
    )

    logging.getLogger("uvicorn.error").info(
        "Started server process [%d]", 1, extra={"color_message": "Started [\x1b[36m%d\x1b[0m]"}
    )

    [line] = last_lines(capsys)
    assert json.loads(line) | {"timestamp": None} == {
        "event": "Started server process [1]",
        "level": "info",
        "logger": "uvicorn.error",
        "service": "scoring",
        "timestamp": None,
    }


def test_the_console_format_is_one_readable_line(
    configured: None, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure_logging(service="callback", level="info", log_format="console")

    logging.getLogger("hotline.callback").warning("survey %s overdue", "S1")

    [line] = last_lines(capsys)
    assert "survey S1 overdue" in line
    assert "warning" in line
    assert line.startswith("20")
    assert "service=callback" in line
    assert not line.startswith("{")


def test_the_format_is_json_unless_development_asks_for_the_console() -> None:
    production = ServiceSettings(database_url="postgresql+asyncpg://u:p-1@db/hotline")
    assert production.log_format == "json"
    assert ServiceSettings(environment="development").log_format == "console"
    assert ServiceSettings(environment="development", log_format="json").log_format == "json"


def test_a_mobile_number_is_masked_in_the_message_its_fields_and_a_traceback(
    configured: None, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure_logging(service="intake", level="info")
    log = logging.getLogger("hotline.intake")

    log.info("caller %s", NUMBER, extra={"caller": {"number": NUMBER, "calls": [NUMBER]}})
    try:
        raise ValueError(f"bad caller {NUMBER}")
    except ValueError:
        log.exception("refused")

    output = capsys.readouterr().err
    assert NUMBER not in output
    first, second = (json.loads(line) for line in output.strip().splitlines()[-2:])
    assert first["event"] == "caller 139****1234"
    assert first["caller"] == {"number": "139****1234", "calls": ["139****1234"]}
    assert "bad caller 139****1234" in second["exception"]


@pytest.mark.parametrize(
    ("text", "leaks"),
    [
        (f"caller {NUMBER} again", True),
        (f"来电{NUMBER}，请回电", True),
        ("caller 139****1234", False),
        ("order 213907391234 (twelve digits)", False),
        ("event 4f13907391234ab (inside an id)", False),
        ("landline 07395551234", False),
    ],
)
def test_the_watch_finds_an_unmasked_mobile_and_nothing_else(text: str, leaks: bool) -> None:
    assert bool(phones.MOBILE_IN_TEXT.search(text)) is leaks
    assert (phones.mask_mobiles_in(text) != text) is leaks


def test_the_session_watch_reports_a_leak_in_a_record_and_in_a_process_log(
    tmp_path: Any,
) -> None:
    watch = PhoneWatch()
    leaky = logging.getLogger("tests.leaky")
    leaky.addHandler(watch)
    leaky.propagate = False  # this one leak is the test's own, not the session's
    try:
        leaky.warning("caller %s", "139****1234")
        assert watch.leaks == []
        leaky.warning("caller %s", NUMBER)
        leaky.warning("masked", extra={"number": NUMBER})
    finally:
        leaky.removeHandler(watch)
        leaky.propagate = True
    assert len(watch.leaks) == 2

    (tmp_path / "intake-1.log").write_text(f"ok\nintake | caller {NUMBER}\n")
    assert unmasked_numbers_in_files(tmp_path) == [f"intake-1.log:2: intake | caller {NUMBER}"]


# --- traceparent ---------------------------------------------------------------------------

VALID = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_a_valid_traceparent_is_read_and_written_back_the_same() -> None:
    trace = tracing.TraceContext.parse(VALID)
    assert trace == tracing.TraceContext(
        "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "01"
    )
    assert trace is not None
    assert trace.header == VALID
    assert tracing.TraceContext.parse(VALID.encode()) == trace


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        VALID.upper(),
        VALID + "-extra",  # version 00 has exactly four fields
        "ff" + VALID[2:],  # version ff is invalid
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
        "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
    ],
)
def test_an_invalid_traceparent_is_ignored(header: str | None) -> None:
    assert tracing.TraceContext.parse(header) is None


def test_a_later_version_is_read_by_its_first_four_fields() -> None:
    trace = tracing.TraceContext.parse("01" + VALID[2:] + "-what-comes-next")
    assert trace is not None
    assert trace.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"


def test_a_continued_trace_keeps_its_id_under_a_new_span_and_a_bad_one_starts_anew() -> None:
    child = tracing.continued(VALID)
    assert child.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert child.span_id not in ("00f067aa0ba902b7", "0" * 16)
    assert tracing.TraceContext.parse(child.header) == child
    fresh = tracing.continued("garbage")
    assert tracing.TraceContext.parse(fresh.header) == fresh
    assert fresh.trace_id != child.trace_id


@pytest.mark.parametrize(
    ("logged", "exit_code"),
    [(f"'caller %s', '{NUMBER}'", 1), ("'caller %s', '139****1234'", 0)],
)
def test_a_test_session_that_logs_an_unmasked_mobile_number_fails(
    tmp_path: Path, repo_root: Path, logged: str, exit_code: int
) -> None:
    (tmp_path / "test_leaky.py").write_text(
        "import logging\n\n\ndef test_logs() -> None:\n"
        f"    logging.getLogger('hotline.leaky').warning({logged})\n"
    )

    session = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.conftest", "-q", str(tmp_path)],
        cwd=repo_root,
        env={**os.environ, "HOTLINE_TEST_PROCESS_LOGS": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert session.returncode == exit_code, session.stdout[-2000:]
    assert ("unmasked mobile numbers in the logs" in session.stdout) is bool(exit_code)


async def test_an_unhandled_error_is_logged_and_answered_with_the_requests_id_and_trace(
    configured: None, log_lines: list[dict[str, Any]]
) -> None:
    app = FastAPI()
    install_problem_handlers(app)
    install_request_context(app, service="intake")

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as http:
        response = await http.get(
            "/boom", headers={"X-Request-ID": "desk-7", tracing.TRACEPARENT: VALID}
        )

    assert response.status_code == 500
    assert response.headers["X-Request-ID"] == "desk-7"
    [line] = [line for line in log_lines if line["event"] == "unhandled error on GET /boom"]
    assert line["request_id"] == "desk-7"
    assert line["service"] == "intake"
    assert line["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert "RuntimeError: boom" in line["exception"]


def test_a_structlog_logger_renders_the_same_with_what_is_bound_to_it(
    configured: None, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure_logging(service="dispatch", level="info")
    structlog.contextvars.bind_contextvars(batch="b-1")
    try:
        structlog.get_logger("hotline.dispatch.routing").bind(ticket_no="T1").info(
            "routed to %s", "U011", caller=NUMBER
        )
    finally:
        structlog.contextvars.clear_contextvars()

    [line] = last_lines(capsys)
    record = json.loads(line)
    assert record | {"timestamp": None} == {
        "event": "routed to U011",
        "level": "info",
        "logger": "hotline.dispatch.routing",
        "service": "dispatch",
        "ticket_no": "T1",
        "batch": "b-1",
        "caller": "139****1234",
        "timestamp": None,
    }
